/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * test_vpci_datapath: the checksum and segmentation offload phase.
 *
 * The front-end's virtio-net header (virtio 1.1, 5.1.6) carries the
 * offload requests in both directions:
 *  - on its TX ring (our rx_burst), NEEDS_CSUM / DATA_VALID and a GSO type
 *    become mbuf ol_flags (RX_L4_CKSUM_*, RX_LRO with tso_segsz), if the
 *    matching feature (CSUM, HOST_TSO4/6) was acked; invalid requests are
 *    dropped and counted;
 *  - on its RX ring (our tx_burst), TX_*_CKSUM and TX_TCP_SEG become a
 *    NEEDS_CSUM / GSO header if it acked GUEST_CSUM / GUEST_TSO4, else the
 *    checksum is completed in the copy, or the TSO packet dropped.
 *
 * Three front-ends in turn: one acking every offload, one acking CSUM,
 * GUEST_CSUM and HOST_TSO4 only, and plain ones acking none (the last
 * check leaves a plain one connected for the next phase).
 *
 * Frames are real Ethernet/IPv4|IPv6/TCP|UDP frames built here, with a
 * recognisable payload.
 *
 * The phase runs on d->port as the earlier phases leave it: after
 * phase_zc that is the zero-copy port (zero_copy=1, zc_min_len=100), so
 * each RX check sends a short frame (copied) and a long one (lent); both
 * must carry the same flags. The checks hold on a copy-mode port too.
 */

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <netinet/in.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "datapath.h"

/* virtio-net feature bits (virtio 1.1, 5.1.3). */
#define F_CSUM		RTE_BIT64(VIRTIO_NET_F_CSUM)
#define F_GUEST_CSUM	RTE_BIT64(VIRTIO_NET_F_GUEST_CSUM)
#define F_GUEST_TSO4	RTE_BIT64(VIRTIO_NET_F_GUEST_TSO4)
#define F_GUEST_TSO6	RTE_BIT64(VIRTIO_NET_F_GUEST_TSO6)
#define F_HOST_TSO4	RTE_BIT64(VIRTIO_NET_F_HOST_TSO4)
#define F_HOST_TSO6	RTE_BIT64(VIRTIO_NET_F_HOST_TSO6)
#define F_OFFLOADS	(F_CSUM | F_GUEST_CSUM | F_GUEST_TSO4 | F_GUEST_TSO6 | \
			 F_HOST_TSO4 | F_HOST_TSO6)

#define ETH_LEN		14u
#define IP4_LEN		20u
#define IP6_LEN		40u
#define TCP_LEN		20u
#define UDP_LEN		8u
/* Offset of the checksum inside the L4 header. */
#define TCP_CK_OFF	16u
#define UDP_CK_OFF	6u

/* The virtio-net header, decoded. */
struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

/* Fields expect_hdr() compares. */
#define HF_FLAGS	(1u << 0)
#define HF_GSO_TYPE	(1u << 1)
#define HF_HDR_LEN	(1u << 2)
#define HF_GSO_SIZE	(1u << 3)
#define HF_CSUM_START	(1u << 4)
#define HF_CSUM_OFF	(1u << 5)
#define HF_NUM_BUF	(1u << 6)
#define HF_ALL		0x7fu

/* What build_frame() made. */
struct l4_frame {
	uint32_t len;
	bool v6;
	uint8_t proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	uint32_t l4_off;	/* Ethernet + IP header */
	uint32_t ck_off;	/* the L4 checksum field */
};

static uint8_t of_frame[MAX_FRAME], of_want[MAX_FRAME], of_read[MAX_FRAME];

/* ---- frames ---- */

static void
put_le16(uint8_t *b, uint16_t v)
{
	b[0] = v & 0xff;
	b[1] = v >> 8;
}

static uint16_t
get_le16(const uint8_t *b)
{
	return (uint16_t)(b[0] | b[1] << 8);
}

static void
hdr_put(uint8_t *b, const struct vnet_hdr *h)
{
	b[0] = h->flags;
	b[1] = h->gso_type;
	put_le16(b + 2, h->hdr_len);
	put_le16(b + 4, h->gso_size);
	put_le16(b + 6, h->csum_start);
	put_le16(b + 8, h->csum_offset);
	put_le16(b + 10, h->num_buffers);
}

static void
hdr_get(const uint8_t *b, struct vnet_hdr *h)
{
	h->flags = b[0];
	h->gso_type = b[1];
	h->hdr_len = get_le16(b + 2);
	h->gso_size = get_le16(b + 4);
	h->csum_start = get_le16(b + 6);
	h->csum_offset = get_le16(b + 8);
	h->num_buffers = get_le16(b + 10);
}

static const char *
hdr_str(const struct vnet_hdr *h, char *s, size_t n)
{
	snprintf(s, n, "{flags 0x%x gso_type 0x%x hdr_len %u gso_size %u "
		"csum_start %u csum_offset %u num_buffers %u}", h->flags,
		h->gso_type, h->hdr_len, h->gso_size, h->csum_start,
		h->csum_offset, h->num_buffers);
	return s;
}

