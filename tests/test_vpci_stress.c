/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * Stress test of net_vhost_pci and librte_vhost_pci: the application
 * stops, starts, disconnects, queries, closes and re-creates its ports
 * while front-ends connect and leave, for hundreds of rounds.
 *
 * One process: EAL (--no-huge), the PMD loaded with -d, three ports:
 * net_vhost_pci0 and net_vhost_pci1 share socket 0 (copy RX),
 * net_vhost_pci2 has socket 1 (zero-copy RX). Threads:
 * - the application (this thread): each round does one thing to a random
 *   port (stop and start, rte_pmd_vhost_pci_disconnect, get_peer, link,
 *   stats, or close + rte_vdev_uninit + rte_vdev_init), then RX and TX
 *   bursts on every started port, checking every frame's bytes. It alone
 *   calls the port's functions, and bursts only on a started port;
 * - STRESS_NPEERS v1 fake front-ends (stress_peer.c) that connect, post
 *   frames, hold 0-5 ms, sometimes restart their rings, and leave cleanly
 *   or by closing the socket, or give up mid-handshake;
 * - a v2 client thread that connects and leaves, sometimes bringing a
 *   device up;
 * - a watchdog that says where every thread is when none made progress
 *   for STALL_MS (a deadlock; devtools then takes backtraces with gdb).
 * An LSC callback on every port counts link up and down events; on link
 * up it asks for the peer and sends every other v2 peer away, as an
 * application may from that thread.
 *
 * At the end, with the churn stopped: every port closes, the sockets are
 * gone and the fd count is what it was before the first port; a fresh
 * port serves a fresh peer, frames cross both ways byte for byte, and
 * the link goes down when the peer leaves.
 *
 * Usage: test_vpci_stress [-r ROUNDS] [-s SEED] PMD.so DIR
 *   DIR holds the sockets. The EAL file prefix is $VPCI_PFX-t-stress.
 *   ROUNDS (default 400) and SEED (default: from the clock) may also come
 *   from STRESS_ROUNDS and STRESS_SEED; a run prints its seed.
 * Output: "ok - stress: ..." or "not ok - stress: ..." + "# why" lines, a
 * summary line "stress: ...", "# <n> passed, <m> failed"; exit status 1
 * on any failure.
 */

#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <rte_pmd_vhost_pci.h>

#include "fake_peer.h"
#include "harness.h"
#include "stress.h"

#define NPORTS		3
#define RING_SIZE	256
#define BURST		32
#define NB_MBUF		4095
#define ROUNDS_DEFAULT	400ul
#define ROUNDS_MAX	1000000ul
/* The rounds stop there, and the run fails: it would not end otherwise. */
#define BUDGET_MS	150000u
#define STALL_MS	20000u
#define WAIT_MS		5000u	/* any wait for the link or frames */
#define FINAL_FRAMES	8

typedef int (*get_peer_fn)(uint16_t, struct rte_pmd_vhost_pci_peer *);
typedef int (*disconnect_fn)(uint16_t);

struct sport {
	const char *name;	/* vdev name, the port's name too */
	unsigned int sock;	/* index in st->sock */
	bool zero_copy;
	bool exists;
	bool started;
	uint16_t id;
	uint64_t rx;		/* packets rx_burst gave, this incarnation */
	uint64_t tx;		/* packets tx_burst took */
};

struct app {
	struct stress *st;
	uint64_t rng;
	const char *pmd;
	struct rte_mempool *mp;
	struct sport port[NPORTS];
	get_peer_fn get_peer;
	disconnect_fn disconnect;
	uint64_t t0;
	unsigned long rounds_done;
	bool watchdog_quit;
	unsigned int stalls;
	/* What the application did and saw. */
	uint64_t n_stop, n_start, n_recreate, n_stats, n_link, n_link_up;
	uint64_t n_disc[4];	/* 0, -ENOTCONN, -ENOTSUP; [3] unused */
	uint64_t n_peer[3];	/* -ENOTCONN, v1, v2 */
	uint64_t rx, tx;
	uint8_t buf[FRAME_MAX];
};

/* A documented result, or a fault. */
static bool
api(struct app *a, bool ok, const char *call, const struct sport *p, int ret)
{
	if (!ok)
		stress_fault(a->st, SF_API, "%s(%s) returned %d (%s)", call,
			p->name, ret, ret < 0 ? strerror(-ret) : "");
	return ok;
}

/* ---- answers of the PMD's own API ---- */

/* What rte_pmd_vhost_pci_get_peer() says of an attached peer. */
static bool
peer_valid(const struct rte_pmd_vhost_pci_peer *peer)
{
	/* v2 clients send a sender UUID, v1 front-ends have none. */
	return (peer->version == 1 || peer->version == 2) &&
		peer->conn_id != 0 && peer->conn_id != UINT64_MAX &&
		peer->has_uuid == (peer->version == 2);
}

/*
 * rte_pmd_vhost_pci_disconnect() of a live port: the index of @ret in
 * 0, -ENOTCONN (none attached, or it left on the way), -ENOTSUP, or -1.
 * -ENODEV says the port is not a net_vhost_pci one: wrong for a port that
 * exists (the driver cancels its LSC events before a port goes). -ENOSPC
 * is documented too, for a front-end that leaves requests unanswered; the
 * clients here answer them all.
 */
