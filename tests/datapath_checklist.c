/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * test_vpci_datapath: the hostile-peer checklist (issue 5), class by class.
 *
 * Every check is named "class N (slug): " and what it asserts. The classes
 * the earlier phases already cover (1 index-range, 2 desc-loop, 3 indirect,
 * 6 permissions, the zero-copy re-post of 7) get the sub-cases they miss
 * here; 4 addr-len, 5 short-header, 7 avail-idx, 8 shadow-indexes,
 * 9 packed, 10 net-header, 11 runt-rx and 12 flood are here in full.
 *
 * The copy-mode checks run on net_vhost_pci0 (zero_copy=0) whatever port
 * the phases before left in d->port; the zero-copy ones, at the end, on
 * net_vhost_pci1 (created here if no earlier phase left one). The last
 * check gives d->port and d->sock back as they were found.
 *
 * What the PMD promises and the checks lean on (vpci_ring.h, vpci_zc.c):
 * a chain has at most 64 segments and 64 KiB after its header, a lent
 * packet at most 16 pieces, zero-copy lends stop at half the ring.
 *
 * This file has the ports, the helpers, classes 1 to 8 and the phase
 * table; datapath_checklist2.c classes 9 to 12 and the zero-copy checks.
 */

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "datapath_checklist.h"

#define MAIN_VDEV	"net_vhost_pci0"

/* What the phase found in d, and the ports it uses. */
static struct {
	uint16_t port;			/* d->port on entry */
	const char *sock;		/* d->sock on entry */
	uint16_t main_port;
	char main_sock[256];
	struct zc_vdev zc;
	bool zc_found;			/* zc is set */
} cl;

static uint8_t big[MAX_PKT + 64], big_read[MAX_PKT + 64];

/* ---- ports ---- */

/* net_vhost_pci0 with a plain front-end. */
static int
cl_enter(struct dp *d)
{
	struct vdev_args a;

	cl.port = d->port;
	cl.sock = d->sock;
	if (vdev_find(MAIN_VDEV, &cl.main_port, &a) < 0)
		return -1;
	EXPECTR(!a.zero_copy, "%s has zero_copy=1", MAIN_VDEV);
	snprintf(cl.main_sock, sizeof(cl.main_sock), "%s", a.path);
	if (switch_port(d, cl.main_port, cl.main_sock) < 0 ||
			peer_connect(d, 0) < 0) {
		/* The last check will not run: give d back now. */
		fp_disconnect(&d->peer);
		d->port = cl.port;
		d->sock = cl.sock;
		return -1;
	}
	return 0;
}

/* The zero-copy port, with a front-end acking @features. */
int
cl_zc(struct dp *d, uint64_t features)
{
	char sock[sizeof(cl.zc.sock)];

	if (!cl.zc_found) {
		snprintf(sock, sizeof(sock), "%s.czc", cl.main_sock);
		TRYR(zc_vdev_get(d, &cl.zc, sock));
		cl.zc_found = true;
	}
	if (d->port != cl.zc.port)
		TRYR(switch_port(d, cl.zc.port, cl.zc.sock));
	return peer_connect(d, features);
}

/* Give d back as the phase found it. */
int
cl_leave(struct dp *d)
{
	int rc;

	rc = switch_port(d, cl.port, cl.sock);
	TRYR(zc_vdev_put(&cl.zc));
	return rc;
}

/* ---- helpers ---- */

uint64_t
ierrors(struct dp *d)
{
	struct rte_eth_stats s;

	return get_stats(d, &s) == 0 ? s.ierrors : UINT64_MAX;
}

int
mbuf_is(const struct rte_mbuf *m, const uint8_t *f, uint32_t len)
{
	return mbuf_check_buf(m, f, len, big_read);
}

/* rx_burst must give exactly one packet, *m, for the caller to free. */
int
rx_single(struct dp *d, struct rte_mbuf **m)
{
	struct rte_mbuf *pkts[BURST];
	uint16_t n = rte_eth_rx_burst(d->port, 0, pkts, BURST);

	*m = NULL;
	if (n != 1) {
		free_all(pkts, n);
		return FAIL("rx_burst returned %u packets, want 1", n);
	}
	*m = pkts[0];
	return 0;
}

/* As expect_rx(), for frames of any length. */
static int
rx_is(struct dp *d, const uint8_t *f, uint32_t len)
{
	struct rte_mbuf *m;
	int rc;

	TRYR(rx_single(d, &m));
	rc = mbuf_is(m, f, len);
	rte_pktmbuf_free(m);
	return rc;
}

/* A good frame on the split TX ring: received, its head returned. */
int
rx_good(struct dp *d, uint32_t len, uint8_t seed)
{
	uint16_t head;

	make_frame(frame_b, len, seed);
	head = fp_post_tx(&d->peer, frame_b, len);
	TRYR(expect_rx(d, frame_b, len, NULL));
	return expect_used(d, FP_TXQ, head, 0);
}

/* The same on a packed ring, its used descriptor at @pos. */
int
pk_rx_good(struct dp *d, uint32_t len, uint8_t seed, uint16_t pos)
{
	uint16_t id;

	make_frame(frame_b, len, seed);
	id = fp_packed_post_tx(&d->peer, frame_b, len);
	TRYR(expect_rx(d, frame_b, len, NULL));
	return expect_pused(d, FP_TXQ, pos, id, 0, NULL);
}

