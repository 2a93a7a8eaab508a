/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/* test_vpci_datapath: the zero-copy RX phase, on a second port. */

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <rte_vhost_pci.h>

#include "datapath.h"

/* ---- phase 6: zero-copy RX on a second port (zero_copy=1) ---- */

#define ZC_VDEV		"net_vhost_pci1"
#define ZC_MIN_LEN	100u
static char zc_sock[256];


static int
zc_payload_ok(const struct rte_mbuf *m, const uint8_t *f, uint32_t len)
{
	return m->pkt_len == len && m->nb_segs == 1 &&
		memcmp(rte_pktmbuf_mtod(m, const void *), f, len) == 0;
}

static int
t_zc_setup(struct dp *d)
{
	char args[300];
	uint16_t port;

	snprintf(zc_sock, sizeof(zc_sock), "%s.zc", d->sock);
	snprintf(args, sizeof(args), "path=%s,zero_copy=1,zc_min_len=%u",
		zc_sock, ZC_MIN_LEN);
	EXPECTR(rte_vdev_init(ZC_VDEV, args) == 0, "vdev %s,%s refused", ZC_VDEV,
		args);
	EXPECTR(rte_eth_dev_get_port_by_name(ZC_VDEV, &port) == 0, "no port");
	d->port = port;
	TRYR(port_setup(d));
	fp_fini(&d->peer);
	EXPECTR(fp_init(&d->peer, RING_SIZE) == 0, "fake front-end: %s",
		d->peer.err);
	d->sock = zc_sock;
	return peer_connect(d, 0);
}

static int
t_zc_no_in_order(struct dp *d)
{
	EXPECTR(!(d->peer.offered & FP_F_IN_ORDER),
		"IN_ORDER offered (0x%" PRIx64 ") with zero-copy on",
		d->peer.offered);
	return 0;
}

static int
t_zc_lend(struct dp *d)
{
	uint16_t head, before = fp_used_idx(&d->peer, FP_TXQ);
	struct rte_mbuf *m, *none;

	make_frame(frame_a, 300, 60);
	head = fp_post_tx(&d->peer, frame_a, 300);
	m = rx_one(d);
	EXPECTR(m != NULL, "no packet");
	EXPECTR(RTE_MBUF_HAS_EXTBUF(m) && zc_payload_ok(m, frame_a, 300),
		"not lent or wrong bytes (ext %d len %u)",
		!!RTE_MBUF_HAS_EXTBUF(m), m->pkt_len);
	EXPECTR(fp_used_idx(&d->peer, FP_TXQ) == before,
		"the head came back while its mbuf is out");
	rte_pktmbuf_free(m);
	EXPECTR(rte_eth_rx_burst(d->port, 0, &none, 1) == 0, "phantom packet");
	EXPECTR(fp_used_idx(&d->peer, FP_TXQ) == (uint16_t)(before + 1),
		"used idx %u after the free, want %u",
		fp_used_idx(&d->peer, FP_TXQ), (uint16_t)(before + 1));
	return expect_used(d, FP_TXQ, head, 0);
}

static int
t_zc_small_copied(struct dp *d)
{
	uint16_t before = fp_used_idx(&d->peer, FP_TXQ);
	struct rte_mbuf *m;

	make_frame(frame_a, ZC_MIN_LEN - 1, 61);
	fp_post_tx(&d->peer, frame_a, ZC_MIN_LEN - 1);
	m = rx_one(d);
	EXPECTR(m != NULL, "no packet");
	EXPECTR(!RTE_MBUF_HAS_EXTBUF(m) && zc_payload_ok(m, frame_a, ZC_MIN_LEN - 1),
		"a %u-byte frame was lent, or its bytes differ", ZC_MIN_LEN - 1);
	rte_pktmbuf_free(m);
	EXPECTR(fp_used_idx(&d->peer, FP_TXQ) == (uint16_t)(before + 1),
		"a copied frame's head did not come back at once");
	return 0;
}

/* A payload over two descriptors is lent as two segments, and its head
 * returns only once both are freed, one at a time.
 */
