/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * Unit tests of the vhost-pci extension: vhost-user header version 0x02
 * (seed 000), server side and client side.
 *
 * Server side: the test plays the client on one end of a socketpair and
 * drives the library's end with vhost_pci_conn_process(); no EAL, no
 * control thread. Client side (rte_vhost_pci_client_*): a real server on a
 * unix socket under /run/vhost-pci/, run by the library's control thread in
 * a child that starts the EAL.
 *
 * Every check runs in a child process of its own with an alarm, so a crash
 * or a hang is reported as "not ok" for that check and the run goes on.
 * Output: "ok - <name>" or "not ok - <name>" plus "# <reason>" per check,
 * then "# <n> passed, <m> failed"; the exit status is 1 if any failed.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "harness.h"
#include "rte_vhost_pci_client.h"
#include "vhost_pci_private.h"

/*
 * Wire values from the specifications (seeds 000 and 002/003), not from
 * the library, so that a wrong library constant shows.
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

static const uint8_t client_uuid[UUID_LEN] = {
	0x6b, 0x1d, 0x4e, 0x2a, 0x90, 0x0c, 0x4f, 0x11,
	0x8a, 0x77, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc,
};

/* ---- server callbacks (atomic: in live checks they run on the control
 * thread) ----
 */

struct cb_log {
	int new_device;
	int destroy_device;
	struct rte_vhost_pci_device *dev;	/* of the last new_device */
};

static int
log_get(const int *counter)
{
	return __atomic_load_n(counter, __ATOMIC_SEQ_CST);
}

static int
cb_new_device(struct rte_vhost_pci_device *dev, void *ctx)
{
	struct cb_log *log = ctx;

	__atomic_store_n(&log->dev, dev, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&log->new_device, 1, __ATOMIC_SEQ_CST);
	return 0;
}

static void
cb_destroy_device(struct rte_vhost_pci_device *dev __rte_unused, void *ctx)
{
	struct cb_log *log = ctx;

	__atomic_add_fetch(&log->destroy_device, 1, __ATOMIC_SEQ_CST);
}

static void
cb_vring_state_changed(struct rte_vhost_pci_device *dev __rte_unused,
		uint16_t vring __rte_unused, int enable __rte_unused,
		void *ctx __rte_unused)
{
}

static const struct rte_vhost_pci_ops test_ops = {
	.new_device = cb_new_device,
	.destroy_device = cb_destroy_device,
	.vring_state_changed = cb_vring_state_changed,
};

/* ---- payloads, laid out by hand from the specifications ---- */

static void
put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void
put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* Header of either version; the version bits of @flags choose the layout. */
static size_t
hdr_encode(uint8_t *buf, uint32_t req, uint32_t flags, uint64_t conn_id,
		uint32_t size)
{
	put32(buf, req);
	put32(buf + 4, flags);
	if ((flags & 0x3u) != V2) {
		put32(buf + 8, size);
		return HDR_V1;
	}
	put64(buf + 8, conn_id);
	put32(buf + 16, size);
	return HDR_V2;
}

/* GSI table: u16 @count then @n u32 GSIs. Returns its length. */
static uint32_t
gsi_payload(uint8_t *buf, uint16_t count, const uint32_t *gsi, uint32_t n)
{
	uint32_t i;

	memcpy(buf, &count, sizeof(count));
	for (i = 0; i < n; i++)
		put32(buf + GSI_HDR + i * GSI_SIZE, gsi[i]);
	return GSI_HDR + n * GSI_SIZE;
}

/* v2 memory table: UUID, nregions 1, padding, one region. */
static void
mem_table_payload(uint8_t *buf, const uint8_t *uuid)
{
	memcpy(buf, uuid, UUID_LEN);
	put32(buf + 16, 1);
	put32(buf + 20, 0);
	put64(buf + 24, GPA);
	put64(buf + 32, MEM_SIZE);
	put64(buf + 40, UADDR);
	put64(buf + 48, 0);
}

static uint64_t
ring_uaddr(uint32_t i)
{
	return UADDR + (uint64_t)i * RING_STRIDE;
}

/* vring address: index, flags, desc, used, avail, log (40 bytes). */
static void
vring_addr_payload(uint8_t *buf, uint32_t i)
{
	put32(buf, i);
	put32(buf + 4, 0);
	put64(buf + 8, ring_uaddr(i));
	put64(buf + 16, ring_uaddr(i) + 0x2000);
	put64(buf + 24, ring_uaddr(i) + 0x1000);
	put64(buf + 32, 0);
}

static void
state_payload(uint8_t *buf, uint32_t index, uint32_t num)
{
	put32(buf, index);
	put32(buf + 4, num);
}

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

/* A message read back from the library. */
struct rx {
	uint32_t request;
	uint32_t flags;
	uint64_t conn_id;	/* ANON for v1 */
	uint32_t size;
	uint8_t payload[VHOST_PCI_PAYLOAD_MAX];
};

static void
srv_init(struct srv *s, uint16_t max_queue_pairs)
{
	memset(s, 0, sizeof(*s));
	vhost_pci_endpoint_init(&s->ep, "test-v2", 0, max_queue_pairs,
		&test_ops, &s->log);
	/* Listed as a registered server's would be (each check is a child
	 * process of its own, so the list dies with it).
	 */
	vhost_pci_endpoint_add(&s->ep);
}

static int
fe_open(struct fe *f, struct srv *s, uint32_t ver)
{
	int sv[2];

	memset(f, 0, sizeof(*f));
	f->sock = -1;
	f->ver = ver;
	f->conn_id = ANON;
	TRYR(new_socketpair(SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, sv));
	f->c = vhost_pci_conn_create(&s->ep, sv[0]);
	if (f->c == NULL) {
		close(sv[0]);
		close(sv[1]);
		return FAIL("vhost_pci_conn_create failed");
	}
	f->sock = sv[1];
	return 0;
}

static void
fe_close(struct fe *f)
{
	if (f->c != NULL)
		vhost_pci_conn_free(f->c);
	if (f->sock >= 0)
		close(f->sock);
	if (f->mem != NULL)
		munmap(f->mem, MEM_SIZE);
	f->c = NULL;
	f->sock = -1;
	f->mem = NULL;
}

static struct rte_vhost_pci_device *
fe_dev(struct fe *f)
{
	return &f->c->dev;
}

/*
 * The one message-send helper: a header (v1 or v2 layout, chosen by the
 * version bits of @flags; v2 carries f->conn_id) and @len bytes of payload.
 * The test's copies of the fds are closed in any case: from here on they
 * belong to the library.
 */
static int
fe_send(struct fe *f, uint32_t req, uint32_t flags, const void *pl,
		uint32_t len, const int *fds, unsigned int nfds)
{
	uint8_t buf[HDR_V2 + VHOST_PCI_PAYLOAD_MAX];
	size_t hsz;

	if (len > VHOST_PCI_PAYLOAD_MAX || nfds > MAX_SEND_FDS)
		return FAIL("message of %u bytes, %u fds: test limit", len,
			nfds);
	hsz = hdr_encode(buf, req, flags, f->conn_id, len);
	if (len > 0)
		memcpy(buf + hsz, pl, len);
	f->last_req = req;
	return send_raw(f->sock, buf, hsz + len, fds, nfds, true);
}

static int
send_u64(struct fe *f, uint32_t req, uint32_t flags, uint64_t v)
{
	return fe_send(f, req, flags, &v, sizeof(v), NULL, 0);
}

/* Let the library process what was sent (@sent: the send's result);
 * 0 if the connection survived it.
 */
