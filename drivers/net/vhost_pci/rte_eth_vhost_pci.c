/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * net_vhost_pci: ethdev glue. The port consumes the BAR that
 * librte_vhost_pci builds for a front-end device (vdev mode) and polls the
 * peer's vrings through it (vpci_rxtx.c).
 *
 * Library callbacks run on the library's control thread. They take each
 * queue's lock to attach or stop it, so a burst never runs while its ring's
 * mapping changes.
 */

#include <ctype.h>
#include <grp.h>
#include <pwd.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bus_vdev_driver.h>
#include <ethdev_driver.h>
#include <ethdev_vdev.h>
#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_kvargs.h>
#include <rte_malloc.h>

#include "rte_pmd_vhost_pci.h"
#include "vpci.h"

RTE_LOG_REGISTER_DEFAULT(vpci_logtype, NOTICE);

#define VPCI_ARG_PATH	"path"
#define VPCI_ARG_QUEUES	"queues"
#define VPCI_ARG_CLIENT	"client"
#define VPCI_ARG_UUID	"uuid"
#define VPCI_ARG_ZC	"zero_copy"
#define VPCI_ARG_ZC_MIN	"zc_min_len"
#define VPCI_ARG_OWNER	"owner"
#define VPCI_ARG_GROUP	"group"
#define VPCI_ARG_MAX_CLIENTS "max_clients"
/* Payloads shorter than this are copied even with zero-copy on: below it
 * copying costs the PMD core less than lending, unless the payload is out
 * of cache (tests/tools/vpci_pmdcost.c; doc/guides/nics/vhost_pci.rst).
 */
#define VPCI_ZC_MIN_LEN_DEFAULT	512

static const char * const vpci_valid_args[] = {
	VPCI_ARG_PATH,
	VPCI_ARG_QUEUES,
	VPCI_ARG_CLIENT,
	VPCI_ARG_UUID,
	VPCI_ARG_ZC,
	VPCI_ARG_ZC_MIN,
	VPCI_ARG_OWNER,
	VPCI_ARG_GROUP,
	VPCI_ARG_MAX_CLIENTS,
	NULL
};

static struct rte_eth_link vpci_link_down = {
	.link_speed = RTE_ETH_SPEED_NUM_10G,
	.link_duplex = RTE_ETH_LINK_FULL_DUPLEX,
	.link_status = RTE_ETH_LINK_DOWN,
	.link_autoneg = RTE_ETH_LINK_FIXED,
};

/* ---- queue attach/stop, from the control thread ---- */

static struct vpci_queue *
vpci_queue_of_vring(struct pmd_internal *internal, uint16_t vring)
{
	uint16_t qp = vring / 2;

	if (qp >= internal->max_queue_pairs)
		return NULL;
	/* Peer TX rings (odd) feed our RX; peer RX rings (even) our TX. */
	return (vring & 1) ? &internal->rxq[qp] : &internal->txq[qp];
}

/*
 * How we notify the peer about a used ring. A v2 peer that sent its RX
 * queues' GSIs is interrupted through the GSI (PVI); on one host a GSI
 * resolves to that queue's call eventfd. Otherwise the vring's call fd.
 */
static int
vpci_queue_callfd(struct pmd_internal *internal, const struct vpci_queue *q)
{
	struct rte_vhost_pci_device *dev = internal->dev;
	uint32_t gsi[VPCI_MAX_QUEUE_PAIRS];
	int n, fd;

	if (!(q->vring_idx & 1)) {
		n = rte_vhost_pci_dev_rx_queue_gsi(dev, gsi, RTE_DIM(gsi), false);
		if (q->qid < n) {
			fd = rte_vhost_pci_gsi_eventfd(dev, gsi[q->qid]);
			if (fd >= 0)
				return fd;
		}
	}
	return rte_vhost_pci_vring_callfd(dev, q->vring_idx);
}

/* RX interrupt of queue q: the peer's kick eventfd of its TX ring. */
static void
vpci_queue_set_efd(struct pmd_internal *internal, const struct vpci_queue *q)
{
	struct rte_intr_handle *h = rte_eth_devices[internal->port_id].intr_handle;
	int fd;

	if (h == NULL || !(q->vring_idx & 1))
		return;
	fd = rte_vhost_pci_vring_kickfd(internal->dev, q->vring_idx);
	rte_intr_efds_index_set(h, q->qid, fd);
}

