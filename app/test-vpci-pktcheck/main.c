/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * dpdk-vpci-pktcheck: send numbered, checksummed frames out of one ethdev
 * port and verify every frame that comes back from a far side running
 * testpmd in macswap or io forwarding mode. With --expect none nothing
 * comes back: it sends, then logs each frame it receives until --timeout
 * (a peer of a switch, where frames come from other senders).
 *
 * With --queues N it sends each queue's share of the frames on its own TX
 * queue and expects each frame back on the RX queue of the same index
 * (testpmd with one forwarding core forwards rxq i to txq i, and a
 * virtio front-end's txq i is the back-end's rxq i and back), each queue
 * with its own window and its own accounting.
 *
 * With --sink it only receives, reading every byte (sink.c).
 *
 * Frame layout (all multi-byte fields big endian):
 *   0  dst MAC 02:00:00:00:00:02 (--dst-mac)
 *   6  src MAC 02:00:00:00:00:01 (--src-mac)
 *  12  ethertype 0x88B5
 *  14  magic 0x56504349
 *  18  run id
 *  22  seq: queue q sends a contiguous range of its own
 *  26  frame length (without FCS)
 *  30  queue the frame was sent on
 *  34  filler: byte at frame offset i is (seq * 31 + i) & 0xff
 * L-4  CRC32C (rte_hash_crc) over bytes [14, L-4)
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memory.h>
#include <rte_mempool.h>
#include <rte_random.h>

#include "pktcheck.h"

#define PC_ETHERTYPE	0x88B5
#define PC_MAGIC	0x56504349u
#define PC_MIN_FRAME	64
#define PC_MAX_FRAME	9000
#define PC_OFF_MAGIC	RTE_ETHER_HDR_LEN
#define PC_OFF_RUN	(PC_OFF_MAGIC + 4)
#define PC_OFF_SEQ	(PC_OFF_MAGIC + 8)
#define PC_OFF_LEN	(PC_OFF_MAGIC + 12)
#define PC_OFF_QUEUE	(PC_OFF_MAGIC + 16)
#define PC_OFF_FILL	(PC_OFF_MAGIC + 20)
#define PC_CSUM_LEN	4
#define PC_HDRS_LEN	(PC_OFF_FILL + PC_CSUM_LEN)
#define PC_CSUM_INIT	0xffffffffu
#define PC_NB_DESC	1024
#define PC_POOL_MIN	8191
#define PC_POOL_CACHE	256
#define PC_MAX_LOG	10
#define PC_LINGER_MS	100
#define PC_LINK_POLL_MS	100
#define PC_MAX_COUNT	(1u << 28)
#define PC_MAX_WINDOW	16384
#define PC_MAX_TIMEOUT	86400
#define PC_IDLE_US	200
#define PC_MAX_QUEUES	64

struct pc_cfg {
	uint32_t count;
	uint32_t size;
	uint32_t window;
	uint32_t timeout;
	uint32_t settle_ms;
	const char *start_file;	/* send once this path exists */
	uint32_t grow_mb;
	uint16_t port;
	uint16_t queues;
	bool macswap;
	bool none;		/* --expect none */
	bool sink;		/* --sink */
	bool timeout_set;
	struct rte_ether_addr src_mac;
	struct rte_ether_addr dst_mac;
};

/* Per queue: sent on its TX queue, or received on its RX queue. */
struct pc_stats {
	uint64_t sent;
	uint64_t sent_bytes;
	uint64_t sent_sum;	/* pc_sum_bytes of the frames sent */
	uint64_t received;	/* frames with our ethertype */
	uint64_t good;		/* unique, fully verified */
	uint64_t bad;
	uint64_t dup;
	uint64_t wrong_queue;	/* intact, but sent on another queue */
	uint64_t other;		/* frames with another ethertype */
};

struct pc_queue {
	struct pc_stats st;
	uint32_t first_seq;	/* its frames are [first_seq, end_seq) */
	uint32_t end_seq;
	uint32_t next_seq;
	uint64_t back;		/* of its frames, come back on any queue */
	uint16_t tx_n;
	struct rte_mbuf *txq[PC_BURST];
	uint64_t tx_sum[PC_BURST];	/* pc_sum_bytes of each in txq */
};

struct pc_ctx {
	struct pc_cfg cfg;
	struct pc_stats st;	/* the queues' sum, for the report */
	struct rte_mempool *pool;
	struct rte_mempool *tx_pool;	/* pool, or the one grown into */
	pthread_t grow_thread;
	bool grow_started;
	uint64_t *seen;
	struct pc_queue *q;	/* cfg.queues of them */
	uint32_t run_id;
	uint32_t built;		/* frames built, all queues */
	uint32_t nb_logged;
	bool port_configured;
	bool port_started;
	uint8_t txbuf[PC_MAX_FRAME];
	uint8_t rxbuf[PC_MAX_FRAME];
};

static const struct rte_ether_addr pc_mac_src = {{ 2, 0, 0, 0, 0, 1 }};
static const struct rte_ether_addr pc_mac_dst = {{ 2, 0, 0, 0, 0, 2 }};

volatile sig_atomic_t force_quit;
static struct pc_ctx pc_ctx;

