/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * Zero-copy RX: an mbuf gets the peer's buffer as an external buffer.
 *
 * Each descriptor head (packed ring: buffer id) of the peer's TX ring has a
 * slot with its shared info, so attaching costs no allocation. The head
 * stays out of the used ring until the mbuf is freed; the free callback
 * (any lcore) posts it to the queue's completion ring and drops the
 * mbuf's hold on the BAR, which keeps the peer's memory mapped past a
 * disconnect. The RX burst drains completions into used entries.
 * Completions are out of order, so VIRTIO_F_IN_ORDER is not offered when
 * zero-copy is on.
 *
 * Slots carry the generation of the attach that lent them: completions of
 * an earlier attach (a reconnected peer, a reset ring) are recognised and
 * never reach the new ring. A ring that resumes (disabled and enabled
 * again, or a memory table update; RTE_VHOST_PCI_VRING_F_RESUME) keeps its
 * generation: its lent heads go back to the peer as they are freed, and
 * the old BAR window stays mapped until the last of them is.
 */

#include <errno.h>
#include <stdio.h>

#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "vpci.h"

/* Pieces one lent packet may have; a chain of more is copied. */
#define VPCI_ZC_MAX_SEGS	16

/*
 * vdev mode: one library reference on the BAR window per attach, shared by
 * the attach and every mbuf it lends, so the burst never calls into the
 * library. The last one to let go releases the window. A PCI BAR stays
 * mapped for the port's life and needs none.
 */
struct vpci_hold {
	void *lib;		/* rte_vhost_pci_dev_bar_hold() */
	uint32_t refcnt;	/* the attach's, and one per lent mbuf */
};

