/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * vpci_pmdcost: what one packet costs the PMD core, received and sent, for
 * stock net_vhost and net_vhost_pci (copying, and lending with
 * zero_copy=1), by size, in one process on one core.
 *
 * The same fake virtio-net front-end (tests/fake_peer.c, speaking
 * vhost-user as net_virtio_user does) connects to each PMD in turn. For
 * RX, it posts a burst of frames on its TX ring and the tool times
 * rx_burst and the free of the mbufs (with zero-copy, the free posts the
 * completion and the next rx_burst returns the buffer). For TX, it posts a
 * burst of empty buffers on its RX ring and the tool times tx_burst of
 * ready mbufs. The front-end asks for no interrupts, so neither PMD makes
 * a system call.
 *
 * RX frames are timed warm (in this core's cache, as the fake peer wrote
 * them: the best case for copying) and cold (flushed to memory: the worst
 * case; a peer on another core leaves them in between). No second process
 * and no peer polling share the core, so the figures hold still where the
 * cross-process benchmark (devtools/bench.sh) moves by two to three times.
 * They give zc_min_len's default and the per-packet comparison with
 * net_vhost.
 *
 * usage: vpci_pmdcost PMD.so SOCKET-PREFIX [ROUNDS]
 * prints per size and PMD: cycles per packet, medians of ROUNDS bursts
 * environment: VPCI_COST_PREFIX, the EAL file prefix (default vpci-cost);
 * VPCI_COST_PACKED=1, packed rings instead of split ones
 */

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#if defined(RTE_ARCH_X86)
#include <immintrin.h>
#endif

#include "../fake_peer.h"

#define RING		256u
#define BURST		32u
#define NB_MBUF		4096u
#define DEF_ROUNDS	2001u

static const uint32_t sizes[] = { 64, 128, 256, 512, 1024, 1518, 2048 };

struct port {
	const char *name;
	const char *args;	/* after path= / iface= */
	const char *label;
	uint16_t id;
	char sock[256];
	struct fake_peer peer;
};

static uint8_t frame[FP_BUF_SIZE];
static struct rte_mempool *mp;
static bool packed;		/* VPCI_COST_PACKED=1 */

static void
flush_lines(const void *p, uint32_t len)
{
#if defined(RTE_ARCH_X86)
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)63, end = (uintptr_t)p + len;

	for (; a < end; a += 64)
		_mm_clflush((const void *)a);
	_mm_mfence();
#else
	RTE_SET_USED(p);
	RTE_SET_USED(len);
#endif
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
port_up(struct port *pt)
{
	bool vhost = strncmp(pt->name, "net_vhost_pci", 13) != 0;
	struct rte_eth_conf conf;
	struct rte_eth_link link;
	char args[400];
	int i;

	snprintf(args, sizeof(args), "%s=%s%s", vhost ? "iface" : "path",
		pt->sock, pt->args);
	if (rte_vdev_init(pt->name, args) != 0 ||
			rte_eth_dev_get_port_by_name(pt->name, &pt->id) != 0) {
		fprintf(stderr, "vdev %s,%s refused\n", pt->name, args);
		return -1;
	}
	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_configure(pt->id, 1, 1, &conf) != 0 ||
			rte_eth_rx_queue_setup(pt->id, 0, RING, 0, NULL, mp) ||
			rte_eth_tx_queue_setup(pt->id, 0, RING, 0, NULL) ||
			rte_eth_dev_start(pt->id) != 0) {
		fprintf(stderr, "%s: port setup failed\n", pt->name);
		return -1;
	}
	if (fp_init(&pt->peer, RING) < 0 ||
			fp_connect(&pt->peer, pt->sock, FP_F_MRG_RXBUF |
				(packed ? FP_F_RING_PACKED : 0)) < 0) {
		fprintf(stderr, "%s: fake front-end: %s\n", pt->name,
			pt->peer.err);
		return -1;
	}
	/* Polling on both sides: no call eventfd writes. */
	if (packed) {
		fp_packed_set_driver_event(&pt->peer, FP_RXQ,
			VRING_PACKED_EVENT_FLAG_DISABLE, 0);
		fp_packed_set_driver_event(&pt->peer, FP_TXQ,
			VRING_PACKED_EVENT_FLAG_DISABLE, 0);
	} else {
		fp_set_avail_flags(&pt->peer, FP_RXQ,
			VRING_AVAIL_F_NO_INTERRUPT);
		fp_set_avail_flags(&pt->peer, FP_TXQ,
			VRING_AVAIL_F_NO_INTERRUPT);
	}
	for (i = 0; i < 200; i++) {
		if (rte_eth_link_get_nowait(pt->id, &link) == 0 &&
				link.link_status == RTE_ETH_LINK_UP)
			return 0;
		rte_delay_ms(10);
	}
	fprintf(stderr, "%s: link stays down\n", pt->name);
	return -1;
}

/* Median cycles per packet to receive @rounds bursts of @size-byte frames,
 * their cache lines flushed if @cold.
 */