static int
disconnect_result(int ret)
{
	static const int ok[] = { 0, -ENOTCONN, -ENOTSUP };
	unsigned int i;

	for (i = 0; i < RTE_DIM(ok); i++)
		if (ret == ok[i])
			return i;
	return -1;
}

/* ---- LSC ---- */

/*
 * On link up, what an application does from its LSC callback (so does
 * examples/vhost_pci_switch): ask who the peer is, and now and then send
 * a v2 peer away. The callback runs on the interrupt thread with no lock
 * held: neither call may deadlock on the driver's or the library's lock,
 * nor wait for a thread that waits for this one.
 */
static void
lsc_peer(struct app *a, uint16_t port_id)
{
	struct stress *st = a->st;
	struct rte_pmd_vhost_pci_peer peer;
	int ret = a->get_peer(port_id, &peer);

	if (ret == -ENOTCONN)
		return;	/* gone again: a link down event follows */
	if (ret != 0 || !peer_valid(&peer)) {
		stress_fault(st, SF_API, "LSC callback: rte_pmd_vhost_pci_get_peer(%u) returned %d, version %u, conn_id %" PRIu64 ", has_uuid %d",
			port_id, ret, peer.version, peer.conn_id,
			peer.has_uuid);
		return;
	}
	stress_count(&st->lsc_peer);
	if (peer.version != 2 ||
			__atomic_add_fetch(&st->lsc_v2, 1, __ATOMIC_RELAXED) % 2)
		return;
	ret = a->disconnect(port_id);
	if (disconnect_result(ret) < 0)
		stress_fault(st, SF_API, "LSC callback: rte_pmd_vhost_pci_disconnect(%u) returned %d",
			port_id, ret);
	else if (ret == 0)
		stress_count(&st->lsc_disc);
}

static int
lsc_cb(uint16_t port_id, enum rte_eth_event_type ev, void *arg,
		void *ret_param __rte_unused)
{
	struct app *a = arg;
	struct stress *st = a->st;
	char name[RTE_ETH_NAME_MAX_LEN];
	struct rte_eth_link l;

	/* The driver cancels its events before a port goes: the port must
	 * still be there, and be ours.
	 */
	if (ev != RTE_ETH_EVENT_INTR_LSC || !rte_eth_dev_is_valid_port(port_id) ||
			rte_eth_dev_get_name_by_port(port_id, name) != 0 ||
			strncmp(name, "net_vhost_pci", 13) != 0 ||
			rte_eth_link_get_nowait(port_id, &l) != 0) {
		stress_fault(st, SF_LSC, "event %d for port %u, which is not a live net_vhost_pci port",
			ev, port_id);
		return 0;
	}
	if (!l.link_status) {
		stress_count(&st->lsc_down);
		return 0;
	}
	stress_count(&st->lsc_up);
	lsc_peer(a, port_id);
	return 0;
}

static void
lsc_unregister(struct app *a, struct sport *p)
{
	unsigned int i;
	int ret;

	/* -EAGAIN while the callback runs on the interrupt thread. */
	for (i = 0; i < WAIT_MS; i++) {
		ret = rte_eth_dev_callback_unregister(p->id,
			RTE_ETH_EVENT_INTR_LSC, lsc_cb, a);
		if (ret != -EAGAIN)
			break;
		stress_sleep_us(1000);
	}
	api(a, ret == 0, "rte_eth_dev_callback_unregister", p, ret);
}

/* ---- port life ---- */

static void
check_stats(struct app *a, struct sport *p)
{
	struct rte_eth_stats s;
	int ret = rte_eth_stats_get(p->id, &s);

	if (!api(a, ret == 0, "rte_eth_stats_get", p, ret))
		return;
	if (s.ipackets != p->rx || s.opackets + s.oerrors != p->tx ||
			s.ierrors != 0)
		stress_fault(a->st, SF_STATS, "%s: ipackets %" PRIu64 " ierrors %" PRIu64 " opackets %" PRIu64 " oerrors %" PRIu64 "; the application received %" PRIu64 " and handed over %" PRIu64,
			p->name, s.ipackets, s.ierrors, s.opackets, s.oerrors,
			p->rx, p->tx);
}

static int
port_setup(struct app *a, struct sport *p)
{
	struct rte_eth_conf conf;
	int ret;

	memset(&conf, 0, sizeof(conf));
	conf.intr_conf.lsc = 1;
	ret = rte_eth_dev_configure(p->id, 1, 1, &conf);
	if (!api(a, ret == 0, "rte_eth_dev_configure", p, ret))
		return ret;
	ret = rte_eth_rx_queue_setup(p->id, 0, RING_SIZE, rte_socket_id(),
		NULL, a->mp);
	if (!api(a, ret == 0, "rte_eth_rx_queue_setup", p, ret))
		return ret;
	ret = rte_eth_tx_queue_setup(p->id, 0, RING_SIZE, rte_socket_id(),
		NULL);
	if (!api(a, ret == 0, "rte_eth_tx_queue_setup", p, ret))
		return ret;
	ret = rte_eth_dev_callback_register(p->id, RTE_ETH_EVENT_INTR_LSC,
		lsc_cb, a);
	if (!api(a, ret == 0, "rte_eth_dev_callback_register", p, ret))
		return ret;
	ret = rte_eth_dev_start(p->id);
	if (!api(a, ret == 0, "rte_eth_dev_start", p, ret))
		return ret;
	p->started = true;
	return 0;
}