static const uint8_t eth_dst[RTE_ETHER_ADDR_LEN] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t eth_src[RTE_ETHER_ADDR_LEN] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t ip6_src[16] = { 0xfd, 0x00, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t ip6_dst[16] = { 0xfd, 0x00, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0x02 };
static const char payload_tag[] = "vhost-pci offload test payload ";

/* The pseudo-header checksum of @f's L4 header for mbuf flags @ol. */
static uint16_t
frame_phdr_cksum(const uint8_t *f, const struct l4_frame *fi, uint64_t ol)
{
	if (fi->v6)
		return rte_ipv6_phdr_cksum(
			(const struct rte_ipv6_hdr *)(f + ETH_LEN), ol);
	return rte_ipv4_phdr_cksum((const struct rte_ipv4_hdr *)(f + ETH_LEN),
		ol);
}

/* The full L4 checksum of @f (its checksum field must be 0). */
static uint16_t
frame_full_cksum(const uint8_t *f, const struct l4_frame *fi)
{
	if (fi->v6)
		return rte_ipv6_udptcp_cksum(
			(const struct rte_ipv6_hdr *)(f + ETH_LEN),
			f + fi->l4_off);
	return rte_ipv4_udptcp_cksum((const struct rte_ipv4_hdr *)(f + ETH_LEN),
		f + fi->l4_off);
}

/* 0 if the L4 checksum of @f verifies, -1 if not. */
static int
frame_cksum_verify(const uint8_t *f, const struct l4_frame *fi)
{
	if (fi->v6)
		return rte_ipv6_udptcp_cksum_verify(
			(const struct rte_ipv6_hdr *)(f + ETH_LEN),
			f + fi->l4_off);
	return rte_ipv4_udptcp_cksum_verify(
		(const struct rte_ipv4_hdr *)(f + ETH_LEN), f + fi->l4_off);
}

static uint16_t
frame_cksum_field(const uint8_t *f, const struct l4_frame *fi)
{
	uint16_t v;

	memcpy(&v, f + fi->ck_off, sizeof(v));
	return v;
}

static void
set_cksum_field(uint8_t *f, const struct l4_frame *fi, uint16_t v)
{
	memcpy(f + fi->ck_off, &v, sizeof(v));
}

/*
 * An Ethernet + IPv4 (or IPv6) + TCP (or UDP) frame of @len bytes with a
 * tagged, @seed'ed payload. Its L4 checksum field holds the pseudo-header
 * checksum DPDK's TX offload convention asks for with mbuf flags @ol (the
 * TSO variant, without the length, if @ol has TX_TCP_SEG).
 */
static void
build_frame(uint8_t *f, uint32_t len, bool v6, uint8_t proto, uint8_t seed,
		uint64_t ol, struct l4_frame *fi)
{
	struct rte_ether_hdr eth;
	uint32_t l3 = v6 ? IP6_LEN : IP4_LEN;
	uint32_t l4 = proto == IPPROTO_TCP ? TCP_LEN : UDP_LEN;
	uint32_t i, pl;
	uint8_t *p;

	fi->len = len;
	fi->v6 = v6;
	fi->proto = proto;
	fi->l4_off = ETH_LEN + l3;
	fi->ck_off = fi->l4_off + (proto == IPPROTO_TCP ? TCP_CK_OFF :
		UDP_CK_OFF);
	memset(f, 0, fi->l4_off + l4);

	memcpy(eth.dst_addr.addr_bytes, eth_dst, RTE_ETHER_ADDR_LEN);
	memcpy(eth.src_addr.addr_bytes, eth_src, RTE_ETHER_ADDR_LEN);
	eth.ether_type = rte_cpu_to_be_16(v6 ? RTE_ETHER_TYPE_IPV6 :
		RTE_ETHER_TYPE_IPV4);
	memcpy(f, &eth, ETH_LEN);

	if (v6) {
		struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(f + ETH_LEN);

		ip->vtc_flow = rte_cpu_to_be_32(6u << 28 | seed);
		ip->payload_len = rte_cpu_to_be_16(len - ETH_LEN - IP6_LEN);
		ip->proto = proto;
		ip->hop_limits = 64;
		memcpy(ip->src_addr, ip6_src, 16);
		memcpy(ip->dst_addr, ip6_dst, 16);
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + ETH_LEN);

		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(len - ETH_LEN);
		ip->packet_id = rte_cpu_to_be_16(0x1200 + seed);
		ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
		ip->time_to_live = 64;
		ip->next_proto_id = proto;
		ip->src_addr = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 1));
		ip->dst_addr = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 2));
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}

	if (proto == IPPROTO_TCP) {
		struct rte_tcp_hdr *t = (struct rte_tcp_hdr *)(f + fi->l4_off);

		t->src_port = rte_cpu_to_be_16(40000 + seed);
		t->dst_port = rte_cpu_to_be_16(5201);
		t->sent_seq = rte_cpu_to_be_32(0x10000000u + seed * 0x1001u);
		t->recv_ack = rte_cpu_to_be_32(0x2468ace0u);
		t->data_off = (TCP_LEN / 4) << 4;
		t->tcp_flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG;
		t->rx_win = rte_cpu_to_be_16(0xfff0);
	} else {
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)(f + fi->l4_off);

		u->src_port = rte_cpu_to_be_16(50000 + seed);
		u->dst_port = rte_cpu_to_be_16(4791);
		u->dgram_len = rte_cpu_to_be_16(len - fi->l4_off);
	}

	p = f + fi->l4_off + l4;
	pl = len - fi->l4_off - l4;
	for (i = 0; i < pl; i++)
		p[i] = i < sizeof(payload_tag) - 1 ? (uint8_t)payload_tag[i] :
			(uint8_t)(seed + i * 7 + (i >> 8));
	set_cksum_field(f, fi, frame_phdr_cksum(f, fi, ol));
}

/* ---- the RX direction: header + frame on the peer's TX ring ---- */

/* One descriptor of header @h + @len bytes of @f at the next TX slot;
 * returns the head, not yet published.
 */
static uint16_t
rx_chain(struct dp *d, const struct vnet_hdr *h, const uint8_t *f,
		uint32_t len)
{
	struct fake_peer *p = &d->peer;
	uint16_t s = fp_next_slot(p, FP_TXQ);
	uint8_t *b = fp_buf(p, FP_TXQ, s);

	hdr_put(b, h);
	memcpy(b + FP_NET_HDR_LEN, f, len);
	fp_set_desc(p, FP_TXQ, s, fp_buf_gpa(p, FP_TXQ, s),
		FP_NET_HDR_LEN + len, 0, 0);
	return s;
}

static const char *
l4_name(uint64_t v)
{
	switch (v & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
	case RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN: return "UNKNOWN";
	case RTE_MBUF_F_RX_L4_CKSUM_BAD: return "BAD";
	case RTE_MBUF_F_RX_L4_CKSUM_GOOD: return "GOOD";
	default: return "NONE";
	}
}

/* Prefix the recorded failure reason with the header that caused it. */
static int
fail_with_hdr(const struct vnet_hdr *h, uint32_t len, const char *how)
{
	char why[512], hs[160];

	snprintf(why, sizeof(why), "%s", fail_reason());
	return FAIL("header %s, %u-byte frame%s: %s",
		hdr_str(h, hs, sizeof(hs)), len, how, why);
}

/* @m holds the @len bytes of @f, with L4 checksum bits @l4 and RX_LRO
 * with tso_segsz @segsz (0: no RX_LRO).
 */
