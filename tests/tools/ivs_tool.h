/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * What the standalone ivshmem-server tools (ivs_smoke, vpci_badmeta) share:
 * a quit flag for SIGINT/SIGTERM and a monotonic clock for their bounded
 * waits. Header-only: the tests build each tool with one gcc line.
 */

#ifndef IVS_TOOL_H
#define IVS_TOOL_H

#include <signal.h>
#include <stdint.h>
#include <time.h>

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static inline int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif /* IVS_TOOL_H */
