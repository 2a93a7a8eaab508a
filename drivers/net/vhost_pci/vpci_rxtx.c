/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * Datapath over the peer's vrings, split or packed, read and written
 * through the BAR.
 *
 * RX dequeues from the peer's TX ring, TX copies into the peer's RX ring.
 * Every descriptor chain is first collected into a private vector: each
 * descriptor is read once into a local copy, its index, flags, loop bound
 * and address range checked, and its address translated. Only then is data
 * copied, from the checked vector, never from the shared ring again.
 *
 * A cursor walks the available chains of either ring format; used entries
 * are staged in a shadow and written in one pass per burst.
 */

#include <sys/eventfd.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_io.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>

#include "vpci.h"
#include "vpci_xstats.h"

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

int
vpci_vring_init(struct vpci_vring *vr, const struct rte_vhost_pci_map *map,
		const struct rte_vhost_pci_vring *meta, uint64_t features,
		const struct vpci_notify *call, int errfd)
{
	const uint16_t wrap = RTE_BIT32(VRING_PACKED_EVENT_F_WRAP_CTR);
	uint64_t n = meta->size;
	bool packed = !!(features & RTE_BIT64(VIRTIO_F_RING_PACKED));

	/* Packed rings may have any size (virtio 1.1, 2.8.10). */
	if (n == 0 || n > RTE_VHOST_PCI_MAX_RING_SIZE ||
			(!packed && !rte_is_power_of_2(n)))
		return -1;
	/* Split: the avail ring ends with used_event, the used ring with
	 * avail_event.
	 */
	vr->desc = rte_vhost_pci_translate(map, meta->desc,
		sizeof(struct vring_desc) * n);
	vr->avail = rte_vhost_pci_translate(map, meta->avail,
		packed ? sizeof(struct vring_packed_desc_event) :
		sizeof(struct vring_avail) + sizeof(uint16_t) * (n + 1));
	vr->used = rte_vhost_pci_translate(map, meta->used,
		packed ? sizeof(struct vring_packed_desc_event) :
		sizeof(struct vring_used) +
		sizeof(struct vring_used_elem) * n + sizeof(uint16_t));
	if (vr->desc == NULL || vr->avail == NULL || vr->used == NULL)
		return -1;
	vr->size = n;
	vr->mask = n - 1;
	vr->packed = packed;
	vr->region_hint = 0;
	if (packed) {
		/* The base holds the wrap counter in bit 15. */
		vr->last_avail_idx = meta->last_avail_idx & (wrap - 1);
		vr->avail_wrap = !!(meta->last_avail_idx & wrap);
		vr->last_used_idx = meta->last_used_idx & (wrap - 1);
		vr->used_wrap = !!(meta->last_used_idx & wrap);
		if (vr->last_avail_idx >= n || vr->last_used_idx >= n)
			return -1;
	} else {
		vr->last_avail_idx = meta->last_avail_idx;
		vr->last_used_idx = meta->last_used_idx;
		/* A front-end that reconnects with its rings as they were
		 * (net_virtio_user server=1) still sends base 0: its used
		 * index is where the ring is. What was in flight is resent
		 * (TX) or lost (RX), as with librte_vhost. Any value is
		 * safe: indexes are masked, avail jumps stop the queue.
		 */
		if (!(meta->flags & RTE_VHOST_PCI_VRING_F_RESUME)) {
			uint16_t used = __atomic_load_n(&vr->used->idx,
				__ATOMIC_ACQUIRE);

			if (used != vr->last_used_idx) {
				VPCI_LOG(INFO, "vring at 0x%" PRIx64 ": used index %u, base %u: continuing from the ring's",
					meta->desc, used, vr->last_used_idx);
				vr->last_avail_idx = vr->last_used_idx = used;
			}
		}
	}
	vr->call = *call;
	vr->errfd = errfd;
	vr->event_idx = !!(features & RTE_BIT64(VIRTIO_RING_F_EVENT_IDX));
	vr->indirect = !!(features & RTE_BIT64(VIRTIO_RING_F_INDIRECT_DESC));
	/* We poll: ask the peer not to kick. */
	vpci_vring_set_notify(vr, false);
	return 0;
}

void
vpci_vring_base(const struct vpci_vring *vr, uint16_t *avail, uint16_t *used)
{
	*avail = vr->last_avail_idx;
	*used = vr->last_used_idx;
	if (vr->packed) {
		*avail |= (uint16_t)vr->avail_wrap << VRING_PACKED_EVENT_F_WRAP_CTR;
		*used |= (uint16_t)vr->used_wrap << VRING_PACKED_EVENT_F_WRAP_CTR;
	}
}

/* Whether the peer should kick us on new buffers (RX interrupt mode). */
void
vpci_vring_set_notify(struct vpci_vring *vr, bool kick_wanted)
{
	if (vr->packed) {
		/* Any new buffer: no use for an event offset here. */
		vr->device_event->flags = kick_wanted ?
			VRING_PACKED_EVENT_FLAG_ENABLE :
			VRING_PACKED_EVENT_FLAG_DISABLE;
	} else {
		vr->used->flags = kick_wanted ? 0 : VRING_USED_F_NO_NOTIFY;
	}
	/* With EVENT_IDX the split peer reads avail_event instead of the
	 * flag: ask for a kick on its very next buffer.
	 */
	if (!vr->packed && vr->event_idx && kick_wanted) {
		/* avail_event: the u16 after the used ring's elements. */
		volatile uint16_t *avail_event =
			(volatile uint16_t *)&vr->used->ring[vr->size];

		*avail_event = vr->last_avail_idx;
	}
	/* The peer must see the request before we sleep on the kick fd;
	 * pairs with its barrier between publishing avail and reading it.
	 */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
}

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

/*
 * The head's indirect table. It is copied once, then only the copy is
 * used: the peer can rewrite its memory at any time. Index, loop and
 * permission checks as for the ring; no table inside a table.
 */
static int
vpci_chain_indirect(const struct vpci_vring *vr,
		struct vpci_xlate *xl, uint64_t addr, uint32_t len,
		uint16_t want, struct vpci_chain *c)
{
	struct vring_desc t[VPCI_MAX_IOV];
	const volatile struct vring_desc *src;
	uint32_t n = len / sizeof(t[0]), i, idx = 0, steps = 0;

	/* More entries than we would collect is a chain we refuse anyway. */
	if (len == 0 || len % sizeof(t[0]) != 0 || n > vr->size ||
			n > VPCI_MAX_IOV)
		return -1;
	src = vpci_translate(xl, addr, len);
	if (src == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		t[i].addr = src[i].addr;
		t[i].len = src[i].len;
		t[i].flags = src[i].flags;
		t[i].next = src[i].next;
	}
	for (;;) {
		if (unlikely(idx >= n || ++steps > n ||
				(t[idx].flags & (VRING_DESC_F_WRITE |
					VRING_DESC_F_INDIRECT)) != want ||
				vpci_chain_add(xl, c, t[idx].addr,
					t[idx].len) < 0))
			return -1;
		if (!(t[idx].flags & VRING_DESC_F_NEXT))
			return c->niov != 0 ? 0 : -1;
		idx = t[idx].next;
	}
}

