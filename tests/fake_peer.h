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
 * the way net_virtio_user does, and shares one memfd holding the split
 * vrings of queue pair 0 and their buffers. The test reads and writes those
 * rings byte by byte through the helpers below.
 *
 * Vring 0 is the front-end's RX ring (the device writes into its buffers),
 * vring 1 its TX ring (the device reads them). Descriptor d of ring r owns
 * the fixed buffer fp_buf_gpa(p, r, d) of FP_BUF_SIZE bytes.
 *
 * Wire constants and ring layouts are written here from the vhost-user and
 * virtio specifications, not taken from the library.
 */

#include <stdbool.h>
#include <stdint.h>

#define FP_RXQ			0	/* vring 0: the device fills it */
#define FP_TXQ			1	/* vring 1: the device drains it */
#define FP_NRINGS		2

#define FP_NET_HDR_LEN		12	/* virtio-net header with num_buffers */
#define FP_BUF_SIZE		4096u
#define FP_MAX_RING_SIZE	1024u	/* what the memory layout holds */

/* Split ring flags (virtio 1.x, 2.7). */
#define FP_DESC_F_NEXT		1
#define FP_DESC_F_WRITE		2
#define FP_AVAIL_F_NO_INTERRUPT	1
#define FP_USED_F_NO_NOTIFY	1

/* Feature bits a test may add to VERSION_1 | PROTOCOL_FEATURES. */
#define FP_F_MRG_RXBUF		(1ull << 15)
#define FP_F_EVENT_IDX		(1ull << 29)

struct fp_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct fp_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];	/* size entries, then used_event */
};

struct fp_used_elem {
	uint32_t id;
	uint32_t len;
};

struct fp_used {
	uint16_t flags;
	uint16_t idx;
	struct fp_used_elem ring[];	/* size entries, then avail_event */
};

struct fp_ring {
	uint64_t desc_gpa;
	uint64_t avail_gpa;
	uint64_t used_gpa;
	volatile struct fp_desc *desc;
	volatile struct fp_avail *avail;
	volatile struct fp_used *used;
	uint16_t avail_idx;	/* next avail index the peer publishes */
	uint16_t used_idx;	/* next used entry the peer reads */
	int callfd;		/* the device signals used buffers here */
	int kickfd;
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
	struct fp_ring ring[FP_NRINGS];
	char err[256];		/* why the last call failed */
};

/* Create the shared memory for rings of @ring_size (power of two). */
int fp_init(struct fake_peer *p, uint16_t ring_size);
/* Disconnect and release everything. */
void fp_fini(struct fake_peer *p);

/*
 * Zero the rings, connect to @path and run the whole handshake, acking
 * VERSION_1 | PROTOCOL_FEATURES | @extra_features. Returns once SET_STATUS
 * is acked, or -1 with p->err set.
 */
int fp_connect(struct fake_peer *p, const char *path, uint64_t extra_features);
/* Close the socket (the device sees the front-end go away). */
void fp_disconnect(struct fake_peer *p);

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
/* Post an empty writable buffer of @len bytes on the RX ring, filled with
 * @fill; returns the head.
 */
uint16_t fp_post_rx(struct fake_peer *p, uint32_t len, uint8_t fill);

/* Next unread used entry of ring @r: 1 and *e, or 0 if none. */
int fp_used_next(struct fake_peer *p, int r, struct fp_used_elem *e);
/* used->idx as the device published it. */
uint16_t fp_used_idx(const struct fake_peer *p, int r);
uint16_t fp_used_flags(const struct fake_peer *p, int r);

/* Notifications on ring @r's call eventfd since the last read (0: none). */
uint64_t fp_calls(struct fake_peer *p, int r);
void fp_set_avail_flags(struct fake_peer *p, int r, uint16_t flags);
void fp_set_used_event(struct fake_peer *p, int r, uint16_t idx);

#endif /* FAKE_PEER_H */