static void
vpci_queue_attach(struct pmd_internal *internal, struct vpci_queue *q)
{
	const struct rte_vhost_pci_meta *meta = (const void *)internal->map.bar;
	const struct rte_vhost_pci_vring *mv = &meta->vring[q->vring_idx];
	uint32_t want = RTE_VHOST_PCI_VRING_F_READY |
		RTE_VHOST_PCI_VRING_F_ENABLED;

	if (q->vring_idx >= meta->nvrings || (mv->flags & want) != want)
		return;
	rte_spinlock_lock(&q->lock);
	if (q->ready) {
		VPCI_LOG(ERR, "%s: vring %u attached twice; kept as it was",
			internal->path, q->vring_idx);
	} else if (vpci_vring_init(&q->vr, &internal->map, mv, meta->features,
			vpci_queue_callfd(internal, q),
			rte_vhost_pci_vring_errfd(internal->dev,
				q->vring_idx)) == 0) {
		q->ready = true;
		/* RX lends peer buffers when asked to and slots allow. */
		q->zc_active = internal->zero_copy && (q->vring_idx & 1) &&
			vpci_zc_attach(q, !!(mv->flags &
				RTE_VHOST_PCI_VRING_F_RESUME)) == 0;
		if (q->intr_enabled)
			vpci_vring_set_notify(&q->vr, true);
		vpci_queue_set_efd(internal, q);
	} else {
		VPCI_LOG(ERR, "%s: vring %u refused: size, base or addresses out of range",
			internal->path, q->vring_idx);
	}
	rte_spinlock_unlock(&q->lock);
}

static void
vpci_queue_stop(struct pmd_internal *internal, struct vpci_queue *q)
{
	struct rte_intr_handle *h = rte_eth_devices[internal->port_id].intr_handle;

	rte_spinlock_lock(&q->lock);
	if (q->ready) {
		uint16_t avail, used;

		q->ready = false;
		vpci_vring_base(&q->vr, &avail, &used);
		rte_vhost_pci_vring_writeback(internal->dev, q->vring_idx,
			avail, used);
	}
	/* The kick fd goes with the peer. */
	if (h != NULL && (q->vring_idx & 1))
		rte_intr_efds_index_set(h, q->qid, -1);
	rte_spinlock_unlock(&q->lock);
}

static void
vpci_set_link(struct pmd_internal *internal, bool up)
{
	struct rte_eth_dev *eth_dev = &rte_eth_devices[internal->port_id];
	struct rte_eth_link link = vpci_link_down;

	link.link_status = up ? RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN;
	/* 0 means the status changed. */
	if (rte_eth_linkstatus_set(eth_dev, &link) == 0)
		rte_eth_dev_callback_process(eth_dev, RTE_ETH_EVENT_INTR_LSC,
			NULL);
}

static void
vpci_uuid_str(const uint8_t u[16], char *s, size_t len)
{
	snprintf(s, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		u[10], u[11], u[12], u[13], u[14], u[15]);
}

/*
 * A v2 peer learns the GSIs of our RX queues once their interrupts are
 * set up (seed 000). Our "GSI" is the queue's interrupt vector.
 */
static void
vpci_send_local_gsi(struct pmd_internal *internal)
{
	struct rte_eth_dev_data *data = rte_eth_devices[internal->port_id].data;
	uint32_t gsi[VPCI_MAX_QUEUE_PAIRS];
	uint16_t q, n = RTE_MIN(data->nb_rx_queues, VPCI_MAX_QUEUE_PAIRS);

	if (!data->dev_conf.intr_conf.rxq || n == 0 ||
			rte_vhost_pci_dev_version(internal->dev) != 2)
		return;
	for (q = 0; q < n; q++)
		gsi[q] = RTE_INTR_VEC_RXTX_OFFSET + q;
	if (rte_vhost_pci_dev_send_rx_queue_gsi(internal->dev, gsi, n) < 0)
		VPCI_LOG(WARNING, "port %u: could not send RX queue GSIs",
			internal->port_id);
}

int
vpci_port_attach(struct pmd_internal *internal,
		struct rte_vhost_pci_device *dev)
{
	const struct rte_vhost_pci_meta *meta;
	char uuid[40] = "none";
	uint8_t u[16];
	uint64_t size, f;
	uint8_t *bar;

