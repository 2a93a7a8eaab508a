/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * libFuzzer harness of the PMD datapath (vpci_ring.c, vpci_rx.c,
 * vpci_tx.c, vpci_zc.c, vpci_offload.c): eth_vpci_rx() and eth_vpci_tx()
 * walk rings that a hostile peer wrote, split or packed, with indirect
 * tables, mergeable buffers, event index, virtio-net header offloads and
 * zero-copy RX.
 *
 * The BAR is fake and fixed: a metadata page (read-only) and 64 KiB of
 * peer memory, between two PROT_NONE guard pages. Guest address == offset
 * in that 64 KiB. In two-region mode the page at 0x8000 is no region and
 * PROT_NONE: region 0 is [0, 0x8000), region 1 [0x9000, 0x10000). The
 * input's image is the peer memory: an RX ring (the peer's TX ring, vring
 * 1) and a TX ring (the peer's RX ring, vring 0) at its start, laid out
 * one after the other (or where the input says), buffers after them.
 *
 * Input format (all integers little endian): struct ring_cfg below, then
 * the image, copied to guest address 0 onwards (the rest is zeros). Each
 * of 1-4 rounds writes a 16-bit patch into the image (the peer moving on),
 * runs one RX burst and one TX burst of built packets; RX mbufs are freed
 * at once or held to the end (zero-copy buffers then stay lent across
 * rounds). A last empty RX burst returns freed zero-copy buffers.
 *
 * The queues are set up by hand as vpci_ctl.c's attach does; the only
 * library calls of zero-copy, rte_vhost_pci_dev_bar_hold() (once per
 * attach) and rte_vhost_pci_bar_release() (when the last lent mbuf or
 * the ring's stop lets go), are stubs that count holds. EAL runs with --no-huge -m 256 on one lcore, for a
 * 4095-mbuf mempool (held mbufs may exhaust it: TX then sends fewer).
 *
 * Invariants checked (an abort is a finding; ASan/UBSan add theirs):
 * - nothing outside the peer memory is touched: guard pages around the
 *   BAR, the hole between the two regions and the metadata page are not
 *   writable (the first three not readable either);
 * - every RX mbuf passes rte_mbuf_check(); nb_segs is the chain's length
 *   and pkt_len the sum of data_len; pkt_len is 1..64 KiB; each segment's
 *   data lies in the mempool (copied) or inside one region of the BAR
 *   (zero-copy external buffer, only with zero-copy on);
 * - RX and TX return no more than asked;
 * - the indexes a ready ring would write back on stop are accepted by the
 *   next attach (vpci_vring_base() into vpci_vring_init());
 * - after the input, every mbuf is back in the mempool (no leak, no double
 *   free), every BAR hold taken for a lent buffer is released, and no
 *   zero-copy buffer is in flight.
 *
 * --write-seeds=DIR writes the seed corpus (tests/fuzz/corpus/ring).
 */

#include <inttypes.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "fuzz_common.h"
#include "vpci.h"

#define PAGE		4096u
#define MEM_SIZE	0x10000u	/* peer memory, guest address 0 */
#define HOLE		0x8000u		/* two-region mode: no region here */
#define HOLE_SIZE	PAGE
#define NB_MBUF		4095u
#define MAX_BURST	255u
#define MAX_HELD	(4u * MAX_BURST)
#define MAX_ROUNDS	4u
#define NSPEC		4u
#define SEG_ROOM	2048u

/* feat bits */
#define FEAT_PACKED	0x01u
#define FEAT_INDIRECT	0x02u
#define FEAT_MRG	0x04u
#define FEAT_EVENT_IDX	0x08u
#define FEAT_VERSION_1	0x10u
#define FEAT_ZC		0x20u
#define FEAT_2REGIONS	0x40u
#define FEAT_NOTIFY	0x80u	/* call and error eventfds */
/* offl bits */
#define OFFL_CSUM	0x01u
#define OFFL_GUEST_CSUM	0x02u
#define OFFL_GUEST_TSO4	0x04u
#define OFFL_GUEST_TSO6	0x08u
#define OFFL_HOST_TSO4	0x10u
#define OFFL_HOST_TSO6	0x20u
#define OFFL_RX_INTR	0x40u	/* ask the peer to kick (RX interrupt) */
#define OFFL_LAYOUT	0x80u	/* rings where layout[] says */
/* misc bits */
#define MISC_HOLD_FAILS	0x01u	/* rte_vhost_pci_dev_bar_hold() fails */

/* A TX packet: length, segments and offload request. */
struct tx_spec {
	uint16_t len;		/* modulo segs * SEG_ROOM + 1 */
	uint8_t segs_ol;	/* bits 0-1: segments - 1; 2-3: L4 csum
				 * (none, TCP, SCTP, UDP); 4: IPV4; 5: TCP_SEG;
				 * 6: IPV6; 7: IP_CKSUM
				 */
	uint8_t l2;
	uint8_t l3;
	uint8_t l4;
	uint16_t tso;
} __attribute__((packed));

struct ring_cfg {
	uint8_t feat;
	uint8_t offl;
	uint8_t rx_size;	/* split: 1 << (v % 9); packed: v + 1 */
	uint8_t tx_size;
	uint16_t rx_avail_base;	/* packed: bit 15 wrap, rest mod size */
	uint16_t rx_used_base;
	uint16_t tx_avail_base;
	uint16_t tx_used_base;
	uint16_t zc_min_len;
	uint8_t rx_burst;
	uint8_t rounds;		/* bits 0-1: rounds - 1; bits 4-7: hold the
				 * RX mbufs of round i to the end
				 */
	uint8_t tx_pkts;	/* TX packets per round, modulo 16 */
	uint8_t misc;
	uint16_t layout[6];	/* OFFL_LAYOUT: rx desc, avail, used; tx ... */
	struct {
		uint16_t off;	/* even offset in the image */
		uint16_t val;
	} __attribute__((packed)) patch[MAX_ROUNDS];
	struct tx_spec spec[NSPEC];
} __attribute__((packed));

struct ring_layout {
	uint32_t size;
	uint64_t desc, avail, used;
};

static uint8_t *bar;		/* metadata page; the peer memory follows */
static uint8_t *mem;		/* bar + PAGE: guest address 0 */
static struct rte_vhost_pci_map map_one, map_two;
static bool hole_open = true;
static struct rte_mempool *mp;
static struct {
	uintptr_t start, end;
} mp_chunk[64];
static unsigned int mp_nchunks;
static int evfd = -1;
static struct pmd_internal internal;
static struct rte_mbuf *held[MAX_HELD];
static unsigned int nheld;
static bool verbose;

/* ---- what the PMD takes from the library ---- */

int vpci_logtype;
int vpci_logtype_rx;
int vpci_logtype_tx;

/* The window hold of a lent buffer: counted, must come back. */
static int holds;
static bool hold_fails;
static char hold_token;

void *
rte_vhost_pci_dev_bar_hold(int vid)
{
	FUZZ_CHECK(vid >= 0, "BAR hold without a device");
	if (hold_fails)
		return NULL;
	holds++;
	return &hold_token;
}

void
rte_vhost_pci_bar_release(void *hold)
{
	FUZZ_CHECK(hold == &hold_token, "release of a hold never taken");
	FUZZ_CHECK(holds > 0, "more BAR releases than holds");
	holds--;
}

/* ---- layout ---- */

static uint32_t
ring_size(uint8_t v, bool packed)
{
	return packed ? v + 1u : 1u << (v % 9);
}

static uint64_t
ring_place(struct ring_layout *l, bool packed, uint64_t off)
{
	l->desc = RTE_ALIGN_CEIL(off, 16);
	off = l->desc + 16ull * l->size;
	l->avail = RTE_ALIGN_CEIL(off, 2);
	off = l->avail + (packed ? 4 : 6 + 2ull * l->size);
	l->used = RTE_ALIGN_CEIL(off, 4);
	return l->used + (packed ? 4 : 6 + 8ull * l->size);
}

/* Where the rings are; returns where the buffers may start. */
static uint64_t
layout(const struct ring_cfg *c, struct ring_layout *rx,
		struct ring_layout *tx)
{
	bool packed = c->feat & FEAT_PACKED;
	uint64_t end;

	rx->size = ring_size(c->rx_size, packed);
	tx->size = ring_size(c->tx_size, packed);
	end = ring_place(rx, packed, 0);
	end = ring_place(tx, packed, end);
	if (c->offl & OFFL_LAYOUT) {
		/* Anywhere, even misaligned: neither the library nor the
		 * driver checks what virtio requires (2.7: 16, 2 and 4).
		 */
		rx->desc = c->layout[0];
		rx->avail = c->layout[1];
		rx->used = c->layout[2];
		tx->desc = c->layout[3];
		tx->avail = c->layout[4];
		tx->used = c->layout[5];
	}
	return RTE_ALIGN_CEIL(end, 64);
}

/* ---- checks ---- */

static void
mp_chunk_cb(struct rte_mempool *m __rte_unused, void *opaque __rte_unused,
		struct rte_mempool_memhdr *h, unsigned int idx __rte_unused)
{
	if (mp_nchunks < RTE_DIM(mp_chunk)) {
		mp_chunk[mp_nchunks].start = (uintptr_t)h->addr;
		mp_chunk[mp_nchunks].end = (uintptr_t)h->addr + h->len;
		mp_nchunks++;
	}
}

static bool
in_mempool(uintptr_t p, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < mp_nchunks; i++)
		if (p >= mp_chunk[i].start && p <= mp_chunk[i].end &&
				len <= mp_chunk[i].end - p)
			return true;
	return false;
}

static bool
in_region(const struct rte_vhost_pci_map *map, uintptr_t p, uint64_t len)
{
	uint32_t i;

	for (i = 0; i < map->nregions; i++) {
		uintptr_t s = (uintptr_t)map->region[i].host;

		if (p >= s && p - s <= map->region[i].size &&
				len <= map->region[i].size - (p - s))
			return true;
	}
	return false;
}

static void
check_rx_mbuf(const struct vpci_queue *q, struct rte_mbuf *m)
{
	const struct rte_mbuf *seg;
	const char *why = NULL;
	uint32_t nsegs = 0;
	uint64_t sum = 0;

	FUZZ_CHECK(rte_mbuf_check(m, 1, &why) == 0, "bad RX mbuf: %s", why);
	for (seg = m; seg != NULL; seg = seg->next) {
		uintptr_t p = rte_pktmbuf_mtod(seg, uintptr_t);

		nsegs++;
		sum += seg->data_len;
		FUZZ_CHECK((uint32_t)seg->data_off + seg->data_len <=
			seg->buf_len, "segment data past its buffer");
		if (RTE_MBUF_HAS_EXTBUF(seg)) {
			FUZZ_CHECK(q->zc_active,
				"external buffer without zero-copy");
			FUZZ_CHECK(in_region(&internal.map, p, seg->data_len),
				"lent data %p+%u outside the regions",
				(void *)p, seg->data_len);
		} else {
			FUZZ_CHECK(in_mempool(p, seg->data_len),
				"data %p+%u outside the mempool", (void *)p,
				seg->data_len);
		}
	}
	FUZZ_CHECK(nsegs == m->nb_segs, "nb_segs %u, %u segments",
		m->nb_segs, nsegs);
	FUZZ_CHECK(sum == m->pkt_len, "pkt_len %u, data_len sum %" PRIu64,
		m->pkt_len, sum);
	FUZZ_CHECK(m->pkt_len >= 1 && m->pkt_len <= 64 * 1024,
		"RX packet of %u bytes", m->pkt_len);
	FUZZ_CHECK(m->port == internal.port_id, "RX mbuf of port %u",
		m->port);
	if (m->ol_flags & RTE_MBUF_F_RX_LRO)
		FUZZ_CHECK(m->tso_segsz != 0, "LRO with no segment size");
}

/* ---- per input ---- */

static void
set_mode(bool two)
{
	bool open = !two;

	if (open == hole_open)
		return;
	if (mprotect(mem + HOLE, HOLE_SIZE,
			open ? PROT_READ | PROT_WRITE : PROT_NONE) < 0) {
		perror("mprotect");
		abort();
	}
	hole_open = open;
}

static void
load_image(const uint8_t *img, size_t len, bool two)
{
	size_t n = RTE_MIN(len, (size_t)MEM_SIZE), k;

	set_mode(two);
	if (!two) {
		memset(mem, 0, MEM_SIZE);
		memcpy(mem, img, n);
		return;
	}
	memset(mem, 0, HOLE);
	memset(mem + HOLE + HOLE_SIZE, 0, MEM_SIZE - HOLE - HOLE_SIZE);
	k = RTE_MIN(n, (size_t)HOLE);
	memcpy(mem, img, k);
	if (n > HOLE + HOLE_SIZE)
		memcpy(mem + HOLE + HOLE_SIZE, img + HOLE + HOLE_SIZE,
			n - HOLE - HOLE_SIZE);
}

static uint16_t
packed_base(uint16_t v, uint32_t size)
{
	return ((v & 0x7fffu) % size) | (v & 0x8000u);
}

static uint64_t
features_of(const struct ring_cfg *c)
{
	static const struct {
		uint8_t bit;
		uint8_t feature;
	} offl[] = {
		{ OFFL_CSUM, VIRTIO_NET_F_CSUM },
		{ OFFL_GUEST_CSUM, VIRTIO_NET_F_GUEST_CSUM },
		{ OFFL_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO4 },
		{ OFFL_GUEST_TSO6, VIRTIO_NET_F_GUEST_TSO6 },
		{ OFFL_HOST_TSO4, VIRTIO_NET_F_HOST_TSO4 },
		{ OFFL_HOST_TSO6, VIRTIO_NET_F_HOST_TSO6 },
	};
	uint64_t f = 0;
	unsigned int i;

	if (c->feat & FEAT_PACKED)
		f |= RTE_BIT64(VIRTIO_F_RING_PACKED);
	if (c->feat & FEAT_INDIRECT)
		f |= RTE_BIT64(VIRTIO_RING_F_INDIRECT_DESC);
	if (c->feat & FEAT_MRG)
		f |= RTE_BIT64(VIRTIO_NET_F_MRG_RXBUF);
	if (c->feat & FEAT_EVENT_IDX)
		f |= RTE_BIT64(VIRTIO_RING_F_EVENT_IDX);
	if (c->feat & FEAT_VERSION_1)
		f |= RTE_BIT64(VIRTIO_F_VERSION_1);
	for (i = 0; i < RTE_DIM(offl); i++)
		if (c->offl & offl[i].bit)
			f |= RTE_BIT64(offl[i].feature);
	return f;
}

/* What vpci_port_attach() derives from the features. */
static void
internal_setup(const struct ring_cfg *c)
{
	uint64_t f = features_of(c);

	internal.port_id = 0;
	internal.max_queue_pairs = 1;
	/* Only ever passed to the BAR hold stub. */
	internal.vid = 1;
	internal.map = (c->feat & FEAT_2REGIONS) ? map_two : map_one;
	internal.features = f;
	internal.rx_offload = !!(f & (RTE_BIT64(VIRTIO_NET_F_CSUM) |
		RTE_BIT64(VIRTIO_NET_F_HOST_TSO4) |
		RTE_BIT64(VIRTIO_NET_F_HOST_TSO6)));
	internal.mrg_rxbuf = !!(f & RTE_BIT64(VIRTIO_NET_F_MRG_RXBUF));
	internal.hdr_len = (internal.mrg_rxbuf ||
			(f & RTE_BIT64(VIRTIO_F_VERSION_1))) ?
		sizeof(struct virtio_net_hdr_mrg_rxbuf) :
		sizeof(struct virtio_net_hdr);
	internal.zero_copy = !!(c->feat & FEAT_ZC);
	internal.zc_min_len = c->zc_min_len;
}

/* What vpci_queue_attach() does for one ring. */
static void
queue_setup(struct vpci_queue *q, uint16_t vring, const struct ring_cfg *c,
		const struct ring_layout *l, uint16_t avail, uint16_t used)
{
	bool packed = c->feat & FEAT_PACKED;
	int fd = (c->feat & FEAT_NOTIFY) ? evfd : -1;
	struct vpci_notify call = { .reg = NULL, .fd = fd };
	struct rte_vhost_pci_vring mv = {
		.size = l->size,
		.flags = RTE_VHOST_PCI_VRING_F_READY |
			RTE_VHOST_PCI_VRING_F_ENABLED,
		.desc = l->desc,
		.avail = l->avail,
		.used = l->used,
		.last_avail_idx = packed ? packed_base(avail, l->size) : avail,
		.last_used_idx = packed ? packed_base(used, l->size) : used,
	};

	memset(q, 0, sizeof(*q));
	rte_spinlock_init(&q->lock);
	q->qid = 0;
	q->vring_idx = vring;
	q->internal = &internal;
	if (vring & 1) {
		q->mp = mp;
		q->intr_enabled = !!(c->offl & OFFL_RX_INTR);
	}
	if (vpci_vring_init(&q->vr, &internal.map, &mv, internal.features,
			&call, fd) != 0)
		return;
	q->zc_active = internal.zero_copy && (vring & 1) &&
		vpci_zc_attach(q, false) == 0;
	vpci_queue_set_burst(q);
	q->ready = true;
	if (q->intr_enabled)
		vpci_vring_set_notify(&q->vr, true);
}

static struct rte_mbuf *
tx_build(const struct tx_spec *s, unsigned int salt)
{
	static const uint64_t l4[] = {
		0, RTE_MBUF_F_TX_TCP_CKSUM, RTE_MBUF_F_TX_SCTP_CKSUM,
		RTE_MBUF_F_TX_UDP_CKSUM,
	};
	uint32_t nsegs = (s->segs_ol & 3u) + 1, len, per, left, i, j;
	struct rte_mbuf *m = NULL, *seg, *prev = NULL;
	const char *why = NULL;
	uint8_t *p;

	len = s->len % (nsegs * SEG_ROOM + 1);
	per = (len + nsegs - 1) / nsegs;
	left = len;
	for (i = 0; i < nsegs; i++) {
		/* Held RX mbufs may have taken them all: send fewer. */
		seg = rte_pktmbuf_alloc(mp);
		if (seg == NULL) {
			rte_pktmbuf_free(m);
			return NULL;
		}
		p = (uint8_t *)rte_pktmbuf_append(seg, RTE_MIN(per, left));
		FUZZ_CHECK(p != NULL || RTE_MIN(per, left) == 0,
			"harness: segment of %u bytes", per);
		for (j = 0; j < seg->data_len; j++)
			p[j] = (uint8_t)(j * 7 + salt + i);
		left -= seg->data_len;
		if (m == NULL) {
			m = seg;
		} else {
			prev->next = seg;
			m->nb_segs++;
			m->pkt_len += seg->data_len;
		}
		prev = seg;
	}
	m->ol_flags = l4[(s->segs_ol >> 2) & 3u];
	if (s->segs_ol & 0x10)
		m->ol_flags |= RTE_MBUF_F_TX_IPV4;
	if (s->segs_ol & 0x20)
		m->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
	if (s->segs_ol & 0x40)
		m->ol_flags |= RTE_MBUF_F_TX_IPV6;
	if (s->segs_ol & 0x80)
		m->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
	m->l2_len = s->l2 & 0x7f;
	m->l3_len = s->l3;
	m->l4_len = s->l4;
	m->tso_segsz = s->tso;
	FUZZ_CHECK(rte_mbuf_check(m, 1, &why) == 0, "harness TX mbuf: %s",
		why);
	return m;
}

static void
rx_round(struct vpci_queue *q, uint16_t burst, bool hold)
{
	struct rte_mbuf *pkts[MAX_BURST];
	uint16_t n, i;

	n = eth_vpci_rx(q, pkts, burst);
	FUZZ_CHECK(n <= burst, "RX returned %u of %u", n, burst);
	if (verbose)
		printf("rx: %u of %u, queue %s, %u lent\n", n, burst,
			q->ready ? "ready" : "stopped", vpci_zc_inflight(q));
	for (i = 0; i < n; i++) {
		check_rx_mbuf(q, pkts[i]);
		if (verbose)
			printf("  pkt %u: %u bytes in %u segs, ol 0x%" PRIx64
				"\n", i, pkts[i]->pkt_len, pkts[i]->nb_segs,
				pkts[i]->ol_flags);
		if (hold && nheld < MAX_HELD)
			held[nheld++] = pkts[i];
		else
			rte_pktmbuf_free(pkts[i]);
	}
}

static void
tx_round(struct vpci_queue *q, const struct ring_cfg *c, unsigned int r)
{
	struct rte_mbuf *pkts[16];
	uint16_t k = c->tx_pkts % 16u, sent, i;

	for (i = 0; i < k; i++) {
		pkts[i] = tx_build(&c->spec[(r * k + i) % NSPEC], r * 16 + i);
		if (pkts[i] == NULL) {
			k = i;
			break;
		}
	}
	sent = eth_vpci_tx(q, pkts, k);
	FUZZ_CHECK(sent <= k, "TX took %u of %u", sent, k);
	if (verbose)
		printf("tx: %u of %u, queue %s, %" PRIu64 " sent, %" PRIu64
			" errors\n", sent, k, q->ready ? "ready" : "stopped",
			q->stats.pkts, q->stats.errors);
	for (i = sent; i < k; i++)
		rte_pktmbuf_free(pkts[i]);
}

/*
 * A ring stopped now writes back its indexes (vpci_queue_stop()); the next
 * attach must accept them (vpci_queue_attach()).
 */
static void
check_base(struct vpci_queue *q, const struct ring_layout *l)
{
	struct rte_vhost_pci_vring mv = {
		.size = l->size,
		.desc = l->desc,
		.avail = l->avail,
		.used = l->used,
	};
	struct vpci_notify none = { .reg = NULL, .fd = -1 };
	struct vpci_vring vr;

	if (!q->ready)
		return;
	vpci_vring_base(&q->vr, &mv.last_avail_idx, &mv.last_used_idx);
	FUZZ_CHECK(vpci_vring_init(&vr, &internal.map, &mv, internal.features,
		&none, -1) == 0, "%s ring refuses its own indexes 0x%x/0x%x",
		(q->vring_idx & 1) ? "RX" : "TX", mv.last_avail_idx,
		mv.last_used_idx);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vpci_queue *rxq = &internal.rxq[0], *txq = &internal.txq[0];
	struct ring_layout rl, tl;
	struct ring_cfg c;
	unsigned int r, rounds;
	uint64_t junk;
	uint16_t off;

	memset(&c, 0, sizeof(c));
	memcpy(&c, data, RTE_MIN(size, sizeof(c)));
	layout(&c, &rl, &tl);
	load_image(data + RTE_MIN(size, sizeof(c)),
		size - RTE_MIN(size, sizeof(c)), c.feat & FEAT_2REGIONS);
	hold_fails = !!(c.misc & MISC_HOLD_FAILS);
	internal_setup(&c);
	queue_setup(rxq, 1, &c, &rl, c.rx_avail_base, c.rx_used_base);
	queue_setup(txq, 0, &c, &tl, c.tx_avail_base, c.tx_used_base);

	rounds = (c.rounds & 3u) + 1;
	nheld = 0;
	for (r = 0; r < rounds; r++) {
		/* The peer moves on: one 16-bit store into its memory. */
		off = c.patch[r].off & (MEM_SIZE - 2);
		if ((c.patch[r].off != 0 || c.patch[r].val != 0) &&
				(hole_open || off < HOLE ||
				 off >= HOLE + HOLE_SIZE))
			memcpy(mem + off, &c.patch[r].val, 2);
		rx_round(rxq, c.rx_burst, c.rounds & (0x10u << r));
		tx_round(txq, &c, r);
	}
	while (nheld > 0)
		rte_pktmbuf_free(held[--nheld]);
	/* Freed lent buffers go back to the peer on the next burst. */
	if (rxq->zc_active)
		rx_round(rxq, 0, false);

	check_base(rxq, &rl);
	check_base(txq, &tl);
	/* A stopped queue returns nothing: its freed slots wait for the
	 * next attach, which frees or returns them.
	 */
	FUZZ_CHECK(!rxq->ready || vpci_zc_inflight(rxq) == 0,
		"%u zero-copy mbufs in flight after all were freed",
		vpci_zc_inflight(rxq));
	/* The attach's one hold (vpci_zc_attach()) goes when the ring
	 * stops, every mbuf it lent being freed.
	 */
	vpci_zc_detach(rxq);
	FUZZ_CHECK(holds == 0, "%d BAR holds not released", holds);
	FUZZ_CHECK(rte_mempool_avail_count(mp) == NB_MBUF,
		"%u of %u mbufs in the mempool after the input",
		rte_mempool_avail_count(mp), NB_MBUF);
	vpci_zc_free(rxq);
	if (evfd >= 0 && read(evfd, &junk, sizeof(junk)) < 0)
		junk = 0;
	return 0;
}

/* ---- setup ---- */

/* One meta page describing @two's regions; @map snapshots it. */
static void
meta_write(bool two, struct rte_vhost_pci_map *map)
{
	struct rte_vhost_pci_meta *meta = (void *)bar;

	memset(meta, 0, PAGE);
	meta->magic = RTE_VHOST_PCI_META_MAGIC;
	meta->version = RTE_VHOST_PCI_META_VERSION;
	meta->status = RTE_VHOST_PCI_STATUS_READY;
	meta->bar_size = PAGE + MEM_SIZE;
	meta->dev_type = 1;
	meta->nvrings = 2;
	if (two) {
		meta->nregions = 2;
		meta->region[0].gpa = 0;
		meta->region[0].size = HOLE;
		meta->region[0].bar_offset = PAGE;
		meta->region[1].gpa = HOLE + HOLE_SIZE;
		meta->region[1].size = MEM_SIZE - HOLE - HOLE_SIZE;
		meta->region[1].bar_offset = PAGE + HOLE + HOLE_SIZE;
	} else {
		meta->nregions = 1;
		meta->region[0].gpa = 0;
		meta->region[0].size = MEM_SIZE;
		meta->region[0].bar_offset = PAGE;
	}
	if (rte_vhost_pci_map_init(map, bar, PAGE + MEM_SIZE) != 0) {
		fprintf(stderr, "fake BAR: bad metadata\n");
		exit(1);
	}
}

static void
bar_setup(void)
{
	size_t len = PAGE + PAGE + MEM_SIZE + PAGE;
	uint8_t *base;

	base = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	bar = base + PAGE;
	mem = bar + PAGE;
	if (mprotect(bar, PAGE + MEM_SIZE, PROT_READ | PROT_WRITE) < 0) {
		perror("mprotect");
		exit(1);
	}
	meta_write(true, &map_two);
	meta_write(false, &map_one);
	/* The datapath never writes the metadata page. */
	if (mprotect(bar, PAGE, PROT_READ) < 0) {
		perror("mprotect");
		exit(1);
	}
}

/* ---- seeds ---- */

struct ring_seed {
	struct ring_cfg c;
	uint8_t img[MEM_SIZE];
	size_t len;		/* image bytes used */
	struct ring_layout rx, tx;
	uint64_t data;		/* next free buffer address */
};

static void
rs_init(struct ring_seed *s, uint8_t feat, uint8_t size)
{
	memset(s, 0, sizeof(*s));
	s->c.feat = feat;
	s->c.rx_size = size;
	s->c.tx_size = size;
	s->c.rx_burst = 32;
	s->c.tx_pkts = 1;
	s->c.spec[0].len = 60;
	s->c.spec[1].len = 1000;
	s->c.spec[2].len = 1514;
	s->c.spec[3].len = 3000;
	s->c.spec[3].segs_ol = 2;	/* 3 segments */
	if (feat & FEAT_PACKED) {
		/* Wrap counters start at 1 (virtio 1.1, 2.8.1). */
		s->c.rx_avail_base = s->c.rx_used_base = 0x8000;
		s->c.tx_avail_base = s->c.tx_used_base = 0x8000;
	}
	s->data = layout(&s->c, &s->rx, &s->tx);
}

static void
rs_touch(struct ring_seed *s, uint64_t end)
{
	if (end > s->len)
		s->len = end;
}

/* A buffer of @len bytes in the data area: its guest address. @hdr: a
 * virtio-net header at its start, @fill: pattern bytes after.
 */
static uint64_t
rs_buf(struct ring_seed *s, uint32_t len, const struct virtio_net_hdr_mrg_rxbuf *hdr,
		bool fill)
{
	uint64_t a = s->data;
	uint32_t i;

	s->data = RTE_ALIGN_CEIL(a + len, 16);
	if (fill) {
		for (i = 0; i < len; i++)
			s->img[a + i] = (uint8_t)(0x40 + i);
		rs_touch(s, a + len);
	}
	if (hdr != NULL) {
		memcpy(s->img + a, hdr, sizeof(*hdr));
		rs_touch(s, a + sizeof(*hdr));
	}
	return a;
}

static void
rs_desc(struct ring_seed *s, uint64_t table, uint16_t i, uint64_t addr,
		uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc d = { .addr = addr, .len = len, .flags = flags,
		.next = next };

	memcpy(s->img + table + 16u * i, &d, sizeof(d));
	rs_touch(s, table + 16u * (i + 1));
}

static void
rs_pdesc(struct ring_seed *s, uint64_t table, uint16_t i, uint64_t addr,
		uint32_t len, uint16_t id, uint16_t flags)
{
	struct vring_packed_desc d = { .addr = addr, .len = len, .id = id,
		.flags = flags };

	memcpy(s->img + table + 16u * i, &d, sizeof(d));
	rs_touch(s, table + 16u * (i + 1));
}

/* Split: publish heads[0..n) in @l's avail ring. */
static void
rs_avail(struct ring_seed *s, const struct ring_layout *l,
		const uint16_t *heads, uint16_t n)
{
	uint16_t i;

	memcpy(s->img + l->avail + 2, &n, 2);
	for (i = 0; i < n; i++)
		memcpy(s->img + l->avail + 4 + 2u * i, &heads[i], 2);
	rs_touch(s, l->avail + 4 + 2u * n);
}

static void
rs_write(const char *dir, const char *name, struct ring_seed *s)
{
	static struct fuzz_seed out;

	rs_touch(s, s->rx.used + 8);
	rs_touch(s, s->tx.used + 8);
	out.len = 0;
	seed_put(&out, &s->c, sizeof(s->c));
	seed_put(&out, s->img, s->len);
	seed_write(dir, name, &out);
}

#define PAVAIL	VHOST_PCI_PDESC_F_AVAIL	/* available, wrap counter 1 */

static void
write_seeds(const char *dir)
{
	static struct ring_seed s;
	struct virtio_net_hdr_mrg_rxbuf h;
	uint16_t heads[4] = { 0, 1, 2, 3 };
	uint64_t a, b, t;
	int i;

	/* Split: one 64-byte packet each way, VERSION_1 header. */
	rs_init(&s, FEAT_VERSION_1, 3);
	a = rs_buf(&s, 12 + 64, NULL, true);
	rs_desc(&s, s.rx.desc, 0, a, 12 + 64, 0, 0);
	rs_avail(&s, &s.rx, heads, 1);
	b = rs_buf(&s, 2048, NULL, false);
	rs_desc(&s, s.tx.desc, 0, b, 2048, VRING_DESC_F_WRITE, 0);
	rs_avail(&s, &s.tx, heads, 1);
	rs_write(dir, "split-one", &s);

	/* Packed: the same. */
	rs_init(&s, FEAT_PACKED | FEAT_VERSION_1 | FEAT_NOTIFY, 7);
	a = rs_buf(&s, 12 + 64, NULL, true);
	rs_pdesc(&s, s.rx.desc, 0, a, 12 + 64, 0, PAVAIL);
	b = rs_buf(&s, 2048, NULL, false);
	rs_pdesc(&s, s.tx.desc, 0, b, 2048, 0, PAVAIL | VRING_DESC_F_WRITE);
	rs_write(dir, "packed-one", &s);

	/* Split, indirect: header, then two data pieces in a table; TX
	 * into a two-entry writable table.
	 */
	rs_init(&s, FEAT_VERSION_1 | FEAT_INDIRECT | FEAT_NOTIFY, 2);
	t = rs_buf(&s, 3 * 16, NULL, false);
	a = rs_buf(&s, 12, NULL, false);
	b = rs_buf(&s, 150, NULL, true);
	rs_desc(&s, t, 0, a, 12, VRING_DESC_F_NEXT, 1);
	rs_desc(&s, t, 1, b, 100, VRING_DESC_F_NEXT, 2);
	rs_desc(&s, t, 2, b + 100, 50, 0, 0);
	rs_desc(&s, s.rx.desc, 0, t, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	rs_avail(&s, &s.rx, heads, 1);
	t = rs_buf(&s, 2 * 16, NULL, false);
	a = rs_buf(&s, 1024, NULL, false);
	rs_desc(&s, t, 0, a, 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	rs_desc(&s, t, 1, a + 512, 512, VRING_DESC_F_WRITE, 0);
	rs_desc(&s, s.tx.desc, 0, t, 2 * 16, VRING_DESC_F_INDIRECT, 0);
	rs_avail(&s, &s.tx, heads, 1);
	s.c.spec[0].len = 600;
	rs_write(dir, "split-indirect", &s);

	/* Mergeable RX buffers: a 1514-byte packet over four 512-byte
	 * buffers; event index with a call fd.
	 */
	rs_init(&s, FEAT_MRG | FEAT_EVENT_IDX | FEAT_NOTIFY, 3);
	for (i = 0; i < 4; i++) {
		a = rs_buf(&s, 512, NULL, false);
		rs_desc(&s, s.tx.desc, i, a, 512, VRING_DESC_F_WRITE, 0);
	}
	rs_avail(&s, &s.tx, heads, 4);
	s.c.spec[0].len = 1514;
	s.c.spec[0].segs_ol = 1;
	rs_write(dir, "split-mrg", &s);

	/* Zero-copy RX: two 600-byte packets (header in its own
	 * descriptor), held across rounds; the peer re-posts head 0 in
	 * round 2 (the patch moves avail idx to 3 with ring[2] = 0).
	 */
	rs_init(&s, FEAT_VERSION_1 | FEAT_ZC, 3);
	for (i = 0; i < 2; i++) {
		a = rs_buf(&s, 12, NULL, false);
		b = rs_buf(&s, 600, NULL, true);
		rs_desc(&s, s.rx.desc, 2 * i, a, 12, VRING_DESC_F_NEXT,
			2 * i + 1);
		rs_desc(&s, s.rx.desc, 2 * i + 1, b, 600, 0, 0);
	}
	heads[1] = 2;
	rs_avail(&s, &s.rx, heads, 2);
	heads[1] = 1;
	s.c.zc_min_len = 64;
	s.c.rounds = 1 | 0x10;
	s.c.patch[1].off = s.rx.avail + 2;
	s.c.patch[1].val = 3;
	s.c.tx_pkts = 0;
	rs_write(dir, "split-zc", &s);

	/* Offloads: RX header asks for a partial checksum and TSO4; TX
	 * packets ask for TCP and UDP checksums and TSO.
	 */
	rs_init(&s, FEAT_VERSION_1, 3);
	s.c.offl = OFFL_CSUM | OFFL_HOST_TSO4 | OFFL_GUEST_TSO4;
	memset(&h, 0, sizeof(h));
	h.hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.hdr.gso_size = 1448;
	h.hdr.csum_start = 34;
	h.hdr.csum_offset = 16;
	a = rs_buf(&s, 12 + 1500, &h, true);
	rs_desc(&s, s.rx.desc, 0, a, 12 + 1500, 0, 0);
	rs_avail(&s, &s.rx, heads, 1);
	for (i = 0; i < 3; i++) {
		b = rs_buf(&s, 2048, NULL, false);
		rs_desc(&s, s.tx.desc, i, b, 2048, VRING_DESC_F_WRITE, 0);
	}
	rs_avail(&s, &s.tx, heads, 3);
	s.c.tx_pkts = 3;
	s.c.spec[0] = (struct tx_spec){ .len = 200, .segs_ol = 0x14,
		.l2 = 14, .l3 = 20, .l4 = 20 };
	s.c.spec[1] = (struct tx_spec){ .len = 300, .segs_ol = 0x1d,
		.l2 = 14, .l3 = 20, .l4 = 8 };
	s.c.spec[2] = (struct tx_spec){ .len = 1500, .segs_ol = 0x35,
		.l2 = 14, .l3 = 20, .l4 = 20, .tso = 500 };
	rs_write(dir, "split-offload", &s);

	/* Packed, indirect RX and TX, event index, RX interrupt mode. */
	rs_init(&s, FEAT_PACKED | FEAT_INDIRECT | FEAT_EVENT_IDX |
		FEAT_VERSION_1 | FEAT_NOTIFY, 15);
	s.c.offl = OFFL_RX_INTR;
	t = rs_buf(&s, 2 * 16, NULL, false);
	a = rs_buf(&s, 12, NULL, false);
	b = rs_buf(&s, 200, NULL, true);
	rs_pdesc(&s, t, 0, a, 12, 0, 0);
	rs_pdesc(&s, t, 1, b, 200, 0, 0);
	rs_pdesc(&s, s.rx.desc, 0, t, 2 * 16, 0,
		PAVAIL | VRING_DESC_F_INDIRECT);
	t = rs_buf(&s, 16, NULL, false);
	b = rs_buf(&s, 2048, NULL, false);
	rs_pdesc(&s, t, 0, b, 2048, 0, VRING_DESC_F_WRITE);
	rs_pdesc(&s, s.tx.desc, 0, t, 16, 0, PAVAIL | VRING_DESC_F_INDIRECT);
	rs_write(dir, "packed-indirect", &s);

	/* Packed, a three-descriptor chain, zero-copy, held. */
	rs_init(&s, FEAT_PACKED | FEAT_MRG | FEAT_ZC, 7);
	a = rs_buf(&s, 12, NULL, false);
	rs_pdesc(&s, s.rx.desc, 0, a, 12, 0, PAVAIL | VRING_DESC_F_NEXT);
	a = rs_buf(&s, 700, NULL, true);
	rs_pdesc(&s, s.rx.desc, 1, a, 300, 0, PAVAIL | VRING_DESC_F_NEXT);
	rs_pdesc(&s, s.rx.desc, 2, a + 300, 400, 5, PAVAIL);
	s.c.rounds = 1 | 0x10;
	rs_write(dir, "packed-chain-zc", &s);

	/* Two regions: a chain whose pieces sit on both sides of the
	 * hole, and one that straddles it (refused).
	 */
	rs_init(&s, FEAT_VERSION_1 | FEAT_2REGIONS, 3);
	rs_desc(&s, s.rx.desc, 0, HOLE - 112, 112, VRING_DESC_F_NEXT, 1);
	rs_desc(&s, s.rx.desc, 1, HOLE + HOLE_SIZE, 256, 0, 0);
	rs_desc(&s, s.rx.desc, 2, HOLE - 64, 128, 0, 0);
	heads[1] = 2;
	rs_avail(&s, &s.rx, heads, 2);
	heads[1] = 1;
	rs_write(dir, "split-two-regions", &s);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = {
		(*argv)[0], "--no-huge", "-m", "256", "--no-pci",
		"--no-shconf", "--file-prefix=vpci-fuzz-ring", "-l", "0",
		"--no-telemetry", "--log-level=*:crit", NULL,
	};
	int neal = RTE_DIM(eal) - 1;
	const char *dir = seed_dir_arg(*argc, *argv);

	if (dir != NULL) {
		write_seeds(dir);
		exit(0);
	}
	verbose = fuzz_verbose();
	if (verbose)
		neal--;
	if (rte_eal_init(neal, eal) < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		exit(1);
	}
	vpci_logtype = rte_log_register_type_and_pick_level(
		"pmd.net.vhost_pci", RTE_LOG_NOTICE);
	vpci_logtype_rx = rte_log_register_type_and_pick_level(
		"pmd.net.vhost_pci.rx", RTE_LOG_NOTICE);
	vpci_logtype_tx = rte_log_register_type_and_pick_level(
		"pmd.net.vhost_pci.tx", RTE_LOG_NOTICE);
	mp = rte_pktmbuf_pool_create("vpci_fuzz", NB_MBUF, 0, 0,
		RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (mp == NULL) {
		fprintf(stderr, "mempool: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	rte_mempool_mem_iter(mp, mp_chunk_cb, NULL);
	evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	bar_setup();
	return 0;
}
