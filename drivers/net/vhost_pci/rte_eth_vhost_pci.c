/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * net_vhost_pci: ethdev glue and the vdev probe. A port consumes a vhost-pci
 * BAR (vpci_ctl.c) and polls the peer's vrings through it (vpci_ring.c,
 * vpci_rx.c, vpci_tx.c).
 * In vdev mode librte_vhost_pci builds that BAR in this process
 * (vpci_server.c); in PCI mode it is a PCI device's (vpci_pci.c).
 */

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
#include <rte_uuid.h>

#include "rte_pmd_vhost_pci.h"
#include "vpci.h"

RTE_LOG_REGISTER_DEFAULT(vpci_logtype, NOTICE);
RTE_LOG_REGISTER_SUFFIX(vpci_logtype_rx, rx, NOTICE);
RTE_LOG_REGISTER_SUFFIX(vpci_logtype_tx, tx, NOTICE);

#define VPCI_ARG_PATH	"path"
#define VPCI_ARG_QUEUES	"queues"
#define VPCI_ARG_CLIENT	"client"
#define VPCI_ARG_UUID	"uuid"
#define VPCI_ARG_ZC	"zero_copy"
#define VPCI_ARG_ZC_MIN	"zc_min_len"
#define VPCI_ARG_OWNER	"owner"
#define VPCI_ARG_GROUP	"group"
#define VPCI_ARG_MAX_CLIENTS "max_clients"

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
	uint32_t version;
	int vid;
	uint16_t i;

	vpci_ctl_lock();
	vid = internal->attached ? internal->vid : -1;
	version = internal->snap.hdr_version;
	vpci_ctl_unlock();
	/* A v2 peer learns that the channel is gone (the vhost-user
	 * extension for vhost-pci: SET_PEER_CONNECTION). With no lock held:
	 * the library's control thread detaches the port meanwhile. A vid
	 * gone stale since is refused by the library.
	 */
	if (vid >= 0 && version == 2) {
		int ret = rte_vhost_pci_dev_send_disconnect(vid);

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
	/* Stops every queue and tells the device first. */
	if (internal->pci != NULL)
		vpci_pci_close(internal);
	else
		vpci_server_remove(internal);
	/* The port let go of its device: no link change comes any more. */
	vpci_ctl_lsc_cancel(internal);
	for (i = 0; i < internal->max_queue_pairs; i++)
		vpci_zc_free(&internal->rxq[i]);
	vpci_port_fini(dev);
	return 0;
}