	if (internal->dev != NULL)
		return -EBUSY;
	bar = rte_vhost_pci_dev_bar(dev, &size);
	if (bar == NULL || rte_vhost_pci_map_init(&internal->map, bar, size) < 0)
		return -EINVAL;
	meta = (const void *)bar;
	f = meta->features;
	internal->features = f;
	internal->rx_offload = !!(f & (RTE_BIT64(VPCI_F_CSUM_BIT) |
		RTE_BIT64(VPCI_F_HOST_TSO4_BIT) |
		RTE_BIT64(VPCI_F_HOST_TSO6_BIT)));
	internal->mrg_rxbuf = !!(f & RTE_BIT64(VPCI_F_MRG_RXBUF_BIT));
	internal->hdr_len = (internal->mrg_rxbuf ||
			(f & RTE_BIT64(VPCI_F_VERSION_1_BIT))) ?
		sizeof(struct vpci_net_hdr) :
		offsetof(struct vpci_net_hdr, num_buffers);
	internal->dev = dev;
	rte_vhost_pci_dev_set_port_id(dev, internal->port_id);
	/* Vrings 0 and 1; the library reports the others through
	 * vring_state_changed() right after this returns.
	 */
	vpci_queue_attach(internal, &internal->rxq[0]);
	vpci_queue_attach(internal, &internal->txq[0]);
	if (rte_vhost_pci_dev_peer_uuid(dev, u) == 0)
		vpci_uuid_str(u, uuid, sizeof(uuid));
	VPCI_LOG(INFO, "port %u: peer connected on %s: v%u, conn_id %" PRIu64 ", peer uuid %s, features 0x%" PRIx64,
		internal->port_id, internal->path,
		rte_vhost_pci_dev_version(dev), rte_vhost_pci_dev_conn_id(dev),
		uuid, f);
	vpci_send_local_gsi(internal);
	vpci_set_link(internal, true);
	return 0;
}

void
vpci_port_detach(struct pmd_internal *internal)
{
	uint16_t i;

	if (internal->dev == NULL)
		return;
	for (i = 0; i < internal->max_queue_pairs; i++) {
		vpci_queue_stop(internal, &internal->rxq[i]);
		vpci_queue_stop(internal, &internal->txq[i]);
	}
	internal->dev = NULL;
	VPCI_LOG(INFO, "port %u: peer gone from %s", internal->port_id,
		internal->path);
	vpci_set_link(internal, false);
}

void
vpci_port_vring(struct pmd_internal *internal, uint16_t vring, int enable)
{
	struct vpci_queue *q = vpci_queue_of_vring(internal, vring);

	if (internal->dev == NULL || q == NULL)
		return;
	if (enable)
		vpci_queue_attach(internal, q);
	else
		vpci_queue_stop(internal, q);
}

/* ---- ethdev ops ---- */

static int
vpci_dev_configure(struct rte_eth_dev *dev __rte_unused)
{
	return 0;
}

/* Queue i's interrupt is vector RXTX_OFFSET + i, efd i (see set_efd). */
static int
vpci_intr_vectors(struct rte_eth_dev *dev)
{
	struct rte_intr_handle *h = dev->intr_handle;
	uint16_t i, n = dev->data->nb_rx_queues;

	if (!dev->data->dev_conf.intr_conf.rxq)
		return 0;
	if (rte_intr_vec_list_alloc(h, "vpci_intr_vec", n) < 0)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (rte_intr_vec_list_index_set(h, i,
				RTE_INTR_VEC_RXTX_OFFSET + i) < 0)
			return -EINVAL;
	return 0;
}

static int
vpci_dev_start(struct rte_eth_dev *dev)
{
	uint16_t i;

	if (vpci_intr_vectors(dev) < 0)
		return -ENOMEM;

	for (i = 0; i < dev->data->nb_rx_queues; i++)
		dev->data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
	for (i = 0; i < dev->data->nb_tx_queues; i++)
		dev->data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STARTED;
	dev->data->dev_started = 1;
	return 0;
}

static int
vpci_dev_stop(struct rte_eth_dev *dev)
{
	struct pmd_internal *internal = dev->data->dev_private;
	struct rte_vhost_pci_device *vdev = internal->dev;
	uint16_t i;

	/* A v2 peer learns that the channel is gone (seed 000). */
	if (vdev != NULL && rte_vhost_pci_dev_version(vdev) == 2) {
		int ret = rte_vhost_pci_dev_send_disconnect(vdev);

		if (ret == 0)
			VPCI_LOG(INFO, "port %u: stopped, peer channel disconnected",
				internal->port_id);
		else
			VPCI_LOG(WARNING, "port %u: stopped, but the peer was not told: %s",
				internal->port_id, strerror(-ret));
	}
	dev->data->dev_started = 0;
	for (i = 0; i < dev->data->nb_rx_queues; i++)
		dev->data->rx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	for (i = 0; i < dev->data->nb_tx_queues; i++)
		dev->data->tx_queue_state[i] = RTE_ETH_QUEUE_STATE_STOPPED;
	return 0;
}

