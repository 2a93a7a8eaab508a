/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * vpci_rxcost: the RX cost per packet of net_vhost_pci, copying and
 * lending (zero_copy=1), by payload size, in one process on one core.
 *
 * A fake front-end (tests/fake_peer.c) posts a burst of frames on its TX
 * ring; the tool times rx_burst and the free of the mbufs, which is all
 * the PMD does per packet on the receive side (with zero-copy, the free
 * posts the completion and the next rx_burst returns the buffer). Frames
 * are timed warm (in this core's cache, as the fake peer wrote them: the
 * best case for copying) and cold (flushed to memory: the worst case; a
 * peer on another core leaves them in between). No second process and no peer polling share the core, so
 * the figures hold still where the cross-process benchmark
 * (devtools/bench.sh) moves by two to three times: they are what
 * zc_min_len's default is chosen from.
 *
 * usage: vpci_rxcost PMD.so SOCKET-PREFIX [ROUNDS]
 * prints per size: copy and lend cycles per packet, warm and cold, medians
 * of ROUNDS bursts
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

static const uint32_t sizes[] = {
	64, 128, 192, 256, 384, 512, 768, 1024, 1518, 2048, 4000,
};

struct port {
	const char *name;
	uint16_t id;
	char sock[256];
	struct fake_peer peer;
};

static uint8_t frame[FP_BUF_SIZE];

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
port_up(struct port *pt, const char *args, struct rte_mempool *mp)
{
	struct rte_eth_conf conf;
	struct rte_eth_link link;
	int i;

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
			fp_connect(&pt->peer, pt->sock, FP_F_MRG_RXBUF) < 0) {
		fprintf(stderr, "%s: fake front-end: %s\n", pt->name,
			pt->peer.err);
		return -1;
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

/* Median cycles per packet of @rounds bursts of @size-byte frames, their
 * cache lines flushed if @cold.
 */
static double
measure(struct port *pt, uint32_t size, bool cold, unsigned int rounds,
		uint64_t *t)
{
	struct rte_mbuf *pkts[BURST];
	unsigned int r, i, got, total;
	uint64_t start;
	uint16_t head;

	for (r = 0; r < rounds; r++) {
		for (i = 0; i < BURST; i++) {
			head = fp_post_tx(&pt->peer, frame, size);
			if (cold)
				flush_lines(fp_buf(&pt->peer, FP_TXQ, head),
					FP_NET_HDR_LEN + size);
		}
		total = 0;
		start = rte_rdtsc_precise();
		while (total < BURST) {
			got = rte_eth_rx_burst(pt->id, 0, pkts, BURST);
			rte_pktmbuf_free_bulk(pkts, got);
			total += got;
		}
		t[r] = rte_rdtsc_precise() - start;
	}
	qsort(t, rounds, sizeof(t[0]), cmp_u64);
	return (double)t[rounds / 2] / BURST;
}

int
main(int argc, char **argv)
{
	char *eal[] = {
		"vpci_rxcost", "-l", "0", "--no-pci", "--file-prefix=vpci-rxcost",
		"--no-huge", "-m", "512", "--log-level=lib.eal:error",
		"-d", NULL, NULL,
	};
	struct port ports[2] = {
		{ .name = "net_vhost_pci0" }, { .name = "net_vhost_pci1" },
	};
	unsigned int rounds = argc > 3 ? (unsigned int)atoi(argv[3]) : DEF_ROUNDS;
	struct rte_mempool *mp;
	char args[300];
	uint64_t *t;
	unsigned int i;

	if (argc < 3 || rounds == 0) {
		fprintf(stderr, "usage: %s PMD.so SOCKET-PREFIX [ROUNDS]\n",
			argv[0]);
		return 2;
	}
	eal[10] = argv[1];
	if (rte_eal_init(RTE_DIM(eal) - 1, eal) < 0) {
		fprintf(stderr, "EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	mp = rte_pktmbuf_pool_create("rxcost", NB_MBUF, 256, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE + FP_BUF_SIZE, 0);
	t = calloc(rounds, sizeof(*t));
	if (mp == NULL || t == NULL)
		return 1;
	for (i = 0; i < RTE_DIM(ports); i++) {
		snprintf(ports[i].sock, sizeof(ports[i].sock), "%s.%u",
			argv[2], i);
		unlink(ports[i].sock);
		snprintf(args, sizeof(args), "path=%s%s", ports[i].sock,
			i == 0 ? ",zero_copy=0" : ",zero_copy=1,zc_min_len=0");
		if (port_up(&ports[i], args, mp) < 0)
			return 1;
	}
	for (i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7 + 1);
	printf("# rx cycles per packet, median of %u bursts of %u, TSC %" PRIu64 " Hz\n",
		rounds, BURST, rte_get_tsc_hz());
	printf("%6s %10s %10s %10s %10s\n", "size", "copy warm", "lend warm",
		"copy cold", "lend cold");
	for (i = 0; i < RTE_DIM(sizes); i++) {
		double cw = measure(&ports[0], sizes[i], false, rounds, t);
		double lw = measure(&ports[1], sizes[i], false, rounds, t);
		double cc = measure(&ports[0], sizes[i], true, rounds, t);
		double lc = measure(&ports[1], sizes[i], true, rounds, t);

		printf("%6u %10.1f %10.1f %10.1f %10.1f\n", sizes[i], cw, lw,
			cc, lc);
	}
	for (i = 0; i < RTE_DIM(ports); i++) {
		fp_fini(&ports[i].peer);
		rte_eth_dev_stop(ports[i].id);
		rte_eth_dev_close(ports[i].id);
		unlink(ports[i].sock);
	}
	free(t);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}
