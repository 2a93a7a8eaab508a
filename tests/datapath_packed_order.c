/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * test_vpci_datapath, packed phase: the mergeable ordering check, which
 * watches the PMD's own stores with a hardware watchpoint.
 */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>

#include <rte_common.h>

#include "datapath.h"

#define HDR		FP_NET_HDR_LEN

/*
 * "Multi-buffer requests" (2.8): a device that spreads one request over
 * several buffers marks the first one used after the rest. A hardware
 * watchpoint on the first used descriptor's flags, as the PMD maps them,
 * stops the PMD right after that store; the handler looks at the later
 * buffers' flags at that instant.
 */
static struct {
	volatile struct vring_packed_desc *later[2];	/* the peer's view */
	uint16_t later_pos[2];
	uint16_t seen[2];		/* their flags at the first hit */
	volatile int hits;
} wp;

static void
wp_trap(int sig, siginfo_t *si, void *uc)
{
	int i;

	RTE_SET_USED(sig);
	RTE_SET_USED(si);
	RTE_SET_USED(uc);
	if (wp.hits++ != 0)
		return;
	for (i = 0; i < 2; i++)
		wp.seen[i] = wp.later[i]->flags;
}

int
pmd_views(const struct fake_peer *p, uint64_t off, uintptr_t *va, int max)
{
	static char line[4352];
	unsigned long start, end, foff, ino;
	struct stat st;
	int n = 0;
	FILE *f;

	if (fstat(p->memfd, &st) < 0)
		return 0;
	f = fopen("/proc/self/maps", "r");
	if (f == NULL)
		return 0;
	while (n < max && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx %*s %lx %*s %lu", &start, &end,
				&foff, &ino) != 4 || ino != st.st_ino ||
				start == (uintptr_t)p->mem ||
				off < foff || off - foff >= end - start)
			continue;
		va[n++] = start + (off - foff);
	}
	fclose(f);
	return n;
}

/* A write watchpoint on 2 bytes at @va for this thread, SIGTRAP at once. */
static int
watch_u16(uintptr_t va)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_BREAKPOINT;
	a.size = sizeof(a);
	a.bp_type = HW_BREAKPOINT_W;
	a.bp_addr = va;
	a.bp_len = HW_BREAKPOINT_LEN_2;
	a.sample_period = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	a.sigtrap = 1;
	a.remove_on_exec = 1;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

int
t_pk_mrg_order(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	struct sigaction sa, old;
	uint16_t pos, id[3], flags_off;
	uintptr_t va[4];
	int fd[4], nva, nfd = 0, err = 0, i, rc;

	pos = fp_packed_avail_pos(p, FP_RXQ);
	for (i = 0; i < 3; i++)
		id[i] = fp_packed_post_rx(p, 1024, 0x34);
	memset(&wp, 0, sizeof(wp));
	for (i = 0; i < 2; i++) {
		wp.later_pos[i] = fp_pos_add(p, pos, i + 1);
		wp.later[i] = &p->ring[FP_RXQ].pdesc[FP_POS_SLOT(
			wp.later_pos[i])];
	}
	flags_off = FP_POS_SLOT(pos) * sizeof(struct vring_packed_desc) +
		offsetof(struct vring_packed_desc, flags);
	nva = pmd_views(p, p->ring[FP_RXQ].desc_gpa - p->base + flags_off,
		va, RTE_DIM(va));
	EXPECTR(nva > 0, "the PMD's mapping of the peer's memory not found");
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = wp_trap;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGTRAP, &sa, &old);
	for (i = 0; i < nva; i++) {
		fd[nfd] = watch_u16(va[i]);
		if (fd[nfd] >= 0)
			nfd++;
		else
			err = errno;
	}
	make_frame(frame_a, 3000, 136);
	rc = nfd == nva ? tx_long(d, frame_a, 3000) : 0;
	for (i = 0; i < nfd; i++)
		close(fd[i]);
	sigaction(SIGTRAP, &old, NULL);
	if (nfd != nva) {
		/* No hardware watchpoint here: nothing to observe with. */
		printf("# skipped: perf_event_open breakpoint: %s\n",
			strerror(err));
		return 0;
	}
	TRYR(rc);
	TRYR(expect_pused(d, FP_RXQ, pos, id[0], 1024, NULL));
	TRYR(expect_pused(d, FP_RXQ, wp.later_pos[0], id[1], 1024, NULL));
	TRYR(expect_pused(d, FP_RXQ, wp.later_pos[1], id[2], HDR + 3000 - 2048,
		NULL));
	EXPECTR(wp.hits > 0, "the watchpoint never fired");
	for (i = 0; i < 2; i++) {
		uint16_t want = (wp.later_pos[i] & FP_POS_WRAP) ?
			VHOST_PCI_PDESC_F_AVAIL | VHOST_PCI_PDESC_F_USED : 0;

		EXPECTR((wp.seen[i] & (VHOST_PCI_PDESC_F_AVAIL | VHOST_PCI_PDESC_F_USED)) ==
			want,
			"buffer 1 (num_buffers 3) was marked used while buffer %d at slot %u was not yet (flags 0x%04x)",
			i + 2, FP_POS_SLOT(wp.later_pos[i]), wp.seen[i]);
	}
	return 0;
}


