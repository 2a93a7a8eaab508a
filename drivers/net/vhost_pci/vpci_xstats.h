/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

#ifndef VPCI_XSTATS_H
#define VPCI_XSTATS_H

/*
 * What a burst counts per packet for the xstats (vpci_xstats.c): a size
 * bucket, and multicast or broadcast. The burst holds the queue lock and
 * its lcore is the only writer but for a reset: plain increments.
 */

#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "vpci.h"

static __rte_always_inline unsigned int
vpci_size_bin(uint32_t len)
{
	if (len <= 64)
		return len == 64;	/* undersize: 0; 64: 1 */
	if (len < 1024)
		return rte_fls_u32(len) - 5;	/* 65-127: 2 ... 512-1023: 5 */
	return len < 1519 ? 6 : 7;
}

/* @m went through the burst (received, or sent). */
static __rte_always_inline void
vpci_stats_pkt(struct vpci_stats *s, const struct rte_mbuf *m)
{
	static const uint8_t bcast[RTE_ETHER_ADDR_LEN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	/* Bytes, not struct rte_ether_addr (2-byte aligned): a lent peer
	 * buffer may start at any address (found by fuzz_ring under UBSan).
	 */
	const uint8_t *dst = rte_pktmbuf_mtod(m, const uint8_t *);

	s->size_bins[vpci_size_bin(m->pkt_len)]++;
	/* A first segment shorter than an address (a lent piece of a peer
	 * buffer, say) may end where the peer's memory does: not read.
	 */
	if (unlikely(m->data_len >= RTE_ETHER_ADDR_LEN &&
			(dst[0] & RTE_ETHER_GROUP_ADDR))) {
		if (memcmp(dst, bcast, RTE_ETHER_ADDR_LEN) == 0)
			s->broadcast++;
		else
			s->multicast++;
	}
}

#endif /* VPCI_XSTATS_H */
