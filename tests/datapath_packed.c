/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * test_vpci_datapath: the packed virtqueue phase (VIRTIO_F_RING_PACKED,
 * virtio 1.1, 2.8).
 *
 * The fake front-end lays its two vrings out as packed rings and the
 * checks read the used descriptors the PMD writes back: buffer id, length,
 * the AVAIL/USED bits against the device's wrap counter, and the slot each
 * one lands in. Where each must land is computed here from what was
 * posted; the fake peer only finds it by the chain lengths of the ids.
 *
 * The copy-mode checks run on net_vhost_pci0 whatever port the phases
 * before left in d->port; the zero-copy checks on net_vhost_pci1 (created
 * here if the zero-copy phase did not leave one). The last check gives
 * d->port and d->sock back as they were found.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include <rte_bus_vdev.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_ethdev.h>
#include <rte_kvargs.h>
#include <rte_mbuf.h>

#include "datapath.h"

#define MAIN_VDEV	"net_vhost_pci0"
#define ZC_VDEV		"net_vhost_pci1"
#define ZC_MIN_LEN	100u
#define F_PACKED	FP_F_RING_PACKED
/* Enough packets one by one for both wrap counters to toggle twice. */
#define WRAP_PKTS	(2 * RING_SIZE + 8)
#define HDR		FP_NET_HDR_LEN

/* What the phase found in d, and the ports it uses. */
static struct {
	uint16_t port;			/* d->port on entry */
	const char *sock;		/* d->sock on entry */
	uint16_t main_port;
	char main_sock[256];
	struct zc_vdev zc;
} pk;

static uint8_t frames[4][1600];

/* ---- ports ---- */

/* The port of vdev @name and its devargs. */
int
vdev_find(const char *name, uint16_t *port, struct vdev_args *a)
{
	struct rte_eth_dev_info info;
	const struct rte_devargs *da;
	struct rte_kvargs *kv;
	const char *v;

	memset(a, 0, sizeof(*a));
	if (rte_eth_dev_get_port_by_name(name, port) != 0)
		return FAIL("no port %s", name);
	if (rte_eth_dev_info_get(*port, &info) != 0 || info.device == NULL)
		return FAIL("%s: no device info", name);
	da = rte_dev_devargs(info.device);
	kv = da != NULL && da->args != NULL ?
		rte_kvargs_parse(da->args, NULL) : NULL;
	if (kv == NULL)
		return FAIL("%s: devargs cannot be read", name);
	v = rte_kvargs_get(kv, "path");
	if (v != NULL && strlen(v) < sizeof(a->path))
		strcpy(a->path, v);
	v = rte_kvargs_get(kv, "zero_copy");
	a->zero_copy = v != NULL && strcmp(v, "1") == 0;
	v = rte_kvargs_get(kv, "zc_min_len");
	a->zc_min_len = v != NULL ? (uint32_t)strtoul(v, NULL, 0) : 0;
	rte_kvargs_free(kv);
	if (a->path[0] == '\0')
		return FAIL("%s: no usable path= in its devargs", name);
	return 0;
}

/*
 * Let the current port's front-end go (link down), then serve @port on
 * @sock with a fresh front-end memory.
 */
int
switch_port(struct dp *d, uint16_t port, const char *sock)
{
	if (d->peer.sock >= 0) {
		fp_disconnect(&d->peer);
		TRYR(wait_link(d, RTE_ETH_LINK_DOWN));
	}
	fp_fini(&d->peer);
	if (fp_init(&d->peer, RING_SIZE) < 0)
		return FAIL("fake front-end: %s", d->peer.err);
	d->port = port;
	d->sock = sock;
	return 0;
}

/* ---- the peer's view ---- */

/*
 * The next used descriptor of ring @r must be at @pos (slot and wrap
 * counter), for buffer @id with length @len. The fake peer only takes it
 * as used if its AVAIL and USED bits both equal @pos's wrap counter.
 */
int
expect_pused(struct dp *d, int r, uint16_t pos, uint16_t id, uint32_t len,
		struct fp_pused *out)
{
	struct fake_peer *p = &d->peer;
	uint16_t at = fp_packed_used_pos(p, r);
	volatile struct vring_packed_desc *raw;
	struct fp_pused u;

	EXPECTR(at == pos,
		"ring %d: used descriptor expected at slot %u wrap %u, but the earlier ones lead to slot %u wrap %u",
		r, FP_POS_SLOT(pos), FP_POS_WRAP_BIT(pos), FP_POS_SLOT(at),
		FP_POS_WRAP_BIT(at));
	if (!fp_packed_used_next(p, r, &u)) {
		raw = &p->ring[r].pdesc[FP_POS_SLOT(pos)];
		return FAIL("ring %d slot %u: not used in lap %u: flags 0x%04x (AVAIL %u USED %u), id %u len %u",
			r, FP_POS_SLOT(pos), FP_POS_WRAP_BIT(pos), u.flags,
			!!(u.flags & VHOST_PCI_PDESC_F_AVAIL),
			!!(u.flags & VHOST_PCI_PDESC_F_USED), raw->id, raw->len);
	}
	EXPECTR(u.id == id && u.len == len,
		"ring %d slot %u: used id %u len %u (flags 0x%04x), want id %u len %u",
		r, FP_POS_SLOT(pos), u.id, u.len, u.flags, id, len);
	if (out != NULL)
		*out = u;
	return 0;
}

/* No used descriptor where the next one would go. */
int
expect_no_pused(struct dp *d, int r, const char *when)
{
	struct fp_pused u;

	if (fp_packed_used_next(&d->peer, r, &u))
		return FAIL("ring %d slot %u: used descriptor id %u len %u %s",
			r, FP_POS_SLOT(u.pos), u.id, u.len, when);
	return 0;
}


/* @b must hold a zero virtio-net header with num_buffers = @nbufs. */
static int
expect_hdr(const uint8_t *b, uint16_t nbufs)
{
	uint8_t hdr[HDR] = { 0 };
	long off;

	hdr[10] = nbufs & 0xff;
	hdr[11] = nbufs >> 8;
	off = first_diff(b, hdr, HDR);
	EXPECTR(off < 0, "virtio-net header byte %ld is 0x%02x, want 0x%02x",
		off, b[off], hdr[off]);
	return 0;
}

static int
expect_bytes(const uint8_t *got, const uint8_t *want, uint32_t len,
		const char *what)
{
	long off = first_diff(got, want, len);

	EXPECTR(off < 0, "%s byte %ld is 0x%02x, want 0x%02x", what, off,
		got[off], want[off]);
	return 0;
}

/* Prefix the recorded reason with "@what @i: ". */
static int
fail_at(const char *what, unsigned int i)
{
	char why[512];

	snprintf(why, sizeof(why), "%s", fail_reason());
	return FAIL("%s %u: %s", what, i, why);
}

/* Descriptor position one before @pos. */
static uint16_t
pos_back(uint16_t pos)
{
	if (FP_POS_SLOT(pos) != 0)
		return pos - 1;
	return (RING_SIZE - 1) | ((pos & FP_POS_WRAP) ^ FP_POS_WRAP);
}

/* ---- posting ---- */

/* An id the device must not echo: on every descriptor but the last. */
static uint16_t
decoy(uint16_t id)
{
	return id ^ 0x80;
}

/*
 * The header and @len bytes of @f over @n descriptors (n >= 2) of the peer
 * TX ring: the header alone in the first, the frame cut in n - 1 pieces.
 * Buffer id @id in the last, decoys in the others. Returns the position
 * of the first.
 */