/* The vdev, its port (found again by name), started, LSC registered. */
static int
port_create(struct app *a, struct sport *p)
{
	char args[256];
	int ret;

	snprintf(args, sizeof(args), "path=%s,zero_copy=%d",
		a->st->sock[p->sock], p->zero_copy);
	ret = rte_vdev_init(p->name, args);
	if (!api(a, ret == 0, "rte_vdev_init", p, ret))
		return ret;
	ret = rte_eth_dev_get_port_by_name(p->name, &p->id);
	if (!api(a, ret == 0, "rte_eth_dev_get_port_by_name", p, ret))
		return ret;
	p->exists = true;
	p->started = false;
	p->rx = p->tx = 0;
	return port_setup(a, p);
}

static int
port_destroy(struct app *a, struct sport *p)
{
	int ret;

	check_stats(a, p);
	if (p->started) {
		ret = rte_eth_dev_stop(p->id);
		api(a, ret == 0, "rte_eth_dev_stop", p, ret);
		p->started = false;
	}
	lsc_unregister(a, p);
	ret = rte_eth_dev_close(p->id);
	api(a, ret == 0, "rte_eth_dev_close", p, ret);
	ret = rte_vdev_uninit(p->name);
	api(a, ret == 0, "rte_vdev_uninit", p, ret);
	p->exists = false;
	return ret;
}

/* ---- the application's actions ---- */

static void
act_stop_start(struct app *a, struct sport *p)
{
	int ret;

	if (p->started) {
		ret = rte_eth_dev_stop(p->id);
		api(a, ret == 0, "rte_eth_dev_stop", p, ret);
		p->started = false;
		a->n_stop++;
		/* Sometimes it stays stopped for a while. */
		if (stress_below(&a->rng, 4) == 0)
			return;
	}
	ret = rte_eth_dev_start(p->id);
	p->started = api(a, ret == 0, "rte_eth_dev_start", p, ret);
	a->n_start++;
}

static void
act_disconnect(struct app *a, struct sport *p)
{
	int ret = a->disconnect(p->id), i = disconnect_result(ret);

	if (api(a, i >= 0, "rte_pmd_vhost_pci_disconnect", p, ret))
		a->n_disc[i]++;
}

static void
act_get_peer(struct app *a, struct sport *p)
{
	struct rte_pmd_vhost_pci_peer peer;
	int ret = a->get_peer(p->id, &peer);

	if (ret == -ENOTCONN) {
		a->n_peer[0]++;
		return;
	}
	if (!api(a, ret == 0, "rte_pmd_vhost_pci_get_peer", p, ret))
		return;
	if (!peer_valid(&peer)) {
		stress_fault(a->st, SF_API, "rte_pmd_vhost_pci_get_peer(%s): version %u, conn_id %" PRIu64 ", has_uuid %d",
			p->name, peer.version, peer.conn_id, peer.has_uuid);
		return;
	}
	a->n_peer[peer.version]++;
}

static void
act_link(struct app *a, struct sport *p)
{
	struct rte_eth_link l;
	int ret = rte_eth_link_get_nowait(p->id, &l);

	if (!api(a, ret == 0, "rte_eth_link_get_nowait", p, ret))
		return;
	if (l.link_status > 1 || (l.link_status &&
			l.link_speed != RTE_ETH_SPEED_NUM_10G))
		stress_fault(a->st, SF_API, "%s: link status %u, speed %u",
			p->name, l.link_status, l.link_speed);
	a->n_link++;
	a->n_link_up += l.link_status;
}

static void
act_recreate(struct app *a, struct sport *p)
{
	port_destroy(a, p);
	if (port_create(a, p) == 0)
		a->n_recreate++;
}

/* RX on every started port, every frame checked; TX on one. */
static void
bursts(struct app *a)
{
	struct rte_mbuf *pkts[BURST];
	const uint8_t *data;
	struct sport *p;
	char why[200];
	uint16_t n, i;
	unsigned int k;

	for (k = 0; k < NPORTS; k++) {
		p = &a->port[k];
		if (!p->exists || !p->started)
			continue;
		n = rte_eth_rx_burst(p->id, 0, pkts, BURST);
		p->rx += n;
		a->rx += n;
		for (i = 0; i < n; i++) {
			data = rte_pktmbuf_read(pkts[i], 0,
				RTE_MIN(pkts[i]->pkt_len, (uint32_t)FRAME_MAX),
				a->buf);
			if (pkts[i]->port != p->id)
				stress_fault(a->st, SF_RX, "%s: mbuf of port %u",
					p->name, pkts[i]->port);
			else if (data == NULL || frame_check(data,
					pkts[i]->pkt_len, why, sizeof(why)) < 0)
				stress_fault(a->st, SF_RX, "%s: %s", p->name,
					data == NULL ? "mbuf shorter than pkt_len" :
					why);
			rte_pktmbuf_free(pkts[i]);
		}
	}
	p = &a->port[stress_below(&a->rng, NPORTS)];
	if (!p->exists || !p->started || stress_below(&a->rng, 2))
		return;
	n = 1 + stress_below(&a->rng, 4);
	for (i = 0; i < n; i++) {
		uint32_t len = FRAME_MIN + stress_below(&a->rng,
			FRAME_MAX - FRAME_MIN + 1);
		char *d;

		pkts[i] = rte_pktmbuf_alloc(a->mp);
		d = pkts[i] != NULL ? rte_pktmbuf_append(pkts[i], len) : NULL;
		if (d == NULL) {
			stress_fault(a->st, SF_HARNESS, "no mbuf for TX");
			rte_pktmbuf_free(pkts[i]);
			break;
		}
		frame_make((uint8_t *)d, len, (uint32_t)stress_rand(&a->rng));
	}
	n = i;
	i = rte_eth_tx_burst(p->id, 0, pkts, n);
	p->tx += i;
	a->tx += i;
	rte_pktmbuf_free_bulk(&pkts[i], n - i);
}

