/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * Datapath over the peer's split vrings, read and written through the BAR.
 *
 * RX dequeues from the peer's TX ring, TX copies into the peer's RX ring.
 * Every descriptor chain is first collected into a private vector: each
 * descriptor is read once into a local copy, its index, flags, loop bound
 * and address range checked, and its address translated. Only then is data
 * copied, from the checked vector, never from the shared ring again.
 */

#include <sys/eventfd.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_memcpy.h>

#include "vpci.h"

/* Segments one chain may have; longer chains are refused. */
#define VPCI_MAX_IOV		64
/* Largest packet accepted from the peer, header excluded. */
#define VPCI_MAX_PKT_LEN	(64 * 1024)
/* Heads one mergeable packet may use. */
#define VPCI_MAX_MRG_BUFS	VPCI_MAX_IOV

struct vpci_iov {
	uint8_t *base;
	uint32_t len;
};

struct vpci_chain {
	uint16_t head;
	uint16_t niov;
	uint32_t len;		/* total bytes */
	struct vpci_iov iov[VPCI_MAX_IOV];
};

int
vpci_vring_init(struct vpci_vring *vr, const struct rte_vhost_pci_map *map,
		const struct rte_vhost_pci_vring *meta, uint64_t features,
		int callfd, int errfd)
{
	uint64_t n = meta->size;

	if (n == 0 || n > RTE_VHOST_PCI_MAX_RING_SIZE || !rte_is_power_of_2(n))
		return -1;
	vr->desc = rte_vhost_pci_translate(map, meta->desc, 16 * n);
	vr->avail = rte_vhost_pci_translate(map, meta->avail, 6 + 2 * n);
	vr->used = rte_vhost_pci_translate(map, meta->used, 6 + 8 * n);
	if (vr->desc == NULL || vr->avail == NULL || vr->used == NULL)
		return -1;
	vr->size = n;
	vr->mask = n - 1;
	vr->last_avail_idx = meta->last_avail_idx;
	vr->last_used_idx = meta->last_used_idx;
	vr->callfd = callfd;
	vr->errfd = errfd;
	vr->event_idx = !!(features & RTE_BIT64(VHOST_PCI_EVENT_IDX_BIT));
	vr->indirect = !!(features & RTE_BIT64(VPCI_F_INDIRECT_BIT));
	/* We poll: ask the peer not to kick. */
	vpci_vring_set_notify(vr, false);
	return 0;
}

/* Whether the peer should kick us on new buffers (RX interrupt mode). */
void
vpci_vring_set_notify(struct vpci_vring *vr, bool kick_wanted)
{
	vr->used->flags = kick_wanted ? 0 : VPCI_USED_F_NO_NOTIFY;
	/* With EVENT_IDX the peer reads avail_event instead of the flag:
	 * ask for a kick on its very next buffer.
	 */
	if (vr->event_idx && kick_wanted) {
		/* avail_event: the u16 after the used ring's elements. */
		volatile uint16_t *avail_event = (volatile uint16_t *)
			((uintptr_t)vr->used + 4 + 8u * vr->size);

		*avail_event = vr->last_avail_idx;
	}
	/* The peer must see the request before we sleep on the kick fd;
	 * pairs with its barrier between publishing avail and reading it.
	 */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Append one descriptor's bytes to @c: translated, and within bounds. */
static inline int
vpci_chain_add(const struct rte_vhost_pci_map *map, struct vpci_chain *c,
		uint64_t addr, uint32_t len)
{
	uint8_t *p;

	if (len == 0)
		return 0;
	if (unlikely(c->niov == VPCI_MAX_IOV))
		return -1;
	p = rte_vhost_pci_translate(map, addr, len);
	if (unlikely(p == NULL || c->len + (uint64_t)len > VPCI_MAX_PKT_LEN +
			sizeof(struct vpci_net_hdr)))
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
		const struct rte_vhost_pci_map *map, uint64_t addr, uint32_t len,
		uint16_t want, struct vpci_chain *c)
{
	struct vpci_desc t[VPCI_MAX_IOV];
	const volatile struct vpci_desc *src;
	uint32_t n = len / sizeof(t[0]), i, idx = 0, steps = 0;

	/* More entries than we would collect is a chain we refuse anyway. */
	if (len == 0 || len % sizeof(t[0]) != 0 || n > vr->size ||
			n > VPCI_MAX_IOV)
		return -1;
	src = rte_vhost_pci_translate(map, addr, len);
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
				(t[idx].flags & (VPCI_DESC_F_WRITE |
					VPCI_DESC_F_INDIRECT)) != want ||
				vpci_chain_add(map, c, t[idx].addr,
					t[idx].len) < 0))
			return -1;
		if (!(t[idx].flags & VPCI_DESC_F_NEXT))
			return c->niov != 0 ? 0 : -1;
		idx = t[idx].next;
	}
}

