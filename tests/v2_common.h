/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/* test_vhost_pci_v2: wire values, test state and helpers its files share. */

#ifndef TEST_V2_COMMON_H
#define TEST_V2_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <rte_bitops.h>

#include "harness.h"
#include "vhost_pci_private.h"

/*
 * Wire values from the specifications (the vhost-user extension for
 * vhost-pci, the 2015 vhost-user specification and today's vhost-user
 * specification), not from the library, so that a wrong library constant
 * shows.
 */
#define V1			0x1u
#define V2			0x2u
#define F_REPLY			0x4u
#define F_NEED_REPLY		0x8u
#define HDR_V1			12u
#define HDR_V2			20u
#define ANON			UINT64_MAX

#define R_GET_FEATURES		1u
#define R_SET_FEATURES		2u
#define R_SET_OWNER		3u
#define R_SET_MEM_TABLE		5u
#define R_SET_VRING_NUM		8u
#define R_SET_VRING_ADDR	9u
#define R_SET_VRING_BASE	10u
#define R_SET_VRING_KICK	12u
#define R_SET_VRING_CALL	13u
#define R_GET_PROTOCOL_FEATURES	15u
#define R_SET_PROTOCOL_FEATURES	16u
#define R_SET_VRING_ENABLE	18u
#define R_GET_CONN_ID		20u
#define R_SET_DEV_TYPE		21u
#define R_SET_PVI_SENDER_UUID	22u
#define R_SET_RX_QUEUE_GSI	23u
#define R_SET_PEER_CONNECTION	24u
#define R_SET_STATUS		39u

#define PF_MQ			0
#define PF_REPLY_ACK		3
#define PF_VHOST_PCI		4	/* v2; F_MTU in v1 */
#define PF_STATUS		16
#define F_PROTOCOL_FEATURES	30
#define F_VERSION_1		32

#define PF_V2	(RTE_BIT64(PF_MQ) | RTE_BIT64(PF_REPLY_ACK) | \
		 RTE_BIT64(PF_VHOST_PCI) | RTE_BIT64(PF_STATUS))
#define FE_FEATURES	(RTE_BIT64(F_VERSION_1) | RTE_BIT64(F_PROTOCOL_FEATURES))

#define UUID_LEN		16u
#define GSI_HDR			2u	/* u16 count, no padding */
#define GSI_SIZE		4u	/* u32 per GSI */
#define MAX_GSI			16u
#define META_MAGIC		0x49435056u
#define STATUS_ALL		0x0fu

#define GPA		0x100000000ull
#define UADDR		0x7f0000000000ull
#define MEM_SIZE	(4ull << 20)
#define RING_SIZE	256u
#define RING_STRIDE	0x10000u
#define MEM_TABLE_LEN	(UUID_LEN + 8u + 32u)	/* one region */
#define MAX_SEND_FDS	8u
#define MEMFD_NAME	"vhost-pci-v2-test"
#define LIVE_DIR	"/run/vhost-pci"

/* The test client's UUID (test_vhost_pci_v2.c). */
extern const uint8_t client_uuid[UUID_LEN];

/* ---- server callbacks (test_vhost_pci_v2.c) ---- */

/* What the server callbacks of test_ops saw (ctx of the endpoint). */
struct cb_log {
	int new_device;
	int destroy_device;
	int vid;	/* of the last new_device */
};

extern const struct rte_vhost_pci_ops test_ops;

/* ---- payloads, laid out by hand from the specifications ---- */

/* GSI table: u16 @count then @n u32 GSIs. Returns its length. */
uint32_t gsi_payload(uint8_t *buf, uint16_t count, const uint32_t *gsi,
	uint32_t n);
/* v2 memory table: UUID, nregions 1, padding, one region. */
void mem_table_payload(uint8_t *buf, const uint8_t *uuid);
/* vring address: index, flags, desc, used, avail, log (40 bytes). */
void vring_addr_payload(uint8_t *buf, uint32_t i);
void state_payload(uint8_t *buf, uint32_t index, uint32_t num);

/* ---- the test client on a socketpair ---- */

struct srv {
	struct vhost_pci_endpoint ep;
	struct cb_log log;
};

struct fe {
	struct vhost_pci_conn *c;
	int sock;		/* the test's end of the socketpair */
	uint32_t ver;		/* header version the replies come in */
	uint64_t conn_id;	/* what the test's v2 headers carry */
	uint32_t last_req;
	uint8_t *mem;		/* the test's mapping of the shared memfd */
};

void srv_init(struct srv *s, uint16_t max_queue_pairs);
int fe_open(struct fe *f, struct srv *s, uint32_t ver);
void fe_close(struct fe *f);
int fe_dev(struct fe *f);
/* A header (layout by the version bits of @flags) and @len bytes of
 * payload, with @fds, which are closed in any case.
 */
int fe_send(struct fe *f, uint32_t req, uint32_t flags, const void *pl,
	uint32_t len, const int *fds, unsigned int nfds);
int send_u64(struct fe *f, uint32_t req, uint32_t flags, uint64_t v);
/* The last message must have closed the connection. */
int fe_closed(struct fe *f, int sent);
/* A GET_* request without payload and its u64 reply. */
int fe_get_u64(struct fe *f, uint32_t req, uint64_t *v);
/* SET_PROTOCOL_FEATURES with NEED_REPLY: acked only with REPLY_ACK in it. */
int fe_set_pf(struct fe *f, uint64_t pf);
/* F_VHOST_PCI (and REPLY_ACK, STATUS, MQ) negotiated, conn_id known. */
int fe_hello(struct fe *f);
/* The reply to a server request: flags 0x6, u64 0. */
int fe_answer(struct fe *f, uint32_t req);
int expect_uuid(const uint8_t *got, const uint8_t *want, const char *what);
int expect_peer_uuid(int vid, const uint8_t *want);

/* The GSIs {7, 8} the server sends. */
extern const uint32_t gsi_78[2];
/* The server's SET_RX_QUEUE_GSI {7, 8} on the socket. */
int expect_server_gsi(struct fe *f);

/* ---- bad messages (test_vhost_pci_v2_bad.c) ---- */

struct bad_case {
	const char *name;
	int (*send)(struct fe *f, uint32_t arg);
	uint32_t arg;
	uint32_t ver;		/* of the connection's first message */
	uint16_t max_queue_pairs;
};

extern const struct bad_case bad_cases[];
extern const size_t n_bad_cases;
/* @arg, a struct bad_case: its message must close a fresh connection. */
int t_bad(const void *arg);

/* ---- client API against a live server (test_vhost_pci_v2_client.c) ---- */

int t_live_connect(const void *arg);
int t_live_gsi(const void *arg);
int t_live_disconnect(const void *arg);
int t_recv_reset(const void *arg);

#endif /* TEST_V2_COMMON_H */
