/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * Ring walking shared by both directions of the datapath (vpci_rx.c,
 * vpci_tx.c), over the peer's vrings, split or packed, read and written
 * through the BAR. Internal to the PMD, not installed.
 *
 * Every descriptor chain is first collected into a private vector: each
 * descriptor is read once into a local copy, its index, flags, loop bound
 * and address range checked, and its address translated. Only then is data
 * copied, from the checked vector, never from the shared ring again.
 *
 * A cursor walks the available chains of either ring format; used entries
 * are staged in a shadow and written in one pass per burst.
 *
 * What the burst functions run per chain or per burst is inline here, so
 * that each ring shape's burst is compiled with its shape known; the
 * longer chain walks and the rare paths are out of line in vpci_ring.c,
 * as the compiler left them when all of this was one file.
 */

#ifndef VPCI_RING_H
#define VPCI_RING_H

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_prefetch.h>

#include "vpci.h"

/* Segments one chain may have; longer chains are refused. */
#define VPCI_MAX_IOV		64
/* Largest packet accepted from the peer, header excluded. */
#define VPCI_MAX_PKT_LEN	(64 * 1024)
/* Heads one mergeable packet may use. */
#define VPCI_MAX_MRG_BUFS	VPCI_MAX_IOV

struct vpci_chain {
	uint16_t head;		/* split: head index; packed: buffer id */
	uint16_t ndesc;		/* ring descriptors it took (packed) */
	uint16_t niov;
	uint32_t len;		/* total bytes */
	struct vpci_iov iov[VPCI_MAX_IOV];
};

/* Where the next available chain is looked for. */
struct vpci_cursor {
	uint16_t idx;		/* split: avail index; packed: ring position */
	uint16_t left;		/* split: published entries not yet taken */
	bool wrap;		/* packed: avail wrap counter at idx */
};

#define VPCI_CHAIN_OK		0	/* collected */
#define VPCI_CHAIN_NONE		1	/* nothing available */
#define VPCI_CHAIN_BAD		2	/* consumed, invalid: return it unused */
#define VPCI_CHAIN_BROKEN	(-1)	/* the ring cannot be walked any more */

/* The shape tables (vpci_rx.c, vpci_tx.c) that vpci_queue_set_burst()
 * picks from. RX: indexed by packed << 2 | zc << 1 | offload.
 */
extern const vpci_burst_t vpci_rx_shapes[8];
/* TX: indexed by packed << 1 | mrg. */
extern const vpci_burst_t vpci_tx_shapes[4];

/*
 * Address translation for one burst: the map, and the region the last
 * address was found in, tried first (rte_vhost_pci_translate_hint()).
 */
struct vpci_xlate {
	const struct rte_vhost_pci_map *map;
	uint32_t hint;
};

static __rte_always_inline void *
vpci_translate(struct vpci_xlate *xl, uint64_t addr, uint64_t len)
{
	return rte_vhost_pci_translate_hint(xl->map, addr, len, &xl->hint);
}

/* Append one descriptor's bytes to @c: translated, and within bounds. */
static inline int
vpci_chain_add(struct vpci_xlate *xl, struct vpci_chain *c,
		uint64_t addr, uint32_t len)
{
	uint8_t *p;

	if (len == 0)
		return 0;
	if (unlikely(c->niov == VPCI_MAX_IOV))
		return -1;
	p = vpci_translate(xl, addr, len);
	if (unlikely(p == NULL || c->len + (uint64_t)len > VPCI_MAX_PKT_LEN +
			sizeof(struct virtio_net_hdr_mrg_rxbuf)))
		return -1;
	c->iov[c->niov].base = p;
	c->iov[c->niov].len = len;
	c->niov++;
	c->len += len;
	return 0;
}

/* Walk one chain into @c. Returns 0, or -1 if the chain is invalid
 * (vpci_ring.c).
 */
int vpci_chain_collect(const struct vpci_vring *vr, struct vpci_xlate *xl,
		uint16_t head, bool writable, struct vpci_chain *c);

/* ---- packed rings ---- */

/* A descriptor is available when AVAIL matches the wrap counter and USED
 * does not.
 */
static inline bool
vpci_pdesc_avail(uint16_t flags, bool wrap)
{
	return !!(flags & VHOST_PCI_PDESC_F_AVAIL) == wrap &&
		!!(flags & VHOST_PCI_PDESC_F_USED) != wrap;
}