static int
vpci_dev_close(struct rte_eth_dev *dev)
{
	struct pmd_internal *internal = dev->data->dev_private;
	uint16_t i;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return 0;
	/* Stops every queue through destroy_device first. */
	vpci_server_remove(internal);
	for (i = 0; i < internal->max_queue_pairs; i++)
		vpci_zc_free(&internal->rxq[i]);
	rte_intr_vec_list_free(dev->intr_handle);
	rte_intr_instance_free(dev->intr_handle);
	dev->intr_handle = NULL;
	/* Queues live in dev_private; nothing for ethdev to free. */
	dev->data->rx_queues = NULL;
	dev->data->tx_queues = NULL;
	dev->data->nb_rx_queues = 0;
	dev->data->nb_tx_queues = 0;
	return 0;
}

static int
vpci_dev_info(struct rte_eth_dev *dev, struct rte_eth_dev_info *info)
{
	struct pmd_internal *internal = dev->data->dev_private;

	info->max_mac_addrs = 1;
	info->max_rx_pktlen = 9728;
	info->min_mtu = RTE_ETHER_MIN_MTU;
	info->max_mtu = 9728 - RTE_ETHER_HDR_LEN - RTE_ETHER_CRC_LEN;
	info->max_rx_queues = internal->max_queue_pairs;
	info->max_tx_queues = internal->max_queue_pairs;
	info->min_rx_bufsize = 0;
	/* What the virtio-net header carries, when the peer negotiates it. */
	info->rx_offload_capa = RTE_ETH_RX_OFFLOAD_SCATTER |
		RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM |
		RTE_ETH_RX_OFFLOAD_TCP_LRO;
	info->tx_offload_capa = RTE_ETH_TX_OFFLOAD_MULTI_SEGS |
		RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
		RTE_ETH_TX_OFFLOAD_TCP_TSO;
	info->speed_capa = RTE_ETH_LINK_SPEED_10G;
	return 0;
}

static int
vpci_rx_queue_setup(struct rte_eth_dev *dev, uint16_t qid,
		uint16_t nb_desc __rte_unused, unsigned int socket_id __rte_unused,
		const struct rte_eth_rxconf *conf __rte_unused,
		struct rte_mempool *mp)
{
	struct pmd_internal *internal = dev->data->dev_private;

	internal->rxq[qid].mp = mp;
	dev->data->rx_queues[qid] = &internal->rxq[qid];
	return 0;
}

static int
vpci_tx_queue_setup(struct rte_eth_dev *dev, uint16_t qid,
		uint16_t nb_desc __rte_unused, unsigned int socket_id __rte_unused,
		const struct rte_eth_txconf *conf __rte_unused)
{
	struct pmd_internal *internal = dev->data->dev_private;

	dev->data->tx_queues[qid] = &internal->txq[qid];
	return 0;
}

static void
vpci_queue_release(struct rte_eth_dev *dev __rte_unused,
		uint16_t qid __rte_unused)
{
	/* Queues live in dev_private. */
}

static int
vpci_link_update(struct rte_eth_dev *dev, int wait __rte_unused)
{
	struct pmd_internal *internal = dev->data->dev_private;
	struct rte_eth_link link = vpci_link_down;

	link.link_status = internal->dev != NULL ?
		RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN;
	return rte_eth_linkstatus_set(dev, &link);
}

static void
vpci_stats_add(struct rte_eth_stats *s, const struct vpci_queue *q,
		uint16_t i, bool rx)
{
	if (rx) {
		s->ipackets += q->stats.pkts;
		s->ibytes += q->stats.bytes;
		s->ierrors += q->stats.errors;
		s->rx_nombuf += q->stats.nombuf;
	} else {
		s->opackets += q->stats.pkts;
		s->obytes += q->stats.bytes;
		s->oerrors += q->stats.errors;
	}
	if (i >= RTE_ETHDEV_QUEUE_STAT_CNTRS)
		return;
	if (rx) {
		s->q_ipackets[i] = q->stats.pkts;
		s->q_ibytes[i] = q->stats.bytes;
		s->q_errors[i] = q->stats.errors;
	} else {
		s->q_opackets[i] = q->stats.pkts;
		s->q_obytes[i] = q->stats.bytes;
	}
}

static int
vpci_stats_get(struct rte_eth_dev *dev, struct rte_eth_stats *stats)
{
	struct pmd_internal *internal = dev->data->dev_private;
	uint16_t i;

	for (i = 0; i < dev->data->nb_rx_queues; i++)
		vpci_stats_add(stats, &internal->rxq[i], i, true);
	for (i = 0; i < dev->data->nb_tx_queues; i++)
		vpci_stats_add(stats, &internal->txq[i], i, false);
	return 0;
}