void
vpci_port_fini(struct rte_eth_dev *dev)
{
	rte_intr_vec_list_free(dev->intr_handle);
	rte_intr_instance_free(dev->intr_handle);
	dev->intr_handle = NULL;
	/* Queues live in dev_private; nothing for ethdev to free. */
	dev->data->rx_queues = NULL;
	dev->data->tx_queues = NULL;
	dev->data->nb_rx_queues = 0;
	dev->data->nb_tx_queues = 0;
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
	struct rte_eth_link link;

	vpci_link_fill(&link, internal->attached);
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

/* One set of counters behind stats and xstats (vpci_xstats.c). */
static int
vpci_stats_reset(struct rte_eth_dev *dev)
{
	return vpci_xstats_reset(dev);
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
	.xstats_get = vpci_xstats_get,
	.xstats_get_names = vpci_xstats_get_names,
	.xstats_reset = vpci_xstats_reset,
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

/* The canonical form, 8-4-4-4-12 hexadecimal digits. */
static int
vpci_arg_uuid(const char *key __rte_unused, const char *value, void *opaque)
{
	struct vpci_args *a = opaque;

	if (rte_uuid_parse(value, a->uuid) != 0)
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

/*
 * What every port needs, whatever its bus: queues, a MAC address, link
 * down, the ops and burst functions, RX interrupt vectors.
 */
int
vpci_port_init(struct rte_eth_dev *eth_dev, uint16_t queues)
{
	struct pmd_internal *internal = eth_dev->data->dev_private;
	struct rte_ether_addr *mac;

	mac = rte_zmalloc_socket(eth_dev->data->name, sizeof(*mac), 0,
		eth_dev->data->numa_node);
	if (mac == NULL)
		return -ENOMEM;
	rte_eth_random_addr(mac->addr_bytes);
	internal->port_id = eth_dev->data->port_id;
	internal->vid = -1;
	internal->max_queue_pairs = queues;
	vpci_init_queues(internal);
	eth_dev->data->mac_addrs = mac;
	vpci_link_fill(&eth_dev->data->dev_link, false);
	eth_dev->data->dev_flags |= RTE_ETH_DEV_INTR_LSC |
		RTE_ETH_DEV_AUTOFILL_QUEUE_XSTATS;
	eth_dev->dev_ops = &vpci_ops;
	if (vpci_intr_init(eth_dev, queues) < 0)
		return -ENOMEM;
	eth_dev->rx_pkt_burst = eth_vpci_rx;
	eth_dev->tx_pkt_burst = eth_vpci_tx;
	return 0;
}

static int
vpci_probe(struct rte_vdev_device *vdev)
{
	const char *name = rte_vdev_device_name(vdev);
	struct pmd_internal *internal;
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
	internal = eth_dev->data->dev_private;
	strlcpy(internal->path, args.path, sizeof(internal->path));
	internal->flags = args.flags;
	internal->uuid_pinned = args.uuid_pinned;
	internal->owner = args.owner;
	internal->group = args.group;
	internal->max_clients = args.max_clients;
	internal->zero_copy = args.zero_copy_set ? args.zero_copy :
		vpci_zero_copy_default(name);
	internal->zc_min_len = args.zc_min_len;
	/* Lent buffers come back in any order, and must: in lending order,
	 * one mbuf the application holds pins every buffer after it, the
	 * copies too, and the peer's TX ring runs dry after ring size - 1
	 * frames, whatever the lending cap. Out of order, it costs the peer
	 * one buffer (datapath test: 1024 frames through a 256-entry ring
	 * with one mbuf held). See the NIC guide, "Zero-copy RX".
	 */
	if (internal->zero_copy)
		internal->flags |= RTE_VHOST_PCI_F_NO_IN_ORDER;
	memcpy(internal->uuid, args.uuid, sizeof(internal->uuid));
	if (vpci_port_init(eth_dev, args.queues) < 0) {
		rte_eth_dev_release_port(eth_dev);
		return -ENOMEM;
	}

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
	int ret = 0;

	internal = vpci_internal_of(port_id);
	if (internal == NULL || peer == NULL)
		return -ENODEV;
	memset(peer, 0, sizeof(*peer));
	/* What the metadata said when the port last synced with it. */
	vpci_ctl_lock();
	if (!internal->attached) {
		ret = -ENOTCONN;
	} else {
		peer->conn_id = internal->snap.conn_id;
		peer->version = internal->snap.hdr_version;
		memcpy(peer->uuid, internal->snap.peer_uuid, 16);
		peer->has_uuid = !rte_uuid_is_null(peer->uuid);
	}
	vpci_ctl_unlock();
	return ret;
}

int
rte_pmd_vhost_pci_disconnect(uint16_t port_id)
{
	struct pmd_internal *internal;
	uint32_t version;
	int vid, ret;

	internal = vpci_internal_of(port_id);
	if (internal == NULL)
		return -ENODEV;
	vpci_ctl_lock();
	vid = internal->attached ? internal->vid : -1;
	version = internal->snap.hdr_version;
	vpci_ctl_unlock();
	if (internal->pci != NULL)
		return -ENOTSUP;	/* the host side owns the channel */
	if (vid < 0)
		return -ENOTCONN;
	if (version != 2)
		return -ENOTSUP;
	/* Not under our lock: the library waits for its control thread,
	 * whose destroy_device takes it (vpci_server.c). A vid gone stale
	 * meanwhile gets -ENODEV, never another device, and a socket the
	 * front-end broke -EIO: either way the device is gone or going.
	 */
	ret = rte_vhost_pci_dev_send_disconnect(vid);
	return ret == -ENODEV || ret == -EIO ? -ENOTCONN : ret;
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
