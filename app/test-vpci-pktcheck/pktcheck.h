/* SPDX-License-Identifier: BSD-3-Clause */

/*
 * What main.c (the checker) and sink.c (the receive-only sink) of
 * dpdk-vpci-pktcheck share.
 */

#ifndef PKTCHECK_H
#define PKTCHECK_H

#include <signal.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_mbuf.h>

#define PC_BURST	32

/* Set by SIGINT and SIGTERM. */
extern volatile sig_atomic_t force_quit;

/*
 * The payload sum both modes print: each byte at frame offset i added as
 * byte << 8 * (i % 8), modulo 2^64. That is the sum of the frame's
 * little-endian 64-bit words, the last one zero-padded, and it does not
 * depend on where the frame is split into segments: a sender computes it
 * over the contiguous frame, the sink over each segment at its offset.
 * pc_sum_bytes adds LEN bytes at P, which sit at frame offset OFF.
 */
static inline uint64_t
pc_sum_bytes(uint64_t sum, const uint8_t *p, uint32_t len, uint32_t off)
{
	uint32_t i = 0;
	uint64_t w;

	for (; i < len && ((off + i) & 7) != 0; i++)
		sum += (uint64_t)p[i] << (8 * ((off + i) & 7));
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, sizeof(w));
		sum += rte_le_to_cpu_64(w);
	}
	for (; i < len; i++)
		sum += (uint64_t)p[i] << (8 * ((off + i) & 7));
	return sum;
}

/* Every byte of every segment of M. */
static inline uint64_t
pc_sum_mbuf(uint64_t sum, const struct rte_mbuf *m)
{
	uint32_t off = 0;

	for (; m != NULL; m = m->next) {
		sum = pc_sum_bytes(sum, rte_pktmbuf_mtod(m, const uint8_t *),
				   m->data_len, off);
		off += m->data_len;
	}
	return sum;
}

/*
 * --sink: receive on queues [0, NB_QUEUES) of PORT round robin until
 * DEADLINE (in rte_get_timer_cycles, UINT64_MAX for none) or a signal,
 * reading every byte; prints "Rx-pps: <n>" and "cycles/packet: <c>" once
 * a second and "sink: <packets> packets, <bytes> bytes, sum <hex>" at the
 * end.
 */
void pc_sink_run(uint16_t port, uint16_t nb_queues, uint64_t deadline);

#endif /* PKTCHECK_H */
