/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * vdev mode: the device model (librte_vhost_pci) runs in this process. One
 * server socket is shared by every net_vhost_pci port that names its path:
 * N front-end devices on one socket appear as N ports.
 *
 * A device that becomes ready goes to the port pinned to its sender UUID
 * (uuid= devarg), else to the first free port without a pin. The library's
 * callbacks are this mode's configuration interrupt: each one makes the
 * port read the metadata page again (vpci_ctl_sync()), exactly as a PCI
 * port does from its alarm.
 *
 * Threads and locks: the library runs its callbacks on its control thread
 * with no lock of its own held; they take the driver's (vpci_ctl_lock()). Under it the
 * driver calls only library functions that return at once (lookups by
 * vid, sending a message); closing a device or unregistering a socket
 * waits for the control thread, so it is done with no lock held. LSC
 * events reach the application later, from the EAL interrupt thread
 * (vpci_ctl.c), with no lock held at all.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <ethdev_driver.h>
#include <rte_common.h>
#include <rte_string_fns.h>

#include "vpci.h"

#define VPCI_SERVER_MAX_PORTS	64

struct vpci_server {
	TAILQ_ENTRY(vpci_server) next;
	char path[108];
	uint32_t flags;
	uint16_t queues;
	uint32_t nports;
	struct pmd_internal *port[VPCI_SERVER_MAX_PORTS];
};

static TAILQ_HEAD(, vpci_server) vpci_servers =
	TAILQ_HEAD_INITIALIZER(vpci_servers);

static bool
vpci_port_takes(const struct pmd_internal *internal, bool has_uuid,
		const uint8_t *uuid)
{
	if (internal->vid >= 0 || internal->closing)
		return false;
	if (!internal->uuid_pinned)
		return true;
	return has_uuid && memcmp(internal->uuid, uuid, 16) == 0;
}

static struct pmd_internal *
vpci_server_pick(struct vpci_server *srv, int vid)
{
	struct pmd_internal *pick = NULL;
	uint8_t uuid[16];
	bool has_uuid = rte_vhost_pci_dev_peer_uuid(vid, uuid) == 0;
	uint32_t i;

	/* A pin on this UUID wins over the first free port. */
	for (i = 0; i < srv->nports && pick == NULL; i++)
		if (srv->port[i]->uuid_pinned &&
				vpci_port_takes(srv->port[i], has_uuid, uuid))
			pick = srv->port[i];
	for (i = 0; i < srv->nports && pick == NULL; i++)
		if (vpci_port_takes(srv->port[i], has_uuid, uuid))
			pick = srv->port[i];
	return pick;
}

/*
 * A v2 peer learns the GSIs of our RX queues once their interrupts are
 * set up (the vhost-user extension for vhost-pci: SET_RX_QUEUE_GSI). Our
 * "GSI" is the queue's interrupt vector.
 */
static void
vpci_send_local_gsi(struct pmd_internal *internal)
{
	struct rte_eth_dev_data *data = rte_eth_devices[internal->port_id].data;
	uint32_t gsi[VPCI_MAX_QUEUE_PAIRS];
	uint16_t q, n = RTE_MIN(data->nb_rx_queues, VPCI_MAX_QUEUE_PAIRS);

	if (!data->dev_conf.intr_conf.rxq || n == 0 ||
			internal->snap.hdr_version != 2)
		return;
	for (q = 0; q < n; q++)
		gsi[q] = RTE_INTR_VEC_RXTX_OFFSET + q;
	if (rte_vhost_pci_dev_send_rx_queue_gsi(internal->vid, gsi, n) < 0)
		VPCI_LOG(WARNING, "port %u: could not send RX queue GSIs",
			internal->port_id);
}

/* The port reads its new BAR: the device's window, metadata page first. */
static int
vpci_port_attach(struct pmd_internal *internal, int vid)
{
	uint64_t size;
	uint8_t *bar = rte_vhost_pci_dev_bar(vid, &size);
	int ret;

	if (bar == NULL || size < RTE_VHOST_PCI_META_SIZE)
		return -EINVAL;
	internal->vid = vid;
	internal->meta = bar;
	internal->meta_size = size;
	internal->nmem = 0;
	internal->synced = false;
	ret = vpci_ctl_sync(internal);
	if (ret < 0 || !internal->attached) {
		vpci_ctl_release(internal);
		internal->vid = -1;
		internal->meta = NULL;
		return ret < 0 ? ret : -EINVAL;
	}
	rte_vhost_pci_dev_set_port_id(vid, internal->port_id);
	vpci_send_local_gsi(internal);
	return 0;
}

static void
vpci_port_detach(struct pmd_internal *internal)
{
	if (internal->vid < 0)
		return;
	/* The library cleared READY before calling us. */
	vpci_ctl_sync(internal);
	vpci_ctl_release(internal);
	internal->vid = -1;
	internal->meta = NULL;
}

/* The port of the server @srv that has @vid, or NULL. Lock held. */
static struct pmd_internal *
vpci_server_port_of(const struct vpci_server *srv, int vid)
{
	uint32_t i;

	for (i = 0; i < srv->nports; i++)
		if (srv->port[i]->vid == vid)
			return srv->port[i];
	return NULL;
}