static int
fe_ok(struct fe *f, int sent)
{
	int ret;

	if (sent < 0)
		return -1;
	ret = vhost_pci_conn_process(f->c);
	if (ret < 0 || f->c->dead)
		return FAIL("request %u closed the connection", f->last_req);
	return 0;
}

/* The last message must have closed the connection. */
static int
fe_closed(struct fe *f, int sent)
{
	int ret;

	if (sent < 0)
		return -1;
	ret = vhost_pci_conn_process(f->c);
	if (ret != -1 || !f->c->dead)
		return FAIL("request %u: connection still open (process returned %d, dead %d)",
			f->last_req, ret, f->c->dead);
	return 0;
}

static void
rx_decode(const uint8_t *h, uint32_t ver, struct rx *m)
{
	memcpy(&m->request, h, 4);
	memcpy(&m->flags, h + 4, 4);
	m->conn_id = ANON;
	if (ver == V2) {
		memcpy(&m->conn_id, h + 8, 8);
		memcpy(&m->size, h + 16, 4);
	} else {
		memcpy(&m->size, h + 8, 4);
	}
}

/* Read one whole message the library wrote (in the connection's version). */
static int
fe_recv(struct fe *f, struct rx *m)
{
	size_t hsz = f->ver == V2 ? HDR_V2 : HDR_V1;
	uint8_t h[HDR_V2];
	ssize_t n;

	memset(m, 0, sizeof(*m));
	n = recv(f->sock, h, hsz, MSG_DONTWAIT);
	if (n != (ssize_t)hsz)
		return FAIL("nothing from the library after request %u (recv %zd)",
			f->last_req, n);
	rx_decode(h, f->ver, m);
	if (m->size > sizeof(m->payload))
		return FAIL("message %u announces %u bytes", m->request,
			m->size);
	if (m->size == 0)
		return 0;
	n = recv(f->sock, m->payload, m->size, MSG_DONTWAIT);
	if (n != (ssize_t)m->size)
		return FAIL("message %u: payload recv %zd of %u", m->request, n,
			m->size);
	return 0;
}

/* Read one message: request @req, @flags, f->conn_id, @len bytes. */
static int
fe_expect(struct fe *f, uint32_t req, uint32_t flags, void *pl, uint32_t len)
{
	struct rx m;

	TRYR(fe_recv(f, &m));
	if (m.request != req || m.flags != flags || m.conn_id != f->conn_id ||
			m.size != len)
		return FAIL("got request %u flags 0x%x conn_id 0x%" PRIx64 " size %u; want %u 0x%x 0x%" PRIx64 " %u",
			m.request, m.flags, m.conn_id, m.size, req, flags,
			f->conn_id, len);
	if (pl != NULL)
		memcpy(pl, m.payload, len);
	return 0;
}

static int
fe_reply(struct fe *f, uint32_t req, void *pl, uint32_t len)
{
	return fe_expect(f, req, f->ver | F_REPLY, pl, len);
}

static int
fe_ack(struct fe *f, uint32_t req, uint64_t want)
{
	uint64_t v;

	TRYR(fe_reply(f, req, &v, sizeof(v)));
	if (v != want)
		return FAIL("reply to request %u is %" PRIu64 ", want %" PRIu64,
			req, v, want);
	return 0;
}

static int
fe_no_msg(struct fe *f)
{
	uint8_t b;
	ssize_t n = recv(f->sock, &b, 1, MSG_DONTWAIT);

	if (n >= 0)
		return FAIL("unexpected bytes from the library after request %u (recv %zd)",
			f->last_req, n);
	return 0;
}

/* A request with NEED_REPLY whose u64 reply must be @want. */
static int
fe_call(struct fe *f, uint32_t req, const void *pl, uint32_t len,
		const int *fds, unsigned int nfds, uint64_t want)
{
	TRYR(fe_ok(f, fe_send(f, req, f->ver | F_NEED_REPLY, pl, len, fds,
		nfds)));
	return fe_ack(f, req, want);
}

static int
fe_call_u64(struct fe *f, uint32_t req, uint64_t v, uint64_t want)
{
	return fe_call(f, req, &v, sizeof(v), NULL, 0, want);
}

/* A GET_* request without payload and its u64 reply. */
static int
fe_get_u64(struct fe *f, uint32_t req, uint64_t *v)
{
	TRYR(fe_ok(f, fe_send(f, req, f->ver, NULL, 0, NULL, 0)));
	return fe_reply(f, req, v, sizeof(*v));
}

/* SET_PROTOCOL_FEATURES with NEED_REPLY: acked only with REPLY_ACK in it. */
static int
fe_set_pf(struct fe *f, uint64_t pf)
{
	TRYR(fe_ok(f, send_u64(f, R_SET_PROTOCOL_FEATURES,
		f->ver | F_NEED_REPLY, pf)));
	if (pf & RTE_BIT64(PF_REPLY_ACK))
		return fe_ack(f, R_SET_PROTOCOL_FEATURES, 0);
	return fe_no_msg(f);
}

/* GET_CONN_ID: the u64 in the reply is the id its header carries. */
static int
fe_get_conn_id(struct fe *f)
{
	struct rx m;
	uint64_t id;

	TRYR(fe_ok(f, send_u64(f, R_GET_CONN_ID, V2, 0)));
	TRYR(fe_recv(f, &m));
	if (m.request != R_GET_CONN_ID || m.flags != (V2 | F_REPLY) ||
			m.size != sizeof(id))
		return FAIL("GET_CONN_ID reply: request %u flags 0x%x size %u",
			m.request, m.flags, m.size);
	memcpy(&id, m.payload, sizeof(id));
	if (id != m.conn_id || id == ANON)
		return FAIL("GET_CONN_ID replied id 0x%" PRIx64 " in a header naming 0x%" PRIx64,
			id, m.conn_id);
	f->conn_id = id;
	return 0;
}

/* F_VHOST_PCI (and REPLY_ACK, STATUS, MQ) negotiated, conn_id known. */
static int
fe_hello(struct fe *f)
{
	TRYR(fe_set_pf(f, PF_V2));
	return fe_get_conn_id(f);
}

/* SET_PVI_SENDER_UUID: the server's own request first (its UUID), then
 * the reply 0; the test answers the server's request.
 */
static int
fe_pvi(struct fe *f, const uint8_t *uuid)
{
	uint8_t got[UUID_LEN], want[UUID_LEN];
	uint64_t zero = 0;

	rte_vhost_pci_local_uuid(want);
	TRYR(fe_ok(f, fe_send(f, R_SET_PVI_SENDER_UUID, V2 | F_NEED_REPLY,
		uuid, UUID_LEN, NULL, 0)));
	TRYR(fe_expect(f, R_SET_PVI_SENDER_UUID, V2 | F_NEED_REPLY, got,
		UUID_LEN));
	if (memcmp(got, want, UUID_LEN) != 0)
		return FAIL("server's SET_PVI_SENDER_UUID is not rte_vhost_pci_local_uuid()");
	TRYR(fe_ack(f, R_SET_PVI_SENDER_UUID, 0));
	return fe_ok(f, fe_send(f, R_SET_PVI_SENDER_UUID, V2 | F_REPLY, &zero,
		sizeof(zero), NULL, 0));
}

/* v2 SET_MEM_TABLE of one memfd region, owner @uuid; acked 0. */
static int
fe_mem_table(struct fe *f, const uint8_t *uuid)
{
	uint8_t pl[MEM_TABLE_LEN];
	int fd;

	fd = map_memfd(MEMFD_NAME, MEM_SIZE, &f->mem);
	TRYR(fd);
	mem_table_payload(pl, uuid);
	return fe_call(f, R_SET_MEM_TABLE, pl, sizeof(pl), &fd, 1, 0);
}