static int
rx_mbuf_check(const struct rte_mbuf *m, const uint8_t *f, uint32_t len,
		uint64_t l4, uint16_t segsz)
{
	const uint8_t *data;
	bool lro = (m->ol_flags & RTE_MBUF_F_RX_LRO) != 0;
	long off;

	EXPECTR(m->pkt_len == len, "pkt_len %u, want %u", m->pkt_len, len);
	data = rte_pktmbuf_read(m, 0, len, of_read);
	EXPECTR(data != NULL, "rte_pktmbuf_read failed (segments short)");
	off = first_diff(data, f, len);
	EXPECTR(off < 0, "frame byte %ld is 0x%02x, want 0x%02x", off,
		data[off], f[off]);
	EXPECTR((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == l4,
		"RX L4 checksum flags %s (ol_flags 0x%" PRIx64 "), want %s",
		l4_name(m->ol_flags), m->ol_flags, l4_name(l4));
	EXPECTR(lro == (segsz != 0),
		"RX_LRO %s (ol_flags 0x%" PRIx64 "), want %s",
		lro ? "set" : "clear", m->ol_flags, segsz ? "set" : "clear");
	EXPECTR(segsz == 0 || m->tso_segsz == segsz,
		"tso_segsz %u, want %u", (unsigned int)m->tso_segsz, segsz);
	return 0;
}

/*
 * Header @h + @f published: rx_burst gives it intact with @l4 and @segsz
 * (rx_mbuf_check), no ierror, and the head comes back with len 0.
 *
 * d->port may lend long frames (zero-copy port): their head comes back
 * only on the rx_burst after the mbuf's free, so one more (empty) burst
 * runs before the used ring is read. A copy-mode port returns it at once.
 */
static int
rx_offload(struct dp *d, const struct vnet_hdr *h, const uint8_t *f,
		uint32_t len, uint64_t l4, uint16_t segsz)
{
	struct rte_eth_stats before, after;
	struct rte_mbuf *pkts[BURST];
	const char *how;
	uint16_t head, n;
	int rc;

	TRYR(get_stats(d, &before));
	head = rx_chain(d, h, f, len);
	fp_publish(&d->peer, FP_TXQ, head);
	n = rte_eth_rx_burst(d->port, 0, pkts, BURST);
	if (n != 1) {
		free_all(pkts, n);
		FAIL("rx_burst returned %u packets, want 1", n);
		return fail_with_hdr(h, len, "");
	}
	how = RTE_MBUF_HAS_EXTBUF(pkts[0]) ? " (lent mbuf)" : " (copied mbuf)";
	rc = rx_mbuf_check(pkts[0], f, len, l4, segsz);
	free_all(pkts, n);
	if (rc < 0)
		return fail_with_hdr(h, len, how);
	n = rte_eth_rx_burst(d->port, 0, pkts, BURST);
	free_all(pkts, n);
	if (n != 0) {
		FAIL("a second rx_burst returned %u packets, want 0", n);
		return fail_with_hdr(h, len, how);
	}
	if (expect_used(d, FP_TXQ, head, 0) < 0)
		return fail_with_hdr(h, len, how);
	TRYR(get_stats(d, &after));
	EXPECTR(after.ierrors == before.ierrors,
		"ierrors went from %" PRIu64 " to %" PRIu64 " for a good frame",
		before.ierrors, after.ierrors);
	return 0;
}

/*
 * Header @h + @f published: rx_burst drops it (no packet, ierrors +1) and
 * its head comes back on the used ring with len 0; a good frame after it
 * is received.
 *
 * A copy-mode port returns the head in the same burst. A zero-copy port
 * may have lent the buffer before reading the header: the head then comes
 * back with the free, on the next burst, like any lent buffer. Both are
 * accepted; any later is not.
 */
static int
rx_refused_once(struct dp *d, const struct vnet_hdr *h, const uint8_t *f,
		uint32_t len)
{
	struct rte_eth_stats before, after;
	struct rte_mbuf *pkts[BURST];
	struct vring_used_elem e;
	uint16_t head, good, n;

	TRYR(get_stats(d, &before));
	head = rx_chain(d, h, f, len);
	fp_publish(&d->peer, FP_TXQ, head);
	n = rte_eth_rx_burst(d->port, 0, pkts, BURST);
	free_all(pkts, n);
	EXPECTR(n == 0, "rx_burst returned %u packets for the bad header", n);
	TRYR(get_stats(d, &after));
	EXPECTR(after.ierrors == before.ierrors + 1,
		"ierrors went from %" PRIu64 " to %" PRIu64 ", want +1",
		before.ierrors, after.ierrors);
	if (!fp_used_next(&d->peer, FP_TXQ, &e)) {
		/* Lent, then dropped: back with the next burst. */
		n = rte_eth_rx_burst(d->port, 0, pkts, BURST);
		free_all(pkts, n);
		EXPECTR(n == 0, "a second rx_burst returned %u packets", n);
		EXPECTR(fp_used_next(&d->peer, FP_TXQ, &e),
			"the dropped head %u is not on the used ring after two "
			"bursts (used->idx %u)", head,
			fp_used_idx(&d->peer, FP_TXQ));
	}
	EXPECTR(e.id == head && e.len == 0,
		"used entry id %u len %u, want the dropped head %u, len 0",
		e.id, e.len, head);
	make_frame(frame_a, 80, 90);
	good = fp_post_tx(&d->peer, frame_a, 80);
	TRYR(expect_rx(d, frame_a, 80, NULL));
	return expect_used(d, FP_TXQ, good, 0);
}

static int
rx_refused(struct dp *d, const struct vnet_hdr *h, const uint8_t *f,
		uint32_t len)
{
	if (rx_refused_once(d, h, f, len) < 0)
		return fail_with_hdr(h, len, "");
	return 0;
}

/*
 * Each check sends a short frame (under the zc_min_len of 100 of the
 * zero-copy port: copied) and a long one (lent there); on a copy-mode
 * port both are copied.
 */
#define SHORT4		80u	/* IPv4/TCP or UDP: 54 or 42 + payload */
#define SHORT6		90u	/* IPv6/TCP: 74 + 16 */

/* ---- the TX direction: mbufs into the peer's RX ring ---- */

/* An mbuf chain holding @f, in segments of at most @seg bytes. */
static struct rte_mbuf *
tx_mbuf_of(struct dp *d, const uint8_t *f, uint32_t len, uint32_t seg)
{
	struct rte_mbuf *head = NULL, *m;
	uint32_t off, n;

	for (off = 0; off < len; off += n) {
		n = RTE_MIN(len - off, seg);
		m = frame_mbuf(d, f + off, n);
		if (m == NULL || (head != NULL &&
				rte_pktmbuf_chain(head, m) != 0)) {
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(head);
			return NULL;
		}
		if (head == NULL)
			head = m;
	}
	return head;
}

static void
set_tx_offload(struct rte_mbuf *m, uint64_t ol, const struct l4_frame *fi,
		uint16_t segsz)
{
	m->ol_flags |= ol;
	m->l2_len = ETH_LEN;
	m->l3_len = fi->l4_off - ETH_LEN;
	m->l4_len = fi->proto == IPPROTO_TCP ? TCP_LEN : UDP_LEN;
	m->tso_segsz = segsz;
}

/* Post a 4 KiB peer RX buffer filled with @fill, send @m (@len bytes)
 * into it: used entry (head, 12 + len). *@head is the buffer.
 */
static int
tx_offload(struct dp *d, struct rte_mbuf *m, uint32_t len, uint8_t fill,
		uint16_t *head)
{
	if (m == NULL)
		return FAIL("cannot build the mbuf");
	*head = fp_post_rx(&d->peer, FP_BUF_SIZE, fill);
	if (rte_eth_tx_burst(d->port, 0, &m, 1) != 1) {
		rte_pktmbuf_free(m);
		return FAIL("tx_burst sent 0 packets, want 1");
	}
	return expect_used(d, FP_RXQ, *head, FP_NET_HDR_LEN + len);
}

/* The header at @b matches @want in the @fields. */
static int
expect_hdr(const uint8_t *b, const struct vnet_hdr *want, unsigned int fields)
{
	struct vnet_hdr h;
	char hs[160], ws[160];
	bool ok = true;

	hdr_get(b, &h);
	if ((fields & HF_FLAGS) && h.flags != want->flags)
		ok = false;
	if ((fields & HF_GSO_TYPE) && h.gso_type != want->gso_type)
		ok = false;
	if ((fields & HF_HDR_LEN) && h.hdr_len != want->hdr_len)
		ok = false;
	if ((fields & HF_GSO_SIZE) && h.gso_size != want->gso_size)
		ok = false;
	if ((fields & HF_CSUM_START) && h.csum_start != want->csum_start)
		ok = false;
	if ((fields & HF_CSUM_OFF) && h.csum_offset != want->csum_offset)
		ok = false;
	if ((fields & HF_NUM_BUF) && h.num_buffers != want->num_buffers)
		ok = false;
	EXPECTR(ok, "virtio-net header %s, want %s (fields mask 0x%x)",
		hdr_str(&h, hs, sizeof(hs)), hdr_str(want, ws, sizeof(ws)),
		fields);
	return 0;
}

/* The frame in the peer buffer at @b equals @want, and the byte after it
 * still holds @fill.
 */
static int
expect_copy(const uint8_t *b, const uint8_t *want, uint32_t len,
		const struct l4_frame *fi, uint8_t fill)
{
	long off = first_diff(b + FP_NET_HDR_LEN, want, len);

	EXPECTR(off < 0, "frame byte %ld is 0x%02x, want 0x%02x (the L4 "
		"checksum field is at %u)", off, b[FP_NET_HDR_LEN + off],
		want[off], fi->ck_off);
	EXPECTR(b[FP_NET_HDR_LEN + len] == fill,
		"byte after the frame overwritten (0x%02x)",
		b[FP_NET_HDR_LEN + len]);
	return 0;
}

static uint64_t
cksum_ol(const struct l4_frame *fi)
{
	return (fi->v6 ? RTE_MBUF_F_TX_IPV6 : RTE_MBUF_F_TX_IPV4) |
		(fi->proto == IPPROTO_TCP ? RTE_MBUF_F_TX_TCP_CKSUM :
			RTE_MBUF_F_TX_UDP_CKSUM);
}

/*
 * GUEST_CSUM acked: a @len-byte frame with the L4 checksum offload flag
 * lands behind NEEDS_CSUM, csum_start @cs, csum_offset @co, gso NONE,
 * num_buffers 1, its bytes unchanged.
 */
static int
tx_partial(struct dp *d, bool v6, uint8_t proto, uint32_t len, uint8_t seed,
		uint16_t cs, uint16_t co)
{
	const struct vnet_hdr want = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_NONE, .csum_start = cs, .csum_offset = co,
		.num_buffers = 1 };
	struct l4_frame fi;
	struct rte_mbuf *m;
	const uint8_t *b;
	uint16_t head;

	/* Checksum field: the pseudo-header sum, with the length. */
	build_frame(of_frame, len, v6, proto, seed, 0, &fi);
	m = tx_mbuf_of(d, of_frame, len, len);
	if (m != NULL)
		set_tx_offload(m, cksum_ol(&fi), &fi, 0);
	TRYR(tx_offload(d, m, len, 0x5c, &head));
	b = fp_buf(&d->peer, FP_RXQ, head);
	TRYR(expect_hdr(b, &want, HF_FLAGS | HF_GSO_TYPE | HF_CSUM_START |
		HF_CSUM_OFF | HF_NUM_BUF));
	return expect_copy(b, of_frame, len, &fi, 0x5c);
}

