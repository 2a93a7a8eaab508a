/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * Telemetry of the ports (the library serves /vhost_pci/servers and
 * /vhost_pci/connections):
 *
 *   /vhost_pci/ports          the net_vhost_pci port ids
 *   /vhost_pci/port,<id>      a port's BAR layout, its regions, and per
 *                             queue the ring and the zero-copy mbufs out
 */

#include <stdio.h>
#include <stdlib.h>

#include <rte_common.h>
#include <ethdev_driver.h>
#include <rte_telemetry.h>

#include "vpci.h"

static int
tel_ports(const char *cmd __rte_unused, const char *params __rte_unused,
		struct rte_tel_data *d)
{
	uint16_t port_id;

	rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
	RTE_ETH_FOREACH_DEV(port_id)
		if (vpci_internal_of(port_id) != NULL)
			rte_tel_data_add_array_int(d, port_id);
	return 0;
}

static struct rte_tel_data *
tel_dict(void)
{
	struct rte_tel_data *e = rte_tel_data_alloc();

	if (e != NULL)
		rte_tel_data_start_dict(e);
	return e;
}

/* Add container @p e to dict @p d under @p key, or drop it. */
static void
tel_add(struct rte_tel_data *d, const char *key, struct rte_tel_data *e)
{
	if (e != NULL && rte_tel_data_add_dict_container(d, key, e, 0) != 0)
		rte_tel_data_free(e);
}

static struct rte_tel_data *
tel_regions(const struct rte_vhost_pci_map *map)
{
	struct rte_tel_data *regions = tel_dict(), *r;
	char key[16];
	uint32_t i;

	for (i = 0; regions != NULL && i < map->nregions; i++) {
		r = tel_dict();
		if (r == NULL)
			break;
		rte_tel_data_add_dict_u64(r, "gpa", map->region[i].gpa);
		rte_tel_data_add_dict_u64(r, "size", map->region[i].size);
		rte_tel_data_add_dict_u64(r, "bar_offset",
			map->region[i].host - map->bar);
		snprintf(key, sizeof(key), "%u", i);
		tel_add(regions, key, r);
	}
	return regions;
}

static struct rte_tel_data *
tel_queue(struct vpci_queue *q, bool rx)
{
	struct rte_tel_data *e = tel_dict();

	if (e == NULL)
		return NULL;
	rte_spinlock_lock(&q->lock);
	rte_tel_data_add_dict_int(e, "vring", q->vring_idx);
	rte_tel_data_add_dict_int(e, "ready", q->ready);
	rte_tel_data_add_dict_int(e, "ring_size", q->ready ? q->vr.size : 0);
	rte_tel_data_add_dict_u64(e, "packets", q->stats.pkts);
	rte_tel_data_add_dict_u64(e, "bursts_busy", q->stats.busy);
	rte_tel_data_add_dict_u64(e, "bursts_not_ready", q->stats.not_ready);
	if (!rx)
		rte_tel_data_add_dict_u64(e, "tx_no_room", q->stats.no_room);
	/* Where the ring stands: a queue that moves no packet says why. */
	if (q->ready) {
		rte_tel_data_add_dict_int(e, "last_avail_idx",
			q->vr.last_avail_idx);
		rte_tel_data_add_dict_int(e, "last_used_idx",
			q->vr.last_used_idx);
		if (!q->vr.packed) {
			rte_tel_data_add_dict_int(e, "peer_avail_idx",
				q->vr.avail->idx);
			rte_tel_data_add_dict_int(e, "peer_used_idx",
				q->vr.used->idx);
		}
	}
	if (rx) {
		rte_tel_data_add_dict_int(e, "zero_copy", q->zc_active);
		rte_tel_data_add_dict_int(e, "zc_in_flight",
			vpci_zc_inflight(q));
	}
	rte_spinlock_unlock(&q->lock);
	return e;
}

static struct rte_tel_data *
tel_queues(struct rte_eth_dev_data *data, struct pmd_internal *internal)
{
	struct rte_tel_data *queues = tel_dict();
	char key[16];
	uint16_t i;

	for (i = 0; queues != NULL && i < data->nb_rx_queues; i++) {
		snprintf(key, sizeof(key), "rxq%u", i);
		tel_add(queues, key, tel_queue(&internal->rxq[i], true));
	}
	for (i = 0; queues != NULL && i < data->nb_tx_queues; i++) {
		snprintf(key, sizeof(key), "txq%u", i);
		tel_add(queues, key, tel_queue(&internal->txq[i], false));
	}
	return queues;
}

static int
tel_port(const char *cmd __rte_unused, const char *params,
		struct rte_tel_data *d)
{
	struct pmd_internal *internal;
	struct rte_eth_dev_data *data;
	unsigned long id;
	char *end;

	if (params == NULL || *params == '\0')
		return -EINVAL;
	id = strtoul(params, &end, 10);
	if (*end != '\0' || id >= RTE_MAX_ETHPORTS)
		return -EINVAL;
	internal = vpci_internal_of(id);
	if (internal == NULL)
		return -EINVAL;
	data = rte_eth_devices[id].data;

	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "port_id", id);
	rte_tel_data_add_dict_string(d, "name", data->name);
	rte_tel_data_add_dict_string(d, "path", internal->path);
	rte_tel_data_add_dict_int(d, "zero_copy", internal->zero_copy);
	rte_tel_data_add_dict_u64(d, "zc_min_len", internal->zc_min_len);
	/* Attach and detach hold it: the device and its BAR stay. */
	vpci_ctl_lock();
	rte_tel_data_add_dict_int(d, "connected", internal->attached);
	if (internal->attached) {
		rte_tel_data_add_dict_u64(d, "conn_id", internal->snap.conn_id);
		rte_tel_data_add_dict_int(d, "version",
			internal->snap.hdr_version);
		rte_tel_data_add_dict_u64(d, "features", internal->features);
		rte_tel_data_add_dict_u64(d, "bar_size", internal->map.bar_size);
		rte_tel_data_add_dict_u64(d, "meta_size",
			RTE_VHOST_PCI_META_SIZE);
		tel_add(d, "regions", tel_regions(&internal->map));
	}
	tel_add(d, "queues", tel_queues(data, internal));
	vpci_ctl_unlock();
	return 0;
}

RTE_INIT(vpci_telemetry_init)
{
	rte_telemetry_register_cmd("/vhost_pci/ports", tel_ports,
		"The net_vhost_pci port ids. Takes no parameters");
	rte_telemetry_register_cmd("/vhost_pci/port", tel_port,
		"A net_vhost_pci port: BAR, regions, queues. Parameters: port id");
}