int
untouched(const uint8_t *b, uint8_t fill, uint32_t len, const char *what)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		EXPECTR(b[i] == fill, "%s: byte %u is 0x%02x, want the fill 0x%02x",
			what, i, b[i], fill);
	return 0;
}

/* A one-descriptor chain at the next TX slot: a zero header and a 64-byte
 * frame in that slot's buffer, described by @addr/@len/@flags.
 */
static uint16_t
one_desc(struct dp *d, uint64_t addr, uint32_t len, uint16_t flags)
{
	struct fake_peer *p = &d->peer;
	uint16_t s = fp_next_slot(p, FP_TXQ);
	uint8_t *b = fp_buf(p, FP_TXQ, s);

	memset(b, 0, HDR);
	make_frame(b + HDR, 64, 150);
	fp_set_desc(p, FP_TXQ, s, addr, len, flags, 0);
	return s;
}

/* Descriptor @k of a chain at consecutive slots from @s: @len bytes of
 * @src (if not NULL) in its own slot's buffer, NEXT to the next slot
 * unless @last.
 */
static void
piece(struct fake_peer *p, uint16_t s, unsigned int k, const void *src,
		uint32_t len, bool last)
{
	uint16_t d = (s + k) & MASK;

	if (src != NULL)
		memcpy(fp_buf(p, FP_TXQ, d), src, len);
	fp_set_desc(p, FP_TXQ, d, fp_buf_gpa(p, FP_TXQ, d), len,
		last ? 0 : VRING_DESC_F_NEXT, (d + 1) & MASK);
}

/* Header @hdr in pieces of @hp bytes, then @len bytes of @f in pieces of
 * @fp, from the next slot on, not published. Returns the head; *n the
 * descriptors.
 */
uint16_t
post_pieces(struct dp *d, const uint8_t *hdr, uint32_t hp, const uint8_t *f,
		uint32_t len, uint32_t fp, unsigned int *n)
{
	struct fake_peer *p = &d->peer;
	uint16_t s = fp_next_slot(p, FP_TXQ);
	unsigned int k = 0;
	uint32_t off, m;

	for (off = 0; off < HDR; off += m, k++) {
		m = RTE_MIN(hp, HDR - off);
		piece(p, s, k, hdr + off, m, false);
	}
	for (off = 0; off < len; off += m, k++) {
		m = RTE_MIN(fp, len - off);
		piece(p, s, k, f + off, m, off + m == len);
	}
	*n = k;
	return s;
}

/* A virtio-net header, little-endian. */
void
put_hdr(uint8_t *b, uint8_t flags, uint8_t gso, uint16_t hdr_len,
		uint16_t gso_size, uint16_t start, uint16_t off, uint16_t nbufs)
{
	const uint16_t v[5] = { hdr_len, gso_size, start, off, nbufs };
	int i;

	b[0] = flags;
	b[1] = gso;
	for (i = 0; i < 5; i++) {
		b[2 + 2 * i] = v[i] & 0xff;
		b[3 + 2 * i] = v[i] >> 8;
	}
}

/*
 * The peer RX buffer @head (descriptors written) is published, then a
 * good one: a tx frame is consumed and dropped (oerrors +1, opackets
 * same), @head comes back with used.len 0 and the good buffer untouched;
 * the next frame lands in the good buffer.
 */
static int
tx_refused(struct dp *d, uint16_t head)
{
	struct fake_peer *p = &d->peer;
	struct rte_eth_stats before, after;
	uint16_t good;

	TRYR(get_stats(d, &before));
	fp_publish(p, FP_RXQ, head);
	good = fp_post_rx(p, FP_BUF_SIZE, 0x61);
	make_frame(frame_a, 100, 151);
	TRYR(tx_frame(d, frame_a, 100));
	TRYR(get_stats(d, &after));
	EXPECTR(after.oerrors == before.oerrors + 1 &&
		after.opackets == before.opackets,
		"oerrors +%" PRIu64 ", opackets +%" PRIu64 ", want +1 and +0",
		after.oerrors - before.oerrors,
		after.opackets - before.opackets);
	TRYR(expect_used(d, FP_RXQ, head, 0));
	EXPECTR(fp_used_idx(p, FP_RXQ) == p->ring[FP_RXQ].used_idx,
		"the good buffer was used for the dropped frame");
	TRYR(untouched(fp_buf(p, FP_RXQ, good), 0x61, FP_BUF_SIZE,
		"good buffer"));
	make_frame(frame_b, 100, 152);
	TRYR(tx_frame(d, frame_b, 100));
	TRYR(expect_used(d, FP_RXQ, good, HDR + 100));
	return expect_rx_buffer(d, good, 1, frame_b, 100, 0x61);
}

/* ---- class 1: index-range ---- */

static int
t_c1_next_out(struct dp *d)
{
	static const uint16_t next[] = { RING_SIZE, RING_SIZE + 1, 0xffff };
	struct fake_peer *p = &d->peer;
	unsigned int i;
	uint16_t s;

	TRYR(cl_enter(d));
	for (i = 0; i < RTE_DIM(next); i++) {
		s = fp_next_slot(p, FP_TXQ);
		memset(fp_buf(p, FP_TXQ, s), 0, HDR);
		fp_set_desc(p, FP_TXQ, s, fp_buf_gpa(p, FP_TXQ, s), HDR,
			VRING_DESC_F_NEXT, next[i]);
		TRYR(expect_rx_refused(d, s));
	}
	return 0;
}

