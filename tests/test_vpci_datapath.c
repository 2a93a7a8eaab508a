/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * In-process datapath test of net_vhost_pci.
 *
 * The test starts EAL with the PMD loaded by -d and one net_vhost_pci vdev
 * listening on a unix socket, then plays the front-end itself with the fake
 * peer (fake_peer.h): it connects over that socket, owns the vrings and
 * their buffers, and checks what rte_eth_rx_burst/rte_eth_tx_burst do to
 * them byte by byte.
 *
 * Usage: test_vpci_datapath [PMD.so [SOCKET]]
 *   (or the environment variables VPCI_PMD and VPCI_DP_SOCK)
 *
 * Output: "ok - <name>" or "not ok - <name>" plus "# reason" per check,
 * then "# <n> passed, <m> failed"; the exit status is 1 on any failure.
 *
 * main(), setup and the first phases are here; the later phases are in
 * datapath_xstats.c, datapath_features.c, datapath_hostile.c, datapath_zc.c,
 * datapath_offload.c, datapath_packed.c and, last, the hostile-peer
 * checklist in datapath_checklist.c and datapath_checklist2.c.
 */

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sys/eventfd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_epoll.h>
#include <rte_ethdev.h>
#include <rte_interrupts.h>
#include <rte_mbuf.h>


#include "datapath.h"

#define DEFAULT_PMD	"/work/main/build/drivers/librte_net_vhost_pci.so"
#define DEFAULT_SOCK	"/run/vhost-pci/t-dp.sock"
#define VDEV_NAME	"net_vhost_pci0"
#define NB_MBUF		2047u
#define LINK_TIMEOUT_MS	5000u

/* ---- reporting ---- */

static void
report(struct dp *d, const char *name, int rc)
{
	tally_report(&d->tally, name, rc, fail_reason());
	fail_clear();
}

/* Run a phase: its first check brings the peer up; if that fails, the
 * others are reported as failed without running.
 */
static void
run_phase(struct dp *d, const struct dp_check *c, unsigned int n)
{
	unsigned int i;
	int rc;

	if (n == 0)
		return;
	rc = c[0].fn(d);
	report(d, c[0].name, rc);
	for (i = 1; i < n; i++) {
		if (rc < 0) {
			FAIL("not run: \"%s\" failed", c[0].name);
			report(d, c[i].name, -1);
			continue;
		}
		report(d, c[i].name, c[i].fn(d));
	}
}

/* ---- frames and mbufs ---- */

uint8_t frame_a[MAX_FRAME], frame_b[MAX_FRAME], scratch[MAX_FRAME];

/* An Ethernet frame to 02:00:00:00:00:01, ethertype 0x88b5, @seed'ed. */
void
make_frame(uint8_t *f, uint32_t len, uint8_t seed)
{
	static const uint8_t eth[14] = {
		0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x88, 0xb5,
	};
	uint32_t i;

	memcpy(f, eth, RTE_MIN(len, sizeof(eth)));
	for (i = sizeof(eth); i < len; i++)
		f[i] = (uint8_t)(seed + i * 31 + (i >> 8));
}

struct rte_mbuf *
frame_mbuf(struct dp *d, const uint8_t *f, uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(d->mp);
	char *p;

	if (m == NULL)
		return NULL;
	p = rte_pktmbuf_append(m, len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memcpy(p, f, len);
	return m;
}

/* Offset of the first differing byte, or -1 if equal. */
long
first_diff(const uint8_t *a, const uint8_t *b, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		if (a[i] != b[i])
			return i;
	return -1;
}

void
free_all(struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++)
		rte_pktmbuf_free(pkts[i]);
}

int
mbuf_check_buf(const struct rte_mbuf *m, const uint8_t *f, uint32_t len,
		uint8_t *buf)
{
	const uint8_t *data;
	long off;

	EXPECTR(m->pkt_len == len, "pkt_len %u, want %u", m->pkt_len, len);
	data = rte_pktmbuf_read(m, 0, len, buf);
	EXPECTR(data != NULL, "rte_pktmbuf_read failed (segments short)");
	off = first_diff(data, f, len);
	EXPECTR(off < 0, "byte %ld is 0x%02x, want 0x%02x", off, data[off],
		f[off]);
	return 0;
}

/* rx_burst must give exactly one packet, equal to @f. */
int
expect_rx(struct dp *d, const uint8_t *f, uint32_t len, uint16_t *nb_segs)
{
	struct rte_mbuf *pkts[BURST];
	uint16_t n = rte_eth_rx_burst(d->port, 0, pkts, BURST);
	int rc;

	if (n != 1) {
		free_all(pkts, n);
		return FAIL("rx_burst returned %u packets, want 1", n);
	}
	rc = mbuf_check_buf(pkts[0], f, len, scratch);
	if (nb_segs != NULL)
		*nb_segs = pkts[0]->nb_segs;
	free_all(pkts, n);
	return rc;
}