static int
fe_vring(struct fe *f, uint32_t i)
{
	uint8_t st[8], addr[40];
	uint64_t v = i;
	int kick;

	state_payload(st, i, RING_SIZE);
	TRYR(fe_call(f, R_SET_VRING_NUM, st, sizeof(st), NULL, 0, 0));
	state_payload(st, i, 0);
	TRYR(fe_call(f, R_SET_VRING_BASE, st, sizeof(st), NULL, 0, 0));
	vring_addr_payload(addr, i);
	TRYR(fe_call(f, R_SET_VRING_ADDR, addr, sizeof(addr), NULL, 0, 0));
	kick = new_eventfd();
	TRYR(kick);
	return fe_call(f, R_SET_VRING_KICK, &v, sizeof(v), &kick, 1, 0);
}

/* What app/vhost-pci-client relays, every request NEED_REPLY, up to (not
 * including) SET_STATUS.
 */
static int
fe_bringup_rings(struct fe *f)
{
	uint8_t st[8];
	uint64_t v;
	uint32_t i;
	int call;

	TRYR(fe_get_u64(f, R_GET_FEATURES, &v));
	TRYR(fe_get_u64(f, R_GET_PROTOCOL_FEATURES, &v));
	TRYR(fe_hello(f));
	TRYR(fe_call_u64(f, R_SET_DEV_TYPE, 1, 0));
	TRYR(fe_pvi(f, client_uuid));
	TRYR(fe_call(f, R_SET_OWNER, NULL, 0, NULL, 0, 0));
	for (i = 0; i < 2; i++) {
		call = new_eventfd();
		TRYR(call);
		v = i;
		TRYR(fe_call(f, R_SET_VRING_CALL, &v, sizeof(v), &call, 1, 0));
	}
	TRYR(fe_call_u64(f, R_SET_FEATURES, FE_FEATURES, 0));
	TRYR(fe_mem_table(f, client_uuid));
	for (i = 0; i < 2; i++)
		TRYR(fe_vring(f, i));
	for (i = 0; i < 2; i++) {
		state_payload(st, i, 1);
		TRYR(fe_call(f, R_SET_VRING_ENABLE, st, sizeof(st), NULL, 0,
			0));
	}
	return 0;
}

static int
fe_bringup(struct fe *f)
{
	TRYR(fe_bringup_rings(f));
	TRYR(fe_call_u64(f, R_SET_STATUS, STATUS_ALL, 0));
	return fe_no_msg(f);
}

/* The reply to a server request: flags 0x6, u64 0. */
static int
fe_answer(struct fe *f, uint32_t req)
{
	return send_u64(f, req, V2 | F_REPLY, 0);
}

/* The connection is still served: GET_FEATURES is answered. */
static int
fe_alive(struct fe *f)
{
	uint64_t v;

	return fe_get_u64(f, R_GET_FEATURES, &v);
}

static int
expect_uuid(const uint8_t *got, const uint8_t *want, const char *what)
{
	if (memcmp(got, want, UUID_LEN) != 0)
		return FAIL("%s: UUID differs (first bytes %02x%02x%02x%02x, want %02x%02x%02x%02x)",
			what, got[0], got[1], got[2], got[3], want[0], want[1],
			want[2], want[3]);
	return 0;
}

static int
expect_peer_uuid(struct rte_vhost_pci_device *dev, const uint8_t *want)
{
	uint8_t u[UUID_LEN];
	int ret = rte_vhost_pci_dev_peer_uuid(dev, u);

	if (ret != 0)
		return FAIL("rte_vhost_pci_dev_peer_uuid returned %d", ret);
	return expect_uuid(u, want, "rte_vhost_pci_dev_peer_uuid");
}

/* ---- good paths ---- */

static int
t_anon_get_features(const void *arg __rte_unused)
{
	struct srv s;
	struct fe f;
	uint64_t v;
	int rc = -1;

	srv_init(&s, 1);
	TRY(fe_open(&f, &s, V2));
	TRY(fe_get_u64(&f, R_GET_FEATURES, &v));
	EXPECT(v & RTE_BIT64(F_VERSION_1), "features 0x%" PRIx64, v);
	rc = 0;
out:
	fe_close(&f);
	return rc;
}

/* GET_PROTOCOL_FEATURES: bit 4 offered in v2 (@arg V2), not in v1. */
static int
t_pf_bit4(const void *arg)
{
	uint32_t ver = *(const uint32_t *)arg;
	bool want = ver == V2, got;
	struct srv s;
	struct fe f;
	uint64_t v;
	int rc = -1;

	srv_init(&s, 1);
	TRY(fe_open(&f, &s, ver));
	TRY(fe_get_u64(&f, R_GET_PROTOCOL_FEATURES, &v));
	got = (v & RTE_BIT64(PF_VHOST_PCI)) != 0;
	EXPECT(got == want, "v%u: protocol features 0x%" PRIx64 ": bit 4 %s",
		ver, v, got ? "offered" : "not offered");
	rc = 0;
out:
	fe_close(&f);
	return rc;
}

static int
t_get_conn_id(const void *arg __rte_unused)
{
	struct srv s;
	struct fe f;
	int rc = -1;

	srv_init(&s, 1);
	TRY(fe_open(&f, &s, V2));
	TRY(fe_hello(&f));
	EXPECT(f.conn_id == rte_vhost_pci_dev_conn_id(fe_dev(&f)),
		"GET_CONN_ID %" PRIu64 ", rte_vhost_pci_dev_conn_id %" PRIu64,
		f.conn_id, rte_vhost_pci_dev_conn_id(fe_dev(&f)));
	rc = 0;
out:
	fe_close(&f);
	return rc;
}

static int
t_conn_id_served(const void *arg __rte_unused)
{
	struct srv s;
	struct fe f;
	uint64_t v;
	int rc = -1;

	srv_init(&s, 1);
	TRY(fe_open(&f, &s, V2));
	TRY(fe_hello(&f));
	TRY(fe_get_u64(&f, R_GET_FEATURES, &v));
	TRY(fe_get_u64(&f, R_GET_PROTOCOL_FEATURES, &v));
	TRY(fe_call_u64(&f, R_SET_FEATURES, FE_FEATURES, 0));
	rc = 0;
out:
	fe_close(&f);
	return rc;
}

static int
t_conn_ids_differ(const void *arg __rte_unused)
{
	struct fe f, g;
	struct srv s;
	int rc = -1;

	srv_init(&s, 1);
	memset(&g, 0, sizeof(g));
	g.sock = -1;
	TRY(fe_open(&f, &s, V2));
	TRY(fe_open(&g, &s, V2));
	TRY(fe_hello(&f));
	TRY(fe_hello(&g));
	EXPECT(f.conn_id != g.conn_id, "both connections got id %" PRIu64,
		f.conn_id);
	rc = 0;
out:
	fe_close(&g);
	fe_close(&f);
	return rc;
}

static int
t_dev_type_net(const void *arg __rte_unused)
{
	struct srv s;
	struct fe f;
	int rc = -1;

	srv_init(&s, 1);
	TRY(fe_open(&f, &s, V2));
	TRY(fe_hello(&f));
	TRY(fe_call_u64(&f, R_SET_DEV_TYPE, 1, 0));
	TRY(fe_no_msg(&f));
	rc = 0;
out:
	fe_close(&f);
	return rc;
}

