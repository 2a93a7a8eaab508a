/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * dpdk-vpci-pktcheck: send numbered, checksummed frames out of one ethdev
 * port and verify every frame that comes back from a far side running
 * testpmd in macswap or io forwarding mode. With --expect none nothing
 * comes back: it sends, then logs each frame it receives until --timeout
 * (a peer of a switch, where frames come from other senders).
 *
 * Frame layout (all multi-byte fields big endian):
 *   0  dst MAC 02:00:00:00:00:02 (--dst-mac)
 *   6  src MAC 02:00:00:00:00:01 (--src-mac)
 *  12  ethertype 0x88B5
 *  14  magic 0x56504349
 *  18  run id
 *  22  seq
 *  26  frame length (without FCS)
 *  30  filler: byte at frame offset i is (seq * 31 + i) & 0xff
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

#define PC_ETHERTYPE	0x88B5
#define PC_MAGIC	0x56504349u
#define PC_MIN_FRAME	64
#define PC_MAX_FRAME	9000
#define PC_OFF_MAGIC	RTE_ETHER_HDR_LEN
#define PC_OFF_RUN	(PC_OFF_MAGIC + 4)
#define PC_OFF_SEQ	(PC_OFF_MAGIC + 8)
#define PC_OFF_LEN	(PC_OFF_MAGIC + 12)
#define PC_OFF_FILL	(PC_OFF_MAGIC + 16)
#define PC_CSUM_LEN	4
#define PC_HDRS_LEN	(PC_OFF_FILL + PC_CSUM_LEN)
#define PC_CSUM_INIT	0xffffffffu
#define PC_BURST	32
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

struct pc_cfg {
	uint32_t count;
	uint32_t size;
	uint32_t window;
	uint32_t timeout;
	uint32_t settle_ms;
	const char *start_file;	/* send once this path exists */
	uint32_t grow_mb;
	uint16_t port;
	bool macswap;
	bool none;		/* --expect none */
	struct rte_ether_addr src_mac;
	struct rte_ether_addr dst_mac;
};

struct pc_stats {
	uint64_t sent;
	uint64_t received;	/* frames with our ethertype */
	uint64_t good;		/* unique, fully verified */
	uint64_t bad;
	uint64_t dup;
	uint64_t other;		/* frames with another ethertype */
};

struct pc_ctx {
	struct pc_cfg cfg;
	struct pc_stats st;
	struct rte_mempool *pool;
	struct rte_mempool *tx_pool;	/* pool, or the one grown into */
	pthread_t grow_thread;
	bool grow_started;
	uint64_t *seen;
	uint32_t run_id;
	uint32_t next_seq;
	uint32_t nb_logged;
	uint16_t tx_n;
	bool port_configured;
	bool port_started;
	struct rte_mbuf *txq[PC_BURST];
	uint8_t txbuf[PC_MAX_FRAME];
	uint8_t rxbuf[PC_MAX_FRAME];
};

static const struct rte_ether_addr pc_mac_src = {{ 2, 0, 0, 0, 0, 1 }};
static const struct rte_ether_addr pc_mac_dst = {{ 2, 0, 0, 0, 0, 2 }};

static volatile sig_atomic_t force_quit;
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
		"  --count N    packets to send (default 10000)\n"
		"  --size S     frame size without CRC, %u..%u (default 64)\n"
		"  --expect M   far side forwarding mode (default macswap);\n"
		"               none: nothing comes back, log each frame\n"
		"               received until the timeout (--count may be 0)\n"
		"  --src-mac M, --dst-mac M  MACs of the frames sent\n"
		"  --window W   max packets in flight (default 128)\n"
		"  --timeout S  overall timeout in seconds (default 20)\n"
		"  --start-file F  wait until file F exists before sending\n"
		"  --settle-ms MS  wait after link up before sending (default 0):\n"
		"               a peer still starting may flush early frames\n"
		"  --port P     ethdev port id (default 0)\n"
		"  --grow-mb N  after half the frames, send the rest from a new\n"
		"               pool of about N MiB: the process gains memory at\n"
		"               run time (a virtio-user port sends a new memory\n"
		"               table); run without -m so the memory is new\n",
		prg, PC_MIN_FRAME, PC_MAX_FRAME);
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
	uint32_t port;
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
		return parse_u32(arg, 1, PC_MAX_TIMEOUT, &cfg->timeout);
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
	if (optind != argc || (cfg->count == 0 && !cfg->none)) {
		fprintf(stderr, "pktcheck: unexpected argument '%s'\n",
			optind != argc ? argv[optind] : "--count 0");
		usage(argv[0]);
		return -1;
	}
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

	n = (nb_rxd + nb_txd + 4 * PC_BURST + c->cfg.window) * segs * 2;
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

static int
fill_conf(const struct pc_ctx *c, const struct rte_eth_dev_info *info,
	  struct rte_eth_conf *conf)
{
	uint32_t mtu = c->cfg.size - RTE_ETHER_HDR_LEN;