static void
vpci_hold_put(struct vpci_hold *h)
{
	if (h == NULL)
		return;
	/* Pairs with itself: every access through a reference happens
	 * before that reference is dropped.
	 */
	if (__atomic_sub_fetch(&h->refcnt, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	rte_vhost_pci_bar_release(h->lib);
	rte_free(h);
}

struct vpci_zc_slot {
	struct rte_mbuf_ext_shared_info shinfo;
	struct vpci_zc *zc;
	struct vpci_hold *hold;	/* the mbuf's reference on the BAR */
	uint16_t head;		/* split: head index; packed: buffer id */
	uint16_t ndesc;		/* packed: ring descriptors it took */
	uint16_t gen;		/* attach generation that lent it, 0: free */
};

struct vpci_zc {
	struct rte_ring *done;	/* (gen << 16 | head), multi-producer */
	struct vpci_zc_slot *slot;
	struct vpci_hold *hold;	/* this attach's, or NULL */
	uint32_t size;		/* slots: the vring size */
	uint16_t gen;		/* current attach; never 0 */
	uint32_t inflight;	/* mbufs out, atomic */
	uint32_t cap;		/* past this many, RX copies */
	bool iova_va;		/* EAL runs IOVA as VA: a lent IOVA is its VA */
};

static void
vpci_zc_free_cb(void *addr __rte_unused, void *opaque)
{
	struct vpci_zc_slot *s = opaque;
	struct vpci_zc *zc = s->zc;
	struct vpci_hold *hold = s->hold;
	uintptr_t v = ((uintptr_t)s->gen << 16) | s->head;

	/* Cannot fail: the ring holds twice the slots, and each slot is
	 * out at most once per attach.
	 */
	rte_ring_mp_enqueue(zc->done, (void *)v);
	/* Pairs with the acquire in vpci_zc_idle(). */
	__atomic_sub_fetch(&zc->inflight, 1, __ATOMIC_RELEASE);
	vpci_hold_put(hold);
}

static bool
vpci_zc_idle(const struct vpci_zc *zc)
{
	return __atomic_load_n(&zc->inflight, __ATOMIC_ACQUIRE) == 0;
}

/* (Re)arm zero-copy for an attach of @q's ring. With @resume the ring
 * continues the previous attach (a ring disable, a memory table update):
 * the heads lent then are still ours to return, so the generation stays.
 * Control thread, queue locked. Returns 0, or -1 to run this attach in
 * copy mode.
 */
int
vpci_zc_attach(struct vpci_queue *q, bool resume)
{
	struct vpci_zc *zc = q->zc;
	char name[RTE_RING_NAMESIZE];
	uint32_t size = q->vr.size;

	if (zc == NULL) {
		zc = rte_zmalloc("vpci_zc", sizeof(*zc), 0);
		if (zc == NULL)
			return -1;
		snprintf(name, sizeof(name), "vpci_zc_%u_%u",
			q->internal->port_id, q->qid);
		zc->done = rte_ring_create(name, 2 * RTE_VHOST_PCI_MAX_RING_SIZE,
			SOCKET_ID_ANY, RING_F_SC_DEQ);
		if (zc->done == NULL) {
			rte_free(zc);
			return -1;
		}
		q->zc = zc;
	}
	if (zc->size != size) {
		/* Slots are only ever freed with no mbuf pointing at them. */
		if (!vpci_zc_idle(zc))
			return -1;
		rte_free(zc->slot);
		zc->slot = rte_zmalloc("vpci_zc_slots", size * sizeof(*zc->slot),
			RTE_CACHE_LINE_SIZE);
		zc->size = zc->slot != NULL ? size : 0;
		if (zc->slot == NULL)
			return -1;
	}
	if (!resume || zc->gen == 0)
		zc->gen = zc->gen == UINT16_MAX ? 1 : zc->gen + 1;
	zc->cap = size / 2;	/* the peer's TX ring never starves */
	zc->iova_va = rte_eal_iova_mode() == RTE_IOVA_VA;
	vpci_hold_put(zc->hold);
	zc->hold = NULL;
	if (q->internal->vid >= 0) {
		zc->hold = rte_zmalloc("vpci_hold", sizeof(*zc->hold), 0);
		if (zc->hold == NULL)
			return -1;
		zc->hold->lib = rte_vhost_pci_dev_bar_hold(q->internal->vid);
		zc->hold->refcnt = 1;
		if (zc->hold->lib == NULL) {
			rte_free(zc->hold);
			zc->hold = NULL;
			return -1;
		}
	}
	return 0;
}

/* The ring stopped: the attach lets go of the BAR; lent mbufs keep it. */
void
vpci_zc_detach(struct vpci_queue *q)
{
	if (q->zc == NULL)
		return;
	vpci_hold_put(q->zc->hold);
	q->zc->hold = NULL;
}

/* Port close. Slots an application mbuf still points at are leaked, not
 * freed under it.
 */
void
vpci_zc_free(struct vpci_queue *q)
{
	struct vpci_zc *zc = q->zc;

	if (zc == NULL)
		return;
	vpci_zc_detach(q);
	if (!vpci_zc_idle(zc)) {
		VPCI_LOG(WARNING, "port %u rxq %u: %u zero-copy mbufs still out; their slots stay allocated",
			q->internal->port_id, q->qid,
			__atomic_load_n(&zc->inflight, __ATOMIC_RELAXED));
		q->zc = NULL;
		return;
	}
	rte_ring_free(zc->done);
	rte_free(zc->slot);
	rte_free(zc);
	q->zc = NULL;
}

uint32_t
vpci_zc_inflight(const struct vpci_queue *q)
{
	return q->zc != NULL ?
		__atomic_load_n(&q->zc->inflight, __ATOMIC_RELAXED) : 0;
}

/*
 * Freed mbufs of this attach become used entries (@used onwards in the
 * shadow; at most @room). Those of earlier attaches only free their slot.
 * Returns the entries written.
 */
uint16_t
vpci_zc_drain(struct vpci_queue *q, uint16_t used, uint16_t room)
{
	struct vpci_zc *zc = q->zc;
	void *v[64];
	uint16_t n = 0;
	unsigned int got, i;

	while (n < room) {
		got = rte_ring_sc_dequeue_burst(zc->done, v,
			RTE_MIN(RTE_DIM(v), (unsigned int)(room - n)), NULL);
		if (got == 0)
			break;
		for (i = 0; i < got; i++) {
			uintptr_t e = (uintptr_t)v[i];
			uint16_t head = e & 0xffff, gen = e >> 16;
			struct vpci_zc_slot *s;

			if (head >= zc->size)
				continue;	/* an older, bigger ring */
			s = &zc->slot[head];
			if (s->gen == gen)
				s->gen = 0;
			if (gen != zc->gen)
				continue;
			q->vr.shadow[used + n].id = head;
			q->vr.shadow[used + n].ndesc = s->ndesc;
			q->vr.shadow[used + n].len = 0;
			n++;
		}
	}
	return n;
}

/* Whether @head is lent in this attach: the peer may not post it again. */
bool
vpci_zc_busy(const struct vpci_queue *q, uint16_t head)
{
	return q->zc->slot[head].gen == q->zc->gen;
}

/*
 * Lend the payload of chain @head (split head index or packed buffer id,
 * which took @ndesc descriptors), in @n pieces @p, to @m: one external
 * buffer per piece, the first in @m and the others in mbufs chained to it.
 * All share the slot's shared info, whose count is the number of pieces:
 * the chain is pinned until every segment is freed, whatever the order or
 * the lcore. Returns true if lent, false to copy instead (small, over the
 * cap, no mbufs for the segments, or the slot still out from an earlier
 * attach). The caller has refused a head still out in this attach
 * (vpci_zc_busy()).
 */
bool
vpci_zc_lend(struct vpci_queue *q, uint16_t head, uint16_t ndesc,
		const struct vpci_iov *p, uint16_t n, struct rte_mbuf *m)
{
	struct rte_mbuf *seg[VPCI_ZC_MAX_SEGS], *prev;
	struct vpci_zc *zc = q->zc;
	struct vpci_zc_slot *s = &zc->slot[head];
	uint32_t len = 0;
	rte_iova_t iova;
	uint16_t i;

	if (n == 0 || n > VPCI_ZC_MAX_SEGS || s->gen != 0 ||
			__atomic_load_n(&zc->inflight, __ATOMIC_RELAXED) >= zc->cap)
		return false;
	for (i = 0; i < n; i++) {
		if (p[i].len > UINT16_MAX)
			return false;
		len += p[i].len;
	}
	if (len < q->internal->zc_min_len)
		return false;
	seg[0] = m;
	if (n > 1 && rte_pktmbuf_alloc_bulk(q->mp, &seg[1], n - 1) != 0)
		return false;
	s->hold = zc->hold;
	if (s->hold != NULL)
		__atomic_add_fetch(&s->hold->refcnt, 1, __ATOMIC_RELAXED);
	s->zc = zc;
	s->head = head;
	s->ndesc = ndesc;
	s->gen = zc->gen;
	s->shinfo.free_cb = vpci_zc_free_cb;
	s->shinfo.fcb_opaque = s;
	rte_mbuf_ext_refcnt_set(&s->shinfo, n);
	__atomic_add_fetch(&zc->inflight, 1, __ATOMIC_RELAXED);
	prev = NULL;
	for (i = 0; i < n; i++) {
		/* The BAR is not DPDK memory: an IOVA only where IOVA is VA. */
		iova = zc->iova_va ? (rte_iova_t)(uintptr_t)p[i].base :
			RTE_BAD_IOVA;
		rte_pktmbuf_attach_extbuf(seg[i], p[i].base, iova, p[i].len,
			&s->shinfo);
		seg[i]->data_len = p[i].len;
		if (prev != NULL)
			prev->next = seg[i];
		prev = seg[i];
	}
	m->nb_segs = n;
	m->pkt_len = len;
	return true;
}