static void
signal_handler(int signum)
{
	if (signum == SIGINT || signum == SIGTERM)
		force_quit = 1;
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	rte_be32_t be = rte_cpu_to_be_32(v);

	memcpy(p, &be, sizeof(be));
}

static uint32_t
get_be32(const uint8_t *p)
{
	rte_be32_t be;

	memcpy(&be, p, sizeof(be));
	return rte_be_to_cpu_32(be);
}

static uint8_t
fill_byte(uint32_t seq, uint32_t off)
{
	return (uint8_t)((seq * 31u + off) & 0xff);
}

static uint32_t
frame_csum(const uint8_t *f, uint32_t len)
{
	return rte_hash_crc(f + PC_OFF_MAGIC,
			len - PC_OFF_MAGIC - PC_CSUM_LEN, PC_CSUM_INIT);
}

/* ---- command line ---- */

static void
usage(const char *prg)
{
	fprintf(stderr,
		"usage: %s <EAL args> -- [--count N] [--size S] "
		"[--expect macswap|io|none]\n"
		"       [--window W] [--timeout S] [--settle-ms MS] [--port P]\n"
		"       [--queues N]\n"
		"       %s <EAL args> -- --sink [--queues N] [--timeout S] "
		"[--port P]\n"
		"  --count N    packets to send (default 10000), shared out\n"
		"               among the queues\n"
		"  --queues N   RX and TX queues, 1..%u (default 1): queue q\n"
		"               sends its share on TX queue q and expects it\n"
		"               back on RX queue q\n"
		"  --sink       receive only, on all queues, reading every byte;\n"
		"               print Rx-pps and cycles/packet each second, and\n"
		"               packets, bytes and their sum at the end\n"
		"  --size S     frame size without CRC, %u..%u (default 64)\n"
		"  --expect M   far side forwarding mode (default macswap);\n"
		"               none: nothing comes back, log each frame\n"
		"               received until the timeout (--count may be 0)\n"
		"  --src-mac M, --dst-mac M  MACs of the frames sent\n"
		"  --window W   max packets in flight per queue (default 128)\n"
		"  --timeout S  overall timeout in seconds (default 20;\n"
		"               with --sink default 0, none)\n"
		"  --start-file F  wait until file F exists before sending\n"
		"  --settle-ms MS  wait after link up before sending (default 0):\n"
		"               a peer still starting may flush early frames\n"
		"  --port P     ethdev port id (default 0)\n"
		"  --grow-mb N  after half the frames, send the rest from a new\n"
		"               pool of about N MiB: the process gains memory at\n"
		"               run time (a virtio-user port sends a new memory\n"
		"               table); run without -m so the memory is new\n",
		prg, prg, PC_MAX_QUEUES, PC_MIN_FRAME, PC_MAX_FRAME);
}

static int
parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s == '\0' || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int
parse_expect(const char *s, struct pc_cfg *cfg)
{
	cfg->macswap = strcmp(s, "macswap") == 0;
	cfg->none = strcmp(s, "none") == 0;
	return cfg->macswap || cfg->none || strcmp(s, "io") == 0 ? 0 : -1;
}

static int
parse_opt(struct pc_cfg *cfg, int opt, const char *arg)
{
	uint32_t port, queues;
	int ret;

	switch (opt) {
	case 'c':
		return parse_u32(arg, 0, PC_MAX_COUNT, &cfg->count);
	case 's':
		return parse_u32(arg, PC_MIN_FRAME, PC_MAX_FRAME, &cfg->size);
	case 'e':
		return parse_expect(arg, cfg);
	case 'm':
		return rte_ether_unformat_addr(arg, &cfg->src_mac);
	case 'M':
		return rte_ether_unformat_addr(arg, &cfg->dst_mac);
	case 'w':
		return parse_u32(arg, 1, PC_MAX_WINDOW, &cfg->window);
	case 't':
		cfg->timeout_set = true;
		return parse_u32(arg, 0, PC_MAX_TIMEOUT, &cfg->timeout);
	case 'q':
		ret = parse_u32(arg, 1, PC_MAX_QUEUES, &queues);
		cfg->queues = (uint16_t)queues;
		return ret;
	case 'k':
		cfg->sink = true;
		return 0;
	case 'S':
		return parse_u32(arg, 0, 60000, &cfg->settle_ms);
	case 'F':
		cfg->start_file = arg;
		return 0;
	case 'g':
		return parse_u32(arg, 1, 4096, &cfg->grow_mb);
	case 'p':
		ret = parse_u32(arg, 0, RTE_MAX_ETHPORTS - 1, &port);
		cfg->port = (uint16_t)port;
		return ret;
	default:
		return -1;
	}
}