static uint16_t
post_tx_chain(struct fake_peer *p, const uint8_t *f, uint32_t len,
		unsigned int n, uint16_t id)
{
	uint32_t off = 0, piece;
	unsigned int i;
	uint16_t s;

	s = FP_POS_SLOT(fp_packed_avail_pos(p, FP_TXQ));
	memset(fp_buf(p, FP_TXQ, s), 0, HDR);
	fp_packed_add(p, FP_TXQ, fp_buf_gpa(p, FP_TXQ, s), HDR, decoy(id),
		VRING_DESC_F_NEXT);
	for (i = 1; i < n; i++) {
		bool last = i == n - 1;

		piece = last ? len - off : len / (n - 1);
		s = FP_POS_SLOT(fp_packed_avail_pos(p, FP_TXQ));
		memcpy(fp_buf(p, FP_TXQ, s), f + off, piece);
		fp_packed_add(p, FP_TXQ, fp_buf_gpa(p, FP_TXQ, s), piece,
			last ? id : decoy(id), last ? 0 : VRING_DESC_F_NEXT);
		off += piece;
	}
	return fp_packed_publish(p, FP_TXQ);
}

/*
 * A writable chain on the peer RX ring: a @hdr_len-byte descriptor, then
 * one of @len bytes, both buffers filled with @fill. Buffer id @id in the
 * second. Returns the position of the first; *slots the two slots.
 */
static uint16_t
post_rx_chain(struct fake_peer *p, uint32_t hdr_len, uint32_t len,
		uint16_t id, uint8_t fill, uint16_t slots[2])
{
	int i;

	for (i = 0; i < 2; i++) {
		slots[i] = FP_POS_SLOT(fp_packed_avail_pos(p, FP_RXQ));
		memset(fp_buf(p, FP_RXQ, slots[i]), fill, FP_BUF_SIZE);
		fp_packed_add(p, FP_RXQ, fp_buf_gpa(p, FP_RXQ, slots[i]),
			i == 0 ? hdr_len : len, i == 0 ? decoy(id) : id,
			VRING_DESC_F_WRITE | (i == 0 ? VRING_DESC_F_NEXT : 0));
	}
	return fp_packed_publish(p, FP_RXQ);
}

/* One frame posted, received and given back at the expected position. */
static int
rx_one_pos(struct dp *d, const uint8_t *f, uint32_t len, uint16_t pos)
{
	uint16_t id = fp_packed_post_tx(&d->peer, f, len);

	TRYR(expect_rx(d, f, len, NULL));
	return expect_pused(d, FP_TXQ, pos, id, 0, NULL);
}

/* One frame sent into one posted buffer, used at the expected position. */
static int
tx_one_pos(struct dp *d, const uint8_t *f, uint32_t len, uint16_t pos,
		uint8_t fill)
{
	uint16_t id = fp_packed_post_rx(&d->peer, FP_BUF_SIZE, fill);

	TRYR(tx_frame(d, f, len));
	TRYR(expect_pused(d, FP_RXQ, pos, id, HDR + len, NULL));
	return expect_rx_buffer(d, id, 1, f, len, fill);
}

/* An mbuf chain of d->mp holding @len bytes of @f, 1500 a segment. */
static struct rte_mbuf *
frame_chain(struct dp *d, const uint8_t *f, uint32_t len)
{
	struct rte_mbuf *head = NULL, *m;
	uint32_t off, n;

	for (off = 0; off < len; off += n) {
		n = RTE_MIN(len - off, 1500u);
		m = frame_mbuf(d, f + off, n);
		if (m == NULL || (head != NULL &&
				rte_pktmbuf_chain(head, m) != 0)) {
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(head);
			return NULL;
		}
		if (head == NULL)
			head = m;
	}
	return head;
}

/* tx_burst must take @len bytes of @f, in 1500-byte segments. */
int
tx_long(struct dp *d, const uint8_t *f, uint32_t len)
{
	struct rte_mbuf *m = frame_chain(d, f, len);

	EXPECTR(m != NULL, "no mbufs for %u bytes", len);
	if (rte_eth_tx_burst(d->port, 0, &m, 1) != 1) {
		rte_pktmbuf_free(m);
		return FAIL("tx_burst sent 0 packets, want 1");
	}
	return 0;
}

/* ---- connect ---- */

static int
t_pk_connect(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	struct vdev_args a;
	uint16_t rx, tx;

	pk.port = d->port;
	pk.sock = d->sock;
	TRYR(vdev_find(MAIN_VDEV, &pk.main_port, &a));
	snprintf(pk.main_sock, sizeof(pk.main_sock), "%s", a.path);
	EXPECTR(!a.zero_copy, "%s has zero_copy=1", MAIN_VDEV);
	TRYR(switch_port(d, pk.main_port, pk.main_sock));
	if (peer_connect(d, F_PACKED) < 0) {
		/* The last check will not run: give d back now. */
		fp_disconnect(p);
		d->port = pk.port;
		d->sock = pk.sock;
		return -1;
	}
	rx = fp_packed_device_event(p, FP_RXQ, NULL);
	tx = fp_packed_device_event(p, FP_TXQ, NULL);
	EXPECTR(rx == VRING_PACKED_EVENT_FLAG_DISABLE && tx == VRING_PACKED_EVENT_FLAG_DISABLE,
		"device event suppression flags: RX ring %u, TX ring %u, want 1 (DISABLE) on both",
		rx, tx);
	return 0;
}

/* ---- rx: the peer's TX ring ---- */

#define RX_ID	77

static int
t_pk_rx(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t pos = fp_packed_avail_pos(p, FP_TXQ);
	uint16_t s = FP_POS_SLOT(pos);
	struct rte_eth_stats before, after;
	uint8_t *b = fp_buf(p, FP_TXQ, s);

	EXPECTR(pos == (0 | FP_POS_WRAP), "fresh ring starts at slot %u wrap %u",
		s, FP_POS_WRAP_BIT(pos));
	make_frame(frame_a, 98, 101);
	memset(b, 0, HDR);
	memcpy(b + HDR, frame_a, 98);
	TRYR(get_stats(d, &before));
	fp_packed_add(p, FP_TXQ, fp_buf_gpa(p, FP_TXQ, s), HDR + 98, RX_ID, 0);
	fp_packed_publish(p, FP_TXQ);
	TRYR(expect_rx(d, frame_a, 98, NULL));
	TRYR(expect_pused(d, FP_TXQ, pos, RX_ID, 0, NULL));
	TRYR(get_stats(d, &after));
	EXPECTR(after.ipackets == before.ipackets + 1 &&
		after.ibytes == before.ibytes + 98,
		"ipackets +%" PRIu64 " ibytes +%" PRIu64 ", want +1 and +98",
		after.ipackets - before.ipackets, after.ibytes - before.ibytes);
	return 0;
}

static int
t_pk_rx_chains(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t pos, id;

	make_frame(frame_a, 300, 102);
	pos = post_tx_chain(p, frame_a, 300, 2, 20);
	TRYR(expect_rx(d, frame_a, 300, NULL));
	TRYR(expect_pused(d, FP_TXQ, pos, 20, 0, NULL));
	make_frame(frame_b, 1000, 103);
	post_tx_chain(p, frame_b, 1000, 3, 21);
	TRYR(expect_rx(d, frame_b, 1000, NULL));
	TRYR(expect_pused(d, FP_TXQ, fp_pos_add(p, pos, 2), 21, 0, NULL));
	make_frame(frame_a, 64, 104);
	id = fp_packed_post_tx(p, frame_a, 64);
	TRYR(expect_rx(d, frame_a, 64, NULL));
	return expect_pused(d, FP_TXQ, fp_pos_add(p, pos, 5), id, 0, NULL);
}

/* ---- tx: the peer's RX ring ---- */

