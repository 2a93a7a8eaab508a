/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/* test_vpci_datapath: the state, helpers and phase tables its files share. */

#ifndef TEST_DATAPATH_H
#define TEST_DATAPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <rte_pmd_vhost_pci.h>

#include "fake_peer.h"
#include "harness.h"

#define RING_SIZE	256u
#define BURST		32u
#define MAX_FRAME	9000u

struct dp {
	const char *sock;
	uint16_t port;
	struct rte_mempool *mp;
	struct fake_peer peer;
	struct tally tally;
};

/* A datapath check: it runs in this process, on the port and peer of @d. */
struct dp_check {
	const char *name;
	int (*fn)(struct dp *d);
};

/* ---- frames and mbufs (test_vpci_datapath.c) ---- */

extern uint8_t frame_a[MAX_FRAME], frame_b[MAX_FRAME], scratch[MAX_FRAME];

/* An Ethernet frame to 02:00:00:00:00:01, ethertype 0x88b5, @seed'ed. */
void make_frame(uint8_t *f, uint32_t len, uint8_t seed);
/* An mbuf of d->mp holding the @len bytes of @f, or NULL. */
struct rte_mbuf *frame_mbuf(struct dp *d, const uint8_t *f, uint32_t len);
/* Offset of the first differing byte, or -1 if equal. */
long first_diff(const uint8_t *a, const uint8_t *b, uint32_t len);
void free_all(struct rte_mbuf **pkts, uint16_t n);
/* rx_burst must give exactly one packet, equal to @f. */
int expect_rx(struct dp *d, const uint8_t *f, uint32_t len, uint16_t *nb_segs);
/* @m holds exactly the @len bytes of @f; @buf (@len bytes) is where a
 * multi-segment mbuf is read into.
 */
int mbuf_check_buf(const struct rte_mbuf *m, const uint8_t *f, uint32_t len,
		uint8_t *buf);
/* rx_burst must give nothing. */
int expect_no_rx(struct dp *d, const char *what);
/* One packet out of rx_burst, within a second, or NULL. */
struct rte_mbuf *rx_one(struct dp *d);
/* tx_burst must take a frame of the @len bytes of @f. */
int tx_frame(struct dp *d, const uint8_t *f, uint32_t len);

/* ---- the peer's view (test_vpci_datapath.c) ---- */

/* The next used entry of peer ring @r must be (@id, @len). */
int expect_used(struct dp *d, int r, uint32_t id, uint32_t len);
/* Peer RX buffer @head: a zero header with num_buffers = @nbufs, then
 * @len bytes of @f, then the @fill it was posted with.
 */
int expect_rx_buffer(struct dp *d, uint16_t head, uint16_t nbufs,
		const uint8_t *f, uint32_t len, uint8_t fill);
int get_stats(struct dp *d, struct rte_eth_stats *s);
/* Poll the link until its status is @up, for a bounded time. */
int wait_link(struct dp *d, uint8_t up);
/* Replace the front-end by a new one acking @features; wait for link up. */
int peer_connect(struct dp *d, uint64_t features);
/* Publish @head (descriptors already written): rx_burst drops it, counts
 * one ierror and returns it on the used ring; a good frame after it is
 * received.
 */
int expect_rx_refused(struct dp *d, uint16_t head);

/* The PMD's addresses of file offset @off of the peer's memfd: every
 * mapping of that file but the peer's own. Returns how many (at most
 * @max). (datapath_packed_order.c)
 */
int pmd_views(const struct fake_peer *p, uint64_t off, uintptr_t *va,
		int max);

/* rte_pmd_vhost_pci_get_peer(), from the PMD EAL loaded with -d. */
typedef int (*get_peer_fn)(uint16_t, struct rte_pmd_vhost_pci_peer *);
get_peer_fn get_peer_sym(void);

/* 1 RX and 1 TX queue on d->port, RX interrupts configured, started. */
int port_setup(struct dp *d);

/* ---- phases run by main() after those of test_vpci_datapath.c ---- */

/* datapath_xstats.c */
extern const struct dp_check phase_xstats[];
extern const size_t phase_xstats_len;
/* The value of the xstat called @name of @port, which must exist once. */
int xstat_value(uint16_t port, const char *name, uint64_t *value);
/* datapath_features.c */
extern const struct dp_check phase_event_idx[];
extern const size_t phase_event_idx_len;
extern const struct dp_check phase_mrg[];
extern const size_t phase_mrg_len;
/* datapath_hostile.c */
extern const struct dp_check phase_vanish[];
extern const size_t phase_vanish_len;
extern const struct dp_check phase_indirect[];
extern const size_t phase_indirect_len;
/* datapath_zc.c */
extern const struct dp_check phase_zc[];
extern const size_t phase_zc_len;
/* datapath_packed.c */
extern const struct dp_check phase_packed[];
extern const size_t phase_packed_len;
/* datapath_packed.c, for datapath_packed_order.c and
 * datapath_checklist.c
 */
struct fp_pused;
/* The next used descriptor of ring @r must be at @pos, for @id, @len. */
int expect_pused(struct dp *d, int r, uint16_t pos, uint16_t id,
		uint32_t len, struct fp_pused *out);
/* No used descriptor on ring @r where the next one would go. */
int expect_no_pused(struct dp *d, int r, const char *when);
/* A net_vhost_pci port's devargs that matter here. */
struct vdev_args {
	char path[256];
	bool zero_copy;
	uint32_t zc_min_len;
};
/* The port of vdev @name and its devargs. */
int vdev_find(const char *name, uint16_t *port, struct vdev_args *a);
/* The front-end leaves the current port (link down); d then serves @port
 * on @sock with a fresh front-end memory, not connected.
 */
int switch_port(struct dp *d, uint16_t port, const char *sock);
/* The zero-copy port net_vhost_pci1 as a phase uses it. */
struct zc_vdev {
	uint16_t port;
	char sock[sizeof(".xzc") + 256];
	bool created;		/* by this phase: zc_vdev_put() removes it */
};
/* Switch d to net_vhost_pci1: the one an earlier phase left (zero_copy=1,
 * zc_min_len 65..299), or a new one on @new_sock with zc_min_len 100.
 */
int zc_vdev_get(struct dp *d, struct zc_vdev *z, const char *new_sock);
/* Remove net_vhost_pci1 if zc_vdev_get() created it. */
int zc_vdev_put(struct zc_vdev *z);
/* tx_burst must take @len bytes of @f, in 1500-byte segments. */
int tx_long(struct dp *d, const uint8_t *f, uint32_t len);
/* datapath_packed_order.c: mergeable buffers marked used head last. */
int t_pk_mrg_order(struct dp *d);
int t_pk_zc_remap(struct dp *d);
/* datapath_offload.c */
extern const struct dp_check phase_offload[];
extern const size_t phase_offload_len;
/* datapath_checklist.c: the hostile-peer checklist, class by class. */
extern const struct dp_check phase_checklist[];
extern const size_t phase_checklist_len;

#endif /* TEST_DATAPATH_H */
