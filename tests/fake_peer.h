/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

#ifndef FAKE_PEER_H
#define FAKE_PEER_H

/**
 * @file
 * A fake virtio-net front-end for datapath tests.
 *
 * It connects to a vhost-pci socket, performs the vhost-user v1 handshake
 * the way net_virtio_user does, and shares one memfd holding the vrings of
 * queue pair 0 (split, or packed with FP_F_RING_PACKED) and their buffers.
 * The test reads and writes those rings byte by byte through the helpers
 * below.
 *
 * Vring 0 is the front-end's RX ring (the device writes into its buffers),
 * vring 1 its TX ring (the device reads them). Descriptor (packed: slot) d
 * of ring r owns the fixed buffer fp_buf_gpa(p, r, d) of FP_BUF_SIZE bytes.
 *
 * vhost-user constants are written here from its specification, not taken
 * from the library. Ring layouts, flags and feature bits are Linux's UAPI
 * ones (vhost_pci_virtio.h), which the PMD uses too: an outside authority.
 */

#include <stdbool.h>
#include <stdint.h>

#include "vhost_pci_virtio.h"

#define FP_RXQ			0	/* vring 0: the device fills it */
#define FP_TXQ			1	/* vring 1: the device drains it */
#define FP_NRINGS		2

/* virtio-net header with num_buffers */
#define FP_NET_HDR_LEN	((uint32_t)sizeof(struct virtio_net_hdr_mrg_rxbuf))
#define FP_BUF_SIZE		4096u
#define FP_MAX_RING_SIZE	1024u	/* what the memory layout holds */

/* Feature bits a test may add to VERSION_1 | PROTOCOL_FEATURES. */
#define FP_F_MRG_RXBUF		(1ull << VIRTIO_NET_F_MRG_RXBUF)
#define FP_F_INDIRECT		(1ull << VIRTIO_RING_F_INDIRECT_DESC)
#define FP_F_EVENT_IDX		(1ull << VIRTIO_RING_F_EVENT_IDX)
#define FP_F_RING_PACKED	(1ull << VIRTIO_F_RING_PACKED)
#define FP_F_IN_ORDER		(1ull << VIRTIO_F_IN_ORDER)

/*
 * Packed ring (virtio 1.1, 2.8). A descriptor is available when its AVAIL
 * bit equals the driver's wrap counter and its USED bit does not; used
 * when both equal the device's wrap counter.
 *
 * A position on a packed ring: the slot, and in bit 15 the wrap counter of
 * the lap it belongs to; the encoding of off_wrap.
 */
#define FP_POS_WRAP		VHOST_PCI_PACKED_WRAP
#define FP_POS_SLOT(pos)	VHOST_PCI_PACKED_SLOT(pos)
#define FP_POS_WRAP_BIT(pos)	(((pos) & FP_POS_WRAP) ? 1u : 0u)

/* What the driver remembers of a buffer it made available, by id. */
struct fp_chain {
	uint16_t ndesc;		/* descriptors of its chain; 0: none posted */
	uint16_t end;		/* position just after the chain */
};

/* A used descriptor read off a packed ring. */
struct fp_pused {
	uint16_t pos;		/* where it was found */
	uint16_t id;
	uint32_t len;
	uint16_t flags;
	uint16_t ndesc;		/* see fp_packed_used_next() */
};

struct fp_ring {
	uint64_t desc_gpa;
	uint64_t avail_gpa;
	uint64_t used_gpa;
	volatile struct vring_desc *desc;
	volatile struct vring_avail *avail;
	volatile struct vring_used *used;
	uint16_t avail_idx;	/* next avail index the peer publishes */
	uint16_t used_idx;	/* next used entry the peer reads */
	int callfd;		/* the device signals used buffers here */
	int kickfd;

	/* The same three areas laid out as a packed ring. */
	volatile struct vring_packed_desc *pdesc;	/* at desc_gpa */
	volatile struct vring_packed_desc_event *driver_event;	/* at avail_gpa */
	volatile struct vring_packed_desc_event *device_event;	/* at used_gpa */
	uint16_t avail_pos;	/* where the next chain starts */
	uint16_t used_pos;	/* where the next used one is looked for */
	uint16_t staged;	/* descriptors written, not yet published */
	uint16_t head_flags;	/* flags of the first one, held back */
	uint16_t last_id;	/* id of the last one: the buffer id */
	struct fp_chain *chains;	/* 65536 entries, by buffer id */
};