static void
app_round(struct app *a)
{
	struct sport *p = &a->port[stress_below(&a->rng, NPORTS)];
	uint32_t dice = stress_below(&a->rng, 100);

	if (!p->exists) {
		/* A re-creation that failed: try again. */
		stress_where(a->st, STRESS_APP, "app: port_create");
		port_create(a, p);
	} else if (dice < 20) {
		stress_where(a->st, STRESS_APP, "app: stop/start");
		act_stop_start(a, p);
	} else if (dice < 40) {
		stress_where(a->st, STRESS_APP, "app: rte_pmd_vhost_pci_disconnect");
		act_disconnect(a, p);
	} else if (dice < 55) {
		stress_where(a->st, STRESS_APP, "app: get_peer");
		act_get_peer(a, p);
	} else if (dice < 70) {
		stress_where(a->st, STRESS_APP, "app: link_get_nowait");
		act_link(a, p);
	} else if (dice < 85) {
		stress_where(a->st, STRESS_APP, "app: stats_get");
		check_stats(a, p);
		a->n_stats++;
	} else if (dice < 95) {
		stress_where(a->st, STRESS_APP, "app: close and re-create");
		act_recreate(a, p);
	}
	stress_where(a->st, STRESS_APP, "app: bursts");
	bursts(a);
	stress_sleep_us(stress_below(&a->rng, 1000));
}

/* ---- the watchdog ---- */

static void *
watchdog(void *arg)
{
	struct app *a = arg;
	uint64_t last = 0, since = stress_now_ms(), cur;
	bool told = false;
	unsigned int i;

	while (!__atomic_load_n(&a->watchdog_quit, __ATOMIC_RELAXED)) {
		stress_sleep_us(200000);
		cur = stress_read(&a->st->progress);
		if (cur != last) {
			last = cur;
			since = stress_now_ms();
			told = false;
			continue;
		}
		if (told || stress_now_ms() - since < STALL_MS)
			continue;
		told = true;
		__atomic_add_fetch(&a->stalls, 1, __ATOMIC_RELAXED);
		printf("# stall: no round ended for %u s; where the threads are:\n",
			STALL_MS / 1000);
		for (i = 0; i < STRESS_NTHREADS; i++)
			printf("#   thread %u: %s\n", i, __atomic_load_n(
				&a->st->where[i], __ATOMIC_RELAXED));
		fflush(stdout);
	}
	return NULL;
}

/* ---- the end: everything must still work ---- */

static void
report(struct tally *t, const char *name, int rc)
{
	tally_report(t, name, rc, fail_reason());
	fail_clear();
}

static int
wait_link(struct sport *p, uint8_t up)
{
	uint64_t deadline = stress_now_ms() + WAIT_MS;
	struct rte_eth_link l;

	do {
		memset(&l, 0, sizeof(l));
		if (rte_eth_link_get_nowait(p->id, &l) == 0 &&
				l.link_status == up)
			return 0;
		stress_sleep_us(1000);
	} while (stress_now_ms() < deadline);
	return FAIL("%s: link status still %u after %u ms, want %u", p->name,
		l.link_status, WAIT_MS, up);
}

static int
wait_count(const uint64_t *c, uint64_t above, const char *what)
{
	uint64_t deadline = stress_now_ms() + WAIT_MS;

	while (stress_read(c) <= above) {
		if (stress_now_ms() >= deadline)
			return FAIL("no %s within %u ms", what, WAIT_MS);
		stress_sleep_us(1000);
	}
	return 0;
}

/* Every port closes; then no socket file is left, nor an fd. */
static int
final_close_all(struct app *a, int fds_before)
{
	unsigned int k, api_faults = stress_faults(a->st, SF_API);
	unsigned int stats_faults = stress_faults(a->st, SF_STATS);
	int fds;

	/* Each port's statistics are checked once more on the way. */
	for (k = 0; k < NPORTS; k++)
		if (a->port[k].exists)
			port_destroy(a, &a->port[k]);
	EXPECTR(stress_faults(a->st, SF_API) == api_faults, "closing: %s",
		a->st->fault[SF_API]);
	EXPECTR(stress_faults(a->st, SF_STATS) == stats_faults,
		"statistics before closing: %s", a->st->fault[SF_STATS]);
	for (k = 0; k < STRESS_NSOCKS; k++)
		EXPECTR(access(a->st->sock[k], F_OK) < 0 && errno == ENOENT,
			"%s still there after its last port closed",
			a->st->sock[k]);
	fds = count_fds();
	EXPECTR(fds == fds_before,
		"%d fds open, %d before the first port was created", fds,
		fds_before);
	return 0;
}