static int
vpci_stats_reset(struct rte_eth_dev *dev)
{
	struct pmd_internal *internal = dev->data->dev_private;
	uint16_t i;

	for (i = 0; i < internal->max_queue_pairs; i++) {
		memset(&internal->rxq[i].stats, 0, sizeof(struct vpci_stats));
		memset(&internal->txq[i].stats, 0, sizeof(struct vpci_stats));
	}
	return 0;
}

static int
vpci_rx_intr_set(struct rte_eth_dev *dev, uint16_t qid, bool on)
{
	struct pmd_internal *internal = dev->data->dev_private;
	struct vpci_queue *q = &internal->rxq[qid];

	rte_spinlock_lock(&q->lock);
	q->intr_enabled = on;
	if (q->ready)
		vpci_vring_set_notify(&q->vr, on);
	rte_spinlock_unlock(&q->lock);
	return 0;
}

static int
vpci_rx_intr_enable(struct rte_eth_dev *dev, uint16_t qid)
{
	return vpci_rx_intr_set(dev, qid, true);
}

static int
vpci_rx_intr_disable(struct rte_eth_dev *dev, uint16_t qid)
{
	return vpci_rx_intr_set(dev, qid, false);
}

static int
vpci_promisc(struct rte_eth_dev *dev __rte_unused)
{
	return 0;
}

static const struct eth_dev_ops vpci_ops = {
	.dev_configure = vpci_dev_configure,
	.dev_start = vpci_dev_start,
	.dev_stop = vpci_dev_stop,
	.dev_close = vpci_dev_close,
	.dev_infos_get = vpci_dev_info,
	.rx_queue_setup = vpci_rx_queue_setup,
	.tx_queue_setup = vpci_tx_queue_setup,
	.rx_queue_release = vpci_queue_release,
	.tx_queue_release = vpci_queue_release,
	.link_update = vpci_link_update,
	.stats_get = vpci_stats_get,
	.stats_reset = vpci_stats_reset,
	.rx_queue_intr_enable = vpci_rx_intr_enable,
	.rx_queue_intr_disable = vpci_rx_intr_disable,
	.promiscuous_enable = vpci_promisc,
	.promiscuous_disable = vpci_promisc,
	.allmulticast_enable = vpci_promisc,
	.allmulticast_disable = vpci_promisc,
};

/* ---- probe / remove ---- */

struct vpci_args {
	char path[108];
	uint16_t queues;
	uint32_t flags;
	bool uuid_pinned;
	uint8_t uuid[16];
	int64_t owner;			/* -1: not given */
	int64_t group;
	uint32_t max_clients;
	bool zero_copy;
	bool zero_copy_set;		/* given, not defaulted */
	uint32_t zc_min_len;
};

static int
vpci_arg_path(const char *key __rte_unused, const char *value, void *opaque)
{
	struct vpci_args *a = opaque;

	if (value[0] == '\0' || strlcpy(a->path, value, sizeof(a->path)) >=
			sizeof(a->path))
		return -EINVAL;
	return 0;
}

static int
vpci_arg_uint(const char *value, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(value, &end, 0);
	if (errno != 0 || end == value || *end != '\0' || *out > max)
		return -EINVAL;
	return 0;
}

static int
vpci_arg_queues(const char *key __rte_unused, const char *value, void *opaque)
{
	struct vpci_args *a = opaque;
	unsigned long v;

	if (vpci_arg_uint(value, VPCI_MAX_QUEUE_PAIRS, &v) < 0 || v == 0)
		return -EINVAL;
	a->queues = v;
	return 0;
}

static int
vpci_arg_client(const char *key __rte_unused, const char *value, void *opaque)
{
	struct vpci_args *a = opaque;
	unsigned long v;

	if (vpci_arg_uint(value, 1, &v) < 0)
		return -EINVAL;
	if (v)
		a->flags |= RTE_VHOST_PCI_F_CLIENT;
	return 0;
}

static int
vpci_arg_zc(const char *key __rte_unused, const char *value, void *opaque)
{
	struct vpci_args *a = opaque;
	unsigned long v;

	if (vpci_arg_uint(value, 1, &v) < 0)
		return -EINVAL;
	a->zero_copy = v;
	a->zero_copy_set = true;
	return 0;
}

static int
vpci_arg_zc_min(const char *key __rte_unused, const char *value, void *opaque)
{
	struct vpci_args *a = opaque;
	unsigned long v;

	if (vpci_arg_uint(value, UINT16_MAX, &v) < 0)
		return -EINVAL;
	a->zc_min_len = v;
	return 0;
}