static int
t_pk_tx(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t pos = fp_packed_avail_pos(p, FP_RXQ), id;
	struct rte_eth_stats before, after;

	id = fp_packed_post_rx(p, FP_BUF_SIZE, 0xa5);
	make_frame(frame_a, 200, 105);
	TRYR(get_stats(d, &before));
	TRYR(tx_frame(d, frame_a, 200));
	TRYR(expect_pused(d, FP_RXQ, pos, id, HDR + 200, NULL));
	TRYR(expect_rx_buffer(d, id, 1, frame_a, 200, 0xa5));
	TRYR(get_stats(d, &after));
	EXPECTR(after.opackets == before.opackets + 1 &&
		after.obytes == before.obytes + 200,
		"opackets +%" PRIu64 " obytes +%" PRIu64 ", want +1 and +200",
		after.opackets - before.opackets, after.obytes - before.obytes);
	return 0;
}

static int
t_pk_tx_chain(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t pos, slots[2];
	const uint8_t *h, *b;

	pos = post_rx_chain(p, HDR, 2048, 30, 0xc3, slots);
	make_frame(frame_a, 500, 106);
	TRYR(tx_frame(d, frame_a, 500));
	TRYR(expect_pused(d, FP_RXQ, pos, 30, HDR + 500, NULL));
	h = fp_buf(p, FP_RXQ, slots[0]);
	b = fp_buf(p, FP_RXQ, slots[1]);
	TRYR(expect_hdr(h, 1));
	EXPECTR(h[HDR] == 0xc3, "byte after the header descriptor written");
	TRYR(expect_bytes(b, frame_a, 500, "frame"));
	EXPECTR(b[500] == 0xc3, "byte after the frame written");
	make_frame(frame_b, 80, 107);
	return tx_one_pos(d, frame_b, 80, fp_pos_add(p, pos, 2), 0x3c);
}

/* "Write Flag" (2.8): WRITE in a used descriptor says whether the device
 * wrote into the buffer.
 */
static int
t_pk_used_write_flag(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	struct fp_pused rx, tx;
	uint16_t id;

	make_frame(frame_a, 90, 108);
	id = fp_packed_post_tx(p, frame_a, 90);
	TRYR(expect_rx(d, frame_a, 90, NULL));
	TRYR(expect_pused(d, FP_TXQ, fp_packed_used_pos(p, FP_TXQ), id, 0,
		&tx));
	id = fp_packed_post_rx(p, FP_BUF_SIZE, 0);
	TRYR(tx_frame(d, frame_a, 90));
	TRYR(expect_pused(d, FP_RXQ, fp_packed_used_pos(p, FP_RXQ), id,
		HDR + 90, &rx));
	EXPECTR((rx.flags & VRING_DESC_F_WRITE) && !(tx.flags & VRING_DESC_F_WRITE),
		"used flags: written buffer 0x%04x, read buffer 0x%04x; want WRITE on the first only",
		rx.flags, tx.flags);
	return 0;
}

/* ---- notifications and interrupts ---- */

/* A TX completion with the RX ring's driver event suppression set to
 * @flags/@off_wrap: @want calls.
 */
static int
pk_tx_notify(struct dp *d, uint16_t flags, uint16_t off_wrap,
		unsigned int npkts, uint64_t want)
{
	struct fake_peer *p = &d->peer;
	uint16_t pos = fp_packed_used_pos(p, FP_RXQ), id[BURST];
	struct rte_mbuf *m[BURST];
	unsigned int i, sent;
	uint64_t calls;

	fp_packed_set_driver_event(p, FP_RXQ, flags, off_wrap);
	fp_calls(p, FP_RXQ);
	make_frame(frame_a, 70, 109);
	for (i = 0; i < npkts; i++) {
		id[i] = fp_packed_post_rx(p, FP_BUF_SIZE, 0);
		m[i] = frame_mbuf(d, frame_a, 70);
		if (m[i] == NULL) {
			free_all(m, i);
			return FAIL("no mbuf");
		}
	}
	sent = rte_eth_tx_burst(d->port, 0, m, npkts);
	free_all(m + sent, npkts - sent);
	EXPECTR(sent == npkts, "tx_burst sent %u of %u", sent, npkts);
	for (i = 0; i < npkts; i++)
		TRYR(expect_pused(d, FP_RXQ, fp_pos_add(p, pos, i), id[i],
			HDR + 70, NULL));
	calls = fp_calls(p, FP_RXQ);
	fp_packed_set_driver_event(p, FP_RXQ, VRING_PACKED_EVENT_FLAG_ENABLE, 0);
	EXPECTR(calls == want,
		"driver event flags %u off_wrap slot %u wrap %u, used slot %u wrap %u + %u: %" PRIu64 " calls, want %" PRIu64,
		flags, FP_POS_SLOT(off_wrap), FP_POS_WRAP_BIT(off_wrap),
		FP_POS_SLOT(pos), FP_POS_WRAP_BIT(pos), npkts, calls, want);
	return 0;
}

/* An RX completion with the TX ring's driver event flags @flags. */
static int
pk_rx_notify(struct dp *d, uint16_t flags, uint64_t want)
{
	struct fake_peer *p = &d->peer;
	uint64_t calls;

	fp_packed_set_driver_event(p, FP_TXQ, flags, 0);
	fp_calls(p, FP_TXQ);
	make_frame(frame_a, 70, 110);
	TRYR(rx_one_pos(d, frame_a, 70, fp_packed_avail_pos(p, FP_TXQ)));
	calls = fp_calls(p, FP_TXQ);
	fp_packed_set_driver_event(p, FP_TXQ, VRING_PACKED_EVENT_FLAG_ENABLE, 0);
	EXPECTR(calls == want,
		"TX ring driver event flags %u: %" PRIu64 " calls, want %" PRIu64,
		flags, calls, want);
	return 0;
}

static int
t_pk_notify(struct dp *d)
{
	TRYR(pk_tx_notify(d, VRING_PACKED_EVENT_FLAG_ENABLE, 0, 1, 1));
	TRYR(pk_tx_notify(d, VRING_PACKED_EVENT_FLAG_DISABLE, 0, 1, 0));
	TRYR(pk_rx_notify(d, VRING_PACKED_EVENT_FLAG_ENABLE, 1));
	return pk_rx_notify(d, VRING_PACKED_EVENT_FLAG_DISABLE, 0);
}

static int
t_pk_rx_intr(struct dp *d)
{
	uint16_t on, off, rx;
	int ret;

	ret = rte_eth_dev_rx_intr_enable(d->port, 0);
	on = fp_packed_device_event(&d->peer, FP_TXQ, NULL);
	rx = fp_packed_device_event(&d->peer, FP_RXQ, NULL);
	EXPECTR(rte_eth_dev_rx_intr_disable(d->port, 0) == 0 && ret == 0,
		"rx_intr_enable %d, or rx_intr_disable failed", ret);
	off = fp_packed_device_event(&d->peer, FP_TXQ, NULL);
	EXPECTR(on == VRING_PACKED_EVENT_FLAG_ENABLE && off == VRING_PACKED_EVENT_FLAG_DISABLE &&
		rx == VRING_PACKED_EVENT_FLAG_DISABLE,
		"peer TX ring device event flags %u with rx interrupts on, %u off (want 0, 1); RX ring %u (want 1)",
		on, off, rx);
	return 0;
}

/* ---- hostile front-end, on the ring rx_burst drains ---- */

/*
 * Publish the @ndesc descriptors staged for buffer @id: rx_burst drops
 * them, counts one ierror and gives @id back with len 0 at their position;
 * a good frame after them is received, used right after.
 */
static int
pk_rx_refused(struct dp *d, uint16_t id, uint16_t ndesc)
{
	struct rte_eth_stats before, after;
	uint16_t pos;

	TRYR(get_stats(d, &before));
	pos = fp_packed_publish(&d->peer, FP_TXQ);
	TRYR(expect_no_rx(d, "for the bad buffer"));
	TRYR(get_stats(d, &after));
	EXPECTR(after.ierrors == before.ierrors + 1,
		"ierrors went from %" PRIu64 " to %" PRIu64 ", want +1",
		before.ierrors, after.ierrors);
	TRYR(expect_pused(d, FP_TXQ, pos, id, 0, NULL));
	make_frame(frame_b, 80, 111);
	return rx_one_pos(d, frame_b, 80, fp_pos_add(&d->peer, pos, ndesc));
}

