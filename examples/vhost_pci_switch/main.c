/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * dpdk-vhost-pci-switch: an L2 learning switch over every ethdev port,
 * net_vhost_pci ones serving one front-end VM each. A frame goes to the
 * port its destination MAC was last seen on; an unknown, broadcast or
 * multicast one floods to every other port with link up, never back where
 * it came from. The LSC callback runs on the EAL interrupt thread: it
 * hands the link over to the forwarding lcore, which alone owns the MAC
 * table and writes the counters.
 */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_devargs.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_hash_crc.h>
#include <rte_kvargs.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_uuid.h>

#include <rte_pmd_vhost_pci.h>

#define SW_BURST	32
#define SW_NB_DESC	1024
#define SW_POOL_PORT	4095	/* mbufs per port: 2 rings, bursts, caches */
#define SW_MAC_SETS	1024	/* a power of 2 */
#define SW_MAC_WAYS	4
#define SW_MAX_PORTS	64	/* ports are bits of a uint64_t */

struct sw_port {
	struct rte_eth_dev_tx_buffer *txb;	/* in sw_txb[] */
	/* Written by the forwarding lcore only, through sw_count(). */
	uint64_t rx;
	uint64_t tx;
	uint64_t drop;		/* lost here: nowhere to go, or TX refused */
	/* Written by sw_lsc_event() only. */
	uint64_t conn_id;
	bool link_up;
	char path[108];
};

/* A MAC table entry: key, the MAC's 6 bytes, 0 for a free way. */
struct sw_mac {
	uint64_t key;
	uint64_t seen;		/* TSC of its last frame */
	uint16_t port;
};

static struct {
	uint64_t ports;		/* the ports switched */
	uint64_t up;		/* the forwarding lcore's copy of link_up */
	uint64_t lsc_pending;	/* ports whose link_up changed */
	uint64_t stats_tsc;	/* 0: no counters */
	uint64_t aging_tsc;	/* 0: no aging */
	bool quit;
	struct rte_mempool *pool;
	struct sw_port port[SW_MAX_PORTS];
	struct sw_mac mac[SW_MAC_SETS][SW_MAC_WAYS];
} sw;
static uint8_t sw_txb[SW_MAX_PORTS][RTE_ETH_TX_BUFFER_SIZE(SW_BURST)]
	__rte_cache_aligned;