/*
 * GUEST_CSUM not acked: the frame, sent in segments of @seg bytes, lands
 * behind a header with flags 0 and gso NONE, with the full L4 checksum in
 * place of the pseudo-header one and every other byte unchanged.
 */
static int
tx_full(struct dp *d, bool v6, uint8_t proto, uint32_t len, uint32_t seg,
		uint8_t seed)
{
	const struct vnet_hdr want = { .flags = 0, .gso_type = VIRTIO_NET_HDR_GSO_NONE,
		.num_buffers = 1 };
	struct l4_frame fi;
	struct rte_mbuf *m;
	const uint8_t *b;
	uint16_t head;

	build_frame(of_frame, len, v6, proto, seed, 0, &fi);
	/* What the peer must see: the same frame, checksum completed. */
	memcpy(of_want, of_frame, len);
	set_cksum_field(of_want, &fi, 0);
	set_cksum_field(of_want, &fi, frame_full_cksum(of_want, &fi));
	m = tx_mbuf_of(d, of_frame, len, seg);
	if (m != NULL) {
		set_tx_offload(m, cksum_ol(&fi), &fi, 0);
		unsigned int segs = m->nb_segs;

		if (segs != (len + seg - 1) / seg) {
			rte_pktmbuf_free(m);
			return FAIL("built %u segments, want %u", segs,
				(len + seg - 1) / seg);
		}
	}
	TRYR(tx_offload(d, m, len, 0x6d, &head));
	b = fp_buf(&d->peer, FP_RXQ, head);
	TRYR(expect_hdr(b, &want, HF_FLAGS | HF_GSO_TYPE | HF_NUM_BUF));
	EXPECTR(frame_cksum_verify(b + FP_NET_HDR_LEN, &fi) == 0,
		"the L4 checksum in the peer's copy (0x%04x) does not verify; "
		"correct is 0x%04x, the pseudo-header sum sent was 0x%04x",
		rte_be_to_cpu_16(frame_cksum_field(b + FP_NET_HDR_LEN, &fi)),
		rte_be_to_cpu_16(frame_cksum_field(of_want, &fi)),
		rte_be_to_cpu_16(frame_cksum_field(of_frame, &fi)));
	return expect_copy(b, of_want, len, &fi, 0x6d);
}

#define TSO_LEN		3000u
#define TSO_MSS		1000u
#define TSO_OL		(RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 | \
			 RTE_MBUF_F_TX_TCP_CKSUM)