/* A frame behind a header in the next slot's buffer, staged as one
 * descriptor at @addr (0: that buffer).
 */
static void
stage_frame(struct fake_peer *p, uint64_t addr, uint16_t id, uint16_t flags)
{
	uint16_t s = FP_POS_SLOT(fp_packed_avail_pos(p, FP_TXQ));
	uint8_t *b = fp_buf(p, FP_TXQ, s);

	memset(b, 0, HDR);
	make_frame(b + HDR, 64, 112);
	fp_packed_add(p, FP_TXQ, addr != 0 ? addr : fp_buf_gpa(p, FP_TXQ, s),
		HDR + 64, id, flags);
}

static int
t_pk_bad_id(struct dp *d)
{
	stage_frame(&d->peer, 0, RING_SIZE + 3, 0);
	return pk_rx_refused(d, RING_SIZE + 3, 1);
}

static int
t_pk_bad_writable(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t s;

	s = FP_POS_SLOT(fp_packed_avail_pos(p, FP_TXQ));
	stage_frame(p, 0, s, VRING_DESC_F_WRITE);
	TRYR(pk_rx_refused(d, s, 1));
	/* Header readable, frame writable: the whole chain comes back. */
	s = FP_POS_SLOT(fp_packed_avail_pos(p, FP_TXQ));
	stage_frame(p, 0, decoy(s), VRING_DESC_F_NEXT);
	stage_frame(p, 0, s, VRING_DESC_F_WRITE);
	return pk_rx_refused(d, s, 2);
}

static int
t_pk_bad_addr(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t s;

	s = FP_POS_SLOT(fp_packed_avail_pos(p, FP_TXQ));
	stage_frame(p, p->base - 0x10000, s, 0);
	TRYR(pk_rx_refused(d, s, 1));
	s = FP_POS_SLOT(fp_packed_avail_pos(p, FP_TXQ));
	stage_frame(p, p->base + p->mem_size - 16, s, 0);
	return pk_rx_refused(d, s, 1);
}

/* An indirect table of header + frame; returns the table's address. */
static uint64_t
ind_table(struct fake_peer *p, int r, const uint8_t *f, uint32_t len,
		uint16_t flags)
{
	uint16_t s = FP_POS_SLOT(fp_packed_avail_pos(p, r));
	/* Buffers half a ring away: the next posts do not reach them. */
	uint16_t t = (s + RING_SIZE / 2) % RING_SIZE;
	uint16_t data = (t + 1) % RING_SIZE;
	struct vring_packed_desc e[2] = {
		{ fp_buf_gpa(p, r, data), HDR, 0, flags },
		{ fp_buf_gpa(p, r, data) + HDR, len, 0, flags },
	};

	if (f != NULL) {
		memset(fp_buf(p, r, data), 0, HDR);
		memcpy(fp_buf(p, r, data) + HDR, f, len);
	}
	memcpy(fp_buf(p, r, t), e, sizeof(e));
	return fp_buf_gpa(p, r, t);
}

static int
t_pk_bad_indirect(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t s = FP_POS_SLOT(fp_packed_avail_pos(p, FP_TXQ));

	make_frame(frame_a, 60, 113);
	fp_packed_add(p, FP_TXQ, ind_table(p, FP_TXQ, frame_a, 60, 0),
		2 * sizeof(struct vring_packed_desc), s, VRING_DESC_F_INDIRECT);
	return pk_rx_refused(d, s, 1);
}

/*
 * A head with NEXT before a descriptor the driver never made available
 * (its flags still those of the previous lap). "A device MUST NOT use a
 * descriptor unless it observes the VIRTQ_DESC_F_AVAIL bit in its flags
 * being changed" (2.8, device requirements on the descriptor table): the
 * frame behind that descriptor must not come out. The queue may wait or
 * stop; a new front-end recovers.
 */
static int
t_pk_bad_unavailable(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t pos = fp_packed_avail_pos(p, FP_TXQ), next, s;
	uint16_t stale;
	uint8_t *b;
	int rc;

	s = FP_POS_SLOT(pos);
	next = fp_pos_add(p, pos, 1);
	memset(fp_buf(p, FP_TXQ, s), 0, HDR);
	b = fp_buf(p, FP_TXQ, FP_POS_SLOT(next));
	make_frame(frame_a, 64, 137);
	memcpy(b, frame_a, 64);
	/* Used in the lap before @next's: not available in @next's. */
	stale = (next & FP_POS_WRAP) ? 0 : VHOST_PCI_PDESC_F_AVAIL | VHOST_PCI_PDESC_F_USED;
	fp_packed_set_desc(p, FP_TXQ, FP_POS_SLOT(next),
		fp_buf_gpa(p, FP_TXQ, FP_POS_SLOT(next)), 64, 99, stale);
	fp_packed_set_desc(p, FP_TXQ, s, fp_buf_gpa(p, FP_TXQ, s), HDR, 98,
		VRING_DESC_F_NEXT | ((pos & FP_POS_WRAP) ? VHOST_PCI_PDESC_F_AVAIL :
			VHOST_PCI_PDESC_F_USED));
	rc = expect_no_rx(d, "from a descriptor never made available");
	if (rc == 0)
		rc = expect_no_pused(d, FP_TXQ, "for a chain never completed");
	/* Whatever the PMD made of it, the next checks want a clean ring. */
	if (peer_connect(d, F_PACKED) < 0 || rc < 0)
		return -1;
	make_frame(frame_a, 82, 138);
	return rx_one_pos(d, frame_a, 82, 0 | FP_POS_WRAP);
}

/* A chain with NEXT on every descriptor of the ring never ends. */
static int
t_pk_endless(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	struct rte_eth_stats before, after;
	unsigned int i;
	uint16_t s;

	TRYR(get_stats(d, &before));
	for (i = 0; i < RING_SIZE; i++) {
		s = FP_POS_SLOT(fp_packed_avail_pos(p, FP_TXQ));
		memset(fp_buf(p, FP_TXQ, s), 0, HDR + 64);
		fp_packed_add(p, FP_TXQ, fp_buf_gpa(p, FP_TXQ, s), HDR + 64,
			s, VRING_DESC_F_NEXT);
	}
	fp_packed_publish(p, FP_TXQ);
	TRYR(expect_no_rx(d, "for a chain that never ends"));
	TRYR(get_stats(d, &after));
	EXPECTR(after.ierrors > before.ierrors,
		"ierrors stayed at %" PRIu64 " (queue not stopped)",
		after.ierrors);
	/* The next lap's first descriptor would end a walk that wraps. */
	make_frame(frame_a, 80, 114);
	fp_packed_post_tx(p, frame_a, 80);
	TRYR(expect_no_rx(d, "on a stopped queue"));
	TRYR(expect_no_pused(d, FP_TXQ, "for a chain without an end"));
	TRYR(get_stats(d, &before));
	EXPECTR(before.ierrors == after.ierrors,
		"ierrors moved on a stopped queue (%" PRIu64 " -> %" PRIu64 ")",
		after.ierrors, before.ierrors);
	/* A new front-end gets a working queue. */
	TRYR(peer_connect(d, F_PACKED));
	make_frame(frame_a, 81, 115);
	return rx_one_pos(d, frame_a, 81, 0 | FP_POS_WRAP);
}

/* ---- wrap-around ---- */

static uint16_t
nth_pos(unsigned int i)
{
	return (i % RING_SIZE) | ((i / RING_SIZE) % 2 ? 0 : FP_POS_WRAP);
}

