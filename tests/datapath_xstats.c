/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * test_vpci_datapath: the ethdev xstats phase. Known frames go both ways
 * through the copy-mode port, and every per-queue counter must then read
 * exactly what those frames make it: the names are DPDK 22.11 net_vhost's
 * (librte_vhost's per-vring stats), rx_q<N>_... and tx_q<N>_..., plus the
 * PMD's own. The zero-copy level is checked in the zero-copy phase
 * (datapath_zc.c), where mbufs are lent.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "datapath.h"

/* Where a frame goes. */
enum xs_dst { XS_UC, XS_MC, XS_BC };

struct xs_frames {
	uint32_t len;
	enum xs_dst dst;
	unsigned int count;
};

/* Received: every size bucket, its edges, and all three destinations. */
static const struct xs_frames xs_rx[] = {
	{ 60, XS_UC, 1 },
	{ 64, XS_UC, 5 }, { 64, XS_MC, 3 }, { 64, XS_BC, 2 },
	{ 127, XS_UC, 1 },
	{ 128, XS_MC, 1 },
	{ 511, XS_UC, 1 },
	{ 1000, XS_UC, 3 }, { 1000, XS_MC, 1 }, { 1000, XS_BC, 1 },
	{ 1518, XS_BC, 1 },
	{ 1519, XS_UC, 1 },
};

/* Sent: other numbers than RX, so that a swapped direction shows. */
static const struct xs_frames xs_tx[] = {
	{ 64, XS_UC, 4 }, { 64, XS_MC, 2 }, { 64, XS_BC, 4 },
	{ 1000, XS_MC, 5 },
};

struct xs_want {
	const char *name;
	uint64_t value;
};

/* What xs_rx, and xs_tx plus one dropped TSO mbuf, make, worked out by
 * hand.
 */
static const struct xs_want xs_after[] = {
	{ "rx_q0_good_packets", 21 },
	{ "rx_q0_good_bytes", 60 + 10 * 64 + 127 + 128 + 511 + 5 * 1000 +
		1518 + 1519 },
	{ "rx_q0_multicast_packets", 5 },
	{ "rx_q0_broadcast_packets", 4 },
	{ "rx_q0_undersize_packets", 1 },
	{ "rx_q0_size_64_packets", 10 },
	{ "rx_q0_size_65_127_packets", 1 },
	{ "rx_q0_size_128_255_packets", 1 },
	{ "rx_q0_size_256_511_packets", 1 },
	{ "rx_q0_size_512_1023_packets", 5 },
	{ "rx_q0_size_1024_1518_packets", 1 },
	{ "rx_q0_size_1519_max_packets", 1 },
	{ "rx_q0_mbuf_allocation_errors", 0 },
	{ "rx_q0_zero_copy_in_flight", 0 },
	{ "tx_q0_good_packets", 15 },
	{ "tx_q0_good_bytes", 10 * 64 + 5 * 1000 },
	{ "tx_q0_multicast_packets", 7 },
	{ "tx_q0_broadcast_packets", 4 },
	{ "tx_q0_undersize_packets", 0 },
	{ "tx_q0_size_64_packets", 10 },
	{ "tx_q0_size_65_127_packets", 0 },
	{ "tx_q0_size_128_255_packets", 0 },
	{ "tx_q0_size_256_511_packets", 0 },
	{ "tx_q0_size_512_1023_packets", 5 },
	{ "tx_q0_size_1024_1518_packets", 0 },
	{ "tx_q0_size_1519_max_packets", 0 },
	{ "tx_q0_errors", 1 },
	/* ethdev's own, from rte_eth_stats_get(). */
	{ "rx_q0_packets", 21 },
	{ "tx_q0_packets", 15 },
	{ "rx_good_packets", 21 },
	{ "tx_good_packets", 15 },
	{ "tx_errors", 1 },
};

/* The PMD's xstats of a port with one RX and one TX queue. */
#define XS_PMD_NAMES	27u

static void
xs_frame(uint8_t *f, uint32_t len, enum xs_dst dst, uint8_t seed)
{
	static const uint8_t mc[RTE_ETHER_ADDR_LEN] = {
		0x01, 0x00, 0x5e, 0x00, 0x00, 0x01,
	};

	make_frame(f, len, seed);
	if (dst == XS_MC)
		memcpy(f, mc, sizeof(mc));
	else if (dst == XS_BC)
		memset(f, 0xff, RTE_ETHER_ADDR_LEN);
}

/* Every xstat of @port: names and values, and how many. */
struct xs_all {
	int n;
	struct rte_eth_xstat_name names[256];
	struct rte_eth_xstat vals[256];
};

static int
xs_read(uint16_t port, struct xs_all *x)
{
	int n = rte_eth_xstats_get_names(port, NULL, 0);

	EXPECTR(n > 0 && n <= (int)RTE_DIM(x->names),
		"rte_eth_xstats_get_names(NULL) gave %d", n);
	EXPECTR(rte_eth_xstats_get_names(port, x->names, n) == n,
		"rte_eth_xstats_get_names gave another count than %d", n);
	EXPECTR(rte_eth_xstats_get(port, x->vals, n) == n,
		"rte_eth_xstats_get gave another count than %d", n);
	x->n = n;
	return 0;
}

/* The value of xstat @name in @x, which must be there exactly once. */
static int
xs_find(const struct xs_all *x, const char *name, uint64_t *value)
{
	int i, seen = 0;

	for (i = 0; i < x->n; i++) {
		if (strcmp(x->names[i].name, name) != 0)
			continue;
		EXPECTR(x->vals[i].id == (uint64_t)i,
			"%s: id %" PRIu64 " at index %d", name, x->vals[i].id,
			i);
		*value = x->vals[i].value;
		seen++;
	}
	EXPECTR(seen == 1, "xstat %s is there %d times, want once", name,
		seen);
	return 0;
}

int
xstat_value(uint16_t port, const char *name, uint64_t *value)
{
	static struct xs_all x;

	TRYR(xs_read(port, &x));
	return xs_find(&x, name, value);
}

static int
t_xs_connect(struct dp *d)
{
	return peer_connect(d, 0);
}

static int
t_xs_names(struct dp *d)
{
	static struct xs_all x;
	unsigned int i;
	uint64_t v;
	int pmd = 0;

	TRYR(xs_read(d->port, &x));
	for (i = 0; i < RTE_DIM(xs_after); i++)
		TRYR(xs_find(&x, xs_after[i].name, &v));
	/* The PMD's follow ethdev's and are its queue stats only. */
	for (i = 0; i < (unsigned int)x.n; i++)
		pmd += strncmp(x.names[i].name, "rx_q0_", 6) == 0 ||
			strncmp(x.names[i].name, "tx_q0_", 6) == 0;
	/* ethdev's rx_q0_packets/bytes/errors, tx_q0_packets/bytes. */
	EXPECTR(pmd == XS_PMD_NAMES + 5,
		"%d per-queue xstats, want %u of the PMD and 5 of ethdev", pmd,
		XS_PMD_NAMES);
	return 0;
}

/* A TSO mbuf the plain front-end did not ack: tx_burst takes and drops
 * it.
 */
static int
xs_tx_dropped(struct dp *d)
{
	struct rte_mbuf *m;

	make_frame(frame_a, 200, 90);
	m = frame_mbuf(d, frame_a, 200);
	EXPECTR(m != NULL, "no mbuf");
	m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 |
		RTE_MBUF_F_TX_TCP_CKSUM;
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = 20;
	m->l4_len = 20;
	m->tso_segsz = 100;
	if (rte_eth_tx_burst(d->port, 0, &m, 1) != 1) {
		rte_pktmbuf_free(m);
		return FAIL("tx_burst did not take the TSO mbuf");
	}
	return 0;
}

static int
xs_traffic(struct dp *d)
{
	unsigned int i, k, seed = 0;
	uint16_t head;

	for (i = 0; i < RTE_DIM(xs_rx); i++) {
		for (k = 0; k < xs_rx[i].count; k++) {
			xs_frame(frame_a, xs_rx[i].len, xs_rx[i].dst, seed++);
			head = fp_post_tx(&d->peer, frame_a, xs_rx[i].len);
			TRYR(expect_rx(d, frame_a, xs_rx[i].len, NULL));
			TRYR(expect_used(d, FP_TXQ, head, 0));
		}
	}
	/* The dropped mbuf leaves its buffer for the first frame. */
	head = fp_post_rx(&d->peer, FP_BUF_SIZE, 0);
	TRYR(xs_tx_dropped(d));
	for (i = 0; i < RTE_DIM(xs_tx); i++) {
		for (k = 0; k < xs_tx[i].count; k++) {
			if (i + k != 0)
				head = fp_post_rx(&d->peer, FP_BUF_SIZE, 0);
			xs_frame(frame_a, xs_tx[i].len, xs_tx[i].dst, seed++);
			TRYR(tx_frame(d, frame_a, xs_tx[i].len));
			TRYR(expect_used(d, FP_RXQ, head,
				FP_NET_HDR_LEN + xs_tx[i].len));
			TRYR(expect_rx_buffer(d, head, 1, frame_a,
				xs_tx[i].len, 0));
		}
	}
	return 0;
}

static int
t_xs_count(struct dp *d)
{
	static struct xs_all x;
	uint64_t id, v;
	unsigned int i;

	EXPECTR(rte_eth_xstats_reset(d->port) == 0,
		"rte_eth_xstats_reset failed");
	TRYR(xs_traffic(d));
	TRYR(xs_read(d->port, &x));
	for (i = 0; i < RTE_DIM(xs_after); i++) {
		TRYR(xs_find(&x, xs_after[i].name, &v));
		EXPECTR(v == xs_after[i].value, "%s is %" PRIu64 ", want %"
			PRIu64, xs_after[i].name, v, xs_after[i].value);
	}
	/* By id, through ethdev's lookup, the same. */
	EXPECTR(rte_eth_xstats_get_id_by_name(d->port,
		"rx_q0_size_64_packets", &id) == 0, "no id for a name");
	EXPECTR(rte_eth_xstats_get_by_id(d->port, &id, &v, 1) == 1 &&
		v == 10, "rx_q0_size_64_packets by id: %" PRIu64 ", want 10",
		v);
	return 0;
}

static int
t_xs_reset(struct dp *d)
{
	static struct xs_all x;
	struct rte_eth_stats s;
	unsigned int i;
	uint64_t v;

	EXPECTR(rte_eth_xstats_reset(d->port) == 0,
		"rte_eth_xstats_reset failed");
	TRYR(xs_read(d->port, &x));
	for (i = 0; i < RTE_DIM(xs_after); i++) {
		TRYR(xs_find(&x, xs_after[i].name, &v));
		EXPECTR(v == 0, "%s is %" PRIu64 " after the reset",
			xs_after[i].name, v);
	}
	TRYR(get_stats(d, &s));
	EXPECTR(s.ipackets == 0 && s.opackets == 0 && s.oerrors == 0,
		"rte_eth_stats after the xstats reset: ipackets %" PRIu64
		" opackets %" PRIu64 " oerrors %" PRIu64, s.ipackets,
		s.opackets, s.oerrors);
	/* Counting goes on from zero. */
	make_frame(frame_a, 64, 91);
	fp_post_tx(&d->peer, frame_a, 64);
	TRYR(expect_rx(d, frame_a, 64, NULL));
	TRYR(xstat_value(d->port, "rx_q0_size_64_packets", &v));
	EXPECTR(v == 1, "rx_q0_size_64_packets %" PRIu64
		" after one 64-byte frame, want 1", v);
	return 0;
}

const struct dp_check phase_xstats[] = {
	{ "xstats: link comes up with a plain front-end", t_xs_connect },
	{ "xstats: each queue has net_vhost's names (rx_q0_good_packets ... tx_q0_size_1519_max_packets), rx_q0_mbuf_allocation_errors, rx_q0_zero_copy_in_flight and tx_q0_errors, each once, and no other per-queue PMD xstat",
		t_xs_names },
	{ "xstats: after 21 frames received and 15 sent (+1 TSO mbuf dropped) of known sizes and destinations, every rx_q0_*/tx_q0_* counter has its exact value (bytes, size buckets at their edges, multicast, broadcast, errors); by id the same",
		t_xs_count },
	{ "xstats: rte_eth_xstats_reset zeroes every per-queue counter and the basic stats; counting then starts again from zero",
		t_xs_reset },
};

const size_t phase_xstats_len = RTE_DIM(phase_xstats);