static int
t_pvi_uuid(const void *arg __rte_unused)
{
	struct srv s;
	struct fe f;
	int rc = -1;

	srv_init(&s, 1);
	TRY(fe_open(&f, &s, V2));
	TRY(fe_hello(&f));
	TRY(fe_pvi(&f, client_uuid));
	TRY(expect_peer_uuid(fe_dev(&f), client_uuid));
	EXPECT(f.c->npending == 0, "%u server requests still pending",
		f.c->npending);
	TRY(fe_alive(&f));
	rc = 0;
out:
	fe_close(&f);
	return rc;
}

/* SET_RX_QUEUE_GSI with @arg GSIs on an endpoint of @arg queue pairs. */
static int
t_gsi_stored(const void *arg)
{
	uint16_t n = *(const uint16_t *)arg;
	uint32_t gsi[2] = { 41, 42 }, got[MAX_GSI];
	uint8_t pl[GSI_HDR + 2 * GSI_SIZE];
	uint32_t len;
	struct srv s;
	struct fe f;
	int rc = -1, ret;

	srv_init(&s, n);
	TRY(fe_open(&f, &s, V2));
	TRY(fe_hello(&f));
	len = gsi_payload(pl, n, gsi, n);
	TRY(fe_call(&f, R_SET_RX_QUEUE_GSI, pl, len, NULL, 0, 0));
	ret = rte_vhost_pci_dev_rx_queue_gsi(fe_dev(&f), got, MAX_GSI, false);
	EXPECT(ret == n, "rte_vhost_pci_dev_rx_queue_gsi returned %d, want %u",
		ret, n);
	EXPECT(memcmp(got, gsi, n * sizeof(gsi[0])) == 0,
		"GSIs read back %u, %u", got[0], n > 1 ? got[1] : 0);
	rc = 0;
out:
	fe_close(&f);
	return rc;
}

static const struct rte_vhost_pci_meta *
fe_meta(struct fe *f)
{
	return (const void *)rte_vhost_pci_dev_bar(fe_dev(f), NULL);
}

static int
t_mem_table_v2(const void *arg __rte_unused)
{
	const struct rte_vhost_pci_meta *meta;
	const uint8_t *bar;
	struct srv s;
	struct fe f;
	int rc = -1;

	srv_init(&s, 1);
	TRY(fe_open(&f, &s, V2));
	TRY(fe_hello(&f));
	TRY(fe_mem_table(&f, client_uuid));
	meta = fe_meta(&f);
	EXPECT(meta != NULL, "no BAR after SET_MEM_TABLE");
	EXPECT(meta->magic == META_MAGIC && meta->nregions == 1,
		"metadata magic 0x%x, %u regions", meta->magic, meta->nregions);
	EXPECT(meta->region[0].gpa == GPA && meta->region[0].size == MEM_SIZE,
		"region gpa 0x%" PRIx64 " size 0x%" PRIx64,
		meta->region[0].gpa, meta->region[0].size);
	/* The BAR region is the memfd: a byte written by the test shows. */
	f.mem[0x1234] = 0xa5;
	bar = (const uint8_t *)meta;
	EXPECT(bar[meta->region[0].bar_offset + 0x1234] == 0xa5,
		"BAR region does not map the memfd");
	TRY(expect_peer_uuid(fe_dev(&f), client_uuid));
	rc = 0;
out:
	fe_close(&f);
	return rc;
}

/* rte_vhost_pci_bar.h: meta.peer_uuid is the front-end's sender UUID. */
static int
t_meta_peer_uuid(const void *arg __rte_unused)
{
	const struct rte_vhost_pci_meta *meta;
	struct srv s;
	struct fe f;
	int rc = -1;

	srv_init(&s, 1);
	TRY(fe_open(&f, &s, V2));
	TRY(fe_hello(&f));
	TRY(fe_pvi(&f, client_uuid));
	TRY(fe_mem_table(&f, client_uuid));
	meta = fe_meta(&f);
	EXPECT(meta != NULL, "no BAR after SET_MEM_TABLE");
	TRY(expect_uuid(meta->peer_uuid, client_uuid, "metadata peer_uuid"));
	rc = 0;
out:
	fe_close(&f);
	return rc;
}

/* The server's UUID must reach a client that sent its memory table (which
 * carries the client's UUID) before SET_PVI_SENDER_UUID.
 */
static int
t_pvi_after_mem_table(const void *arg __rte_unused)
{
	struct srv s;
	struct fe f;
	int rc = -1;

	srv_init(&s, 1);
	TRY(fe_open(&f, &s, V2));
	TRY(fe_hello(&f));
	TRY(fe_mem_table(&f, client_uuid));
	TRY(fe_pvi(&f, client_uuid));
	rc = 0;
out:
	fe_close(&f);
	return rc;
}

static int
t_bringup(const void *arg __rte_unused)
{
	struct srv s;
	struct fe f;
	int rc = -1;

	srv_init(&s, 1);
	TRY(fe_open(&f, &s, V2));
	TRY(fe_bringup_rings(&f));
	EXPECT(s.log.new_device == 0, "new_device before SET_STATUS");
	TRY(fe_call_u64(&f, R_SET_STATUS, STATUS_ALL, 0));
	EXPECT(s.log.new_device == 1, "new_device called %d times",
		s.log.new_device);
	EXPECT(s.log.dev == fe_dev(&f), "new_device got another device");
	TRY(fe_call_u64(&f, R_SET_PEER_CONNECTION, 1, 0));
	TRY(fe_no_msg(&f));
	EXPECT(s.log.new_device == 1 && s.log.destroy_device == 0,
		"new_device %d, destroy_device %d after CONNECT",
		s.log.new_device, s.log.destroy_device);
	rc = 0;
out:
	fe_close(&f);
	return rc;
}

static int
t_connect_not_ready(const void *arg __rte_unused)
{
	struct srv s;
	struct fe f;
	int rc = -1;

	srv_init(&s, 1);
	TRY(fe_open(&f, &s, V2));
	TRY(fe_hello(&f));
	TRY(fe_call_u64(&f, R_SET_PEER_CONNECTION, 1, 1));
	TRY(fe_no_msg(&f));
	TRY(fe_alive(&f));
	rc = 0;
out:
	fe_close(&f);
	return rc;
}

static int
t_client_disconnect(const void *arg __rte_unused)
{
	struct srv s;
	struct fe f;
	int rc = -1;

	srv_init(&s, 1);
	TRY(fe_open(&f, &s, V2));
	TRY(fe_bringup(&f));
	TRY(fe_call_u64(&f, R_SET_PEER_CONNECTION, 0, 0));
	EXPECT(s.log.destroy_device == 1, "destroy_device called %d times",
		s.log.destroy_device);
	EXPECT(rte_vhost_pci_dev_bar(fe_dev(&f), NULL) == NULL,
		"BAR still mapped after DISCONNECT");
	TRY(fe_alive(&f));
	EXPECT(s.log.new_device == 1, "new_device called %d times",
		s.log.new_device);
	rc = 0;
out:
	fe_close(&f);
	return rc;
}

static const uint32_t gsi_78[2] = { 7, 8 };

/* The server's SET_RX_QUEUE_GSI {7, 8} on the socket. */
static int
expect_server_gsi(struct fe *f)
{
	uint8_t want[GSI_HDR + 2 * GSI_SIZE], got[sizeof(want)];

	gsi_payload(want, 2, gsi_78, 2);
	TRYR(fe_expect(f, R_SET_RX_QUEUE_GSI, V2 | F_NEED_REPLY, got,
		sizeof(got)));
	if (memcmp(got, want, sizeof(want)) != 0)
		return FAIL("SET_RX_QUEUE_GSI payload is not count 2, GSIs 7, 8");
	return 0;
}

