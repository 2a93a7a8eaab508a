/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * The driver's side of the device contract (doc/guides/specs/bar_layout.rst):
 * everything the port knows about its peer comes from the metadata page,
 * read as a seqlock snapshot, and everything it tells the device goes back
 * through the page's driver area (ring indexes, the acknowledged
 * generation) or a doorbell. The same code serves both modes: in vdev mode
 * the device model runs in this process and calls vpci_ctl_sync() where
 * a PCI device would raise a configuration interrupt; in PCI mode an alarm
 * polls the page.
 *
 * Callers hold vpci_ctl_lock(); each queue's lock is taken to attach or
 * stop it, so a burst never runs while its ring's mapping changes.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <ethdev_driver.h>
#include <rte_alarm.h>
#include <rte_io.h>
#include <rte_uuid.h>

#include "vpci.h"

/* The driver's one lock: ports' device state, the vdev servers' port
 * lists. Not recursive; never held around a library call that waits for
 * the library's control thread, nor around an application callback.
 */
static pthread_mutex_t vpci_lock = PTHREAD_MUTEX_INITIALIZER;

void
vpci_ctl_lock(void)
{
	pthread_mutex_lock(&vpci_lock);
}

void
vpci_ctl_unlock(void)
{
	pthread_mutex_unlock(&vpci_lock);
}

static const struct rte_eth_link vpci_link_tmpl = {
	.link_speed = RTE_ETH_SPEED_NUM_10G,
	.link_duplex = RTE_ETH_LINK_FULL_DUPLEX,
	.link_status = RTE_ETH_LINK_DOWN,
	.link_autoneg = RTE_ETH_LINK_FIXED,
};

void
vpci_link_fill(struct rte_eth_link *link, bool up)
{
	*link = vpci_link_tmpl;
	link->link_status = up ? RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN;
}

/*
 * LSC events reach the application from the EAL interrupt thread, with no
 * lock of the driver or the library held: its callback may close the
 * port. Both modes deliver them from a one-shot alarm.
 */
static void
vpci_lsc_alarm(void *arg)
{
	struct pmd_internal *internal = arg;
	uint16_t port_id = internal->port_id;
	bool lsc;

	vpci_ctl_lock();
	lsc = internal->lsc_pending;
	internal->lsc_pending = false;
	vpci_ctl_unlock();
	/* Last, and no use of the port after it. */
	if (lsc)
		rte_eth_dev_callback_process(&rte_eth_devices[port_id],
			RTE_ETH_EVENT_INTR_LSC, NULL);
}

void
vpci_ctl_lsc_cancel(struct pmd_internal *internal)
{
	rte_eal_alarm_cancel(vpci_lsc_alarm, internal);
}

static void
vpci_set_link(struct pmd_internal *internal, bool up)
{
	struct rte_eth_dev *eth_dev = &rte_eth_devices[internal->port_id];
	struct rte_eth_link link;

	vpci_link_fill(&link, up);
	/* 0 means the status changed. */
	if (rte_eth_linkstatus_set(eth_dev, &link) != 0)
		return;
	internal->lsc_pending = true;
	if (rte_eal_alarm_set(1, vpci_lsc_alarm, internal) != 0)
		VPCI_LOG(ERR, "port %u: cannot deliver a link state event",
			internal->port_id);
}

/*
 * How the peer hears about used buffers on a ring: PCI mode rings the
 * doorbell with the peer's id and the ring's vector; vdev mode signals the
 * eventfd behind that vector.
 */
static void
vpci_call_of(const struct pmd_internal *internal, uint16_t vector,
		struct vpci_notify *n)
{
	n->reg = NULL;
	n->fd = -1;
	if (vector == RTE_VHOST_PCI_NO_VECTOR)
		return;
	if (internal->doorbell != NULL) {
		n->reg = internal->doorbell;
		n->val = ((uint32_t)internal->snap.peer_id << 16) | vector;
	} else if (internal->vid >= 0) {
		n->fd = rte_vhost_pci_vring_callfd(internal->vid, vector);
	}
}

/* RX interrupt of queue q: the peer's kick eventfd of its TX ring (vdev
 * mode; a PCI port polls).
 */