/* Peer @fp posts FINAL_FRAMES frames; rx_burst gives them back intact. */
static int
final_rx(struct app *a, struct sport *p, struct fake_peer *fp)
{
	uint8_t f[FINAL_FRAMES][FRAME_MAX];
	uint32_t len[FINAL_FRAMES];
	uint64_t deadline = stress_now_ms() + WAIT_MS;
	struct rte_mbuf *m = NULL;
	struct vring_used_elem e;
	unsigned int i, got = 0;
	uint16_t head[FINAL_FRAMES];
	const uint8_t *d;

	for (i = 0; i < FINAL_FRAMES; i++) {
		len[i] = FRAME_MIN + i * 181;
		frame_make(f[i], len[i], 0xf1a10000u + i);
		head[i] = fp_post_tx(fp, f[i], len[i]);
	}
	while (got < FINAL_FRAMES && stress_now_ms() < deadline) {
		if (rte_eth_rx_burst(p->id, 0, &m, 1) == 0) {
			stress_sleep_us(1000);
			continue;
		}
		p->rx++;
		d = rte_pktmbuf_read(m, 0, RTE_MIN(m->pkt_len,
			(uint32_t)FRAME_MAX), a->buf);
		if (m->pkt_len != len[got] || d == NULL ||
				memcmp(d, f[got], len[got]) != 0) {
			rte_pktmbuf_free(m);
			return FAIL("frame %u: %u bytes, want %u, or other bytes",
				got, m->pkt_len, len[got]);
		}
		rte_pktmbuf_free(m);
		got++;
	}
	EXPECTR(got == FINAL_FRAMES, "%u of %u frames within %u ms", got,
		FINAL_FRAMES, WAIT_MS);
	for (i = 0; i < FINAL_FRAMES; i++) {
		EXPECTR(fp_used_next(fp, FP_TXQ, &e) == 1, "TX head %u not returned",
			head[i]);
		EXPECTR(e.id == head[i], "TX ring: used id %u, want %u", e.id,
			head[i]);
	}
	return 0;
}

/* tx_burst of FINAL_FRAMES frames: the peer finds each in its buffers. */
static int
final_tx(struct app *a, struct sport *p, struct fake_peer *fp)
{
	static const uint8_t hdr[FP_NET_HDR_LEN] = { [10] = 1 };
	struct rte_mbuf *m[FINAL_FRAMES];
	uint8_t f[FINAL_FRAMES][FRAME_MAX];
	uint32_t len[FINAL_FRAMES];
	uint16_t head[FINAL_FRAMES], sent;
	struct vring_used_elem e;
	const uint8_t *b;
	unsigned int i;

	for (i = 0; i < FINAL_FRAMES; i++) {
		head[i] = fp_post_rx(fp, FP_BUF_SIZE, 0x5a);
		len[i] = FRAME_MAX - i * 173;
		frame_make(f[i], len[i], 0x7e570000u + i);
		m[i] = rte_pktmbuf_alloc(a->mp);
		EXPECTR(m[i] != NULL, "no mbuf");
		memcpy(rte_pktmbuf_append(m[i], len[i]), f[i], len[i]);
	}
	sent = rte_eth_tx_burst(p->id, 0, m, FINAL_FRAMES);
	p->tx += sent;
	rte_pktmbuf_free_bulk(&m[sent], FINAL_FRAMES - sent);
	EXPECTR(sent == FINAL_FRAMES, "tx_burst took %u of %u", sent,
		FINAL_FRAMES);
	for (i = 0; i < FINAL_FRAMES; i++) {
		EXPECTR(fp_used_next(fp, FP_RXQ, &e) == 1,
			"frame %u: no used entry", i);
		EXPECTR(e.id == head[i] && e.len == FP_NET_HDR_LEN + len[i],
			"frame %u: used id %u len %u, want %u %u", i, e.id,
			e.len, head[i], FP_NET_HDR_LEN + len[i]);
		b = fp_buf(fp, FP_RXQ, e.id);
		EXPECTR(memcmp(b, hdr, sizeof(hdr)) == 0,
			"frame %u: virtio-net header not zeros + 1 buffer", i);
		EXPECTR(memcmp(b + FP_NET_HDR_LEN, f[i], len[i]) == 0,
			"frame %u: other bytes in the peer's buffer", i);
		EXPECTR(b[FP_NET_HDR_LEN + len[i]] == 0x5a,
			"frame %u: byte after it overwritten", i);
	}
	return 0;
}

static int
final_stats(const struct sport *p)
{
	struct rte_eth_stats s;
	int ret = rte_eth_stats_get(p->id, &s);

	EXPECTR(ret == 0, "rte_eth_stats_get: %d", ret);
	EXPECTR(s.ipackets == p->rx && s.opackets == p->tx && s.ierrors == 0 &&
		s.oerrors == 0 && p->rx == FINAL_FRAMES && p->tx == FINAL_FRAMES,
		"ipackets %" PRIu64 " ierrors %" PRIu64 " opackets %" PRIu64 " oerrors %" PRIu64 ", want %u and 0 each way",
		s.ipackets, s.ierrors, s.opackets, s.oerrors, FINAL_FRAMES);
	return 0;
}