static int
t_send_gsi(const void *arg __rte_unused)
{
	uint32_t local[MAX_GSI];
	struct srv s;
	struct fe f;
	int rc = -1, ret;

	srv_init(&s, 2);
	TRY(fe_open(&f, &s, V2));
	TRY(fe_hello(&f));
	ret = rte_vhost_pci_dev_send_rx_queue_gsi(fe_dev(&f), gsi_78, 2);
	EXPECT(ret == 0, "rte_vhost_pci_dev_send_rx_queue_gsi: %d", ret);
	TRY(expect_server_gsi(&f));
	ret = rte_vhost_pci_dev_rx_queue_gsi(fe_dev(&f), local, MAX_GSI, true);
	EXPECT(ret == 2 && local[0] == 7 && local[1] == 8,
		"local GSI table: %d entries", ret);
	TRY(fe_ok(&f, fe_answer(&f, R_SET_RX_QUEUE_GSI)));
	EXPECT(f.c->npending == 0, "reply not matched (%u pending)",
		f.c->npending);
	TRY(fe_alive(&f));
	rc = 0;
out:
	fe_close(&f);
	return rc;
}

static int
t_send_disconnect(const void *arg __rte_unused)
{
	struct srv s;
	struct fe f;
	uint64_t v;
	int rc = -1, ret;

	srv_init(&s, 1);
	TRY(fe_open(&f, &s, V2));
	TRY(fe_bringup(&f));
	ret = rte_vhost_pci_dev_send_disconnect(fe_dev(&f));
	EXPECT(ret == 0, "rte_vhost_pci_dev_send_disconnect: %d", ret);
	EXPECT(s.log.destroy_device == 1, "destroy_device called %d times",
		s.log.destroy_device);
	EXPECT(rte_vhost_pci_dev_bar(fe_dev(&f), NULL) == NULL,
		"BAR still mapped after the server's DISCONNECT");
	TRY(fe_expect(&f, R_SET_PEER_CONNECTION, V2 | F_NEED_REPLY, &v,
		sizeof(v)));
	EXPECT(v == 0, "server sent SET_PEER_CONNECTION(%" PRIu64 ")", v);
	TRY(fe_ok(&f, fe_answer(&f, R_SET_PEER_CONNECTION)));
	TRY(fe_alive(&f));
	rc = 0;
out:
	fe_close(&f);
	return rc;
}

static int
expect_enotsup(struct fe *f)
{
	int a, b;

	a = rte_vhost_pci_dev_send_rx_queue_gsi(fe_dev(f), gsi_78, 2);
	b = rte_vhost_pci_dev_send_disconnect(fe_dev(f));
	if (a != -ENOTSUP || b != -ENOTSUP)
		return FAIL("send_rx_queue_gsi %d, send_disconnect %d; want %d",
			a, b, -ENOTSUP);
	return fe_no_msg(f);
}

/* @arg V1: a v1 connection; V2: a v2 one without F_VHOST_PCI. */
static int
t_send_enotsup(const void *arg)
{
	uint32_t ver = *(const uint32_t *)arg;
	struct srv s;
	struct fe f;
	int rc = -1;

	srv_init(&s, 1);
	TRY(fe_open(&f, &s, ver));
	TRY(fe_set_pf(&f, RTE_BIT64(PF_REPLY_ACK)));
	TRY(expect_enotsup(&f));
	rc = 0;
out:
	fe_close(&f);
	return rc;
}

/* Everything the library logs, from here on, goes to a temporary file. */
static FILE *
log_capture(void)
{
	FILE *lf = tmpfile();

	if (lf != NULL)
		rte_openlog_stream(lf);
	return lf;
}