static void
vpci_queue_set_efd(struct pmd_internal *internal, const struct vpci_queue *q,
		const struct rte_vhost_pci_vring *mv)
{
	struct rte_intr_handle *h = rte_eth_devices[internal->port_id].intr_handle;
	int fd = -1;

	if (h == NULL || !(q->vring_idx & 1) || internal->vid < 0)
		return;
	if (mv != NULL && mv->kick_vector != RTE_VHOST_PCI_NO_VECTOR)
		fd = rte_vhost_pci_vring_kickfd(internal->vid, mv->kick_vector);
	rte_intr_efds_index_set(h, q->qid, fd);
}

static void
vpci_queue_attach(struct pmd_internal *internal, struct vpci_queue *q)
{
	const struct rte_vhost_pci_meta *meta = &internal->snap;
	const struct rte_vhost_pci_vring *mv = &meta->vring[q->vring_idx];
	struct vpci_notify call;
	int errfd;

	vpci_call_of(internal, mv->call_vector, &call);
	errfd = internal->vid >= 0 ?
		rte_vhost_pci_vring_errfd(internal->vid, q->vring_idx) : -1;
	rte_spinlock_lock(&q->lock);
	if (vpci_vring_init(&q->vr, &internal->map, mv, meta->features,
			&call, errfd) == 0) {
		/* RX lends peer buffers when asked to and slots allow. */
		q->zc_active = internal->zero_copy && (q->vring_idx & 1) &&
			vpci_zc_attach(q, !!(mv->flags &
				RTE_VHOST_PCI_VRING_F_RESUME)) == 0;
		vpci_queue_set_burst(q);
		q->ready = true;
		if (q->intr_enabled)
			vpci_vring_set_notify(&q->vr, true);
		vpci_queue_set_efd(internal, q, mv);
	} else {
		VPCI_LOG(ERR, "%s: vring %u refused: size, base or addresses out of range",
			internal->path, q->vring_idx);
	}
	q->attempted = true;
	rte_spinlock_unlock(&q->lock);
}

/* Stop the queue and write its ring's indexes back, stamped with the
 * generation that stopped it.
 */
static void
vpci_queue_stop(struct pmd_internal *internal, struct vpci_queue *q,
		uint32_t gen)
{
	struct rte_vhost_pci_driver *drv =
		rte_vhost_pci_meta_driver(internal->meta);

	rte_spinlock_lock(&q->lock);
	if (q->ready) {
		uint16_t avail, used;

		q->ready = false;
		vpci_vring_base(&q->vr, &avail, &used);
		drv->vring[q->vring_idx].last_avail_idx = avail;
		drv->vring[q->vring_idx].last_used_idx = used;
		drv->vring[q->vring_idx].gen = gen;
		if (q->zc_active)
			vpci_zc_detach(q);
	}
	q->attempted = false;
	/* The kick fd goes with the peer. */
	vpci_queue_set_efd(internal, q, NULL);
	rte_spinlock_unlock(&q->lock);
}

static bool
vpci_vring_wanted(const struct rte_vhost_pci_meta *meta, uint16_t idx)
{
	uint32_t want = RTE_VHOST_PCI_VRING_F_READY |
		RTE_VHOST_PCI_VRING_F_ENABLED;

	return idx < meta->nvrings && idx < RTE_VHOST_PCI_MAX_VRINGS &&
		(meta->vring[idx].flags & want) == want;
}

static void
vpci_detach(struct pmd_internal *internal, uint32_t gen)
{
	uint16_t i;

	for (i = 0; i < internal->max_queue_pairs; i++) {
		vpci_queue_stop(internal, &internal->rxq[i], gen);
		vpci_queue_stop(internal, &internal->txq[i], gen);
	}
	internal->attached = false;
	VPCI_LOG(INFO, "port %u: peer gone from %s", internal->port_id,
		internal->path);
	vpci_set_link(internal, false);
}