/* One packet out of rx_burst, within a second. */
struct rte_mbuf *
rx_one(struct dp *d)
{
	struct rte_mbuf *m = NULL;
	int i;

	for (i = 0; i < 100; i++) {
		if (rte_eth_rx_burst(d->port, 0, &m, 1) == 1)
			return m;
		rte_delay_ms(10);
	}
	return NULL;
}

int
expect_no_rx(struct dp *d, const char *what)
{
	struct rte_mbuf *pkts[BURST];
	uint16_t n = rte_eth_rx_burst(d->port, 0, pkts, BURST);

	free_all(pkts, n);
	EXPECTR(n == 0, "rx_burst returned %u packets %s", n, what);
	return 0;
}

/* tx_burst of @m must take it. */
static int
tx_mbuf(struct dp *d, struct rte_mbuf *m)
{
	if (m == NULL)
		return FAIL("no mbuf");
	if (rte_eth_tx_burst(d->port, 0, &m, 1) != 1) {
		rte_pktmbuf_free(m);
		return FAIL("tx_burst sent 0 packets, want 1");
	}
	return 0;
}

int
tx_frame(struct dp *d, const uint8_t *f, uint32_t len)
{
	return tx_mbuf(d, frame_mbuf(d, f, len));
}

/* ---- the peer's view ---- */

int
expect_used(struct dp *d, int r, uint32_t id, uint32_t len)
{
	struct vring_used_elem e;

	if (!fp_used_next(&d->peer, r, &e))
		return FAIL("ring %d: no used entry (used->idx %u)", r,
			fp_used_idx(&d->peer, r));
	EXPECTR(e.id == id && e.len == len,
		"ring %d: used id %u len %u, want id %u len %u", r, e.id,
		e.len, id, len);
	return 0;
}

/* Peer RX buffer @head: a zero header with num_buffers = @nbufs, then
 * @len bytes of @f, then the @fill it was posted with.
 */
int
expect_rx_buffer(struct dp *d, uint16_t head, uint16_t nbufs,
		const uint8_t *f, uint32_t len, uint8_t fill)
{
	const uint8_t *b = fp_buf(&d->peer, FP_RXQ, head);
	uint8_t hdr[FP_NET_HDR_LEN] = { 0 };
	long off;

	hdr[10] = nbufs & 0xff;
	hdr[11] = nbufs >> 8;
	off = first_diff(b, hdr, sizeof(hdr));
	EXPECTR(off < 0, "virtio-net header byte %ld is 0x%02x, want 0x%02x",
		off, b[off], hdr[off]);
	off = first_diff(b + FP_NET_HDR_LEN, f, len);
	EXPECTR(off < 0, "frame byte %ld is 0x%02x, want 0x%02x", off,
		b[FP_NET_HDR_LEN + off], f[off]);
	EXPECTR(b[FP_NET_HDR_LEN + len] == fill,
		"byte after the frame overwritten (0x%02x)",
		b[FP_NET_HDR_LEN + len]);
	return 0;
}