/* A 3000-byte IPv4/TCP TSO mbuf (two segments), its frame in of_frame. */
static struct rte_mbuf *
tso_mbuf(struct dp *d, uint8_t seed, struct l4_frame *fi)
{
	struct rte_mbuf *m;

	build_frame(of_frame, TSO_LEN, false, IPPROTO_TCP, seed, TSO_OL, fi);
	m = tx_mbuf_of(d, of_frame, TSO_LEN, 1500);
	if (m != NULL)
		set_tx_offload(m, TSO_OL, fi, TSO_MSS);
	return m;
}

/* Whether any of the FP_BUF_SIZE bytes of peer RX buffer @head differs
 * from @fill.
 */
static bool
rx_buffer_touched(struct dp *d, uint16_t head, uint8_t fill)
{
	const uint8_t *b = fp_buf(&d->peer, FP_RXQ, head);
	uint32_t i;

	for (i = 0; i < FP_BUF_SIZE; i++)
		if (b[i] != fill)
			return true;
	return false;
}

/*
 * GUEST_TSO4 not acked: tx_burst takes a TSO mbuf but drops it: oerrors
 * +1, opackets unchanged, the mbuf back in the pool, no used entry and
 * the posted buffer untouched. The next plain frame lands in that buffer.
 */
static int
tx_tso_dropped(struct dp *d)
{
	struct fake_peer *p = &d->peer;
	struct rte_eth_stats before, after;
	unsigned int pool;
	struct l4_frame fi;
	struct rte_mbuf *m;
	uint16_t head, used, n;

	head = fp_post_rx(p, FP_BUF_SIZE, 0x77);
	used = fp_used_idx(p, FP_RXQ);
	TRYR(get_stats(d, &before));
	pool = rte_mempool_avail_count(d->mp);
	m = tso_mbuf(d, 80, &fi);
	EXPECTR(m != NULL, "cannot build the TSO mbuf");
	n = rte_eth_tx_burst(d->port, 0, &m, 1);
	if (n != 1)
		rte_pktmbuf_free(m);
	EXPECTR(n == 1, "tx_burst took %u of 1 TSO packet (a dropped packet "
		"is consumed)", n);
	TRYR(get_stats(d, &after));
	EXPECTR(fp_used_idx(p, FP_RXQ) == used,
		"used->idx moved from %u to %u: the TSO packet was delivered",
		used, fp_used_idx(p, FP_RXQ));
	EXPECTR(!rx_buffer_touched(d, head, 0x77),
		"the posted peer RX buffer was written");
	EXPECTR(after.oerrors == before.oerrors + 1,
		"oerrors went from %" PRIu64 " to %" PRIu64 ", want +1",
		before.oerrors, after.oerrors);
	EXPECTR(after.opackets == before.opackets,
		"opackets went from %" PRIu64 " to %" PRIu64 " for a drop",
		before.opackets, after.opackets);
	EXPECTR(rte_mempool_avail_count(d->mp) == pool,
		"mempool has %u free mbufs after the drop, %u before: the "
		"dropped mbuf was not freed", rte_mempool_avail_count(d->mp),
		pool);
	make_frame(frame_a, 100, 81);
	TRYR(tx_frame(d, frame_a, 100));
	TRYR(expect_used(d, FP_RXQ, head, FP_NET_HDR_LEN + 100));
	return expect_rx_buffer(d, head, 1, frame_a, 100, 0x77);
}

/* ---- a front-end acking every offload (and MRG_RXBUF) ---- */

static int
connect_offloads(struct dp *d, uint64_t features)
{
	d->peer.offered = 0;
	if (peer_connect(d, features) < 0) {
		if (d->peer.offered != 0 &&
				(d->peer.offered & features) != features)
			return FAIL("the PMD does not offer 0x%" PRIx64
				" (offered 0x%" PRIx64 ", want 0x%" PRIx64 ")",
				features & ~d->peer.offered, d->peer.offered,
				features);
		return -1;
	}
	EXPECTR((d->peer.features & features) == features,
		"acked features 0x%" PRIx64 " lack 0x%" PRIx64,
		d->peer.features, features);
	return 0;
}

static int
t_connect_all(struct dp *d)
{
	TRYR(connect_offloads(d, F_OFFLOADS | FP_F_MRG_RXBUF));
	EXPECTR((d->peer.offered & F_OFFLOADS) == F_OFFLOADS,
		"offered 0x%" PRIx64 ", want all of 0x%" PRIx64,
		d->peer.offered, F_OFFLOADS);
	return 0;
}

static int
t_dev_info(struct dp *d)
{
	const uint64_t tx = RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
		RTE_ETH_TX_OFFLOAD_UDP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_TSO |
		RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	const uint64_t rx = RTE_ETH_RX_OFFLOAD_TCP_CKSUM |
		RTE_ETH_RX_OFFLOAD_UDP_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_LRO;
	struct rte_eth_dev_info info;
	int ret;

	memset(&info, 0, sizeof(info));
	ret = rte_eth_dev_info_get(d->port, &info);
	EXPECTR(ret == 0, "rte_eth_dev_info_get: %d", ret);
	EXPECTR((info.tx_offload_capa & tx) == tx,
		"tx_offload_capa 0x%" PRIx64 " lacks 0x%" PRIx64,
		info.tx_offload_capa, tx & ~info.tx_offload_capa);
	EXPECTR((info.rx_offload_capa & rx) == rx,
		"rx_offload_capa 0x%" PRIx64 " lacks 0x%" PRIx64,
		info.rx_offload_capa, rx & ~info.rx_offload_capa);
	return 0;
}

/* -- RX, CSUM / HOST_TSO4 / HOST_TSO6 acked -- */

static int
t_rx_zero_hdr(struct dp *d)
{
	const struct vnet_hdr h = { 0 };
	struct l4_frame fi;

	build_frame(of_frame, SHORT4, false, IPPROTO_TCP, 1, 0, &fi);
	TRYR(rx_offload(d, &h, of_frame, SHORT4,
		RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN, 0));
	build_frame(of_frame, 300, false, IPPROTO_TCP, 1, 0, &fi);
	return rx_offload(d, &h, of_frame, 300, RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN,
		0);
}

static int
t_rx_needs_csum(struct dp *d)
{
	const struct vnet_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.csum_start = ETH_LEN + IP4_LEN, .csum_offset = TCP_CK_OFF };
	struct l4_frame fi;

	build_frame(of_frame, SHORT4, false, IPPROTO_TCP, 2, 0, &fi);
	TRYR(rx_offload(d, &h, of_frame, SHORT4, RTE_MBUF_F_RX_L4_CKSUM_NONE,
		0));
	build_frame(of_frame, 400, false, IPPROTO_TCP, 2, 0, &fi);
	return rx_offload(d, &h, of_frame, 400, RTE_MBUF_F_RX_L4_CKSUM_NONE,
		0);
}