static int
t_pk_wrap(struct dp *d)
{
	unsigned int i;
	uint32_t len;

	TRYR(peer_connect(d, F_PACKED));
	for (i = 0; i < WRAP_PKTS; i++) {
		len = 60 + i % 500;
		make_frame(frame_a, len, (uint8_t)i);
		if (rx_one_pos(d, frame_a, len, nth_pos(i)) < 0)
			return fail_at("rx packet", i);
	}
	for (i = 0; i < WRAP_PKTS; i++) {
		len = 60 + (i * 7) % 1400;
		make_frame(frame_a, len, (uint8_t)(i + 1));
		if (tx_one_pos(d, frame_a, len, nth_pos(i), (uint8_t)i) < 0)
			return fail_at("tx packet", i);
	}
	return 0;
}

/* Fill a fresh ring up to its last slot, one packet at a time. */
static int
to_last_slot(struct dp *d, int r)
{
	unsigned int i;

	make_frame(frame_b, 64, 116);
	for (i = 0; i < RING_SIZE - 1; i++)
		if ((r == FP_TXQ ? rx_one_pos(d, frame_b, 64, nth_pos(i)) :
				tx_one_pos(d, frame_b, 64, nth_pos(i), 0)) < 0)
			return fail_at("packet", i);
	return 0;
}

static int
t_pk_wrap_chain_rx(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t pos;

	TRYR(peer_connect(d, F_PACKED));
	TRYR(to_last_slot(d, FP_TXQ));
	make_frame(frame_a, 700, 117);
	pos = post_tx_chain(p, frame_a, 700, 2, 5);
	EXPECTR(pos == ((RING_SIZE - 1) | FP_POS_WRAP),
		"chain not at the last slot of the first lap");
	TRYR(expect_rx(d, frame_a, 700, NULL));
	TRYR(expect_pused(d, FP_TXQ, pos, 5, 0, NULL));
	make_frame(frame_a, 90, 118);
	return rx_one_pos(d, frame_a, 90, 1);
}

static int
t_pk_wrap_chain_tx(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t pos, slots[2];
	const uint8_t *b;

	TRYR(peer_connect(d, F_PACKED));
	TRYR(to_last_slot(d, FP_RXQ));
	pos = post_rx_chain(p, HDR, 2048, 6, 0x77, slots);
	EXPECTR(pos == ((RING_SIZE - 1) | FP_POS_WRAP) && slots[1] == 0,
		"chain not across the ring end");
	make_frame(frame_a, 1000, 119);
	TRYR(tx_frame(d, frame_a, 1000));
	TRYR(expect_pused(d, FP_RXQ, pos, 6, HDR + 1000, NULL));
	TRYR(expect_hdr(fp_buf(p, FP_RXQ, slots[0]), 1));
	b = fp_buf(p, FP_RXQ, slots[1]);
	TRYR(expect_bytes(b, frame_a, 1000, "frame"));
	EXPECTR(b[1000] == 0x77, "byte after the frame written");
	make_frame(frame_b, 90, 120);
	return tx_one_pos(d, frame_b, 90, 1, 0x78);
}

/* ---- MRG_RXBUF ---- */

static int
t_pk_mrg(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t pos, id[3];
	const uint8_t *b[3];
	int i;

	TRYR(peer_connect(d, F_PACKED | FP_F_MRG_RXBUF));
	pos = fp_packed_avail_pos(p, FP_RXQ);
	for (i = 0; i < 3; i++) {
		id[i] = fp_packed_post_rx(p, 1024, 0x33);
		b[i] = fp_buf(p, FP_RXQ, id[i]);
	}
	make_frame(frame_a, 3000, 121);
	TRYR(tx_long(d, frame_a, 3000));
	TRYR(expect_pused(d, FP_RXQ, pos, id[0], 1024, NULL));
	TRYR(expect_pused(d, FP_RXQ, fp_pos_add(p, pos, 1), id[1], 1024, NULL));
	TRYR(expect_pused(d, FP_RXQ, fp_pos_add(p, pos, 2), id[2],
		HDR + 3000 - 2048, NULL));
	TRYR(expect_hdr(b[0], 3));
	memcpy(scratch, b[0] + HDR, 1024 - HDR);
	memcpy(scratch + 1024 - HDR, b[1], 1024);
	memcpy(scratch + 2048 - HDR, b[2], HDR + 3000 - 2048);
	TRYR(expect_bytes(scratch, frame_a, 3000, "frame"));
	EXPECTR(b[0][1024] == 0x33 && b[1][1024] == 0x33 &&
		b[2][HDR + 3000 - 2048] == 0x33,
		"a buffer was written past its length or the frame's end");
	return 0;
}

/* ---- indirect ---- */

static int
t_pk_indirect(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t pos;

	TRYR(peer_connect(d, F_PACKED | FP_F_INDIRECT));
	EXPECTR(p->offered & FP_F_INDIRECT, "INDIRECT_DESC not offered");
	make_frame(frame_a, 600, 122);
	fp_packed_add(p, FP_TXQ, ind_table(p, FP_TXQ, frame_a, 600, 0),
		2 * sizeof(struct vring_packed_desc), 40, VRING_DESC_F_INDIRECT);
	pos = fp_packed_publish(p, FP_TXQ);
	TRYR(expect_rx(d, frame_a, 600, NULL));
	TRYR(expect_pused(d, FP_TXQ, pos, 40, 0, NULL));
	make_frame(frame_b, 70, 123);
	return rx_one_pos(d, frame_b, 70, fp_pos_add(p, pos, 1));
}

static int
t_pk_indirect_tx(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t s = FP_POS_SLOT(fp_packed_avail_pos(p, FP_RXQ)), pos;
	uint16_t data = (s + RING_SIZE / 2 + 1) % RING_SIZE;
	uint8_t *b = fp_buf(p, FP_RXQ, data);

	memset(b, 0x44, FP_BUF_SIZE);
	fp_packed_add(p, FP_RXQ, ind_table(p, FP_RXQ, NULL, 1024,
		VRING_DESC_F_WRITE), 2 * sizeof(struct vring_packed_desc), 41,
		VRING_DESC_F_INDIRECT);
	pos = fp_packed_publish(p, FP_RXQ);
	make_frame(frame_a, 900, 124);
	TRYR(tx_frame(d, frame_a, 900));
	TRYR(expect_pused(d, FP_RXQ, pos, 41, HDR + 900, NULL));
	TRYR(expect_hdr(b, 1));
	TRYR(expect_bytes(b + HDR, frame_a, 900, "frame"));
	EXPECTR(b[HDR + 900] == 0x44, "byte after the frame written");
	make_frame(frame_b, 70, 125);
	return tx_one_pos(d, frame_b, 70, fp_pos_add(p, pos, 1), 0x45);
}

/* ---- EVENT_IDX: RING_EVENT_FLAGS_DESC ---- */

static int
t_pk_event_desc(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t u;

	TRYR(peer_connect(d, F_PACKED | FP_F_EVENT_IDX));
	u = fp_packed_used_pos(p, FP_RXQ);
	TRYR(pk_tx_notify(d, VRING_PACKED_EVENT_FLAG_DESC, u, 1, 1));
	u = fp_packed_used_pos(p, FP_RXQ);
	TRYR(pk_tx_notify(d, VRING_PACKED_EVENT_FLAG_DESC, fp_pos_add(p, u, 10), 1, 0));
	u = fp_packed_used_pos(p, FP_RXQ);
	TRYR(pk_tx_notify(d, VRING_PACKED_EVENT_FLAG_DESC, pos_back(u), 1, 0));
	/* A burst of 3 that writes the entry at off_wrap: one call. */
	u = fp_packed_used_pos(p, FP_RXQ);
	return pk_tx_notify(d, VRING_PACKED_EVENT_FLAG_DESC, fp_pos_add(p, u, 1), 3, 1);
}

