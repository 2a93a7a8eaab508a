/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * test_vpci_datapath: the hostile-peer checklist, classes 9 (packed),
 * 10 (net-header), 11 (runt-rx), 12 (flood), and the checks of classes
 * 4, 9 and 12 that need the zero-copy port. The phase table and the
 * helpers are in datapath_checklist.c.
 */

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "datapath_checklist.h"

/* ---- class 9: packed ---- */

/* A zero header and @len bytes of @f in the next packed TX slot's
 * buffer, added as one descriptor with @id (not published). Returns its
 * position.
 */
static uint16_t
pk_stage(struct fake_peer *p, const uint8_t *f, uint32_t len, uint16_t id)
{
	uint16_t pos = fp_packed_avail_pos(p, FP_TXQ);
	uint16_t s = FP_POS_SLOT(pos);
	uint8_t *b = fp_buf(p, FP_TXQ, s);

	memset(b, 0, HDR);
	memcpy(b + HDR, f, len);
	fp_packed_add(p, FP_TXQ, fp_buf_gpa(p, FP_TXQ, s), HDR + len, id, 0);
	return pos;
}

int
t_c9_dup_ids(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	struct rte_mbuf *pkts[BURST];
	uint16_t pos, n;
	int rc = 0;

	TRYR(peer_connect(d, FP_F_RING_PACKED));
	make_frame(frame_a, 100, 168);
	make_frame(frame_b, 200, 169);
	pos = pk_stage(p, frame_a, 100, 7);
	fp_packed_publish(p, FP_TXQ);
	pk_stage(p, frame_b, 200, 7);
	fp_packed_publish(p, FP_TXQ);
	n = rte_eth_rx_burst(d->port, 0, pkts, BURST);
	if (n != 2)
		rc = FAIL("rx_burst returned %u packets, want 2", n);
	else if (mbuf_is(pkts[0], frame_a, 100) < 0 ||
			mbuf_is(pkts[1], frame_b, 200) < 0)
		rc = -1;
	free_all(pkts, n);
	TRYR(rc);
	TRYR(expect_pused(d, FP_TXQ, pos, 7, 0, NULL));
	TRYR(expect_pused(d, FP_TXQ, fp_pos_add(p, pos, 1), 7, 0, NULL));
	return pk_rx_good(d, 80, 170, fp_pos_add(p, pos, 2));
}

/* The slot at @pos with a frame and raw @flags: not taken, not written
 * (some of these flags read as used to the peer: the slot is compared).
 */
static int
pk_not_taken(struct dp *d, uint16_t pos, uint16_t flags)
{
	struct fake_peer *p = &d->peer;
	uint16_t s = FP_POS_SLOT(pos);
	volatile struct vring_packed_desc *desc = &p->ring[FP_TXQ].pdesc[s];
	uint64_t e0 = ierrors(d);

	fp_packed_set_desc(p, FP_TXQ, s, fp_buf_gpa(p, FP_TXQ, s), HDR + 64,
		s, flags);
	TRYR(expect_no_rx(d, "from a descriptor not available"));
	EXPECTR(desc->addr == fp_buf_gpa(p, FP_TXQ, s) &&
		desc->len == HDR + 64 && desc->id == s && desc->flags == flags,
		"flags 0x%04x: the slot was written (id %u len %u flags 0x%04x)",
		flags, desc->id, desc->len, desc->flags);
	EXPECTR(ierrors(d) == e0, "flags 0x%04x: ierrors +%" PRIu64 ", want 0",
		flags, ierrors(d) - e0);
	return 0;
}