static int
t_c1_tx_head_out(struct dp *d)
{
	TRYR(tx_refused(d, RING_SIZE + 5));
	return tx_refused(d, 0xffff);
}

/* ---- class 2: desc-loop ---- */

/* Header at @s, then zero-length descriptors: only the loop bound, not
 * the segment limit, can end a cycle among them.
 */
static void
loop_desc(struct fake_peer *p, uint16_t d, uint16_t s, uint16_t next)
{
	fp_set_desc(p, FP_TXQ, d, fp_buf_gpa(p, FP_TXQ, d), d == s ? HDR : 0,
		VRING_DESC_F_NEXT, next);
}

static int
t_c2_cycles(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t s, i;

	TRYR(peer_connect(d, 0));
	/* s -> s+1 -> s+1 */
	s = fp_next_slot(p, FP_TXQ);
	memset(fp_buf(p, FP_TXQ, s), 0, HDR);
	loop_desc(p, s, s, (s + 1) & MASK);
	loop_desc(p, (s + 1) & MASK, s, (s + 1) & MASK);
	TRYR(expect_rx_refused(d, s));
	/* s -> s+1 -> s */
	s = fp_next_slot(p, FP_TXQ);
	memset(fp_buf(p, FP_TXQ, s), 0, HDR);
	loop_desc(p, s, s, (s + 1) & MASK);
	loop_desc(p, (s + 1) & MASK, s, s);
	TRYR(expect_rx_refused(d, s));
	/* s -> s+1 -> s+2 -> s+3 -> s+1 */
	s = fp_next_slot(p, FP_TXQ);
	memset(fp_buf(p, FP_TXQ, s), 0, HDR);
	for (i = 0; i < 3; i++)
		loop_desc(p, (s + i) & MASK, s, (s + i + 1) & MASK);
	loop_desc(p, (s + 3) & MASK, s, (s + 1) & MASK);
	TRYR(expect_rx_refused(d, s));
	/* Every descriptor of the ring, i -> i+1, the last back to 0. */
	s = fp_next_slot(p, FP_TXQ);
	memset(fp_buf(p, FP_TXQ, s), 0, HDR);
	for (i = 0; i < RING_SIZE; i++)
		loop_desc(p, i, s, (i + 1) & MASK);
	return expect_rx_refused(d, s);
}

/* ---- class 3: indirect ---- */

/*
 * An indirect table of @n entries in the peer RX ring's buffers (unused
 * here): entry 0 a zero header, entry k the k-th byte of @f, a chain
 * 0 -> 1 -> ... Returns its guest address.
 */
static uint64_t
ind_table(struct fake_peer *p, unsigned int n, const uint8_t *f)
{
	struct vring_desc *t = (struct vring_desc *)fp_buf(p, FP_RXQ, 0);
	uint8_t *data = fp_buf(p, FP_RXQ, 16);
	uint64_t gpa = fp_buf_gpa(p, FP_RXQ, 16);
	unsigned int k;

	memset(data, 0, HDR);
	memcpy(data + HDR, f, n - 1);
	for (k = 0; k < n; k++) {
		t[k].addr = k == 0 ? gpa : gpa + HDR + k - 1;
		t[k].len = k == 0 ? HDR : 1;
		t[k].flags = k + 1 < n ? VRING_DESC_F_NEXT : 0;
		t[k].next = k + 1;
	}
	return fp_buf_gpa(p, FP_RXQ, 0);
}

static uint16_t
ind_head(struct dp *d, uint64_t addr, uint32_t len)
{
	uint16_t s = fp_next_slot(&d->peer, FP_TXQ);

	fp_set_desc(&d->peer, FP_TXQ, s, addr, len, VRING_DESC_F_INDIRECT, 0);
	return s;
}

static int
t_c3_tables(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint64_t end = p->base + p->mem_size;
	uint64_t t;
	uint16_t s;

	TRYR(peer_connect(d, FP_F_INDIRECT));
	make_frame(frame_a, RING_SIZE, 153);
	t = ind_table(p, MAX_SEGS, frame_a);
	s = ind_head(d, t, MAX_SEGS * sizeof(struct vring_desc));
	fp_publish(p, FP_TXQ, s);
	TRYR(expect_rx(d, frame_a, MAX_SEGS - 1, NULL));
	TRYR(expect_used(d, FP_TXQ, s, 0));
	t = ind_table(p, MAX_SEGS + 1, frame_a);
	TRYR(expect_rx_refused(d, ind_head(d, t,
		(MAX_SEGS + 1) * sizeof(struct vring_desc))));
	t = ind_table(p, RING_SIZE + 1, frame_a);
	TRYR(expect_rx_refused(d, ind_head(d, t,
		(RING_SIZE + 1) * sizeof(struct vring_desc))));
	TRYR(expect_rx_refused(d, ind_head(d, p->base - 0x1000,
		2 * sizeof(struct vring_desc))));
	return expect_rx_refused(d, ind_head(d, end - sizeof(struct vring_desc),
		2 * sizeof(struct vring_desc)));
}