/* Walk one chain into @c. Returns 0, or -1 if the chain is invalid. */
static int
vpci_chain_collect(const struct vpci_vring *vr,
		struct vpci_xlate *xl, uint16_t head,
		bool writable, struct vpci_chain *c)
{
	const uint16_t want = writable ? VRING_DESC_F_WRITE : 0;
	uint16_t idx = head, flags;
	uint32_t n = 0, len;
	uint64_t addr;

	c->head = head;
	c->niov = 0;
	c->len = 0;
	for (;;) {
		/* Index in range, and a loop cannot outlast the ring. */
		if (unlikely(idx >= vr->size || ++n > vr->size))
			return -1;
		/* One read of each field: the peer may rewrite the table. */
		addr = vr->desc[idx].addr;
		len = vr->desc[idx].len;
		flags = vr->desc[idx].flags;
		/* An indirect table: negotiated, the head, and the only one. */
		if (flags & VRING_DESC_F_INDIRECT) {
			if (unlikely(!vr->indirect || n != 1 ||
					(flags & VRING_DESC_F_NEXT)))
				return -1;
			return vpci_chain_indirect(vr, xl, addr, len, want, c);
		}
		if (unlikely((flags & VRING_DESC_F_WRITE) != want ||
				vpci_chain_add(xl, c, addr, len) < 0))
			return -1;
		if (!(flags & VRING_DESC_F_NEXT))
			/* No bytes at all is no buffer: writers index iov[0]. */
			return c->niov != 0 ? 0 : -1;
		idx = vr->desc[idx].next;
	}
}

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

/* A packed indirect table: every entry in order, copied before use. */
static int
vpci_pchain_indirect(const struct vpci_vring *vr,
		struct vpci_xlate *xl, uint64_t addr, uint32_t len,
		uint16_t want, struct vpci_chain *c)
{
	uint16_t mask = VRING_DESC_F_WRITE | VRING_DESC_F_INDIRECT;
	const volatile struct vring_packed_desc *src;
	struct vring_packed_desc t;
	uint32_t n = len / sizeof(t), i;

	if (len == 0 || len % sizeof(t) != 0 || n > vr->size ||
			n > VPCI_MAX_IOV)
		return -1;
	src = vpci_translate(xl, addr, len);
	if (src == NULL)
		return -1;
	/* Buffers we only read may say WRITE here: DPDK's virtio driver
	 * presets its packed TX tables so, header entry included. Reading
	 * a buffer the peer let us write is harmless; writing one it did
	 * not is not, so WRITE is still required when we write.
	 */
	if (want == 0)
		mask = VRING_DESC_F_INDIRECT;
	for (i = 0; i < n; i++) {
		t.addr = src[i].addr;
		t.len = src[i].len;
		t.flags = src[i].flags;
		if ((t.flags & mask) != want ||
				vpci_chain_add(xl, c, t.addr, t.len) < 0)
			return -1;
	}
	return c->niov != 0 ? 0 : -1;
}

/*
 * The chain at the cursor of a packed ring, whose first descriptor's
 * @flags the caller read (acquire) and found available. A chain is
 * consumed whole even when one of its descriptors is invalid, so the ring
 * stays in step; only a chain that never ends breaks the ring.
 */
static int
vpci_pchain_walk(const struct vpci_vring *vr,
		struct vpci_xlate *xl, struct vpci_cursor *cur,
		bool writable, struct vpci_chain *c, uint16_t flags)
{
	const uint16_t want = writable ? VRING_DESC_F_WRITE : 0;
	uint16_t pos = cur->idx, id = 0, n = 0;
	bool wrap = cur->wrap, bad = false;
	uint32_t len;
	uint64_t addr;

	c->niov = 0;
	c->len = 0;
	for (;;) {
		if (unlikely(++n > vr->size))
			return VPCI_CHAIN_BROKEN;
		/* One read of each field: the peer may rewrite them. */
		addr = vr->pdesc[pos].addr;
		len = vr->pdesc[pos].len;
		id = vr->pdesc[pos].id;
		if (flags & VRING_DESC_F_INDIRECT) {
			/* Negotiated, and the chain's only descriptor. */
			bad |= !vr->indirect || n != 1 ||
				(flags & VRING_DESC_F_NEXT) ||
				vpci_pchain_indirect(vr, xl, addr, len, want,
					c) < 0;
		} else if (!bad) {
			bad = (flags & VRING_DESC_F_WRITE) != want ||
				vpci_chain_add(xl, c, addr, len) < 0;
		}
		if (++pos == vr->size) {
			pos = 0;
			wrap = !wrap;
		}
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		/* The driver makes the head available last: a later
		 * descriptor that is not is a broken ring.
		 */
		flags = vr->pdesc[pos].flags;
		if (unlikely(!vpci_pdesc_avail(flags, wrap)))
			return VPCI_CHAIN_BROKEN;
	}
	cur->idx = pos;
	cur->wrap = wrap;
	/* The buffer id is the last descriptor's; it indexes per-buffer
	 * state, so it must lie within the ring.
	 */
	c->head = id;
	c->ndesc = n;
	if (unlikely(bad || id >= vr->size || c->niov == 0))
		return VPCI_CHAIN_BAD;
	return VPCI_CHAIN_OK;
}

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
/* First buffers up to this size are prefetched for the whole burst: small
 * frames with their virtio-net header. Larger ones are left to the
 * one-ahead prefetch and the hardware's: prefetching those too slowed
 * cold 1024-byte copies by a sixth (vpci_pmdcost).
 */
#define VPCI_PREFETCH_BURST	192

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

/* RX takes the available chains in batches of this many. */
#define VPCI_RX_BATCH		64
/* Descriptors a chain may have to be collected by the batch scan. */
#define VPCI_RX_SLOT_IOV	2

/*
 * A split chain as the batch scan left it: its head, read once from the
 * avail ring, and, for a short plain chain, its pieces, each descriptor
 * read once and checked as vpci_chain_collect() does. Any other chain
 * (indirect, longer, or one the scan refused) has niov 0 and is collected
 * again in full from its head: nothing else the scan read is kept.
 *
 * A packed chain of one plain descriptor as its scan left it: head is the
 * buffer id, and niov 0 a chain to return unused (see
 * vpci_rx_scan_packed()).
 */
struct vpci_rx_slot {
	uint16_t head;
	uint16_t niov;
	uint32_t len;
	struct vpci_iov iov[VPCI_RX_SLOT_IOV];
};

/* One plain device-readable descriptor into @s, or false to leave the
 * chain to the full walk.
 */
static __rte_always_inline bool
vpci_rx_slot_add(struct vpci_xlate *xl, struct vpci_rx_slot *s,
		uint64_t addr, uint32_t len, uint16_t flags)
{
	uint8_t *p;

	/* A zero-length piece is skipped by the full walk: let it. */
	if (unlikely((flags & (VRING_DESC_F_WRITE | VRING_DESC_F_INDIRECT)) ||
			len == 0))
		return false;
	p = vpci_translate(xl, addr, len);
	if (unlikely(p == NULL || s->len + (uint64_t)len > VPCI_MAX_PKT_LEN +
			sizeof(struct virtio_net_hdr_mrg_rxbuf)))
		return false;
	s->iov[s->niov].base = p;
	s->iov[s->niov].len = len;
	s->niov++;
	s->len += len;
	return true;
}

