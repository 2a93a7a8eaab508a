/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * virtio-net header offloads (virtio 1.1, 5.1.6).
 *
 * RX: the peer's checksum and segmentation requests become mbuf RX flags,
 * as a NIC reports them: a partial checksum is RTE_MBUF_F_RX_L4_CKSUM_NONE
 * (data good, checksum field not computed), a GSO packet is
 * RTE_MBUF_F_RX_LRO with its segment size. A header asking for what was
 * not negotiated, or pointing outside the packet, drops the packet.
 *
 * TX: mbuf TX offload flags become a header when the peer acked the
 * matching GUEST_* feature. A checksum it did not ack is computed here;
 * a segmentation it did not ack drops the packet (no software GSO).
 */

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "vpci.h"

/* Checksum field offsets within the L4 header. */
#define VPCI_TCP_CSUM_OFF	16
#define VPCI_UDP_CSUM_OFF	6

/*
 * The folded sum of @len bytes of @m from @off. Each segment's sum is
 * byte-swapped when it starts at an odd offset from @off: it then sits in
 * the other half of the 16-bit words.
 *
 * Not rte_raw_cksum_mbuf(): DPDK 22.11's (upstream's too, so far) swaps
 * such a segment's unreduced 32-bit sum truncated to 16 bits, dropping its
 * carries, so a chain split at an odd offset gets a wrong checksum; the
 * odd-split check of tests/datapath_offload.c fails with it. Each segment
 * here is reduced by rte_raw_cksum() before the swap.
 */
static uint16_t
vpci_cksum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len)
{
	const struct rte_mbuf *seg;
	uint32_t sum = 0, n;
	uint16_t s;
	bool odd = false;

	for (seg = m; seg != NULL && len != 0; seg = seg->next) {
		if (off >= seg->data_len) {
			off -= seg->data_len;
			continue;
		}
		n = RTE_MIN((uint32_t)seg->data_len - off, len);
		s = rte_raw_cksum(rte_pktmbuf_mtod_offset(seg, const void *,
			off), n);
		sum += odd ? rte_bswap16(s) : s;
		odd ^= n & 1;
		len -= n;
		off = 0;
	}
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

static inline bool
vpci_acked(const struct pmd_internal *internal, unsigned int bit)
{
	return !!(internal->features & RTE_BIT64(bit));
}

int
vpci_offload_rx(const struct pmd_internal *internal,
		const struct virtio_net_hdr *hdr, struct rte_mbuf *m)
{
	uint32_t start = rte_le_to_cpu_16(hdr->csum_start);
	uint32_t off = rte_le_to_cpu_16(hdr->csum_offset);
	uint16_t gso_size = rte_le_to_cpu_16(hdr->gso_size);
	uint8_t gso = hdr->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if (vpci_acked(internal, VIRTIO_NET_F_CSUM)) {
		if (hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
			if (start + off + 2 > m->pkt_len)
				return -1;
			m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_NONE;
		} else if (hdr->flags & VIRTIO_NET_HDR_F_DATA_VALID) {
			m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		}
	}
	if (hdr->gso_type == VIRTIO_NET_HDR_GSO_NONE ||
			!(vpci_acked(internal, VIRTIO_NET_F_HOST_TSO4) ||
			  vpci_acked(internal, VIRTIO_NET_F_HOST_TSO6)))
		return 0;
	if (gso_size == 0 ||
			!((gso == VIRTIO_NET_HDR_GSO_TCPV4 &&
			   vpci_acked(internal, VIRTIO_NET_F_HOST_TSO4)) ||
			  (gso == VIRTIO_NET_HDR_GSO_TCPV6 &&
			   vpci_acked(internal, VIRTIO_NET_F_HOST_TSO6))))
		return -1;
	m->ol_flags |= RTE_MBUF_F_RX_LRO;
	m->tso_segsz = gso_size;
	return 0;
}

/*
 * The header for @m's TX offload flags. Returns 0, 1 if the checksum is
 * computed here (*csum, to be written at packet offset *csum_at), or -1 to
 * drop the packet.
 */
int
vpci_offload_tx(const struct pmd_internal *internal, const struct rte_mbuf *m,
		struct virtio_net_hdr *hdr, uint32_t *csum_at, uint16_t *csum)
{
	uint64_t fl = m->ol_flags, l4 = fl & RTE_MBUF_F_TX_L4_MASK;
	uint32_t start = m->l2_len + m->l3_len, off;
	bool v4 = !!(fl & RTE_MBUF_F_TX_IPV4);
	uint16_t sum;

	if (fl & RTE_MBUF_F_TX_TCP_SEG) {
		if (!vpci_acked(internal, v4 ? VIRTIO_NET_F_GUEST_TSO4 :
				VIRTIO_NET_F_GUEST_TSO6) ||
				m->tso_segsz == 0 ||
				start + m->l4_len > m->pkt_len)
			return -1;
		hdr->gso_type = v4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
		hdr->gso_size = rte_cpu_to_le_16(m->tso_segsz);
		hdr->hdr_len = rte_cpu_to_le_16(start + m->l4_len);
		l4 = RTE_MBUF_F_TX_TCP_CKSUM;	/* implied by TSO */
	}
	if (l4 == RTE_MBUF_F_TX_TCP_CKSUM)
		off = VPCI_TCP_CSUM_OFF;
	else if (l4 == RTE_MBUF_F_TX_UDP_CKSUM)
		off = VPCI_UDP_CSUM_OFF;
	else
		return l4 == 0 ? 0 : -1;	/* SCTP: not offered */
	if (start + off + 2 > m->pkt_len)
		return -1;
	if (vpci_acked(internal, VIRTIO_NET_F_GUEST_CSUM) ||
			hdr->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		hdr->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		hdr->csum_start = rte_cpu_to_le_16(start);
		hdr->csum_offset = rte_cpu_to_le_16(off);
		return 0;
	}
	/* The field holds the pseudo-header sum, as DPDK's TX offload
	 * contract requires: summing from the L4 header on completes it.
	 */
	sum = ~vpci_cksum_mbuf(m, start, m->pkt_len - start);
	if (sum == 0 && l4 == RTE_MBUF_F_TX_UDP_CKSUM)
		sum = 0xffff;
	*csum = sum;
	*csum_at = start + off;
	return 1;
}