/* Two entries at @at: a zero header and the 64 bytes of @f, in the RX
 * ring's buffers 10 and 11 (region 0). Returns @at.
 */
static uint64_t
ind_pair(struct fake_peer *p, uint64_t at, const uint8_t *f)
{
	struct vring_desc *e = fp_ptr(p, at, 2 * sizeof(*e));

	memset(fp_buf(p, FP_RXQ, 10), 0, HDR);
	memcpy(fp_buf(p, FP_RXQ, 11), f, 64);
	e[0] = (struct vring_desc){ fp_buf_gpa(p, FP_RXQ, 10), HDR,
		VRING_DESC_F_NEXT, 1 };
	e[1] = (struct vring_desc){ fp_buf_gpa(p, FP_RXQ, 11), 64, 0, 0 };
	return at;
}

static int
t_c3_regions(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	/* The TX ring's buffers start the second region. */
	uint64_t at = fp_buf_gpa(p, FP_TXQ, 0);
	uint16_t s;
	int rc;

	EXPECTR(((at - p->base) & ((2u << 20) - 1)) == 0,
		"TX buffers at offset 0x%" PRIx64 ": not a 2 MiB boundary",
		at - p->base);
	p->split = at - p->base;
	rc = peer_connect(d, FP_F_INDIRECT);
	p->split = 0;
	TRYR(rc);
	TRYR(rx_good(d, 80, 192));
	TRYR(expect_rx_refused(d, one_desc(d, at - 16, HDR + 64, 0)));
	make_frame(frame_a, 64, 193);
	TRYR(expect_rx_refused(d, ind_head(d, ind_pair(p, at - 16, frame_a),
		2 * sizeof(struct vring_desc))));
	make_frame(frame_a, 64, 194);
	s = ind_head(d, ind_pair(p, at - 32, frame_a),
		2 * sizeof(struct vring_desc));
	fp_publish(p, FP_TXQ, s);
	TRYR(expect_rx(d, frame_a, 64, NULL));
	return expect_used(d, FP_TXQ, s, 0);
}

/* ---- class 4: addr-len ---- */

static int
t_c4_addr_wrap(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint64_t end = p->base + p->mem_size;
	uint16_t s;

	TRYR(peer_connect(d, 0));
	TRYR(expect_rx_refused(d, one_desc(d, UINT64_MAX - 0xfff, 0x2000, 0)));
	/* The last HDR + 64 bytes of the memory. */
	make_frame(frame_a, 64, 154);
	memset(fp_ptr(p, end - HDR - 64, HDR), 0, HDR);
	memcpy(fp_ptr(p, end - 64, 64), frame_a, 64);
	s = one_desc(d, end - HDR - 64, HDR + 64, 0);
	fp_publish(p, FP_TXQ, s);
	TRYR(expect_rx(d, frame_a, 64, NULL));
	TRYR(expect_used(d, FP_TXQ, s, 0));
	/* One byte more. */
	return expect_rx_refused(d, one_desc(d, end - HDR - 64, HDR + 65, 0));
}

static int
t_c4_len_max(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t s;

	TRYR(peer_connect(d, 0));
	s = fp_next_slot(p, FP_TXQ);
	TRYR(expect_rx_refused(d, one_desc(d, fp_buf_gpa(p, FP_TXQ, s),
		UINT32_MAX, 0)));
	TRYR(expect_rx_refused(d, one_desc(d, p->base, UINT32_MAX, 0)));
	/* A good header, then a frame descriptor of 0xffffffff bytes. */
	s = fp_next_slot(p, FP_TXQ);
	memset(fp_buf(p, FP_TXQ, s), 0, HDR);
	piece(p, s, 0, NULL, HDR, false);
	fp_set_desc(p, FP_TXQ, (s + 1) & MASK,
		fp_buf_gpa(p, FP_TXQ, (s + 1) & MASK), UINT32_MAX, 0, 0);
	return expect_rx_refused(d, s);
}

static int
t_c4_len_zero(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t s;

	TRYR(peer_connect(d, 0));
	s = fp_next_slot(p, FP_TXQ);
	TRYR(expect_rx_refused(d, one_desc(d, fp_buf_gpa(p, FP_TXQ, s), 0,
		0)));
	/* Header, 0 bytes at an unmapped address, frame. */
	make_frame(frame_a, 60, 155);
	s = fp_next_slot(p, FP_TXQ);
	memset(fp_buf(p, FP_TXQ, s), 0, HDR);
	piece(p, s, 0, NULL, HDR, false);
	fp_set_desc(p, FP_TXQ, (s + 1) & MASK, 0x1000, 0, VRING_DESC_F_NEXT,
		(s + 2) & MASK);
	piece(p, s, 2, frame_a, 60, true);
	fp_publish(p, FP_TXQ, s);
	TRYR(expect_rx(d, frame_a, 60, NULL));
	return expect_used(d, FP_TXQ, s, 0);
}

/* Header, then @n descriptors of @len bytes each at the same @addr. */
static uint16_t
long_chain(struct dp *d, uint64_t addr, uint32_t len, unsigned int n)
{
	struct fake_peer *p = &d->peer;
	uint16_t s = fp_next_slot(p, FP_TXQ), t;
	unsigned int k;

	memset(fp_buf(p, FP_TXQ, s), 0, HDR);
	piece(p, s, 0, NULL, HDR, false);
	for (k = 1; k <= n; k++) {
		t = (s + k) & MASK;
		fp_set_desc(p, FP_TXQ, t, addr, len, k < n ? VRING_DESC_F_NEXT : 0,
			(t + 1) & MASK);
	}
	return s;
}