static void
final_checks(struct app *a, struct tally *t, int fds_before)
{
	struct sport *p = &a->port[0];
	struct fake_peer fp;
	uint64_t up, down;
	int rc;

	report(t, "stress: after the churn every port closes, its socket file goes, and the fd count is back to what it was before the first port",
		final_close_all(a, fds_before));

	up = stress_read(&a->st->lsc_up);
	rc = fp_init(&fp, RING_SIZE);
	if (rc < 0)
		FAIL("fp_init: %s", fp.err);
	if (rc == 0 && (rc = port_create(a, p)) < 0)
		FAIL("re-creating %s: %s", p->name, a->st->fault[SF_API]);
	if (rc == 0 && (rc = fp_connect(&fp, a->st->sock[p->sock], 0)) < 0)
		FAIL("fake front-end: %s", fp.err);
	if (rc == 0)
		rc = wait_link(p, RTE_ETH_LINK_UP);
	if (rc == 0)
		rc = wait_count(&a->st->lsc_up, up, "LSC link up event");
	report(t, "stress: a fresh port attaches a fresh peer: link up and an LSC up event within 5 s", rc);
	if (rc == 0) {
		report(t, "stress: frames the final peer posts come out of rx_burst with their bytes, in order, and go back on its used ring",
			final_rx(a, p, &fp));
		report(t, "stress: frames tx_burst takes land in the final peer's buffers byte for byte",
			final_tx(a, p, &fp));
		report(t, "stress: the fresh port's statistics count exactly the frames that crossed it",
			final_stats(p));
		down = stress_read(&a->st->lsc_down);
		rc = fp_leave(&fp);
		if (rc < 0)
			FAIL("fp_leave: %s", fp.err);
		if (rc == 0)
			rc = wait_link(p, RTE_ETH_LINK_DOWN);
		if (rc == 0)
			rc = wait_count(&a->st->lsc_down, down,
				"LSC link down event");
		report(t, "stress: the final peer leaves cleanly: link down and an LSC down event within 5 s", rc);
	}
	fp_fini(&fp);
	if (p->exists)
		port_destroy(a, p);
}

/* ---- set-up ---- */

static void *
pmd_sym(const char *pmd, const char *name)
{
	void *h = dlopen(pmd, RTLD_NOW | RTLD_NOLOAD);
	void *sym = NULL;

	if (h != NULL) {
		sym = dlsym(h, name);
		dlclose(h);
	}
	return sym;
}

static int
eal_start(const char *pmd)
{
	const char *pfx = getenv("VPCI_PFX");
	char prefix[128];
	char *argv[] = {
		"test_vpci_stress", "-l", "0", "--no-pci", "--no-huge",
		"-m", "128", prefix, "-d", (char *)(uintptr_t)pmd,
		"--log-level=lib.vhost_pci:notice", NULL,
	};

	snprintf(prefix, sizeof(prefix), "--file-prefix=%s-t-stress",
		pfx != NULL ? pfx : "vpci");
	if (rte_eal_init(RTE_DIM(argv) - 1, argv) < 0)
		return FAIL("rte_eal_init: %s", rte_strerror(rte_errno));
	return 0;
}

