/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * A fake virtio-net front-end (see fake_peer.h). The handshake follows the
 * order net_virtio_user uses; every message goes through fp_msg().
 */

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fake_peer.h"
#include "harness.h"

/* vhost-user v1 wire format (vhost-user specification). */
#define HDR_V1			0x1u
#define HDR_F_REPLY		0x4u
#define HDR_F_NEED_REPLY	0x8u

#define REQ_GET_FEATURES		1u
#define REQ_SET_FEATURES		2u
#define REQ_SET_OWNER			3u
#define REQ_SET_MEM_TABLE		5u
#define REQ_SET_VRING_NUM		8u
#define REQ_SET_VRING_ADDR		9u
#define REQ_SET_VRING_BASE		10u
#define REQ_GET_VRING_BASE		11u
#define REQ_SET_VRING_KICK		12u
#define REQ_SET_VRING_CALL		13u
#define REQ_GET_PROTOCOL_FEATURES	15u
#define REQ_SET_PROTOCOL_FEATURES	16u
#define REQ_SET_VRING_ENABLE		18u
#define REQ_SET_STATUS			39u

#define F_PROTOCOL_FEATURES	(1ull << 30)
#define F_VERSION_1		(1ull << VIRTIO_F_VERSION_1)
#define PF_MQ			(1ull << 0)
#define PF_REPLY_ACK		(1ull << 3)
#define PF_STATUS		(1ull << 16)

#define STATUS_ALL_OK		(VIRTIO_CONFIG_S_ACKNOWLEDGE | \
				 VIRTIO_CONFIG_S_DRIVER | \
				 VIRTIO_CONFIG_S_DRIVER_OK | \
				 VIRTIO_CONFIG_S_FEATURES_OK)

#define REPLY_TIMEOUT_MS	3000

struct wire_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
} __attribute__((packed));

struct wire_state {
	uint32_t index;
	uint32_t num;
} __attribute__((packed));

struct wire_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc;
	uint64_t used;
	uint64_t avail;
	uint64_t log;
} __attribute__((packed));

struct wire_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr;
	uint64_t mmap_offset;
} __attribute__((packed));

struct wire_mem {
	uint32_t nregions;
	uint32_t padding;
	struct wire_region r[2];
} __attribute__((packed));

/* Memory layout: ring r at r * RING_STRIDE (desc, avail, used at fixed
 * offsets), buffers from BUF_OFF on. A packed ring puts its descriptors,
 * driver and device event suppression areas at those same offsets.
 */
#define FP_BASE		0x7f0000000000ull
#define RING_STRIDE	0x10000u
#define AVAIL_OFF	0x4000u
#define USED_OFF	0x8000u
#define BUF_OFF		0x100000u
#define MIN_MEM		(8u << 20)
#define MEM_ALIGN	(2u << 20)

/* Buffer ids are 16 bits: the driver keeps a record for each. */
#define NB_IDS		0x10000u