static int
t_c4_pkt_limit(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	/* The peer RX ring's buffers: 1 MiB, unused here. */
	uint64_t data = fp_buf_gpa(p, FP_RXQ, 0);
	uint16_t s;

	TRYR(peer_connect(d, 0));
	make_frame(big, MAX_PKT + 1, 156);
	memcpy(fp_ptr(p, data, MAX_PKT + 1), big, MAX_PKT + 1);
	s = long_chain(d, data, MAX_PKT, 1);
	fp_publish(p, FP_TXQ, s);
	TRYR(rx_is(d, big, MAX_PKT));
	TRYR(expect_used(d, FP_TXQ, s, 0));
	TRYR(expect_rx_refused(d, long_chain(d, data, MAX_PKT + 1, 1)));
	return expect_rx_refused(d, long_chain(d, data, 32768, 3));
}

static int
t_c4_segs(struct dp *d)
{
	uint8_t hdr[HDR] = { 0 };
	unsigned int n;
	uint16_t s;

	TRYR(peer_connect(d, 0));
	make_frame(frame_a, 2 * MAX_SEGS, 157);
	s = post_pieces(d, hdr, HDR, frame_a, 2 * (MAX_SEGS - 1), 2, &n);
	EXPECTR(n == MAX_SEGS, "%u descriptors, want %u", n, MAX_SEGS);
	fp_publish(&d->peer, FP_TXQ, s);
	TRYR(expect_rx(d, frame_a, 2 * (MAX_SEGS - 1), NULL));
	TRYR(expect_used(d, FP_TXQ, s, 0));
	s = post_pieces(d, hdr, HDR, frame_a, 2 * MAX_SEGS, 2, &n);
	EXPECTR(n == MAX_SEGS + 1, "%u descriptors, want %u", n, MAX_SEGS + 1);
	return expect_rx_refused(d, s);
}

/* ---- class 5: short-header ---- */

/* expect_rx_refused(), its reason prefixed with @what. */
static int
refused(struct dp *d, uint16_t head, const char *what)
{
	char why[512];

	if (expect_rx_refused(d, head) == 0)
		return 0;
	snprintf(why, sizeof(why), "%s", fail_reason());
	return FAIL("%s: %s", what, why);
}

static int
t_c5_short(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t s;

	TRYR(peer_connect(d, 0));
	s = fp_next_slot(p, FP_TXQ);
	TRYR(refused(d, one_desc(d, fp_buf_gpa(p, FP_TXQ, s), HDR, 0),
		"a 12-byte chain"));
	TRYR(peer_connect(d, 0));
	s = fp_next_slot(p, FP_TXQ);
	TRYR(refused(d, one_desc(d, fp_buf_gpa(p, FP_TXQ, s), 5, 0),
		"a 5-byte chain"));
	TRYR(peer_connect(d, 0));
	/* 4 + 8 bytes: a whole header in two descriptors, no frame. */
	s = fp_next_slot(p, FP_TXQ);
	memset(fp_buf(p, FP_TXQ, s), 0, 4);
	memset(fp_buf(p, FP_TXQ, (s + 1) & MASK), 0, 8);
	piece(p, s, 0, NULL, 4, false);
	piece(p, s, 1, NULL, 8, true);
	return refused(d, s, "a 4 + 8-byte chain");
}

static int
t_c5_split_hdr(struct dp *d)
{
	uint8_t hdr[HDR] = { 0 };
	struct rte_mbuf *m;
	unsigned int n;
	uint64_t l4;
	uint16_t s;
	int rc;

	TRYR(peer_connect(d, 0));
	make_frame(frame_a, 80, 158);
	s = post_pieces(d, hdr, 1, frame_a, 80, 80, &n);
	fp_publish(&d->peer, FP_TXQ, s);
	TRYR(expect_rx(d, frame_a, 80, NULL));
	TRYR(expect_used(d, FP_TXQ, s, 0));
	/* The header's fields are read across the pieces. */
	TRYR(peer_connect(d, F_CSUM));
	put_hdr(hdr, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 34, 16, 0);
	s = post_pieces(d, hdr, 1, frame_a, 80, 80, &n);
	fp_publish(&d->peer, FP_TXQ, s);
	TRYR(rx_single(d, &m));
	l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	rc = mbuf_is(m, frame_a, 80);
	rte_pktmbuf_free(m);
	TRYR(rc);
	EXPECTR(l4 == RTE_MBUF_F_RX_L4_CKSUM_NONE,
		"RX L4 checksum flags 0x%" PRIx64 ", want RX_L4_CKSUM_NONE", l4);
	TRYR(expect_used(d, FP_TXQ, s, 0));
	put_hdr(hdr, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 0xff00, 16, 0);
	return expect_rx_refused(d, post_pieces(d, hdr, 1, frame_a, 80, 80,
		&n));
}

/* ---- class 6: permissions ---- */