	memset(conf, 0, sizeof(*conf));
	mtu = RTE_MAX(mtu, (uint32_t)RTE_ETHER_MTU);
	if (mtu > info->max_mtu) {
		fprintf(stderr, "pktcheck: size %u needs MTU %u, port max %u\n",
			c->cfg.size, mtu, info->max_mtu);
		return -1;
	}
	conf->rxmode.mtu = mtu;
	if (segs_per_frame(c->cfg.size) == 1)
		return 0;
	if (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
		conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	if (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	else
		fprintf(stderr, "pktcheck: warning: port lacks TX multi-seg\n");
	return 0;
}

static int
queues_setup(struct pc_ctx *c, uint16_t nb_rxd, uint16_t nb_txd, int socket)
{
	uint16_t port = c->cfg.port;
	int ret;

	ret = rte_eth_rx_queue_setup(port, 0, nb_rxd, socket, NULL, c->pool);
	if (ret != 0) {
		fprintf(stderr, "pktcheck: rx queue setup: %s\n",
			rte_strerror(-ret));
		return -1;
	}
	ret = rte_eth_tx_queue_setup(port, 0, nb_txd, socket, NULL);
	if (ret != 0) {
		fprintf(stderr, "pktcheck: tx queue setup: %s\n",
			rte_strerror(-ret));
		return -1;
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

	if (fill_conf(c, info, &conf) != 0)
		return -1;
	if (pool_create(c, nb_rxd, nb_txd, socket) != 0)
		return -1;
	ret = rte_eth_dev_configure(c->cfg.port, 1, 1, &conf);
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
	fprintf(stderr, "pktcheck: port %u (%s): %u rx / %u tx desc, "
		"%u seg(s) per frame\n", c->cfg.port, info.driver_name,
		nb_rxd, nb_txd, segs_per_frame(c->cfg.size));
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
	    uint32_t run_id, uint32_t seq)
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

static uint32_t
tx_room(const struct pc_ctx *c)
{
	uint64_t built = c->st.sent + c->tx_n;
	uint64_t in_flight;
	uint32_t room;

	in_flight = built > c->st.received && !c->cfg.none ?
		built - c->st.received : 0;
	if (in_flight >= c->cfg.window)
		return 0;
	room = c->cfg.window - (uint32_t)in_flight;
	room = RTE_MIN(room, (uint32_t)(PC_BURST - c->tx_n));
	return RTE_MIN(room, c->cfg.count - c->next_seq);
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
		__atomic_load_n(&c->next_seq, __ATOMIC_RELAXED), n, before,
		memseg_count());
	fflush(stdout);
	__atomic_store_n(&c->tx_pool, mp, __ATOMIC_RELEASE);
	return NULL;
}

static void
tx_fill(struct pc_ctx *c)
{
	uint32_t n = tx_room(c);
	struct rte_mbuf *m;

	while (n-- > 0) {
		if (c->cfg.grow_mb != 0 && !c->grow_started &&
				c->next_seq == c->cfg.count / 2)
			c->grow_started = pthread_create(&c->grow_thread, NULL,
				grow, c) == 0;
		build_frame(&c->cfg, c->txbuf, c->cfg.size, c->run_id,
			    c->next_seq);
		m = mbuf_from_frame(__atomic_load_n(&c->tx_pool,
			__ATOMIC_ACQUIRE), c->txbuf, c->cfg.size);
		if (m == NULL)
			return;
		c->txq[c->tx_n++] = m;
		c->next_seq++;
	}
}

static void
tx_step(struct pc_ctx *c)
{
	uint16_t nb, i;

	tx_fill(c);
	if (c->tx_n == 0)
		return;
	nb = rte_eth_tx_burst(c->cfg.port, 0, c->txq, c->tx_n);
	for (i = nb; i < c->tx_n; i++)
		c->txq[i - nb] = c->txq[i];
	c->tx_n -= nb;
	c->st.sent += nb;
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
	if (get_be32(f + PC_OFF_SEQ) >= c->cfg.count)
		return "seq out of range";
	return NULL;
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
count_bad(struct pc_ctx *c, const char *why, const uint8_t *f, uint32_t len)
{
	uint32_t diff;

	c->st.bad++;
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
mark_seen(struct pc_ctx *c, uint32_t seq)
{
	uint64_t bit = UINT64_C(1) << (seq % 64);

	if (c->seen[seq / 64] & bit) {
		c->st.dup++;
		log_reason(c, "duplicate seq %u", seq);
		return;
	}
	c->seen[seq / 64] |= bit;
	c->st.good++;
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

static void
check_pkt(struct pc_ctx *c, const struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_pkt_len(m);
	const uint8_t *f;
	const char *why;
	uint8_t et[2];

	f = rte_pktmbuf_read(m, 2 * RTE_ETHER_ADDR_LEN, sizeof(et), et);
	if (f == NULL || f[0] != (PC_ETHERTYPE >> 8) ||
	    f[1] != (PC_ETHERTYPE & 0xff)) {
		c->st.other++;
		return;
	}
	c->st.received++;
	if (len < PC_HDRS_LEN || len > PC_MAX_FRAME) {
		count_bad(c, "bad frame length", NULL, len);
		return;
	}
	f = rte_pktmbuf_read(m, 0, len, c->rxbuf);
	if (f == NULL) {
		count_bad(c, "mbuf chain shorter than pkt_len", NULL, len);
		return;
	}
	why = verify_frame(c, f, len);
	if (c->cfg.none)
		log_rx(f, len, why);
	if (why != NULL)
		count_bad(c, why, f, len);
	else if (c->cfg.none)
		c->st.good++;
	else
		mark_seen(c, get_be32(f + PC_OFF_SEQ));
}

static uint16_t
rx_step(struct pc_ctx *c)
{
	struct rte_mbuf *pkts[PC_BURST];
	uint16_t nb, i;

	nb = rte_eth_rx_burst(c->cfg.port, 0, pkts, PC_BURST);
	for (i = 0; i < nb; i++) {
		check_pkt(c, pkts[i]);
		rte_pktmbuf_free(pkts[i]);
	}
	return nb;
}

/* ---- main loop and reporting ---- */

static bool
all_returned(const struct pc_ctx *c)
{
	return c->next_seq == c->cfg.count && c->tx_n == 0 &&
		c->st.received >= c->st.sent;
}

/* --expect none: send, and receive until the deadline or a signal. */
static int
sink_loop(struct pc_ctx *c, uint64_t deadline)
{
	while (!force_quit && rte_get_timer_cycles() < deadline) {
		tx_step(c);
		/* A switch's peer sees few frames: spare the CPU. */
		if (rx_step(c) == 0 && c->tx_n == 0)
			rte_delay_us_sleep(PC_IDLE_US);
	}
	return c->next_seq == c->cfg.count && c->tx_n == 0 ? 0 : -1;
}

/* Returns 0 when every sent frame came back, -1 on timeout or signal. */
static int
traffic_loop(struct pc_ctx *c, uint64_t deadline)
{
	uint64_t linger = rte_get_timer_hz() * PC_LINGER_MS / 1000;
	uint64_t linger_end = 0;
	uint64_t now;

	if (c->cfg.none)
		return sink_loop(c, deadline);
	while (!force_quit) {
		now = rte_get_timer_cycles();
		if (now >= deadline)
			return linger_end != 0 ? 0 : -1;
		if (linger_end == 0)
			tx_step(c);
		rx_step(c);
		if (linger_end == 0 && all_returned(c))
			linger_end = now + linger;
		else if (linger_end != 0 && now >= linger_end)
			return 0;
	}
	return -1;
}

static bool
report(const struct pc_ctx *c, bool completed)
{
	const struct pc_stats *st = &c->st;
	bool pass;

	if (c->cfg.none) {
		pass = completed && st->bad == 0;
		printf("pktcheck: sent=%" PRIu64 " received=%" PRIu64
		       " bad=%" PRIu64 " other=%" PRIu64 "\n%s\n", st->sent,
		       st->received, st->bad, st->other,
		       pass ? "pktcheck: PASS" : "pktcheck: FAIL");
		fflush(stdout);
		return pass;
	}
	pass = completed && st->received == c->cfg.count &&
		st->bad == 0 && st->dup == 0;
	printf("pktcheck: sent=%" PRIu64 " received=%" PRIu64 " bad=%" PRIu64
	       " dup=%" PRIu64 " missing=%" PRIu64 " other=%" PRIu64 "\n",
	       st->sent, st->received, st->bad, st->dup,
	       c->cfg.count - st->good, st->other);
	printf("pktcheck: %s\n", pass ? "PASS" : "FAIL");
	fflush(stdout);
	return pass;
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
	if (c->seen == NULL) {
		fprintf(stderr, "pktcheck: cannot allocate bitmap\n");
		return -1;
	}
	c->run_id = (uint32_t)rte_rand();
	return 0;
}

static int
run_test(struct pc_ctx *c, uint64_t deadline)
{
	if (ctx_init(c) != 0 || port_setup(c) != 0)
		return -1;
	fprintf(stderr, "pktcheck: run id 0x%08x, count %u, size %u, "
		"expect %s, window %u\n", c->run_id, c->cfg.count,
		c->cfg.size, c->cfg.none ? "none" :
		c->cfg.macswap ? "macswap" : "io", c->cfg.window);
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

	for (i = 0; i < c->tx_n; i++)
		rte_pktmbuf_free(c->txq[i]);
	c->tx_n = 0;
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
	c->pool = c->tx_pool = NULL;
	c->seen = NULL;
}

int
main(int argc, char **argv)
{
	struct pc_ctx *c = &pc_ctx;
	uint64_t deadline;
	bool pass;
	int ret;

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
	deadline = rte_get_timer_cycles() +
		(uint64_t)c->cfg.timeout * rte_get_timer_hz();
	ret = run_test(c, deadline);
	pass = report(c, ret == 0);
	cleanup(c);
	rte_eal_cleanup();
	return pass ? 0 : 1;
}
