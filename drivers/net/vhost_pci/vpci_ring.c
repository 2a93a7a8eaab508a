/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * The rings' setup and the parts of their walk both directions share out
 * of line: chain collection (split and packed, indirect tables included),
 * stopping a broken queue, and the peer's notification. Also the entry
 * points of both directions, which hold the queue and run the burst
 * function of its ring's shape (vpci_rx.c, vpci_tx.c); vpci_ring.h says
 * how a chain is collected and why.
 */

#include <sys/eventfd.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_io.h>

#include "vpci.h"
#include "vpci_ring.h"

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
int
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
int
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

/* The peer broke the ring: stop the queue, count it, tell the peer on
 * its error eventfd. The queue stays stopped until the ring is set up
 * again.
 */
__rte_cold void
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
void
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

uint16_t
eth_vpci_tx(void *txq, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	return vpci_queue_burst(txq, pkts, nb_pkts);
}

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