static int
t_zc_chain(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t s = fp_next_slot(p, FP_TXQ), before = fp_used_idx(p, FP_TXQ);
	uint16_t n1 = (s + 1) & (RING_SIZE - 1), n2 = (s + 2) & (RING_SIZE - 1);
	struct rte_mbuf *m, *m2, *none;

	make_frame(frame_a, 700, 63);
	memset(fp_buf(p, FP_TXQ, s), 0, FP_NET_HDR_LEN);
	memcpy(fp_buf(p, FP_TXQ, n1), frame_a, 300);
	memcpy(fp_buf(p, FP_TXQ, n2), frame_a + 300, 400);
	fp_set_desc(p, FP_TXQ, s, fp_buf_gpa(p, FP_TXQ, s), FP_NET_HDR_LEN,
		VRING_DESC_F_NEXT, n1);
	fp_set_desc(p, FP_TXQ, n1, fp_buf_gpa(p, FP_TXQ, n1), 300,
		VRING_DESC_F_NEXT, n2);
	fp_set_desc(p, FP_TXQ, n2, fp_buf_gpa(p, FP_TXQ, n2), 400, 0, 0);
	fp_publish(p, FP_TXQ, s);
	m = rx_one(d);
	EXPECTR(m != NULL, "no packet");
	m2 = m->next;
	EXPECTR(m->nb_segs == 2 && m->pkt_len == 700 && m2 != NULL &&
		RTE_MBUF_HAS_EXTBUF(m) && RTE_MBUF_HAS_EXTBUF(m2) &&
		m->data_len == 300 && m2->data_len == 400 &&
		memcmp(rte_pktmbuf_mtod(m, void *), frame_a, 300) == 0 &&
		memcmp(rte_pktmbuf_mtod(m2, void *), frame_a + 300, 400) == 0,
		"not lent as 2 segments of 300 + 400 bytes (segs %u, len %u)",
		m->nb_segs, m->pkt_len);
	/* Free the segments apart: the head waits for the second. */
	m->next = NULL;
	m->nb_segs = 1;
	m->pkt_len = 300;
	rte_pktmbuf_free(m);
	EXPECTR(rte_eth_rx_burst(d->port, 0, &none, 1) == 0, "phantom packet");
	EXPECTR(fp_used_idx(p, FP_TXQ) == before,
		"the head came back with one segment still out");
	rte_pktmbuf_free(m2);
	EXPECTR(rte_eth_rx_burst(d->port, 0, &none, 1) == 0, "phantom packet");
	EXPECTR(fp_used_idx(p, FP_TXQ) == (uint16_t)(before + 1),
		"used idx %u after both frees, want %u", fp_used_idx(p, FP_TXQ),
		(uint16_t)(before + 1));
	EXPECTR(p->ring[FP_TXQ].used->ring[before & (RING_SIZE - 1)].id == s,
		"used entry %u is id %u, want head %u", before,
		p->ring[FP_TXQ].used->ring[before & (RING_SIZE - 1)].id, s);
	return 0;
}

/* Ask this process's own telemetry socket, as dpdk-telemetry.py does. */
static int
telemetry_query(const char *cmd, char *reply, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	ssize_t n;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/dpdk_telemetry.v2",
		rte_eal_get_runtime_dir());
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
			recv(fd, reply, len - 1, 0) <= 0 ||
			send(fd, cmd, strlen(cmd), 0) < 0) {
		close(fd);
		return -1;
	}
	n = recv(fd, reply, len - 1, 0);
	close(fd);
	if (n <= 0)
		return -1;
	reply[n] = '\0';
	return 0;
}

/* The rxq0 entry of /vhost_pci/port,<port> and the xstat
 * rx_q0_zero_copy_in_flight show @p want lent mbufs.
 */
static int
expect_zc_in_flight(uint16_t port, unsigned int want)
{
	char cmd[64], reply[16384], needle[64];
	uint64_t v;

	snprintf(cmd, sizeof(cmd), "/vhost_pci/port,%u", port);
	EXPECTR(telemetry_query(cmd, reply, sizeof(reply)) == 0,
		"no telemetry reply to %s", cmd);
	snprintf(needle, sizeof(needle), "\"zero_copy\":1,\"zc_in_flight\":%u}",
		want);
	EXPECTR(strstr(reply, "\"rxq0\":{") != NULL &&
		strstr(strstr(reply, "\"rxq0\":{"), needle) != NULL,
		"%s: want %s in rxq0; got %.400s", cmd, needle, reply);
	TRYR(xstat_value(port, "rx_q0_zero_copy_in_flight", &v));
	EXPECTR(v == want, "xstat rx_q0_zero_copy_in_flight %" PRIu64
		", want %u", v, want);
	return 0;
}