static inline uint16_t
vpci_pdesc_flags(const struct vpci_vring *vr, uint16_t pos)
{
	/* Pairs with the peer's release of the flags after it wrote the
	 * descriptor's other fields.
	 */
	return __atomic_load_n(&vr->pdesc[pos].flags, __ATOMIC_ACQUIRE);
}

/*
 * The chain at the cursor of a packed ring, whose first descriptor's
 * @flags the caller read (acquire) and found available: VPCI_CHAIN_*
 * (vpci_ring.c).
 */
int vpci_pchain_walk(const struct vpci_vring *vr, struct vpci_xlate *xl,
		struct vpci_cursor *cur, bool writable, struct vpci_chain *c,
		uint16_t flags);

/* The chain at the cursor of a packed ring, or VPCI_CHAIN_NONE. Each
 * descriptor's flags are read once: nothing counts the ring before.
 */
static inline int
vpci_pchain_next(const struct vpci_vring *vr,
		struct vpci_xlate *xl, struct vpci_cursor *cur,
		bool writable, struct vpci_chain *c)
{
	uint16_t flags = vpci_pdesc_flags(vr, cur->idx);

	if (!vpci_pdesc_avail(flags, cur->wrap))
		return VPCI_CHAIN_NONE;
	return vpci_pchain_walk(vr, xl, cur, writable, c, flags);
}

/* ---- both formats ---- */

/* Bytes of the next chain's first buffer that RX prefetches. */
#define VPCI_PREFETCH_MAX	512

/* Start loading @len bytes at @p: only a hint. */
static inline void
vpci_prefetch_buf(const uint8_t *p, uint32_t len)
{
	uint32_t off;

	for (off = 0; off < len; off += RTE_CACHE_LINE_SIZE)
		rte_prefetch0(p + off);
	/* The last line, when @p is not line aligned. */
	if (((uintptr_t)p & (RTE_CACHE_LINE_SIZE - 1)) + len >
			RTE_ALIGN_CEIL(len, RTE_CACHE_LINE_SIZE))
		rte_prefetch0(p + len - 1);
}

/* The same at a peer address: nothing is checked or kept, and a bad
 * address is skipped.
 */
static inline void
vpci_prefetch_addr(struct vpci_xlate *xl, uint64_t addr,
		uint32_t len)
{
	const uint8_t *p;

	if (len == 0)
		return;
	p = vpci_translate(xl, addr, len);
	if (p != NULL)
		vpci_prefetch_buf(p, len);
}

/*
 * Start loading the first buffer of the next available chain (virtio-net
 * header and frame), so that the copy of this one overlaps the misses.
 */
static __rte_always_inline void
vpci_prefetch_next(const struct vpci_vring *vr,
		struct vpci_xlate *xl, const struct vpci_cursor *cur)
{
	uint64_t addr;
	uint32_t len;
	uint16_t d;

	if (cur->left == 0)
		return;
	d = vr->avail->ring[cur->idx & vr->mask] & vr->mask;
	addr = vr->desc[d].addr;
	len = vr->desc[d].len;
	vpci_prefetch_addr(xl, addr,
		RTE_MIN(len, (uint32_t)VPCI_PREFETCH_MAX));
}

static inline void
vpci_cursor_start(const struct vpci_vring *vr, struct vpci_cursor *cur,
		uint16_t left)
{
	cur->idx = vr->last_avail_idx;
	cur->wrap = vr->avail_wrap;
	cur->left = left;
}

/* The next available chain into @c: VPCI_CHAIN_*. */
static __rte_always_inline int
vpci_chain_next(const struct vpci_vring *vr,
		struct vpci_xlate *xl, struct vpci_cursor *cur,
		bool writable, struct vpci_chain *c, bool packed)
{
	uint16_t head;

	if (packed)
		return vpci_pchain_next(vr, xl, cur, writable, c);
	if (cur->left == 0)
		return VPCI_CHAIN_NONE;
	head = vr->avail->ring[cur->idx & vr->mask];
	cur->idx++;
	cur->left--;
	c->ndesc = 1;
	return vpci_chain_collect(vr, xl, head, writable, c) == 0 ?
		VPCI_CHAIN_OK : VPCI_CHAIN_BAD;
}

/* Split: peer-published entries not yet consumed, up to @max. A jump of more
 * than the ring size is a broken peer: -1.
 */