/* Pick and attach under the lock, so a closing port is never picked. */
static int
vpci_cb_new_device(int vid, void *ctx)
{
	struct pmd_internal *internal;
	int ret = -EBUSY;

	vpci_ctl_lock();
	internal = vpci_server_pick(ctx, vid);
	if (internal != NULL)
		ret = vpci_port_attach(internal, vid);
	else
		VPCI_LOG(ERR, "%s: no free port for connection %" PRIu64,
			((struct vpci_server *)ctx)->path,
			rte_vhost_pci_dev_conn_id(vid));
	vpci_ctl_unlock();
	return ret;
}

static void
vpci_cb_destroy_device(int vid, void *ctx)
{
	struct pmd_internal *internal;

	vpci_ctl_lock();
	internal = vpci_server_port_of(ctx, vid);
	if (internal != NULL)
		vpci_port_detach(internal);
	vpci_ctl_unlock();
}

static void
vpci_cb_vring_state_changed(int vid, uint16_t vring __rte_unused,
		int enable __rte_unused, void *ctx)
{
	struct pmd_internal *internal;

	vpci_ctl_lock();
	internal = vpci_server_port_of(ctx, vid);
	if (internal != NULL)
		vpci_ctl_sync(internal);
	vpci_ctl_unlock();
}

static const struct rte_vhost_pci_ops vpci_lib_ops = {
	.new_device = vpci_cb_new_device,
	.destroy_device = vpci_cb_destroy_device,
	.vring_state_changed = vpci_cb_vring_state_changed,
};

static struct vpci_server *
vpci_server_find(const char *path)
{
	struct vpci_server *srv;

	TAILQ_FOREACH(srv, &vpci_servers, next)
		if (strcmp(srv->path, path) == 0)
			return srv;
	return NULL;
}

/* A port joins the server of its path; the first one creates it. */
int
vpci_server_add(struct pmd_internal *internal)
{
	struct vpci_server *srv;
	int ret;

	vpci_ctl_lock();
	srv = vpci_server_find(internal->path);
	if (srv != NULL) {
		ret = 0;
		if (srv->flags != internal->flags ||
				srv->queues != internal->max_queue_pairs) {
			VPCI_LOG(ERR, "%s: ports on one socket need the same queues=, client= and zero_copy=",
				internal->path);
			ret = -EINVAL;
		} else if (srv->nports == VPCI_SERVER_MAX_PORTS) {
			ret = -ENOSPC;
		} else {
			srv->port[srv->nports++] = internal;
		}
		vpci_ctl_unlock();
		return ret;
	}
	vpci_ctl_unlock();

	srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return -ENOMEM;
	strlcpy(srv->path, internal->path, sizeof(srv->path));
	srv->flags = internal->flags;
	srv->queues = internal->max_queue_pairs;
	srv->port[srv->nports++] = internal;
	/* Listed before registering: a device may arrive at once. */
	vpci_ctl_lock();
	TAILQ_INSERT_TAIL(&vpci_servers, srv, next);
	vpci_ctl_unlock();
	ret = rte_vhost_pci_server_register(srv->path, srv->flags, srv->queues,
		&vpci_lib_ops, srv);
	if (ret == 0)
		ret = rte_vhost_pci_server_set_max_clients(srv->path,
			internal->max_clients);
	/* The socket is 0600; a group given may connect too. */
	if (ret == 0 && !(srv->flags & RTE_VHOST_PCI_F_CLIENT) &&
			(internal->owner >= 0 || internal->group >= 0))
		ret = rte_vhost_pci_server_set_owner(srv->path,
			internal->owner >= 0 ? (uid_t)internal->owner : (uid_t)-1,
			internal->group >= 0 ? (gid_t)internal->group : (gid_t)-1,
			internal->group >= 0 ? 0660 : 0600);
	if (ret < 0) {
		if (ret != -EEXIST && ret != -EADDRINUSE)
			rte_vhost_pci_server_unregister(srv->path);
		vpci_ctl_lock();
		TAILQ_REMOVE(&vpci_servers, srv, next);
		vpci_ctl_unlock();
		free(srv);
	}
	return ret;
}

/* A port leaves: its device (if any) is closed first; the last port
 * closes the socket.
 */
void
vpci_server_remove(struct pmd_internal *internal)
{
	struct vpci_server *srv;
	bool last = false;
	uint32_t i;
	int vid;

	vpci_ctl_lock();
	internal->closing = true;	/* no device may pick it from now */
	vid = internal->vid;
	vpci_ctl_unlock();
	/* No lock held: these wait for the library's control thread, whose
	 * destroy_device takes ours. A vid gone stale meanwhile is refused.
	 */
	if (vid >= 0) {
		/* A v2 peer hears it first; then the socket goes. */
		if (rte_vhost_pci_dev_version(vid) == 2)
			rte_vhost_pci_dev_send_disconnect(vid);
		rte_vhost_pci_dev_close(vid);
	}
	/* Whatever happened meanwhile, the port lets go of the BAR. */
	vpci_ctl_lock();
	vpci_port_detach(internal);
	vpci_ctl_unlock();

	vpci_ctl_lock();
	srv = vpci_server_find(internal->path);
	if (srv != NULL) {
		for (i = 0; i < srv->nports; i++) {
			if (srv->port[i] != internal)
				continue;
			srv->port[i] = srv->port[--srv->nports];
			break;
		}
		last = srv->nports == 0;
		if (last)
			TAILQ_REMOVE(&vpci_servers, srv, next);
	}
	vpci_ctl_unlock();
	if (last) {
		rte_vhost_pci_server_unregister(srv->path);
		free(srv);
	}
}
