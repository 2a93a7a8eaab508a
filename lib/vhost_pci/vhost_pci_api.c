/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * The public device API: each call finds its device by vid under the
 * library lock and lets go of it before returning, so a stale vid gets an
 * error and never memory. Calls that change a device are requests the
 * control thread carries out (vhost_pci_ctl_request()).
 */

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <rte_common.h>
#include <rte_string_fns.h>

#include "vhost_pci_private.h"

/* This side's sender UUID for PVI (the vhost-pci extension); random unless
 * set.
 */
uint8_t vhost_pci_local_uuid[VHOST_PCI_UUID_LEN];

RTE_INIT(vhost_pci_uuid_init)
{
	if (getrandom(vhost_pci_local_uuid, sizeof(vhost_pci_local_uuid),
			0) != sizeof(vhost_pci_local_uuid))
		memset(vhost_pci_local_uuid, 0x5a, sizeof(vhost_pci_local_uuid));
	/* RFC 4122 version 4, variant 1. */
	vhost_pci_local_uuid[6] = (vhost_pci_local_uuid[6] & 0x0f) | 0x40;
	vhost_pci_local_uuid[8] = (vhost_pci_local_uuid[8] & 0x3f) | 0x80;
}

void
rte_vhost_pci_local_uuid(uint8_t uuid[16])
{
	vhost_pci_lock_take();
	memcpy(uuid, vhost_pci_local_uuid, VHOST_PCI_UUID_LEN);
	vhost_pci_lock_release();
}

void
rte_vhost_pci_set_local_uuid(const uint8_t uuid[16])
{
	vhost_pci_lock_take();
	memcpy(vhost_pci_local_uuid, uuid, VHOST_PCI_UUID_LEN);
	vhost_pci_lock_release();
}

/* The device of @vid with the lock taken, or NULL (lock not taken). */
static struct vhost_pci_device *
dev_take(int vid)
{
	struct vhost_pci_device *dev;

	vhost_pci_lock_take();
	dev = vhost_pci_dev_get(vid);
	if (dev == NULL)
		vhost_pci_lock_release();
	return dev;
}

static struct vhost_pci_conn *
dev_conn(struct vhost_pci_device *dev)
{
	return container_of(dev, struct vhost_pci_conn, dev);
}

int
rte_vhost_pci_dev_peer_uuid(int vid, uint8_t uuid[16])
{
	struct vhost_pci_device *dev = dev_take(vid);
	int ret = -ENOENT;

	if (dev == NULL)
		return -ENODEV;
	if (dev->peer_uuid_set) {
		memcpy(uuid, dev->peer_uuid, VHOST_PCI_UUID_LEN);
		ret = 0;
	}
	vhost_pci_lock_release();
	return ret;
}

uint32_t
rte_vhost_pci_dev_version(int vid)
{
	struct vhost_pci_device *dev = dev_take(vid);
	uint32_t v;

	if (dev == NULL)
		return 0;
	v = vhost_pci_dev_version(dev);
	vhost_pci_lock_release();
	return v;
}

int
rte_vhost_pci_dev_set_port_id(int vid, int port_id)
{
	struct vhost_pci_device *dev = dev_take(vid);

	if (dev == NULL)
		return -ENODEV;
	dev->port_id = port_id;
	vhost_pci_lock_release();
	return 0;
}

int
rte_vhost_pci_dev_rx_queue_gsi(int vid, uint32_t *gsi, uint16_t max,
		bool local)
{
	struct vhost_pci_device *dev = dev_take(vid);
	uint16_t n;

	if (dev == NULL)
		return -ENODEV;
	n = local ? dev->nlocal_gsi : dev->ngsi;
	memcpy(gsi, local ? dev->local_gsi : dev->gsi,
		RTE_MIN(n, max) * sizeof(*gsi));
	vhost_pci_lock_release();
	return n;
}