struct fake_peer {
	int sock;
	int memfd;
	uint8_t *mem;
	uint64_t mem_size;
	uint64_t base;		/* guest address = front-end VA of mem[0] */
	uint16_t ring_size;
	uint64_t features;	/* acked with SET_FEATURES */
	uint64_t offered;	/* GET_FEATURES answered this */
	uint64_t protocol_features;
	/* SET_VRING_BASE of packed rings: slot | wrap counter << 15, where
	 * both rings start. fp_init() sets slot 0, wrap 1. A slot past the
	 * ring is sent as is; the fp_packed_* helpers must not be used then.
	 */
	uint16_t packed_base;
	/* Nonzero: the memory goes in SET_MEM_TABLE as two regions, split
	 * at this offset (2 MiB aligned), contiguous in guest addresses.
	 */
	uint64_t split;
	struct fp_ring ring[FP_NRINGS];
	char err[256];		/* why the last call failed */
};

/* Create the shared memory for rings of @ring_size (a power of two for
 * split rings).
 */
int fp_init(struct fake_peer *p, uint16_t ring_size);
/* Disconnect and release everything. */
void fp_fini(struct fake_peer *p);

/*
 * Zero the rings, connect to @path and run the whole handshake, acking
 * VERSION_1 | PROTOCOL_FEATURES | @extra_features. Returns once SET_STATUS
 * is acked, or -1 with p->err set. Packed rings start at p->packed_base,
 * the descriptors before it used in that lap, the others in the previous.
 */
int fp_connect(struct fake_peer *p, const char *path, uint64_t extra_features);
/* Close the socket (the device sees the front-end go away). */
void fp_disconnect(struct fake_peer *p);
/*
 * Leave the way net_virtio_user stops its device before it closes: each
 * ring disabled (SET_VRING_ENABLE 0) and stopped (GET_VRING_BASE), then
 * the write side shut down and the socket read until the device closes
 * it (a second without a byte or the close is a failure); then
 * fp_disconnect(). Returns 0, or -1 with p->err set if a step failed (the
 * socket is closed in any case).
 */
int fp_leave(struct fake_peer *p);
/*
 * A run-time memory table update the way net_virtio_user sends it: both
 * rings disabled, SET_MEM_TABLE with the memfd grown by @grow bytes, both
 * rings enabled. The rings go on where they were.
 */
int fp_remap(struct fake_peer *p, uint64_t grow);
/*
 * Both rings stopped (GET_VRING_BASE) and set up again from scratch on the
 * same connection, as a front-end's port stop and start do.
 */
int fp_restart(struct fake_peer *p);

/* Local pointer to [gpa, gpa + len), or NULL outside the memory. */
void *fp_ptr(const struct fake_peer *p, uint64_t gpa, uint64_t len);
/* Guest address of descriptor @d's buffer on ring @r. */
uint64_t fp_buf_gpa(const struct fake_peer *p, int r, uint16_t d);
/* Local pointer to that buffer. */
uint8_t *fp_buf(const struct fake_peer *p, int r, uint16_t d);

/* Descriptor slot the next fp_post_* uses: avail index modulo size. */
uint16_t fp_next_slot(const struct fake_peer *p, int r);
void fp_set_desc(struct fake_peer *p, int r, uint16_t d, uint64_t addr,
		uint32_t len, uint16_t flags, uint16_t next);
/* Put @head in the avail ring and publish it (release store of idx). */
void fp_publish(struct fake_peer *p, int r, uint16_t head);
/* Store avail->idx as is, shadow included (for hostile tests). */
void fp_set_avail_idx(struct fake_peer *p, int r, uint16_t idx);

/* Post a frame on the TX ring behind a zero header; returns the head. */
uint16_t fp_post_tx(struct fake_peer *p, const void *frame, uint32_t len);
/* As fp_post_tx(), on descriptor @d (a free slot of the TX ring). */
uint16_t fp_post_tx_at(struct fake_peer *p, uint16_t d, const void *frame,
		uint32_t len);