static int
fp_fail(struct fake_peer *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- memory and rings ---- */

static void
ring_layout(struct fake_peer *p, int r)
{
	struct fp_ring *ring = &p->ring[r];
	uint64_t off = (uint64_t)r * RING_STRIDE;

	ring->desc_gpa = p->base + off;
	ring->avail_gpa = p->base + off + AVAIL_OFF;
	ring->used_gpa = p->base + off + USED_OFF;
	ring->desc = (void *)(p->mem + off);
	ring->avail = (void *)(p->mem + off + AVAIL_OFF);
	ring->used = (void *)(p->mem + off + USED_OFF);
	ring->pdesc = (void *)(p->mem + off);
	ring->driver_event = (void *)(p->mem + off + AVAIL_OFF);
	ring->device_event = (void *)(p->mem + off + USED_OFF);
}

int
fp_init(struct fake_peer *p, uint16_t ring_size)
{
	uint64_t need = BUF_OFF + 2ull * ring_size * FP_BUF_SIZE;
	int r;

	memset(p, 0, sizeof(*p));
	p->sock = p->memfd = -1;
	for (r = 0; r < FP_NRINGS; r++)
		p->ring[r].callfd = p->ring[r].kickfd = -1;
	/* Any size for packed rings; fp_connect() wants a power of two for
	 * split ones.
	 */
	if (ring_size == 0 || ring_size > FP_MAX_RING_SIZE)
		return fp_fail(p, "ring size %u not supported", ring_size);
	p->ring_size = ring_size;
	p->packed_base = FP_POS_WRAP;
	p->mem_size = need < MIN_MEM ? MIN_MEM :
		(need + MEM_ALIGN - 1) & ~(uint64_t)(MEM_ALIGN - 1);
	p->base = FP_BASE;
	p->memfd = memfd_create("fake-peer", MFD_CLOEXEC);
	if (p->memfd < 0 || ftruncate(p->memfd, p->mem_size) < 0)
		return fp_fail(p, "memfd: %s", strerror(errno));
	p->mem = mmap(NULL, p->mem_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		p->memfd, 0);
	if (p->mem == MAP_FAILED) {
		p->mem = NULL;
		return fp_fail(p, "mmap: %s", strerror(errno));
	}
	for (r = 0; r < FP_NRINGS; r++) {
		ring_layout(p, r);
		p->ring[r].chains = calloc(NB_IDS, sizeof(struct fp_chain));
		if (p->ring[r].chains == NULL)
			return fp_fail(p, "out of memory");
	}
	return 0;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void
fp_disconnect(struct fake_peer *p)
{
	int r;

	close_fd(&p->sock);
	for (r = 0; r < FP_NRINGS; r++) {
		close_fd(&p->ring[r].callfd);
		close_fd(&p->ring[r].kickfd);
	}
}

void
fp_fini(struct fake_peer *p)
{
	int r;

	fp_disconnect(p);
	for (r = 0; r < FP_NRINGS; r++) {
		free(p->ring[r].chains);
		p->ring[r].chains = NULL;
	}
	if (p->mem != NULL)
		munmap(p->mem, p->mem_size);
	p->mem = NULL;
	close_fd(&p->memfd);
}

void *
fp_ptr(const struct fake_peer *p, uint64_t gpa, uint64_t len)
{
	uint64_t off = gpa - p->base;

	if (off >= p->mem_size || len > p->mem_size - off)
		return NULL;
	return p->mem + off;
}

uint64_t
fp_buf_gpa(const struct fake_peer *p, int r, uint16_t d)
{
	return p->base + BUF_OFF +
		((uint64_t)r * p->ring_size + d % p->ring_size) *
		FP_BUF_SIZE;
}

uint8_t *
fp_buf(const struct fake_peer *p, int r, uint16_t d)
{
	return fp_ptr(p, fp_buf_gpa(p, r, d), FP_BUF_SIZE);
}

/* ---- ring access ---- */

uint16_t
fp_next_slot(const struct fake_peer *p, int r)
{
	return p->ring[r].avail_idx & (p->ring_size - 1);
}

void
fp_set_desc(struct fake_peer *p, int r, uint16_t d, uint64_t addr,
		uint32_t len, uint16_t flags, uint16_t next)
{
	volatile struct vring_desc *desc = &p->ring[r].desc[d];

	desc->addr = addr;
	desc->len = len;
	desc->flags = flags;
	desc->next = next;
}

void
fp_publish(struct fake_peer *p, int r, uint16_t head)
{
	struct fp_ring *ring = &p->ring[r];

	ring->avail->ring[ring->avail_idx & (p->ring_size - 1)] = head;
	ring->avail_idx++;
	/* Descriptors, buffers and the ring entry before the index. */
	__atomic_store_n(&ring->avail->idx, ring->avail_idx, __ATOMIC_RELEASE);
}

void
fp_set_avail_idx(struct fake_peer *p, int r, uint16_t idx)
{
	p->ring[r].avail_idx = idx;
	__atomic_store_n(&p->ring[r].avail->idx, idx, __ATOMIC_RELEASE);
}

uint16_t
fp_post_tx(struct fake_peer *p, const void *frame, uint32_t len)
{
	return fp_post_tx_at(p, fp_next_slot(p, FP_TXQ), frame, len);
}

uint16_t
fp_post_tx_at(struct fake_peer *p, uint16_t d, const void *frame,
		uint32_t len)
{
	uint8_t *buf = fp_buf(p, FP_TXQ, d);

	memset(buf, 0, FP_NET_HDR_LEN);
	memcpy(buf + FP_NET_HDR_LEN, frame, len);
	fp_set_desc(p, FP_TXQ, d, fp_buf_gpa(p, FP_TXQ, d),
		FP_NET_HDR_LEN + len, 0, 0);
	fp_publish(p, FP_TXQ, d);
	return d;
}

uint16_t
fp_post_rx(struct fake_peer *p, uint32_t len, uint8_t fill)
{
	uint16_t d = fp_next_slot(p, FP_RXQ);

	memset(fp_buf(p, FP_RXQ, d), fill, FP_BUF_SIZE);
	fp_set_desc(p, FP_RXQ, d, fp_buf_gpa(p, FP_RXQ, d), len,
		VRING_DESC_F_WRITE, 0);
	fp_publish(p, FP_RXQ, d);
	return d;
}

uint16_t
fp_used_idx(const struct fake_peer *p, int r)
{
	return __atomic_load_n(&p->ring[r].used->idx, __ATOMIC_ACQUIRE);
}

uint16_t
fp_used_flags(const struct fake_peer *p, int r)
{
	return p->ring[r].used->flags;
}

int
fp_used_next(struct fake_peer *p, int r, struct vring_used_elem *e)
{
	struct fp_ring *ring = &p->ring[r];
	volatile struct vring_used_elem *u;

	if (fp_used_idx(p, r) == ring->used_idx)
		return 0;
	u = &ring->used->ring[ring->used_idx & (p->ring_size - 1)];
	e->id = u->id;
	e->len = u->len;
	ring->used_idx++;
	return 1;
}

uint64_t
fp_calls(struct fake_peer *p, int r)
{
	uint64_t v;

	if (p->ring[r].callfd < 0 ||
			read(p->ring[r].callfd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

void
fp_set_avail_flags(struct fake_peer *p, int r, uint16_t flags)
{
	p->ring[r].avail->flags = flags;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void
fp_set_used_event(struct fake_peer *p, int r, uint16_t idx)
{
	p->ring[r].avail->ring[p->ring_size] = idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* ---- packed rings ---- */

static bool
packed(const struct fake_peer *p)
{
	return (p->features & FP_F_RING_PACKED) != 0;
}

uint16_t
fp_pos_add(const struct fake_peer *p, uint16_t pos, uint32_t n)
{
	uint32_t slot = FP_POS_SLOT(pos) + n;
	uint16_t wrap = pos & FP_POS_WRAP;

	while (slot >= p->ring_size) {
		slot -= p->ring_size;
		wrap ^= FP_POS_WRAP;
	}
	return (uint16_t)slot | wrap;
}

uint16_t
fp_packed_avail_pos(const struct fake_peer *p, int r)
{
	return fp_pos_add(p, p->ring[r].avail_pos, p->ring[r].staged);
}

uint16_t
fp_packed_used_pos(const struct fake_peer *p, int r)
{
	return p->ring[r].used_pos;
}

/* The AVAIL and USED bits of a descriptor made available at @pos. */
static uint16_t
avail_bits(uint16_t pos)
{
	return (pos & FP_POS_WRAP) ? VHOST_PCI_PDESC_F_AVAIL : VHOST_PCI_PDESC_F_USED;
}

/* Whether @flags mark the descriptor at @pos used in @pos's lap. */
static bool
used_in_lap(uint16_t flags, uint16_t pos)
{
	uint16_t both = VHOST_PCI_PDESC_F_AVAIL | VHOST_PCI_PDESC_F_USED;

	return (flags & both) == ((pos & FP_POS_WRAP) ? both : 0);
}

void
fp_packed_set_desc(struct fake_peer *p, int r, uint16_t slot,
		uint64_t addr, uint32_t len, uint16_t id, uint16_t flags)
{
	volatile struct vring_packed_desc *desc =
		&p->ring[r].pdesc[slot % p->ring_size];

	desc->addr = addr;
	desc->len = len;
	desc->id = id;
	__atomic_store_n(&desc->flags, flags, __ATOMIC_RELEASE);
}

uint16_t
fp_packed_add(struct fake_peer *p, int r, uint64_t addr, uint32_t len,
		uint16_t id, uint16_t flags)
{
	struct fp_ring *ring = &p->ring[r];
	uint16_t pos = fp_packed_avail_pos(p, r);
	volatile struct vring_packed_desc *desc = &ring->pdesc[FP_POS_SLOT(pos)];

	flags &= ~(VHOST_PCI_PDESC_F_AVAIL | VHOST_PCI_PDESC_F_USED);
	flags |= avail_bits(pos);
	desc->addr = addr;
	desc->len = len;
	desc->id = id;
	/* The device must not see the head before the rest of the chain. */
	if (ring->staged == 0)
		ring->head_flags = flags;
	else
		desc->flags = flags;
	ring->staged++;
	ring->last_id = id;
	return FP_POS_SLOT(pos);
}

uint16_t
fp_packed_publish(struct fake_peer *p, int r)
{
	struct fp_ring *ring = &p->ring[r];
	uint16_t head = ring->avail_pos;
	struct fp_chain *c = &ring->chains[ring->last_id];

	if (ring->staged == 0)
		return head;
	ring->avail_pos = fp_pos_add(p, head, ring->staged);
	c->ndesc = ring->staged;
	c->end = ring->avail_pos;
	ring->staged = 0;
	/* The rest of the chain and the buffers before the head's flags. */
	__atomic_store_n(&ring->pdesc[FP_POS_SLOT(head)].flags,
		ring->head_flags, __ATOMIC_RELEASE);
	return head;
}

uint16_t
fp_packed_post_tx(struct fake_peer *p, const void *frame, uint32_t len)
{
	uint16_t id = FP_POS_SLOT(fp_packed_avail_pos(p, FP_TXQ));
	uint8_t *buf = fp_buf(p, FP_TXQ, id);

	memset(buf, 0, FP_NET_HDR_LEN);
	memcpy(buf + FP_NET_HDR_LEN, frame, len);
	fp_packed_add(p, FP_TXQ, fp_buf_gpa(p, FP_TXQ, id),
		FP_NET_HDR_LEN + len, id, 0);
	fp_packed_publish(p, FP_TXQ);
	return id;
}

uint16_t
fp_packed_post_rx(struct fake_peer *p, uint32_t len, uint8_t fill)
{
	uint16_t id = FP_POS_SLOT(fp_packed_avail_pos(p, FP_RXQ));

	memset(fp_buf(p, FP_RXQ, id), fill, FP_BUF_SIZE);
	fp_packed_add(p, FP_RXQ, fp_buf_gpa(p, FP_RXQ, id), len, id,
		VRING_DESC_F_WRITE);
	fp_packed_publish(p, FP_RXQ);
	return id;
}

/* Descriptors from @from up to @to, a whole ring if they are equal. */
static uint16_t
pos_distance(const struct fake_peer *p, uint16_t from, uint16_t to)
{
	uint16_t n = (FP_POS_SLOT(to) + p->ring_size - FP_POS_SLOT(from)) %
		p->ring_size;

	return n != 0 ? n : p->ring_size;
}

int
fp_packed_used_next(struct fake_peer *p, int r, struct fp_pused *u)
{
	struct fp_ring *ring = &p->ring[r];
	volatile struct vring_packed_desc *desc;
	struct fp_chain *c;

	memset(u, 0, sizeof(*u));
	u->pos = ring->used_pos;
	desc = &ring->pdesc[FP_POS_SLOT(u->pos)];
	/* Pairs with the device's release of the flags: id and len after. */
	u->flags = __atomic_load_n(&desc->flags, __ATOMIC_ACQUIRE);
	if (!used_in_lap(u->flags, u->pos))
		return 0;
	u->id = desc->id;
	u->len = desc->len;
	c = &ring->chains[u->id];
	if (c->ndesc == 0) {
		/* Not a buffer we posted: step over this one slot. */
		ring->used_pos = fp_pos_add(p, u->pos, 1);
	} else if (p->features & FP_F_IN_ORDER) {
		/* One used descriptor may stand for a batch up to the id. */
		u->ndesc = pos_distance(p, u->pos, c->end);
		ring->used_pos = c->end;
	} else {
		u->ndesc = c->ndesc;
		ring->used_pos = fp_pos_add(p, u->pos, c->ndesc);
	}
	c->ndesc = 0;
	return 1;
}

void
fp_packed_set_driver_event(struct fake_peer *p, int r, uint16_t flags,
		uint16_t off_wrap)
{
	p->ring[r].driver_event->off_wrap = off_wrap;
	p->ring[r].driver_event->flags = flags;
	/* Seen before the device next decides whether to signal. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

uint16_t
fp_packed_device_event(const struct fake_peer *p, int r, uint16_t *off_wrap)
{
	if (off_wrap != NULL)
		*off_wrap = p->ring[r].device_event->off_wrap;
	return p->ring[r].device_event->flags;
}

/* ---- messages ---- */

/* The one sender: a v1 header, @len bytes of payload, @nfds fds (the
 * peer keeps its own copies).
 */
static int
fp_msg(struct fake_peer *p, uint32_t req, uint32_t flags, const void *pl,
		uint32_t len, const int *fds, unsigned int nfds)
{
	struct wire_hdr h = { .request = req, .flags = HDR_V1 | flags,
		.size = len };
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)(uintptr_t)pl, .iov_len = len },
	};
	ssize_t n;

	if (nfds > 2)
		return fp_fail(p, "request %u: %u fds", req, nfds);
	n = send_fds(p->sock, iov, len ? 2 : 1, fds, nfds);
	if (n != (ssize_t)(sizeof(h) + len))
		return fp_fail(p, "request %u: sendmsg: %s", req,
			n < 0 ? strerror(errno) : "short write");
	return 0;
}

static int
recv_all(struct fake_peer *p, void *buf, size_t len)
{
	struct pollfd pfd = { .fd = p->sock, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, REPLY_TIMEOUT_MS) != 1)
		return -1;
	n = recv(p->sock, buf, len, MSG_WAITALL);
	return n == (ssize_t)len ? 0 : -1;
}

/* Read the reply to @req: exactly @len bytes of payload. */
static int
fp_reply(struct fake_peer *p, uint32_t req, void *pl, uint32_t len)
{
	struct wire_hdr h;

	if (recv_all(p, &h, sizeof(h)) < 0)
		return fp_fail(p, "no reply to request %u", req);
	if (h.request != req || h.flags != (HDR_V1 | HDR_F_REPLY) ||
			h.size != len)
		return fp_fail(p, "reply %u flags 0x%x size %u to request %u",
			h.request, h.flags, h.size, req);
	if (recv_all(p, pl, len) < 0)
		return fp_fail(p, "short reply to request %u", req);
	return 0;
}

static int
msg_u64(struct fake_peer *p, uint32_t req, uint64_t v, int fd)
{
	return fp_msg(p, req, 0, &v, sizeof(v), &fd, fd >= 0 ? 1 : 0);
}

static int
msg_state(struct fake_peer *p, uint32_t req, uint32_t index, uint32_t num)
{
	struct wire_state s = { .index = index, .num = num };

	return fp_msg(p, req, 0, &s, sizeof(s), NULL, 0);
}

static int
get_u64(struct fake_peer *p, uint32_t req, uint64_t *v)
{
	if (fp_msg(p, req, 0, NULL, 0, NULL, 0) < 0)
		return -1;
	return fp_reply(p, req, v, sizeof(*v));
}

/* REPLY_ACK negotiated: requests without a reply of their own ask for
 * one, and its status must be 0.
 */
static int
need_ack(const struct fake_peer *p)
{
	return (p->protocol_features & PF_REPLY_ACK) != 0;
}

static int
read_ack(struct fake_peer *p, uint32_t req)
{
	uint64_t v;

	if (!need_ack(p))
		return 0;
	if (fp_reply(p, req, &v, sizeof(v)) < 0)
		return -1;
	return v == 0 ? 0 : fp_fail(p, "request %u nacked (%" PRIu64 ")",
		req, v);
}

/* ---- the handshake ---- */

static int
hs_features(struct fake_peer *p, uint64_t extra)
{
	uint64_t want = F_VERSION_1 | F_PROTOCOL_FEATURES | extra, v;

	if (fp_msg(p, REQ_SET_OWNER, 0, NULL, 0, NULL, 0) < 0 ||
			get_u64(p, REQ_GET_FEATURES, &v) < 0)
		return -1;
	p->offered = v;
	if ((v & want) != want)
		return fp_fail(p, "device offers 0x%" PRIx64 ", want 0x%" PRIx64,
			v, want);
	p->features = want;
	if (get_u64(p, REQ_GET_PROTOCOL_FEATURES, &v) < 0)
		return -1;
	p->protocol_features = v & (PF_MQ | PF_REPLY_ACK | PF_STATUS);
	return msg_u64(p, REQ_SET_PROTOCOL_FEATURES, p->protocol_features, -1);
}

static int
fp_new_eventfd(struct fake_peer *p, int *fd)
{
	*fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return *fd < 0 ? fp_fail(p, "eventfd: %s", strerror(errno)) : 0;
}

static int
hs_calls(struct fake_peer *p)
{
	int r;

	for (r = 0; r < FP_NRINGS; r++)
		if (fp_new_eventfd(p, &p->ring[r].callfd) < 0 ||
				msg_u64(p, REQ_SET_VRING_CALL, r,
					p->ring[r].callfd) < 0)
			return -1;
	return 0;
}

static int
hs_mem(struct fake_peer *p, uint64_t size)
{
	uint64_t at = p->split != 0 && p->split < size ? p->split : size;
	struct wire_mem m = {
		.nregions = 1,
		.r[0] = { .gpa = p->base, .size = at, .uaddr = p->base },
		/* The rest of the same file, at the next guest address. */
		.r[1] = { .gpa = p->base + at, .size = size - at,
			.uaddr = p->base + at, .mmap_offset = at },
	};
	const int fds[2] = { p->memfd, p->memfd };

	if (at < size)
		m.nregions = 2;
	if (fp_msg(p, REQ_SET_MEM_TABLE, need_ack(p) ? HDR_F_NEED_REPLY : 0,
			&m, 8 + m.nregions * sizeof(m.r[0]), fds,
			m.nregions) < 0)
		return -1;
	return read_ack(p, REQ_SET_MEM_TABLE);
}

static int
hs_vring(struct fake_peer *p, int r)
{
	/* Packed: the descriptor ring, then the driver and the device event
	 * suppression areas in the avail and used fields.
	 */
	struct wire_addr a = {
		.index = r,
		.desc = p->ring[r].desc_gpa,
		.used = p->ring[r].used_gpa,
		.avail = p->ring[r].avail_gpa,
	};
	/* Packed: last_avail_idx and wrap counter (by default 0 and 1, as
	 * virtio-user sends for a new ring).
	 */
	uint32_t base = packed(p) ? p->packed_base : 0;

	if (msg_state(p, REQ_SET_VRING_NUM, r, p->ring_size) < 0 ||
			msg_state(p, REQ_SET_VRING_BASE, r, base) < 0 ||
			fp_msg(p, REQ_SET_VRING_ADDR, 0, &a, sizeof(a), NULL,
				0) < 0 ||
			fp_new_eventfd(p, &p->ring[r].kickfd) < 0)
		return -1;
	return msg_u64(p, REQ_SET_VRING_KICK, r, p->ring[r].kickfd);
}

static int
hs_start(struct fake_peer *p)
{
	uint64_t st = STATUS_ALL_OK;
	int r;

	for (r = 0; r < FP_NRINGS; r++)
		if (msg_state(p, REQ_SET_VRING_ENABLE, r, 1) < 0)
			return -1;
	if (!(p->protocol_features & PF_STATUS))
		return 0;
	if (fp_msg(p, REQ_SET_STATUS, need_ack(p) ? HDR_F_NEED_REPLY : 0,
			&st, sizeof(st), NULL, 0) < 0)
		return -1;
	return read_ack(p, REQ_SET_STATUS);
}

/*
 * A packed ring that starts at packed_base: the slots before it were used
 * in the current lap, the others in the previous one (for the default
 * base, slot 0 in lap 1, that is the zeroed ring).
 */
static void
packed_prefill(struct fake_peer *p, struct fp_ring *ring)
{
	uint16_t both = VHOST_PCI_PDESC_F_AVAIL | VHOST_PCI_PDESC_F_USED;
	uint16_t cur = (p->packed_base & FP_POS_WRAP) ? both : 0;
	uint16_t s;

	for (s = 0; s < p->ring_size; s++)
		ring->pdesc[s].flags = s < FP_POS_SLOT(p->packed_base) ?
			cur : cur ^ both;
}

static void
rings_reset(struct fake_peer *p, bool is_packed)
{
	int r;

	memset(p->mem, 0, BUF_OFF);
	for (r = 0; r < FP_NRINGS; r++) {
		struct fp_ring *ring = &p->ring[r];

		ring->avail_idx = 0;
		ring->used_idx = 0;
		ring->avail_pos = p->packed_base;
		ring->used_pos = p->packed_base;
		ring->staged = 0;
		memset(ring->chains, 0, NB_IDS * sizeof(*ring->chains));
		if (is_packed)
			packed_prefill(p, ring);
	}
}

static int
sock_connect(struct fake_peer *p, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path))
		return fp_fail(p, "socket path too long");
	strcpy(sa.sun_path, path);
	p->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->sock < 0 ||
			connect(p->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return fp_fail(p, "connect %s: %s", path, strerror(errno));
	return 0;
}

int
fp_connect(struct fake_peer *p, const char *path, uint64_t extra_features)
{
	bool is_packed = (extra_features & FP_F_RING_PACKED) != 0;
	int r;

	fp_disconnect(p);
	if (!is_packed && (p->ring_size & (p->ring_size - 1)) != 0)
		return fp_fail(p, "split rings are a power of two in size");
	/* A base slot past the ring is sent as is (hostile tests). */
	rings_reset(p, is_packed);
	if (sock_connect(p, path) < 0 || hs_features(p, extra_features) < 0 ||
			hs_calls(p) < 0 ||
			msg_u64(p, REQ_SET_FEATURES, p->features, -1) < 0 ||
			hs_mem(p, p->mem_size) < 0)
		goto fail;
	for (r = 0; r < FP_NRINGS; r++)
		if (hs_vring(p, r) < 0)
			goto fail;
	if (hs_start(p) < 0)
		goto fail;
	return 0;
fail:
	fp_disconnect(p);
	return -1;
}

int
fp_leave(struct fake_peer *p)
{
	struct pollfd pfd = { .fd = p->sock, .events = POLLIN };
	struct wire_state s;
	int r, rc = 0;
	char junk[64];
	ssize_t n;

	for (r = 0; r < FP_NRINGS && rc == 0; r++)
		if (msg_state(p, REQ_SET_VRING_ENABLE, r, 0) < 0 ||
				msg_state(p, REQ_GET_VRING_BASE, r, 0) < 0 ||
				fp_reply(p, REQ_GET_VRING_BASE, &s, sizeof(s)) < 0)
			rc = -1;
	if (rc == 0 && shutdown(p->sock, SHUT_WR) < 0)
		rc = fp_fail(p, "shutdown: %s", strerror(errno));
	/* The device closes its end once it read ours: EOF (or a reset). */
	while (rc == 0) {
		if (poll(&pfd, 1, 1000) != 1) {
			rc = fp_fail(p, "the device kept the connection open");
			break;
		}
		n = recv(p->sock, junk, sizeof(junk), MSG_DONTWAIT);
		if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR)))
			break;
	}
	fp_disconnect(p);
	return rc;
}