static int
t_c6_tx_readonly(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t s;

	TRYR(peer_connect(d, 0));
	s = fp_next_slot(p, FP_RXQ);
	memset(fp_buf(p, FP_RXQ, s), 0x62, FP_BUF_SIZE);
	fp_set_desc(p, FP_RXQ, s, fp_buf_gpa(p, FP_RXQ, s), FP_BUF_SIZE, 0, 0);
	TRYR(tx_refused(d, s));
	return untouched(fp_buf(p, FP_RXQ, s), 0x62, FP_BUF_SIZE,
		"read-only buffer");
}

/* ---- class 7: avail-idx ---- */

/* avail->idx set to @idx stops the queue: no packet, no used entry,
 * ierrors +1 once, not even for a good frame posted after it.
 */
static int
avail_stops(struct dp *d, uint16_t idx)
{
	struct fake_peer *p = &d->peer;
	uint16_t used = fp_used_idx(p, FP_TXQ), old = p->ring[FP_TXQ].avail_idx;
	uint64_t e0 = ierrors(d), e1;

	fp_set_avail_idx(p, FP_TXQ, idx);
	TRYR(expect_no_rx(d, "after the bad avail->idx"));
	e1 = ierrors(d);
	EXPECTR(e1 == e0 + 1, "avail->idx %u (last %u): ierrors +%" PRIu64
		", want +1", idx, old, e1 - e0);
	fp_set_avail_idx(p, FP_TXQ, old);
	make_frame(frame_a, 80, 159);
	fp_post_tx(p, frame_a, 80);
	TRYR(expect_no_rx(d, "on the stopped queue"));
	EXPECTR(ierrors(d) == e1, "ierrors moved on a stopped queue");
	EXPECTR(fp_used_idx(p, FP_TXQ) == used, "used->idx moved from %u to %u",
		used, fp_used_idx(p, FP_TXQ));
	return 0;
}

static int
t_c7_backwards(struct dp *d)
{
	struct fake_peer *p = &d->peer;

	TRYR(peer_connect(d, 0));
	TRYR(rx_good(d, 70, 160));
	TRYR(avail_stops(d, p->ring[FP_TXQ].avail_idx - 1));
	TRYR(peer_connect(d, 0));
	TRYR(rx_good(d, 70, 161));
	TRYR(avail_stops(d, p->ring[FP_TXQ].avail_idx + 0x8000));
	TRYR(peer_connect(d, 0));
	return rx_good(d, 70, 162);
}

/* ---- class 8: shadow-indexes ---- */

/* Every used entry and avail_event of ring @r to 0xee bytes, used->idx
 * to @idx.
 */
static void
scribble_used(struct fake_peer *p, int r, uint16_t idx)
{
	volatile struct vring_used *u = p->ring[r].used;

	memset((void *)(uintptr_t)u->ring, 0xee,
		RING_SIZE * sizeof(struct vring_used_elem) + 2);
	__atomic_store_n(&u->idx, idx, __ATOMIC_RELEASE);
}

static uint16_t
avail_event(const struct fake_peer *p, int r)
{
	return *(volatile uint16_t *)((uintptr_t)p->ring[r].used + 4 +
		RING_SIZE * sizeof(struct vring_used_elem));
}

/* Ring @r's used->idx is @shadow + 1, entry @shadow is (@id, @len), every
 * other entry and avail_event still the scribble.
 */
static int
expect_one_entry(struct dp *d, int r, uint16_t shadow, uint16_t id,
		uint32_t len)
{
	volatile struct vring_used_elem *e = d->peer.ring[r].used->ring;
	uint16_t i;

	EXPECTR(fp_used_idx(&d->peer, r) == (uint16_t)(shadow + 1),
		"ring %d: used->idx %u, want %u (our index + 1)", r,
		fp_used_idx(&d->peer, r), (uint16_t)(shadow + 1));
	for (i = 0; i < RING_SIZE; i++) {
		if (i == (shadow & MASK))
			EXPECTR(e[i].id == id && e[i].len == len,
				"ring %d entry %u: id %u len %u, want %u %u", r,
				i, e[i].id, e[i].len, id, len);
		else
			EXPECTR(e[i].id == 0xeeeeeeee && e[i].len == 0xeeeeeeee,
				"ring %d entry %u written (id 0x%x len 0x%x)",
				r, i, e[i].id, e[i].len);
	}
	EXPECTR(avail_event(&d->peer, r) == 0xeeee,
		"ring %d: avail_event written (0x%04x)", r,
		avail_event(&d->peer, r));
	d->peer.ring[r].used_idx++;
	return 0;
}

static int
t_c8_rx(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t shadow, head, ev;

	TRYR(peer_connect(d, FP_F_EVENT_IDX));
	TRYR(rx_good(d, 70, 163));
	TRYR(rx_good(d, 70, 164));
	shadow = p->ring[FP_TXQ].used_idx;
	scribble_used(p, FP_TXQ, 0x1234);
	make_frame(frame_a, 90, 165);
	head = fp_post_tx(p, frame_a, 90);
	TRYR(expect_rx(d, frame_a, 90, NULL));
	TRYR(expect_one_entry(d, FP_TXQ, shadow, head, 0));
	/* Kicks wanted: avail_event is our avail index, whatever the peer
	 * wrote into used->idx.
	 */
	__atomic_store_n(&p->ring[FP_TXQ].used->idx, 0x4321, __ATOMIC_RELEASE);
	EXPECTR(rte_eth_dev_rx_intr_enable(d->port, 0) == 0,
		"rx_intr_enable failed");
	ev = avail_event(p, FP_TXQ);
	EXPECTR(rte_eth_dev_rx_intr_disable(d->port, 0) == 0,
		"rx_intr_disable failed");
	EXPECTR(ev == p->ring[FP_TXQ].avail_idx,
		"avail_event %u after rx_intr_enable, want %u (our avail index)",
		ev, p->ring[FP_TXQ].avail_idx);
	return 0;
}