/* A lent packed mbuf has exactly the bytes of @f. */
static bool
lent_ok(const struct rte_mbuf *m, const uint8_t *f, uint32_t len)
{
	return m != NULL && RTE_MBUF_HAS_EXTBUF(m) && m->nb_segs == 1 &&
		m->pkt_len == len &&
		memcmp(rte_pktmbuf_mtod(m, const void *), f, len) == 0;
}

/*
 * The memory table update of net_virtio_user (rings disabled, a grown
 * table, rings enabled) on a packed ring with A and B lent: after it C is
 * lent too, and the used descriptors come in free order from the slot
 * where A was, B's first: nothing was skipped, nothing forfeit.
 */
int
t_pk_zc_remap(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	uint16_t pos = fp_packed_avail_pos(p, FP_TXQ), ida, idb, idc = 0, n;
	struct rte_mbuf *m[3] = { NULL, NULL, NULL }, *none[4];
	int rc = 0, i;

	make_frame(frame_a, 300, 150);
	make_frame(frame_b, 400, 151);
	make_frame(scratch, 500, 152);
	ida = fp_packed_post_tx(p, frame_a, 300);
	idb = fp_packed_post_tx(p, frame_b, 400);
	m[0] = rx_one(d);
	m[1] = rx_one(d);
	if (!lent_ok(m[0], frame_a, 300) || !lent_ok(m[1], frame_b, 400))
		rc = FAIL("A and B were not lent");
	else if (fp_remap(p, 2u << 20) < 0)
		rc = FAIL("remap: %s", p->err);
	if (rc == 0) {
		idc = fp_packed_post_tx(p, scratch, 500);
		m[2] = rx_one(d);
		if (!lent_ok(m[2], scratch, 500))
			rc = FAIL("C was not lent after the update");
		else if (!lent_ok(m[0], frame_a, 300) ||
				!lent_ok(m[1], frame_b, 400))
			rc = FAIL("lent bytes changed across the update");
	}
	/* B, then A and C: their used descriptors in that order. */
	rte_pktmbuf_free(m[1]);
	n = rte_eth_rx_burst(d->port, 0, none, 4);
	free_all(none, n);
	if (rc == 0)
		rc = expect_pused(d, FP_TXQ, pos, idb, 0, NULL);
	for (i = 0; i < 3; i += 2)
		rte_pktmbuf_free(m[i]);
	TRYR(rc);
	n = rte_eth_rx_burst(d->port, 0, none, 4);
	free_all(none, n);
	EXPECTR(n == 0, "%u phantom packets", n);
	TRYR(expect_pused(d, FP_TXQ, fp_pos_add(p, pos, 1), ida, 0, NULL));
	return expect_pused(d, FP_TXQ, fp_pos_add(p, pos, 2), idc, 0, NULL);
}
