/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/* test_vpci_datapath: the EVENT_IDX and MRG_RXBUF phases. */

#include <inttypes.h>
#include <string.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "datapath.h"

/* ---- phase 3: EVENT_IDX ---- */

static int
t_connect_event_idx(struct dp *d)
{
	return peer_connect(d, FP_F_EVENT_IDX);
}

/* @npkts TX completions with used_event = used->idx + @ev_off and
 * avail->flags = @flags: @want calls.
 */
static int
ev_tx(struct dp *d, int ev_off, uint16_t flags, unsigned int npkts,
		uint64_t want)
{
	uint16_t u = fp_used_idx(&d->peer, FP_RXQ), head[BURST];
	struct rte_mbuf *m[BURST];
	unsigned int i, sent;
	uint64_t calls;

	fp_set_used_event(&d->peer, FP_RXQ, (uint16_t)(u + ev_off));
	fp_set_avail_flags(&d->peer, FP_RXQ, flags);
	fp_calls(&d->peer, FP_RXQ);
	make_frame(frame_a, 70, 50);
	for (i = 0; i < npkts; i++) {
		head[i] = fp_post_rx(&d->peer, FP_BUF_SIZE, 0);
		m[i] = frame_mbuf(d, frame_a, 70);
		EXPECTR(m[i] != NULL, "no mbuf");
	}
	sent = rte_eth_tx_burst(d->port, 0, m, npkts);
	free_all(m + sent, npkts - sent);
	EXPECTR(sent == npkts, "tx_burst sent %u of %u", sent, npkts);
	for (i = 0; i < npkts; i++)
		TRYR(expect_used(d, FP_RXQ, head[i], FP_NET_HDR_LEN + 70));
	calls = fp_calls(&d->peer, FP_RXQ);
	fp_set_avail_flags(&d->peer, FP_RXQ, 0);
	EXPECTR(calls == want, "used_event %u, used->idx %u -> %u: call count %"
		PRIu64 ", want %" PRIu64, (uint16_t)(u + ev_off), u,
		(uint16_t)(u + npkts), calls, want);
	return 0;
}

/* One RX completion with TX-ring used_event = used->idx + @ev_off. */
static int
ev_rx(struct dp *d, int ev_off, uint64_t want)
{
	uint16_t u = fp_used_idx(&d->peer, FP_TXQ), head;
	uint64_t calls;

	fp_set_used_event(&d->peer, FP_TXQ, (uint16_t)(u + ev_off));
	fp_calls(&d->peer, FP_TXQ);
	make_frame(frame_a, 70, 51);
	head = fp_post_tx(&d->peer, frame_a, 70);
	TRYR(expect_rx(d, frame_a, 70, NULL));
	TRYR(expect_used(d, FP_TXQ, head, 0));
	calls = fp_calls(&d->peer, FP_TXQ);
	EXPECTR(calls == want, "used_event %u, used->idx %u -> %u: call count %"
		PRIu64 ", want %" PRIu64, (uint16_t)(u + ev_off), u,
		(uint16_t)(u + 1), calls, want);
	return 0;
}

static int
t_ev_tx_reached(struct dp *d)
{
	return ev_tx(d, 0, 0, 1, 1);
}

static int
t_ev_tx_ahead(struct dp *d)
{
	return ev_tx(d, 100, 0, 1, 0);
}

static int
t_ev_tx_passed(struct dp *d)
{
	return ev_tx(d, -1, 0, 1, 0);
}

static int
t_ev_flags_ignored(struct dp *d)
{
	return ev_tx(d, 0, VRING_AVAIL_F_NO_INTERRUPT, 1, 1);
}

static int
t_ev_tx_burst_once(struct dp *d)
{
	return ev_tx(d, 1, 0, 3, 1);
}

static int
t_ev_rx(struct dp *d)
{
	TRYR(ev_rx(d, 0, 1));
	return ev_rx(d, 100, 0);
}