/* The chain at @s->head into @s if it is one or two plain descriptors:
 * true, or false to leave it to the full walk.
 */
static __rte_always_inline bool
vpci_rx_slot_collect(const struct vpci_vring *vr,
		struct vpci_xlate *xl, struct vpci_rx_slot *s)
{
	uint16_t d = s->head, flags, next;
	uint64_t addr;
	uint32_t len;

	if (unlikely(d >= vr->size))
		return false;
	/* One read of each field: the peer may rewrite the table. */
	addr = vr->desc[d].addr;
	len = vr->desc[d].len;
	flags = vr->desc[d].flags;
	next = vr->desc[d].next;
	if (!vpci_rx_slot_add(xl, s, addr, len, flags))
		return false;
	if (!(flags & VRING_DESC_F_NEXT))
		return true;
	/* A second descriptor, distinct, and the last. */
	if (unlikely(next >= vr->size || next == d))
		return false;
	addr = vr->desc[next].addr;
	len = vr->desc[next].len;
	flags = vr->desc[next].flags;
	return !(flags & VRING_DESC_F_NEXT) &&
		vpci_rx_slot_add(xl, s, addr, len, flags);
}

/*
 * The next @n available heads of a split ring from @idx into @s, their
 * chains collected when they are one or two plain descriptors, and their
 * small buffers prefetched: the misses of the whole batch overlap before
 * the first copy. Returns whether a buffer was too large to prefetch here.
 */
static bool
vpci_rx_scan_split(const struct vpci_vring *vr,
		struct vpci_xlate *xl, uint16_t idx, uint16_t n,
		struct vpci_rx_slot *s)
{
	bool large = false;
	uint16_t i, k;

	for (i = 0; i < n; i++, s++) {
		s->head = vr->avail->ring[(idx + i) & vr->mask];
		s->niov = 0;
		s->len = 0;
		if (!vpci_rx_slot_collect(vr, xl, s)) {
			s->niov = 0;	/* walked again in full */
			s->len = 0;
			large = true;
		} else if (s->len > VPCI_PREFETCH_BURST) {
			large = true;
		} else {
			for (k = 0; k < s->niov; k++)
				vpci_prefetch_buf(s->iov[k].base,
					s->iov[k].len);
		}
	}
	return large;
}

/*
 * Up to @max available descriptors of a packed ring from @cur into @s, in
 * one walk: each descriptor's flags read once (acquire), then its fields
 * once, and checked as vpci_pchain_walk() does a chain of one descriptor.
 * The walk stops at the first descriptor that is not available, or that
 * begins a longer or indirect chain: its flags are then left in *@first
 * and *@pending set, for vpci_pchain_walk(). Small buffers are prefetched.
 * Returns the slots filled; *@large says a buffer was too large for that.
 */
static uint16_t
vpci_rx_scan_packed(const struct vpci_vring *vr,
		struct vpci_xlate *xl, const struct vpci_cursor *cur,
		uint16_t max, struct vpci_rx_slot *s, uint16_t *first,
		bool *pending, bool *large)
{
	uint16_t i, pos = cur->idx, flags, id;
	bool wrap = cur->wrap;
	uint64_t addr;
	uint32_t len;

	*pending = false;
	*large = false;
	for (i = 0; i < max; i++, s++) {
		flags = vpci_pdesc_flags(vr, pos);
		if (!vpci_pdesc_avail(flags, wrap))
			break;
		if (flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT)) {
			*first = flags;
			*pending = true;
			break;
		}
		/* One read of each field: the peer may rewrite them. */
		addr = vr->pdesc[pos].addr;
		len = vr->pdesc[pos].len;
		id = vr->pdesc[pos].id;
		s->head = id;
		s->niov = 0;
		s->len = 0;
		/* The id indexes per-buffer state: within the ring. */
		if (unlikely(id >= vr->size ||
				!vpci_rx_slot_add(xl, s, addr, len, flags)))
			s->niov = 0;	/* returned unused */
		else if (len <= VPCI_PREFETCH_BURST)
			vpci_prefetch_buf(s->iov[0].base, len);
		else
			*large = true;
		if (++pos == vr->size) {
			pos = 0;
			wrap = !wrap;
		}
	}
	return i;
}

/* The chain of a packed slot @s into @c, and the cursor past its one
 * descriptor: VPCI_CHAIN_OK, or VPCI_CHAIN_BAD.
 */
static __rte_always_inline int
vpci_rx_pslot_chain(const struct vpci_vring *vr, struct vpci_cursor *cur,
		const struct vpci_rx_slot *s, struct vpci_chain *c)
{
	if (++cur->idx == vr->size) {
		cur->idx = 0;
		cur->wrap = !cur->wrap;
	}
	c->head = s->head;
	c->ndesc = 1;
	c->niov = s->niov;
	c->len = s->len;
	c->iov[0] = s->iov[0];
	return s->niov != 0 ? VPCI_CHAIN_OK : VPCI_CHAIN_BAD;
}

/* Start loading the first buffer of slot @s (virtio-net header and
 * frame), so that the copy before it overlaps the misses.
 */
static inline void
vpci_prefetch_slot(const struct vpci_rx_slot *s)
{
	if (s->niov != 0)
		vpci_prefetch_buf(s->iov[0].base,
			RTE_MIN(s->iov[0].len, (uint32_t)VPCI_PREFETCH_MAX));
}