/*
 * A request (v2) to the front-end, sent under the lock from this thread.
 * A send that failed means a front-end that closed its end (it may be
 * gone before the control thread saw it) or a stream cut in the middle of
 * a message: the connection is closed, as the control thread closes it
 * when one of its own replies fails, and the device counts as closed.
 * After a failure @dev is not to be used: the lock may have been let go.
 */
static int
dev_send(struct vhost_pci_device *dev, uint32_t request, const void *payload,
		uint32_t size)
{
	struct vhost_pci_conn *conn = dev_conn(dev);
	int ret;

	if (conn->dead)
		return -ENODEV;
	ret = vhost_pci_send_request(conn, request, payload, size);
	if (ret != -EIO)
		return ret;
	conn->req_close = true;
	vhost_pci_ctl_request(conn);
	return -ENODEV;
}

int
rte_vhost_pci_dev_send_rx_queue_gsi(int vid, const uint32_t *gsi, uint16_t n)
{
	uint8_t buf[VHOST_PCI_GSI_HDR + VHOST_PCI_MAX_GSI * VHOST_PCI_GSI_SIZE];
	struct vhost_pci_device *dev;
	int ret;

	if (n == 0 || n > VHOST_PCI_MAX_GSI)
		return -EINVAL;
	memcpy(buf, &n, sizeof(n));
	memcpy(buf + VHOST_PCI_GSI_HDR, gsi, n * VHOST_PCI_GSI_SIZE);
	dev = dev_take(vid);
	if (dev == NULL)
		return -ENODEV;
	ret = dev_send(dev, VHOST_PCI_SET_RX_QUEUE_GSI, buf,
		VHOST_PCI_GSI_HDR + n * VHOST_PCI_GSI_SIZE);
	if (ret == 0) {
		memcpy(dev->local_gsi, gsi, n * sizeof(*gsi));
		dev->nlocal_gsi = n;
	}
	vhost_pci_lock_release();
	return ret;
}

int
rte_vhost_pci_dev_send_disconnect(int vid)
{
	uint64_t v = VHOST_PCI_PEER_DISCONNECT;
	struct vhost_pci_device *dev = dev_take(vid);
	int ret;

	if (dev == NULL)
		return -ENODEV;
	ret = dev_send(dev, VHOST_PCI_SET_PEER_CONNECTION, &v, sizeof(v));
	if (ret == 0) {
		VHOST_PCI_LOG(INFO, "%s: connection %" PRIu64 ": peer channel disconnected by the server",
			dev->ep->path, dev->conn_id);
		dev_conn(dev)->req_disconnect = true;
		vhost_pci_ctl_request(dev_conn(dev));
	}
	vhost_pci_lock_release();
	return ret;
}

int
rte_vhost_pci_dev_close(int vid)
{
	struct vhost_pci_device *dev = dev_take(vid);
	int ret = -ENODEV;

	if (dev == NULL)
		return ret;
	if (!dev_conn(dev)->dead) {
		dev_conn(dev)->req_close = true;
		vhost_pci_ctl_request(dev_conn(dev));
		ret = 0;
	}
	vhost_pci_lock_release();
	return ret;
}

int
rte_vhost_pci_dev_set_priv(int vid, void *priv)
{
	struct vhost_pci_device *dev = dev_take(vid);

	if (dev == NULL)
		return -ENODEV;
	dev->priv = priv;
	vhost_pci_lock_release();
	return 0;
}

void *
rte_vhost_pci_dev_priv(int vid)
{
	struct vhost_pci_device *dev = dev_take(vid);
	void *priv;

	if (dev == NULL)
		return NULL;
	priv = dev->priv;
	vhost_pci_lock_release();
	return priv;
}

uint8_t *
rte_vhost_pci_dev_bar(int vid, uint64_t *size)
{
	struct vhost_pci_device *dev = dev_take(vid);
	uint8_t *base;

	if (dev == NULL)
		return NULL;
	if (size != NULL)
		*size = dev->bar.size;
	base = dev->bar.base;
	vhost_pci_lock_release();
	return base;
}

