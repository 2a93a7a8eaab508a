/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * dpdk-vpci-pktcheck --sink: a receiver for benchmarks that, unlike
 * testpmd's rxonly, reads every payload byte, so that a zero-copy
 * receive path is charged for the cache misses of the data it lends, as
 * an application would be. One lcore polls all queues in turn.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "pktcheck.h"

struct sink_stats {
	uint64_t pkts;
	uint64_t bytes;
	uint64_t sum;
	uint64_t sec_pkts;	/* in the current second */
	uint64_t sec_cycles;	/* spent in non-empty bursts */
};

/*
 * Where the sum ends up: a volatile store after each burst, so that the
 * compiler cannot drop the reads that feed it even if the final print
 * were taken away.
 */
static volatile uint64_t sink_sum;

static uint16_t
sink_burst(uint16_t port, uint16_t queue, struct sink_stats *st)
{
	struct rte_mbuf *pkts[PC_BURST];
	uint64_t start = rte_rdtsc();
	uint64_t sum = st->sum;
	uint16_t nb, i;

	nb = rte_eth_rx_burst(port, queue, pkts, PC_BURST);
	if (nb == 0)
		return 0;
	for (i = 0; i < nb; i++) {
		sum = pc_sum_mbuf(sum, pkts[i]);
		st->bytes += rte_pktmbuf_pkt_len(pkts[i]);
	}
	rte_pktmbuf_free_bulk(pkts, nb);
	st->sum = sum;
	sink_sum = sum;
	st->pkts += nb;
	st->sec_pkts += nb;
	st->sec_cycles += rte_rdtsc() - start;
	return nb;
}

static void
sink_print_second(struct sink_stats *st, uint64_t elapsed, uint64_t hz)
{
	uint64_t pps = elapsed != 0 ? st->sec_pkts * hz / elapsed : 0;
	uint64_t cpp = st->sec_pkts != 0 ? st->sec_cycles / st->sec_pkts : 0;

	printf("Rx-pps: %" PRIu64 "\ncycles/packet: %" PRIu64 "\n", pps, cpp);
	st->sec_pkts = 0;
	st->sec_cycles = 0;
}

void
pc_sink_run(uint16_t port, uint16_t nb_queues, uint64_t deadline)
{
	uint64_t hz = rte_get_timer_hz();
	uint64_t last = rte_get_timer_cycles();
	struct sink_stats st;
	uint64_t now;
	uint16_t q;

	memset(&st, 0, sizeof(st));
	while (!force_quit) {
		for (q = 0; q < nb_queues; q++)
			sink_burst(port, q, &st);
		now = rte_get_timer_cycles();
		if (now - last >= hz) {
			sink_print_second(&st, now - last, hz);
			last = now;
		}
		if (now >= deadline)
			break;
	}
	printf("sink: %" PRIu64 " packets, %" PRIu64 " bytes, sum 0x%016" PRIx64
	       "\n", st.pkts, st.bytes, sink_sum);
}