/* One writer: a relaxed store of the sum, read whole by sw_stats(). */
static inline void
sw_count(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

static void
sw_signal(int sig __rte_unused)
{
	__atomic_store_n(&sw.quit, true, __ATOMIC_RELAXED);
}

/* ---- MAC table: 4-way set associative, the forwarding lcore's alone ---- */

/* The entry of @p a, or NULL; its key in @p key and its set in @p set. */
static struct sw_mac *
sw_mac_find(const struct rte_ether_addr *a, uint64_t *key,
		struct sw_mac **set)
{
	unsigned int i;

	*key = 0;
	memcpy(key, a, RTE_ETHER_ADDR_LEN);
	*set = sw.mac[rte_hash_crc_8byte(*key, 0) & (SW_MAC_SETS - 1)];
	for (i = 0; i < SW_MAC_WAYS; i++)
		if ((*set)[i].key == *key)
			return &(*set)[i];
	return NULL;
}

/* Forget what was learnt on @p port; returns how many entries. */
static unsigned int
sw_mac_flush(uint16_t port)
{
	struct sw_mac *e = &sw.mac[0][0];
	unsigned int i, n = 0;

	for (i = 0; i < SW_MAC_SETS * SW_MAC_WAYS; i++, e++)
		if (e->key != 0 && e->port == port) {
			e->key = 0;
			n++;
		}
	return n;
}

static void
sw_learn(const struct rte_ether_addr *src, uint16_t port, uint64_t now)
{
	char buf[RTE_ETHER_ADDR_FMT_SIZE];
	struct sw_mac *e, *set;
	unsigned int i;
	uint64_t key;

	if (!rte_is_valid_assigned_ether_addr(src))
		return;
	e = sw_mac_find(src, &key, &set);
	if (e != NULL && e->port == port) {
		e->seen = now;
		return;
	}
	/* New: a free way, else the one idle the longest. */
	if (e == NULL)
		for (i = 1, e = &set[0]; i < SW_MAC_WAYS && e->key != 0; i++)
			if (set[i].key == 0 || set[i].seen < e->seen)
				e = &set[i];
	rte_ether_format_addr(buf, sizeof(buf), src);
	printf("mac %s: learnt on port %u\n", buf, port);
	e->key = key;
	e->port = port;
	e->seen = now;
}

/* ---- forwarding ---- */

static void
sw_tx_unsent(struct rte_mbuf **pkts, uint16_t n, void *arg)
{
	rte_pktmbuf_free_bulk(pkts, n);
	sw_count(&((struct sw_port *)arg)->drop, n);
}

static void
sw_tx(uint16_t out, struct rte_mbuf *m)
{
	struct sw_port *p = &sw.port[out];

	sw_count(&p->tx, rte_eth_tx_buffer(out, 0, p->txb, m));
}

static void
sw_drop(uint16_t port, struct rte_mbuf *m)
{
	sw_count(&sw.port[port].drop, 1);
	rte_pktmbuf_free(m);
}

static void
sw_forward(uint16_t in, struct rte_mbuf *m, uint64_t now)
{
	struct rte_ether_hdr eh;
	struct sw_mac *e = NULL, *set;
	uint64_t to, key;

	if (rte_pktmbuf_data_len(m) < sizeof(eh)) {
		sw_drop(in, m);
		return;
	}
	/* Zero-copy RX leaves the frame in the peer's memory, which the
	 * peer may rewrite meanwhile: decide on one copy of the header.
	 */
	memcpy(&eh, rte_pktmbuf_mtod(m, void *), sizeof(eh));
	sw_learn(&eh.src_addr, in, now);
	if (rte_is_valid_assigned_ether_addr(&eh.dst_addr))
		e = sw_mac_find(&eh.dst_addr, &key, &set);
	/* Entries go with their port's link: e->port is up. */
	if (e != NULL && (sw.aging_tsc == 0 || now - e->seen < sw.aging_tsc)) {
		if (e->port == in)
			sw_drop(in, m);
		else
			sw_tx(e->port, m);
		return;
	}
	/* Flood: every other port with link up, a reference each. */
	to = sw.up & ~RTE_BIT64(in);
	if (to == 0) {
		sw_drop(in, m);
		return;
	}
	rte_pktmbuf_refcnt_update(m, (int16_t)(__builtin_popcountll(to) - 1));
	for (; to != 0; to &= to - 1)
		sw_tx((uint16_t)rte_bsf64(to), m);
}

/* Link changes handed over by sw_lsc_event(): poll or not, and flush. */
static void
sw_apply_links(void)
{
	uint64_t changed, bit;
	uint16_t port;

	if (__atomic_load_n(&sw.lsc_pending, __ATOMIC_RELAXED) == 0)
		return;
	/* Pairs with the release fetch_or in sw_lsc_event(). */
	changed = __atomic_exchange_n(&sw.lsc_pending, 0, __ATOMIC_ACQUIRE);
	for (; changed != 0; changed &= changed - 1) {
		port = (uint16_t)rte_bsf64(changed);
		bit = RTE_BIT64(port);
		if (__atomic_load_n(&sw.port[port].link_up, __ATOMIC_RELAXED))
			sw.up |= bit;
		else
			sw.up &= ~bit;
		/* Up or down, what was learnt there was another peer's. */
		printf("port %u: flushed %u MAC entries\n", port,
			sw_mac_flush(port));
	}
}

static int
sw_fwd_loop(void *arg __rte_unused)
{
	struct rte_mbuf *pkts[SW_BURST];
	uint16_t port, nb, i;
	uint64_t now, m;

	printf("forwarding on lcore %u\n", rte_lcore_id());
	while (!__atomic_load_n(&sw.quit, __ATOMIC_RELAXED)) {
		sw_apply_links();
		now = rte_get_timer_cycles();
		for (m = sw.up; m != 0; m &= m - 1) {
			port = (uint16_t)rte_bsf64(m);
			nb = rte_eth_rx_burst(port, 0, pkts, SW_BURST);
			sw_count(&sw.port[port].rx, nb);
			for (i = 0; i < nb; i++)
				sw_forward(port, pkts[i], now);
		}
		for (m = sw.ports; m != 0; m &= m - 1) {
			port = (uint16_t)rte_bsf64(m);
			sw_count(&sw.port[port].tx, rte_eth_tx_buffer_flush(
				port, 0, sw.port[port].txb));
		}
	}
	return 0;
}

static void
sw_stats(void)
{
	const struct sw_port *p;
	uint64_t m;

	for (m = sw.ports; m != 0; m &= m - 1) {
		p = &sw.port[rte_bsf64(m)];
		printf("stats: port %u link %-4s rx %" PRIu64 " tx %" PRIu64
			" drop %" PRIu64 "\n", rte_bsf64(m),
			__atomic_load_n(&p->link_up, __ATOMIC_RELAXED) ?
			"up" : "down",
			__atomic_load_n(&p->rx, __ATOMIC_RELAXED),
			__atomic_load_n(&p->tx, __ATOMIC_RELAXED),
			__atomic_load_n(&p->drop, __ATOMIC_RELAXED));
	}
}

/*
 * On the EAL interrupt thread (the driver holds no lock when it calls
 * us), and at start-up: print the peer, hand the link over.
 */
static int
sw_lsc_event(uint16_t port, enum rte_eth_event_type type __rte_unused,
		void *arg __rte_unused, void *ret_param __rte_unused)
{
	struct sw_port *p = &sw.port[port];
	struct rte_pmd_vhost_pci_peer peer;
	char uuid[RTE_UUID_STRLEN] = "none";
	struct rte_eth_link link;
	bool up;

	if (rte_eth_link_get_nowait(port, &link) != 0)
		return 0;
	up = link.link_status == RTE_ETH_LINK_UP;
	/* Transitions only: start-up and the callback may see one twice. */
	if (__atomic_exchange_n(&p->link_up, up, __ATOMIC_RELAXED) == up)
		return 0;
	if (!up) {
		printf("port %u: link down on %s: conn_id %" PRIu64 " gone\n",
			port, p->path,
			__atomic_load_n(&p->conn_id, __ATOMIC_RELAXED));
	} else if (rte_pmd_vhost_pci_get_peer(port, &peer) == 0) {
		if (peer.has_uuid)
			rte_uuid_unparse(peer.uuid, uuid, sizeof(uuid));
		__atomic_store_n(&p->conn_id, peer.conn_id, __ATOMIC_RELAXED);
		printf("port %u: link up on %s: conn_id %" PRIu64
			", version %u, peer uuid %s\n", port, p->path,
			peer.conn_id, peer.version, uuid);
	} /* else not net_vhost_pci, or gone again: a link down follows. */
	/* Release: pairs with the acquire exchange in sw_apply_links(). */
	__atomic_fetch_or(&sw.lsc_pending, RTE_BIT64(port), __ATOMIC_RELEASE);
	return 0;
}

/* ---- set-up ---- */

/* The path= devarg: where the port's front-ends connect. */
static void
sw_port_path(const struct rte_eth_dev_info *info, char *buf, size_t len)
{
	const struct rte_devargs *da = rte_dev_devargs(info->device);
	struct rte_kvargs *kv = NULL;
	const char *v = NULL;

	if (da != NULL && da->args != NULL)
		kv = rte_kvargs_parse(da->args, NULL);
	if (kv != NULL)
		v = rte_kvargs_get(kv, "path");
	snprintf(buf, len, "%s", v != NULL ? v : "-");
	rte_kvargs_free(kv);
}

static int
sw_port_init(uint16_t port)
{
	struct sw_port *p = &sw.port[port];
	uint16_t nb_rxd = SW_NB_DESC, nb_txd = SW_NB_DESC;
	int ret, socket = rte_eth_dev_socket_id(port);
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;

	ret = rte_eth_dev_info_get(port, &info);
	if (ret != 0)
		return ret;
	sw_port_path(&info, p->path, sizeof(p->path));
	conf.intr_conf.lsc = !!(*info.dev_flags & RTE_ETH_DEV_INTR_LSC);
	p->txb = (struct rte_eth_dev_tx_buffer *)sw_txb[port];
	rte_eth_tx_buffer_init(p->txb, SW_BURST);
	rte_eth_tx_buffer_set_err_callback(p->txb, sw_tx_unsent, p);
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, nb_rxd, socket, NULL,
			sw.pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(port, 0, nb_txd, socket, NULL);
	if (ret == 0)
		ret = rte_eth_dev_callback_register(port,
			RTE_ETH_EVENT_INTR_LSC, sw_lsc_event, NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	if (ret != 0)
		return ret;
	/* A switch port takes every destination; -ENOTSUP is fine too. */
	rte_eth_promiscuous_enable(port);
	printf("port %u: %s on %s\n", port, info.driver_name, p->path);
	/* A front-end may have come before the callback was there. */
	return sw_lsc_event(port, RTE_ETH_EVENT_INTR_LSC, NULL, NULL);
}

/* -- [--stats S] [--aging S], in seconds, 0 for never. */
static int
sw_parse_args(int argc, char **argv)
{
	unsigned long v;
	char *end;
	int i;

	sw.stats_tsc = 10 * rte_get_timer_hz();
	sw.aging_tsc = 300 * rte_get_timer_hz();
	for (i = 1; i + 1 < argc; i += 2) {
		v = strtoul(argv[i + 1], &end, 10);
		if (*argv[i + 1] == '\0' || *end != '\0' || v > 31536000)
			return -1;	/* up to a year */
		if (strcmp(argv[i], "--stats") == 0)
			sw.stats_tsc = v * rte_get_timer_hz();
		else if (strcmp(argv[i], "--aging") == 0)
			sw.aging_tsc = v * rte_get_timer_hz();
		else
			return -1;
	}
	return i == argc ? 0 : -1;
}

int
main(int argc, char **argv)
{
	uint64_t m, next;
	unsigned int worker;
	uint16_t port;
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		rte_exit(EXIT_FAILURE, "EAL init failed\n");
	setvbuf(stdout, NULL, _IOLBF, 0);	/* a log file reads as it comes */
	if (sw_parse_args(argc - ret, argv + ret) != 0)
		rte_exit(2, "usage: %s <EAL args> -- [--stats S] [--aging S]\n",
			argv[0]);
	/* The main lcore prints the counters, the first worker forwards. */
	worker = rte_get_next_lcore(-1, 1, 0);
	if (worker >= RTE_MAX_LCORE)
		rte_exit(2, "two lcores needed (-l)\n");
	signal(SIGINT, sw_signal);
	signal(SIGTERM, sw_signal);
	RTE_ETH_FOREACH_DEV(port)
		if (port < SW_MAX_PORTS)
			sw.ports |= RTE_BIT64(port);
	sw.pool = rte_pktmbuf_pool_create("sw_pool", SW_POOL_PORT *
		(unsigned int)__builtin_popcountll(sw.ports), 256, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	ret = sw.ports == 0 ? -ENODEV : sw.pool == NULL ? -rte_errno : 0;
	for (m = sw.ports; ret == 0 && m != 0; m &= m - 1) {
		port = (uint16_t)rte_bsf64(m);
		ret = sw_port_init(port);
		if (ret != 0)
			fprintf(stderr, "port %u: %s\n", port, strerror(-ret));
	}
	if (ret == 0)
		ret = rte_eal_remote_launch(sw_fwd_loop, NULL, worker);
	next = rte_get_timer_cycles() + sw.stats_tsc;
	while (ret == 0 && !__atomic_load_n(&sw.quit, __ATOMIC_RELAXED)) {
		rte_delay_us_sleep(100 * 1000);
		if (sw.stats_tsc != 0 && rte_get_timer_cycles() >= next) {
			next += sw.stats_tsc;
			sw_stats();
		}
	}
	rte_eal_mp_wait_lcore();
	if (ret != 0)
		fprintf(stderr, "set-up failed: %s\n", rte_strerror(-ret));
	for (m = sw.ports; m != 0; m &= m - 1) {
		port = (uint16_t)rte_bsf64(m);
		rte_eth_dev_callback_unregister(port, RTE_ETH_EVENT_INTR_LSC,
			sw_lsc_event, NULL);
		rte_eth_dev_stop(port);
		rte_eth_dev_close(port);
	}
	sw_stats();
	rte_mempool_free(sw.pool);
	rte_eal_cleanup();
	printf("switch: stopped\n");
	return ret == 0 ? 0 : 1;
}
