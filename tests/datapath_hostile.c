/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/* test_vpci_datapath: the vanishing-memory and indirect-descriptor phases. */

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <rte_pmd_vhost_pci.h>
#include <rte_vhost_pci.h>

#include "datapath.h"

/* ---- phase 5: the front-end takes its memory away ---- */

static int
t_connect_vanish(struct dp *d)
{
	return peer_connect(d, 0);
}

/*
 * A front-end that shrinks (or punches) the file behind its region while
 * attached: our next access to it must not kill the process. The library
 * puts zero pages in place, the zeroed avail index fails the ring check,
 * the queue stops with an error counted.
 */
static int
t_vanish(struct dp *d)
{
	struct rte_eth_stats before, after;
	uint64_t faults = rte_vhost_pci_fault_count();
	struct rte_mbuf *pkts[BURST];
	uint16_t n = 0;
	int i;

	make_frame(frame_a, 100, 50);
	fp_post_tx(&d->peer, frame_a, 100);
	TRYR(expect_rx(d, frame_a, 100, NULL));
	TRYR(get_stats(d, &before));
	/* The front-end drops every page; its own view goes too. */
	munmap(d->peer.mem, d->peer.mem_size);
	d->peer.mem = NULL;
	EXPECTR(ftruncate(d->peer.memfd, 0) == 0, "ftruncate: %s",
		strerror(errno));
	for (i = 0; i < 4; i++)
		n += rte_eth_rx_burst(d->port, 0, pkts, BURST);
	free_all(pkts, n);
	TRYR(get_stats(d, &after));
	EXPECTR(n == 0, "%u packets out of vanished memory", n);
	EXPECTR(rte_vhost_pci_fault_count() > faults,
		"no fault recorded (count %" PRIu64 ")",
		rte_vhost_pci_fault_count());
	EXPECTR(after.ierrors == before.ierrors + 1,
		"ierrors %" PRIu64 " -> %" PRIu64 ", want +1 (queue stopped)",
		before.ierrors, after.ierrors);
	return 0;
}

static int
t_vanish_link_down(struct dp *d)
{
	struct rte_pmd_vhost_pci_peer peer;
	get_peer_fn fn = get_peer_sym();

	fp_disconnect(&d->peer);
	TRYR(wait_link(d, RTE_ETH_LINK_DOWN));
	EXPECTR(fn != NULL && fn(d->port, &peer) == -ENOTCONN,
		"get_peer on a port without a front-end is not -ENOTCONN");
	return 0;
}

const struct dp_check phase_vanish[] = {
	{ "vanish: a front-end connects", t_connect_vanish },
	{ "vanish: the front-end truncates its memory while attached: no SIGBUS, zero pages counted, the queue stops with ierrors +1",
		t_vanish },
	{ "vanish: the port survives, goes link down when that front-end leaves, and then has no peer (-ENOTCONN)",
		t_vanish_link_down },
};

const size_t phase_vanish_len = RTE_DIM(phase_vanish);

/* ---- phase 7: indirect descriptors ---- */

/*
 * An indirect chain on the peer's TX ring: a table (in one slot's buffer)
 * of header + frame (in another's). @mut may spoil the table or the head
 * descriptor's flags/len. Returns the head, not yet published.
 */
static uint16_t
ind_chain(struct dp *d, const uint8_t *f, uint32_t len, uint16_t head_flags,
		uint32_t table_len, void (*mut)(struct vring_desc *t))
{
	struct fake_peer *p = &d->peer;
	uint16_t h = fp_next_slot(p, FP_TXQ);
	/* Buffers half a ring away: the next posts do not reach them. */
	uint16_t t = (h + RING_SIZE / 2) % RING_SIZE;
	uint16_t data = (t + 1) % RING_SIZE;
	struct vring_desc e[2];

	memset(fp_buf(p, FP_TXQ, data), 0, FP_NET_HDR_LEN);
	memcpy(fp_buf(p, FP_TXQ, data) + FP_NET_HDR_LEN, f, len);
	e[0] = (struct vring_desc){ fp_buf_gpa(p, FP_TXQ, data),
		FP_NET_HDR_LEN, VRING_DESC_F_NEXT, 1 };
	e[1] = (struct vring_desc){ fp_buf_gpa(p, FP_TXQ, data) +
		FP_NET_HDR_LEN, len, 0, 0 };
	if (mut != NULL)
		mut(e);
	memcpy(fp_buf(p, FP_TXQ, t), e, sizeof(e));
	fp_set_desc(p, FP_TXQ, h, fp_buf_gpa(p, FP_TXQ, t), table_len,
		VRING_DESC_F_INDIRECT | head_flags, 0);
	return h;
}