/* Telemetry counts the mbufs lent and not yet freed, per RX queue. */
static int
t_zc_telemetry(struct dp *d)
{
	struct rte_mbuf *m[3], *none;
	uint16_t i, got = 0;

	TRYR(expect_zc_in_flight(d->port, 0));
	make_frame(frame_a, 300, 61);
	for (i = 0; i < RTE_DIM(m); i++)
		fp_post_tx(&d->peer, frame_a, 300);
	for (i = 0; i < 100 && got < RTE_DIM(m); i++)
		got += rte_eth_rx_burst(d->port, 0, &m[got], RTE_DIM(m) - got);
	EXPECTR(got == RTE_DIM(m), "got %u of %zu", got, RTE_DIM(m));
	TRYR(expect_zc_in_flight(d->port, 3));
	/* Counted on the RX lcore: a free shows at its next burst. */
	rte_pktmbuf_free(m[0]);
	rte_eth_rx_burst(d->port, 0, &none, 1);
	TRYR(expect_zc_in_flight(d->port, 2));
	free_all(&m[1], 2);
	rte_eth_rx_burst(d->port, 0, &none, 1);
	return expect_zc_in_flight(d->port, 0);
}

/* Past half the ring in flight, RX copies: the peer never starves. */
static int
t_zc_cap(struct dp *d)
{
	uint16_t i, n = RING_SIZE / 2 + 2, lent = 0, got = 0, k, mid;
	uint16_t before = fp_used_idx(&d->peer, FP_TXQ);
	struct rte_mbuf *held[RING_SIZE];

	make_frame(frame_a, 200, 62);
	for (i = 0; i < n; i++)
		fp_post_tx(&d->peer, frame_a, 200);
	while (got < n) {
		k = rte_eth_rx_burst(d->port, 0, &held[got], n - got);
		if (k == 0)
			break;
		got += k;
	}
	for (i = 0; i < got; i++)
		lent += !!RTE_MBUF_HAS_EXTBUF(held[i]);
	mid = fp_used_idx(&d->peer, FP_TXQ);
	free_all(held, got);
	rte_eth_rx_burst(d->port, 0, held, 1);
	EXPECTR(got == n && lent == RING_SIZE / 2,
		"got %u of %u, %u lent, want %u lent", got, n, lent,
		RING_SIZE / 2);
	EXPECTR(fp_used_idx(&d->peer, FP_TXQ) == (uint16_t)(before + n),
		"used idx %u after the frees, want %u (before %u, %u with mbufs out)",
		fp_used_idx(&d->peer, FP_TXQ), (uint16_t)(before + n), before,
		mid);
	return 0;
}

/* The BAR outlives the device while a lent mbuf points into it. */
static int
t_zc_survives_disconnect(struct dp *d)
{
	uint64_t faults = rte_vhost_pci_fault_count();
	struct rte_mbuf *m;

	make_frame(frame_b, 400, 63);
	fp_post_tx(&d->peer, frame_b, 400);
	m = rx_one(d);
	EXPECTR(m != NULL && RTE_MBUF_HAS_EXTBUF(m), "not lent");
	fp_disconnect(&d->peer);
	TRYR(wait_link(d, RTE_ETH_LINK_DOWN));
	EXPECTR(zc_payload_ok(m, frame_b, 400),
		"the lent bytes changed or vanished after the disconnect");
	rte_pktmbuf_free(m);
	EXPECTR(rte_vhost_pci_fault_count() == faults, "a fault was recorded");
	return peer_connect(d, 0);
}

/*
 * A run-time memory table update (net_virtio_user's, when its process
 * grows): rings disabled, a grown table, rings enabled. The BAR is
 * rebuilt while two lent mbufs point into the old one: they stay readable,
 * the old window stays mapped until the last of them is freed, the used
 * index does not move past them, and their heads come back on the resumed
 * ring as they are freed.
 */