/* The chain of @s into @c: VPCI_CHAIN_OK, or VPCI_CHAIN_BAD. */
static __rte_always_inline int
vpci_rx_slot_chain(const struct vpci_vring *vr,
		struct vpci_xlate *xl, const struct vpci_rx_slot *s,
		struct vpci_chain *c)
{
	if (s->niov == 0)
		return vpci_chain_collect(vr, xl, s->head, false, c) == 0 ?
			VPCI_CHAIN_OK : VPCI_CHAIN_BAD;
	c->head = s->head;
	c->ndesc = 1;
	c->niov = s->niov;
	c->len = s->len;
	c->iov[0] = s->iov[0];
	c->iov[1] = s->iov[1];
	return VPCI_CHAIN_OK;
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

/* The peer broke the ring: stop the queue, count it, tell the peer on
 * its error eventfd. The queue stays stopped until the ring is set up
 * again.
 */
static void
vpci_queue_broken(struct vpci_queue *q, const char *why)
{
	uint16_t port = q->internal->port_id;

	/* Odd vrings are the peer's TX rings, which RX drains. */
	if (q->vring_idx & 1)
		VPCI_DP_LOG(ERR, RX, "port %u rxq %u: %s; queue stopped",
			port, q->qid, why);
	else
		VPCI_DP_LOG(ERR, TX, "port %u txq %u: %s; queue stopped",
			port, q->qid, why);
	q->stats.errors++;
	q->ready = false;
	if (q->vr.errfd >= 0 && eventfd_write(q->vr.errfd, 1) < 0)
		VPCI_DP_LOG(DEBUG, PMD, "port %u: error eventfd write failed",
			port);
}

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

/* Whether the peer asked to be signalled for used entries from @old (with
 * wrap counter @old_wrap) to the current position.
 */
static bool
vpci_packed_notify(const struct vpci_vring *vr, uint16_t old, bool old_wrap)
{
	uint16_t flags = vr->driver_event->flags, off_wrap, event;

	if (flags != VRING_PACKED_EVENT_FLAG_DESC || !vr->event_idx)
		return flags != VRING_PACKED_EVENT_FLAG_DISABLE;
	off_wrap = vr->driver_event->off_wrap;
	event = off_wrap & (RTE_BIT32(VRING_PACKED_EVENT_F_WRAP_CTR) - 1);
	/* One index space: a position of the previous lap counts one ring
	 * size lower.
	 */
	if (old_wrap != vr->used_wrap)
		old -= vr->size;
	if (!!(off_wrap >> VRING_PACKED_EVENT_F_WRAP_CTR) != vr->used_wrap)
		event -= vr->size;
	return vring_need_event(event, vr->last_used_idx, old);
}

/* Signal the peer about the used entries published from @old (wrap
 * counter @old_wrap), if it asked.
 */
static void
vpci_vring_notify(struct vpci_vring *vr, uint16_t old, bool old_wrap)
{
	bool notify;

	/* Order the index store before reading the peer's suppression
	 * state; pairs with the barrier the peer puts between re-enabling
	 * notifications and re-checking the used ring.
	 */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vr->packed)
		notify = vpci_packed_notify(vr, old, old_wrap);
	else if (vr->event_idx)
		notify = vring_need_event(vr->avail->ring[vr->size],
			vr->last_used_idx, old);
	else
		notify = !(vr->avail->flags & VRING_AVAIL_F_NO_INTERRUPT);
	if (!notify)
		return;
	if (vr->call.reg != NULL)
		rte_write32(vr->call.val, vr->call.reg);
	else if (eventfd_write(vr->call.fd, 1) < 0)
		VPCI_DP_LOG(DEBUG, PMD, "call eventfd write failed");
}

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

/* ---- RX: peer TX ring to mbufs ---- */

/* Small copies RX defers to the end of the burst. */
#define VPCI_DEFER_MAX		256
#define VPCI_DEFER_N		64

/*
 * Copies into mbufs the burst has filled in otherwise: done in one tight
 * loop before the used entries are published, so that the loads of many
 * packets are in flight at once (librte_vhost's batch copy does the same).
 * Only whole packets that fit the first segment are deferred: nothing can
 * fail, nor an mbuf be freed, between recording a copy and making it.
 */
struct vpci_defer {
	uint16_t n;
	struct {
		void *dst;
		const void *src;
		uint32_t len;
	} e[VPCI_DEFER_N];
};

static inline void
vpci_defer_flush(struct vpci_defer *d)
{
	uint16_t i;

	for (i = 0; i < d->n; i++)
		rte_memcpy(d->e[i].dst, d->e[i].src, d->e[i].len);
	d->n = 0;
}

/* @c's payload into @m's first segment through @d, if it fits both. */
static inline bool
vpci_defer_add(struct vpci_defer *d, const struct vpci_chain *c,
		uint32_t skip, struct rte_mbuf *m)
{
	uint32_t len = c->len - skip, n, off = 0;
	uint8_t *dst = rte_pktmbuf_mtod(m, uint8_t *);
	uint16_t i;

	if (len > VPCI_DEFER_MAX || len > rte_pktmbuf_tailroom(m) ||
			d->n + c->niov > VPCI_DEFER_N)
		return false;
	for (i = 0; i < c->niov; i++) {
		const uint8_t *src = c->iov[i].base;

		n = RTE_MIN(skip, c->iov[i].len);
		skip -= n;
		if (n == c->iov[i].len)
			continue;
		d->e[d->n].dst = dst + off;
		d->e[d->n].src = src + n;
		d->e[d->n].len = c->iov[i].len - n;
		off += c->iov[i].len - n;
		d->n++;
	}
	m->data_len = len;
	m->pkt_len = len;
	return true;
}

/* Copy the chain, minus the virtio-net header, into @m. */
static int
vpci_chain_to_mbuf(struct vpci_queue *q, const struct vpci_chain *c,
		struct rte_mbuf *m, struct vpci_defer *d)
{
	uint32_t skip = q->internal->hdr_len, room, n, off;
	struct rte_mbuf *seg = m, *next;
	uint16_t i;

	if (unlikely(c->len <= skip))
		return -1;
	if (d != NULL && vpci_defer_add(d, c, skip, m))
		return 0;
	for (i = 0; i < c->niov; i++) {
		const uint8_t *src = c->iov[i].base;
		uint32_t len = c->iov[i].len;

		n = RTE_MIN(skip, len);
		src += n;
		len -= n;
		skip -= n;
		while (len != 0) {
			room = rte_pktmbuf_tailroom(seg);
			if (room == 0) {
				next = rte_pktmbuf_alloc(q->mp);
				if (unlikely(next == NULL)) {
					q->stats.nombuf++;
					return -1;
				}
				seg->next = next;
				seg = next;
				m->nb_segs++;
				continue;
			}
			n = RTE_MIN(room, len);
			off = seg->data_len;
			rte_memcpy(rte_pktmbuf_mtod_offset(seg, uint8_t *, off),
				src, n);
			seg->data_len += n;
			m->pkt_len += n;
			src += n;
			len -= n;
		}
	}
	return 0;
}

/* The payload after the header, as pieces of the chain (into @p, at most
 * VPCI_MAX_IOV): their number.
 */
static uint16_t
vpci_chain_payload(const struct vpci_chain *c, uint32_t hdr,
		struct vpci_iov *p)
{
	uint16_t i, n = 0;

	for (i = 0; i < c->niov && hdr >= c->iov[i].len; i++)
		hdr -= c->iov[i].len;
	for (; i < c->niov; i++, hdr = 0) {
		p[n].base = c->iov[i].base + hdr;
		p[n].len = c->iov[i].len - hdr;
		n++;
	}
	return n;
}

/* The virtio-net header at the chain's start, wherever its pieces lie. */
static void
vpci_chain_hdr(const struct vpci_chain *c, uint32_t hdr_len,
		struct virtio_net_hdr_mrg_rxbuf *hdr)
{
	uint8_t *dst = (uint8_t *)hdr;
	uint32_t n;
	uint16_t i;

	for (i = 0; i < c->niov && hdr_len != 0; i++) {
		n = RTE_MIN(hdr_len, c->iov[i].len);
		memcpy(dst, c->iov[i].base, n);
		dst += n;
		hdr_len -= n;
	}
}

#define VPCI_RX_COPIED	0	/* used entry written */
#define VPCI_RX_LENT	1	/* used entry waits for the mbuf's free */
#define VPCI_RX_DROPPED	2	/* no packet; @m freed, the entry returned */
#define VPCI_RX_BROKEN	(-1)	/* the peer broke the ring: stop it */