static int
t_pk_event_desc_wrap(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t u;
	int i;

	/* Bring the RX ring's used position 2 short of the ring end. */
	make_frame(frame_b, 64, 126);
	u = fp_packed_used_pos(p, FP_RXQ);
	for (i = FP_POS_SLOT(u); i < (int)RING_SIZE - 2; i++)
		TRYR(tx_one_pos(d, frame_b, 64, fp_packed_used_pos(p, FP_RXQ),
			0));
	/* off_wrap in the next lap: slot 0, wrap toggled. 3 entries reach
	 * it (slots RING_SIZE - 2, RING_SIZE - 1, 0).
	 */
	u = fp_packed_used_pos(p, FP_RXQ);
	TRYR(pk_tx_notify(d, VRING_PACKED_EVENT_FLAG_DESC, fp_pos_add(p, u, 2), 3, 1));
	/* Same slot, wrong lap: no call. */
	u = fp_packed_used_pos(p, FP_RXQ);
	return pk_tx_notify(d, VRING_PACKED_EVENT_FLAG_DESC, u ^ FP_POS_WRAP, 1, 0);
}

/* ---- IN_ORDER ---- */

static int
t_pk_in_order(struct dp *d)
{
	static const unsigned int ndesc[4] = { 1, 2, 1, 3 };
	static const uint32_t len[4] = { 100, 700, 1500, 1200 };
	struct fake_peer *p = &d->peer;
	struct rte_mbuf *pkts[BURST];
	uint16_t pos, ids[4], n, k, covered = 0, idx = 0;
	struct fp_pused u;
	int i, rc = 0;

	TRYR(peer_connect(d, F_PACKED | FP_F_IN_ORDER));
	EXPECTR(p->offered & FP_F_IN_ORDER, "IN_ORDER not offered");
	pos = fp_packed_avail_pos(p, FP_TXQ);
	for (i = 0; i < 4; i++) {
		make_frame(frames[i], len[i], 127 + i);
		if (ndesc[i] == 1) {
			ids[i] = fp_packed_post_tx(p, frames[i], len[i]);
		} else {
			ids[i] = 60 + i;
			post_tx_chain(p, frames[i], len[i], ndesc[i], ids[i]);
		}
	}
	n = rte_eth_rx_burst(d->port, 0, pkts, BURST);
	for (k = 0; k < n && k < 4 && rc == 0; k++) {
		const uint8_t *data = rte_pktmbuf_read(pkts[k], 0, len[k],
			scratch);

		if (pkts[k]->pkt_len != len[k] || data == NULL ||
				memcmp(data, frames[k], len[k]) != 0)
			rc = FAIL("packet %u: %u bytes or content differs",
				k, pkts[k]->pkt_len);
	}
	free_all(pkts, n);
	TRYR(rc);
	EXPECTR(n == 4, "rx_burst returned %u packets, want 4", n);
	/* One used descriptor per buffer, or fewer standing for batches:
	 * in order, the last for the last buffer, 7 descriptors in all.
	 */
	while (covered < 7) {
		if (!fp_packed_used_next(p, FP_TXQ, &u))
			return FAIL("used descriptors cover %u of 7 descriptors",
				covered);
		while (idx < 4 && ids[idx] != u.id)
			idx++;
		EXPECTR(idx < 4 && u.len == 0,
			"used id %u len %u at slot %u: not a later buffer, or len not 0",
			u.id, u.len, FP_POS_SLOT(u.pos));
		covered += u.ndesc;
		idx++;
	}
	EXPECTR(covered == 7 && idx == 4,
		"used descriptors cover %u descriptors up to buffer %u, want 7 up to 4",
		covered, idx);
	make_frame(frame_a, 64, 131);
	return rx_one_pos(d, frame_a, 64, fp_pos_add(p, pos, 7));
}

static int
t_pk_in_order_tx(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t pos, id[3], idx = 0, covered = 0;
	struct rte_mbuf *m[3];
	struct fp_pused u;
	unsigned int sent;
	int i;

	pos = fp_packed_avail_pos(p, FP_RXQ);
	for (i = 0; i < 3; i++) {
		id[i] = fp_packed_post_rx(p, FP_BUF_SIZE, 0x55);
		make_frame(frames[i], 200 + 300 * i, 132 + i);
		m[i] = frame_mbuf(d, frames[i], 200 + 300 * i);
		if (m[i] == NULL) {
			free_all(m, i);
			return FAIL("no mbuf");
		}
	}
	sent = rte_eth_tx_burst(d->port, 0, m, 3);
	free_all(m + sent, 3 - sent);
	EXPECTR(sent == 3, "tx_burst sent %u of 3", sent);
	for (i = 0; i < 3; i++)
		if (expect_rx_buffer(d, id[i], 1, frames[i], 200 + 300 * i,
				0x55) < 0)
			return fail_at("buffer", i);
	/* A used descriptor for a buffer the device wrote has its length. */
	while (covered < 3) {
		if (!fp_packed_used_next(p, FP_RXQ, &u))
			return FAIL("used descriptors cover %u of 3 buffers",
				covered);
		while (idx < 3 && id[idx] != u.id)
			idx++;
		EXPECTR(idx < 3 && u.len == HDR + 200 + 300u * idx,
			"used id %u len %u: not a later buffer or wrong length",
			u.id, u.len);
		covered += u.ndesc;
		idx++;
	}
	EXPECTR(covered == 3 && idx == 3, "used descriptors cover %u of 3",
		covered);
	make_frame(frame_a, 64, 135);
	return tx_one_pos(d, frame_a, 64, fp_pos_add(p, pos, 3), 0x56);
}

/* ---- where the rings start, and their size ---- */

/* @n frames each way one at a time from @start, at consecutive slots. */
static int
traffic_from(struct dp *d, uint16_t start, unsigned int n)
{
	struct fake_peer *p = &d->peer;
	unsigned int i;
	uint32_t len;

	for (i = 0; i < n; i++) {
		len = 60 + (i * 13) % 1000;
		make_frame(frame_a, len, (uint8_t)(i + 7));
		if (rx_one_pos(d, frame_a, len, fp_pos_add(p, start, i)) < 0)
			return fail_at("rx packet", i);
		if (tx_one_pos(d, frame_a, len, fp_pos_add(p, start, i),
				(uint8_t)i) < 0)
			return fail_at("tx packet", i);
	}
	return 0;
}

/* SET_VRING_BASE 100 | wrap 0, as a reconnecting front-end may send. */
static int
t_pk_base(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t start = 100;
	int rc;

	p->packed_base = start;
	rc = peer_connect(d, F_PACKED);
	p->packed_base = FP_POS_WRAP;
	TRYR(rc);
	EXPECTR(fp_packed_avail_pos(p, FP_TXQ) == start,
		"the peer does not start at slot 100 wrap 0");
	/* Past the ring end into lap 1: 160 frames reach slot 4. */
	return traffic_from(d, start, 160);
}

/*
 * A packed ring's Queue Size need not be a power of two ("Structure Size
 * and Alignment", 2.8), and DPDK's virtio driver only asks split rings to
 * be one. 200 descriptors, traffic across the end of the ring twice.
 */
#define ODD_SIZE	200u

static int
t_pk_odd_size(struct dp *d)
{
	int rc;

	fp_fini(&d->peer);
	if (fp_init(&d->peer, ODD_SIZE) < 0)
		rc = FAIL("fake front-end: %s", d->peer.err);
	else if (peer_connect(d, F_PACKED) < 0)
		rc = fail_at("connect with ring size", ODD_SIZE);
	else
		rc = traffic_from(d, 0 | FP_POS_WRAP, 2 * ODD_SIZE + 10);
	/* The other checks want the usual ring back, whatever happened. */
	fp_disconnect(&d->peer);
	if (wait_link(d, RTE_ETH_LINK_DOWN) < 0 && rc == 0)
		rc = -1;
	fp_fini(&d->peer);
	if (fp_init(&d->peer, RING_SIZE) < 0 && rc == 0)
		rc = FAIL("fake front-end: %s", d->peer.err);
	return rc;
}