static bool
log_has(FILE *lf, const char *needle)
{
	char buf[8192];
	size_t n;

	fflush(lf);
	rewind(lf);
	n = fread(buf, 1, sizeof(buf) - 1, lf);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static int
t_dev_type_block(const void *arg __rte_unused)
{
	FILE *lf = NULL;
	struct srv s;
	struct fe f;
	int rc = -1;

	srv_init(&s, 1);
	TRY(fe_open(&f, &s, V2));
	TRY(fe_hello(&f));
	lf = log_capture();
	EXPECT(lf != NULL, "tmpfile: %s", strerror(errno));
	TRY(fe_call_u64(&f, R_SET_DEV_TYPE, 2, 1));
	TRY(fe_alive(&f));
	EXPECT(log_has(lf, "type 2"), "no log line names device type 2");
	rc = 0;
out:
	rte_openlog_stream(NULL);
	if (lf != NULL)
		fclose(lf);
	fe_close(&f);
	return rc;
}

static int
t_v1_ids_20_24(const void *arg __rte_unused)
{
	struct srv s;
	struct fe f;
	uint32_t id;
	int rc = -1;

	srv_init(&s, 1);
	TRY(fe_open(&f, &s, V1));
	TRY(fe_set_pf(&f, RTE_BIT64(PF_REPLY_ACK)));
	/* 21 is SET_BACKEND_REQ_FD in v1, a supported request: not here. */
	for (id = 20; id <= 24; id++)
		if (id != 21)
			TRY(fe_call_u64(&f, id, 1, 1));
	TRY(fe_alive(&f));
	/* ... and without F_BACKEND_REQ negotiated it closes. */
	TRY(fe_closed(&f, send_u64(&f, 21, 1, 0)));
	rc = 0;
out:
	fe_close(&f);
	return rc;
}

/* A header naming the other connection's id closes only the spoofer. */
static int
t_spoof_other_conn(const void *arg __rte_unused)
{
	struct fe f, g;
	struct srv s;
	int rc = -1;

	srv_init(&s, 1);
	memset(&g, 0, sizeof(g));
	g.sock = -1;
	TRY(fe_open(&f, &s, V2));
	TRY(fe_open(&g, &s, V2));
	TRY(fe_hello(&f));
	TRY(fe_hello(&g));
	f.conn_id = g.conn_id;
	TRY(fe_closed(&f, fe_send(&f, R_GET_FEATURES, V2, NULL, 0, NULL, 0)));
	EXPECT(!g.c->dead, "the other connection was closed");
	TRY(fe_alive(&g));
	TRY(fe_call_u64(&g, R_SET_DEV_TYPE, 1, 0));
	rc = 0;
out:
	fe_close(&g);
	fe_close(&f);
	return rc;
}

/* ---- bad messages: each closes a fresh connection ---- */

struct bad_case {
	const char *name;
	int (*send)(struct fe *f, uint32_t arg);
	uint32_t arg;
	uint32_t ver;		/* of the connection's first message */
	uint16_t max_queue_pairs;
};

static int
bad_spoof_next_id(struct fe *f, uint32_t arg __rte_unused)
{
	TRYR(fe_hello(f));
	f->conn_id++;
	return fe_send(f, R_GET_FEATURES, V2, NULL, 0, NULL, 0);
}

static int
bad_anon_after_id(struct fe *f, uint32_t arg __rte_unused)
{
	TRYR(fe_hello(f));
	f->conn_id = ANON;
	return fe_send(f, R_GET_FEATURES, V2, NULL, 0, NULL, 0);
}

/* @arg: the id the header names before GET_CONN_ID. */
static int
bad_id_before_get(struct fe *f, uint32_t arg)
{
	TRYR(fe_set_pf(f, PF_V2));
	f->conn_id = arg;
	return fe_send(f, R_GET_FEATURES, V2, NULL, 0, NULL, 0);
}

/* Extension request @arg, well formed, without F_VHOST_PCI. */
static int
bad_ext_without_pci(struct fe *f, uint32_t arg)
{
	uint8_t pl[UUID_LEN];
	uint32_t len = sizeof(uint64_t), gsi = 5;

	TRYR(fe_set_pf(f, RTE_BIT64(PF_REPLY_ACK) | RTE_BIT64(PF_STATUS)));
	memset(pl, 0, sizeof(pl));
	if (arg == R_SET_DEV_TYPE || arg == R_SET_PEER_CONNECTION)
		pl[0] = 1;
	else if (arg == R_SET_PVI_SENDER_UUID)
		memcpy(pl, client_uuid, (len = UUID_LEN));
	else if (arg == R_SET_RX_QUEUE_GSI)
		len = gsi_payload(pl, 1, &gsi, 1);
	return fe_send(f, arg, V2 | F_NEED_REPLY, pl, len, NULL, 0);
}

/* SET_RX_QUEUE_GSI: count in the high half of @arg, GSIs in the low. */
static int
bad_gsi(struct fe *f, uint32_t arg)
{
	uint32_t gsi[4] = { 1, 2, 3, 4 };
	uint8_t pl[GSI_HDR + 4 * GSI_SIZE];
	uint32_t len;

	TRYR(fe_hello(f));
	len = gsi_payload(pl, arg >> 16, gsi, arg & 0xffff);
	return fe_send(f, R_SET_RX_QUEUE_GSI, V2 | F_NEED_REPLY, pl, len,
		NULL, 0);
}

static int
bad_pvi_15(struct fe *f, uint32_t arg __rte_unused)
{
	TRYR(fe_hello(f));
	return fe_send(f, R_SET_PVI_SENDER_UUID, V2 | F_NEED_REPLY,
		client_uuid, UUID_LEN - 1, NULL, 0);
}

/* v2 SET_MEM_TABLE cut to @arg bytes, with its region's fd. */
static int
bad_mem_short(struct fe *f, uint32_t arg)
{
	uint8_t pl[MEM_TABLE_LEN];
	int fd;

	TRYR(fe_hello(f));
	fd = map_memfd(MEMFD_NAME, MEM_SIZE, &f->mem);
	TRYR(fd);
	mem_table_payload(pl, client_uuid);
	return fe_send(f, R_SET_MEM_TABLE, V2 | F_NEED_REPLY, pl, arg, &fd, 1);
}

/* A GET_FEATURES of the connection's version, then one of version @arg. */
static int
bad_mixed(struct fe *f, uint32_t arg)
{
	uint64_t v;

	TRYR(fe_get_u64(f, R_GET_FEATURES, &v));
	return fe_send(f, R_GET_FEATURES, arg, NULL, 0, NULL, 0);
}

static int
bad_peer_connection_2(struct fe *f, uint32_t arg __rte_unused)
{
	TRYR(fe_hello(f));
	return send_u64(f, R_SET_PEER_CONNECTION, V2 | F_NEED_REPLY, 2);
}

static int
bad_reply_none_pending(struct fe *f, uint32_t arg __rte_unused)
{
	TRYR(fe_hello(f));
	return fe_answer(f, R_SET_RX_QUEUE_GSI);
}

static int
bad_reply_other_request(struct fe *f, uint32_t arg __rte_unused)
{
	int ret;

	TRYR(fe_hello(f));
	ret = rte_vhost_pci_dev_send_rx_queue_gsi(fe_dev(f), gsi_78, 2);
	if (ret != 0)
		return FAIL("rte_vhost_pci_dev_send_rx_queue_gsi: %d", ret);
	TRYR(expect_server_gsi(f));
	return fe_answer(f, R_SET_PEER_CONNECTION);
}

#define GSI_ARG(count, n)	(((uint32_t)(count) << 16) | (n))

static const struct bad_case bad_cases[] = {
	{ "header naming conn_id id+1 after GET_CONN_ID",
		bad_spoof_next_id, 0, V2, 1 },
	{ "header naming the anonymous id after GET_CONN_ID",
		bad_anon_after_id, 0, V2, 1 },
	{ "header naming conn_id 0x1234 before GET_CONN_ID",
		bad_id_before_get, 0x1234, V2, 1 },
	{ "header naming conn_id 1 (the id to come) before GET_CONN_ID",
		bad_id_before_get, 1, V2, 1 },
	{ "GET_CONN_ID (20) before F_VHOST_PCI", bad_ext_without_pci,
		R_GET_CONN_ID, V2, 1 },
	{ "SET_DEV_TYPE (21) before F_VHOST_PCI", bad_ext_without_pci,
		R_SET_DEV_TYPE, V2, 1 },
	{ "SET_PVI_SENDER_UUID (22) before F_VHOST_PCI", bad_ext_without_pci,
		R_SET_PVI_SENDER_UUID, V2, 1 },
	{ "SET_RX_QUEUE_GSI (23) before F_VHOST_PCI", bad_ext_without_pci,
		R_SET_RX_QUEUE_GSI, V2, 1 },
	{ "SET_PEER_CONNECTION (24) before F_VHOST_PCI", bad_ext_without_pci,
		R_SET_PEER_CONNECTION, V2, 1 },
	{ "SET_RX_QUEUE_GSI with 0 entries", bad_gsi, GSI_ARG(0, 0), V2, 1 },
	{ "SET_RX_QUEUE_GSI with 2 entries, 1 queue pair", bad_gsi,
		GSI_ARG(2, 2), V2, 1 },
	{ "SET_RX_QUEUE_GSI with 3 entries, 2 queue pairs", bad_gsi,
		GSI_ARG(3, 3), V2, 2 },
	{ "SET_RX_QUEUE_GSI count 2 with 1 GSI's bytes", bad_gsi,
		GSI_ARG(2, 1), V2, 2 },
	{ "SET_RX_QUEUE_GSI count 1 with 2 GSIs' bytes", bad_gsi,
		GSI_ARG(1, 2), V2, 2 },
	{ "SET_PVI_SENDER_UUID with a 15-byte UUID", bad_pvi_15, 0, V2, 1 },
	{ "v2 SET_MEM_TABLE of 23 bytes (< 16 + 8)", bad_mem_short, 23, V2,
		1 },
	{ "v2 SET_MEM_TABLE of 16 bytes (UUID only)", bad_mem_short, 16, V2,
		1 },
	{ "v1 header after a v2 message", bad_mixed, V1, V2, 1 },
	{ "v2 header after a v1 message", bad_mixed, V2, V1, 1 },
	{ "SET_PEER_CONNECTION with value 2", bad_peer_connection_2, 0, V2,
		1 },
	{ "client reply with no server request pending",
		bad_reply_none_pending, 0, V2, 1 },
	{ "client reply naming another request than the pending one",
		bad_reply_other_request, 0, V2, 1 },
};

static int
t_bad(const void *arg)
{
	const struct bad_case *bc = arg;
	struct srv s;
	struct fe f;
	int rc = -1;

	srv_init(&s, bc->max_queue_pairs);
	TRY(fe_open(&f, &s, bc->ver));
	TRY(fe_closed(&f, bc->send(&f, bc->arg)));
	EXPECT(s.log.new_device == 0, "new_device called %d times",
		s.log.new_device);
	rc = 0;
out:
	fe_close(&f);
	return rc;
}

/* ---- client API against a live server (EAL, control thread) ---- */

struct live {
	char path[108];
	struct cb_log log;		/* server side */
	struct rte_vhost_pci_client *c;
	uint8_t *mem;
	bool eal;
	bool registered;
	/* What the client callbacks saw. */
	int uuid_calls;
	int gsi_calls;
	int disconnect_calls;
	uint16_t ngsi;
	uint32_t gsi[MAX_GSI];
};

static int
cl_sender_uuid(struct rte_vhost_pci_client *c __rte_unused,
		const uint8_t uuid[16] __rte_unused, void *ctx)
{
	struct live *l = ctx;

	l->uuid_calls++;
	return 0;
}

static int
cl_rx_queue_gsi(struct rte_vhost_pci_client *c __rte_unused,
		const uint32_t *gsi, uint16_t n, void *ctx)
{
	struct live *l = ctx;

	l->gsi_calls++;
	l->ngsi = n;
	memcpy(l->gsi, gsi, RTE_MIN(n, MAX_GSI) * sizeof(*gsi));
	return 0;
}

static int
cl_peer_disconnect(struct rte_vhost_pci_client *c __rte_unused, void *ctx)
{
	struct live *l = ctx;

	l->disconnect_calls++;
	return 0;
}

static const struct rte_vhost_pci_client_ops cl_ops = {
	.sender_uuid = cl_sender_uuid,
	.rx_queue_gsi = cl_rx_queue_gsi,
	.peer_disconnect = cl_peer_disconnect,
};

static int
eal_up(void)
{
	static char args[][32] = {
		"test_vhost_pci_v2", "--no-huge", "-m", "64", "--no-pci",
		"--file-prefix=vpci-v2", "-l", "0",
	};
	char *argv[RTE_DIM(args)];
	unsigned int i;

	for (i = 0; i < RTE_DIM(args); i++)
		argv[i] = args[i];
	if (rte_eal_init(RTE_DIM(args), argv) < 0)
		return FAIL("rte_eal_init: %s", rte_strerror(rte_errno));
	return 0;
}

static int
live_up(struct live *l)
{
	int ret;

	memset(l, 0, sizeof(*l));
	TRYR(eal_up());
	l->eal = true;
	if (mkdir(LIVE_DIR, 0755) < 0 && errno != EEXIST)
		return FAIL("mkdir %s: %s", LIVE_DIR, strerror(errno));
	snprintf(l->path, sizeof(l->path), LIVE_DIR "/test-v2-%d.sock",
		(int)getpid());
	ret = rte_vhost_pci_server_register(l->path, 0, 2, &test_ops, &l->log);
	if (ret != 0)
		return FAIL("rte_vhost_pci_server_register: %d", ret);
	l->registered = true;
	l->c = rte_vhost_pci_client_connect(l->path, client_uuid,
		RTE_BIT64(PF_STATUS), &cl_ops, l);
	if (l->c == NULL)
		return FAIL("rte_vhost_pci_client_connect: %s",
			strerror(rte_errno));
	return 0;
}

static void
live_down(struct live *l)
{
	rte_vhost_pci_client_close(l->c);
	l->c = NULL;
	if (l->registered)
		rte_vhost_pci_server_unregister(l->path);
	if (l->path[0] != '\0')
		unlink(l->path);
	if (l->mem != NULL)
		munmap(l->mem, MEM_SIZE);
	if (l->eal)
		rte_eal_cleanup();
}

/* One request through the client; its u64 reply in *out. */
static int
cl_req(struct live *l, uint32_t req, const void *pl, uint32_t len, int fd,
		uint64_t *out)
{
	struct rte_vhost_pci_msg m = { .request = req, .size = len };
	struct rte_vhost_pci_msg r;
	int ret;

	if (len > 0)
		memcpy(m.payload, pl, len);
	if (fd >= 0) {
		m.fds[0] = fd;
		m.nfds = 1;
	}
	ret = rte_vhost_pci_client_request(l->c, &m, &r);
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		return FAIL("client request %u: %s", req, strerror(-ret));
	if (r.size != sizeof(*out))
		return FAIL("client request %u: reply of %u bytes", req, r.size);
	memcpy(out, r.payload, sizeof(*out));
	return 0;
}

/* A request whose reply must be the u64 0. */
static int
cl_call(struct live *l, uint32_t req, const void *pl, uint32_t len, int fd)
{
	uint64_t v;

	TRYR(cl_req(l, req, pl, len, fd, &v));
	if (v != 0)
		return FAIL("client request %u: server replied %" PRIu64, req,
			v);
	return 0;
}

static int
cl_call_u64(struct live *l, uint32_t req, uint64_t v)
{
	return cl_call(l, req, &v, sizeof(v), -1);
}

static int
cl_vring(struct live *l, uint32_t i)
{
	uint8_t st[8], addr[40];
	uint64_t v = i;
	int fd;

	state_payload(st, i, RING_SIZE);
	TRYR(cl_call(l, R_SET_VRING_NUM, st, sizeof(st), -1));
	state_payload(st, i, 0);
	TRYR(cl_call(l, R_SET_VRING_BASE, st, sizeof(st), -1));
	vring_addr_payload(addr, i);
	TRYR(cl_call(l, R_SET_VRING_ADDR, addr, sizeof(addr), -1));
	fd = new_eventfd();
	TRYR(fd);
	TRYR(cl_call(l, R_SET_VRING_KICK, &v, sizeof(v), fd));
	fd = new_eventfd();
	TRYR(fd);
	TRYR(cl_call(l, R_SET_VRING_CALL, &v, sizeof(v), fd));
	state_payload(st, i, 1);
	return cl_call(l, R_SET_VRING_ENABLE, st, sizeof(st), -1);
}

/* Bring the device up through the client; the server's device pointer
 * comes from new_device.
 */
static int
cl_bringup(struct live *l, struct rte_vhost_pci_device **dev)
{
	uint8_t pl[MEM_TABLE_LEN];
	uint64_t v;
	uint32_t i;
	int fd;

	TRYR(cl_req(l, R_GET_FEATURES, NULL, 0, -1, &v));
	TRYR(cl_call(l, R_SET_OWNER, NULL, 0, -1));
	TRYR(cl_call_u64(l, R_SET_FEATURES, FE_FEATURES));
	fd = map_memfd(MEMFD_NAME, MEM_SIZE, &l->mem);
	TRYR(fd);
	mem_table_payload(pl, client_uuid);
	TRYR(cl_call(l, R_SET_MEM_TABLE, pl, sizeof(pl), fd));
	for (i = 0; i < 2; i++)
		TRYR(cl_vring(l, i));
	TRYR(cl_call_u64(l, R_SET_STATUS, STATUS_ALL));
	/* The ack comes after new_device returned. */
	if (log_get(&l->log.new_device) != 1)
		return FAIL("new_device called %d times",
			log_get(&l->log.new_device));
	*dev = __atomic_load_n(&l->log.dev, __ATOMIC_SEQ_CST);
	return 0;
}

static int
t_live_connect(const void *arg __rte_unused)
{
	struct rte_vhost_pci_device *dev;
	uint8_t got[UUID_LEN], want[UUID_LEN];
	struct live l;
	uint64_t id;
	int rc = -1, ret;

	TRY(live_up(&l));
	id = rte_vhost_pci_client_conn_id(l.c);
	EXPECT(id != ANON, "client kept the anonymous id");
	EXPECT(rte_vhost_pci_client_protocol_features(l.c) &
		RTE_BIT64(PF_VHOST_PCI), "F_VHOST_PCI not negotiated: 0x%" PRIx64,
		rte_vhost_pci_client_protocol_features(l.c));
	ret = rte_vhost_pci_client_server_uuid(l.c, got);
	EXPECT(ret == 0 && l.uuid_calls == 1,
		"server UUID not received during connect (%d, %d callbacks)",
		ret, l.uuid_calls);
	rte_vhost_pci_local_uuid(want);
	TRY(expect_uuid(got, want, "client's server UUID"));
	TRY(cl_bringup(&l, &dev));
	EXPECT(rte_vhost_pci_dev_conn_id(dev) == id,
		"server conn_id %" PRIu64 ", client %" PRIu64,
		rte_vhost_pci_dev_conn_id(dev), id);
	EXPECT(rte_vhost_pci_dev_version(dev) == V2, "server side speaks v%u",
		rte_vhost_pci_dev_version(dev));
	TRY(expect_peer_uuid(dev, client_uuid));
	ret = rte_vhost_pci_client_set_peer_connection(l.c, true);
	EXPECT(ret == 0, "SET_PEER_CONNECTION(1) after bring-up: %d", ret);
	rc = 0;
out:
	live_down(&l);
	return rc;
}

static int
t_live_gsi(const void *arg __rte_unused)
{
	struct rte_vhost_pci_device *dev;
	struct live l;
	uint64_t v;
	int rc = -1, ret;

	TRY(live_up(&l));
	TRY(cl_bringup(&l, &dev));
	ret = rte_vhost_pci_dev_send_rx_queue_gsi(dev, gsi_78, 2);
	EXPECT(ret == 0, "rte_vhost_pci_dev_send_rx_queue_gsi: %d", ret);
	ret = rte_vhost_pci_client_poll(l.c);
	EXPECT(ret == 0, "rte_vhost_pci_client_poll: %d", ret);
	EXPECT(l.gsi_calls == 1 && l.ngsi == 2 && l.gsi[0] == 7 &&
		l.gsi[1] == 8, "client saw %d GSI tables, last of %u",
		l.gsi_calls, l.ngsi);
	/* The server took the client's reply: the connection still serves. */
	TRY(cl_req(&l, R_GET_FEATURES, NULL, 0, -1, &v));
	rc = 0;
out:
	live_down(&l);
	return rc;
}

static int
t_live_disconnect(const void *arg __rte_unused)
{
	struct rte_vhost_pci_device *dev;
	struct live l;
	uint64_t v;
	int rc = -1, ret;

	TRY(live_up(&l));
	TRY(cl_bringup(&l, &dev));
	ret = rte_vhost_pci_dev_send_disconnect(dev);
	EXPECT(ret == 0, "rte_vhost_pci_dev_send_disconnect: %d", ret);
	EXPECT(log_get(&l.log.destroy_device) == 1,
		"destroy_device called %d times",
		log_get(&l.log.destroy_device));
	ret = rte_vhost_pci_client_poll(l.c);
	EXPECT(ret == 0, "rte_vhost_pci_client_poll: %d", ret);
	EXPECT(l.disconnect_calls == 1, "peer_disconnect called %d times",
		l.disconnect_calls);
	TRY(cl_req(&l, R_GET_FEATURES, NULL, 0, -1, &v));
	ret = rte_vhost_pci_client_set_peer_connection(l.c, true);
	EXPECT(ret == 1, "SET_PEER_CONNECTION(1) after the server's DISCONNECT: %d (want 1, not ready)",
		ret);
	rc = 0;
out:
	live_down(&l);
	return rc;
}

/* ---- main ---- */

static const uint32_t ver1 = V1, ver2 = V2;
static const uint16_t one_gsi = 1, two_gsi = 2;

static const struct check checks[] = {
	{ "v2 GET_FEATURES with the anonymous id: reply flags 0x6, anonymous id",
		t_anon_get_features, NULL },
	{ "v2 GET_PROTOCOL_FEATURES (anonymous id) offers bit 4 (F_VHOST_PCI)",
		t_pf_bit4, &ver2 },
	{ "v1 GET_PROTOCOL_FEATURES does not offer bit 4 (F_MTU)",
		t_pf_bit4, &ver1 },
	{ "GET_CONN_ID replies a u64 id equal to the reply header's conn_id",
		t_get_conn_id, NULL },
	{ "after GET_CONN_ID requests carrying that id are served",
		t_conn_id_served, NULL },
	{ "two connections on one endpoint get different conn_ids",
		t_conn_ids_differ, NULL },
	{ "SET_DEV_TYPE 1 (net) is acked 0", t_dev_type_net, NULL },
	{ "SET_PVI_SENDER_UUID: server request (0xA, local UUID), reply 0, peer UUID stored, client reply accepted",
		t_pvi_uuid, NULL },
	{ "SET_RX_QUEUE_GSI with 1 GSI (1 queue pair) is stored",
		t_gsi_stored, &one_gsi },
	{ "SET_RX_QUEUE_GSI with 2 GSIs (2 queue pairs) is stored",
		t_gsi_stored, &two_gsi },
	{ "v2 SET_MEM_TABLE (UUID + table) maps the memfd, UUID is the peer UUID",
		t_mem_table_v2, NULL },
	{ "full v2 bring-up calls new_device once; SET_PEER_CONNECTION(1) then replies 0",
		t_bringup, NULL },
	{ "SET_PEER_CONNECTION(1) before bring-up replies 1 (not ready)",
		t_connect_not_ready, NULL },
	{ "client SET_PEER_CONNECTION(0): destroy_device, reply 0, BAR gone",
		t_client_disconnect, NULL },
	{ "rte_vhost_pci_dev_send_rx_queue_gsi sends {7,8} with conn_id; client reply accepted",
		t_send_gsi, NULL },
	{ "rte_vhost_pci_dev_send_disconnect sends SET_PEER_CONNECTION(0), destroy_device; reply accepted",
		t_send_disconnect, NULL },
	{ "v1 connection: send_rx_queue_gsi and send_disconnect return -ENOTSUP",
		t_send_enotsup, &ver1 },
	{ "v2 without F_VHOST_PCI: send_rx_queue_gsi and send_disconnect return -ENOTSUP",
		t_send_enotsup, &ver2 },
	{ "SET_DEV_TYPE 2 (block): ack 1, log names type 2, connection stays open",
		t_dev_type_block, NULL },
	{ "v1 connection: ids 20, 22-24 keep their v1 meanings, unsupported: reply-ack 1, connection stays open; 21 (SET_BACKEND_REQ_FD) without F_BACKEND_REQ closes",
		t_v1_ids_20_24, NULL },
	{ "header naming another connection's id closes; that connection still answers",
		t_spoof_other_conn, NULL },
	{ "metadata page peer_uuid carries the client's UUID (rte_vhost_pci_bar.h)",
		t_meta_peer_uuid, NULL },
	{ "SET_PVI_SENDER_UUID after a v2 SET_MEM_TABLE still sends the server's UUID",
		t_pvi_after_mem_table, NULL },
	{ "client API: connect, conn_id = server's, server UUID = local UUID, F_VHOST_PCI",
		t_live_connect, NULL },
	{ "client API: server SET_RX_QUEUE_GSI {7,8} reaches rte_vhost_pci_client_poll",
		t_live_gsi, NULL },
	{ "client API: server disconnect reaches rte_vhost_pci_client_poll, destroy_device",
		t_live_disconnect, NULL },
};

int
main(void)
{
	struct tally t = { 0, 0 };
	char name[200];
	unsigned int i;

	run_checks(&t, checks, RTE_DIM(checks));
	for (i = 0; i < RTE_DIM(bad_cases); i++) {
		snprintf(name, sizeof(name), "%s closes the connection",
			bad_cases[i].name);
		run_check(&t, name, t_bad, &bad_cases[i]);
	}
	return tally_done(&t);
}