static int
vpci_attach(struct pmd_internal *internal)
{
	const struct rte_vhost_pci_meta *meta = &internal->snap;
	struct rte_vhost_pci_bar_view bar = {
		internal->meta, internal->meta_size,
	};
	char uuid[RTE_UUID_STRLEN] = "none";
	uint64_t f;
	int ret;

	if (internal->pci != NULL && vpci_pci_map_mem(internal, meta) < 0)
		return -ENODEV;	/* logged */
	ret = rte_vhost_pci_map_build(&internal->map, meta, &bar,
		internal->nmem > 0 ? internal->mem : NULL);
	if (ret == 0 && meta->nmem != internal->nmem)
		ret = -5;
	if (ret < 0) {
		VPCI_LOG(ERR, "port %u: metadata of %s refused: %s",
			internal->port_id, internal->path,
			rte_vhost_pci_map_strerror(ret));
		return ret;
	}
	f = meta->features;
	internal->features = f;
	internal->rx_offload = !!(f & (RTE_BIT64(VIRTIO_NET_F_CSUM) |
		RTE_BIT64(VIRTIO_NET_F_HOST_TSO4) |
		RTE_BIT64(VIRTIO_NET_F_HOST_TSO6)));
	internal->mrg_rxbuf = !!(f & RTE_BIT64(VIRTIO_NET_F_MRG_RXBUF));
	internal->hdr_len = (internal->mrg_rxbuf ||
			(f & RTE_BIT64(VIRTIO_F_VERSION_1))) ?
		sizeof(struct virtio_net_hdr_mrg_rxbuf) :
		sizeof(struct virtio_net_hdr);
	internal->attached = true;
	if (!rte_uuid_is_null(meta->peer_uuid))
		rte_uuid_unparse(meta->peer_uuid, uuid, sizeof(uuid));
	VPCI_LOG(INFO, "port %u: peer connected on %s: v%u, conn_id %" PRIu64 ", peer uuid %s, features 0x%" PRIx64,
		internal->port_id, internal->path, meta->hdr_version,
		meta->conn_id, uuid, f);
	return 0;
}

/*
 * Apply what the metadata page says now: attach when the device became
 * ready, detach when it stopped being ready, start and stop rings as their
 * flags say. Then acknowledge the generation: the device model waits for
 * that before it lets a front-end take memory or rings away.
 *
 * @return 0, or a negative errno if the device is ready but was refused.
 */
int
vpci_ctl_sync(struct pmd_internal *internal)
{
	struct rte_vhost_pci_meta *meta = &internal->snap;
	struct rte_vhost_pci_meta copy;
	struct rte_vhost_pci_driver *drv;
	uint32_t gen;
	int64_t g;
	uint16_t i;
	int ret = 0;

	if (internal->meta == NULL)
		return -ENODEV;
	/* A torn copy never replaces the last good one (telemetry reads it). */
	g = rte_vhost_pci_meta_snapshot(internal->meta, &copy);
	if (g < 0)
		return -EAGAIN;	/* the device is busy writing: next time */
	gen = (uint32_t)g;
	*meta = copy;
	if (internal->synced && gen == internal->gen)
		return internal->attached ? 0 : -ENODEV;
	drv = rte_vhost_pci_meta_driver(internal->meta);

	if (internal->attached && !(meta->status & RTE_VHOST_PCI_STATUS_READY))
		vpci_detach(internal, gen);
	if (!internal->attached && (meta->status & RTE_VHOST_PCI_STATUS_READY) &&
			!internal->closing) {
		ret = vpci_attach(internal);
		if (ret == 0)
			vpci_set_link(internal, true);
	}
	if (internal->attached) {
		for (i = 0; i < internal->max_queue_pairs; i++) {
			struct vpci_queue *qs[2] = {
				&internal->rxq[i], &internal->txq[i],
			};
			int k;

			for (k = 0; k < 2; k++) {
				bool want = vpci_vring_wanted(meta,
					qs[k]->vring_idx);

				if (!want && (qs[k]->ready || qs[k]->attempted))
					vpci_queue_stop(internal, qs[k], gen);
				else if (want && !qs[k]->attempted)
					vpci_queue_attach(internal, qs[k]);
			}
		}
	}
	internal->gen = gen;
	internal->synced = true;
	/* Pairs with the acquire in the device's wait for this ack. */
	__atomic_store_n(&drv->flags, internal->attached ?
		RTE_VHOST_PCI_DRIVER_F_ATTACHED : 0, __ATOMIC_RELEASE);
	rte_vhost_pci_driver_ack(internal->meta, gen);
	return ret;
}

/* The port lets go of its device: stop, write back, tell the device. */
void
vpci_ctl_release(struct pmd_internal *internal)
{
	struct rte_vhost_pci_driver *drv;

	if (internal->meta == NULL)
		return;
	drv = rte_vhost_pci_meta_driver(internal->meta);
	if (internal->attached)
		vpci_detach(internal, internal->gen);
	__atomic_store_n(&drv->flags, 0, __ATOMIC_RELEASE);
	rte_vhost_pci_driver_ack(internal->meta, internal->gen);
	internal->synced = false;
}