/* The next descriptor, in a lap of wrap counter @want, with bad flags. */
static int
pk_flags(struct dp *d, uint16_t want)
{
	struct fake_peer *p = &d->peer;
	const uint16_t a = VHOST_PCI_PDESC_F_AVAIL, u = VHOST_PCI_PDESC_F_USED;
	uint16_t pos = fp_packed_avail_pos(p, FP_TXQ), s = FP_POS_SLOT(pos);
	bool w = FP_POS_WRAP_BIT(pos);
	uint8_t *b = fp_buf(p, FP_TXQ, s);

	EXPECTR((pos & FP_POS_WRAP) == want, "slot %u in lap %u, want %u", s,
		w, !!want);
	make_frame(frame_a, 64, 171);
	memset(b, 0, HDR);
	memcpy(b + HDR, frame_a, 64);
	/* Used in this lap; available in the other lap (the wrong wrap
	 * counter); both bits of this lap and NEXT.
	 */
	TRYR(pk_not_taken(d, pos, w ? a | u : 0));
	TRYR(pk_not_taken(d, pos, w ? u : a));
	TRYR(pk_not_taken(d, pos, (w ? a | u : 0) | VRING_DESC_F_NEXT));
	/* Made available properly: taken at that very slot. */
	fp_packed_add(p, FP_TXQ, fp_buf_gpa(p, FP_TXQ, s), HDR + 64, s, 0);
	fp_packed_publish(p, FP_TXQ);
	TRYR(expect_rx(d, frame_a, 64, NULL));
	TRYR(expect_pused(d, FP_TXQ, pos, s, 0, NULL));
	return pk_rx_good(d, 70, 172, fp_pos_add(p, pos, 1));
}

int
t_c9_flags(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	unsigned int i;

	TRYR(peer_connect(d, FP_F_RING_PACKED));
	TRYR(pk_flags(d, FP_POS_WRAP));
	/* Into the second lap, where the wrap counter is 0. */
	for (i = 0; i < RING_SIZE; i++)
		TRYR(pk_rx_good(d, 60, (uint8_t)i,
			fp_packed_avail_pos(p, FP_TXQ)));
	return pk_flags(d, 0);
}

/*
 * A thread that rewrites a published descriptor's addr and len, each
 * between a good and a bad value, while rx_burst reads it. The flags
 * stay; so does the id, which the device echoes in the used descriptor.
 */
struct racer {
	volatile struct vring_packed_desc *desc;
	uint64_t addr[2];
	uint32_t len[2];
	int run;		/* 1: rewrite, 0: hold, -1: leave */
	unsigned int hold;	/* bumped by each hold request */
	unsigned int acked;	/* the last hold the thread saw */
	unsigned int flips;	/* rewrites so far */
};