/* One tx frame into a fresh buffer, used_event of the RX ring at
 * @used_event: used entry at @shadow, @calls signals.
 */
static int
c8_tx_one(struct dp *d, uint16_t shadow, uint16_t used_event, uint64_t calls)
{
	struct fake_peer *p = &d->peer;
	uint16_t head;
	uint64_t got;

	fp_set_used_event(p, FP_RXQ, used_event);
	fp_calls(p, FP_RXQ);
	head = fp_post_rx(p, FP_BUF_SIZE, 0x64);
	make_frame(frame_a, 90, 166);
	TRYR(tx_frame(d, frame_a, 90));
	TRYR(expect_one_entry(d, FP_RXQ, shadow, head, HDR + 90));
	TRYR(expect_rx_buffer(d, head, 1, frame_a, 90, 0x64));
	got = fp_calls(p, FP_RXQ);
	EXPECTR(got == calls, "used_event %u, entry %u: %" PRIu64
		" calls, want %" PRIu64, used_event, shadow, got, calls);
	return 0;
}

static int
t_c8_tx(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t shadow, head;

	head = fp_post_rx(p, FP_BUF_SIZE, 0);
	make_frame(frame_a, 64, 167);
	TRYR(tx_frame(d, frame_a, 64));
	TRYR(expect_used(d, FP_RXQ, head, HDR + 64));
	shadow = p->ring[FP_RXQ].used_idx;
	/* used_event half the index space away: no call. */
	scribble_used(p, FP_RXQ, 0x9999);
	TRYR(c8_tx_one(d, shadow, shadow + 0x8000, 0));
	/* used_event at our entry: a call, counted from our index. */
	scribble_used(p, FP_RXQ, shadow + 0x100);
	return c8_tx_one(d, shadow + 1, shadow + 1, 1);
}