/* Lend or copy the chain's payload to @m: VPCI_RX_LENT, VPCI_RX_COPIED,
 * or VPCI_RX_DROPPED.
 */
static __rte_always_inline int
vpci_rx_fill(struct vpci_queue *q, const struct vpci_chain *c,
		struct rte_mbuf *m, struct vpci_defer *d, bool zc)
{
	struct vpci_iov p[VPCI_MAX_IOV];
	uint16_t n;

	if (zc &&
			c->len - q->internal->hdr_len >= q->internal->zc_min_len) {
		n = vpci_chain_payload(c, q->internal->hdr_len, p);
		if (vpci_zc_lend(q, c->head, c->ndesc, p, n, m))
			return VPCI_RX_LENT;
	}
	return vpci_chain_to_mbuf(q, c, m, d) == 0 ? VPCI_RX_COPIED :
		VPCI_RX_DROPPED;
}

/* One collected chain into @m; returns VPCI_RX_*. A copy may wait in
 * @d, which is NULL with @offload: the offloads read @m, and may free it.
 * @zc and @offload are the queue's shape: q->zc_active, rx_offload.
 */
static __rte_always_inline int
vpci_rx_one(struct vpci_queue *q, const struct vpci_chain *c,
		struct rte_mbuf *m, uint16_t *used, struct vpci_defer *d,
		bool zc, bool offload)
{
	struct pmd_internal *internal = q->internal;
	struct virtio_net_hdr_mrg_rxbuf hdr;
	int ret = VPCI_RX_DROPPED;

	/* A head lent in this attach and posted again: lent, copied or
	 * dropped, it would be returned twice. A broken or hostile peer.
	 */
	if (zc && unlikely(vpci_zc_busy(q, c->head)))
		return VPCI_RX_BROKEN;
	if (likely(c->len > internal->hdr_len))
		ret = vpci_rx_fill(q, c, m, d, zc);
	if (offload && ret != VPCI_RX_DROPPED) {
		vpci_chain_hdr(c, internal->hdr_len, &hdr);
		if (unlikely(vpci_offload_rx(internal, &hdr.hdr, m) < 0)) {
			/* A lent buffer's entry goes back with its free. */
			if (ret == VPCI_RX_LENT) {
				rte_pktmbuf_free(m);
				q->stats.errors++;
				return VPCI_RX_DROPPED;
			}
			ret = VPCI_RX_DROPPED;
		}
	}
	if (ret == VPCI_RX_LENT)
		return ret;
	/* A device-read buffer is returned with length 0. */
	vpci_used_put(&q->vr, (*used)++, c, 0);
	if (likely(ret == VPCI_RX_COPIED))
		return ret;
	q->stats.errors++;
	rte_pktmbuf_free(m);
	return VPCI_RX_DROPPED;
}

/* What one RX burst has taken so far. */
struct vpci_rx_burst {
	struct rte_mbuf **pkts;	/* the application's array */
	struct rte_mbuf **mb;	/* the burst's mbufs, spares after got */
	uint16_t got;		/* packets in pkts */
	uint16_t nmb;		/* mbufs in mb */
	uint16_t used;		/* staged used entries */
	struct vpci_defer *dp;	/* deferred copies, or NULL */
};

/* Take @n mbufs for a burst into @b->mb: @n, or 0 if the pool has not
 * that many.
 */
static inline uint16_t
vpci_rx_alloc(struct vpci_queue *q, struct vpci_rx_burst *b, uint16_t n)
{
	if (n > 0 && unlikely(rte_pktmbuf_alloc_bulk(q->mp, b->mb, n) != 0)) {
		q->stats.nombuf += n;
		n = 0;
	}
	b->nmb = n;
	return n;
}

/* A chain the collect step refused (VPCI_CHAIN_BAD, BROKEN or NONE):
 * false if the burst stops there.
 */
static inline bool
vpci_rx_refused(struct vpci_queue *q, struct vpci_rx_burst *b, int ret,
		const struct vpci_chain *c)
{
	if (ret == VPCI_CHAIN_NONE)
		return false;	/* packed: fewer chains than descriptors */
	if (unlikely(ret == VPCI_CHAIN_BROKEN)) {
		vpci_queue_broken(q, "peer chain runs past the ring");
		return false;
	}
	q->stats.errors++;
	vpci_used_put(&q->vr, b->used++, c, 0);
	return true;
}

/* Chain @c, taken from the cursor at @prev, into the burst's next mbuf:
 * false if the burst stops there (the peer broke the ring).
 */
static __rte_always_inline bool
vpci_rx_take(struct vpci_queue *q, struct vpci_rx_burst *b,
		const struct vpci_chain *c, struct vpci_cursor *cur,
		const struct vpci_cursor *prev, bool zc, bool offload)
{
	struct rte_mbuf *m = b->mb[b->got];
	int ret;

	ret = vpci_rx_one(q, c, m, &b->used, b->dp, zc, offload);
	if (unlikely(ret == VPCI_RX_BROKEN)) {
		*cur = *prev;	/* that chain stays unconsumed */
		vpci_queue_broken(q, "peer posted a lent buffer again");
		return false;
	}
	if (unlikely(ret == VPCI_RX_DROPPED)) {
		/* The last spare takes its place. */
		b->mb[b->got] = b->mb[--b->nmb];
		return true;
	}
	m->port = q->internal->port_id;
	/* The xstats read its destination address after the loop: a lent
	 * payload is otherwise not touched here.
	 */
	if (zc && ret == VPCI_RX_LENT)
		rte_prefetch0(rte_pktmbuf_mtod(m, void *));
	b->pkts[b->got++] = m;
	return true;
}

/* Spares back to the pool, deferred copies made, used entries published
 * and counted: the burst's packets.
 */
static __rte_always_inline uint16_t
vpci_rx_finish(struct vpci_queue *q, struct vpci_rx_burst *b,
		const struct vpci_cursor *cur, bool packed)
{
	uint64_t bytes = 0;
	uint16_t i;

	if (b->got < b->nmb)
		rte_pktmbuf_free_bulk(&b->mb[b->got], b->nmb - b->got);
	/* Before the publish: the buffers are the peer's again after it. */
	if (b->dp != NULL)
		vpci_defer_flush(b->dp);
	vpci_vring_publish(&q->vr, cur, b->used, packed);
	for (i = 0; i < b->got; i++) {
		bytes += b->pkts[i]->pkt_len;
		vpci_stats_pkt(&q->stats, b->pkts[i]);
	}
	q->stats.pkts += b->got;
	q->stats.bytes += bytes;
	return b->got;
}

/* RX from a split ring: the heads in batches, each scanned first (see
 * vpci_rx_scan_split()), then taken one by one.
 */