static void *
racer_main(void *arg)
{
	struct racer *r = arg;
	unsigned int i = 0;
	int run;

	while ((run = __atomic_load_n(&r->run, __ATOMIC_ACQUIRE)) >= 0) {
		if (run == 0) {
			__atomic_store_n(&r->acked, __atomic_load_n(&r->hold,
				__ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
			sched_yield();
			continue;
		}
		r->desc->addr = r->addr[i & 1];
		r->desc->len = r->len[(i >> 1) & 1];
		__atomic_store_n(&r->flips, ++i, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* Stop the rewriting; return once the thread has. */
static void
racer_hold(struct racer *r)
{
	unsigned int h = r->hold + 1;

	__atomic_store_n(&r->run, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&r->hold, h, __ATOMIC_RELEASE);
	while (__atomic_load_n(&r->acked, __ATOMIC_ACQUIRE) != h)
		sched_yield();
}

#define RACE_N		(2 * RING_SIZE)

/* One racy descriptor: *ok if received, else refused; checked. */
static int
race_one(struct dp *d, struct racer *r, unsigned int i, bool *ok)
{
	struct fake_peer *p = &d->peer;
	struct rte_mbuf *pkts[BURST];
	uint16_t pos, s, n;
	struct fp_pused u;
	uint64_t e0 = ierrors(d);
	unsigned int f0;
	int rc = 0;

	make_frame(frame_a, 64, (uint8_t)i);
	pos = pk_stage(p, frame_a, 64, FP_POS_SLOT(fp_packed_avail_pos(p,
		FP_TXQ)));
	s = FP_POS_SLOT(pos);
	r->desc = &p->ring[FP_TXQ].pdesc[s];
	r->addr[0] = p->base - 0x10000;
	r->addr[1] = fp_buf_gpa(p, FP_TXQ, s);
	r->len[0] = UINT32_MAX;
	r->len[1] = HDR + 64;
	f0 = __atomic_load_n(&r->flips, __ATOMIC_ACQUIRE);
	__atomic_store_n(&r->run, 1, __ATOMIC_RELEASE);
	/* The fields are changing when the flags make them available. */
	while (__atomic_load_n(&r->flips, __ATOMIC_ACQUIRE) - f0 < 4)
		sched_yield();
	fp_packed_publish(p, FP_TXQ);
	n = rte_eth_rx_burst(d->port, 0, pkts, BURST);
	racer_hold(r);
	*ok = n == 1;
	if (n > 1)
		rc = FAIL("rx_burst returned %u packets, want 0 or 1", n);
	else if (n == 1)
		rc = mbuf_is(pkts[0], frame_a, 64);
	free_all(pkts, n);
	TRYR(rc);
	EXPECTR(ierrors(d) == e0 + !*ok, "%s: ierrors +%" PRIu64,
		*ok ? "received" : "refused", ierrors(d) - e0);
	/* The used len may be the thread's: only id and place count. */
	EXPECTR(fp_packed_used_next(p, FP_TXQ, &u) && u.pos == pos &&
		u.id == s, "no used descriptor id %u at slot %u (found id %u at %u, flags 0x%04x)",
		s, s, u.id, FP_POS_SLOT(u.pos), u.flags);
	return 0;
}

int
t_c9_race(struct dp *d)
{
	struct racer r = { .run = 0 };
	unsigned int i, got = 0, refused = 0;
	pthread_t t;
	bool ok;
	int rc = 0;

	TRYR(peer_connect(d, FP_F_RING_PACKED));
	r.desc = &d->peer.ring[FP_TXQ].pdesc[0];
	EXPECTR(pthread_create(&t, NULL, racer_main, &r) == 0,
		"pthread_create failed");
	for (i = 0; i < RACE_N && rc == 0; i++) {
		rc = race_one(d, &r, i, &ok);
		got += ok;
		refused += !ok;
	}
	__atomic_store_n(&r.run, -1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	if (rc < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s", fail_reason());
		return FAIL("descriptor %u (%u received, %u refused): %s", i - 1,
			got, refused, why);
	}
	EXPECTR(got + refused == RACE_N, "%u + %u of %u", got, refused,
		RACE_N);
	return pk_rx_good(d, 70, 173, fp_packed_avail_pos(&d->peer, FP_TXQ));
}

/* A full ring's worth of available descriptors on both rings of a
 * front-end whose vring base slot is past the ring.
 */
static void
all_available(struct fake_peer *p)
{
	uint16_t s;

	for (s = 0; s < RING_SIZE; s++) {
		memset(fp_buf(p, FP_TXQ, s), 0, HDR);
		make_frame(fp_buf(p, FP_TXQ, s) + HDR, 64, (uint8_t)s);
		fp_packed_set_desc(p, FP_TXQ, s, fp_buf_gpa(p, FP_TXQ, s),
			HDR + 64, s, VHOST_PCI_PDESC_F_AVAIL);
		memset(fp_buf(p, FP_RXQ, s), 0x65, FP_BUF_SIZE);
		fp_packed_set_desc(p, FP_RXQ, s, fp_buf_gpa(p, FP_RXQ, s),
			FP_BUF_SIZE, s, VHOST_PCI_PDESC_F_AVAIL | VRING_DESC_F_WRITE);
	}
}

/* Both rings' areas, as fake_peer.c lays them out. */
#define RING_AREA	(FP_NRINGS * 0x10000u)

int
t_c9_base(struct dp *d)
{
	static uint8_t before[RING_AREA];
	struct fake_peer *p = &d->peer;
	struct rte_mbuf *pkts[BURST], *m;
	struct rte_eth_link l;
	uint16_t n, s;
	long off;
	int rc;

	/* The library does not publish such a ring: the handshake goes
	 * through (SET_STATUS acked), the device is never attached.
	 */
	p->packed_base = (RING_SIZE + 44) | FP_POS_WRAP;
	rc = fp_connect(p, d->sock, FP_F_RING_PACKED);
	p->packed_base = FP_POS_WRAP;
	EXPECTR(rc == 0, "handshake: %s", p->err);
	EXPECTR(rte_eth_link_get_nowait(d->port, &l) == 0 &&
		l.link_status == RTE_ETH_LINK_DOWN,
		"link up with a ring based past its end");
	all_available(p);
	memcpy(before, p->mem, RING_AREA);
	n = rte_eth_rx_burst(d->port, 0, pkts, BURST);
	free_all(pkts, n);
	EXPECTR(n == 0, "%u packets from a ring based past its end", n);
	make_frame(frame_a, 64, 174);
	m = frame_mbuf(d, frame_a, 64);
	EXPECTR(m != NULL, "no mbuf");
	n = rte_eth_tx_burst(d->port, 0, &m, 1);
	if (n == 0)
		rte_pktmbuf_free(m);
	EXPECTR(n == 0, "tx_burst took a frame into a ring based past its end");
	off = first_diff(p->mem, before, RING_AREA);
	EXPECTR(off < 0, "ring memory byte 0x%lx changed (ring %ld slot %ld)",
		off, off / 0x10000, (off % 0x10000) / 16);
	for (s = 0; s < RING_SIZE; s++)
		if (untouched(fp_buf(p, FP_RXQ, s), 0x65, FP_BUF_SIZE,
				"RX buffer") < 0)
			return -1;
	TRYR(peer_connect(d, FP_F_RING_PACKED));
	return pk_rx_good(d, 70, 175, 0 | FP_POS_WRAP);
}

/* ---- class 10: net-header ---- */

int
t_c10_hdr_len(struct dp *d)
{
	static const uint16_t hl[] = { 0xffff, 81, 0 };
	uint8_t hdr[HDR];
	struct rte_mbuf *m;
	unsigned int i, n;
	uint64_t e0, fl;
	uint16_t s, segsz;
	int rc;

	TRYR(peer_connect(d, F_CSUM | F_HOST_TSO4));
	make_frame(frame_a, 80, 176);
	for (i = 0; i < RTE_DIM(hl); i++) {
		e0 = ierrors(d);
		put_hdr(hdr, VIRTIO_NET_HDR_F_NEEDS_CSUM,
			VIRTIO_NET_HDR_GSO_TCPV4, hl[i], 40, 34, 16, 1);
		s = post_pieces(d, hdr, HDR, frame_a, 80, 80, &n);
		fp_publish(&d->peer, FP_TXQ, s);
		TRYR(rx_single(d, &m));
		fl = m->ol_flags;
		segsz = m->tso_segsz;
		rc = mbuf_is(m, frame_a, 80);
		rte_pktmbuf_free(m);
		TRYR(rc);
		EXPECTR((fl & RTE_MBUF_F_RX_LRO) && segsz == 40 &&
			ierrors(d) == e0,
			"hdr_len %u: ol_flags 0x%" PRIx64 " tso_segsz %u, ierrors +%"
			PRIu64 "; want RX_LRO, 40, +0", hl[i], fl, segsz,
			ierrors(d) - e0);
		TRYR(expect_used(d, FP_TXQ, s, 0));
	}
	return 0;
}

static int
nbufs_ignored(struct dp *d)
{
	static const uint16_t nb[] = { 0, 7, 0xffff };
	uint8_t hdr[HDR];
	unsigned int i, n;
	uint64_t e0 = ierrors(d);
	uint16_t s;

	for (i = 0; i < RTE_DIM(nb); i++) {
		make_frame(frame_a, 300, 177 + i);
		put_hdr(hdr, 0, 0, 0, 0, 0, 0, nb[i]);
		s = post_pieces(d, hdr, HDR, frame_a, 300, 300, &n);
		fp_publish(&d->peer, FP_TXQ, s);
		TRYR(expect_rx(d, frame_a, 300, NULL));
		TRYR(expect_used(d, FP_TXQ, s, 0));
	}
	EXPECTR(ierrors(d) == e0, "ierrors +%" PRIu64, ierrors(d) - e0);
	return 0;
}

int
t_c10_nbufs_rx(struct dp *d)
{
	TRYR(peer_connect(d, 0));
	TRYR(nbufs_ignored(d));
	TRYR(peer_connect(d, FP_F_MRG_RXBUF));
	return nbufs_ignored(d);
}

int
t_c10_nbufs_tx(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	const uint32_t len = 2500, b2 = HDR + len - 2048;
	uint16_t h[3];
	const uint8_t *b[3];
	int i;

	TRYR(peer_connect(d, FP_F_MRG_RXBUF));
	for (i = 0; i < 3; i++) {
		h[i] = fp_post_rx(p, 1024, 0xff);
		b[i] = fp_buf(p, FP_RXQ, h[i]);
	}
	make_frame(frame_a, len, 180);
	TRYR(tx_long(d, frame_a, len));
	TRYR(expect_used(d, FP_RXQ, h[0], 1024));
	TRYR(expect_used(d, FP_RXQ, h[1], 1024));
	TRYR(expect_used(d, FP_RXQ, h[2], b2));
	EXPECTR(first_diff(b[0], (const uint8_t [10]){ 0 }, 10) < 0 &&
		b[0][10] == 3 && b[0][11] == 0,
		"header over the 0xff fill: flags 0x%02x gso 0x%02x, num_buffers %u; want 0s and 3",
		b[0][0], b[0][1], b[0][10] | b[0][11] << 8);
	memcpy(scratch, b[0] + HDR, 1024 - HDR);
	memcpy(scratch + 1024 - HDR, b[1], 1024);
	memcpy(scratch + 2048 - HDR, b[2], b2);
	EXPECTR(first_diff(scratch, frame_a, len) < 0,
		"frame bytes differ across the 3 buffers (no header in 2 and 3)");
	return untouched(b[2] + b2, 0xff, FP_BUF_SIZE - b2, "third buffer");
}

/* ---- class 11: runt-rx ---- */

/*
 * A 4-byte peer RX buffer first, a good one after it: a frame must not
 * be written into the runt. The runt is returned with used.len 0 and the
 * frame dropped and counted (oerrors +1); the next frame lands in the
 * good buffer.
 */
static int
runt(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	struct rte_eth_stats before, after;
	uint16_t r, good, n;
	struct rte_mbuf *m;

	TRYR(get_stats(d, &before));
	r = fp_post_rx(p, 4, 0x5c);
	good = fp_post_rx(p, FP_BUF_SIZE, 0x5d);
	make_frame(frame_a, 60, 181);
	m = frame_mbuf(d, frame_a, 60);
	EXPECTR(m != NULL, "no mbuf");
	n = rte_eth_tx_burst(d->port, 0, &m, 1);
	if (n == 0)
		rte_pktmbuf_free(m);
	TRYR(get_stats(d, &after));
	TRYR(untouched(fp_buf(p, FP_RXQ, r), 0x5c, FP_BUF_SIZE, "runt buffer"));
	EXPECTR(n == 1, "tx_burst took %u frames, want 1 (dropped): the runt blocks the ring (used->idx %u, %u before)",
		n, fp_used_idx(p, FP_RXQ), p->ring[FP_RXQ].used_idx);
	TRYR(expect_used(d, FP_RXQ, r, 0));
	EXPECTR(after.oerrors == before.oerrors + 1 &&
		after.opackets == before.opackets,
		"oerrors +%" PRIu64 " opackets +%" PRIu64 ", want +1 and +0",
		after.oerrors - before.oerrors,
		after.opackets - before.opackets);
	EXPECTR(fp_used_idx(p, FP_RXQ) == p->ring[FP_RXQ].used_idx,
		"the good buffer was used for the dropped frame");
	TRYR(untouched(fp_buf(p, FP_RXQ, good), 0x5d, FP_BUF_SIZE,
		"good buffer"));
	make_frame(frame_b, 70, 182);
	TRYR(tx_frame(d, frame_b, 70));
	TRYR(expect_used(d, FP_RXQ, good, HDR + 70));
	return expect_rx_buffer(d, good, 1, frame_b, 70, 0x5d);
}

int
t_c11_runt(struct dp *d)
{
	TRYR(peer_connect(d, 0));
	return runt(d);
}

int
t_c11_runt_mrg(struct dp *d)
{
	TRYR(peer_connect(d, FP_F_MRG_RXBUF));
	return runt(d);
}

/* ---- class 12: flood ---- */

/* Every descriptor of the TX ring posted at once (avail->idx + ring size,
 * the largest step allowed): frame i of 60 + i bytes, or with @bad a
 * header-only chain. Returns the avail index of the first.
 */
static uint16_t
flood(struct fake_peer *p, bool bad)
{
	struct fp_ring *tx = &p->ring[FP_TXQ];
	uint16_t a0 = tx->avail_idx, i, s;
	uint8_t *b;

	for (i = 0; i < RING_SIZE; i++) {
		s = (a0 + i) & MASK;
		b = fp_buf(p, FP_TXQ, s);
		memset(b, 0, HDR);
		make_frame(b + HDR, 60 + i, (uint8_t)i);
		fp_set_desc(p, FP_TXQ, s, fp_buf_gpa(p, FP_TXQ, s),
			bad ? HDR : HDR + 60 + i, 0, 0);
		tx->avail->ring[s] = s;
	}
	fp_set_avail_idx(p, FP_TXQ, a0 + RING_SIZE);
	return a0;
}

/* rx_burst of @want gives exactly @want packets, frames @first.. of
 * flood(), and exactly @want used entries.
 */
static int
flood_burst(struct dp *d, uint16_t a0, uint16_t first, uint16_t want)
{
	struct rte_mbuf *pkts[BURST];
	uint16_t u0 = fp_used_idx(&d->peer, FP_TXQ), n, i;
	int rc = 0;

	n = rte_eth_rx_burst(d->port, 0, pkts, want);
	for (i = 0; i < n && rc == 0; i++) {
		make_frame(frame_a, 60 + first + i, (uint8_t)(first + i));
		rc = mbuf_is(pkts[i], frame_a, 60 + first + i);
	}
	free_all(pkts, n);
	TRYR(rc);
	EXPECTR(n == want, "rx_burst of %u gave %u packets", want, n);
	EXPECTR(fp_used_idx(&d->peer, FP_TXQ) == (uint16_t)(u0 + want),
		"a burst of %u packets made %u used entries", want,
		(uint16_t)(fp_used_idx(&d->peer, FP_TXQ) - u0));
	for (i = 0; i < want; i++)
		TRYR(expect_used(d, FP_TXQ, (a0 + first + i) & MASK, 0));
	return 0;
}

int
t_c12_full_ring(struct dp *d)
{
	uint16_t a0, done;

	TRYR(peer_connect(d, 0));
	a0 = flood(&d->peer, false);
	TRYR(flood_burst(d, a0, 0, BURST));
	TRYR(flood_burst(d, a0, BURST, 1));
	for (done = BURST + 1; done < RING_SIZE; done += BURST)
		TRYR(flood_burst(d, a0, done, RTE_MIN(BURST,
			RING_SIZE - done)));
	return expect_no_rx(d, "after the whole ring");
}

int
t_c12_bad_flood(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	unsigned int in_use = rte_mempool_in_use_count(d->mp), b;
	uint16_t a0, u0, i;
	uint64_t e0;

	TRYR(peer_connect(d, 0));
	e0 = ierrors(d);
	a0 = flood(p, true);
	for (b = 0; b < RING_SIZE / BURST; b++) {
		u0 = fp_used_idx(p, FP_TXQ);
		TRYR(expect_no_rx(d, "from header-only chains"));
		EXPECTR(fp_used_idx(p, FP_TXQ) == (uint16_t)(u0 + BURST),
			"burst %u: %u used entries, want %u", b,
			(uint16_t)(fp_used_idx(p, FP_TXQ) - u0), BURST);
		EXPECTR(rte_mempool_in_use_count(d->mp) == in_use,
			"burst %u: mbufs in use %u, %u before", b,
			rte_mempool_in_use_count(d->mp), in_use);
	}
	EXPECTR(ierrors(d) == e0 + RING_SIZE, "ierrors +%" PRIu64 ", want %u",
		ierrors(d) - e0, RING_SIZE);
	for (i = 0; i < RING_SIZE; i++)
		TRYR(expect_used(d, FP_TXQ, (a0 + i) & MASK, 0));
	return rx_good(d, 80, 183);
}

#define TX_FLOOD	(RING_SIZE + 44)

int
t_c12_tx_flood(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	unsigned int in_use = rte_mempool_in_use_count(d->mp);
	struct rte_mbuf *m[TX_FLOOD];
	uint16_t h[RING_SIZE], i, sent;
	int rc = 0;

	TRYR(peer_connect(d, 0));
	for (i = 0; i < RING_SIZE; i++)
		h[i] = fp_post_rx(p, FP_BUF_SIZE, (uint8_t)i);
	for (i = 0; i < TX_FLOOD; i++) {
		make_frame(frame_a, 60 + i, (uint8_t)(i + 1));
		m[i] = frame_mbuf(d, frame_a, 60 + i);
		if (m[i] == NULL) {
			free_all(m, i);
			return FAIL("no mbuf");
		}
	}
	sent = rte_eth_tx_burst(d->port, 0, m, TX_FLOOD);
	free_all(m + sent, TX_FLOOD - sent);
	EXPECTR(sent == RING_SIZE, "tx_burst of %u into %u buffers sent %u",
		TX_FLOOD, RING_SIZE, sent);
	for (i = 0; i < RING_SIZE && rc == 0; i++) {
		make_frame(frame_a, 60 + i, (uint8_t)(i + 1));
		rc = expect_used(d, FP_RXQ, h[i], HDR + 60 + i);
		if (rc == 0)
			rc = expect_rx_buffer(d, h[i], 1, frame_a, 60 + i,
				(uint8_t)i);
	}
	TRYR(rc);
	EXPECTR(fp_used_idx(p, FP_RXQ) == p->ring[FP_RXQ].used_idx,
		"used entries past the %u buffers", RING_SIZE);
	EXPECTR(rte_mempool_in_use_count(d->mp) == in_use,
		"mbufs in use %u after the burst, %u before",
		rte_mempool_in_use_count(d->mp), in_use);
	return 0;
}

/* ---- zero-copy port ---- */

/* A payload of @n pieces of 20 bytes behind a header: lent as n
 * segments (@lent), or copied.
 */
static int
zc_pieces(struct dp *d, unsigned int n, bool lent)
{
	struct fake_peer *p = &d->peer;
	uint16_t u0 = fp_used_idx(p, FP_TXQ), s;
	uint8_t hdr[HDR] = { 0 };
	struct rte_mbuf *m, *none;
	unsigned int k;
	bool ext;
	int rc;

	make_frame(frame_a, 20 * n, 184 + n);
	s = post_pieces(d, hdr, HDR, frame_a, 20 * n, 20, &k);
	fp_publish(p, FP_TXQ, s);
	TRYR(rx_single(d, &m));
	ext = RTE_MBUF_HAS_EXTBUF(m);
	rc = mbuf_is(m, frame_a, 20 * n);
	if (rc == 0 && (ext != lent || (lent && m->nb_segs != n)))
		rc = FAIL("%u pieces: %s in %u segments, want %s", n,
			ext ? "lent" : "copied", m->nb_segs,
			lent ? "lent in as many" : "copied");
	if (rc == 0 && fp_used_idx(p, FP_TXQ) != (uint16_t)(u0 + !lent))
		rc = FAIL("%u pieces: used->idx +%u with the mbuf out", n,
			(uint16_t)(fp_used_idx(p, FP_TXQ) - u0));
	rte_pktmbuf_free(m);
	TRYR(rc);
	EXPECTR(rte_eth_rx_burst(d->port, 0, &none, 1) == 0, "phantom packet");
	return expect_used(d, FP_TXQ, s, 0);
}

int
t_c4_zc_segs(struct dp *d)
{
	TRYR(cl_zc(d, 0));
	TRYR(zc_pieces(d, ZC_MAX_SEGS, true));
	return zc_pieces(d, ZC_MAX_SEGS + 1, false);
}

int
t_c9_zc_dup_id(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	struct rte_mbuf *m, *more[4];
	uint64_t e0;
	uint16_t n;
	int rc = 0;

	TRYR(cl_zc(d, FP_F_RING_PACKED));
	make_frame(frame_a, 300, 190);
	pk_stage(p, frame_a, 300, 9);
	fp_packed_publish(p, FP_TXQ);
	TRYR(rx_single(d, &m));
	if (!RTE_MBUF_HAS_EXTBUF(m) || mbuf_is(m, frame_a, 300) < 0)
		rc = FAIL("a 300-byte frame not lent, or its bytes differ");
	e0 = ierrors(d);
	pk_stage(p, frame_a, 300, 9);
	fp_packed_publish(p, FP_TXQ);
	n = rte_eth_rx_burst(d->port, 0, more, 4);
	free_all(more, n);
	if (rc == 0 && (n != 0 || ierrors(d) != e0 + 1))
		rc = FAIL("id 9 posted again while lent: %u packets, ierrors +%"
			PRIu64 "; want 0 and +1 (queue stopped)", n,
			ierrors(d) - e0);
	if (rc == 0)
		rc = expect_no_pused(d, FP_TXQ, "while id 9 is lent");
	rte_pktmbuf_free(m);
	TRYR(rc);
	n = rte_eth_rx_burst(d->port, 0, more, 4);
	free_all(more, n);
	EXPECTR(n == 0, "%u packets from the stopped queue", n);
	return expect_no_pused(d, FP_TXQ, "from the stopped queue");
}

static int
zc_flood(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	unsigned int in_use = rte_mempool_in_use_count(d->mp), i, lent = 0;
	uint16_t got = 0, k, u0, mid;
	struct rte_mbuf *held[RING_SIZE], *none;
	uint8_t seen[RING_SIZE] = { 0 };
	struct vring_used_elem e;
	int rc = 0;

	TRYR(cl_zc(d, 0));
	u0 = fp_used_idx(p, FP_TXQ);
	make_frame(frame_a, 300, 191);
	for (i = 0; i < RING_SIZE; i++)
		fp_post_tx(p, frame_a, 300);
	while (got < RING_SIZE) {
		k = rte_eth_rx_burst(d->port, 0, &held[got],
			RTE_MIN(BURST, RING_SIZE - got));
		if (k == 0)
			break;
		got += k;
	}
	for (i = 0; i < got && rc == 0; i++) {
		lent += !!RTE_MBUF_HAS_EXTBUF(held[i]);
		rc = mbuf_is(held[i], frame_a, 300);
	}
	mid = fp_used_idx(p, FP_TXQ);
	k = rte_mempool_in_use_count(d->mp) - in_use;
	free_all(held, got);
	TRYR(rc);
	EXPECTR(got == RING_SIZE && lent == RING_SIZE / 2 && k == RING_SIZE,
		"%u packets, %u lent, %u mbufs taken; want %u, %u, %u", got,
		lent, k, RING_SIZE, RING_SIZE / 2, RING_SIZE);
	EXPECTR(mid == (uint16_t)(u0 + RING_SIZE - lent),
		"with the mbufs held, used->idx +%u, want +%u (the copies)",
		(uint16_t)(mid - u0), RING_SIZE - lent);
	EXPECTR(rte_eth_rx_burst(d->port, 0, &none, 1) == 0, "phantom packet");
	EXPECTR(fp_used_idx(p, FP_TXQ) == (uint16_t)(u0 + RING_SIZE),
		"after the frees used->idx +%u, want +%u",
		(uint16_t)(fp_used_idx(p, FP_TXQ) - u0), RING_SIZE);
	for (i = 0; i < RING_SIZE; i++) {
		if (!fp_used_next(p, FP_TXQ, &e) || e.id >= RING_SIZE ||
				seen[e.id] || e.len != 0)
			return FAIL("used entry %u: a head out of range, twice, or len %u",
				i, e.len);
		seen[e.id] = 1;
	}
	EXPECTR(rte_mempool_in_use_count(d->mp) == in_use,
		"mbufs in use %u after the frees, %u before",
		rte_mempool_in_use_count(d->mp), in_use);
	return 0;
}

/* The last check: whatever it finds, d goes back as it came. */
int
t_c12_zc_flood(struct dp *d)
{
	int rc = zc_flood(d);

	if (cl_leave(d) < 0 && rc == 0)
		rc = -1;
	return rc;
}