static inline int
vpci_avail_count(const struct vpci_vring *vr, uint16_t max)
{
	uint16_t idx, n;

	/* Pairs with the peer's release of avail->idx after it filled the
	 * ring entries and descriptors: those are visible after this load.
	 */
	idx = __atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE);
	n = idx - vr->last_avail_idx;
	if (unlikely(n > vr->size))
		return -1;
	return RTE_MIN(n, max);
}

/* The peer broke the ring: stop the queue, count it, tell the peer
 * (vpci_ring.c). Cold: the compiler found it so when it was static to
 * the bursts, and moves the paths that call it out of their way.
 */
__rte_cold void vpci_queue_broken(struct vpci_queue *q, const char *why);

/* As vpci_avail_count(); a broken peer stops the queue. */
static inline int
vpci_queue_avail(struct vpci_queue *q, uint16_t max)
{
	int n = vpci_avail_count(&q->vr, max);

	if (unlikely(n < 0))
		vpci_queue_broken(q, "peer moved avail index past the ring");
	return n;
}

static inline void
vpci_used_put(struct vpci_vring *vr, uint16_t i, const struct vpci_chain *c,
		uint32_t len)
{
	vr->shadow[i].id = c->head;
	vr->shadow[i].ndesc = c->ndesc;
	vr->shadow[i].len = len;
}

/* The staged entries into the peer's split used ring. */
static inline void
vpci_used_flush_split(struct vpci_vring *vr, uint16_t n)
{
	volatile struct vring_used_elem *e;
	uint16_t i, idx = vr->last_used_idx;

	for (i = 0; i < n; i++, idx++) {
		e = &vr->used->ring[idx & vr->mask];
		e->id = vr->shadow[i].id;
		e->len = vr->shadow[i].len;
	}
}

/* The staged entries into a packed ring: one used descriptor per buffer,
 * each then skipping the descriptors the buffer took. The flags hand a
 * descriptor to the peer, so they go last, released; the first entry's go
 * after all the others, so the peer never sees the head buffer of a
 * multi-buffer packet before the rest.
 */
static inline void
vpci_used_flush_packed(struct vpci_vring *vr, uint16_t n)
{
	uint16_t i, pos = vr->last_used_idx, flags, first = 0, head = pos;
	bool wrap = vr->used_wrap;

	for (i = 0; i < n; i++) {
		const struct vpci_shadow *s = &vr->shadow[i];

		vr->pdesc[pos].id = s->id;
		vr->pdesc[pos].len = s->len;
		flags = wrap ?
			VHOST_PCI_PDESC_F_AVAIL | VHOST_PCI_PDESC_F_USED : 0;
		if (s->len != 0)
			flags |= VRING_DESC_F_WRITE;
		if (i == 0)
			first = flags;
		else
			__atomic_store_n(&vr->pdesc[pos].flags, flags,
				__ATOMIC_RELEASE);
		pos += s->ndesc;
		if (pos >= vr->size) {
			pos -= vr->size;
			wrap = !wrap;
		}
	}
	if (n != 0)
		__atomic_store_n(&vr->pdesc[head].flags, first,
			__ATOMIC_RELEASE);
	vr->last_used_idx = pos;
	vr->used_wrap = wrap;
}

/* Signal the peer about the used entries published from @old (wrap
 * counter @old_wrap), if it asked (vpci_ring.c).
 */
void vpci_vring_notify(struct vpci_vring *vr, uint16_t old, bool old_wrap);

/* Consume up to the cursor, publish @used staged entries, notify if
 * asked.
 */
static __rte_always_inline void
vpci_vring_publish(struct vpci_vring *vr, const struct vpci_cursor *cur,
		uint16_t used, bool packed)
{
	uint16_t old = vr->last_used_idx;
	bool old_wrap = vr->used_wrap;

	vr->last_avail_idx = cur->idx;
	vr->avail_wrap = cur->wrap;
	if (packed) {
		vpci_used_flush_packed(vr, used);
	} else {
		vpci_used_flush_split(vr, used);
		vr->last_used_idx += used;
		/* Pairs with the peer's acquire of used->idx: the used
		 * elements and the data written into its buffers are
		 * visible before the index.
		 */
		__atomic_store_n(&vr->used->idx, vr->last_used_idx,
			__ATOMIC_RELEASE);
	}
	if (vpci_notify_on(&vr->call) && used != 0)
		vpci_vring_notify(vr, old, old_wrap);
}

#endif /* VPCI_RING_H */