/* Post an empty writable buffer of @len bytes on the RX ring, filled with
 * @fill; returns the head.
 */
uint16_t fp_post_rx(struct fake_peer *p, uint32_t len, uint8_t fill);

/* Next unread used entry of ring @r: 1 and *e, or 0 if none. */
int fp_used_next(struct fake_peer *p, int r, struct vring_used_elem *e);
/* used->idx as the device published it. */
uint16_t fp_used_idx(const struct fake_peer *p, int r);
uint16_t fp_used_flags(const struct fake_peer *p, int r);

/* Notifications on ring @r's call eventfd since the last read (0: none). */
uint64_t fp_calls(struct fake_peer *p, int r);
void fp_set_avail_flags(struct fake_peer *p, int r, uint16_t flags);
void fp_set_used_event(struct fake_peer *p, int r, uint16_t idx);

/*
 * Packed rings: fp_connect() with FP_F_RING_PACKED in @extra_features lays
 * every vring out as a descriptor ring (at desc_gpa), a driver event
 * suppression area (at avail_gpa) and a device one (at used_gpa), and
 * starts them at p->packed_base (slot 0, wrap counters 1, unless a test
 * says otherwise). Buffer ids are the test's to choose; the
 * fp_packed_post_* helpers use the slot of the descriptor.
 */

/* @pos moved on by @n slots, the wrap counter toggled at each ring end. */
uint16_t fp_pos_add(const struct fake_peer *p, uint16_t pos, uint32_t n);
/* Where the next descriptor fp_packed_add() writes goes. */
uint16_t fp_packed_avail_pos(const struct fake_peer *p, int r);
/* Where the driver expects the next used descriptor. */
uint16_t fp_packed_used_pos(const struct fake_peer *p, int r);

/* Write slot @slot exactly as given, @flags last (for hostile tests). */
void fp_packed_set_desc(struct fake_peer *p, int r, uint16_t slot,
		uint64_t addr, uint32_t len, uint16_t id, uint16_t flags);
/*
 * Write the next descriptor of a chain at the next free slot: @flags
 * (NEXT, WRITE, INDIRECT) with the AVAIL/USED bits of that slot's lap.
 * The chain's first descriptor stays unavailable until fp_packed_publish().
 * Returns the slot.
 */
uint16_t fp_packed_add(struct fake_peer *p, int r, uint64_t addr,
		uint32_t len, uint16_t id, uint16_t flags);
/*
 * Make the chain written since the last publish available: the flags of
 * its first descriptor are stored last, with release. Remembers its
 * descriptor count under the id of its last descriptor. Returns the
 * position of the first descriptor.
 */
uint16_t fp_packed_publish(struct fake_peer *p, int r);

/* As fp_post_tx(): one descriptor, id = its slot. Returns the id. */
uint16_t fp_packed_post_tx(struct fake_peer *p, const void *frame,
		uint32_t len);
/* As fp_post_rx(): one writable descriptor, id = its slot. */
uint16_t fp_packed_post_rx(struct fake_peer *p, uint32_t len, uint8_t fill);

/*
 * The used descriptor at the driver's used position: 1 and *u, and the
 * position moves past the buffer's chain; or 0 if that slot is not used
 * in the current lap (u->pos and u->flags then say what is there).
 * u->ndesc is the number of descriptors the driver takes back: the id's
 * chain length (0 for an id never posted; the position then moves by 1),
 * or with IN_ORDER acked, everything up to the end of the id's chain.
 */
int fp_packed_used_next(struct fake_peer *p, int r, struct fp_pused *u);

/* Driver event suppression of ring @r: @flags, and @off_wrap for DESC. */
void fp_packed_set_driver_event(struct fake_peer *p, int r, uint16_t flags,
		uint16_t off_wrap);
/* Device event suppression of ring @r: its flags (and *off_wrap). */
uint16_t fp_packed_device_event(const struct fake_peer *p, int r,
		uint16_t *off_wrap);

#endif /* FAKE_PEER_H */