const struct dp_check phase_event_idx[] = {
	{ "EVENT_IDX: link comes up with VIRTIO_RING_F_EVENT_IDX negotiated",
		t_connect_event_idx },
	{ "EVENT_IDX: a tx completion reaching used_event + 1 signals the RX-ring call eventfd",
		t_ev_tx_reached },
	{ "EVENT_IDX: used_event far ahead (+100) leaves the RX-ring call eventfd silent",
		t_ev_tx_ahead },
	{ "EVENT_IDX: used_event already passed leaves the RX-ring call eventfd silent",
		t_ev_tx_passed },
	{ "EVENT_IDX: avail->flags NO_INTERRUPT is ignored, used_event decides",
		t_ev_flags_ignored },
	{ "EVENT_IDX: a 3-packet tx burst crossing used_event signals exactly once",
		t_ev_tx_burst_once },
	{ "EVENT_IDX: an rx completion reaching used_event + 1 signals the TX-ring call eventfd, used_event far ahead does not",
		t_ev_rx },
};

const size_t phase_event_idx_len = RTE_DIM(phase_event_idx);

/* ---- phase 4: MRG_RXBUF ---- */

static int
t_connect_mrg(struct dp *d)
{
	return peer_connect(d, FP_F_MRG_RXBUF);
}

static int
t_mrg_spans(struct dp *d)
{
	const uint8_t *b0, *b1;
	uint16_t h0, h1;
	long off;

	h0 = fp_post_rx(&d->peer, 1024, 0x33);
	h1 = fp_post_rx(&d->peer, 1024, 0x33);
	make_frame(frame_a, 1500, 60);
	TRYR(tx_frame(d, frame_a, 1500));
	TRYR(expect_used(d, FP_RXQ, h0, 1024));
	TRYR(expect_used(d, FP_RXQ, h1, FP_NET_HDR_LEN + 1500 - 1024));
	b0 = fp_buf(&d->peer, FP_RXQ, h0);
	b1 = fp_buf(&d->peer, FP_RXQ, h1);
	EXPECTR(b0[10] == 2 && b0[11] == 0, "num_buffers %u, want 2",
		b0[10] | b0[11] << 8);
	memcpy(scratch, b0 + FP_NET_HDR_LEN, 1024 - FP_NET_HDR_LEN);
	memcpy(scratch + 1024 - FP_NET_HDR_LEN, b1,
		1500 - (1024 - FP_NET_HDR_LEN));
	off = first_diff(scratch, frame_a, 1500);
	EXPECTR(off < 0, "frame byte %ld is 0x%02x, want 0x%02x", off,
		scratch[off], frame_a[off]);
	return 0;
}

/* Child of t_mrg_zero_len: two bursts from one call site, one frame each,
 * so the second runs on the stack the first left behind.
 */

/* Two single-frame bursts. In this process: a fork after EAL shares the
 * mempool with the child, and an mbuf freed on both sides is freed twice.
 * A crash here fails the whole program, which devtools/test.sh reports.
 */
static int
two_bursts(struct dp *d, struct rte_mbuf **m)
{
	uint16_t i, sent = 0;

	for (i = 0; i < 2; i++) {
		if (rte_eth_tx_burst(d->port, 0, &m[i], 1) == 1)
			sent++;
		else
			rte_pktmbuf_free(m[i]);
	}
	EXPECTR(sent == 2, "tx_burst took %u of 2 frames", sent);
	return 0;
}

/* A zero-length writable chain at the next RX slot; returns the slot. */
static uint16_t
post_zero_len_rx(struct fake_peer *p, uint8_t fill)
{
	uint16_t s = fp_next_slot(p, FP_RXQ);

	memset(fp_buf(p, FP_RXQ, s), fill, FP_BUF_SIZE);
	fp_set_desc(p, FP_RXQ, s, fp_buf_gpa(p, FP_RXQ, s), 0,
		VRING_DESC_F_WRITE, 0);
	fp_publish(p, FP_RXQ, s);
	return s;
}

