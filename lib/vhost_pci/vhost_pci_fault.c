/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * Peer memory that vanishes under the BAR.
 *
 * A front-end can shrink the file behind a region, or punch holes in it
 * (DPDK does the latter when it returns hugepages on exit). Our mapping
 * then has no page behind it, and the next access is a SIGBUS that would
 * kill this process, and every other VM's traffic with it.
 *
 * Every mapped BAR window is listed here. A SIGBUS inside one maps private
 * zeroed memory over the page that faulted and returns: the access is
 * retried and reads zeros, which the datapath's ring checks reject, so the
 * queue stops with a counted error. A SIGBUS anywhere else goes to the
 * handler that was there before.
 *
 * The handler takes no lock: the list is a fixed array of slots whose
 * fields are published with release stores and read with acquire loads.
 */

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

#include <rte_common.h>

#define VHOST_PCI_LOGTYPE	vhost_pci_logtype_dev
#include "vhost_pci_private.h"

#define FAULT_SLOTS	128

struct fault_slot {
	uintptr_t base;		/* 0: free */
	uintptr_t size;
	uintptr_t page;		/* largest page size of the window */
};

static struct fault_slot fault_slots[FAULT_SLOTS];
static struct sigaction fault_prev;
static bool fault_installed;
static uint64_t fault_count;

static void
fault_chain(int sig, siginfo_t *si, void *uc)
{
	if (fault_prev.sa_flags & SA_SIGINFO) {
		fault_prev.sa_sigaction(sig, si, uc);
		return;
	}
	if (fault_prev.sa_handler != SIG_DFL && fault_prev.sa_handler != SIG_IGN) {
		fault_prev.sa_handler(sig);
		return;
	}
	/* Default action: die of SIGBUS as we would have. */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
fault_handler(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	unsigned int i;

	for (i = 0; i < FAULT_SLOTS; i++) {
		/* Pairs with the release store in vhost_pci_fault_watch(). */
		uintptr_t base = __atomic_load_n(&fault_slots[i].base,
			__ATOMIC_ACQUIRE);
		uintptr_t size = fault_slots[i].size;
		uintptr_t page = fault_slots[i].page;
		uintptr_t start;

		if (base == 0 || a - base >= size)
			continue;
		/* The window is aligned to its largest page: so is this. */
		start = base + RTE_ALIGN_FLOOR(a - base, page);
		if (mmap((void *)start, RTE_MIN(page, base + size - start),
				PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
				-1, 0) == MAP_FAILED)
			break;
		__atomic_fetch_add(&fault_count, 1, __ATOMIC_RELAXED);
		return;
	}
	fault_chain(sig, si, uc);
}

/* Called with the library lock held. */
static int
fault_install(void)
{
	struct sigaction sa;

	if (fault_installed)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &fault_prev) < 0)
		return -errno;
	fault_installed = true;
	return 0;
}

/* List a window before the driver can touch it. Library lock held. */
int
vhost_pci_fault_watch(void *base, uint64_t size, uint64_t page)
{
	unsigned int i;
	int ret = fault_install();

	if (ret < 0)
		return ret;
	for (i = 0; i < FAULT_SLOTS; i++) {
		if (__atomic_load_n(&fault_slots[i].base, __ATOMIC_ACQUIRE) != 0)
			continue;
		fault_slots[i].size = size;
		fault_slots[i].page = page;
		/* Pairs with the acquire load in fault_handler(). */
		__atomic_store_n(&fault_slots[i].base, (uintptr_t)base,
			__ATOMIC_RELEASE);
		return 0;
	}
	return -ENOSPC;
}

/* Unlist a window; the driver no longer touches it. Any thread, no lock:
 * the last reference of a window may go with a zero-copy mbuf. It only
 * clears its own slot, which vhost_pci_fault_watch() does not reuse until
 * then.
 */
void
vhost_pci_fault_unwatch(void *base)
{
	unsigned int i;

	for (i = 0; i < FAULT_SLOTS; i++)
		if (__atomic_load_n(&fault_slots[i].base, __ATOMIC_RELAXED) ==
				(uintptr_t)base)
			__atomic_store_n(&fault_slots[i].base, 0,
				__ATOMIC_RELEASE);
}

uint64_t
rte_vhost_pci_fault_count(void)
{
	return __atomic_load_n(&fault_count, __ATOMIC_RELAXED);
}