/* ---- zero-copy RX on net_vhost_pci1 ---- */


/*
 * The file offset @addr maps, if it lies in a mapping of the same file as
 * @fd (the peer's memfd). The PMD maps that file into its own BAR, so the
 * address is not in p->mem, but it is the same pages.
 */
static int
memfd_offset(const void *addr, int fd, uint64_t *off)
{
	static char line[4352];
	unsigned long start, end, foff, ino;
	uintptr_t a = (uintptr_t)addr;
	struct stat st;
	int ret = -1;
	FILE *f;

	if (fstat(fd, &st) < 0)
		return -1;
	f = fopen("/proc/self/maps", "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx %*s %lx %*s %lu", &start, &end,
				&foff, &ino) != 4 || a < start || a >= end)
			continue;
		if (ino == st.st_ino) {
			*off = foff + (a - start);
			ret = 0;
		}
		break;
	}
	fclose(f);
	return ret;
}

/*
 * @m must be lent: an external buffer, one segment holding @len bytes of
 * @f, that are the bytes at guest address @gpa of the peer's memory.
 */
static int
expect_lent(struct dp *d, struct rte_mbuf *m, uint64_t gpa,
		const uint8_t *f, uint32_t len)
{
	struct fake_peer *p = &d->peer;
	uint8_t *data = rte_pktmbuf_mtod(m, uint8_t *), *peer, old, flip;
	uint64_t off = 0;
	bool same;

	EXPECTR(RTE_MBUF_HAS_EXTBUF(m) && m->nb_segs == 1 &&
		m->pkt_len == len,
		"not lent: ext %d, %u segments, %u bytes",
		!!RTE_MBUF_HAS_EXTBUF(m), m->nb_segs, m->pkt_len);
	TRYR(expect_bytes(data, f, len, "lent frame"));
	EXPECTR(memfd_offset(data, p->memfd, &off) == 0 &&
		off == gpa - p->base,
		"data at %p is not the peer's memory at offset 0x%" PRIx64
		" (mapped offset 0x%" PRIx64 ")", (void *)data, gpa - p->base,
		off);
	/* And it is the same memory: a change by the peer shows. */
	peer = fp_ptr(p, gpa, len);
	old = peer[len / 2];
	flip = old ^ 0xff;
	peer[len / 2] = flip;
	same = ((volatile uint8_t *)data)[len / 2] == flip;
	peer[len / 2] = old;
	EXPECTR(same, "a byte the peer changed does not show in the mbuf");
	return 0;
}

int
zc_vdev_get(struct dp *d, struct zc_vdev *z, const char *new_sock)
{
	struct vdev_args a;
	char args[400];
	uint16_t port;

	/* What the zero-copy phase left, if it is still there. */
	if (rte_eth_dev_get_port_by_name(ZC_VDEV, &port) == 0) {
		TRYR(vdev_find(ZC_VDEV, &port, &a));
		EXPECTR(a.zero_copy && a.zc_min_len > 64 && a.zc_min_len < 300,
			"%s: zero_copy %d, zc_min_len %u; want 1 and 65..299",
			ZC_VDEV, a.zero_copy, a.zc_min_len);
		snprintf(z->sock, sizeof(z->sock), "%s", a.path);
		z->port = port;
		return switch_port(d, port, z->sock);
	}
	snprintf(z->sock, sizeof(z->sock), "%s", new_sock);
	snprintf(args, sizeof(args), "path=%s,zero_copy=1,zc_min_len=%u",
		z->sock, ZC_MIN_LEN);
	EXPECTR(rte_vdev_init(ZC_VDEV, args) == 0, "vdev %s,%s refused",
		ZC_VDEV, args);
	z->created = true;
	EXPECTR(rte_eth_dev_get_port_by_name(ZC_VDEV, &port) == 0, "no port");
	z->port = port;
	TRYR(switch_port(d, port, z->sock));
	return port_setup(d);
}

int
zc_vdev_put(struct zc_vdev *z)
{
	int ret;

	if (!z->created)
		return 0;
	/* Removing the vdev closes the port. */
	rte_eth_dev_stop(z->port);
	ret = rte_vdev_uninit(ZC_VDEV);
	unlink(z->sock);
	z->created = false;
	EXPECTR(ret == 0, "rte_vdev_uninit(%s): %d", ZC_VDEV, ret);
	return 0;
}

static int
t_pk_zc_setup(struct dp *d)
{
	char sock[sizeof(pk.zc.sock)];

	snprintf(sock, sizeof(sock), "%s.pzc", pk.main_sock);
	TRYR(zc_vdev_get(d, &pk.zc, sock));
	return peer_connect(d, F_PACKED);
}

static int
t_pk_zc_offered(struct dp *d)
{
	EXPECTR((d->peer.offered & F_PACKED) &&
		!(d->peer.offered & FP_F_IN_ORDER),
		"a zero_copy=1 port offers 0x%" PRIx64
		": want RING_PACKED and not IN_ORDER", d->peer.offered);
	return 0;
}

static int
t_pk_zc_lend(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t pos = fp_packed_avail_pos(p, FP_TXQ), id, n;
	struct rte_mbuf *m, *none[4];
	int rc;

	make_frame(frame_a, 300, 140);
	id = fp_packed_post_tx(p, frame_a, 300);
	m = rx_one(d);
	EXPECTR(m != NULL, "no packet");
	rc = expect_lent(d, m, fp_buf_gpa(p, FP_TXQ, id) + HDR, frame_a, 300);
	if (rc == 0)
		rc = expect_no_pused(d, FP_TXQ, "while its mbuf is out");
	rte_pktmbuf_free(m);
	TRYR(rc);
	n = rte_eth_rx_burst(d->port, 0, none, 4);
	free_all(none, n);
	EXPECTR(n == 0, "%u phantom packets", n);
	return expect_pused(d, FP_TXQ, pos, id, 0, NULL);
}

/*
 * A (2 descriptors) and B (1) lent, B freed first: B's used descriptor
 * takes A's first slot, A's the next one, and the ring goes on after
 * all 3 descriptors.
 */
static int
t_pk_zc_reverse(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t pos = fp_packed_avail_pos(p, FP_TXQ), ida = 50, idb, n, s;
	struct rte_mbuf *ma, *mb, *none[4];
	int rc;

	make_frame(frame_a, 400, 141);
	make_frame(frame_b, 500, 142);
	post_tx_chain(p, frame_a, 400, 2, ida);
	idb = fp_packed_post_tx(p, frame_b, 500);
	ma = rx_one(d);
	mb = rx_one(d);
	if (ma == NULL || mb == NULL) {
		rte_pktmbuf_free(ma);
		rte_pktmbuf_free(mb);
		return FAIL("got %d of 2 packets", (ma != NULL) + (mb != NULL));
	}
	s = FP_POS_SLOT(fp_pos_add(p, pos, 1));
	rc = expect_lent(d, ma, fp_buf_gpa(p, FP_TXQ, s), frame_a, 400);
	if (rc == 0)
		rc = expect_lent(d, mb, fp_buf_gpa(p, FP_TXQ, idb) + HDR,
			frame_b, 500);
	if (rc == 0)
		rc = expect_no_pused(d, FP_TXQ, "while both mbufs are out");
	rte_pktmbuf_free(mb);
	if (rc < 0) {
		rte_pktmbuf_free(ma);
		return -1;
	}
	n = rte_eth_rx_burst(d->port, 0, none, 4);
	free_all(none, n);
	rc = n == 0 ? expect_pused(d, FP_TXQ, pos, idb, 0, NULL) :
		FAIL("%u phantom packets", n);
	if (rc == 0)
		rc = expect_no_pused(d, FP_TXQ, "for A while its mbuf is out");
	rte_pktmbuf_free(ma);
	TRYR(rc);
	n = rte_eth_rx_burst(d->port, 0, none, 4);
	free_all(none, n);
	EXPECTR(n == 0, "%u phantom packets", n);
	TRYR(expect_pused(d, FP_TXQ, fp_pos_add(p, pos, 1), ida, 0, NULL));
	/* Short: copied, back at once, after A's two descriptors. */
	make_frame(frame_a, 60, 143);
	idb = fp_packed_post_tx(p, frame_a, 60);
	ma = rx_one(d);
	EXPECTR(ma != NULL, "no packet");
	rc = RTE_MBUF_HAS_EXTBUF(ma) ? FAIL("a 60-byte frame was lent") : 0;
	rte_pktmbuf_free(ma);
	TRYR(rc);
	return expect_pused(d, FP_TXQ, fp_pos_add(p, pos, 3), idb, 0, NULL);
}

