/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

#ifndef VPCI_H
#define VPCI_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_spinlock.h>

#include <rte_vhost_pci.h>

#include "vhost_pci_virtio.h"

/*
 * Log types: pmd.net.vhost_pci for the control path (VPCI_LOG), and its
 * .rx and .tx suffixes for the burst functions (VPCI_DP_LOG, RTE_LOG_DP:
 * compiled out above RTE_LOG_DP_LEVEL). RTE_LOG_DP names the type by the
 * token after RTE_LOGTYPE_, which it also prints in front of the message.
 */
extern int vpci_logtype;
extern int vpci_logtype_rx;
extern int vpci_logtype_tx;
#define RTE_LOGTYPE_VHOST_PCI_PMD	vpci_logtype
#define RTE_LOGTYPE_VHOST_PCI_RX	vpci_logtype_rx
#define RTE_LOGTYPE_VHOST_PCI_TX	vpci_logtype_tx

#define VPCI_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, vpci_logtype, \
		"VHOST_PCI_PMD: " fmt "\n", ##__VA_ARGS__)
/* @type: PMD (both directions), RX or TX. */
#define VPCI_DP_LOG(level, type, fmt, ...) \
	RTE_LOG_DP(level, VHOST_PCI_ ## type, fmt "\n", ##__VA_ARGS__)

#define VPCI_MAX_QUEUE_PAIRS	(RTE_VHOST_PCI_MAX_VRINGS / 2)

/* Used entries one burst may produce; they are staged here and written
 * to the peer's ring in one pass before the index is published.
 */
#define VPCI_SHADOW_USED	512

struct vpci_shadow {
	uint16_t id;		/* split: head; packed: buffer id */
	uint16_t ndesc;		/* packed: descriptors the buffer took */
	uint32_t len;
};

/* How the peer is told about used buffers: a doorbell register (PCI
 * mode: write val) or an eventfd (vdev mode); neither if it polls.
 */
struct vpci_notify {
	volatile uint32_t *reg;
	uint32_t val;
	int fd;
};

static inline bool
vpci_notify_on(const struct vpci_notify *n)
{
	return n->reg != NULL || n->fd >= 0;
}

/* The driver's private view of one peer vring. Indexes are shadows: the
 * peer can write the shared ones, so we never read our own back.
 */
struct vpci_vring {
	union {
		volatile struct vring_desc *desc;
		volatile struct vring_packed_desc *pdesc;
	};
	union {
		volatile struct vring_avail *avail;
		volatile struct vring_packed_desc_event *driver_event;	/* packed */
	};
	union {
		volatile struct vring_used *used;
		volatile struct vring_packed_desc_event *device_event;	/* packed */
	};
	uint16_t size;
	uint16_t mask;
	/* Packed: ring positions, with their wrap counters. */
	uint16_t last_avail_idx;
	uint16_t last_used_idx;
	bool avail_wrap;
	bool used_wrap;
	bool packed;		/* VIRTIO_F_RING_PACKED acked */
	bool event_idx;
	bool indirect;		/* VIRTIO_RING_F_INDIRECT_DESC acked */
	/* The map region the burst's last buffer was in: tried first. */
	uint32_t region_hint;
	struct vpci_notify call;
	int errfd;		/* signalled when we stop a broken ring */
	struct vpci_shadow shadow[VPCI_SHADOW_USED];
};

/* A piece of a descriptor chain, translated into the BAR. */
struct vpci_iov {
	uint8_t *base;
	uint32_t len;
};

/* Packet size buckets of the xstats, librte_vhost's: < 64, 64, 65-127,
 * 128-255, 256-511, 512-1023, 1024-1518, 1519 and more bytes.
 */
#define VPCI_SIZE_BINS		8

/* A queue's counters, written by its burst only (vpci_xstats.h). */
struct vpci_stats {
	uint64_t pkts;
	uint64_t bytes;
	uint64_t errors;
	uint64_t nombuf;
	uint64_t multicast;	/* broadcast not included */
	uint64_t broadcast;
	uint64_t size_bins[VPCI_SIZE_BINS];
	/* Bursts that moved nothing because the control path held the
	 * queue, or the ring was not attached (telemetry only).
	 */
	uint64_t busy;
	uint64_t not_ready;
	uint64_t no_room;	/* TX: a packet waited for peer buffers */
};

struct pmd_internal;
struct vpci_queue;

/* A burst function for one ring shape (vpci_rx.c, vpci_tx.c). */
typedef uint16_t (*vpci_burst_t)(struct vpci_queue *q, struct rte_mbuf **pkts,
		uint16_t nb_pkts);

struct vpci_queue {
	/* Held by a burst; the control thread takes it to attach or stop
	 * the ring, so the BAR is never unmapped under a burst.
	 */
	rte_spinlock_t lock;
	bool ready;
	/* The burst of the attached ring's shape: set before ready. */
	vpci_burst_t burst;
	bool attempted;		/* attached, or refused, since the ring's
				 * last stop: not tried again until then */
	uint16_t qid;
	uint16_t vring_idx;
	struct vpci_vring vr;
	struct pmd_internal *internal;
	struct rte_mempool *mp;		/* RX only */
	bool intr_enabled;		/* RX interrupt armed: peer kicks */
	bool zc_active;			/* RX lends peer buffers this attach */
	struct vpci_zc *zc;		/* RX zero-copy state, or NULL */
	struct vpci_stats stats;
} __rte_cache_aligned;

struct pmd_internal {
	char path[108];
	uint16_t max_queue_pairs;
	uint32_t flags;			/* RTE_VHOST_PCI_F_* */
	uint16_t port_id;
	/* The device as its BAR shows it (vpci_ctl.c). */
	uint8_t *meta;			/* metadata page, or NULL */
	uint64_t meta_size;		/* size of the metadata's BAR */
	uint32_t nmem;			/* memory devices found (PCI mode) */
	struct rte_vhost_pci_bar_view mem[RTE_VHOST_PCI_MAX_MEMDEVS];
	volatile uint32_t *doorbell;	/* PCI mode: the doorbell register */
	struct rte_vhost_pci_meta snap;	/* the last consistent snapshot */
	uint32_t gen;			/* its generation, acknowledged */
	bool synced;			/* gen is valid */
	bool attached;			/* the peer's rings are ours */
	struct rte_vhost_pci_map map;	/* valid while attached */
	/* vdev mode: the in-process device model's device, or -1. */
	int vid;
	struct vpci_pci *pci;		/* PCI mode, or NULL */
	uint16_t hdr_len;
	bool mrg_rxbuf;
	bool rx_offload;		/* CSUM or HOST_TSO*: parse RX headers */
	uint64_t features;		/* acked by the peer */
	bool closing;			/* leaving its server */
	bool lsc_pending;		/* an LSC event to deliver (vpci_ctl.c) */
	bool zero_copy;			/* zero_copy= devarg */
	uint32_t zc_min_len;		/* shorter payloads are copied */
	bool uuid_pinned;		/* uuid= devarg */
	int64_t owner;			/* owner= devarg, or -1 */
	int64_t group;			/* group= devarg, or -1 */
	uint32_t max_clients;		/* max_clients= devarg */
	uint8_t uuid[16];
	struct vpci_queue rxq[VPCI_MAX_QUEUE_PAIRS];
	struct vpci_queue txq[VPCI_MAX_QUEUE_PAIRS];
};

/* A net_vhost_pci port's private data, or NULL (rte_eth_vhost_pci.c). */
struct pmd_internal *vpci_internal_of(uint16_t port_id);

/* The driver's lock (vpci_ctl.c): held by attach, detach and the metadata
 * sync; never around a library call that waits for the library's control
 * thread, nor around an application callback.
 */
void vpci_ctl_lock(void);
void vpci_ctl_unlock(void);
/* The device contract, both modes (vpci_ctl.c); vpci_ctl_lock() held. */
int vpci_ctl_sync(struct pmd_internal *internal);
void vpci_ctl_release(struct pmd_internal *internal);
/* No LSC event of the port is delivered after this (no lock held). */
void vpci_ctl_lsc_cancel(struct pmd_internal *internal);
struct rte_eth_link;
void vpci_link_fill(struct rte_eth_link *link, bool up);

/* Port setup shared by the vdev and PCI probes (rte_eth_vhost_pci.c). */
struct rte_eth_dev;
int vpci_port_init(struct rte_eth_dev *eth_dev, uint16_t queues);
void vpci_port_fini(struct rte_eth_dev *eth_dev);

/* PCI mode (vpci_pci.c). */
struct vpci_pci;
void vpci_pci_close(struct pmd_internal *internal);
int vpci_pci_map_mem(struct pmd_internal *internal,
		const struct rte_vhost_pci_meta *meta);

/* Payloads shorter than this are copied even with zero-copy on: below it
 * copying costs the PMD core less than lending, unless the payload is out
 * of cache (tests/tools/vpci_pmdcost.c; doc/guides/nics/vhost_pci.rst).
 */
#define VPCI_ZC_MIN_LEN_DEFAULT	512

/* Sockets shared by ports (vpci_server.c). */
int vpci_server_add(struct pmd_internal *internal);
void vpci_server_remove(struct pmd_internal *internal);

/* Zero-copy RX (vpci_zc.c). */
struct vpci_zc;
int vpci_zc_attach(struct vpci_queue *q, bool resume);
void vpci_zc_free(struct vpci_queue *q);
void vpci_zc_detach(struct vpci_queue *q);
uint32_t vpci_zc_inflight(const struct vpci_queue *q);
uint16_t vpci_zc_drain(struct vpci_queue *q, uint16_t used, uint16_t room);
bool vpci_zc_busy(const struct vpci_queue *q, uint16_t head);
bool vpci_zc_lend(struct vpci_queue *q, uint16_t id, uint16_t ndesc,
		const struct vpci_iov *p, uint16_t n, struct rte_mbuf *m);

/* virtio-net header offloads (vpci_offload.c). */
int vpci_offload_rx(const struct pmd_internal *internal,
		const struct virtio_net_hdr *hdr, struct rte_mbuf *m);
int vpci_offload_tx(const struct pmd_internal *internal,
		const struct rte_mbuf *m, struct virtio_net_hdr *hdr,
		uint32_t *csum_at, uint16_t *csum);

/* ethdev xstats (vpci_xstats.c). */
struct rte_eth_xstat;
struct rte_eth_xstat_name;
int vpci_xstats_get(struct rte_eth_dev *dev, struct rte_eth_xstat *xstats,
		unsigned int n);
int vpci_xstats_get_names(struct rte_eth_dev *dev,
		struct rte_eth_xstat_name *names, unsigned int size);
int vpci_xstats_reset(struct rte_eth_dev *dev);

/* Datapath: the rings and the entry points (vpci_ring.c). */
uint16_t eth_vpci_rx(void *rxq, struct rte_mbuf **pkts, uint16_t nb_pkts);
uint16_t eth_vpci_tx(void *txq, struct rte_mbuf **pkts, uint16_t nb_pkts);
int vpci_vring_init(struct vpci_vring *vr, const struct rte_vhost_pci_map *map,
		const struct rte_vhost_pci_vring *meta, uint64_t features,
		const struct vpci_notify *call, int errfd);
/* The ring's indexes as vhost-user GET_VRING_BASE carries them. */
void vpci_vring_base(const struct vpci_vring *vr, uint16_t *avail,
		uint16_t *used);
void vpci_vring_set_notify(struct vpci_vring *vr, bool kick_wanted);
/* Pick @q's burst function for its attached ring's shape (format,
 * zero-copy, offloads), before it is marked ready; its lock held.
 */
void vpci_queue_set_burst(struct vpci_queue *q);

#endif /* VPCI_H */