static int
parse_args(struct pc_cfg *cfg, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "size", required_argument, NULL, 's' },
		{ "expect", required_argument, NULL, 'e' },
		{ "window", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "settle-ms", required_argument, NULL, 'S' },
		{ "start-file", required_argument, NULL, 'F' },
		{ "port", required_argument, NULL, 'p' },
		{ "grow-mb", required_argument, NULL, 'g' },
		{ "src-mac", required_argument, NULL, 'm' },
		{ "dst-mac", required_argument, NULL, 'M' },
		{ "queues", required_argument, NULL, 'q' },
		{ "sink", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	cfg->count = 10000;
	cfg->size = 64;
	cfg->window = 128;
	cfg->timeout = 20;
	cfg->port = 0;
	cfg->grow_mb = 0;
	cfg->queues = 1;
	cfg->macswap = true;
	cfg->src_mac = pc_mac_src;
	cfg->dst_mac = pc_mac_dst;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'h' || parse_opt(cfg, opt, optarg) != 0) {
			usage(argv[0]);
			return -1;
		}
	}
	if (optind != argc ||
	    (cfg->count == 0 && !cfg->none && !cfg->sink) ||
	    (cfg->timeout == 0 && !cfg->sink)) {
		fprintf(stderr, "pktcheck: unexpected argument '%s'\n",
			optind != argc ? argv[optind] :
			cfg->timeout == 0 ? "--timeout 0" : "--count 0");
		usage(argv[0]);
		return -1;
	}
	if (cfg->sink && !cfg->timeout_set)
		cfg->timeout = 0;
	return 0;
}

/* ---- port and pool setup ---- */

static uint16_t
clamp_desc(uint16_t want, const struct rte_eth_desc_lim *lim)
{
	uint32_t n = want;

	if (lim->nb_max != 0 && n > lim->nb_max)
		n = lim->nb_max;
	if (lim->nb_align > 1)
		n = RTE_ALIGN_FLOOR(n, lim->nb_align);
	if (n < lim->nb_min)
		n = lim->nb_min;
	if (lim->nb_align > 1)
		n = RTE_ALIGN_CEIL(n, lim->nb_align);
	return (uint16_t)n;
}

static uint32_t
segs_per_frame(uint32_t size)
{
	uint32_t room = RTE_MBUF_DEFAULT_DATAROOM;

	return (size + room - 1) / room;
}