static __rte_always_inline uint16_t
vpci_rx_split(struct vpci_queue *q, struct rte_mbuf **pkts, uint16_t nb_pkts,
		bool zc, bool offload)
{
	struct vpci_xlate x = {
		.map = &q->internal->map, .hint = q->vr.region_hint
	}, *xl = &x;
	/* A burst never takes more than the shadow holds. */
	struct rte_mbuf *mb[VPCI_SHADOW_USED];
	struct vpci_rx_slot slot[VPCI_RX_BATCH];
	struct vpci_rx_burst b = { .pkts = pkts, .mb = mb };
	struct vpci_defer defer = { .n = 0 };
	struct vpci_cursor cur, prev;
	uint16_t i, base = 0, scanned = 0;
	struct vpci_chain c;
	bool ahead = true;
	int n, ret;

	n = vpci_queue_avail(q, RTE_MIN(nb_pkts, VPCI_SHADOW_USED));
	if (n < 0)
		return 0;
	/* Buffers the application freed go back even when nothing is new. */
	if (zc)
		b.used = vpci_zc_drain(q, 0, VPCI_SHADOW_USED - n);
	/* At most n chains: the shadow has room for n entries. */
	n = vpci_rx_alloc(q, &b, n);
	/* The offloads read the packet before the burst ends. */
	b.dp = offload ? NULL : &defer;
	vpci_cursor_start(&q->vr, &cur, n);
	for (i = 0; i < n && b.got < b.nmb; i++) {
		/* One slot per chain, each iteration takes one. */
		if (i == scanned) {
			base = i;
			scanned = i + RTE_MIN(n - i, VPCI_RX_BATCH);
			ahead = vpci_rx_scan_split(&q->vr, xl, cur.idx,
				scanned - base, slot);
		}
		prev = cur;
		cur.idx++;
		cur.left--;
		ret = vpci_rx_slot_chain(&q->vr, xl, &slot[i - base], &c);
		if (unlikely(ret != VPCI_CHAIN_OK)) {
			vpci_rx_refused(q, &b, ret, &c);
			continue;
		}
		if (ahead && i + 1 < n)
			vpci_prefetch_next(&q->vr, xl, &cur);
		if (!vpci_rx_take(q, &b, &c, &cur, &prev, zc, offload))
			break;
	}
	q->vr.region_hint = x.hint;
	return vpci_rx_finish(q, &b, &cur, false);
}

/* Mbufs for @want more chains: the burst's spares, topped up. False if
 * the pool has not enough.
 */
static inline bool
vpci_rx_refill(struct vpci_queue *q, struct vpci_rx_burst *b, uint16_t want)
{
	uint16_t spare = b->nmb - b->got, n;

	if (spare >= want)
		return true;
	n = want - spare;
	if (unlikely(rte_pktmbuf_alloc_bulk(q->mp, b->mb + b->nmb, n) != 0)) {
		q->stats.nombuf += n;
		return false;
	}
	b->nmb += n;
	return true;
}

/* The @k scanned chains of @s, then, if @pending, the longer one whose
 * first flags are @first: false if the burst stops here.
 */
static __rte_always_inline bool
vpci_rx_packed_batch(struct vpci_queue *q, struct vpci_rx_burst *b,
		struct vpci_xlate *xl, struct vpci_cursor *cur,
		const struct vpci_rx_slot *s, uint16_t k, bool pending,
		uint16_t first, bool ahead, bool zc, bool offload)
{
	struct vpci_cursor prev;
	struct vpci_chain c;
	uint16_t i;
	int ret;

	if (!vpci_rx_refill(q, b, k + pending))
		return false;
	for (i = 0; i < k + pending; i++) {
		if (b->got == b->nmb)
			return false;	/* the drops took the spares */
		prev = *cur;
		if (i < k)
			ret = vpci_rx_pslot_chain(&q->vr, cur, &s[i], &c);
		else
			ret = vpci_pchain_walk(&q->vr, xl, cur, false, &c,
				first);
		if (unlikely(ret != VPCI_CHAIN_OK)) {
			if (!vpci_rx_refused(q, b, ret, &c))
				return false;
			continue;
		}
		if (ahead && i + 1 < k)
			vpci_prefetch_slot(&s[i + 1]);
		if (!vpci_rx_take(q, b, &c, cur, &prev, zc, offload))
			return false;
	}
	return true;
}

/* RX from a packed ring, in batches: one walk over the available
 * descriptors (vpci_rx_scan_packed()), then their chains taken in turn.
 */
static __rte_always_inline uint16_t
vpci_rx_packed(struct vpci_queue *q, struct rte_mbuf **pkts, uint16_t nb_pkts,
		bool zc, bool offload)
{
	struct rte_mbuf *mb[VPCI_SHADOW_USED];
	struct vpci_rx_slot slot[VPCI_RX_BATCH];
	struct vpci_rx_burst b = { .pkts = pkts, .mb = mb };
	struct vpci_defer defer = { .n = 0 };
	/* No more chains than the shadow holds, nor than the ring. */
	uint16_t budget = RTE_MIN(RTE_MIN(nb_pkts, VPCI_SHADOW_USED),
		q->vr.size), lim, k, first = 0;
	bool pending, ahead, drained = !zc;
	struct vpci_xlate xl = {
		.map = &q->internal->map, .hint = q->vr.region_hint
	};
	struct vpci_cursor cur;

	b.dp = offload ? NULL : &defer;
	vpci_cursor_start(&q->vr, &cur, 0);
	do {
		lim = RTE_MIN(budget, VPCI_RX_BATCH);
		k = vpci_rx_scan_packed(&q->vr, &xl, &cur, lim, slot, &first,
			&pending, &ahead);
		/* Buffers the application freed go back even when nothing
		 * is new; what this batch takes still fits behind them.
		 */
		if (!drained) {
			b.used = vpci_zc_drain(q, 0,
				VPCI_SHADOW_USED - k - pending);
			budget = RTE_MIN(budget, VPCI_SHADOW_USED - b.used);
			drained = true;
		}
		if (!vpci_rx_packed_batch(q, &b, &xl, &cur, slot, k, pending,
				first, ahead, zc, offload))
			break;
		budget -= k + pending;
	} while (budget != 0 && (pending || k == lim));
	q->vr.region_hint = xl.hint;
	return vpci_rx_finish(q, &b, &cur, true);
}

/* One RX burst function per ring shape: format, lending, offloads. */
#define VPCI_RX_SHAPE(name, packed, zc, offload) \
static uint16_t \
name(struct vpci_queue *q, struct rte_mbuf **pkts, uint16_t nb_pkts) \
{ \
	return packed ? vpci_rx_packed(q, pkts, nb_pkts, zc, offload) : \
		vpci_rx_split(q, pkts, nb_pkts, zc, offload); \
}

VPCI_RX_SHAPE(vpci_rx_split_copy, false, false, false)
VPCI_RX_SHAPE(vpci_rx_split_copy_ol, false, false, true)
VPCI_RX_SHAPE(vpci_rx_split_zc, false, true, false)
VPCI_RX_SHAPE(vpci_rx_split_zc_ol, false, true, true)
VPCI_RX_SHAPE(vpci_rx_packed_copy, true, false, false)
VPCI_RX_SHAPE(vpci_rx_packed_copy_ol, true, false, true)
VPCI_RX_SHAPE(vpci_rx_packed_zc, true, true, false)
VPCI_RX_SHAPE(vpci_rx_packed_zc_ol, true, true, true)