static int
t_zc_remap(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t before = fp_used_idx(p, FP_TXQ), ha, hb, hc;
	struct rte_mbuf *ma, *mb, *mc, *none;
	struct rte_eth_stats s0, s1;
	uintptr_t va[8];
	int views0, views1, views2;

	TRYR(get_stats(d, &s0));
	make_frame(frame_a, 300, 80);
	make_frame(frame_b, 400, 81);
	ha = fp_post_tx(p, frame_a, 300);
	hb = fp_post_tx(p, frame_b, 400);
	ma = rx_one(d);
	mb = rx_one(d);
	EXPECTR(ma != NULL && mb != NULL && RTE_MBUF_HAS_EXTBUF(ma) &&
		RTE_MBUF_HAS_EXTBUF(mb), "the two frames were not lent");
	views0 = pmd_views(p, 0, va, RTE_DIM(va));
	EXPECTR(fp_remap(p, 2u << 20) == 0, "remap: %s", p->err);
	/* A frame received after the update proves the ring runs again. */
	make_frame(scratch, 500, 82);
	hc = fp_post_tx(p, scratch, 500);
	mc = rx_one(d);
	EXPECTR(mc != NULL && RTE_MBUF_HAS_EXTBUF(mc) &&
		zc_payload_ok(mc, scratch, 500),
		"no lent 500-byte frame after the update");
	views1 = pmd_views(p, 0, va, RTE_DIM(va));
	EXPECTR(zc_payload_ok(ma, frame_a, 300) &&
		zc_payload_ok(mb, frame_b, 400),
		"lent bytes changed across the update");
	EXPECTR(views1 == views0 + 1,
		"%d PMD mappings of the peer memory after the update, want %d (old window held, new one built)",
		views1, views0 + 1);
	EXPECTR(fp_used_idx(p, FP_TXQ) == before,
		"used idx %u with 3 mbufs out, want %u: it moved past lent heads",
		fp_used_idx(p, FP_TXQ), before);
	rte_pktmbuf_free(mb);
	EXPECTR(rte_eth_rx_burst(d->port, 0, &none, 1) == 0, "phantom packet");
	TRYR(expect_used(d, FP_TXQ, hb, 0));
	rte_pktmbuf_free(ma);
	rte_pktmbuf_free(mc);
	EXPECTR(rte_eth_rx_burst(d->port, 0, &none, 1) == 0, "phantom packet");
	EXPECTR(fp_used_idx(p, FP_TXQ) == (uint16_t)(before + 3),
		"used idx %u after the frees, want %u",
		fp_used_idx(p, FP_TXQ), (uint16_t)(before + 3));
	TRYR(expect_used(d, FP_TXQ, ha, 0));
	TRYR(expect_used(d, FP_TXQ, hc, 0));
	views2 = pmd_views(p, 0, va, RTE_DIM(va));
	EXPECTR(views2 == views0,
		"%d PMD mappings after the last free, want %d (old window unmapped)",
		views2, views0);
	TRYR(get_stats(d, &s1));
	EXPECTR(s1.ierrors == s0.ierrors && s1.ipackets == s0.ipackets + 3,
		"ierrors +%" PRIu64 ", ipackets +%" PRIu64 ", want +0 and +3",
		s1.ierrors - s0.ierrors, s1.ipackets - s0.ipackets);
	return 0;
}

/*
 * The front-end stops and restarts its rings on the same connection
 * (GET_VRING_BASE, then size, base and addresses again) while a mbuf is
 * lent: the mbuf stays readable, and its head, which belonged to the old
 * ring, never reaches the new one when it is freed.
 */
static int
t_zc_ring_reset(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	struct rte_mbuf *m, *none;
	uint16_t head;

	make_frame(frame_a, 600, 83);
	fp_post_tx(p, frame_a, 600);
	m = rx_one(d);
	EXPECTR(m != NULL && RTE_MBUF_HAS_EXTBUF(m), "not lent");
	EXPECTR(fp_restart(p) == 0, "ring restart: %s", p->err);
	TRYR(wait_link(d, RTE_ETH_LINK_UP));
	EXPECTR(zc_payload_ok(m, frame_a, 600),
		"lent bytes changed across the ring restart");
	rte_pktmbuf_free(m);
	EXPECTR(rte_eth_rx_burst(d->port, 0, &none, 1) == 0, "phantom packet");
	EXPECTR(fp_used_idx(p, FP_TXQ) == 0,
		"used idx %u on the new ring: the old ring's head came back",
		fp_used_idx(p, FP_TXQ));
	/* The new ring works from 0. */
	make_frame(frame_b, 600, 84);
	head = fp_post_tx(p, frame_b, 600);
	m = rx_one(d);
	EXPECTR(m != NULL && zc_payload_ok(m, frame_b, 600),
		"no frame on the restarted ring");
	rte_pktmbuf_free(m);
	EXPECTR(rte_eth_rx_burst(d->port, 0, &none, 1) == 0, "phantom packet");
	return expect_used(d, FP_TXQ, head, 0);
}

