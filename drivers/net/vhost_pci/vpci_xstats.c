/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * ethdev extended statistics, per queue. The names are those DPDK 22.11's
 * net_vhost gives its queues (librte_vhost's per-vring stats):
 * "rx_q<N>_good_packets" ... "tx_q<N>_size_1519_max_packets". Then ours:
 * rx_q<N>_mbuf_allocation_errors, rx_q<N>_zero_copy_in_flight (mbufs lent
 * and not yet returned by an RX burst: a level, not a counter) and
 * tx_q<N>_errors (packets dropped). ethdev adds rx_q<N>_packets, _bytes,
 * _errors and tx_q<N>_packets, _bytes itself
 * (RTE_ETH_DEV_AUTOFILL_QUEUE_XSTATS): no name here repeats one of those.
 *
 * The counters are those of rte_eth_stats_get(): a reset of either kind
 * zeroes all of them.
 */

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <ethdev_driver.h>
#include <rte_common.h>
#include <rte_spinlock.h>

#include "vpci.h"

struct vpci_xstat {
	const char *name;
	size_t off;		/* in struct vpci_stats */
};

#define VPCI_XSTAT(name, field) { name, offsetof(struct vpci_stats, field) }

/* Both directions. */
static const struct vpci_xstat vpci_xstats_queue[] = {
	VPCI_XSTAT("good_packets", pkts),
	VPCI_XSTAT("good_bytes", bytes),
	VPCI_XSTAT("multicast_packets", multicast),
	VPCI_XSTAT("broadcast_packets", broadcast),
	VPCI_XSTAT("undersize_packets", size_bins[0]),
	VPCI_XSTAT("size_64_packets", size_bins[1]),
	VPCI_XSTAT("size_65_127_packets", size_bins[2]),
	VPCI_XSTAT("size_128_255_packets", size_bins[3]),
	VPCI_XSTAT("size_256_511_packets", size_bins[4]),
	VPCI_XSTAT("size_512_1023_packets", size_bins[5]),
	VPCI_XSTAT("size_1024_1518_packets", size_bins[6]),
	VPCI_XSTAT("size_1519_max_packets", size_bins[7]),
};

/* RX only; zero_copy_in_flight follows them. */
static const struct vpci_xstat vpci_xstats_rx[] = {
	VPCI_XSTAT("mbuf_allocation_errors", nombuf),
};
#define VPCI_XSTAT_ZC		"zero_copy_in_flight"

static const struct vpci_xstat vpci_xstats_tx[] = {
	VPCI_XSTAT("errors", errors),
};

#define VPCI_RX_XSTATS	(RTE_DIM(vpci_xstats_queue) + \
			 RTE_DIM(vpci_xstats_rx) + 1)
#define VPCI_TX_XSTATS	(RTE_DIM(vpci_xstats_queue) + \
			 RTE_DIM(vpci_xstats_tx))

static unsigned int
vpci_xstats_count(const struct rte_eth_dev *dev)
{
	return dev->data->nb_rx_queues * VPCI_RX_XSTATS +
		dev->data->nb_tx_queues * VPCI_TX_XSTATS;
}

/* Entry @k: its name into @names, its value into @vals, either NULL. */
static void
vpci_xstat_put(struct rte_eth_xstat_name *names, struct rte_eth_xstat *vals,
		unsigned int k, bool rx, uint16_t qid, const char *name,
		uint64_t value)
{
	if (names != NULL)
		snprintf(names[k].name, sizeof(names[k].name), "%s_q%u_%s",
			rx ? "rx" : "tx", qid, name);
	if (vals != NULL) {
		vals[k].id = k;
		vals[k].value = value;
	}
}

/* The counters of table @t for queue @q, from entry @k; the next entry. */
static unsigned int
vpci_xstats_table(struct rte_eth_xstat_name *names, struct rte_eth_xstat *vals,
		unsigned int k, const struct vpci_queue *q, bool rx,
		const struct vpci_xstat *t, unsigned int n)
{
	const uint8_t *stats = (const uint8_t *)&q->stats;
	unsigned int i;

	for (i = 0; i < n; i++, k++)
		vpci_xstat_put(names, vals, k, rx, q->qid, t[i].name,
			*(const uint64_t *)(stats + t[i].off));
	return k;
}

static uint32_t
vpci_xstats_zc(struct vpci_queue *q)
{
	uint32_t n;

	/* The control thread sets q->zc up under the lock. */
	rte_spinlock_lock(&q->lock);
	n = vpci_zc_inflight(q);
	rte_spinlock_unlock(&q->lock);
	return n;
}

/* Every entry, in order, into @names or @vals (either NULL). */
static void
vpci_xstats_fill(struct rte_eth_dev *dev, struct rte_eth_xstat_name *names,
		struct rte_eth_xstat *vals)
{
	struct pmd_internal *internal = dev->data->dev_private;
	unsigned int k = 0;
	uint16_t i;

	for (i = 0; i < dev->data->nb_rx_queues; i++) {
		struct vpci_queue *q = &internal->rxq[i];

		k = vpci_xstats_table(names, vals, k, q, true,
			vpci_xstats_queue, RTE_DIM(vpci_xstats_queue));
		k = vpci_xstats_table(names, vals, k, q, true,
			vpci_xstats_rx, RTE_DIM(vpci_xstats_rx));
		vpci_xstat_put(names, vals, k++, true, q->qid, VPCI_XSTAT_ZC,
			vals != NULL ? vpci_xstats_zc(q) : 0);
	}
	for (i = 0; i < dev->data->nb_tx_queues; i++) {
		struct vpci_queue *q = &internal->txq[i];

		k = vpci_xstats_table(names, vals, k, q, false,
			vpci_xstats_queue, RTE_DIM(vpci_xstats_queue));
		k = vpci_xstats_table(names, vals, k, q, false,
			vpci_xstats_tx, RTE_DIM(vpci_xstats_tx));
	}
}

int
vpci_xstats_get_names(struct rte_eth_dev *dev,
		struct rte_eth_xstat_name *names, unsigned int size)
{
	unsigned int n = vpci_xstats_count(dev);

	if (names != NULL && size >= n)
		vpci_xstats_fill(dev, names, NULL);
	return n;
}

int
vpci_xstats_get(struct rte_eth_dev *dev, struct rte_eth_xstat *xstats,
		unsigned int n)
{
	unsigned int count = vpci_xstats_count(dev);

	if (xstats != NULL && n >= count)
		vpci_xstats_fill(dev, NULL, xstats);
	return count;
}

int
vpci_xstats_reset(struct rte_eth_dev *dev)
{
	struct pmd_internal *internal = dev->data->dev_private;
	uint16_t i;

	/* What rte_eth_stats_reset() zeroes too: one set of counters. */
	for (i = 0; i < internal->max_queue_pairs; i++) {
		memset(&internal->rxq[i].stats, 0, sizeof(struct vpci_stats));
		memset(&internal->txq[i].stats, 0, sizeof(struct vpci_stats));
	}
	return 0;
}