static int
pool_create(struct pc_ctx *c, uint16_t nb_rxd, uint16_t nb_txd, int socket)
{
	uint32_t segs = segs_per_frame(c->cfg.size);
	uint32_t n;

	/* The sink sends nothing: its RX rings full, and a burst held. */
	if (c->cfg.sink)
		n = (nb_rxd + 4 * PC_BURST) * c->cfg.queues * 2;
	else
		n = (nb_rxd + nb_txd + 4 * PC_BURST + c->cfg.window) * segs *
			2 * c->cfg.queues;
	n = RTE_MAX(n, (uint32_t)PC_POOL_MIN);
	c->pool = rte_pktmbuf_pool_create("pktcheck_pool", n, PC_POOL_CACHE,
			0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (c->pool == NULL) {
		fprintf(stderr, "pktcheck: cannot create mbuf pool of %u: %s\n",
			n, rte_strerror(rte_errno));
		return -1;
	}
	c->tx_pool = c->pool;
	return 0;
}

/* The sink takes frames of any size up to PC_MAX_FRAME the port allows. */
static int
fill_conf(const struct pc_ctx *c, const struct rte_eth_dev_info *info,
	  struct rte_eth_conf *conf)
{
	uint32_t size = c->cfg.sink ? PC_MAX_FRAME : c->cfg.size;
	uint32_t mtu = size - RTE_ETHER_HDR_LEN;

	memset(conf, 0, sizeof(*conf));
	mtu = RTE_MAX(mtu, (uint32_t)RTE_ETHER_MTU);
	if (mtu > info->max_mtu && c->cfg.sink) {
		mtu = info->max_mtu;
	} else if (mtu > info->max_mtu) {
		fprintf(stderr, "pktcheck: size %u needs MTU %u, port max %u\n",
			c->cfg.size, mtu, info->max_mtu);
		return -1;
	}
	conf->rxmode.mtu = mtu;
	if (segs_per_frame(size) == 1)
		return 0;
	if (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	if (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	else if (!c->cfg.sink)
		fprintf(stderr, "pktcheck: warning: port lacks TX multi-seg\n");
	return 0;
}

static int
queues_setup(struct pc_ctx *c, uint16_t nb_rxd, uint16_t nb_txd, int socket)
{
	uint16_t port = c->cfg.port;
	uint16_t q;
	int ret;

	for (q = 0; q < c->cfg.queues; q++) {
		ret = rte_eth_rx_queue_setup(port, q, nb_rxd, socket, NULL,
					     c->pool);
		if (ret != 0) {
			fprintf(stderr, "pktcheck: rx queue %u setup: %s\n",
				q, rte_strerror(-ret));
			return -1;
		}
		ret = rte_eth_tx_queue_setup(port, q, nb_txd, socket, NULL);
		if (ret != 0) {
			fprintf(stderr, "pktcheck: tx queue %u setup: %s\n",
				q, rte_strerror(-ret));
			return -1;
		}
	}
	return 0;
}

static int
port_configure(struct pc_ctx *c, const struct rte_eth_dev_info *info,
	       uint16_t nb_rxd, uint16_t nb_txd)
{
	struct rte_eth_conf conf;
	int socket = rte_eth_dev_socket_id(c->cfg.port);
	int ret;

	if (c->cfg.queues > info->max_rx_queues ||
	    c->cfg.queues > info->max_tx_queues) {
		fprintf(stderr, "pktcheck: %u queues asked, port %u has %u rx, "
			"%u tx\n", c->cfg.queues, c->cfg.port,
			info->max_rx_queues, info->max_tx_queues);
		return -1;
	}
	if (fill_conf(c, info, &conf) != 0)
		return -1;
	if (pool_create(c, nb_rxd, nb_txd, socket) != 0)
		return -1;
	ret = rte_eth_dev_configure(c->cfg.port, c->cfg.queues,
				    c->cfg.queues, &conf);
	if (ret != 0) {
		fprintf(stderr, "pktcheck: configure port %u: %s\n",
			c->cfg.port, rte_strerror(-ret));
		return -1;
	}
	c->port_configured = true;
	return queues_setup(c, nb_rxd, nb_txd, socket);
}

static int
port_setup(struct pc_ctx *c)
{
	struct rte_eth_dev_info info;
	uint16_t nb_rxd, nb_txd;
	int ret;

	ret = rte_eth_dev_info_get(c->cfg.port, &info);
	if (ret != 0) {
		fprintf(stderr, "pktcheck: dev info port %u: %s\n",
			c->cfg.port, rte_strerror(-ret));
		return -1;
	}
	nb_rxd = clamp_desc(PC_NB_DESC, &info.rx_desc_lim);
	nb_txd = clamp_desc(PC_NB_DESC, &info.tx_desc_lim);
	if (port_configure(c, &info, nb_rxd, nb_txd) != 0)
		return -1;
	ret = rte_eth_dev_start(c->cfg.port);
	if (ret != 0) {
		fprintf(stderr, "pktcheck: start port %u: %s\n",
			c->cfg.port, rte_strerror(-ret));
		return -1;
	}
	c->port_started = true;
	if (rte_eth_promiscuous_enable(c->cfg.port) != 0)
		fprintf(stderr, "pktcheck: promiscuous mode not enabled\n");
	fprintf(stderr, "pktcheck: port %u (%s): %u queue(s) of %u rx / %u "
		"tx desc, %u seg(s) per frame\n", c->cfg.port,
		info.driver_name, c->cfg.queues, nb_rxd, nb_txd,
		c->cfg.sink ? segs_per_frame(PC_MAX_FRAME) :
		segs_per_frame(c->cfg.size));
	return 0;
}

static int
wait_link(const struct pc_ctx *c, uint64_t deadline)
{
	struct rte_eth_link link;
	int ret;

	for (;;) {
		memset(&link, 0, sizeof(link));
		ret = rte_eth_link_get_nowait(c->cfg.port, &link);
		if (ret == -ENOTSUP)
			return 0;
		if (ret == 0 && link.link_status == RTE_ETH_LINK_UP)
			return 0;
		if (force_quit || rte_get_timer_cycles() >= deadline)
			return -1;
		rte_delay_ms(PC_LINK_POLL_MS);
	}
}

/* ---- transmit ---- */

static void
build_frame(const struct pc_cfg *cfg, uint8_t *f, uint32_t len,
	    uint32_t run_id, uint32_t seq, uint16_t queue)
{
	uint32_t i;

	memcpy(f, &cfg->dst_mac, RTE_ETHER_ADDR_LEN);
	memcpy(f + RTE_ETHER_ADDR_LEN, &cfg->src_mac, RTE_ETHER_ADDR_LEN);
	f[12] = PC_ETHERTYPE >> 8;
	f[13] = PC_ETHERTYPE & 0xff;
	put_be32(f + PC_OFF_MAGIC, PC_MAGIC);
	put_be32(f + PC_OFF_RUN, run_id);
	put_be32(f + PC_OFF_SEQ, seq);
	put_be32(f + PC_OFF_LEN, len);
	put_be32(f + PC_OFF_QUEUE, queue);
	for (i = PC_OFF_FILL; i < len - PC_CSUM_LEN; i++)
		f[i] = fill_byte(seq, i);
	put_be32(f + len - PC_CSUM_LEN, frame_csum(f, len));
}

static struct rte_mbuf *
mbuf_from_frame(struct rte_mempool *mp, const uint8_t *f, uint32_t len)
{
	struct rte_mbuf *head = NULL, *seg;
	uint32_t off = 0, n;
	char *dst;

	while (off < len) {
		seg = rte_pktmbuf_alloc(mp);
		if (seg == NULL)
			goto fail;
		n = RTE_MIN(len - off, (uint32_t)rte_pktmbuf_tailroom(seg));
		dst = rte_pktmbuf_append(seg, (uint16_t)n);
		memcpy(dst, f + off, n);
		off += n;
		if (head == NULL) {
			head = seg;
		} else if (rte_pktmbuf_chain(head, seg) != 0) {
			rte_pktmbuf_free(seg);
			goto fail;
		}
	}
	return head;
fail:
	rte_pktmbuf_free(head);
	return NULL;
}

/* Each queue has its own window: a slow queue does not starve another. */
static uint32_t
tx_room(const struct pc_ctx *c, const struct pc_queue *q)
{
	uint64_t built = q->st.sent + q->tx_n;
	uint64_t in_flight;
	uint32_t room;

	in_flight = built > q->back && !c->cfg.none ? built - q->back : 0;
	if (in_flight >= c->cfg.window)
		return 0;
	room = c->cfg.window - (uint32_t)in_flight;
	room = RTE_MIN(room, (uint32_t)(PC_BURST - q->tx_n));
	return RTE_MIN(room, q->end_seq - q->next_seq);
}

static int
count_seg(const struct rte_memseg_list *msl __rte_unused,
		const struct rte_memseg *ms __rte_unused, void *arg)
{
	(*(unsigned int *)arg)++;
	return 0;
}

static unsigned int
memseg_count(void)
{
	unsigned int n = 0;

	rte_memseg_walk(count_seg, &n);
	return n;
}

/*
 * The process gains memory while the port runs: a new pool, which the
 * rest of the frames come from. A virtio-user port tells its back-end
 * with a new memory table; frames in the new memory then only come back
 * if the back-end maps it. A thread of its own, so that traffic goes on
 * while the table changes.
 */
static void *
grow(void *arg)
{
	struct pc_ctx *c = arg;
	uint32_t n = (uint32_t)(((uint64_t)c->cfg.grow_mb << 20) /
		(RTE_MBUF_DEFAULT_BUF_SIZE + sizeof(struct rte_mbuf)));
	unsigned int before = memseg_count();
	struct rte_mempool *mp;

	mp = rte_pktmbuf_pool_create("pktcheck_grow", n, 0, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, rte_eth_dev_socket_id(c->cfg.port));
	if (mp == NULL) {
		fprintf(stderr, "pktcheck: cannot grow: %s\n",
			rte_strerror(rte_errno));
		return NULL;
	}
	printf("pktcheck: grew at frame %u: a pool of %u mbufs, memory segments %u -> %u\n",
		__atomic_load_n(&c->built, __ATOMIC_RELAXED), n, before,
		memseg_count());
	fflush(stdout);
	__atomic_store_n(&c->tx_pool, mp, __ATOMIC_RELEASE);
	return NULL;
}

static void
tx_fill(struct pc_ctx *c, struct pc_queue *q, uint16_t qid)
{
	uint32_t n = tx_room(c, q);
	struct rte_mbuf *m;

	while (n-- > 0) {
		if (c->cfg.grow_mb != 0 && !c->grow_started &&
				c->built == c->cfg.count / 2)
			c->grow_started = pthread_create(&c->grow_thread, NULL,
				grow, c) == 0;
		build_frame(&c->cfg, c->txbuf, c->cfg.size, c->run_id,
			    q->next_seq, qid);
		m = mbuf_from_frame(__atomic_load_n(&c->tx_pool,
			__ATOMIC_ACQUIRE), c->txbuf, c->cfg.size);
		if (m == NULL)
			return;
		q->tx_sum[q->tx_n] = pc_sum_bytes(0, c->txbuf, c->cfg.size, 0);
		q->txq[q->tx_n++] = m;
		q->next_seq++;
		/* Read by the grow thread, for its message only. */
		__atomic_store_n(&c->built, c->built + 1, __ATOMIC_RELAXED);
	}
}

static void
tx_step(struct pc_ctx *c, uint16_t qid)
{
	struct pc_queue *q = &c->q[qid];
	uint16_t nb, i;

	tx_fill(c, q, qid);
	if (q->tx_n == 0)
		return;
	nb = rte_eth_tx_burst(c->cfg.port, qid, q->txq, q->tx_n);
	for (i = 0; i < nb; i++)
		q->st.sent_sum += q->tx_sum[i];
	for (i = nb; i < q->tx_n; i++) {
		q->txq[i - nb] = q->txq[i];
		q->tx_sum[i - nb] = q->tx_sum[i];
	}
	q->tx_n -= nb;
	q->st.sent += nb;
	q->st.sent_bytes += (uint64_t)nb * c->cfg.size;
}

/* ---- receive and verify ---- */

static void __rte_format_printf(2, 3)
log_reason(struct pc_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->nb_logged >= PC_MAX_LOG)
		return;
	fprintf(stderr, "pktcheck: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (++c->nb_logged == PC_MAX_LOG)
		fprintf(stderr, "pktcheck: (further messages suppressed)\n");
}

static bool
macs_ok(const struct pc_ctx *c, const uint8_t *f)
{
	const void *dst = c->cfg.macswap ? &c->cfg.src_mac : &c->cfg.dst_mac;
	const void *src = c->cfg.macswap ? &c->cfg.dst_mac : &c->cfg.src_mac;

	return memcmp(f, dst, RTE_ETHER_ADDR_LEN) == 0 &&
		memcmp(f + RTE_ETHER_ADDR_LEN, src, RTE_ETHER_ADDR_LEN) == 0;
}

/* The queue field, intact under the checksum, names a queue of ours. */
static const char *
verify_queue(const struct pc_ctx *c, const uint8_t *f)
{
	uint32_t queue = get_be32(f + PC_OFF_QUEUE);
	uint32_t seq = get_be32(f + PC_OFF_SEQ);

	if (queue >= c->cfg.queues)
		return "queue out of range";
	if (seq < c->q[queue].first_seq || seq >= c->q[queue].end_seq)
		return "seq not of its queue";
	return NULL;
}

static const char *
verify_frame(const struct pc_ctx *c, const uint8_t *f, uint32_t len)
{
	/* With --expect none, frames are other senders': no run or size. */
	if (get_be32(f + PC_OFF_MAGIC) != PC_MAGIC)
		return "bad magic";
	if (!c->cfg.none && get_be32(f + PC_OFF_RUN) != c->run_id)
		return "foreign run id";
	if (get_be32(f + PC_OFF_LEN) != len)
		return "length field differs from pkt_len";
	if (!c->cfg.none && len != c->cfg.size)
		return "pkt_len differs from --size";
	if (get_be32(f + len - PC_CSUM_LEN) != frame_csum(f, len))
		return "checksum mismatch";
	if (c->cfg.none)
		return NULL;
	if (!macs_ok(c, f))
		return c->cfg.macswap ? "MACs not swapped" : "MACs changed";
	return verify_queue(c, f);
}

static uint32_t
first_fill_diff(const uint8_t *f, uint32_t len)
{
	uint32_t seq = get_be32(f + PC_OFF_SEQ);
	uint32_t i;

	for (i = PC_OFF_FILL; i < len - PC_CSUM_LEN; i++)
		if (f[i] != fill_byte(seq, i))
			return i;
	return 0;
}

static void
count_bad(struct pc_ctx *c, struct pc_stats *st, const char *why,
	  const uint8_t *f, uint32_t len)
{
	uint32_t diff;

	st->bad++;
	if (f == NULL) {
		log_reason(c, "bad frame: %s (pkt_len %u)", why, len);
		return;
	}
	diff = first_fill_diff(f, len);
	if (diff == 0)
		log_reason(c, "bad frame: %s (seq %u, pkt_len %u)",
			   why, get_be32(f + PC_OFF_SEQ), len);
	else
		log_reason(c, "bad frame: %s (seq %u, pkt_len %u, "
			   "filler differs at %u)",
			   why, get_be32(f + PC_OFF_SEQ), len, diff);
}

static void
mark_seen(struct pc_ctx *c, struct pc_stats *st, uint32_t seq)
{
	uint64_t bit = UINT64_C(1) << (seq % 64);

	if (c->seen[seq / 64] & bit) {
		st->dup++;
		log_reason(c, "duplicate seq %u", seq);
		return;
	}
	c->seen[seq / 64] |= bit;
	st->good++;
}

/* --expect none: each frame, for the caller to tell who sent what. */
static void
log_rx(const uint8_t *f, uint32_t len, const char *why)
{
	char src[RTE_ETHER_ADDR_FMT_SIZE], dst[RTE_ETHER_ADDR_FMT_SIZE];

	rte_ether_format_addr(dst, sizeof(dst), (const void *)f);
	rte_ether_format_addr(src, sizeof(src),
		(const void *)(f + RTE_ETHER_ADDR_LEN));
	printf("pktcheck: rx run 0x%08x seq %u len %u src %s dst %s: %s\n",
	       get_be32(f + PC_OFF_RUN), get_be32(f + PC_OFF_SEQ), len, src,
	       dst, why != NULL ? why : "ok");
	fflush(stdout);
}

/* An intact frame of ours, received on queue QID: sent on that queue? */
static void
check_queue(struct pc_ctx *c, uint16_t qid, const uint8_t *f)
{
	uint32_t from = get_be32(f + PC_OFF_QUEUE);
	uint32_t seq = get_be32(f + PC_OFF_SEQ);
	struct pc_queue *q = &c->q[qid];

	/* Its sender's window moves on wherever it came back. */
	c->q[from].back++;
	if (from != qid) {
		q->st.wrong_queue++;
		log_reason(c, "seq %u sent on queue %u came back on queue %u",
			   seq, from, qid);
		return;
	}
	mark_seen(c, &q->st, seq);
}

static void
check_pkt(struct pc_ctx *c, uint16_t qid, const struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	struct pc_queue *q = &c->q[qid];
	const uint8_t *f;
	const char *why;
	uint8_t et[2];

	f = rte_pktmbuf_read(m, 2 * RTE_ETHER_ADDR_LEN, sizeof(et), et);
	if (f == NULL || f[0] != (PC_ETHERTYPE >> 8) ||
	    f[1] != (PC_ETHERTYPE & 0xff)) {
		q->st.other++;
		return;
	}
	q->st.received++;
	if (len < PC_HDRS_LEN || len > PC_MAX_FRAME) {
		count_bad(c, &q->st, "bad frame length", NULL, len);
		q->back++;
		return;
	}
	f = rte_pktmbuf_read(m, 0, len, c->rxbuf);
	if (f == NULL) {
		count_bad(c, &q->st, "mbuf chain shorter than pkt_len", NULL,
			  len);
		q->back++;
		return;
	}
	why = verify_frame(c, f, len);
	if (c->cfg.none)
		log_rx(f, len, why);
	if (why != NULL) {
		/* Whose it was cannot be trusted: this queue's window. */
		count_bad(c, &q->st, why, f, len);
		q->back++;
	} else if (c->cfg.none) {
		q->st.good++;
	} else {
		check_queue(c, qid, f);
	}
}

static uint16_t
rx_step(struct pc_ctx *c, uint16_t qid)
{
	struct rte_mbuf *pkts[PC_BURST];
	uint16_t nb, i;

	nb = rte_eth_rx_burst(c->cfg.port, qid, pkts, PC_BURST);
	for (i = 0; i < nb; i++) {
		check_pkt(c, qid, pkts[i]);
		rte_pktmbuf_free(pkts[i]);
	}
	return nb;
}

/* ---- main loop and reporting ---- */

static bool
all_returned(const struct pc_ctx *c)
{
	const struct pc_queue *q;
	uint16_t i;

	for (i = 0; i < c->cfg.queues; i++) {
		q = &c->q[i];
		if (q->next_seq != q->end_seq || q->tx_n != 0 ||
		    q->back < q->st.sent)
			return false;
	}
	return true;
}

static bool
all_sent(const struct pc_ctx *c)
{
	uint16_t i;

	for (i = 0; i < c->cfg.queues; i++)
		if (c->q[i].next_seq != c->q[i].end_seq || c->q[i].tx_n != 0)
			return false;
	return true;
}

/* --expect none: send, and receive until the deadline or a signal. */
static int
listen_loop(struct pc_ctx *c, uint64_t deadline)
{
	uint32_t nb;
	uint16_t i;

	while (!force_quit && rte_get_timer_cycles() < deadline) {
		nb = 0;
		for (i = 0; i < c->cfg.queues; i++) {
			tx_step(c, i);
			nb += rx_step(c, i) + c->q[i].tx_n;
		}
		/* A switch's peer sees few frames: spare the CPU. */
		if (nb == 0)
			rte_delay_us_sleep(PC_IDLE_US);
	}
	return all_sent(c) ? 0 : -1;
}

/* Returns 0 when every sent frame came back, -1 on timeout or signal. */
static int
traffic_loop(struct pc_ctx *c, uint64_t deadline)
{
	uint64_t linger = rte_get_timer_hz() * PC_LINGER_MS / 1000;
	uint64_t linger_end = 0;
	uint64_t now;
	uint16_t i;

	if (c->cfg.none)
		return listen_loop(c, deadline);
	while (!force_quit) {
		now = rte_get_timer_cycles();
		if (now >= deadline)
			return linger_end != 0 ? 0 : -1;
		for (i = 0; i < c->cfg.queues; i++) {
			if (linger_end == 0)
				tx_step(c, i);
			rx_step(c, i);
		}
		if (linger_end == 0 && all_returned(c))
			linger_end = now + linger;
		else if (linger_end != 0 && now >= linger_end)
			return 0;
	}
	return -1;
}

static void
stats_add(struct pc_stats *sum, const struct pc_stats *st)
{
	sum->sent += st->sent;
	sum->sent_bytes += st->sent_bytes;
	sum->sent_sum += st->sent_sum;
	sum->received += st->received;
	sum->good += st->good;
	sum->bad += st->bad;
	sum->dup += st->dup;
	sum->wrong_queue += st->wrong_queue;
	sum->other += st->other;
}

/* Queue QID's line; true when all its frames came back intact to it. */
static bool
report_queue(const struct pc_ctx *c, uint16_t qid)
{
	const struct pc_queue *q = &c->q[qid];
	const struct pc_stats *st = &q->st;
	uint32_t count = q->end_seq - q->first_seq;

	printf("pktcheck: queue %u: sent %" PRIu64 ", received %" PRIu64
	       ", bad %" PRIu64 ", dup %" PRIu64 ", missing %" PRIu64
	       ", wrong-queue %" PRIu64 "\n", qid, st->sent, st->received,
	       st->bad, st->dup, c->cfg.none ? 0 : count - st->good,
	       st->wrong_queue);
	return st->received == count && st->good == count && st->bad == 0 &&
		st->dup == 0 && st->wrong_queue == 0;
}

static bool
report(struct pc_ctx *c, bool completed)
{
	struct pc_stats *st = &c->st;
	bool pass = completed;
	uint16_t i;

	memset(st, 0, sizeof(*st));
	for (i = 0; c->q != NULL && i < c->cfg.queues; i++) {
		stats_add(st, &c->q[i].st);
		if (!report_queue(c, i))
			pass = false;
	}
	printf("pktcheck: sent %" PRIu64 " bytes, sum 0x%016" PRIx64 "\n",
	       st->sent_bytes, st->sent_sum);
	if (c->cfg.none) {
		pass = completed && st->bad == 0;
		printf("pktcheck: sent=%" PRIu64 " received=%" PRIu64
		       " bad=%" PRIu64 " other=%" PRIu64 "\n%s\n", st->sent,
		       st->received, st->bad, st->other,
		       pass ? "pktcheck: PASS" : "pktcheck: FAIL");
		return pass;
	}
	pass = pass && c->q != NULL && st->received == c->cfg.count &&
		st->bad == 0 && st->dup == 0 && st->wrong_queue == 0;
	printf("pktcheck: sent=%" PRIu64 " received=%" PRIu64 " bad=%" PRIu64
	       " dup=%" PRIu64 " missing=%" PRIu64 " other=%" PRIu64
	       " wrong-queue=%" PRIu64 "\n", st->sent, st->received, st->bad,
	       st->dup, c->cfg.count - st->good, st->other, st->wrong_queue);
	printf("pktcheck: %s\n", pass ? "PASS" : "FAIL");
	return pass;
}

/* Queue q sends the q-th contiguous share of the seqs [0, count). */
static int
queues_init(struct pc_ctx *c)
{
	uint32_t share = c->cfg.count / c->cfg.queues;
	uint32_t extra = c->cfg.count % c->cfg.queues;
	uint32_t seq = 0;
	uint16_t i;

	c->q = calloc(c->cfg.queues, sizeof(*c->q));
	if (c->q == NULL)
		return -1;
	for (i = 0; i < c->cfg.queues; i++) {
		c->q[i].first_seq = seq;
		c->q[i].next_seq = seq;
		seq += share + (i < extra ? 1 : 0);
		c->q[i].end_seq = seq;
	}
	return 0;
}

static int
ctx_init(struct pc_ctx *c)
{
	size_t words = c->cfg.count / 64 + 1;

	if (!rte_eth_dev_is_valid_port(c->cfg.port)) {
		fprintf(stderr, "pktcheck: port %u does not exist\n",
			c->cfg.port);
		return -1;
	}
	c->seen = calloc(words, sizeof(*c->seen));
	if (c->seen == NULL || queues_init(c) != 0) {
		fprintf(stderr, "pktcheck: cannot allocate the queues' state\n");
		return -1;
	}
	c->run_id = (uint32_t)rte_rand();
	return 0;
}

static int
run_sink(struct pc_ctx *c, uint64_t deadline)
{
	if (!rte_eth_dev_is_valid_port(c->cfg.port)) {
		fprintf(stderr, "pktcheck: port %u does not exist\n",
			c->cfg.port);
		return -1;
	}
	if (port_setup(c) != 0)
		return -1;
	if (wait_link(c, deadline) != 0) {
		fprintf(stderr, "pktcheck: link on port %u not up\n",
			c->cfg.port);
		return -1;
	}
	fprintf(stderr, "pktcheck: sink on port %u, %u queue(s)\n",
		c->cfg.port, c->cfg.queues);
	pc_sink_run(c->cfg.port, c->cfg.queues, deadline);
	return 0;
}

static int
run_test(struct pc_ctx *c, uint64_t deadline)
{
	if (ctx_init(c) != 0 || port_setup(c) != 0)
		return -1;
	fprintf(stderr, "pktcheck: run id 0x%08x, count %u, size %u, "
		"expect %s, window %u, queues %u\n", c->run_id, c->cfg.count,
		c->cfg.size, c->cfg.none ? "none" :
		c->cfg.macswap ? "macswap" : "io", c->cfg.window,
		c->cfg.queues);
	if (wait_link(c, deadline) != 0) {
		fprintf(stderr, "pktcheck: link on port %u not up\n",
			c->cfg.port);
		return -1;
	}
	/* The far side may need longer than any settle time (a VM that
	 * boots once our memory is known): whoever starts it says when.
	 */
	while (c->cfg.start_file != NULL && !force_quit &&
			access(c->cfg.start_file, F_OK) != 0 &&
			rte_get_timer_cycles() < deadline)
		rte_delay_ms(50);
	if (c->cfg.settle_ms != 0)
		rte_delay_ms(c->cfg.settle_ms);
	if (traffic_loop(c, deadline) != 0) {
		fprintf(stderr, "pktcheck: %s before all frames returned\n",
			force_quit ? "interrupted" : "timeout");
		return -1;
	}
	return 0;
}

static void
cleanup(struct pc_ctx *c)
{
	uint16_t i;
	int ret;

	for (i = 0; c->q != NULL && i < c->cfg.queues; i++) {
		rte_pktmbuf_free_bulk(c->q[i].txq, c->q[i].tx_n);
		c->q[i].tx_n = 0;
	}
	if (c->port_started) {
		ret = rte_eth_dev_stop(c->cfg.port);
		if (ret != 0)
			fprintf(stderr, "pktcheck: stop port: %s\n",
				rte_strerror(-ret));
	}
	if (c->port_configured)
		rte_eth_dev_close(c->cfg.port);
	if (c->grow_started)
		pthread_join(c->grow_thread, NULL);
	if (c->tx_pool != c->pool)
		rte_mempool_free(c->tx_pool);
	rte_mempool_free(c->pool);
	free(c->seen);
	free(c->q);
	c->pool = c->tx_pool = NULL;
	c->seen = NULL;
	c->q = NULL;
}

int
main(int argc, char **argv)
{
	struct pc_ctx *c = &pc_ctx;
	uint64_t deadline;
	bool pass;
	int ret;

	/* Whoever reads the per-second lines reads them as they come. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "pktcheck: EAL init failed: %s\n",
			rte_strerror(rte_errno));
		return 2;
	}
	argc -= ret;
	argv += ret;
	if (parse_args(&c->cfg, argc, argv) != 0) {
		rte_eal_cleanup();
		return 2;
	}
	signal(SIGINT, signal_handler);
	signal(SIGTERM, signal_handler);
	deadline = c->cfg.timeout == 0 ? UINT64_MAX : rte_get_timer_cycles() +
		(uint64_t)c->cfg.timeout * rte_get_timer_hz();
	if (c->cfg.sink) {
		pass = run_sink(c, deadline) == 0;
	} else {
		ret = run_test(c, deadline);
		pass = report(c, ret == 0);
	}
	cleanup(c);
	rte_eal_cleanup();
	return pass ? 0 : 1;
}