/* NEEDS_CSUM with the checksum field ending @past bytes after the
 * @len-byte frame (0: its last two bytes).
 */
static struct vnet_hdr
csum_at_end(uint32_t len, uint32_t past)
{
	return (struct vnet_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.csum_start = ETH_LEN + IP4_LEN,
		.csum_offset = len + past - (ETH_LEN + IP4_LEN) - 2 };
}

static int
t_rx_needs_csum_edge(struct dp *d)
{
	static const uint32_t lens[] = { SHORT4, 200 };
	struct vnet_hdr h;
	struct l4_frame fi;
	unsigned int i;

	for (i = 0; i < RTE_DIM(lens); i++) {
		h = csum_at_end(lens[i], 0);
		build_frame(of_frame, lens[i], false, IPPROTO_TCP, 3, 0, &fi);
		TRYR(rx_offload(d, &h, of_frame, lens[i],
			RTE_MBUF_F_RX_L4_CKSUM_NONE, 0));
	}
	return 0;
}

static int
t_rx_needs_csum_past_end(struct dp *d)
{
	static const uint32_t lens[] = { SHORT4, 200 };
	struct vnet_hdr h;
	struct l4_frame fi;
	unsigned int i;

	for (i = 0; i < RTE_DIM(lens); i++) {
		h = csum_at_end(lens[i], 1);
		build_frame(of_frame, lens[i], false, IPPROTO_TCP, 4, 0, &fi);
		TRYR(rx_refused(d, &h, of_frame, lens[i]));
	}
	return 0;
}

static int
t_rx_needs_csum_wrap(struct dp *d)
{
	/* 0xfff0 + 0x10 + 2 is 2 in 16 bits, 65538 really. */
	const struct vnet_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.csum_start = 0xfff0, .csum_offset = 0x0010 };
	struct l4_frame fi;

	build_frame(of_frame, SHORT4, false, IPPROTO_TCP, 5, 0, &fi);
	TRYR(rx_refused(d, &h, of_frame, SHORT4));
	build_frame(of_frame, 200, false, IPPROTO_TCP, 5, 0, &fi);
	return rx_refused(d, &h, of_frame, 200);
}

static int
t_rx_data_valid(struct dp *d)
{
	static const uint32_t lens[] = { SHORT4, 500 };
	const struct vnet_hdr h = { .flags = VIRTIO_NET_HDR_F_DATA_VALID };
	struct l4_frame fi;
	unsigned int i;

	for (i = 0; i < RTE_DIM(lens); i++) {
		build_frame(of_frame, lens[i], false, IPPROTO_UDP, 6, 0, &fi);
		set_cksum_field(of_frame, &fi, 0);
		set_cksum_field(of_frame, &fi,
			frame_full_cksum(of_frame, &fi));
		TRYR(rx_offload(d, &h, of_frame, lens[i],
			RTE_MBUF_F_RX_L4_CKSUM_GOOD, 0));
	}
	return 0;
}

/* A GSO header of @type and @mss for a TCP frame over IPv4 or IPv6. */
static struct vnet_hdr
gso_hdr(bool v6, uint8_t type, uint16_t mss)
{
	uint16_t l4 = ETH_LEN + (v6 ? IP6_LEN : IP4_LEN);

	return (struct vnet_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = type, .hdr_len = l4 + TCP_LEN, .gso_size = mss,
		.csum_start = l4, .csum_offset = TCP_CK_OFF };
}

static int
t_rx_lro4(struct dp *d)
{
	struct vnet_hdr h = gso_hdr(false, VIRTIO_NET_HDR_GSO_TCPV4, 10);
	struct l4_frame fi;

	/* 26 payload bytes in 10-byte segments. */
	build_frame(of_frame, SHORT4, false, IPPROTO_TCP, 7, 0, &fi);
	TRYR(rx_offload(d, &h, of_frame, SHORT4, RTE_MBUF_F_RX_L4_CKSUM_NONE,
		10));
	h.gso_size = 1000;
	build_frame(of_frame, 3000, false, IPPROTO_TCP, 7, 0, &fi);
	return rx_offload(d, &h, of_frame, 3000, RTE_MBUF_F_RX_L4_CKSUM_NONE,
		1000);
}

static int
t_rx_lro6_ecn(struct dp *d)
{
	struct vnet_hdr h = gso_hdr(true, VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN, 8);
	struct l4_frame fi;

	build_frame(of_frame, SHORT6, true, IPPROTO_TCP, 8, 0, &fi);
	TRYR(rx_offload(d, &h, of_frame, SHORT6, RTE_MBUF_F_RX_L4_CKSUM_NONE,
		8));
	h.gso_size = 1200;
	build_frame(of_frame, 2500, true, IPPROTO_TCP, 8, 0, &fi);
	return rx_offload(d, &h, of_frame, 2500, RTE_MBUF_F_RX_L4_CKSUM_NONE,
		1200);
}

static int
t_rx_gso_size_zero(struct dp *d)
{
	const struct vnet_hdr h = gso_hdr(false, VIRTIO_NET_HDR_GSO_TCPV4, 0);
	struct l4_frame fi;

	build_frame(of_frame, SHORT4, false, IPPROTO_TCP, 9, 0, &fi);
	TRYR(rx_refused(d, &h, of_frame, SHORT4));
	build_frame(of_frame, 2000, false, IPPROTO_TCP, 9, 0, &fi);
	return rx_refused(d, &h, of_frame, 2000);
}

static int
t_rx_gso_udp(struct dp *d)
{
	const struct vnet_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_UDP, .hdr_len = ETH_LEN + IP4_LEN + UDP_LEN,
		.gso_size = 10, .csum_start = ETH_LEN + IP4_LEN,
		.csum_offset = UDP_CK_OFF };
	struct l4_frame fi;

	build_frame(of_frame, SHORT4, false, IPPROTO_UDP, 10, 0, &fi);
	TRYR(rx_refused(d, &h, of_frame, SHORT4));
	build_frame(of_frame, 2000, false, IPPROTO_UDP, 10, 0, &fi);
	return rx_refused(d, &h, of_frame, 2000);
}

static int
t_rx_gso_unknown(struct dp *d)
{
	static const uint8_t types[] = { 2, 0x7f };
	struct vnet_hdr h;
	struct l4_frame fi;
	unsigned int i;

	for (i = 0; i < RTE_DIM(types); i++) {
		h = gso_hdr(false, types[i], 10);
		build_frame(of_frame, SHORT4, false, IPPROTO_TCP, 11, 0, &fi);
		TRYR(rx_refused(d, &h, of_frame, SHORT4));
		h.gso_size = 1000;
		build_frame(of_frame, 2000, false, IPPROTO_TCP, 11, 0, &fi);
		TRYR(rx_refused(d, &h, of_frame, 2000));
	}
	return 0;
}