static void *
free_thread(void *arg)
{
	rte_pktmbuf_free(arg);
	return NULL;
}

/* Free @m on a thread of its own (not an lcore, not the RX one). */
static int
free_elsewhere(struct rte_mbuf *m)
{
	pthread_t t;

	if (pthread_create(&t, NULL, free_thread, m) != 0)
		return FAIL("pthread_create");
	pthread_join(t, NULL);
	return 0;
}

/*
 * The peer reconnects (a new generation) while three mbufs are lent; they
 * are freed afterwards in another order than lent, one on another thread,
 * and between them a frame of the new connection is lent and freed. The
 * old window stays mapped until the last old mbuf is freed and is then
 * unmapped (its one reference released exactly once), no old head ever
 * reaches the new ring, and the new ring gets exactly its own head.
 */
static int
t_zc_reconnect_order(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	struct rte_mbuf *m[3], *md, *none;
	uintptr_t va[8];
	int views0, views1, views2, views3;
	uint16_t u0, hd, i;

	for (i = 0; i < 3; i++) {
		make_frame(frame_a, 300 + 100 * i, 90 + i);
		fp_post_tx(p, frame_a, 300 + 100 * i);
		m[i] = rx_one(d);
		EXPECTR(m[i] != NULL && RTE_MBUF_HAS_EXTBUF(m[i]),
			"frame %u not lent", i);
	}
	views0 = pmd_views(p, 0, va, RTE_DIM(va));
	TRYR(peer_connect(d, 0));
	u0 = fp_used_idx(p, FP_TXQ);
	views1 = pmd_views(p, 0, va, RTE_DIM(va));
	EXPECTR(views1 == views0 + 1,
		"%d PMD mappings after the reconnect, want %d (old window held, new one built)",
		views1, views0 + 1);
	TRYR(free_elsewhere(m[1]));
	rte_pktmbuf_free(m[2]);
	EXPECTR(rte_eth_rx_burst(d->port, 0, &none, 1) == 0, "phantom packet");
	EXPECTR(pmd_views(p, 0, va, RTE_DIM(va)) == views1,
		"the old window went with one old mbuf still out");
	make_frame(frame_b, 700, 95);
	hd = fp_post_tx(p, frame_b, 700);
	md = rx_one(d);
	EXPECTR(md != NULL && RTE_MBUF_HAS_EXTBUF(md) &&
		zc_payload_ok(md, frame_b, 700), "new frame not lent");
	make_frame(frame_a, 300, 90);
	EXPECTR(zc_payload_ok(m[0], frame_a, 300),
		"the oldest lent bytes changed after the reconnect");
	TRYR(free_elsewhere(m[0]));
	views2 = pmd_views(p, 0, va, RTE_DIM(va));
	EXPECTR(views2 == views0,
		"%d PMD mappings after the last old free, want %d (old window released at once)",
		views2, views0);
	EXPECTR(rte_eth_rx_burst(d->port, 0, &none, 1) == 0, "phantom packet");
	EXPECTR(fp_used_idx(p, FP_TXQ) == u0,
		"used idx %u with only old mbufs freed, want %u: an old head reached the new ring",
		fp_used_idx(p, FP_TXQ), u0);
	rte_pktmbuf_free(md);
	EXPECTR(rte_eth_rx_burst(d->port, 0, &none, 1) == 0, "phantom packet");
	EXPECTR(fp_used_idx(p, FP_TXQ) == (uint16_t)(u0 + 1),
		"used idx %u after the new free, want %u",
		fp_used_idx(p, FP_TXQ), (uint16_t)(u0 + 1));
	TRYR(expect_used(d, FP_TXQ, hd, 0));
	views3 = pmd_views(p, 0, va, RTE_DIM(va));
	EXPECTR(views3 == views0, "%d PMD mappings at the end, want %d",
		views3, views0);
	return expect_zc_in_flight(d->port, 0);
}

/* fp_post_tx() on descriptor @avoid's opposite when the next one is it. */
static uint16_t
post_tx_avoiding(struct fake_peer *p, const uint8_t *f, uint32_t len,
		uint16_t avoid)
{
	uint16_t d = fp_next_slot(p, FP_TXQ);

	if (d == avoid)
		d = (d + RING_SIZE / 2) & (RING_SIZE - 1);
	return fp_post_tx_at(p, d, f, len);
}

