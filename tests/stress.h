/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/* test_vpci_stress: the state its threads share, frames, peer threads. */

#ifndef TEST_STRESS_H
#define TEST_STRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STRESS_NSOCKS		2	/* server sockets the ports listen on */
#define STRESS_NPEERS		3	/* v1 fake front-end threads */
/* Threads that report where they are: the application, the peers, the
 * v2 client thread.
 */
#define STRESS_NTHREADS		(STRESS_NPEERS + 2)
#define STRESS_APP		0
#define STRESS_CLIENT		(STRESS_NPEERS + 1)

#define FRAME_HDR		24	/* Ethernet header, magic, length, seed */
#define FRAME_MIN		64
#define FRAME_MAX		1514

/* What can go wrong; each has a check of its own at the end. */
enum stress_fault {
	SF_API,		/* a call returned what its documentation rules out */
	SF_RX,		/* the application received a frame with wrong bytes */
	SF_PEER_RX,	/* a peer received a frame with wrong bytes */
	SF_STATS,	/* port statistics differ from what the test counted */
	SF_LSC,		/* an LSC callback on a port it cannot be for */
	SF_HARNESS,	/* the test could not make its own resources */
	SF_NR
};

struct stress {
	char sock[STRESS_NSOCKS][108];
	unsigned long rounds;
	uint64_t seed;
	/* Set by the application thread; read by the others. */
	bool app_done;
	bool stop;
	/* Rounds done by all threads, for the stall watchdog. */
	uint64_t progress;
	/* What each thread does now (a string literal), since when (ms). */
	const char *where[STRESS_NTHREADS];
	uint64_t where_t0[STRESS_NTHREADS];
	/* The longest step any thread took, and which (under lock). */
	uint64_t slow_ms;
	const char *slow_what;

	/* v1 fake front-ends (counted by the peer threads). */
	uint64_t v1_try;	/* fp_connect() attempts */
	uint64_t v1_ok;		/* handshakes that ended in a ready device */
	uint64_t v1_abort;	/* connections dropped mid-handshake on purpose */
	uint64_t v1_restart;	/* rings stopped and set up again */
	uint64_t v1_clean;	/* left with fp_leave() */
	uint64_t v1_abrupt;	/* left by closing the socket */
	uint64_t v1_tx;		/* frames posted on their TX rings */
	uint64_t peer_rx;	/* frames found intact in their RX buffers */
	/* v2 clients (counted by the client thread). */
	uint64_t v2_try;
	uint64_t v2_ok;		/* rte_vhost_pci_client_connect() succeeded */
	uint64_t v2_up;		/* device brought up: SET_STATUS acked 0 */
	uint64_t v2_up_fail;
	uint64_t v2_srv_req;	/* requests of the server the clients answered */
	/* LSC callbacks, by the link status they found; on link up the
	 * callback asks for the peer, and sends some v2 peers away.
	 */
	uint64_t lsc_up;
	uint64_t lsc_down;
	uint64_t lsc_peer;	/* get_peer answered from the callback */
	uint64_t lsc_v2;	/* of them, v2 peers */
	uint64_t lsc_disc;	/* disconnected from the callback */

	pthread_mutex_t lock;	/* the fault record */
	unsigned int nfault[SF_NR];
	char fault[SF_NR][320];	/* the first of each kind */
};

/* Record a fault of kind @f; the first of each kind is kept. */
void stress_fault(struct stress *st, enum stress_fault f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
unsigned int stress_faults(struct stress *st, enum stress_fault f);

static inline void
stress_count(uint64_t *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

static inline uint64_t
stress_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Thread @thread starts step @what; the step it ends is timed. */
void stress_where(struct stress *st, unsigned int thread, const char *what);

/* xorshift64*: each thread has its own state, seeded from st->seed. */
uint64_t stress_rand(uint64_t *state);
/* A number in [0, n). */
uint32_t stress_below(uint64_t *state, uint32_t n);
void stress_sleep_us(unsigned long us);
uint64_t stress_now_ms(void);

/*
 * A test frame: Ethernet to 02:00:00:00:00:01, ethertype 0x88b5, then the
 * magic "VPST", its own length (le16), a 32-bit seed, and bytes that are a
 * function of the seed and their offset. A frame checks itself.
 */
void frame_make(uint8_t *f, uint32_t len, uint32_t seed);
/* 0 if the @len bytes at @f are a whole test frame; else -1 and why. */
int frame_check(const uint8_t *f, uint32_t len, char *why, size_t wlen);

struct stress_thread {
	struct stress *st;
	unsigned int idx;	/* STRESS_APP, 1..STRESS_NPEERS, STRESS_CLIENT */
	uint64_t rng;
	pthread_t tid;
};

/* A v1 fake front-end that connects, posts, holds and leaves. */
void *stress_peer_thread(void *arg);
/* v2 clients that connect and leave, some bringing a device up. */
void *stress_client_thread(void *arg);

#endif /* TEST_STRESS_H */