/* Indexed by packed << 2 | zc << 1 | offload. */
static const vpci_burst_t vpci_rx_shapes[8] = {
	vpci_rx_split_copy, vpci_rx_split_copy_ol,
	vpci_rx_split_zc, vpci_rx_split_zc_ol,
	vpci_rx_packed_copy, vpci_rx_packed_copy_ol,
	vpci_rx_packed_zc, vpci_rx_packed_zc_ol,
};

/*
 * Both directions: the queue's burst function for its ring's shape, with
 * the queue held. The control thread takes the lock to attach or stop the
 * ring, so the BAR is never unmapped under a burst.
 */
static inline uint16_t
vpci_queue_burst(struct vpci_queue *q, struct rte_mbuf **pkts,
		uint16_t nb_pkts)
{
	uint16_t n = 0;

	if (unlikely(!rte_spinlock_trylock(&q->lock))) {
		q->stats.busy++;
		return 0;
	}
	/* The burst function is set before ready, under this lock. */
	if (likely(q->ready))
		n = q->burst(q, pkts, nb_pkts);
	else
		q->stats.not_ready++;
	rte_spinlock_unlock(&q->lock);
	return n;
}

uint16_t
eth_vpci_rx(void *rxq, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	return vpci_queue_burst(rxq, pkts, nb_pkts);
}

/* ---- TX: mbufs to the peer's RX ring ---- */

/* Copies into a list of peer buffers, filling each before the next. */
struct vpci_writer {
	struct vpci_chain *bufs;
	uint16_t buf;		/* current chain */
	uint16_t iov;		/* current iov in it */
	uint32_t off;		/* offset in that iov */
};

static void
vpci_write(struct vpci_writer *w, const uint8_t *src, uint32_t len)
{
	while (len != 0) {
		const struct vpci_iov *v = &w->bufs[w->buf].iov[w->iov];
		uint32_t n = RTE_MIN(len, v->len - w->off);

		rte_memcpy(v->base + w->off, src, n);
		w->off += n;
		src += n;
		len -= n;
		if (w->off == v->len) {
			w->off = 0;
			if (++w->iov == w->bufs[w->buf].niov) {
				w->iov = 0;
				w->buf++;
			}
		}
	}
}

/* Write @len bytes of @src at byte @off of the gathered buffers. */
static void
vpci_write_at(const struct vpci_chain *bufs, uint32_t off, const void *src,
		uint32_t len)
{
	struct vpci_writer w = { .bufs = (struct vpci_chain *)(uintptr_t)bufs };

	while (off >= w.bufs[w.buf].iov[w.iov].len) {
		off -= w.bufs[w.buf].iov[w.iov].len;
		if (++w.iov == w.bufs[w.buf].niov) {
			w.iov = 0;
			w.buf++;
		}
	}
	w.off = off;
	vpci_write(&w, src, len);
}

#define VPCI_GATHER_WAIT	0	/* too few buffers now: retry later */
#define VPCI_GATHER_BAD		(-1)	/* invalid chain: return *bad buffers */
#define VPCI_GATHER_TOO_BIG	(-2)	/* never fits: drop, consume none */
#define VPCI_GATHER_BROKEN	(-3)	/* the ring cannot be walked */

/* Gather enough peer buffers for hdr + packet from the cursor: their
 * number, or VPCI_GATHER_*. @packed and @mrg are the ring's shape:
 * VIRTIO_F_RING_PACKED, VIRTIO_NET_F_MRG_RXBUF.
 */
static __rte_always_inline int
vpci_tx_gather(struct vpci_queue *q, struct vpci_xlate *xl,
		struct vpci_cursor *cur, uint32_t need, struct vpci_chain *bufs,
		uint16_t *bad, bool packed, bool mrg)
{
	struct pmd_internal *internal = q->internal;
	uint16_t nb = 0, max = mrg ? VPCI_MAX_MRG_BUFS : 1;
	uint64_t have = 0;
	int ret;

	while (have < need) {
		if (nb == max) {
			/* Mergeable: too big for 64 buffers, drop it, consume
			 * none. Otherwise it waits (not sent) until the peer
			 * posts a buffer it fits in, as librte_vhost does.
			 */
			return mrg ? VPCI_GATHER_TOO_BIG : VPCI_GATHER_WAIT;
		}
		ret = vpci_chain_next(&q->vr, xl, cur, true, &bufs[nb],
			packed);
		if (ret == VPCI_CHAIN_NONE)
			return VPCI_GATHER_WAIT;
		if (unlikely(ret == VPCI_CHAIN_BROKEN))
			return VPCI_GATHER_BROKEN;
		/* A first buffer too short for the header is a runt: no
		 * byte of the packet goes anywhere, it goes back unused.
		 */
		if (unlikely(ret == VPCI_CHAIN_BAD || (nb == 0 &&
				bufs[0].len < internal->hdr_len))) {
			*bad = nb + 1;
			return VPCI_GATHER_BAD;
		}
		have += bufs[nb].len;
		nb++;
	}
	return nb;
}

/* Copy @m into @nb gathered buffers, the @first to @first + nb - 1 used
 * entries of this burst, behind the header @hdr.
 */
static __rte_always_inline void
vpci_tx_copy(struct vpci_queue *q, struct rte_mbuf *m,
		struct virtio_net_hdr_mrg_rxbuf *hdr, struct vpci_chain *bufs,
		uint16_t nb, uint16_t first)
{
	struct vpci_writer w = { .bufs = bufs };
	uint32_t left = q->internal->hdr_len + m->pkt_len;
	const struct rte_mbuf *seg;
	uint16_t i;

	hdr->num_buffers = rte_cpu_to_le_16(nb);
	vpci_write(&w, (const uint8_t *)hdr, q->internal->hdr_len);
	for (seg = m; seg != NULL; seg = seg->next)
		vpci_write(&w, rte_pktmbuf_mtod(seg, const uint8_t *),
			seg->data_len);
	/* The gather took just enough buffers and the writer fills them in
	 * order: all are full but the last, which holds what is left.
	 */
	for (i = 0; i < nb; i++) {
		uint32_t len = RTE_MIN(left, bufs[i].len);

		vpci_used_put(&q->vr, first + i, &bufs[i], len);
		left -= len;
	}
}

/*
 * Start reading the descriptors of the peer's next @n buffers. Their lines
 * were last written by the peer's core: the transfers of a whole burst
 * then overlap instead of one per packet. Only a hint: each descriptor is
 * still read once, when its chain is collected.
 */
static __rte_always_inline void
vpci_tx_prefetch_desc(const struct vpci_vring *vr,
		const struct vpci_cursor *cur, uint16_t n, bool packed)
{
	uint16_t i, pos = cur->idx;

	if (packed) {
		for (i = 0; i < RTE_MIN(n, vr->size); i += 4) {
			rte_prefetch0((const void *)&vr->pdesc[pos]);
			pos += 4;
			if (pos >= vr->size)
				pos -= vr->size;
		}
		return;
	}
	for (i = 0; i < n; i++)
		rte_prefetch0((const void *)
			&vr->desc[vr->avail->ring[(pos + i) & vr->mask] &
				vr->mask]);
}

/* Mbufs TX frees in one call. */
#define VPCI_TX_FREE_BULK	64