static int
t_ind_not_negotiated(struct dp *d)
{
	TRYR(peer_connect(d, 0));
	make_frame(frame_a, 60, 70);
	return expect_rx_refused(d, ind_chain(d, frame_a, 60, 0,
		2 * sizeof(struct vring_desc), NULL));
}

static int
t_ind_connect(struct dp *d)
{
	TRYR(peer_connect(d, FP_F_INDIRECT));
	EXPECTR(d->peer.offered & FP_F_INDIRECT, "INDIRECT_DESC not offered");
	return 0;
}

static int
t_ind_good(struct dp *d)
{
	uint16_t h;

	make_frame(frame_a, 60, 71);
	h = ind_chain(d, frame_a, 60, 0, 2 * sizeof(struct vring_desc), NULL);
	fp_publish(&d->peer, FP_TXQ, h);
	TRYR(expect_rx(d, frame_a, 60, NULL));
	return expect_used(d, FP_TXQ, h, 0);
}

static void mut_nested(struct vring_desc *t) { t[1].flags |= VRING_DESC_F_INDIRECT; }
static void mut_unmapped(struct vring_desc *t) { t[1].addr = 0x1000; }
static void mut_loop(struct vring_desc *t) { t[1].flags |= VRING_DESC_F_NEXT; t[1].next = 0; }
static void mut_next_out(struct vring_desc *t) { t[0].next = 7; }
static void mut_writable(struct vring_desc *t) { t[1].flags |= VRING_DESC_F_WRITE; }

static int
ind_refused(struct dp *d, uint16_t head_flags, uint32_t table_len,
		void (*mut)(struct vring_desc *t))
{
	make_frame(frame_a, 60, 72);
	return expect_rx_refused(d, ind_chain(d, frame_a, 60, head_flags,
		table_len, mut));
}

static int
t_ind_with_next(struct dp *d)
{
	return ind_refused(d, VRING_DESC_F_NEXT, 2 * sizeof(struct vring_desc), NULL);
}

static int
t_ind_bad_len(struct dp *d)
{
	TRYR(ind_refused(d, 0, 24, NULL));
	return ind_refused(d, 0, 0, NULL);
}

static int
t_ind_nested(struct dp *d)
{
	return ind_refused(d, 0, 2 * sizeof(struct vring_desc), mut_nested);
}

static int
t_ind_bad_entries(struct dp *d)
{
	TRYR(ind_refused(d, 0, 2 * sizeof(struct vring_desc), mut_unmapped));
	TRYR(ind_refused(d, 0, 2 * sizeof(struct vring_desc), mut_loop));
	TRYR(ind_refused(d, 0, 2 * sizeof(struct vring_desc), mut_next_out));
	return ind_refused(d, 0, 2 * sizeof(struct vring_desc), mut_writable);
}

const struct dp_check phase_indirect[] = {
	{ "class 3 (indirect): a table without VIRTIO_RING_F_INDIRECT_DESC negotiated is refused, counted, returned",
		t_ind_not_negotiated },
	{ "indirect: the feature is offered and acked", t_ind_connect },
	{ "indirect: header + frame through a table arrive intact; the head is returned",
		t_ind_good },
	{ "class 3 (indirect): INDIRECT together with NEXT is refused", t_ind_with_next },
	{ "class 3 (indirect): a table length of 24 (not a multiple of 16) or 0 is refused",
		t_ind_bad_len },
	{ "class 3 (indirect): a table inside a table is refused", t_ind_nested },
	{ "class 3 (indirect): an entry outside the memory, a loop, a next past the table, a writable entry: each refused",
		t_ind_bad_entries },
};

const size_t phase_indirect_len = RTE_DIM(phase_indirect);