static int
setup(struct app *a, const char *dir)
{
	static const char *const names[NPORTS] = {
		"net_vhost_pci0", "net_vhost_pci1", "net_vhost_pci2",
	};
	unsigned int k;

	for (k = 0; k < STRESS_NSOCKS; k++) {
		if ((size_t)snprintf(a->st->sock[k], sizeof(a->st->sock[k]),
				"%s/t-stress%u.sock", dir, k) >=
				sizeof(a->st->sock[k]))
			return FAIL("socket path too long");
		unlink(a->st->sock[k]);
	}
	a->get_peer = (get_peer_fn)(uintptr_t)pmd_sym(a->pmd,
		"rte_pmd_vhost_pci_get_peer");
	a->disconnect = (disconnect_fn)(uintptr_t)pmd_sym(a->pmd,
		"rte_pmd_vhost_pci_disconnect");
	if (a->get_peer == NULL || a->disconnect == NULL)
		return FAIL("rte_pmd_vhost_pci_* not found in %s", a->pmd);
	a->mp = rte_pktmbuf_pool_create("stress", NB_MBUF, 64, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (a->mp == NULL)
		return FAIL("mempool: %s", rte_strerror(rte_errno));
	for (k = 0; k < NPORTS; k++) {
		a->port[k].name = names[k];
		a->port[k].sock = k < 2 ? 0 : 1;
		a->port[k].zero_copy = k == 2;
	}
	return 0;
}

static int
create_ports(struct app *a)
{
	unsigned int k;

	for (k = 0; k < NPORTS; k++)
		if (port_create(a, &a->port[k]) < 0)
			return FAIL("%s: %s", a->port[k].name,
				a->st->fault[SF_API]);
	return 0;
}

/* ---- the run ---- */

static void
run_rounds(struct app *a, struct stress_thread *th, pthread_t *wd)
{
	struct stress *st = a->st;
	unsigned int i;
	unsigned long r;

	pthread_create(wd, NULL, watchdog, a);
	for (i = 1; i < STRESS_NTHREADS; i++) {
		th[i].st = st;
		th[i].idx = i;
		th[i].rng = st->seed + 0x9e3779b97f4a7c15ull * (i + 1);
		pthread_create(&th[i].tid, NULL, i == STRESS_CLIENT ?
			stress_client_thread : stress_peer_thread, &th[i]);
	}
	for (r = 0; r < st->rounds; r++) {
		if (stress_now_ms() - a->t0 > BUDGET_MS)
			break;
		app_round(a);
		stress_count(&st->progress);
	}
	a->rounds_done = r;
	stress_where(st, STRESS_APP, "app: joining");
	__atomic_store_n(&st->app_done, true, __ATOMIC_RELAXED);
	if (r < st->rounds)
		__atomic_store_n(&st->stop, true, __ATOMIC_RELAXED);
	for (i = 1; i < STRESS_NTHREADS; i++)
		pthread_join(th[i].tid, NULL);
	/* Waiting for the others to finish is no step of its own. */
	st->where_t0[STRESS_APP] = stress_now_ms();
	stress_where(st, STRESS_APP, "app: final checks");
}

static int
fault_check(struct stress *st, enum stress_fault f)
{
	unsigned int n = stress_faults(st, f);

	if (n == 0)
		return 0;
	return FAIL("%u, the first: %s", n, st->fault[f]);
}

static void
churn_checks(struct app *a, struct tally *t)
{
	struct stress *st = a->st;
	uint64_t v1 = stress_read(&st->v1_ok), try = stress_read(&st->v1_try);
	unsigned int stalls;
	int rc;

	rc = a->rounds_done == st->rounds ? 0 :
		FAIL("%lu of %lu rounds in %u s", a->rounds_done, st->rounds,
			BUDGET_MS / 1000);
	report(t, "stress: every round ran within the time budget", rc);
	stalls = __atomic_load_n(&a->stalls, __ATOMIC_RELAXED);
	rc = stalls == 0 ? 0 : FAIL("%u stall(s), see the # lines", stalls);
	report(t, "stress: no thread made no progress for 20 s", rc);
	report(t, "stress: every call returned a value its documentation allows",
		fault_check(st, SF_API));
	rc = fault_check(st, SF_RX);
	if (rc == 0 && a->rx == 0)
		rc = FAIL("no frame received at all");
	report(t, "stress: every frame rx_burst gave during the churn has the bytes its peer posted",
		rc);
	rc = fault_check(st, SF_PEER_RX);
	if (rc == 0 && stress_read(&st->peer_rx) == 0)
		rc = FAIL("no frame reached a peer at all");
	report(t, "stress: every frame a peer found in its RX buffers has the bytes tx_burst took",
		rc);
	report(t, "stress: port statistics equal what the application received and handed over",
		fault_check(st, SF_STATS));
	rc = fault_check(st, SF_LSC);
	if (rc == 0 && (stress_read(&st->lsc_up) == 0 ||
			stress_read(&st->lsc_down) == 0))
		rc = FAIL("LSC up %" PRIu64 ", down %" PRIu64 ": want both",
			stress_read(&st->lsc_up), stress_read(&st->lsc_down));
	report(t, "stress: LSC callbacks saw link up and link down, each on a live port of ours",
		rc);
	/* Refusals (no port free, socket being re-created) are expected;
	 * most attempts must still succeed.
	 */
	rc = v1 * 4 >= try && v1 >= st->rounds / 2 ? 0 :
		FAIL("%" PRIu64 " of %" PRIu64 " handshakes reached a ready device",
			v1, try);
	report(t, "stress: fake peers attached many times", rc);
	rc = stress_read(&st->v2_ok) * 2 >= stress_read(&st->v2_try) &&
		stress_read(&st->v2_up) > 0 ? 0 :
		FAIL("%" PRIu64 " of %" PRIu64 " v2 clients connected, %" PRIu64 " brought a device up",
			stress_read(&st->v2_ok), stress_read(&st->v2_try),
			stress_read(&st->v2_up));
	report(t, "stress: v2 clients connected and brought devices up", rc);
	rc = a->n_peer[1] > 0 && a->n_recreate > 0 && a->n_stop > 0 &&
		a->n_disc[2] > 0 ? 0 :
		FAIL("get_peer saw v1 %" PRIu64 " times; %" PRIu64 " re-creations, %" PRIu64 " stops, %" PRIu64 " disconnects of a v1 peer",
			a->n_peer[1], a->n_recreate, a->n_stop, a->n_disc[2]);
	report(t, "stress: the application stopped, re-created and disconnected ports with peers attached",
		rc);
	report(t, "stress: the test made its own resources (memfds, mbufs)",
		fault_check(st, SF_HARNESS));
}

static void
summary(struct app *a)
{
	struct stress *st = a->st;

	printf("stress: rounds=%lu seed=%" PRIu64 " ms=%" PRIu64
		" v1: try=%" PRIu64 " ready=%" PRIu64 " abort=%" PRIu64
		" restart=%" PRIu64 " clean=%" PRIu64 " abrupt=%" PRIu64
		" tx=%" PRIu64 " rx=%" PRIu64
		" v2: try=%" PRIu64 " ok=%" PRIu64 " up=%" PRIu64
		" up_fail=%" PRIu64 " srv_req=%" PRIu64
		" app: stop=%" PRIu64 " start=%" PRIu64 " recreate=%" PRIu64
		" disc=%" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64
		" peer=%" PRIu64 "/%" PRIu64 "/%" PRIu64
		" link=%" PRIu64 "/%" PRIu64 " stats=%" PRIu64
		" rx=%" PRIu64 " tx=%" PRIu64
		" lsc: up=%" PRIu64 " down=%" PRIu64 " peer=%" PRIu64
		" disc=%" PRIu64 " slowest: %" PRIu64 " ms in %s\n",
		a->rounds_done, st->seed, stress_now_ms() - a->t0,
		stress_read(&st->v1_try), stress_read(&st->v1_ok),
		stress_read(&st->v1_abort), stress_read(&st->v1_restart),
		stress_read(&st->v1_clean), stress_read(&st->v1_abrupt),
		stress_read(&st->v1_tx), stress_read(&st->peer_rx),
		stress_read(&st->v2_try), stress_read(&st->v2_ok),
		stress_read(&st->v2_up), stress_read(&st->v2_up_fail),
		stress_read(&st->v2_srv_req),
		a->n_stop, a->n_start, a->n_recreate,
		a->n_disc[0], a->n_disc[1], a->n_disc[2], a->n_disc[3],
		a->n_peer[0], a->n_peer[1], a->n_peer[2],
		a->n_link_up, a->n_link, a->n_stats, a->rx, a->tx,
		stress_read(&st->lsc_up), stress_read(&st->lsc_down),
		stress_read(&st->lsc_peer), stress_read(&st->lsc_disc),
		st->slow_ms, st->slow_what != NULL ? st->slow_what : "-");
	fflush(stdout);
}

static int
parse_args(int argc, char **argv, struct stress *st, const char **pmd,
		const char **dir)
{
	const char *env_r = getenv("STRESS_ROUNDS");
	const char *env_s = getenv("STRESS_SEED");
	const char *r = env_r, *s = env_s;
	char *end;
	int c;

	while ((c = getopt(argc, argv, "r:s:")) != -1) {
		if (c == 'r')
			r = optarg;
		else if (c == 's')
			s = optarg;
		else
			return -1;
	}
	if (argc - optind != 2)
		return -1;
	*pmd = argv[optind];
	*dir = argv[optind + 1];
	st->rounds = ROUNDS_DEFAULT;
	if (r != NULL) {
		errno = 0;
		st->rounds = strtoul(r, &end, 10);
		if (errno != 0 || *end != '\0' || st->rounds == 0 ||
				st->rounds > ROUNDS_MAX)
			return -1;
	}
	st->seed = (uint64_t)time(NULL) * 1000003u + (uint64_t)getpid();
	if (s != NULL) {
		errno = 0;
		st->seed = strtoull(s, &end, 0);
		if (errno != 0 || *end != '\0')
			return -1;
	}
	/* xorshift wants a nonzero state. */
	if (st->seed == 0)
		st->seed = 1;
	return 0;
}

int
main(int argc, char **argv)
{
	static struct stress st;
	static struct app a;
	struct stress_thread th[STRESS_NTHREADS];
	struct tally t = { 0 };
	const char *dir;
	pthread_t wd;
	int fds_before;

	if (parse_args(argc, argv, &st, &a.pmd, &dir) < 0) {
		fprintf(stderr, "usage: %s [-r ROUNDS] [-s SEED] PMD.so DIR\n"
			"  ROUNDS 1..%lu (default %lu, or STRESS_ROUNDS); SEED: STRESS_SEED\n",
			argv[0], ROUNDS_MAX, ROUNDS_DEFAULT);
		return 2;
	}
	/* Peers write to sockets the device may have closed. */
	signal(SIGPIPE, SIG_IGN);
	pthread_mutex_init(&st.lock, NULL);
	a.st = &st;
	a.rng = st.seed;
	memset(th, 0, sizeof(th));
	printf("# stress: %lu rounds, seed %" PRIu64 " (STRESS_SEED=%" PRIu64 " repeats the choices)\n",
		st.rounds, st.seed, st.seed);
	fflush(stdout);
	if (eal_start(a.pmd) < 0 || setup(&a, dir) < 0) {
		report(&t, "stress: set-up (EAL, PMD, mempool)", -1);
		return tally_done(&t);
	}
	fds_before = count_fds();
	if (create_ports(&a) < 0) {
		report(&t, "stress: set-up (three ports)", -1);
		return tally_done(&t);
	}
	a.t0 = stress_now_ms();
	run_rounds(&a, th, &wd);
	summary(&a);
	churn_checks(&a, &t);
	final_checks(&a, &t, fds_before);
	__atomic_store_n(&a.watchdog_quit, true, __ATOMIC_RELAXED);
	pthread_join(wd, NULL);
	rte_mempool_free(a.mp);
	rte_eal_cleanup();
	return tally_done(&t);
}