/*
 * What net_virtio_user does when its process gains memory
 * (virtio_user_mem_event_cb): disable the rings, send the grown table,
 * enable them again. The memfd grows by @grow bytes; the front-end's own
 * mapping keeps its size, nothing it uses moves.
 */
int
fp_remap(struct fake_peer *p, uint64_t grow)
{
	uint64_t size = p->mem_size + grow;
	int r;

	if (ftruncate(p->memfd, size) < 0)
		return fp_fail(p, "memfd grow: %s", strerror(errno));
	for (r = 0; r < FP_NRINGS; r++)
		if (msg_state(p, REQ_SET_VRING_ENABLE, r, 0) < 0)
			return -1;
	if (hs_mem(p, size) < 0)
		return -1;
	for (r = 0; r < FP_NRINGS; r++)
		if (msg_state(p, REQ_SET_VRING_ENABLE, r, 1) < 0)
			return -1;
	return 0;
}

/*
 * The rings stopped and set up again on the same connection, the way a
 * front-end's port stop and start does: GET_VRING_BASE on both, rings
 * zeroed, the whole ring set-up again from base 0 (packed: packed_base).
 */
int
fp_restart(struct fake_peer *p)
{
	struct wire_state s;
	int r;

	for (r = 0; r < FP_NRINGS; r++) {
		if (msg_state(p, REQ_GET_VRING_BASE, r, 0) < 0 ||
				fp_reply(p, REQ_GET_VRING_BASE, &s,
					sizeof(s)) < 0)
			return -1;
		close_fd(&p->ring[r].kickfd);
	}
	rings_reset(p, packed(p));
	for (r = 0; r < FP_NRINGS; r++)
		if (hs_vring(p, r) < 0)
			return -1;
	return hs_start(p);
}