int
get_stats(struct dp *d, struct rte_eth_stats *s)
{
	int ret = rte_eth_stats_get(d->port, s);

	EXPECTR(ret == 0, "rte_eth_stats_get: %d", ret);
	return 0;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Poll the link until its status is @up, for at most LINK_TIMEOUT_MS. */
int
wait_link(struct dp *d, uint8_t up)
{
	uint64_t deadline = now_ms() + LINK_TIMEOUT_MS;
	struct rte_eth_link l;

	do {
		memset(&l, 0, sizeof(l));
		if (rte_eth_link_get_nowait(d->port, &l) == 0 &&
				l.link_status == up)
			return 0;
		usleep(1000);
	} while (now_ms() < deadline);
	return FAIL("link_status still %u after %u ms, want %u",
		l.link_status, LINK_TIMEOUT_MS, up);
}

/* Replace the front-end by a new one acking @features; wait for link up. */
int
peer_connect(struct dp *d, uint64_t features)
{
	if (d->peer.sock >= 0) {
		fp_disconnect(&d->peer);
		TRYR(wait_link(d, RTE_ETH_LINK_DOWN));
	}
	if (fp_connect(&d->peer, d->sock, features) < 0)
		return FAIL("fake front-end: %s", d->peer.err);
	return wait_link(d, RTE_ETH_LINK_UP);
}

/* ---- phase 1: one front-end with VERSION_1 | PROTOCOL_FEATURES ---- */

static int
t_connect_plain(struct dp *d)
{
	return peer_connect(d, 0);
}

static int
t_used_no_notify(struct dp *d)
{
	uint16_t rx = fp_used_flags(&d->peer, FP_RXQ);
	uint16_t tx = fp_used_flags(&d->peer, FP_TXQ);

	EXPECTR(rx == VRING_USED_F_NO_NOTIFY && tx == VRING_USED_F_NO_NOTIFY,
		"used->flags: RX ring 0x%x, TX ring 0x%x, want 0x1 on both",
		rx, tx);
	return 0;
}

static int
t_rx_frame(struct dp *d)
{
	uint16_t head;

	make_frame(frame_a, 98, 1);
	head = fp_post_tx(&d->peer, frame_a, 98);
	TRYR(expect_rx(d, frame_a, 98, NULL));
	return expect_used(d, FP_TXQ, head, 0);
}

static int
t_rx_two_desc(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t s = fp_next_slot(p, FP_TXQ);
	uint16_t n = (s + 1) & (RING_SIZE - 1);

	make_frame(frame_a, 300, 2);
	memset(fp_buf(p, FP_TXQ, s), 0, FP_NET_HDR_LEN);
	memcpy(fp_buf(p, FP_TXQ, n), frame_a, 300);
	fp_set_desc(p, FP_TXQ, s, fp_buf_gpa(p, FP_TXQ, s), FP_NET_HDR_LEN,
		VRING_DESC_F_NEXT, n);
	fp_set_desc(p, FP_TXQ, n, fp_buf_gpa(p, FP_TXQ, n), 300, 0, 0);
	fp_publish(p, FP_TXQ, s);
	TRYR(expect_rx(d, frame_a, 300, NULL));
	return expect_used(d, FP_TXQ, s, 0);
}

static int
t_rx_multiseg(struct dp *d)
{
	uint16_t head, segs = 0;

	make_frame(frame_a, 3000, 3);
	head = fp_post_tx(&d->peer, frame_a, 3000);
	TRYR(expect_rx(d, frame_a, 3000, &segs));
	EXPECTR(segs >= 2, "nb_segs %u for 3000 bytes in 2 KiB mbufs", segs);
	return expect_used(d, FP_TXQ, head, 0);
}

static int
t_tx_frame(struct dp *d)
{
	uint16_t head = fp_post_rx(&d->peer, FP_BUF_SIZE, 0xa5);

	make_frame(frame_a, 200, 4);
	TRYR(tx_frame(d, frame_a, 200));
	TRYR(expect_used(d, FP_RXQ, head, FP_NET_HDR_LEN + 200));
	return expect_rx_buffer(d, head, 1, frame_a, 200, 0xa5);
}

static int
t_tx_two_seg(struct dp *d)
{
	struct rte_mbuf *m1, *m2;
	uint16_t head = fp_post_rx(&d->peer, FP_BUF_SIZE, 0x5a);

	make_frame(frame_a, 500, 5);
	m1 = frame_mbuf(d, frame_a, 100);
	m2 = frame_mbuf(d, frame_a + 100, 400);
	if (m1 == NULL || m2 == NULL || rte_pktmbuf_chain(m1, m2) != 0) {
		rte_pktmbuf_free(m1);
		rte_pktmbuf_free(m2);
		return FAIL("cannot build a 2-segment mbuf");
	}
	TRYR(tx_mbuf(d, m1));
	TRYR(expect_used(d, FP_RXQ, head, FP_NET_HDR_LEN + 500));
	return expect_rx_buffer(d, head, 1, frame_a, 500, 0x5a);
}

/* One TX completion with RX avail->flags = @flags: @want calls. */
static int
tx_notify(struct dp *d, uint16_t flags, uint64_t want)
{
	uint16_t head;
	uint64_t calls;

	fp_set_avail_flags(&d->peer, FP_RXQ, flags);
	fp_calls(&d->peer, FP_RXQ);
	head = fp_post_rx(&d->peer, FP_BUF_SIZE, 0);
	make_frame(frame_a, 64, 6);
	TRYR(tx_frame(d, frame_a, 64));
	TRYR(expect_used(d, FP_RXQ, head, FP_NET_HDR_LEN + 64));
	calls = fp_calls(&d->peer, FP_RXQ);
	fp_set_avail_flags(&d->peer, FP_RXQ, 0);
	EXPECTR(calls == want, "RX call eventfd count %" PRIu64 ", want %"
		PRIu64, calls, want);
	return 0;
}

/* One RX completion with TX avail->flags = @flags: @want calls. */
static int
rx_notify(struct dp *d, uint16_t flags, uint64_t want)
{
	uint16_t head;
	uint64_t calls;

	fp_set_avail_flags(&d->peer, FP_TXQ, flags);
	fp_calls(&d->peer, FP_TXQ);
	make_frame(frame_a, 64, 7);
	head = fp_post_tx(&d->peer, frame_a, 64);
	TRYR(expect_rx(d, frame_a, 64, NULL));
	TRYR(expect_used(d, FP_TXQ, head, 0));
	calls = fp_calls(&d->peer, FP_TXQ);
	fp_set_avail_flags(&d->peer, FP_TXQ, 0);
	EXPECTR(calls == want, "TX call eventfd count %" PRIu64 ", want %"
		PRIu64, calls, want);
	return 0;
}

static int
t_tx_notify_asked(struct dp *d)
{
	return tx_notify(d, 0, 1);
}

static int
t_tx_notify_suppressed(struct dp *d)
{
	return tx_notify(d, VRING_AVAIL_F_NO_INTERRUPT, 0);
}

static int
t_rx_notify_asked(struct dp *d)
{
	return rx_notify(d, 0, 1);
}

static int
t_rx_notify_suppressed(struct dp *d)
{
	return rx_notify(d, VRING_AVAIL_F_NO_INTERRUPT, 0);
}

static int
expect_zero_stats(const struct rte_eth_stats *s)
{
	EXPECTR(s->ipackets == 0 && s->opackets == 0 && s->ibytes == 0 &&
		s->obytes == 0 && s->ierrors == 0 && s->oerrors == 0 &&
		s->q_ipackets[0] == 0 && s->q_opackets[0] == 0,
		"ipackets %" PRIu64 " opackets %" PRIu64 " ibytes %" PRIu64
		" obytes %" PRIu64 " ierrors %" PRIu64 " oerrors %" PRIu64,
		s->ipackets, s->opackets, s->ibytes, s->obytes, s->ierrors,
		s->oerrors);
	return 0;
}

static const uint32_t stats_rx_len[] = { 60, 100, 1000 };
static const uint32_t stats_tx_len[] = { 64, 1514 };

static int
stats_traffic(struct dp *d)
{
	unsigned int i;
	uint16_t head;

	for (i = 0; i < RTE_DIM(stats_rx_len); i++) {
		make_frame(frame_a, stats_rx_len[i], 10 + i);
		head = fp_post_tx(&d->peer, frame_a, stats_rx_len[i]);
		TRYR(expect_rx(d, frame_a, stats_rx_len[i], NULL));
		TRYR(expect_used(d, FP_TXQ, head, 0));
	}
	for (i = 0; i < RTE_DIM(stats_tx_len); i++) {
		head = fp_post_rx(&d->peer, FP_BUF_SIZE, 0);
		make_frame(frame_a, stats_tx_len[i], 20 + i);
		TRYR(tx_frame(d, frame_a, stats_tx_len[i]));
		TRYR(expect_used(d, FP_RXQ, head,
			FP_NET_HDR_LEN + stats_tx_len[i]));
	}
	return 0;
}

static int
t_stats_count(struct dp *d)
{
	struct rte_eth_stats s;

	EXPECTR(rte_eth_stats_reset(d->port) == 0, "rte_eth_stats_reset failed");
	TRYR(stats_traffic(d));
	TRYR(get_stats(d, &s));
	EXPECTR(s.ipackets == 3 && s.ibytes == 60 + 100 + 1000,
		"ipackets %" PRIu64 " ibytes %" PRIu64 ", want 3 and 1160",
		s.ipackets, s.ibytes);
	EXPECTR(s.opackets == 2 && s.obytes == 64 + 1514,
		"opackets %" PRIu64 " obytes %" PRIu64 ", want 2 and 1578",
		s.opackets, s.obytes);
	EXPECTR(s.ierrors == 0 && s.oerrors == 0,
		"ierrors %" PRIu64 " oerrors %" PRIu64, s.ierrors, s.oerrors);
	EXPECTR(s.q_ipackets[0] == 3 && s.q_opackets[0] == 2,
		"q_ipackets[0] %" PRIu64 " q_opackets[0] %" PRIu64,
		s.q_ipackets[0], s.q_opackets[0]);
	return 0;
}

static int
t_stats_reset(struct dp *d)
{
	struct rte_eth_stats s;

	EXPECTR(rte_eth_stats_reset(d->port) == 0, "rte_eth_stats_reset failed");
	TRYR(get_stats(d, &s));
	return expect_zero_stats(&s);
}

/* ---- hostile front-end, on the ring rx_burst drains ---- */

/* Publish @head (descriptors already written): rx_burst drops it, counts
 * one ierror and returns it on the used ring; a good frame after it is
 * received.
 */
int
expect_rx_refused(struct dp *d, uint16_t head)
{
	struct rte_eth_stats before, after;
	uint16_t good;

	TRYR(get_stats(d, &before));
	fp_publish(&d->peer, FP_TXQ, head);
	TRYR(expect_no_rx(d, "for the bad chain"));
	TRYR(get_stats(d, &after));
	EXPECTR(after.ierrors == before.ierrors + 1,
		"ierrors went from %" PRIu64 " to %" PRIu64 ", want +1",
		before.ierrors, after.ierrors);
	TRYR(expect_used(d, FP_TXQ, head, 0));
	make_frame(frame_a, 80, 30);
	good = fp_post_tx(&d->peer, frame_a, 80);
	TRYR(expect_rx(d, frame_a, 80, NULL));
	return expect_used(d, FP_TXQ, good, 0);
}

/* A one-descriptor chain at the next slot; returns the slot. */
static uint16_t
bad_desc(struct dp *d, uint64_t addr, uint32_t len, uint16_t flags)
{
	uint16_t s = fp_next_slot(&d->peer, FP_TXQ);
	uint8_t *b = fp_buf(&d->peer, FP_TXQ, s);

	memset(b, 0, FP_NET_HDR_LEN);
	make_frame(b + FP_NET_HDR_LEN, 64, 31);
	fp_set_desc(&d->peer, FP_TXQ, s, addr, len, flags, 0);
	return s;
}

static int
t_bad_head(struct dp *d)
{
	return expect_rx_refused(d, RING_SIZE + 3);
}

static int
t_bad_loop(struct dp *d)
{
	/* desc 0 -> desc 0 -> ...; every earlier chain is consumed. */
	fp_set_desc(&d->peer, FP_TXQ, 0, fp_buf_gpa(&d->peer, FP_TXQ, 0),
		FP_NET_HDR_LEN + 64, VRING_DESC_F_NEXT, 0);
	return expect_rx_refused(d, 0);
}

static int
t_bad_addr_below(struct dp *d)
{
	return expect_rx_refused(d, bad_desc(d, d->peer.base - 0x10000,
		FP_NET_HDR_LEN + 64, 0));
}

static int
t_bad_addr_straddle(struct dp *d)
{
	uint64_t end = d->peer.base + d->peer.mem_size;

	return expect_rx_refused(d, bad_desc(d, end - 16,
		FP_NET_HDR_LEN + 64, 0));
}

static int
t_bad_writable(struct dp *d)
{
	uint16_t s = fp_next_slot(&d->peer, FP_TXQ);

	return expect_rx_refused(d, bad_desc(d,
		fp_buf_gpa(&d->peer, FP_TXQ, s), FP_NET_HDR_LEN + 64,
		VRING_DESC_F_WRITE));
}

static int
t_bad_avail_jump(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	struct rte_eth_stats before, after;
	uint16_t used = fp_used_idx(p, FP_TXQ);

	TRYR(get_stats(d, &before));
	fp_set_avail_idx(p, FP_TXQ, p->ring[FP_TXQ].avail_idx + RING_SIZE + 1);
	TRYR(expect_no_rx(d, "after the jump"));
	TRYR(get_stats(d, &after));
	EXPECTR(after.ierrors > before.ierrors,
		"ierrors stayed at %" PRIu64, after.ierrors);
	/* The queue stays stopped, even for a good frame. */
	make_frame(frame_a, 80, 32);
	fp_post_tx(p, frame_a, 80);
	TRYR(expect_no_rx(d, "on a stopped queue"));
	EXPECTR(fp_used_idx(p, FP_TXQ) == used,
		"used->idx moved from %u to %u", used, fp_used_idx(p, FP_TXQ));
	return 0;
}

static const char *pmd_path;

/* A symbol of the PMD that EAL loaded with -d. */
static void *
dlsym_pmd(const char *name)
{
	void *h = dlopen(pmd_path, RTLD_NOW | RTLD_NOLOAD);
	void *sym = NULL;

	if (h != NULL) {
		sym = dlsym(h, name);
		dlclose(h);
	}
	return sym;
}

get_peer_fn
get_peer_sym(void)
{
	return (get_peer_fn)(uintptr_t)dlsym_pmd("rte_pmd_vhost_pci_get_peer");
}

static int
t_get_peer(struct dp *d)
{
	struct rte_pmd_vhost_pci_peer peer;
	get_peer_fn fn = get_peer_sym();
	int (*disc)(uint16_t);

	EXPECTR(fn != NULL, "rte_pmd_vhost_pci_get_peer not found in %s",
		pmd_path);
	EXPECTR(fn(d->port, &peer) == 0, "no peer on an attached port");
	EXPECTR(peer.conn_id >= 1 && peer.version == 1 && !peer.has_uuid,
		"peer conn_id %" PRIu64 " version %u uuid %d, want >=1, 1, none",
		peer.conn_id, peer.version, peer.has_uuid);
	EXPECTR(fn(RTE_MAX_ETHPORTS - 1, &peer) == -ENODEV,
		"a port that is not ours gave a peer");
	/* v1 has no SET_PEER_CONNECTION: the port API says so. */
	disc = (int (*)(uint16_t))(uintptr_t)dlsym_pmd("rte_pmd_vhost_pci_disconnect");
	EXPECTR(disc != NULL && disc(d->port) == -ENOTSUP,
		"rte_pmd_vhost_pci_disconnect on a v1 peer is not -ENOTSUP");
	return 0;
}

static const struct dp_check phase_plain[] = {
	{ "link comes up after the front-end's v1 handshake (SET_STATUS acked)",
		t_connect_plain },
	{ "attach writes used->flags = VRING_USED_F_NO_NOTIFY on both peer rings",
		t_used_no_notify },
	{ "rte_pmd_vhost_pci_get_peer: the port names its front-end (conn_id, v1, no UUID); another port is -ENODEV; disconnect on v1 is -ENOTSUP",
		t_get_peer },
	{ "rx: a frame posted on the peer TX ring comes out of rx_burst byte-identical, header stripped, and its head is returned on the TX used ring",
		t_rx_frame },
	{ "rx: a frame with header and payload in two chained descriptors is received intact",
		t_rx_two_desc },
	{ "rx: a 3000-byte frame comes out as a multi-segment mbuf with identical bytes",
		t_rx_multiseg },
	{ "tx: a frame lands in a posted peer RX buffer behind a zero header with num_buffers=1, used.len = 12 + frame length",
		t_tx_frame },
	{ "tx: a two-segment mbuf lands contiguous in one peer RX buffer",
		t_tx_two_seg },
	{ "notify: a tx completion signals the RX-ring call eventfd once when avail->flags = 0",
		t_tx_notify_asked },
	{ "notify: a tx completion leaves the RX-ring call eventfd silent with VRING_AVAIL_F_NO_INTERRUPT",
		t_tx_notify_suppressed },
	{ "notify: an rx completion signals the TX-ring call eventfd once when avail->flags = 0",
		t_rx_notify_asked },
	{ "notify: an rx completion leaves the TX-ring call eventfd silent with VRING_AVAIL_F_NO_INTERRUPT",
		t_rx_notify_suppressed },
	{ "stats: after 3 rx and 2 tx packets ipackets=3, opackets=2, ibytes/obytes = sum of frame lengths",
		t_stats_count },
	{ "stats: rte_eth_stats_reset zeroes packets, bytes and errors",
		t_stats_reset },
	{ "class 1 (index-range): a head >= ring size is dropped, counted in ierrors, returned on the used ring; the next good frame is received",
		t_bad_head },
	{ "class 2 (desc-loop): a descriptor chain that loops (desc 0 NEXT to desc 0) is dropped, counted, returned; the next good frame is received",
		t_bad_loop },
	{ "class 4 (addr-len): a descriptor addressed below the memory table is dropped, counted, returned; the next good frame is received",
		t_bad_addr_below },
	{ "class 4 (addr-len): a descriptor straddling the end of the memory table is dropped, counted, returned; the next good frame is received",
		t_bad_addr_straddle },
	{ "class 6 (permissions): a writable descriptor on the peer TX ring is dropped, counted, returned; the next good frame is received",
		t_bad_writable },
	{ "class 7 (avail-idx): an avail->idx jump of ring size + 1 stops the queue: no packets, no used entries, ierrors counted, no crash",
		t_bad_avail_jump },
};

/* ---- phase 2: disconnect and reconnect ---- */

static int
t_link_down(struct dp *d)
{
	fp_disconnect(&d->peer);
	return wait_link(d, RTE_ETH_LINK_DOWN);
}

static int
t_no_peer_bursts(struct dp *d)
{
	struct rte_mbuf *m;
	uint16_t n;

	TRYR(expect_no_rx(d, "without a front-end"));
	make_frame(frame_a, 64, 40);
	m = frame_mbuf(d, frame_a, 64);
	EXPECTR(m != NULL, "no mbuf");
	n = rte_eth_tx_burst(d->port, 0, &m, 1);
	if (n == 0)
		rte_pktmbuf_free(m);
	EXPECTR(n == 0, "tx_burst sent %u packets without a front-end", n);
	return 0;
}

static int
t_link_up_again(struct dp *d)
{
	if (fp_connect(&d->peer, d->sock, 0) < 0)
		return FAIL("fake front-end: %s", d->peer.err);
	return wait_link(d, RTE_ETH_LINK_UP);
}

static int
t_traffic_after_reconnect(struct dp *d)
{
	uint16_t head;

	make_frame(frame_a, 128, 41);
	head = fp_post_tx(&d->peer, frame_a, 128);
	TRYR(expect_rx(d, frame_a, 128, NULL));
	TRYR(expect_used(d, FP_TXQ, head, 0));
	head = fp_post_rx(&d->peer, FP_BUF_SIZE, 0x11);
	make_frame(frame_b, 256, 42);
	TRYR(tx_frame(d, frame_b, 256));
	TRYR(expect_used(d, FP_RXQ, head, FP_NET_HDR_LEN + 256));
	TRYR(expect_rx_buffer(d, head, 1, frame_b, 256, 0x11));
	EXPECTR(fp_used_idx(&d->peer, FP_TXQ) == 1 &&
		fp_used_idx(&d->peer, FP_RXQ) == 1,
		"used->idx TX ring %u, RX ring %u, want 1 and 1 (base 0)",
		fp_used_idx(&d->peer, FP_TXQ), fp_used_idx(&d->peer, FP_RXQ));
	return 0;
}

/* RX interrupt mode: the queue's event is the peer's kick eventfd. */
static int
rx_intr_wait(int timeout_ms)
{
	struct rte_epoll_event ev;

	return rte_epoll_wait(RTE_EPOLL_PER_THREAD, &ev, 1, timeout_ms);
}

static int
t_rx_intr(struct dp *d)
{
	struct fp_ring *tx = &d->peer.ring[FP_TXQ];
	uint16_t head;
	int n;

	EXPECTR(rte_eth_dev_rx_intr_ctl_q(d->port, 0, RTE_EPOLL_PER_THREAD,
		RTE_INTR_EVENT_ADD, NULL) == 0, "rx_intr_ctl_q ADD failed");
	EXPECTR(rte_eth_dev_rx_intr_enable(d->port, 0) == 0,
		"rx_intr_enable failed");
	EXPECTR(fp_used_flags(&d->peer, FP_TXQ) == 0,
		"used->flags %u after rx_intr_enable, want 0 (kicks wanted)",
		fp_used_flags(&d->peer, FP_TXQ));
	n = rx_intr_wait(100);
	EXPECTR(n == 0, "%d events before the peer kicked", n);
	make_frame(frame_a, 200, 43);
	head = fp_post_tx(&d->peer, frame_a, 200);
	EXPECTR(eventfd_write(tx->kickfd, 1) == 0, "kick failed");
	n = rx_intr_wait(2000);
	EXPECTR(n == 1, "%d events after the peer kicked, want 1", n);
	EXPECTR(rte_eth_dev_rx_intr_disable(d->port, 0) == 0,
		"rx_intr_disable failed");
	EXPECTR(fp_used_flags(&d->peer, FP_TXQ) == 1,
		"used->flags %u after rx_intr_disable, want NO_NOTIFY",
		fp_used_flags(&d->peer, FP_TXQ));
	TRYR(expect_rx(d, frame_a, 200, NULL));
	TRYR(expect_used(d, FP_TXQ, head, 0));
	rte_eth_dev_rx_intr_ctl_q(d->port, 0, RTE_EPOLL_PER_THREAD,
		RTE_INTR_EVENT_DEL, NULL);
	return 0;
}

static const struct dp_check phase_reconnect[] = {
	{ "link goes down (link_status 0) after the front-end closes its socket",
		t_link_down },
	{ "rx_burst and tx_burst return 0 while no front-end is connected",
		t_no_peer_bursts },
	{ "link comes up again when a new front-end connects",
		t_link_up_again },
	{ "after reconnect rx and tx work again from vring base 0",
		t_traffic_after_reconnect },
	{ "rx interrupt: enabling asks the peer for kicks, a kick wakes rte_epoll_wait on the queue's event, disabling stops kicks, the frame is received",
		t_rx_intr },
};

/* ---- setup and teardown ---- */

static int
eal_start(const char *pmd, const char *sock)
{
	const char *env = getenv("VPCI_DP_PREFIX");
	const char *pfx = getenv("VPCI_PFX");
	char vdev[256], prefix[128];
	char *argv[] = {
		"test_vpci_datapath", "-l", "0", "--no-pci",
		prefix, "--no-huge", "-m", "256",
		"-d", (char *)(uintptr_t)pmd, "--vdev", vdev, NULL,
	};
	int argc = RTE_DIM(argv) - 1;

	/* Parallel runs need their own EAL runtime directory. */
	if (env != NULL)
		snprintf(prefix, sizeof(prefix), "--file-prefix=%s", env);
	else
		snprintf(prefix, sizeof(prefix), "--file-prefix=%s-dp",
			pfx != NULL ? pfx : "vpci");
	/* Copy mode: the zero-copy phases use a port of their own. */
	if ((size_t)snprintf(vdev, sizeof(vdev),
			VDEV_NAME ",path=%s,zero_copy=0", sock) >= sizeof(vdev))
		return FAIL("socket path too long");
	if (rte_eal_init(argc, argv) < 0)
		return FAIL("rte_eal_init: %s", rte_strerror(rte_errno));
	return 0;
}

static int
port_start(struct dp *d)
{
	if (rte_eth_dev_get_port_by_name(VDEV_NAME, &d->port) != 0)
		return FAIL("no port %s: was the PMD loaded?", VDEV_NAME);
	d->mp = rte_pktmbuf_pool_create("vpci_dp", NB_MBUF, 64, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (d->mp == NULL)
		return FAIL("mempool: %s", rte_strerror(rte_errno));
	return port_setup(d);
}

/* 1 RX and 1 TX queue on d->port, RX interrupts configured, started. */
int
port_setup(struct dp *d)
{
	struct rte_eth_conf conf;
	int ret;

	memset(&conf, 0, sizeof(conf));
	conf.intr_conf.rxq = 1;
	ret = rte_eth_dev_configure(d->port, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(d->port, 0, RING_SIZE,
			rte_socket_id(), NULL, d->mp);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(d->port, 0, RING_SIZE,
			rte_socket_id(), NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(d->port);
	return ret == 0 ? 0 : FAIL("port setup: %s", rte_strerror(-ret));
}

static void
teardown(struct dp *d)
{
	fp_fini(&d->peer);
	rte_eth_dev_stop(d->port);
	rte_eth_dev_close(d->port);
	rte_mempool_free(d->mp);
	rte_eal_cleanup();
	if (unlink(d->sock) < 0 && errno != ENOENT)
		fprintf(stderr, "unlink %s: %s\n", d->sock, strerror(errno));
}

static const char *
arg_or_env(int argc, char **argv, int i, const char *env, const char *def)
{
	const char *v = getenv(env);

	if (argc > i)
		return argv[i];
	return v != NULL ? v : def;
}

int
main(int argc, char **argv)
{
	const char *pmd = arg_or_env(argc, argv, 1, "VPCI_PMD", DEFAULT_PMD);
	char why[1024];
	const char *sock0;
	struct dp d;

	pmd_path = pmd;
	memset(&d, 0, sizeof(d));
	d.sock = arg_or_env(argc, argv, 2, "VPCI_DP_SOCK", DEFAULT_SOCK);
	sock0 = d.sock;
	d.peer.sock = -1;
	if (eal_start(pmd, d.sock) < 0 || port_start(&d) < 0 ||
			fp_init(&d.peer, RING_SIZE) < 0) {
		snprintf(why, sizeof(why), "%s%s", fail_reason(), d.peer.err);
		tally_report(&d.tally, "setup (EAL, port, fake front-end)", -1,
			why);
		return tally_done(&d.tally);
	}
	run_phase(&d, phase_plain, RTE_DIM(phase_plain));
	run_phase(&d, phase_reconnect, RTE_DIM(phase_reconnect));
	run_phase(&d, phase_xstats, phase_xstats_len);
	run_phase(&d, phase_event_idx, phase_event_idx_len);
	run_phase(&d, phase_mrg, phase_mrg_len);
	run_phase(&d, phase_vanish, phase_vanish_len);
	run_phase(&d, phase_zc, phase_zc_len);
	run_phase(&d, phase_indirect, phase_indirect_len);
	run_phase(&d, phase_offload, phase_offload_len);
	run_phase(&d, phase_packed, phase_packed_len);
	run_phase(&d, phase_checklist, phase_checklist_len);
	teardown(&d);
	/* teardown() removes the socket in use; the first one may remain. */
	if (strcmp(sock0, d.sock) != 0)
		unlink(sock0);
	return tally_done(&d.tally);
}
