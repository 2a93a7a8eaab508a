/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * TX: mbufs copied into the peer's RX ring, split or packed (vpci_ring.h
 * walks the rings). Each packet gathers enough peer buffers for its
 * virtio-net header and payload (several with mergeable RX buffers), is
 * copied in behind the header, and its used entries are staged; the burst
 * publishes them once and frees the mbufs after.
 *
 * One burst function per ring shape (format, mergeable buffers), each with
 * the helpers inlined for its shape: vpci_queue_set_burst() picks it.
 */

#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_memcpy.h>
#include <rte_prefetch.h>

#include "vpci.h"
#include "vpci_ring.h"
#include "vpci_xstats.h"

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
const vpci_burst_t vpci_tx_shapes[4] = {
	vpci_tx_split, vpci_tx_split_mrg, vpci_tx_packed, vpci_tx_packed_mrg,
};