const struct dp_check phase_checklist[] = {
	{ "class 1 (index-range): on net_vhost_pci0, a header descriptor whose NEXT index is ring size, ring size + 1 or 0xffff is dropped, ierrors +1, returned with len 0; the next good frame is received",
		t_c1_next_out },
	{ "class 1 (index-range): a peer RX ring head of ring size + 5 or 0xffff: the tx frame is consumed and dropped (oerrors +1), the head returned with used.len 0, the good buffer after it untouched; the next frame lands there",
		t_c1_tx_head_out },
	{ "class 2 (desc-loop): cycles of zero-length descriptors behind a header (only the loop bound can end them): a self loop, a 2-cycle, a cycle back into the chain's middle and one through all 256 descriptors are each dropped, ierrors +1, returned; the next good frame is received",
		t_c2_cycles },
	{ "class 3 (indirect): a 64-entry table (header + 63 one-byte pieces) is received intact; tables of 65 entries (past the 64-segment limit) and 257 (longer than the ring), a table below the memory and one straddling its end are each dropped, ierrors +1, returned",
		t_c3_tables },
	{ "class 3 (indirect): with the memory in two regions (split at 2 MiB, contiguous guest addresses), a frame in the second is received; a descriptor and a 2-entry table straddling the split are each dropped, ierrors +1, returned; the same table just below the split is received intact",
		t_c3_regions },
	{ "class 4 (addr-len): a descriptor at 2^64 - 4 KiB with len 8 KiB (addr + len wraps) is dropped, ierrors +1, returned; one ending exactly at the end of the memory is received intact, one byte longer is dropped",
		t_c4_addr_wrap },
	{ "class 4 (addr-len): len 0xffffffff at a buffer, at the memory base, and on the frame descriptor after a good header is each dropped, ierrors +1, returned; the next good frame is received",
		t_c4_len_max },
	{ "class 4 (addr-len): a lone zero-length descriptor is dropped, ierrors +1, returned; a zero-length descriptor at an unmapped address between header and frame adds nothing: the 60-byte frame is received intact",
		t_c4_len_zero },
	{ "class 4 (addr-len): header + 65536 bytes (the packet limit) is received intact in a multi-segment mbuf; header + 65537, and header + 3 x 32 KiB over the same mapped bytes, are dropped, ierrors +1, returned (a chain's length can never sum to 4 GiB)",
		t_c4_pkt_limit },
	{ "class 4 (addr-len): a chain of 64 descriptors (header + 63 two-byte pieces) is received intact; one of 65 (past the 64-segment limit) is dropped, ierrors +1, returned",
		t_c4_segs },
	{ "class 5 (short-header): a chain of exactly the 12-byte header, one of 5 bytes, and one of 4 + 8 bytes are each dropped, ierrors +1, returned with len 0; the next good frame is received",
		t_c5_short },
	{ "class 5 (short-header): a header in 12 one-byte descriptors before an 80-byte frame gives the frame intact (exactly 12 bytes stripped); with CSUM acked, NEEDS_CSUM 34/16 read across the pieces gives RX_L4_CKSUM_NONE, and csum_start 0xff00 across the pieces drops it (ierrors +1, returned)",
		t_c5_split_hdr },
	{ "class 6 (permissions): a read-only buffer (no WRITE) on the peer RX ring gets no byte: the tx frame is dropped, oerrors +1, the buffer returned with used.len 0; the next frame lands in the buffer after it",
		t_c6_tx_readonly },
	{ "class 7 (avail-idx): avail->idx moved back by 1, and jumping by 0x8000, each stop the queue: no packet, no used entry, ierrors +1 once, nothing for a good frame after it; a new front-end gets traffic",
		t_c7_backwards },
	{ "class 8 (shadow-indexes): rx (EVENT_IDX): with the peer's used->idx scribbled to 0x1234 and every used entry and avail_event to 0xee, the next completion goes to our index (entry 2, used->idx 3), nothing else written; rx_intr_enable writes avail_event = our avail index despite used->idx 0x4321",
		t_c8_rx },
	{ "class 8 (shadow-indexes): tx (EVENT_IDX): with the RX ring's used->idx scribbled (0x9999, then index + 0x100) and its used entries and avail_event to 0xee, each completion goes to our index, nothing else written; used_event half the index space away gives no call, used_event at our entry one",
		t_c8_tx },
	{ "class 9 (packed): two buffers in flight with the same id 7 are both received byte-exact and returned as used descriptors with id 7 at consecutive slots; the next frame follows",
		t_c9_dup_ids },
	{ "class 9 (packed): in a lap of wrap counter 1 and one of 0, the next descriptor flagged used in this lap, available in the other lap (wrong wrap counter), or used with NEXT is not taken (no packet, the slot not written, no ierror); made available properly, it is received at that slot",
		t_c9_flags },
	{ "class 9 (packed): a thread keeps rewriting each descriptor's addr (good / below the memory) and len (good / 0xffffffff) from before its flags make it available until rx_burst returns: each of 512 is either received byte-exact or refused with ierrors +1, and returned with its id at its slot; the ring goes on",
		t_c9_race },
	{ "class 9 (packed): a front-end with vring base slot 300 (ring of 256) gets no ring (not published, link down): with every descriptor available no packet is received, tx_burst takes nothing, no byte of both rings' areas (slots past the ring included) nor of the RX buffers changes; a front-end with base 0 gets traffic",
		t_c9_base },
	{ "class 10 (net-header): hdr_len is only a hint: 0xffff (past the 80-byte packet), 81 and 0 with gso TCPV4, gso_size 40, NEEDS_CSUM 34/16 (CSUM, HOST_TSO4 acked) each give the frame intact with RX_LRO, tso_segsz 40, no ierror",
		t_c10_hdr_len },
	{ "class 10 (net-header): num_buffers 0, 7 and 0xffff on the peer's TX side are ignored, with MRG_RXBUF acked or not: 300-byte frames intact, returned with len 0, no ierror",
		t_c10_nbufs_rx },
	{ "class 10 (net-header): on the RX side we write num_buffers: 3 buffers pre-filled with 0xff get a zero header with num_buffers 3 in the first, frame bytes only in the others, the fill after the frame",
		t_c10_nbufs_tx },
	{ "class 11 (runt-rx): a 4-byte peer RX buffer before a good one gets no byte: the frame is dropped and counted (tx_burst takes it, oerrors +1), the runt returned with used.len 0, the good buffer untouched; the next frame lands in the good buffer",
		t_c11_runt },
	{ "class 11 (runt-rx): MRG_RXBUF: the same 4-byte buffer first gets no byte (not even part of the header): frame dropped, oerrors +1, runt returned with used.len 0; the next frame lands in the good buffer",
		t_c11_runt_mrg },
	{ "class 12 (flood): a full ring posted at once (avail->idx + 256): rx_burst of 32 gives exactly 32 frames in order and 32 used entries, of 1 exactly 1; bursts of 32 drain the rest in order, byte-exact",
		t_c12_full_ring },
	{ "class 12 (flood): a full ring of header-only chains: each rx_burst of 32 returns nothing, makes exactly 32 used entries and leaves the mempool's in-use count unchanged; ierrors +256",
		t_c12_bad_flood },
	{ "class 12 (flood): tx_burst of 300 frames into 256 peer buffers sends exactly 256 (each in its buffer, in order); the 44 left stay the application's; no mbuf leaks",
		t_c12_tx_flood },
	{ "class 4 (addr-len): zero-copy: a payload in 16 pieces is lent as a 16-segment mbuf, its head returned after the free; in 17 pieces (past the lend limit) it is copied, intact, its head returned at once",
		t_c4_zc_segs },
	{ "class 9 (packed): zero-copy: id 9 posted again while its buffer is lent stops the queue: no packet, ierrors +1, no used descriptor, not even after the free",
		t_c9_zc_dup_id },
	{ "class 12 (flood): zero-copy: a full ring of 300-byte frames with every mbuf held: exactly 128 lent and 128 copied, 256 mbufs taken, only the copies returned; after the frees all 256 heads return once; the phase gives the ports back",
		t_c12_zc_flood },
};

const size_t phase_checklist_len = RTE_DIM(phase_checklist);