/* 32 hex digits, dashes anywhere between pairs. */
static int
vpci_arg_uuid(const char *key __rte_unused, const char *value, void *opaque)
{
	struct vpci_args *a = opaque;
	unsigned int i = 0, v;

	while (*value != '\0' && i < 16) {
		if (*value == '-') {
			value++;
			continue;
		}
		if (!isxdigit((unsigned char)value[0]) ||
				!isxdigit((unsigned char)value[1]) ||
				sscanf(value, "%2x", &v) != 1)
			return -EINVAL;
		a->uuid[i++] = v;
		value += 2;
	}
	if (i != 16 || *value != '\0')
		return -EINVAL;
	a->uuid_pinned = true;
	return 0;
}

/*
 * Zero-copy unless asked otherwise, where it is safe: the BAR is not
 * DMA-mapped for devices, and a lent mbuf's IOVA is its virtual address
 * (RTE_BAD_IOVA unless EAL runs IOVA as VA). So a port that DMAs (any port
 * not on the vdev bus) could be handed lent mbufs it cannot reach; vdev
 * ports only use virtual addresses.
 */
static bool
vpci_zero_copy_default(const char *name)
{
	uint16_t pid;

	RTE_ETH_FOREACH_DEV(pid) {
		const struct rte_device *d = rte_eth_devices[pid].device;

		if (d != NULL &&
				strcmp(rte_bus_name(rte_dev_bus(d)), "vdev") != 0) {
			VPCI_LOG(NOTICE, "%s: zero-copy RX off: port %u (%s) may DMA from lent mbufs; zero_copy=1 forces it",
				name, pid, rte_dev_name(d));
			return false;
		}
	}
	return true;
}

/* A user or group: a name, or a number. */
static int
vpci_arg_id(const char *key, const char *value, void *opaque)
{
	int64_t *id = opaque;
	char buf[1024], *end;
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 10);
	if (*value != '\0' && *end == '\0' && errno == 0 && v < UINT32_MAX) {
		*id = v;
		return 0;
	}
	if (strcmp(key, VPCI_ARG_OWNER) == 0) {
		if (getpwnam_r(value, &pw, buf, sizeof(buf), &pwp) == 0 &&
				pwp != NULL) {
			*id = pw.pw_uid;
			return 0;
		}
	} else if (getgrnam_r(value, &gr, buf, sizeof(buf), &grp) == 0 &&
			grp != NULL) {
		*id = gr.gr_gid;
		return 0;
	}
	VPCI_LOG(ERR, "%s=%s: no such %s", key, value,
		strcmp(key, VPCI_ARG_OWNER) == 0 ? "user" : "group");
	return -EINVAL;
}

static int
vpci_arg_max_clients(const char *key __rte_unused, const char *value,
		void *opaque)
{
	struct vpci_args *a = opaque;
	unsigned long v;

	if (vpci_arg_uint(value, UINT16_MAX, &v) < 0 || v == 0)
		return -EINVAL;
	a->max_clients = v;
	return 0;
}

static int
vpci_parse_args(const char *name, const char *params, struct vpci_args *a)
{
	struct rte_kvargs *kv;
	int ret = -EINVAL;

	memset(a, 0, sizeof(*a));
	a->queues = 1;
	a->zc_min_len = VPCI_ZC_MIN_LEN_DEFAULT;
	a->owner = -1;
	a->group = -1;
	a->max_clients = RTE_VHOST_PCI_MAX_CLIENTS_DEFAULT;
	/* An unknown key makes rte_kvargs_parse() fail. */
	kv = rte_kvargs_parse(params != NULL ? params : "", vpci_valid_args);
	if (kv == NULL) {
		VPCI_LOG(ERR, "%s: invalid devargs '%s'", name, params);
		return -EINVAL;
	}
	if (rte_kvargs_count(kv, VPCI_ARG_PATH) != 1) {
		VPCI_LOG(ERR, "%s: exactly one %s= is required", name,
			VPCI_ARG_PATH);
		goto out;
	}
	if (rte_kvargs_process(kv, VPCI_ARG_PATH, vpci_arg_path, a) < 0 ||
			rte_kvargs_process(kv, VPCI_ARG_QUEUES, vpci_arg_queues,
				a) < 0 ||
			rte_kvargs_process(kv, VPCI_ARG_CLIENT, vpci_arg_client,
				a) < 0 ||
			rte_kvargs_process(kv, VPCI_ARG_UUID, vpci_arg_uuid,
				a) < 0 ||
			rte_kvargs_process(kv, VPCI_ARG_ZC, vpci_arg_zc, a) < 0 ||
			rte_kvargs_process(kv, VPCI_ARG_ZC_MIN, vpci_arg_zc_min,
				a) < 0 ||
			rte_kvargs_process(kv, VPCI_ARG_OWNER, vpci_arg_id,
				&a->owner) < 0 ||
			rte_kvargs_process(kv, VPCI_ARG_GROUP, vpci_arg_id,
				&a->group) < 0 ||
			rte_kvargs_process(kv, VPCI_ARG_MAX_CLIENTS,
				vpci_arg_max_clients, a) < 0) {
		VPCI_LOG(ERR, "%s: invalid value in '%s'", name, params);
		goto out;
	}
	ret = 0;
out:
	rte_kvargs_free(kv);
	return ret;
}

