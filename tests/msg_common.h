/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/* test_vhost_pci_msg: wire values, the test front-end and helpers its
 * files share (msg_common.c).
 */

#ifndef TEST_MSG_COMMON_H
#define TEST_MSG_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <rte_bitops.h>

#include "harness.h"
#include "vhost_pci_private.h"

/* Header flags, feature bits and metadata values, from the specifications
 * rather than from the library, so that a wrong library constant shows.
 */
#define V1			0x1u
#define F_REPLY			0x4u
#define F_NEED_REPLY		0x8u
#define F_MRG_RXBUF		15
#define F_CTRL_VQ		17	/* never offered */
#define F_LOG_ALL		26	/* VHOST_F_LOG_ALL: never offered */
#define F_PROTOCOL_FEATURES	30
#define F_VERSION_1		32
#define PF_MQ			0
#define PF_LOG_SHMFD		1	/* never offered */
#define PF_REPLY_ACK		3
#define PF_BACKEND_REQ		5
#define PF_INBAND		14
#define PF_STATUS		16
#define PF_STANDALONE		18
#define VRING_NOFD		0x100u
#define META_MAGIC		0x49435056u

#define FE_FEATURES	(RTE_BIT64(F_VERSION_1) | RTE_BIT64(F_MRG_RXBUF) | \
			 RTE_BIT64(F_PROTOCOL_FEATURES))
#define FE_PFEATURES	(RTE_BIT64(PF_MQ) | RTE_BIT64(PF_REPLY_ACK) | \
			 RTE_BIT64(PF_STATUS))

#define GPA		0x100000000ull
#define MIB		(1ull << 20)
#define RING_SIZE	256u
#define RING_STRIDE	0x10000u	/* ring i at uaddr + i * stride */
#define MEMFD_NAME	"vhost-pci-test"

/* ---- callbacks ---- */

struct cb_log {
	int new_device;
	int destroy_device;
	int vring_state_changed;
	int new_device_ret;	/* what new_device returns */
	int writeback;		/* >= 0: vring 0 index destroy_device writes back */
};

/* ---- the test front-end, on a socketpair, no EAL ---- */

struct fe {
	struct vhost_pci_endpoint ep;
	struct vhost_pci_conn *c;
	int sock;		/* front-end end of the socketpair */
	uint32_t last_req;
	uint8_t *mem;		/* the test's own mapping of the memfd */
	size_t mem_len;
	struct cb_log log;
};

int fe_init(struct fe *f, uint16_t max_queue_pairs);
void fe_fini(struct fe *f);
/* The one message builder: a v1 header and @len bytes of payload. The
 * test's copies of the fds are closed in any case.
 */
int fe_send(struct fe *f, uint32_t req, uint32_t flags, const void *pl,
	uint32_t len, const int *fds, unsigned int nfds);
int send_u64(struct fe *f, uint32_t req, uint32_t flags, uint64_t v,
	const int *fds, unsigned int nfds);
int send_state(struct fe *f, uint32_t req, uint32_t flags, uint32_t index,
	uint32_t num);
int send_none(struct fe *f, uint32_t req, uint32_t flags);
/* Let the library process what was sent (@sent: the send's result);
 * 0 if the connection survived it.
 */
int fe_ok(struct fe *f, int sent);
/* Read one reply to @req with exactly @len bytes of payload. */
int fe_reply(struct fe *f, uint32_t req, void *pl, uint32_t len);
int fe_no_reply(struct fe *f);
/* REPLY_ACK: the u64 status of the last request. */
int fe_ack(struct fe *f, uint32_t req, uint64_t want);
/* A GET_* request without payload and its u64 reply. */
int fe_get_u64(struct fe *f, uint32_t req, uint64_t *v);

/* ---- memory ---- */

struct region_spec {
	uint64_t gpa;
	uint64_t uaddr;
	uint64_t size;
	uint64_t mmap_offset;
	uint64_t file_size;	/* of the memfd behind it */
};

/* 4 MiB at GPA (uaddr = GPA) in a 4 MiB memfd. */
extern const struct region_spec std_region;

struct vhost_pci_mem_region wire_region(const struct region_spec *s);
/* SET_MEM_TABLE announcing @nregions, carrying @n region entries. */
int send_mem_table(struct fe *f, uint32_t flags, uint32_t nregions,
	const struct vhost_pci_mem_region *r, uint32_t n, const int *fds,
	unsigned int nfds);
/* SET_MEM_TABLE of @n regions, each backed by a memfd of its own. */
int send_regions(struct fe *f, const struct region_spec *s, uint32_t n);
/* Share one region (NEED_REPLY, acked); the test maps the memfd too. */
int fe_share_memory(struct fe *f, const struct region_spec *s);

/* ---- bring-up, as a virtio-user front-end does it ---- */

uint64_t ring_uaddr(const struct region_spec *s, uint32_t i);
/* Size, base and addresses of vring @i; no kick yet. */
int setup_vring_nokick(struct fe *f, const struct region_spec *s,
	uint32_t i);
int setup_vring(struct fe *f, const struct region_spec *s, uint32_t i);
/* Everything up to, not including, SET_STATUS. */
int bringup_rings(struct fe *f, const struct region_spec *s);
/* SET_STATUS 0x0f with NEED_REPLY (not processed). */
int send_status_ok(struct fe *f);
/* bringup_rings(), SET_STATUS, its ack: new_device has run. */
int bringup(struct fe *f, const struct region_spec *s);
const struct rte_vhost_pci_meta *fe_meta(const struct fe *f,
	uint64_t *bar_size);

/* ---- fd hygiene ---- */

/* The process has @base + @extra fds open, or a failure naming @when. */
int expect_fds(int base, int extra, const char *when);

/* ---- message-level floods and SET_LOG_BASE (test_vhost_pci_msg_flood.c) */

extern const struct check msg_flood_checks[];
extern const unsigned int n_msg_flood_checks;

#endif /* TEST_MSG_COMMON_H */
