/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * Zero-copy RX: an mbuf gets the peer's buffer as an external buffer.
 *
 * Each descriptor head (packed ring: buffer id) of the peer's TX ring has a
 * slot with its shared info, so attaching costs no allocation. The head
 * stays out of the used ring until the mbuf is freed. The RX lcore keeps
 * the lent slots in lending order (out[]); the free callback (any lcore)
 * only marks its slot done, with one release store; the next RX burst
 * walks out[] and returns every finished slot at once. The number of
 * mbufs out is the length of out[]: a plain counter of the RX lcore.
 * Completions are out of order, so VIRTIO_F_IN_ORDER is not offered when
 * zero-copy is on (RTE_VHOST_PCI_F_NO_IN_ORDER; rte_eth_vhost_pci.c says
 * why: in lending order, one held mbuf would pin every later buffer).
 * The retire below holds vpci_zc_lock across a membarrier(2) system call:
 * a claim on another lcore may spin that long, on the rare path only.
 *
 * Slots carry the generation of the attach that lent them: completions of
 * an earlier attach (a reconnected peer, a reset ring) are recognised and
 * never reach the new ring. A ring that resumes (disabled and enabled
 * again, or a memory table update; RTE_VHOST_PCI_VRING_F_RESUME) keeps its
 * generation: its lent heads go back to the peer as they are freed.
 *
 * Epochs and the BAR. Every attach has an epoch (struct vpci_zc_ep): a
 * process-wide unique id and, in vdev mode, one library reference on the
 * BAR window, which keeps the peer's memory mapped past a disconnect or a
 * memory table update. Mbufs take no reference of their own. While the
 * epoch is live (zc->live == its id) the RX lcore owns all of its
 * bookkeeping. When it ends (vpci_zc_retire(): detach, the next attach,
 * port close), the mbufs still out hold the window: the epoch counts them
 * once, and each of them drops one count as it is freed; the last count
 * releases the window. Only this rare path takes a lock or an atomic
 * read-modify-write.
 *
 * Slot state (one 32-bit word: epoch id << 2 | phase):
 *   FREE   -> LENT    RX lcore (vpci_zc_lend)
 *   LENT   -> DONE    free callback, any lcore: a release store
 *   DONE   -> FREE    RX lcore (vpci_zc_drain), epoch live
 *   DONE   -> ORPHAN  epoch retired: the retire scan or the callback's
 *                     claim, under vpci_zc_lock, exactly one of them
 *   ORPHAN -> FREE    RX lcore (vpci_zc_drain)
 *
 * Ordering argument (why each retired slot is counted down exactly once).
 * The callback stores DONE, then reads vpci_zc_retires; the retire bumps
 * vpci_zc_retires, then reads the slots. Between the two, each side has a
 * full barrier: the retire's is heavy (membarrier(2), a barrier on every
 * running thread of the process), which lets the callback's be a compiler
 * barrier only (where membarrier is missing, both are full fences). So
 * for a slot that the retire read as LENT, its callback's DONE store came
 * after that read, and the callback's later load sees the bumped counter:
 * it claims the slot (DONE -> ORPHAN, count - 1). A slot the retire read
 * as DONE is claimed by the retire; the callback's claim, if it makes
 * one, fails its compare-and-swap. Claims run under vpci_zc_lock, which
 * the retire holds while it counts, so a claim never sees a half-counted
 * epoch. A callback that sees no bump returns without touching the slot
 * or the queue again: after its DONE store both may be reused or freed.
 * The claim therefore finds the slot's queue through the registry of live
 * queues (vpci_zc_list), under the lock, and only by address; an epoch id
 * is never reused (30 bits), so a slot array freed and allocated again at
 * the same address holds no slot the claim can match.
 */

#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/membarrier.h>

#include <rte_atomic.h>
#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_spinlock.h>

#include "vpci.h"

/* Pieces one lent packet may have; a chain of more is copied. */
#define VPCI_ZC_MAX_SEGS	16