/* What became of frame 2 and the three buffers. */
struct zero_len_facts {
	uint32_t z_len;		/* used.len of the zero-length buffer */
	int z_written;		/* its buffer changed */
	int p_overwritten;	/* P no longer holds frame 1 */
	int b_used;		/* B has a used entry */
	uint32_t b_len;
	int b_ok;		/* B holds frame 2 (num_buffers 1 or 2) */
};

static int
buffer_changed(struct dp *d, uint16_t head, uint8_t fill)
{
	const uint8_t *b = fp_buf(&d->peer, FP_RXQ, head);
	uint32_t i;

	for (i = 0; i < FP_BUF_SIZE; i++)
		if (b[i] != fill)
			return 1;
	return 0;
}

static void
zero_len_observe(struct dp *d, uint16_t hp, uint16_t hz, uint16_t hb,
		struct zero_len_facts *z)
{
	struct vring_used_elem e;

	memset(z, 0, sizeof(*z));
	if (fp_used_next(&d->peer, FP_RXQ, &e) && e.id == hz)
		z->z_len = e.len;
	z->z_written = buffer_changed(d, hz, 0x22);
	z->p_overwritten = expect_rx_buffer(d, hp, 1, frame_a, 100, 0x21) < 0;
	z->b_used = fp_used_next(&d->peer, FP_RXQ, &e) && e.id == hb;
	z->b_len = z->b_used ? e.len : 0;
	z->b_ok = expect_rx_buffer(d, hb, 2, frame_b, 100, 0x23) == 0 ||
		expect_rx_buffer(d, hb, 1, frame_b, 100, 0x23) == 0;
	fail_clear();
}

/*
 * Frame 1 fills buffer P; frame 2 meets a zero-length buffer Z, then a
 * good buffer B. Z must get no byte (used.len 0), P must keep frame 1,
 * and frame 2, if delivered, must be intact in B.
 */
static int
t_mrg_zero_len(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	struct zero_len_facts z;
	struct rte_mbuf *m[2];
	uint16_t hp, hz, hb;

	make_frame(frame_a, 100, 61);
	make_frame(frame_b, 100, 62);
	hp = fp_post_rx(p, FP_BUF_SIZE, 0x21);
	hz = post_zero_len_rx(p, 0x22);
	hb = fp_post_rx(p, FP_BUF_SIZE, 0x23);
	m[0] = frame_mbuf(d, frame_a, 100);
	m[1] = frame_mbuf(d, frame_b, 100);
	EXPECTR(m[0] != NULL && m[1] != NULL, "no mbuf");
	TRYR(two_bursts(d, m));
	TRYR(expect_used(d, FP_RXQ, hp, FP_NET_HDR_LEN + 100));
	zero_len_observe(d, hp, hz, hb, &z);
	EXPECTR(z.z_len == 0 && !z.z_written && !z.p_overwritten &&
		(z.b_len == 0 || z.b_ok),
		"zero-length buffer (head %u): used.len %u, buffer %s; "
		"frame 2 %s buffer %u (returned by the previous burst); "
		"buffer %u: used entry %s, len %u, %s",
		hz, z.z_len, z.z_written ? "written" : "untouched",
		z.p_overwritten ? "was written into" : "did not touch", hp,
		hb, z.b_used ? "present" : "absent", z.b_len,
		z.b_ok ? "holds frame 2" : "does not hold frame 2");
	return 0;
}

const struct dp_check phase_mrg[] = {
	{ "MRG_RXBUF: link comes up with VIRTIO_NET_F_MRG_RXBUF negotiated",
		t_connect_mrg },
	{ "MRG_RXBUF: a 1500-byte frame spans two 1024-byte peer buffers, num_buffers=2, used lens 1024 and 488",
		t_mrg_spans },
	{ "class 11 (runt-rx): MRG_RXBUF: a zero-length peer RX buffer gets no bytes (used.len 0) and the frame after it overwrites no earlier buffer",
		t_mrg_zero_len },
};

const size_t phase_mrg_len = RTE_DIM(phase_mrg);
