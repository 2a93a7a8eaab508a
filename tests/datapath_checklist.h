/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/* test_vpci_datapath: what the two files of the checklist phase share
 * (datapath_checklist.c, classes 1 to 8 and the phase table;
 * datapath_checklist2.c, classes 9 to 12 and the zero-copy checks).
 */

#ifndef TEST_DATAPATH_CHECKLIST_H
#define TEST_DATAPATH_CHECKLIST_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "datapath.h"

#define HDR		FP_NET_HDR_LEN
#define MASK		(RING_SIZE - 1)
/* What the PMD promises (vpci_ring.h, vpci_zc.c), restated. */
#define MAX_SEGS	64u	/* descriptors (segments) of a chain */
#define MAX_PKT		65536u	/* bytes of a chain after its header */
#define ZC_MAX_SEGS	16u	/* pieces of a lent packet */

/* virtio-net features (virtio 1.1, 5.1.3). */
#define F_CSUM		(1ull << VIRTIO_NET_F_CSUM)
#define F_HOST_TSO4	(1ull << VIRTIO_NET_F_HOST_TSO4)

/* ---- datapath_checklist.c ---- */

/* The zero-copy port net_vhost_pci1, with a front-end acking @features. */
int cl_zc(struct dp *d, uint64_t features);
/* Give d->port and d->sock back as the phase found them. */
int cl_leave(struct dp *d);

/* ierrors of d->port, or UINT64_MAX. */
uint64_t ierrors(struct dp *d);
/* @m holds exactly the @len bytes of @f. */
int mbuf_is(const struct rte_mbuf *m, const uint8_t *f, uint32_t len);
/* rx_burst must give exactly one packet, *m, for the caller to free. */
int rx_single(struct dp *d, struct rte_mbuf **m);
/* A good frame on the split TX ring: received, its head returned. */
int rx_good(struct dp *d, uint32_t len, uint8_t seed);
/* The same on a packed ring, its used descriptor at @pos. */
int pk_rx_good(struct dp *d, uint32_t len, uint8_t seed, uint16_t pos);
/* Every one of the @len bytes of @b is @fill. */
int untouched(const uint8_t *b, uint8_t fill, uint32_t len,
		const char *what);
/* Header @hdr in pieces of @hp bytes, then @len bytes of @f in pieces of
 * @fp, from the next split TX slot on, not published. Returns the head;
 * *n the descriptors.
 */
uint16_t post_pieces(struct dp *d, const uint8_t *hdr, uint32_t hp,
		const uint8_t *f, uint32_t len, uint32_t fp, unsigned int *n);
/* A virtio-net header, little-endian. */
void put_hdr(uint8_t *b, uint8_t flags, uint8_t gso, uint16_t hdr_len,
		uint16_t gso_size, uint16_t start, uint16_t off,
		uint16_t nbufs);

/* ---- datapath_checklist2.c: checks of the phase table ---- */

int t_c9_dup_ids(struct dp *d);
int t_c9_flags(struct dp *d);
int t_c9_race(struct dp *d);
int t_c9_base(struct dp *d);
int t_c10_hdr_len(struct dp *d);
int t_c10_nbufs_rx(struct dp *d);
int t_c10_nbufs_tx(struct dp *d);
int t_c11_runt(struct dp *d);
int t_c11_runt_mrg(struct dp *d);
int t_c12_full_ring(struct dp *d);
int t_c12_bad_flood(struct dp *d);
int t_c12_tx_flood(struct dp *d);
int t_c4_zc_segs(struct dp *d);
int t_c9_zc_dup_id(struct dp *d);
int t_c12_zc_flood(struct dp *d);

#endif /* TEST_DATAPATH_CHECKLIST_H */