#define VPCI_ZC_FREE		0u
#define VPCI_ZC_LENT		1u
#define VPCI_ZC_DONE		2u
#define VPCI_ZC_ORPHAN		3u
#define VPCI_ZC_PHASE		3u
#define VPCI_ZC_EP_SHIFT	2
#define VPCI_ZC_EP_MASK		(UINT32_MAX >> VPCI_ZC_EP_SHIFT)

/* One attach: its id and its BAR reference (vdev mode; NULL with a PCI
 * BAR, which stays mapped for the port's life).
 */
struct vpci_zc_ep {
	void *lib;		/* rte_vhost_pci_dev_bar_hold() */
	uint32_t id;		/* never 0 */
	uint32_t refs;		/* retired: mbufs still out; vpci_zc_lock */
};

struct vpci_zc_slot {
	struct rte_mbuf_ext_shared_info shinfo;
	struct vpci_zc_ep *ep;	/* the epoch that lent it */
	uint32_t state;		/* ep id << 2 | VPCI_ZC_* */
	uint32_t retires;	/* vpci_zc_retires when lent */
	uint16_t head;		/* split: head index; packed: buffer id */
	uint16_t ndesc;		/* packed: ring descriptors it took */
	uint16_t gen;		/* attach generation that lent it */
};

struct vpci_zc {
	struct vpci_zc_slot *slot;	/* per head; set under vpci_zc_lock */
	uint16_t *out;		/* lent slots, oldest first; RX lcore */
	uint32_t nout;		/* mbufs out: RX lcore writes, others peek */
	uint32_t size;		/* slots: the vring size */
	uint32_t cap;		/* past this many out, RX copies */
	uint32_t live;		/* zc->ep's id, 0 if none; vpci_zc_lock */
	struct vpci_zc_ep *ep;	/* this attach's, or NULL */
	struct vpci_zc *next;	/* vpci_zc_list */
	uint16_t gen;		/* current attach; never 0 */
	bool iova_va;		/* EAL runs IOVA as VA: a lent IOVA is its VA */
};

/* The rare path: registry of queues with slots, epoch ids, retires. */
static rte_spinlock_t vpci_zc_lock = RTE_SPINLOCK_INITIALIZER;
static struct vpci_zc *vpci_zc_list;
static uint32_t vpci_zc_next_ep;
/* Bumped by every retire; read by every free callback. */
static uint32_t vpci_zc_retires;
/* 1: membarrier(2) registered; 0: not available, full fences. */
static int vpci_zc_mb = -1;