/* Walk one chain into @c. Returns 0, or -1 if the chain is invalid. */
static int
vpci_chain_collect(const struct vpci_vring *vr,
		const struct rte_vhost_pci_map *map, uint16_t head,
		bool writable, struct vpci_chain *c)
{
	const uint16_t want = writable ? VPCI_DESC_F_WRITE : 0;
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
		if (flags & VPCI_DESC_F_INDIRECT) {
			if (unlikely(!vr->indirect || n != 1 ||
					(flags & VPCI_DESC_F_NEXT)))
				return -1;
			return vpci_chain_indirect(vr, map, addr, len, want, c);
		}
		if (unlikely((flags & VPCI_DESC_F_WRITE) != want ||
				vpci_chain_add(map, c, addr, len) < 0))
			return -1;
		if (!(flags & VPCI_DESC_F_NEXT))
			/* No bytes at all is no buffer: writers index iov[0]. */
			return c->niov != 0 ? 0 : -1;
		idx = vr->desc[idx].next;
	}
}

/* Peer-published entries not yet consumed, up to @max. A jump of more
 * than the ring size is a broken peer: -1.
 */
static inline int
vpci_avail_count(const struct vpci_vring *vr, uint16_t max)
{
	/* Pairs with the peer's release of avail->idx after it filled the
	 * ring entries and descriptors: those are visible after this load.
	 */
	uint16_t idx = __atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE);
	uint16_t n = idx - vr->last_avail_idx;

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
	VPCI_LOG(ERR, "%s %u: %s; queue stopped",
		(q->vring_idx & 1) ? "rxq" : "txq", q->qid, why);
	q->stats.errors++;
	q->ready = false;
	if (q->vr.errfd >= 0 && eventfd_write(q->vr.errfd, 1) < 0)
		VPCI_LOG(DEBUG, "error eventfd write failed");
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

static inline uint16_t
vpci_avail_head(const struct vpci_vring *vr, uint16_t i)
{
	return vr->avail->ring[(uint16_t)(vr->last_avail_idx + i) & vr->mask];
}

static inline void
vpci_used_put(struct vpci_vring *vr, uint16_t i, uint16_t id, uint32_t len)
{
	vr->shadow[i].id = id;
	vr->shadow[i].len = len;
}

/* The staged entries into the peer's used ring, wrapping at its end. */
static inline void
vpci_used_flush(struct vpci_vring *vr, uint16_t n)
{
	uint16_t start = vr->last_used_idx & vr->mask;
	uint16_t first = RTE_MIN(n, (uint16_t)(vr->size - start));

	rte_memcpy((void *)(uintptr_t)&vr->used->ring[start], vr->shadow,
		first * sizeof(vr->shadow[0]));
	if (first < n)
		rte_memcpy((void *)(uintptr_t)&vr->used->ring[0],
			&vr->shadow[first], (n - first) * sizeof(vr->shadow[0]));
}

static inline bool
vpci_need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/* Consume @avail entries, publish @used entries, notify if asked. */
static void
vpci_vring_publish(struct vpci_vring *vr, uint16_t avail, uint16_t used)
{
	uint16_t old = vr->last_used_idx;
	bool notify;

	vpci_used_flush(vr, used);
	vr->last_avail_idx += avail;
	vr->last_used_idx += used;
	/* Pairs with the peer's acquire of used->idx: the used elements and
	 * the data written into its buffers are visible before the index.
	 */
	__atomic_store_n(&vr->used->idx, vr->last_used_idx, __ATOMIC_RELEASE);
	if (vr->callfd < 0 || used == 0)
		return;
	/* Order the index store before reading the peer's suppression
	 * state; pairs with the barrier the peer puts between re-enabling
	 * notifications and re-checking used->idx.
	 */
	rte_atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vr->event_idx)
		notify = vpci_need_event(vr->avail->ring[vr->size],
			vr->last_used_idx, old);
	else
		notify = !(vr->avail->flags & VPCI_AVAIL_F_NO_INTERRUPT);
	if (notify && eventfd_write(vr->callfd, 1) < 0)
		VPCI_LOG(DEBUG, "call eventfd write failed");
}

