/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * RX: the peer's TX ring to mbufs, split or packed (vpci_ring.h walks the
 * rings). The available chains are taken in batches: one pass reads and
 * checks the heads and short chains, prefetching small buffers, then each
 * chain is lent to an mbuf (zero-copy, vpci_zc.c) or copied into one.
 * Small copies wait until the end of the burst, to run in one tight loop.
 *
 * One burst function per ring shape (format, lending, offloads), each with
 * the helpers inlined for its shape: vpci_queue_set_burst() picks it.
 */

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>

#include "vpci.h"
#include "vpci_ring.h"
#include "vpci_xstats.h"

/* First buffers up to this size are prefetched for the whole burst: small
 * frames with their virtio-net header. Larger ones are left to the
 * one-ahead prefetch and the hardware's: prefetching those too slowed
 * cold 1024-byte copies by a sixth (vpci_pmdcost).
 */
#define VPCI_PREFETCH_BURST	192

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
const vpci_burst_t vpci_rx_shapes[8] = {
	vpci_rx_split_copy, vpci_rx_split_copy_ol,
	vpci_rx_split_zc, vpci_rx_split_zc_ol,
	vpci_rx_packed_copy, vpci_rx_packed_copy_ol,
	vpci_rx_packed_zc, vpci_rx_packed_zc_ol,
};