static void
vpci_zc_mb_init(void)
{
	if (vpci_zc_mb >= 0)
		return;
	vpci_zc_mb = syscall(__NR_membarrier,
		MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
	if (!vpci_zc_mb)
		VPCI_LOG(INFO, "membarrier unavailable: zero-copy frees take a full fence");
}

/* The callback's side of the barrier pair. */
static inline void
vpci_zc_light_fence(void)
{
	if (likely(vpci_zc_mb == 1))
		rte_compiler_barrier();
	else
		rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* The retire's side: a full barrier on every running thread. */
static void
vpci_zc_heavy_fence(void)
{
	if (vpci_zc_mb != 1 || syscall(__NR_membarrier,
			MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
		rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* vpci_zc_lock held. */
static void
vpci_zc_ep_put(struct vpci_zc_ep *ep)
{
	if (--ep->refs != 0)
		return;
	if (ep->lib != NULL)
		rte_vhost_pci_bar_release(ep->lib);
	rte_free(ep);
}

/* The rare path of a free: a retire ran since the slot was lent. @addr
 * may no longer be a slot (its queue closed): only the registry says.
 */
static void
vpci_zc_claim(uintptr_t addr, uint32_t done)
{
	uint32_t expect = done, id = done >> VPCI_ZC_EP_SHIFT;
	struct vpci_zc_slot *s;
	struct vpci_zc_ep *ep;
	struct vpci_zc *zc;

	rte_spinlock_lock(&vpci_zc_lock);
	for (zc = vpci_zc_list; zc != NULL; zc = zc->next)
		if (addr >= (uintptr_t)zc->slot &&
				addr < (uintptr_t)(zc->slot + zc->size))
			break;
	if (zc != NULL && id != zc->live) {
		s = (struct vpci_zc_slot *)addr;
		/* Valid only if the exchange succeeds: then nobody re-lent
		 * the slot since this epoch lent it.
		 */
		ep = __atomic_load_n(&s->ep, __ATOMIC_RELAXED);
		/* Release pairs with the acquire in vpci_zc_drain(). */
		if (__atomic_compare_exchange_n(&s->state, &expect,
				(id << VPCI_ZC_EP_SHIFT) | VPCI_ZC_ORPHAN,
				false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			vpci_zc_ep_put(ep);
	}
	rte_spinlock_unlock(&vpci_zc_lock);
}

static void
vpci_zc_free_cb(void *addr __rte_unused, void *opaque)
{
	struct vpci_zc_slot *s = opaque;
	/* Ours until the store below: the lend's writes came with the mbuf. */
	uint32_t st = __atomic_load_n(&s->state, __ATOMIC_RELAXED);
	uint32_t seen = s->retires;

	st = (st & ~VPCI_ZC_PHASE) | VPCI_ZC_DONE;
	/* Pairs with the acquire in vpci_zc_drain() (and the retire's
	 * scan): every access to the buffer happens before its return.
	 * From here on the slot may be reused or freed: locals only.
	 */
	__atomic_store_n(&s->state, st, __ATOMIC_RELEASE);
	vpci_zc_light_fence();
	/* Pairs with the store in vpci_zc_retire(), across the fences. */
	if (unlikely(__atomic_load_n(&vpci_zc_retires, __ATOMIC_RELAXED) !=
			seen))
		vpci_zc_claim((uintptr_t)s, st);
}

/*
 * The epoch of @zc ends: count its mbufs still out into the epoch, which
 * they release as they are freed. Control thread, queue locked (the RX
 * lcore is out of the burst).
 */
static void
vpci_zc_retire(struct vpci_zc *zc)
{
	struct vpci_zc_ep *ep = zc->ep;
	struct vpci_zc_slot *s;
	uint32_t i, st;

	if (ep == NULL)
		return;
	rte_spinlock_lock(&vpci_zc_lock);
	zc->live = 0;
	zc->ep = NULL;
	/* Pairs with the load in vpci_zc_free_cb(), across the fences. */
	__atomic_store_n(&vpci_zc_retires, vpci_zc_retires + 1,
		__ATOMIC_RELAXED);
	vpci_zc_heavy_fence();
	ep->refs = 1;	/* the scan's own, dropped below */
	for (i = 0; i < zc->nout; i++) {
		s = &zc->slot[zc->out[i]];
		/* Pairs with the release store in vpci_zc_free_cb(). */
		st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		if (st >> VPCI_ZC_EP_SHIFT != ep->id)
			continue;
		if ((st & VPCI_ZC_PHASE) == VPCI_ZC_LENT)
			ep->refs++;
		else if ((st & VPCI_ZC_PHASE) == VPCI_ZC_DONE)
			/* A claim waits for the lock, then fails. Release
			 * pairs with the acquire in vpci_zc_drain().
			 */
			__atomic_store_n(&s->state, st | VPCI_ZC_ORPHAN,
				__ATOMIC_RELEASE);
	}
	vpci_zc_ep_put(ep);
	rte_spinlock_unlock(&vpci_zc_lock);
}

/* Free the slots of retired epochs that are back (ORPHAN), without
 * returning them. Queue locked.
 */
static void
vpci_zc_reap(struct vpci_zc *zc)
{
	uint32_t i, k = 0, st;
	uint16_t idx;

	for (i = 0; i < zc->nout; i++) {
		idx = zc->out[i];
		/* Pairs with the release stores of the claim and the retire. */
		st = __atomic_load_n(&zc->slot[idx].state, __ATOMIC_ACQUIRE);
		if ((st & VPCI_ZC_PHASE) == VPCI_ZC_ORPHAN &&
				st >> VPCI_ZC_EP_SHIFT != zc->live)
			__atomic_store_n(&zc->slot[idx].state, VPCI_ZC_FREE,
				__ATOMIC_RELAXED);
		else
			zc->out[k++] = idx;
	}
	__atomic_store_n(&zc->nout, k, __ATOMIC_RELAXED);
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
	uint32_t size = q->vr.size;
	struct vpci_zc_slot *slot;
	struct vpci_zc_ep *ep;
	uint16_t *out;

	vpci_zc_mb_init();
	if (zc == NULL) {
		zc = rte_zmalloc("vpci_zc", sizeof(*zc), 0);
		if (zc == NULL)
			return -1;
		rte_spinlock_lock(&vpci_zc_lock);
		zc->next = vpci_zc_list;
		vpci_zc_list = zc;
		rte_spinlock_unlock(&vpci_zc_lock);
		q->zc = zc;
	}
	vpci_zc_retire(zc);
	/* A new generation returns nothing of the old: free what is back. */
	if (!resume)
		vpci_zc_reap(zc);
	if (zc->size != size) {
		/* Slots are only ever freed with no mbuf pointing at them. */
		if (zc->nout != 0)
			return -1;
		slot = rte_zmalloc("vpci_zc_slots", size * sizeof(*slot),
			RTE_CACHE_LINE_SIZE);
		out = rte_malloc("vpci_zc_out", size * sizeof(*out), 0);
		if (slot == NULL || out == NULL) {
			rte_free(slot);
			rte_free(out);
			return -1;
		}
		/* A late callback's claim looks slots up under the lock. */
		rte_spinlock_lock(&vpci_zc_lock);
		rte_free(zc->slot);
		rte_free(zc->out);
		zc->slot = slot;
		zc->out = out;
		zc->size = size;
		rte_spinlock_unlock(&vpci_zc_lock);
	}
	if (!resume || zc->gen == 0)
		zc->gen = zc->gen == UINT16_MAX ? 1 : zc->gen + 1;
	zc->cap = size / 2;	/* the peer's TX ring never starves */
	zc->iova_va = rte_eal_iova_mode() == RTE_IOVA_VA;
	ep = rte_zmalloc("vpci_zc_ep", sizeof(*ep), 0);
	if (ep == NULL)
		return -1;
	if (q->internal->vid >= 0) {
		ep->lib = rte_vhost_pci_dev_bar_hold(q->internal->vid);
		if (ep->lib == NULL) {
			rte_free(ep);
			return -1;
		}
	}
	rte_spinlock_lock(&vpci_zc_lock);
	vpci_zc_next_ep = (vpci_zc_next_ep + 1) & VPCI_ZC_EP_MASK;
	if (vpci_zc_next_ep == 0)
		vpci_zc_next_ep = 1;
	ep->id = vpci_zc_next_ep;
	zc->ep = ep;
	zc->live = ep->id;
	rte_spinlock_unlock(&vpci_zc_lock);
	return 0;
}

/* The ring stopped: mbufs still out keep the BAR until they are freed. */
void
vpci_zc_detach(struct vpci_queue *q)
{
	if (q->zc != NULL)
		vpci_zc_retire(q->zc);
}

/* Port close. Slots an application mbuf still points at are leaked, not
 * freed under it; their frees still release the BAR.
 */
void
vpci_zc_free(struct vpci_queue *q)
{
	struct vpci_zc *zc = q->zc, **pp;
	uint32_t i, out = 0, st;

	if (zc == NULL)
		return;
	vpci_zc_retire(zc);
	q->zc = NULL;
	vpci_zc_reap(zc);
	rte_spinlock_lock(&vpci_zc_lock);
	/* A claim (under the lock) only turns DONE into ORPHAN. */
	for (i = 0; i < zc->nout; i++) {
		st = __atomic_load_n(&zc->slot[zc->out[i]].state,
			__ATOMIC_ACQUIRE);
		out += (st & VPCI_ZC_PHASE) != VPCI_ZC_ORPHAN;
	}
	if (out != 0) {
		rte_spinlock_unlock(&vpci_zc_lock);
		VPCI_LOG(WARNING, "port %u rxq %u: %u zero-copy mbufs still out; their slots stay allocated",
			q->internal->port_id, q->qid, out);
		return;
	}
	for (pp = &vpci_zc_list; *pp != zc; pp = &(*pp)->next)
		;
	*pp = zc->next;
	rte_spinlock_unlock(&vpci_zc_lock);
	rte_free(zc->slot);
	rte_free(zc->out);
	rte_free(zc);
}

uint32_t
vpci_zc_inflight(const struct vpci_queue *q)
{
	/* A peek at the RX lcore's counter. */
	return q->zc != NULL ?
		__atomic_load_n(&q->zc->nout, __ATOMIC_RELAXED) : 0;
}

/*
 * Freed mbufs of this attach become used entries (@used onwards in the
 * shadow; at most @room), oldest lent first. Those of earlier attaches
 * only free their slot. Returns the entries written. RX lcore.
 */
uint16_t
vpci_zc_drain(struct vpci_queue *q, uint16_t used, uint16_t room)
{
	struct vpci_zc *zc = q->zc;
	struct vpci_shadow *e = &q->vr.shadow[used];
	uint32_t i, k = 0, nout = zc->nout, st, want;
	struct vpci_zc_slot *s;
	uint16_t n = 0, idx;

	for (i = 0; i < nout; i++) {
		idx = zc->out[i];
		s = &zc->slot[idx];
		/* Pairs with the release stores of the callback, the claim
		 * and the retire: the application is done with the buffer.
		 */
		st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		want = st >> VPCI_ZC_EP_SHIFT == zc->live ? VPCI_ZC_DONE :
			VPCI_ZC_ORPHAN;
		if ((st & VPCI_ZC_PHASE) != want ||
				(s->gen == zc->gen && n == room)) {
			zc->out[k++] = idx;
			continue;
		}
		if (s->gen == zc->gen) {
			e[n].id = s->head;
			e[n].ndesc = s->ndesc;
			e[n].len = 0;
			n++;
		}
		__atomic_store_n(&s->state, VPCI_ZC_FREE, __ATOMIC_RELAXED);
	}
	if (k != nout)
		__atomic_store_n(&zc->nout, k, __ATOMIC_RELAXED);
	return n;
}

/* Whether @head is lent in this attach: the peer may not post it again. */
bool
vpci_zc_busy(const struct vpci_queue *q, uint16_t head)
{
	const struct vpci_zc_slot *s = &q->zc->slot[head];

	return s->gen == q->zc->gen &&
		__atomic_load_n(&s->state, __ATOMIC_RELAXED) != VPCI_ZC_FREE;
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

	if (n == 0 || n > VPCI_ZC_MAX_SEGS || zc->nout >= zc->cap ||
			__atomic_load_n(&s->state, __ATOMIC_RELAXED) !=
			VPCI_ZC_FREE)
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
	/* A claim may read it while the slot is out of a retired epoch;
	 * this slot is FREE, so no claim can match it.
	 */
	__atomic_store_n(&s->ep, zc->ep, __ATOMIC_RELAXED);
	s->retires = __atomic_load_n(&vpci_zc_retires, __ATOMIC_RELAXED);
	s->head = head;
	s->ndesc = ndesc;
	s->gen = zc->gen;
	s->shinfo.free_cb = vpci_zc_free_cb;
	s->shinfo.fcb_opaque = s;
	rte_mbuf_ext_refcnt_set(&s->shinfo, n);
	/* The mbuf's hand-over to the application publishes it. */
	__atomic_store_n(&s->state,
		(zc->live << VPCI_ZC_EP_SHIFT) | VPCI_ZC_LENT,
		__ATOMIC_RELAXED);
	zc->out[zc->nout] = head;
	__atomic_store_n(&zc->nout, zc->nout + 1, __ATOMIC_RELAXED);
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