/* @m is sent or dropped: it goes with the others of its burst. */
static inline void
vpci_tx_done(struct rte_mbuf **done, uint16_t *n, struct rte_mbuf *m)
{
	if (unlikely(*n == VPCI_TX_FREE_BULK)) {
		rte_pktmbuf_free_bulk(done, *n);
		*n = 0;
	}
	done[(*n)++] = m;
}

#define VPCI_TX_OFFLOADS (RTE_MBUF_F_TX_L4_MASK | RTE_MBUF_F_TX_TCP_SEG)

/* What one TX burst has done so far. Only scalars: the arrays are apart,
 * so that this stays in registers across the calls they are passed to.
 */
struct vpci_tx_burst {
	struct vpci_cursor cur;
	uint16_t used;		/* staged used entries */
	uint16_t dropped;
	uint16_t ndone;		/* mbufs in done */
	uint64_t bytes;
	struct rte_mbuf **done;	/* sent or dropped, freed after the publish */
	struct vpci_chain *bufs;	/* the peer buffers of one packet */
};

#define VPCI_TX_SENT	0	/* copied, or dropped: the next one */
#define VPCI_TX_STOP	1	/* not taken: the burst ends before it */

/* @m into the peer's buffers at the cursor: VPCI_TX_*. */
static __rte_always_inline int
vpci_tx_one(struct vpci_queue *q, struct vpci_tx_burst *b,
		struct vpci_xlate *xl, struct rte_mbuf *m, bool packed, bool mrg)
{
	uint16_t hdr_len = q->internal->hdr_len, bad, i, csum;
	struct virtio_net_hdr_mrg_rxbuf hdr;
	struct vpci_cursor prev = b->cur;
	uint32_t csum_at;
	int nb, sw = 0;

	memset(&hdr, 0, sizeof(hdr));
	if (unlikely(m->ol_flags & VPCI_TX_OFFLOADS)) {
		sw = vpci_offload_tx(q->internal, m, &hdr.hdr, &csum_at, &csum);
		if (sw < 0)
			goto drop;
	}
	nb = vpci_tx_gather(q, xl, &b->cur, hdr_len + m->pkt_len, b->bufs,
		&bad, packed, mrg);
	if (unlikely(nb <= 0 && nb != VPCI_GATHER_BAD)) {
		/* The buffers looked at stay the peer's. */
		b->cur = prev;
		if (nb == VPCI_GATHER_WAIT) {
			q->stats.no_room++;
			return VPCI_TX_STOP;	/* full, or it does not fit yet */
		}
		if (nb == VPCI_GATHER_BROKEN) {
			vpci_queue_broken(q, "peer chain runs past the ring");
			return VPCI_TX_STOP;
		}
		goto drop;	/* too big for any buffers */
	}
	if (unlikely(nb < 0)) {
		/* Invalid chain: return the buffers unused, drop. The ids are
		 * the ones collected, not re-read.
		 */
		for (i = 0; i < bad; i++)
			vpci_used_put(&q->vr, b->used + i, &b->bufs[i], 0);
		b->used += bad;
		goto drop;
	}
	vpci_tx_copy(q, m, &hdr, b->bufs, nb, b->used);
	if (sw > 0)
		vpci_write_at(b->bufs, hdr_len + csum_at, &csum, sizeof(csum));
	b->used += nb;
	b->bytes += m->pkt_len;
	vpci_stats_pkt(&q->stats, m);
	vpci_tx_done(b->done, &b->ndone, m);
	return VPCI_TX_SENT;
drop:
	b->dropped++;
	vpci_tx_done(b->done, &b->ndone, m);
	return VPCI_TX_SENT;
}

static __rte_always_inline uint16_t
vpci_tx(struct vpci_queue *q, struct rte_mbuf **pkts, uint16_t nb_pkts,
		bool packed, bool mrg)
{
	struct vpci_chain bufs[VPCI_MAX_MRG_BUFS];
	struct rte_mbuf *done[VPCI_TX_FREE_BULK];
	struct vpci_tx_burst b = { .done = done, .bufs = bufs };
	/* Apart from b, which the chain walk need not see. */
	struct vpci_xlate xl = {
		.map = &q->internal->map, .hint = q->vr.region_hint
	};
	uint16_t sent;
	int avail;

	/* A packed ring is walked as far as it has buffers, in one pass:
	 * its gather finds where they end.
	 */
	avail = packed ? nb_pkts : vpci_queue_avail(q, UINT16_MAX);
	if (!packed && avail <= 0) {
		q->stats.no_room += avail == 0;
		return 0;
	}
	vpci_cursor_start(&q->vr, &b.cur, avail);
	vpci_tx_prefetch_desc(&q->vr, &b.cur,
		RTE_MIN(nb_pkts, (uint16_t)avail), packed);
	/* Room in the shadow for one more packet's worst case. */
	for (sent = 0; sent < nb_pkts &&
			b.used <= VPCI_SHADOW_USED - VPCI_MAX_MRG_BUFS; sent++) {
		if (sent + 1 < nb_pkts)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[sent + 1], void *));
		if (vpci_tx_one(q, &b, &xl, pkts[sent], packed, mrg) ==
				VPCI_TX_STOP)
			break;
	}
	q->vr.region_hint = xl.hint;
	vpci_vring_publish(&q->vr, &b.cur, b.used, packed);
	/* After the publish: the peer has its buffers first. */
	rte_pktmbuf_free_bulk(b.done, b.ndone);
	q->stats.pkts += sent - b.dropped;
	q->stats.errors += b.dropped;
	q->stats.bytes += b.bytes;
	return sent;
}

/* One TX burst function per ring shape: format, mergeable buffers. */
#define VPCI_TX_SHAPE(name, packed, mrg) \
static uint16_t \
name(struct vpci_queue *q, struct rte_mbuf **pkts, uint16_t nb_pkts) \
{ \
	return vpci_tx(q, pkts, nb_pkts, packed, mrg); \
}

VPCI_TX_SHAPE(vpci_tx_split, false, false)
VPCI_TX_SHAPE(vpci_tx_split_mrg, false, true)
VPCI_TX_SHAPE(vpci_tx_packed, true, false)
VPCI_TX_SHAPE(vpci_tx_packed_mrg, true, true)

/* Indexed by packed << 1 | mrg. */
static const vpci_burst_t vpci_tx_shapes[4] = {
	vpci_tx_split, vpci_tx_split_mrg, vpci_tx_packed, vpci_tx_packed_mrg,
};

void
vpci_queue_set_burst(struct vpci_queue *q)
{
	const struct pmd_internal *internal = q->internal;
	unsigned int packed = q->vr.packed;

	/* Odd vrings are the peer's TX rings, which RX drains. */
	if (q->vring_idx & 1)
		q->burst = vpci_rx_shapes[packed << 2 |
			(unsigned int)q->zc_active << 1 |
			(unsigned int)internal->rx_offload];
	else
		q->burst = vpci_tx_shapes[packed << 1 |
			(unsigned int)internal->mrg_rxbuf];
}

uint16_t
eth_vpci_tx(void *txq, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	return vpci_queue_burst(txq, pkts, nb_pkts);
}