/* -- TX, GUEST_CSUM / GUEST_TSO4 / GUEST_TSO6 acked -- */

static int
t_tx_tcp4_partial(struct dp *d)
{
	return tx_partial(d, false, IPPROTO_TCP, 600, 20, 34, 16);
}

static int
t_tx_udp4_partial(struct dp *d)
{
	return tx_partial(d, false, IPPROTO_UDP, 700, 21, 34, 6);
}

static int
t_tx_tcp6_partial(struct dp *d)
{
	return tx_partial(d, true, IPPROTO_TCP, 800, 22, 54, 16);
}

static int
t_tx_tso4(struct dp *d)
{
	const struct vnet_hdr want = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .hdr_len = 54, .gso_size = TSO_MSS,
		.csum_start = 34, .csum_offset = 16, .num_buffers = 1 };
	struct l4_frame fi;
	struct rte_mbuf *m;
	const uint8_t *b, *got;
	uint16_t head, ck, dpdk_ck, linux_ck;

	m = tso_mbuf(d, 23, &fi);
	if (m != NULL && m->nb_segs != 2) {
		unsigned int segs = m->nb_segs;

		rte_pktmbuf_free(m);
		return FAIL("built %u segments, want 2", segs);
	}
	TRYR(tx_offload(d, m, TSO_LEN, 0x4b, &head));
	b = fp_buf(&d->peer, FP_RXQ, head);
	TRYR(expect_hdr(b, &want, HF_ALL));
	/* The checksum field holds a pseudo-header sum: DPDK's (without the
	 * length) as sent, or one with the length, as Linux keeps it.
	 */
	got = b + FP_NET_HDR_LEN;
	ck = frame_cksum_field(got, &fi);
	dpdk_ck = frame_cksum_field(of_frame, &fi);
	linux_ck = frame_phdr_cksum(of_frame, &fi, 0);
	EXPECTR(ck == dpdk_ck || ck == linux_ck,
		"TCP checksum field 0x%04x, want the pseudo-header sum 0x%04x "
		"(or 0x%04x with the length)", rte_be_to_cpu_16(ck),
		rte_be_to_cpu_16(dpdk_ck), rte_be_to_cpu_16(linux_ck));
	memcpy(of_want, of_frame, TSO_LEN);
	set_cksum_field(of_want, &fi, ck);
	return expect_copy(b, of_want, TSO_LEN, &fi, 0x4b);
}

static int
t_tx_no_flags(struct dp *d)
{
	struct l4_frame fi;
	uint16_t head;

	build_frame(of_frame, 900, false, IPPROTO_TCP, 24, 0, &fi);
	TRYR(tx_offload(d, frame_mbuf(d, of_frame, 900), 900, 0x3c, &head));
	return expect_rx_buffer(d, head, 1, of_frame, 900, 0x3c);
}

/* ---- CSUM, GUEST_CSUM and HOST_TSO4 only ---- */

static int
t_tso_not_acked(struct dp *d)
{
	TRYR(connect_offloads(d, F_CSUM | F_GUEST_CSUM | F_HOST_TSO4));
	return tx_tso_dropped(d);
}

static int
t_rx_tso6_not_acked(struct dp *d)
{
	struct vnet_hdr h = gso_hdr(true, VIRTIO_NET_HDR_GSO_TCPV6, 8);
	struct l4_frame fi;

	build_frame(of_frame, SHORT6, true, IPPROTO_TCP, 30, 0, &fi);
	TRYR(rx_refused(d, &h, of_frame, SHORT6));
	h.gso_size = 1200;
	build_frame(of_frame, 2500, true, IPPROTO_TCP, 30, 0, &fi);
	TRYR(rx_refused(d, &h, of_frame, 2500));
	/* HOST_TSO4 is acked: the same request over IPv4 still works. */
	h = gso_hdr(false, VIRTIO_NET_HDR_GSO_TCPV4, 1200);
	build_frame(of_frame, 2500, false, IPPROTO_TCP, 31, 0, &fi);
	return rx_offload(d, &h, of_frame, 2500, RTE_MBUF_F_RX_L4_CKSUM_NONE,
		1200);
}

/* ---- a plain front-end: no offload acked ---- */

static int
t_rx_hdr_ignored(struct dp *d)
{
	static const struct vnet_hdr hdrs[] = {
		{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 0xfff0,
			.csum_offset = 0x0010 },
		{ .flags = VIRTIO_NET_HDR_F_DATA_VALID },
		{ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
			.hdr_len = 54, .gso_size = 10, .csum_start = 34,
			.csum_offset = 16 },
		{ .gso_type = 2, .gso_size = 0 },
	};
	static const uint32_t lens[] = { SHORT4, 1500 };
	struct l4_frame fi;
	unsigned int i, j;

	TRYR(peer_connect(d, 0));
	for (i = 0; i < RTE_DIM(hdrs); i++)
		for (j = 0; j < RTE_DIM(lens); j++) {
			build_frame(of_frame, lens[j], false, IPPROTO_TCP,
				40 + i, 0, &fi);
			TRYR(rx_offload(d, &hdrs[i], of_frame, lens[j],
				RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN, 0));
		}
	return 0;
}

static int
t_tx_tcp4_full(struct dp *d)
{
	return tx_full(d, false, IPPROTO_TCP, 600, 600, 50);
}

static int
t_tx_udp4_full(struct dp *d)
{
	return tx_full(d, false, IPPROTO_UDP, 700, 700, 51);
}

static int
t_tx_tcp6_full(struct dp *d)
{
	return tx_full(d, true, IPPROTO_TCP, 1200, 1200, 52);
}

/* Split 1000 bytes in: 966 bytes after csum_start 34, an even count. */
static int
t_tx_full_even_split(struct dp *d)
{
	return tx_full(d, false, IPPROTO_TCP, 2500, 1000, 53);
}

/* Split 1001 bytes in: 947 bytes after csum_start 54, an odd count, so
 * the second segment's bytes sit at odd offsets of the checksummed range.
 */
static int
t_tx_full_odd_split(struct dp *d)
{
	return tx_full(d, true, IPPROTO_TCP, 2500, 1001, 54);
}

static int
t_restore_plain(struct dp *d)
{
	TRYR(peer_connect(d, 0));
	return tx_tso_dropped(d);
}