static double
rx_cost(struct port *pt, uint32_t size, bool cold, unsigned int rounds,
		uint64_t *t)
{
	struct rte_mbuf *pkts[BURST];
	unsigned int r, i, got, total, spins;
	uint64_t start;
	uint16_t head;

	for (r = 0; r < rounds; r++) {
		for (i = 0; i < BURST; i++) {
			head = packed ?
				fp_packed_post_tx(&pt->peer, frame, size) :
				fp_post_tx(&pt->peer, frame, size);
			if (cold)
				flush_lines(fp_buf(&pt->peer, FP_TXQ, head),
					FP_NET_HDR_LEN + size);
		}
		total = 0;
		spins = 0;
		start = rte_rdtsc_precise();
		while (total < BURST && ++spins < 1000) {
			got = rte_eth_rx_burst(pt->id, 0, pkts, BURST);
			rte_pktmbuf_free_bulk(pkts, got);
			total += got;
		}
		t[r] = rte_rdtsc_precise() - start;
		if (total < BURST)
			return -1;
	}
	qsort(t, rounds, sizeof(t[0]), cmp_u64);
	return (double)t[rounds / 2] / BURST;
}

/* Median cycles per packet to send @rounds bursts of @size-byte mbufs into
 * buffers the front-end posted.
 */
static double
tx_cost(struct port *pt, uint32_t size, unsigned int rounds, uint64_t *t)
{
	struct rte_mbuf *pkts[BURST];
	unsigned int r, i, sent, spins;
	uint64_t start;

	for (r = 0; r < rounds; r++) {
		for (i = 0; i < BURST; i++)
			if (packed)
				fp_packed_post_rx(&pt->peer, FP_BUF_SIZE, 0);
			else
				fp_post_rx(&pt->peer, FP_BUF_SIZE, 0);
		if (rte_pktmbuf_alloc_bulk(mp, pkts, BURST) != 0)
			return -1;
		for (i = 0; i < BURST; i++)
			memcpy(rte_pktmbuf_append(pkts[i], size), frame, size);
		sent = 0;
		spins = 0;
		start = rte_rdtsc_precise();
		while (sent < BURST && ++spins < 1000)
			sent += rte_eth_tx_burst(pt->id, 0, pkts + sent,
				BURST - sent);
		t[r] = rte_rdtsc_precise() - start;
		if (sent < BURST) {
			rte_pktmbuf_free_bulk(pkts + sent, BURST - sent);
			return -1;
		}
	}
	qsort(t, rounds, sizeof(t[0]), cmp_u64);
	return (double)t[rounds / 2] / BURST;
}

int
main(int argc, char **argv)
{
	char *eal[] = {
		"vpci_pmdcost", "-l", "0", "--no-pci", "--file-prefix=vpci-cost",
		"--no-huge", "-m", "512", "--log-level=*:error",
		"-d", NULL, NULL,
	};
	struct port ports[] = {
		{ .name = "net_vhost0", .args = "", .label = "net_vhost" },
		{ .name = "net_vhost_pci0", .args = ",zero_copy=0",
			.label = "vpci copy" },
		{ .name = "net_vhost_pci1", .args = ",zero_copy=1,zc_min_len=0",
			.label = "vpci lend" },
	};
	unsigned int rounds = argc > 3 ? (unsigned int)atoi(argv[3]) : DEF_ROUNDS;
	const char *prefix = getenv("VPCI_COST_PREFIX");
	const char *ring = getenv("VPCI_COST_PACKED");
	char prefix_arg[128];
	double v[RTE_DIM(ports)][3];
	uint64_t *t;
	unsigned int i, j;

	if (argc < 3 || rounds == 0) {
		fprintf(stderr, "usage: %s PMD.so SOCKET-PREFIX [ROUNDS]\n",
			argv[0]);
		return 2;
	}
	eal[10] = argv[1];
	/* Two runs at once need two prefixes. */
	if (prefix != NULL && prefix[0] != '\0') {
		snprintf(prefix_arg, sizeof(prefix_arg), "--file-prefix=%s",
			prefix);
		eal[4] = prefix_arg;
	}
	packed = ring != NULL && strcmp(ring, "1") == 0;
	if (rte_eal_init(RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	mp = rte_pktmbuf_pool_create("pmdcost", NB_MBUF, 256, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE + FP_BUF_SIZE, 0);
	t = calloc(rounds, sizeof(*t));
	if (mp == NULL || t == NULL)
		return 1;
	for (i = 0; i < RTE_DIM(ports); i++) {
		snprintf(ports[i].sock, sizeof(ports[i].sock), "%s.%u",
			argv[2], i);
		unlink(ports[i].sock);
		if (port_up(&ports[i]) < 0)
			return 1;
	}
	for (i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7 + 1);
	printf("# cycles per packet on the PMD core, median of %u bursts of %u, %s rings, TSC %" PRIu64 " Hz\n",
		rounds, BURST, packed ? "packed" : "split", rte_get_tsc_hz());
	printf("%-10s %6s %9s %9s %9s\n", "pmd", "size", "rx warm", "rx cold",
		"tx");
	for (j = 0; j < RTE_DIM(sizes); j++) {
		for (i = 0; i < RTE_DIM(ports); i++) {
			v[i][0] = rx_cost(&ports[i], sizes[j], false, rounds, t);
			v[i][1] = rx_cost(&ports[i], sizes[j], true, rounds, t);
			/* Lending changes nothing on TX. */
			v[i][2] = i == 2 ? v[1][2] :
				tx_cost(&ports[i], sizes[j], rounds, t);
			printf("%-10s %6u %9.1f %9.1f %9.1f\n", ports[i].label,
				sizes[j], v[i][0], v[i][1], v[i][2]);
		}
	}
	for (i = 0; i < RTE_DIM(ports); i++) {
		fp_fini(&ports[i].peer);
		rte_eth_dev_stop(ports[i].id);
		rte_eth_dev_close(ports[i].id);
		rte_vdev_uninit(ports[i].name);
		unlink(ports[i].sock);
	}
	free(t);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}