/* ---- the end ---- */

static int
t_pk_restore(struct dp *d)
{
	struct rte_eth_link l;
	int rc;

	rc = switch_port(d, pk.port, pk.sock);
	TRYR(zc_vdev_put(&pk.zc));
	TRYR(rc);
	memset(&l, 0, sizeof(l));
	EXPECTR(rte_eth_link_get_nowait(pk.main_port, &l) == 0 &&
		l.link_status == RTE_ETH_LINK_DOWN,
		"%s link status %u without a front-end", MAIN_VDEV,
		l.link_status);
	return 0;
}

const struct dp_check phase_packed[] = {
	{ "packed: link comes up with VIRTIO_F_RING_PACKED acked; both rings' device event suppression flags read DISABLE",
		t_pk_connect },
	{ "packed rx: a frame on the peer TX ring is received byte-exact (stats +1 packet, +98 bytes); its used descriptor at slot 0 carries id 77, len 0, AVAIL=USED=1",
		t_pk_rx },
	{ "packed rx: 2- and 3-descriptor chains are received byte-exact, each returned once with the last descriptor's id; the next used descriptors follow after 2 and 3 slots",
		t_pk_rx_chains },
	{ "packed tx: a frame lands in a posted peer RX buffer behind a header with num_buffers=1, fill untouched after it; used len 12 + frame length (stats +1, +200)",
		t_pk_tx },
	{ "packed tx: a writable 2-descriptor chain gets the header in the first and the frame in the second; one used descriptor (last id, len 512), the next one 2 slots on",
		t_pk_tx_chain },
	{ "packed: used descriptors carry WRITE for buffers the device wrote, not for buffers it only read",
		t_pk_used_write_flag },
	{ "packed notify: driver event flags ENABLE get a call after tx (ring 0) and rx (ring 1) completions, DISABLE none",
		t_pk_notify },
	{ "packed rx interrupt: enabling sets the peer TX ring's device event flags to ENABLE, disabling back to DISABLE",
		t_pk_rx_intr },
	{ "class 9 (packed): packed rx: a buffer id >= ring size is dropped, ierrors +1, returned with len 0; the next frame is received",
		t_pk_bad_id },
	{ "class 6 (permissions): packed rx: a writable descriptor on the peer TX ring (alone, or ending a chain) is dropped, ierrors +1, returned with len 0 over the whole chain",
		t_pk_bad_writable },
	{ "class 4 (addr-len): packed rx: a descriptor below the memory or straddling its end is dropped, ierrors +1, returned; the next frame is received",
		t_pk_bad_addr },
	{ "class 3 (indirect): packed rx: INDIRECT without VIRTIO_RING_F_INDIRECT_DESC negotiated is dropped, ierrors +1, returned",
		t_pk_bad_indirect },
	{ "class 9 (packed): packed rx: a head whose NEXT descriptor was never made available (flags of the previous lap) gives no packet and no used descriptor; a new front-end gets traffic again",
		t_pk_bad_unavailable },
	{ "class 2 (desc-loop): packed rx: a chain with NEXT on all ring size descriptors stops the queue (ierrors, nothing received or used, not even with the next lap's descriptor); a new front-end gets traffic again",
		t_pk_endless },
	{ "packed wrap: 520 frames each way one at a time: every frame byte-exact, every used descriptor at slot i mod 256 with AVAIL=USED = the lap's wrap counter",
		t_pk_wrap },
	{ "packed wrap: an rx chain across the ring end (second descriptor in the next lap) is received; the next used descriptor is at slot 1, wrap 0",
		t_pk_wrap_chain_rx },
	{ "packed wrap: a writable tx chain across the ring end gets header and frame; the next used descriptor is at slot 1, wrap 0",
		t_pk_wrap_chain_tx },
	{ "packed MRG_RXBUF: a 3000-byte frame fills 3 peer buffers of 1024, num_buffers=3, used lens 1024, 1024, 964 in consecutive slots",
		t_pk_mrg },
	{ "packed MRG_RXBUF: the first of 3 buffers of one frame is marked used only after the other two (multi-buffer requests; hardware watchpoint on its flags)",
		t_pk_mrg_order },
	{ "packed indirect rx: a frame described by a 2-entry indirect table is received byte-exact; returned with the ring descriptor's id, one slot used",
		t_pk_indirect },
	{ "packed indirect tx: a frame lands in a 2-entry writable indirect table (header, then buffer); used len 12 + frame, one slot used",
		t_pk_indirect_tx },
	{ "packed EVENT_IDX: DESC with off_wrap at the next used slot signals once, 10 ahead or just passed does not, a 3-frame burst reaching it signals once",
		t_pk_event_desc },
	{ "packed EVENT_IDX: off_wrap in the next lap signals when the ring wraps onto it; the same slot in the wrong lap does not",
		t_pk_event_desc_wrap },
	{ "packed IN_ORDER: 4 frames in 1+2+1+3 descriptors are received in order; used descriptors (per buffer or batched) end with the last id and cover 7 slots",
		t_pk_in_order },
	{ "packed IN_ORDER: a 3-frame tx burst fills 3 buffers in order; each used descriptor has its buffer's length; the next one 3 slots on",
		t_pk_in_order_tx },
	{ "packed: a front-end starting at vring base 100 | wrap 0 passes 160 frames each way at slots 100..255 (lap 0) then 0..3 (lap 1)",
		t_pk_base },
	{ "packed: a 200-descriptor ring (not a power of two, allowed for packed rings) comes up and passes 410 frames each way across its end",
		t_pk_odd_size },
	{ "packed zero-copy: the zero_copy=1 port comes up with RING_PACKED acked",
		t_pk_zc_setup },
	{ "packed zero-copy: the zero_copy=1 port offers RING_PACKED but not IN_ORDER",
		t_pk_zc_offered },
	{ "packed zero-copy: a 300-byte frame is lent (external buffer mapping the peer's memfd at the buffer's offset); its used descriptor appears only after the free",
		t_pk_zc_lend },
	{ "packed zero-copy: two lent mbufs freed in reverse order are used in that order (B's id at A's slot, A's id next), and the ring goes on after A's 2 + B's 1 descriptors",
		t_pk_zc_reverse },
	{ "class 13 (zc-lifetime): packed: a memory table update with 2 mbufs lent: a 3rd is lent after it, and the used descriptors follow the frees from the first lent one's slot (none skipped, none forfeit)",
		t_pk_zc_remap },
	{ "packed: the front-end leaves, d->port and d->sock are given back (a zero-copy vdev created here is removed); net_vhost_pci0 is link down",
		t_pk_restore },
};

const size_t phase_packed_len = RTE_DIM(phase_packed);