const struct dp_check phase_offload[] = {
	{ "offload: the PMD offers CSUM, GUEST_CSUM, GUEST_TSO4/6 and HOST_TSO4/6, and a front-end acking all of them (+ MRG_RXBUF) brings the link up",
		t_connect_all },
	{ "offload: dev_info advertises tx TCP_CKSUM, UDP_CKSUM, TCP_TSO, MULTI_SEGS and rx TCP_CKSUM, UDP_CKSUM, TCP_LRO",
		t_dev_info },
	{ "offload rx (CSUM acked): an all-zero header gives intact 80- and 300-byte mbufs with RX_L4_CKSUM_UNKNOWN and no RX_LRO",
		t_rx_zero_hdr },
	{ "offload rx (CSUM acked): NEEDS_CSUM, csum_start 34, csum_offset 16 on 80- and 400-byte IPv4/TCP frames gives RX_L4_CKSUM_NONE, bytes unchanged, no ierror",
		t_rx_needs_csum },
	{ "offload rx (CSUM acked): NEEDS_CSUM with csum_start + csum_offset + 2 == frame length (field in the last 2 bytes) is accepted with RX_L4_CKSUM_NONE (80 and 200 bytes)",
		t_rx_needs_csum_edge },
	{ "class 10 (net-header): offload rx (CSUM acked): NEEDS_CSUM with csum_start + csum_offset + 2 == frame length + 1 is dropped, ierrors +1, returned with used.len 0; the next frame is received (80 and 200 bytes)",
		t_rx_needs_csum_past_end },
	{ "class 10 (net-header): offload rx (CSUM acked): NEEDS_CSUM with csum_start 0xfff0 + csum_offset 0x10 (wraps to 0 in 16 bits) is dropped, ierrors +1, returned (80 and 200 bytes)",
		t_rx_needs_csum_wrap },
	{ "offload rx (CSUM acked): DATA_VALID on 80- and 500-byte IPv4/UDP frames gives RX_L4_CKSUM_GOOD, bytes unchanged",
		t_rx_data_valid },
	{ "offload rx (HOST_TSO4 acked): gso TCPV4 gives RX_LRO with tso_segsz = gso_size (80 bytes/10, 3000 bytes/1000) and RX_L4_CKSUM_NONE for its NEEDS_CSUM",
		t_rx_lro4 },
	{ "offload rx (HOST_TSO6 acked): gso TCPV6|ECN gives RX_LRO with tso_segsz = gso_size on IPv6/TCP frames (90 bytes/8, 2500 bytes/1200)",
		t_rx_lro6_ecn },
	{ "class 10 (net-header): offload rx (HOST_TSO4 acked): gso TCPV4 with gso_size 0 is dropped, ierrors +1, returned; the next frame is received (80 and 2000 bytes)",
		t_rx_gso_size_zero },
	{ "class 10 (net-header): offload rx: gso_type UDP (HOST_UFO never acked) is dropped, ierrors +1, returned; the next frame is received (80 and 2000 bytes)",
		t_rx_gso_udp },
	{ "class 10 (net-header): offload rx: unknown gso_types 2 and 0x7f are each dropped, ierrors +1, returned; the next frame is received (80 and 2000 bytes)",
		t_rx_gso_unknown },
	{ "offload tx (GUEST_CSUM acked): IPv4/TCP with TX_TCP_CKSUM lands behind NEEDS_CSUM, csum_start 34, csum_offset 16, gso NONE, num_buffers 1, frame bytes unchanged",
		t_tx_tcp4_partial },
	{ "offload tx (GUEST_CSUM acked): IPv4/UDP with TX_UDP_CKSUM lands behind NEEDS_CSUM, csum_start 34, csum_offset 6, gso NONE, frame bytes unchanged",
		t_tx_udp4_partial },
	{ "offload tx (GUEST_CSUM acked): IPv6/TCP with TX_TCP_CKSUM lands behind NEEDS_CSUM, csum_start 54, csum_offset 16, gso NONE, frame bytes unchanged",
		t_tx_tcp6_partial },
	{ "offload tx (GUEST_TSO4 acked): a 3000-byte 2-segment IPv4/TCP mbuf with TX_TCP_SEG, tso_segsz 1000 lands whole behind gso TCPV4, gso_size 1000, hdr_len 54, NEEDS_CSUM 34/16, num_buffers 1",
		t_tx_tso4 },
	{ "offload tx (GUEST_CSUM acked): an IPv4/TCP mbuf without offload flags lands behind an all-zero header (num_buffers 1), bytes unchanged",
		t_tx_no_flags },
	{ "offload tx (CSUM, GUEST_CSUM, HOST_TSO4 acked; GUEST_TSO4 not): a TSO mbuf is consumed and dropped: oerrors +1, opackets same, mbuf freed, no used entry, buffer untouched; the next frame lands there",
		t_tso_not_acked },
	{ "class 10 (net-header): offload rx (HOST_TSO4 acked, HOST_TSO6 not): gso TCPV6 is dropped, ierrors +1, returned (90 and 2500 bytes); gso TCPV4 still gives RX_LRO with tso_segsz",
		t_rx_tso6_not_acked },
	{ "class 10 (net-header): offload rx (nothing acked): headers with NEEDS_CSUM and csum_start 0xfff0, DATA_VALID, gso TCPV4, gso_type 2 are ignored: 80- and 1500-byte frames intact, RX_L4_CKSUM_UNKNOWN, no RX_LRO, no ierror",
		t_rx_hdr_ignored },
	{ "offload tx (GUEST_CSUM not acked): IPv4/TCP with TX_TCP_CKSUM lands behind flags 0, gso NONE, with the full TCP checksum (verifies), all other bytes unchanged",
		t_tx_tcp4_full },
	{ "offload tx (GUEST_CSUM not acked): IPv4/UDP with TX_UDP_CKSUM lands behind flags 0 with the full UDP checksum (verifies), all other bytes unchanged",
		t_tx_udp4_full },
	{ "offload tx (GUEST_CSUM not acked): IPv6/TCP with TX_TCP_CKSUM lands behind flags 0 with the full TCP checksum (verifies), all other bytes unchanged",
		t_tx_tcp6_full },
	{ "offload tx (GUEST_CSUM not acked): a 2500-byte IPv4/TCP mbuf in 2 segments split at byte 1000 (even offset from csum_start) gets the full TCP checksum over both segments",
		t_tx_full_even_split },
	{ "offload tx (GUEST_CSUM not acked): a 2500-byte IPv6/TCP mbuf in 2 segments split at byte 1001 (odd offset from csum_start) gets the full TCP checksum over both segments",
		t_tx_full_odd_split },
	{ "offload tx (plain front-end reconnected, nothing acked): a TSO mbuf is dropped: oerrors +1, mbuf freed, nothing written; the next frame lands in that buffer behind a zero header",
		t_restore_plain },
};

const size_t phase_offload_len = RTE_DIM(phase_offload);