void *
rte_vhost_pci_dev_bar_hold(int vid)
{
	struct vhost_pci_device *dev = dev_take(vid);
	void *hold;

	if (dev == NULL)
		return NULL;
	hold = vhost_pci_dev_window_hold(dev);
	vhost_pci_lock_release();
	return hold;
}

void
rte_vhost_pci_bar_release(void *hold)
{
	if (hold != NULL)
		vhost_pci_window_put(hold);
}

int
rte_vhost_pci_vring_writeback(int vid, uint16_t vring,
		uint16_t last_avail_idx, uint16_t last_used_idx)
{
	struct vhost_pci_device *dev;

	if (vring >= RTE_VHOST_PCI_MAX_VRINGS)
		return -EINVAL;
	dev = dev_take(vid);
	if (dev == NULL)
		return -ENODEV;
	dev->vring[vring].base = last_avail_idx;
	dev->vring[vring].used_base = last_used_idx;
	dev->vring[vring].resume = true;
	vhost_pci_lock_release();
	return 0;
}

/* One of a vring's eventfds: 0 kick, 1 call, 2 err. */
static int
vring_fd(int vid, uint16_t vring, int which)
{
	struct vhost_pci_device *dev;
	int fd;

	if (vring >= RTE_VHOST_PCI_MAX_VRINGS)
		return -1;
	dev = dev_take(vid);
	if (dev == NULL)
		return -1;
	fd = which == 0 ? dev->vring[vring].kickfd :
		which == 1 ? dev->vring[vring].callfd : dev->vring[vring].errfd;
	vhost_pci_lock_release();
	return fd;
}

int
rte_vhost_pci_vring_kickfd(int vid, uint16_t vring)
{
	return vring_fd(vid, vring, 0);
}

int
rte_vhost_pci_vring_callfd(int vid, uint16_t vring)
{
	return vring_fd(vid, vring, 1);
}

int
rte_vhost_pci_vring_errfd(int vid, uint16_t vring)
{
	return vring_fd(vid, vring, 2);
}

/* Host emulation of PVI: a front-end GSI names the interrupt line of one
 * of its RX queues, and on one host that line is the queue's call eventfd.
 */
int
rte_vhost_pci_gsi_eventfd(int vid, uint32_t gsi)
{
	struct vhost_pci_device *dev = dev_take(vid);
	int fd = -1;
	uint16_t q;

	if (dev == NULL)
		return -1;
	for (q = 0; q < dev->ngsi; q++) {
		if (dev->gsi[q] == gsi) {
			fd = dev->vring[2 * q].callfd;
			break;
		}
	}
	vhost_pci_lock_release();
	return fd;
}

int
rte_vhost_pci_dev_path(int vid, char *buf, size_t len)
{
	struct vhost_pci_device *dev = dev_take(vid);
	int ret;

	if (dev == NULL)
		return -ENODEV;
	ret = strlcpy(buf, dev->ep->path, len) < len ? 0 : -ENOSPC;
	vhost_pci_lock_release();
	return ret;
}

uint64_t
rte_vhost_pci_dev_conn_id(int vid)
{
	struct vhost_pci_device *dev = dev_take(vid);
	uint64_t id;

	if (dev == NULL)
		return 0;
	id = dev->conn_id;
	vhost_pci_lock_release();
	return id;
}

int
rte_vhost_pci_dev_region_fd(int vid, uint32_t region, uint64_t *fd_offset)
{
	struct vhost_pci_device *dev = dev_take(vid);
	int fd = -1;

	if (dev == NULL)
		return -1;
	if (region < dev->bar.nregions) {
		if (fd_offset != NULL)
			*fd_offset = dev->bar.region[region].fd_offset;
		fd = dev->bar.region[region].fd;
	}
	vhost_pci_lock_release();
	return fd;
}