/* ---- RX: peer TX ring to mbufs ---- */

/* Copy the chain, minus the virtio-net header, into @m. */
static int
vpci_chain_to_mbuf(struct vpci_queue *q, const struct vpci_chain *c,
		struct rte_mbuf *m)
{
	uint32_t skip = q->internal->hdr_len, room, n, off;
	struct rte_mbuf *seg = m, *next;
	uint16_t i;

	if (unlikely(c->len <= skip))
		return -1;
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

/* The payload after the header, if it lies in one piece: its length (and
 * *data), else 0.
 */
static uint32_t
vpci_chain_payload(const struct vpci_chain *c, uint32_t hdr, uint8_t **data)
{
	uint16_t i;

	for (i = 0; i < c->niov && hdr >= c->iov[i].len; i++)
		hdr -= c->iov[i].len;
	if (i != c->niov - 1 || hdr >= c->iov[i].len)
		return 0;
	*data = c->iov[i].base + hdr;
	return c->iov[i].len - hdr;
}

#define VPCI_RX_COPIED	0	/* used entry written */
#define VPCI_RX_LENT	1	/* used entry waits for the mbuf's free */
#define VPCI_RX_DROPPED	2	/* invalid chain: entry written, no packet */
#define VPCI_RX_BROKEN	(-1)	/* the peer broke the ring: stop it */

/* One chain into @m; returns VPCI_RX_*. */
static int
vpci_rx_one(struct vpci_queue *q, uint16_t head, struct rte_mbuf *m,
		uint16_t *used)
{
	struct pmd_internal *internal = q->internal;
	struct vpci_chain c;
	uint8_t *data;
	uint32_t len;
	int ret;

	ret = VPCI_RX_DROPPED;
	if (likely(vpci_chain_collect(&q->vr, &internal->map, head, false,
			&c) == 0)) {
		if (q->zc_active) {
			len = vpci_chain_payload(&c, internal->hdr_len, &data);
			if (len != 0) {
				ret = vpci_zc_lend(q, head, data, len, m);
				if (ret == 1)
					return VPCI_RX_LENT;
				if (ret < 0)
					return VPCI_RX_BROKEN;
			}
		}
		ret = vpci_chain_to_mbuf(q, &c, m) == 0 ? VPCI_RX_COPIED :
			VPCI_RX_DROPPED;
	}
	if (ret == VPCI_RX_DROPPED)
		q->stats.errors++;
	/* A device-read buffer is returned with length 0. */
	vpci_used_put(&q->vr, (*used)++, head, 0);
	return ret;
}

uint16_t
eth_vpci_rx(void *rxq, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	struct vpci_queue *q = rxq;
	/* A burst never takes more than the shadow holds. */
	struct rte_mbuf *mb[VPCI_SHADOW_USED];
	uint16_t i, got = 0, used = 0;
	uint64_t bytes = 0;
	int n, ret;

	if (unlikely(!rte_spinlock_trylock(&q->lock)))
		return 0;
	if (unlikely(!q->ready))
		goto out;
	n = vpci_queue_avail(q, RTE_MIN(nb_pkts, VPCI_SHADOW_USED));
	if (n < 0)
		goto out;
	/* Buffers the application freed go back even when nothing is new. */
	if (q->zc_active)
		used = vpci_zc_drain(q, 0, VPCI_SHADOW_USED - n);
	if (n > 0 && unlikely(rte_pktmbuf_alloc_bulk(q->mp, mb, n) != 0)) {
		q->stats.nombuf += n;
		n = 0;
	}
	for (i = 0; i < n; i++) {
		uint16_t head = vpci_avail_head(&q->vr, i);

		ret = vpci_rx_one(q, head, mb[i], &used);
		if (unlikely(ret == VPCI_RX_BROKEN)) {
			vpci_queue_broken(q, "peer posted a lent head again");
			rte_pktmbuf_free_bulk(&mb[i], n - i);
			n = i;
			break;
		}
		if (unlikely(ret == VPCI_RX_DROPPED)) {
			rte_pktmbuf_free(mb[i]);
			continue;
		}
		mb[i]->port = q->internal->port_id;
		bytes += mb[i]->pkt_len;
		pkts[got++] = mb[i];
	}
	vpci_vring_publish(&q->vr, n, used);
	q->stats.pkts += got;
	q->stats.bytes += bytes;
out:
	rte_spinlock_unlock(&q->lock);
	return got;
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

/*
 * Gather enough peer buffers for hdr + packet. Returns the number of heads
 * used, 0 if the ring has too few right now, -1 if a chain is invalid
 * (*bad is then how many heads were consumed and must be returned).
 */
static int
vpci_tx_gather(struct vpci_queue *q, uint16_t start, uint16_t avail,
		uint32_t need, struct vpci_chain *bufs, uint16_t *bad)
{
	struct pmd_internal *internal = q->internal;
	uint16_t nb = 0, max = internal->mrg_rxbuf ? VPCI_MAX_MRG_BUFS : 1;
	uint64_t have = 0;

	while (have < need) {
		if (nb == max) {
			/* Mergeable: too big for 64 buffers, drop it, consume
			 * none. Otherwise it waits (not sent) until the peer
			 * posts a buffer it fits in, as librte_vhost does.
			 */
			*bad = 0;
			return internal->mrg_rxbuf ? -1 : 0;
		}
		if (start + nb == avail)
			return 0;
		if (vpci_chain_collect(&q->vr, &internal->map,
				vpci_avail_head(&q->vr, start + nb), true,
				&bufs[nb]) < 0) {
			*bad = nb + 1;
			return -1;
		}
		have += bufs[nb].len;
		nb++;
	}
	return nb;
}

/* Copy @m into @nb gathered buffers, the @first to @first + nb - 1 used
 * entries of this burst.
 */
static void
vpci_tx_copy(struct vpci_queue *q, struct rte_mbuf *m,
		struct vpci_chain *bufs, uint16_t nb, uint16_t first)
{
	struct vpci_writer w = { .bufs = bufs };
	struct vpci_net_hdr hdr = { .num_buffers = nb };
	uint32_t left = q->internal->hdr_len + m->pkt_len;
	const struct rte_mbuf *seg;
	uint16_t i;

	vpci_write(&w, (const uint8_t *)&hdr, q->internal->hdr_len);
	for (seg = m; seg != NULL; seg = seg->next)
		vpci_write(&w, rte_pktmbuf_mtod(seg, const uint8_t *),
			seg->data_len);
	/* The gather took just enough buffers and the writer fills them in
	 * order: all are full but the last, which holds what is left.
	 */
	for (i = 0; i < nb; i++) {
		uint32_t len = RTE_MIN(left, bufs[i].len);

		vpci_used_put(&q->vr, first + i, bufs[i].head, len);
		left -= len;
	}
}

uint16_t
eth_vpci_tx(void *txq, struct rte_mbuf **pkts, uint16_t nb_pkts)
{
	struct vpci_queue *q = txq;
	struct vpci_chain bufs[VPCI_MAX_MRG_BUFS];
	uint16_t sent = 0, used = 0, dropped = 0, bad, i;
	uint64_t bytes = 0;
	int avail, nb;

	if (unlikely(!rte_spinlock_trylock(&q->lock)))
		return 0;
	if (unlikely(!q->ready))
		goto out;
	avail = vpci_queue_avail(q, UINT16_MAX);
	if (avail <= 0)
		goto out;
	/* Room in the shadow for one more packet's worst case. */
	for (; sent < nb_pkts && used <= VPCI_SHADOW_USED - VPCI_MAX_MRG_BUFS;
			sent++) {
		struct rte_mbuf *m = pkts[sent];

		nb = vpci_tx_gather(q, used, avail,
			q->internal->hdr_len + m->pkt_len, bufs, &bad);
		if (nb == 0)
			break;	/* ring full, or the packet does not fit */
		if (unlikely(nb < 0)) {
			/* Invalid chain: return the heads unused, drop. The
			 * heads are the ones collected, not re-read.
			 */
			for (i = 0; i < bad; i++)
				vpci_used_put(&q->vr, used + i, bufs[i].head, 0);
			used += bad;
			dropped++;
			rte_pktmbuf_free(m);
			continue;
		}
		vpci_tx_copy(q, m, bufs, nb, used);
		used += nb;
		bytes += m->pkt_len;
		rte_pktmbuf_free(m);
	}
	vpci_vring_publish(&q->vr, used, used);
	q->stats.pkts += sent - dropped;
	q->stats.errors += dropped;
	q->stats.bytes += bytes;
out:
	rte_spinlock_unlock(&q->lock);
	return sent;
}