/*
 * Why IN_ORDER stays off with zero-copy: one lent mbuf the application
 * holds must not stop the ring. With it held, four rings' worth of frames
 * go through, all lent, every other head comes back, and the held one
 * comes back when freed. Returned in lending order, the peer would have
 * run dry after RING_SIZE - 1 frames.
 */
static int
t_zc_held_no_starve(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	struct rte_mbuf *held, *m[BURST];
	unsigned int i, got = 0, lent = 0, back = 0;
	struct vring_used_elem e;
	uint16_t u0, hh, k, j;

	make_frame(frame_a, 600, 96);
	hh = fp_post_tx(p, frame_a, 600);
	held = rx_one(d);
	EXPECTR(held != NULL && RTE_MBUF_HAS_EXTBUF(held), "not lent");
	u0 = fp_used_idx(p, FP_TXQ);
	while (fp_used_next(p, FP_TXQ, &e))
		;
	for (i = 0; i < 4 * RING_SIZE; i++) {
		post_tx_avoiding(p, frame_a, 600, hh);
		k = rte_eth_rx_burst(d->port, 0, m, BURST);
		for (j = 0; j < k; j++) {
			lent += !!RTE_MBUF_HAS_EXTBUF(m[j]);
			rte_pktmbuf_free(m[j]);
		}
		got += k;
		while (fp_used_next(p, FP_TXQ, &e)) {
			EXPECTR(e.id != hh, "the held head came back");
			back++;
		}
	}
	k = rte_eth_rx_burst(d->port, 0, m, BURST);
	free_all(m, k);
	while (fp_used_next(p, FP_TXQ, &e)) {
		EXPECTR(e.id != hh, "the held head came back");
		back++;
	}
	EXPECTR(back == got, "%u heads back of %u frames", back, got);
	EXPECTR(got + k == 4 * RING_SIZE && lent == got && k == 0,
		"%u of %u frames through, %u lent, with one mbuf held",
		got + k, 4 * RING_SIZE, lent);
	EXPECTR(fp_used_idx(p, FP_TXQ) == (uint16_t)(u0 + got),
		"used idx +%u with one mbuf held, want +%u",
		(uint16_t)(fp_used_idx(p, FP_TXQ) - u0), got);
	TRYR(expect_zc_in_flight(d->port, 1));
	rte_pktmbuf_free(held);
	k = rte_eth_rx_burst(d->port, 0, m, BURST);
	free_all(m, k);
	EXPECTR(k == 0, "phantom packet");
	TRYR(expect_used(d, FP_TXQ, hh, 0));
	return expect_zc_in_flight(d->port, 0);
}

/* A head posted again while its mbuf is out: the queue stops. */
static int
t_zc_repost(struct dp *d)
{
	struct rte_eth_stats before, after;
	struct rte_mbuf *m, *more[4];
	uint16_t head, n;

	make_frame(frame_a, 300, 64);
	head = fp_post_tx(&d->peer, frame_a, 300);
	m = rx_one(d);
	EXPECTR(m != NULL && RTE_MBUF_HAS_EXTBUF(m), "not lent");
	TRYR(get_stats(d, &before));
	fp_publish(&d->peer, FP_TXQ, head);
	n = rte_eth_rx_burst(d->port, 0, more, 4);
	free_all(more, n);
	TRYR(get_stats(d, &after));
	rte_pktmbuf_free(m);
	EXPECTR(n == 0 && after.ierrors == before.ierrors + 1,
		"re-posted head: %u packets, ierrors +%" PRIu64, n,
		after.ierrors - before.ierrors);
	return 0;
}

/* A port without zero_copy= lends (no DMA port in this process), with the
 * default zc_min_len of 512. (test_virtio_paths.sh shows zero_copy=0
 * offering IN_ORDER: virtio-user takes its in-order paths.)
 */