static void
vpci_init_queues(struct pmd_internal *internal)
{
	uint16_t i;

	for (i = 0; i < VPCI_MAX_QUEUE_PAIRS; i++) {
		struct vpci_queue *rx = &internal->rxq[i], *tx = &internal->txq[i];

		rte_spinlock_init(&rx->lock);
		rte_spinlock_init(&tx->lock);
		rx->qid = tx->qid = i;
		rx->vring_idx = 2 * i + 1;
		tx->vring_idx = 2 * i;
		rx->internal = tx->internal = internal;
	}
}

/* RX interrupts: one eventfd per queue, the peer's kick fds. */
static int
vpci_intr_init(struct rte_eth_dev *eth_dev, uint16_t queues)
{
	struct rte_intr_handle *h;
	uint16_t i;

	h = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
	if (h == NULL)
		return -ENOMEM;
	if (rte_intr_type_set(h, RTE_INTR_HANDLE_VDEV) < 0 ||
			rte_intr_nb_efd_set(h, queues) < 0 ||
			rte_intr_max_intr_set(h, queues + 1) < 0 ||
			rte_intr_efd_counter_size_set(h, sizeof(uint64_t)) < 0)
		goto fail;
	for (i = 0; i < queues; i++)
		if (rte_intr_efds_index_set(h, i, -1) < 0)
			goto fail;
	eth_dev->intr_handle = h;
	return 0;
fail:
	rte_intr_instance_free(h);
	return -EINVAL;
}

static int
vpci_probe(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	struct pmd_internal *internal;
	struct rte_ether_addr *mac;
	struct rte_eth_dev *eth_dev;
	struct vpci_args args;
	int ret;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY) {
		VPCI_LOG(ERR, "%s: secondary processes are not supported", name);
		return -ENOTSUP;
	}
	ret = vpci_parse_args(name, rte_vdev_device_args(vdev), &args);
	if (ret < 0)
		return ret;
	eth_dev = rte_eth_vdev_allocate(vdev, sizeof(*internal));
	if (eth_dev == NULL)
		return -ENOMEM;
	mac = rte_zmalloc_socket(name, sizeof(*mac), 0, vdev->device.numa_node);
	if (mac == NULL) {
		rte_eth_dev_release_port(eth_dev);
		return -ENOMEM;
	}
	rte_eth_random_addr(mac->addr_bytes);
	internal = eth_dev->data->dev_private;
	strlcpy(internal->path, args.path, sizeof(internal->path));
	internal->max_queue_pairs = args.queues;
	internal->flags = args.flags;
	internal->port_id = eth_dev->data->port_id;
	internal->uuid_pinned = args.uuid_pinned;
	internal->owner = args.owner;
	internal->group = args.group;
	internal->max_clients = args.max_clients;
	internal->zero_copy = args.zero_copy_set ? args.zero_copy :
		vpci_zero_copy_default(name);
	internal->zc_min_len = args.zc_min_len;
	/* Lent buffers come back in any order. */
	if (internal->zero_copy)
		internal->flags |= RTE_VHOST_PCI_F_NO_IN_ORDER;
	memcpy(internal->uuid, args.uuid, sizeof(internal->uuid));
	vpci_init_queues(internal);

	eth_dev->data->mac_addrs = mac;
	eth_dev->data->dev_link = vpci_link_down;
	eth_dev->data->dev_flags |= RTE_ETH_DEV_INTR_LSC |
		RTE_ETH_DEV_AUTOFILL_QUEUE_XSTATS;
	eth_dev->dev_ops = &vpci_ops;
	if (vpci_intr_init(eth_dev, args.queues) < 0) {
		rte_eth_dev_release_port(eth_dev);
		return -ENOMEM;
	}
	eth_dev->rx_pkt_burst = eth_vpci_rx;
	eth_dev->tx_pkt_burst = eth_vpci_tx;

	ret = vpci_server_add(internal);
	if (ret < 0) {
		VPCI_LOG(ERR, "%s: cannot use %s: %s", name, args.path,
			strerror(-ret));
		rte_eth_dev_release_port(eth_dev);
		return ret;
	}
	rte_eth_dev_probing_finish(eth_dev);
	VPCI_LOG(INFO, "%s: port %u on %s, %u queue pairs%s", name,
		internal->port_id, args.path, args.queues,
		(args.flags & RTE_VHOST_PCI_F_CLIENT) ? ", client mode" : "");
	return 0;
}