static int
t_zc_default(struct dp *d)
{
	struct dp e = { .mp = d->mp };
	struct fake_peer fp = { .sock = -1 };
	struct rte_mbuf *m = NULL;
	char sock[256], args[300];
	int rc = -1, i, lent = -1, copied = -1;

	EXPECTR(d->peer.offered != 0, "no offer recorded");
	snprintf(sock, sizeof(sock), "%s.def", d->sock);
	snprintf(args, sizeof(args), "path=%s", sock);
	EXPECTR(rte_vdev_init("net_vhost_pci2", args) == 0, "vdev refused");
	if (rte_eth_dev_get_port_by_name("net_vhost_pci2", &e.port) != 0 ||
			port_setup(&e) < 0 || fp_init(&fp, RING_SIZE) < 0 ||
			fp_connect(&fp, sock, 0) < 0) {
		FAIL("default port setup: %s", fp.err);
		goto out;
	}
	for (i = 0; i < 2; i++) {
		make_frame(frame_a, i == 0 ? 600 : 400, 70 + i);
		fp_post_tx(&fp, frame_a, i == 0 ? 600 : 400);
		m = rx_one(&e);
		if (m == NULL) {
			FAIL("no packet on the default port");
			goto out;
		}
		if (i == 0)
			lent = RTE_MBUF_HAS_EXTBUF(m) &&
				zc_payload_ok(m, frame_a, 600);
		else
			copied = !RTE_MBUF_HAS_EXTBUF(m) &&
				zc_payload_ok(m, frame_a, 400);
		rte_pktmbuf_free(m);
	}
	if (fp.offered & FP_F_IN_ORDER)
		FAIL("default port offers IN_ORDER: zero-copy is off");
	else if (lent != 1)
		FAIL("default port: a 600-byte frame was not lent");
	else if (copied != 1)
		FAIL("default port: a 400-byte frame (under 512) was lent");
	else
		rc = 0;
out:
	fp_fini(&fp);
	rte_eth_dev_stop(e.port);
	rte_eth_dev_close(e.port);
	rte_vdev_uninit("net_vhost_pci2");
	unlink(sock);
	return rc;
}

const struct dp_check phase_zc[] = {
	{ "zero-copy: a port with zero_copy=1 comes up", t_zc_setup },
	{ "zero-copy: IN_ORDER is not offered (buffers complete out of order)",
		t_zc_no_in_order },
	{ "zero-copy: a 300-byte frame is lent (external buffer, same bytes); its head returns only when the mbuf is freed",
		t_zc_lend },
	{ "zero-copy: a frame under zc_min_len is copied and its head returns at once",
		t_zc_small_copied },
	{ "zero-copy: a payload over 2 descriptors is lent as 2 segments; its head returns only after both are freed, one at a time",
		t_zc_chain },
	{ "zero-copy: past half the ring lent, RX copies; every head returns after the frees",
		t_zc_cap },
	{ "zero-copy: telemetry /vhost_pci/port,<id> and the xstat rx_q0_zero_copy_in_flight count the lent mbufs of rxq0 not yet returned: 0, 3, 2 after a free and a burst, 0 after the rest",
		t_zc_telemetry },
	{ "class 13 (zc-lifetime): a lent mbuf stays readable after the peer disconnects (BAR held), no fault",
		t_zc_survives_disconnect },
	{ "class 13 (zc-lifetime): a memory table update (rings disabled, grown table, rings enabled) with 2 mbufs lent: their bytes stay, the old window stays mapped until the last free, used idx does not pass them, their heads return on the resumed ring as freed",
		t_zc_remap },
	{ "class 13 (zc-lifetime): rings stopped (GET_VRING_BASE) and set up again on the same connection with a mbuf lent: its bytes stay, its head never reaches the new ring, which runs from 0",
		t_zc_ring_reset },
	{ "class 13 (zc-lifetime): the peer reconnects with 3 mbufs lent, freed later out of lending order (one on another thread) around a new lent frame: the old window stays mapped until the last old free and goes at once after it, no old head reaches the new ring, the new head comes back alone",
		t_zc_reconnect_order },
	{ "zero-copy: one lent mbuf held does not starve the peer: 1024 frames through the 256-entry ring, all lent, every other head back, the held head back after its free",
		t_zc_held_no_starve },
	{ "class 7 (avail-idx): zero-copy: the peer re-posting a lent head stops the queue with ierrors +1",
		t_zc_repost },
	{ "zero-copy is the default: a port without zero_copy= offers no IN_ORDER, lends a 600-byte frame and copies a 400-byte one (zc_min_len 512)",
		t_zc_default },
};

const size_t phase_zc_len = RTE_DIM(phase_zc);