static int
vpci_remove(struct rte_vdev_device *vdev)
{
	struct rte_eth_dev *eth_dev;

	eth_dev = rte_eth_dev_allocated(rte_vdev_device_name(vdev));
	if (eth_dev == NULL)
		return 0;	/* already closed */
	/* Closing releases the port, dev_private and mac_addrs with it. */
	return rte_eth_dev_close(eth_dev->data->port_id);
}

struct pmd_internal *
vpci_internal_of(uint16_t port_id)
{
	if (!rte_eth_dev_is_valid_port(port_id) ||
			rte_eth_devices[port_id].dev_ops != &vpci_ops)
		return NULL;
	return rte_eth_devices[port_id].data->dev_private;
}

int
rte_pmd_vhost_pci_get_peer(uint16_t port_id, struct rte_pmd_vhost_pci_peer *peer)
{
	struct pmd_internal *internal;
	struct rte_vhost_pci_device *dev;
	int ret = 0;

	internal = vpci_internal_of(port_id);
	if (internal == NULL || peer == NULL)
		return -ENODEV;
	memset(peer, 0, sizeof(*peer));
	/* The same lock as attach and detach: dev stays valid meanwhile. */
	vpci_server_lock();
	dev = internal->dev;
	if (dev == NULL) {
		ret = -ENOTCONN;
	} else {
		peer->conn_id = rte_vhost_pci_dev_conn_id(dev);
		peer->version = rte_vhost_pci_dev_version(dev);
		peer->has_uuid = rte_vhost_pci_dev_peer_uuid(dev, peer->uuid) == 0;
	}
	vpci_server_unlock();
	return ret;
}

int
rte_pmd_vhost_pci_disconnect(uint16_t port_id)
{
	struct pmd_internal *internal;
	struct rte_vhost_pci_device *dev;
	uint32_t version;

	internal = vpci_internal_of(port_id);
	if (internal == NULL)
		return -ENODEV;
	vpci_server_lock();
	dev = internal->dev;
	version = dev != NULL ? rte_vhost_pci_dev_version(dev) : 0;
	vpci_server_unlock();
	if (dev == NULL)
		return -ENOTCONN;
	if (version != 2)
		return -ENOTSUP;
	/* Not under our lock: the library's comes first (vpci_server.c).
	 * The library checks, under its lock, that the device still lives.
	 */
	return rte_vhost_pci_dev_send_disconnect(dev);
}

static struct rte_vdev_driver vpci_vdev_drv = {
	.probe = vpci_probe,
	.remove = vpci_remove,
};

#define VPCI_PARAMS \
	VPCI_ARG_PATH "=<path> " \
	VPCI_ARG_QUEUES "=<1-16> " \
	VPCI_ARG_CLIENT "=<0|1> " \
	VPCI_ARG_UUID "=<uuid> " \
	VPCI_ARG_ZC "=<0|1> " \
	VPCI_ARG_ZC_MIN "=<bytes> " \
	VPCI_ARG_OWNER "=<user> " \
	VPCI_ARG_GROUP "=<group> " \
	VPCI_ARG_MAX_CLIENTS "=<1-65535>"

RTE_PMD_REGISTER_VDEV(net_vhost_pci, vpci_vdev_drv);
RTE_PMD_REGISTER_ALIAS(net_vhost_pci, eth_vhost_pci);
RTE_PMD_REGISTER_PARAM_STRING(net_vhost_pci, VPCI_PARAMS);

/*
 * What dpdk-pmdinfo.py reads from .rodata. DPDK's build generates this
 * string for its own drivers (buildtools/pmdinfogen.py); out of tree we
 * write it, from the same parameter string.
 */
__rte_used static const char vpci_pmd_info[] =
	"PMD_INFO_STRING= {\"name\": \"net_vhost_pci\", "
	"\"params\": \"" VPCI_PARAMS "\", \"pci_ids\": []}";
