/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * Unit tests of the vhost-pci extension (the vhost-user extension for
 * vhost-pci): vhost-user header version 0x02, server side and client side.
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
 *
 * The bad-message cases are in test_vhost_pci_v2_bad.c, the client-API
 * checks in test_vhost_pci_v2_client.c; v2_common.h is what they share.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_log.h>

#include "v2_common.h"

const uint8_t client_uuid[UUID_LEN] = {
	0x6b, 0x1d, 0x4e, 0x2a, 0x90, 0x0c, 0x4f, 0x11,
	0x8a, 0x77, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc,
};

/* ---- server callbacks (atomic: in live checks they run on the control
 * thread) ----
 */

static int
cb_new_device(int vid, void *ctx)
{
	struct cb_log *log = ctx;

	__atomic_store_n(&log->vid, vid, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&log->new_device, 1, __ATOMIC_SEQ_CST);
	return 0;
}

static void
cb_destroy_device(int vid __rte_unused, void *ctx)
{
	struct cb_log *log = ctx;

	__atomic_add_fetch(&log->destroy_device, 1, __ATOMIC_SEQ_CST);
}

static void
cb_vring_state_changed(int vid __rte_unused,
		uint16_t vring __rte_unused, int enable __rte_unused,
		void *ctx __rte_unused)
{
}

const struct rte_vhost_pci_ops test_ops = {
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
uint32_t
gsi_payload(uint8_t *buf, uint16_t count, const uint32_t *gsi, uint32_t n)
{
	uint32_t i;

	memcpy(buf, &count, sizeof(count));
	for (i = 0; i < n; i++)
		put32(buf + GSI_HDR + i * GSI_SIZE, gsi[i]);
	return GSI_HDR + n * GSI_SIZE;
}

/* v2 memory table: UUID, nregions 1, padding, one region. */
void
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
void
vring_addr_payload(uint8_t *buf, uint32_t i)
{
	put32(buf, i);
	put32(buf + 4, 0);
	put64(buf + 8, ring_uaddr(i));
	put64(buf + 16, ring_uaddr(i) + 0x2000);
	put64(buf + 24, ring_uaddr(i) + 0x1000);
	put64(buf + 32, 0);
}

void
state_payload(uint8_t *buf, uint32_t index, uint32_t num)
{
	put32(buf, index);
	put32(buf + 4, num);
}

/* ---- the test client on a socketpair ---- */

/* A message read back from the library. */
struct rx {
	uint32_t request;
	uint32_t flags;
	uint64_t conn_id;	/* ANON for v1 */
	uint32_t size;
	uint8_t payload[VHOST_PCI_PAYLOAD_MAX];
};

void
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

int
fe_open(struct fe *f, struct srv *s, uint32_t ver)
{
	int sv[2];

	memset(f, 0, sizeof(*f));
	f->sock = -1;
	f->ver = ver;
	f->conn_id = ANON;
	TRYR(new_socketpair(SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, sv));
	vhost_pci_lock_take();
	f->c = vhost_pci_conn_create(&s->ep, sv[0]);
	vhost_pci_lock_release();
	if (f->c == NULL) {
		close(sv[0]);
		close(sv[1]);
		return FAIL("vhost_pci_conn_create failed");
	}
	f->sock = sv[1];
	return 0;
}

void
fe_close(struct fe *f)
{
	if (f->c != NULL) {
		vhost_pci_lock_take();
		vhost_pci_conn_free(f->c);
		vhost_pci_lock_release();
	}
	if (f->sock >= 0)
		close(f->sock);
	if (f->mem != NULL)
		munmap(f->mem, MEM_SIZE);
	f->c = NULL;
	f->sock = -1;
	f->mem = NULL;
}

int
fe_dev(struct fe *f)
{
	return f->c->dev.vid;
}

/*
 * The one message-send helper: a header (v1 or v2 layout, chosen by the
 * version bits of @flags; v2 carries f->conn_id) and @len bytes of payload.
 * The test's copies of the fds are closed in any case: from here on they
 * belong to the library.
 */
int
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

int
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
	vhost_pci_lock_take();
	ret = vhost_pci_conn_process(f->c);
	vhost_pci_lock_release();
	if (ret < 0 || f->c->dead)
		return FAIL("request %u closed the connection", f->last_req);
	return 0;
}

/* The last message must have closed the connection. */
int
fe_closed(struct fe *f, int sent)
{
	int ret;

	if (sent < 0)
		return -1;
	vhost_pci_lock_take();
	ret = vhost_pci_conn_process(f->c);
	vhost_pci_lock_release();
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
int
fe_get_u64(struct fe *f, uint32_t req, uint64_t *v)
{
	TRYR(fe_ok(f, fe_send(f, req, f->ver, NULL, 0, NULL, 0)));
	return fe_reply(f, req, v, sizeof(*v));
}

/* SET_PROTOCOL_FEATURES with NEED_REPLY: acked only with REPLY_ACK in it. */
int
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
int
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
int
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

int
expect_uuid(const uint8_t *got, const uint8_t *want, const char *what)
{
	if (memcmp(got, want, UUID_LEN) != 0)
		return FAIL("%s: UUID differs (first bytes %02x%02x%02x%02x, want %02x%02x%02x%02x)",
			what, got[0], got[1], got[2], got[3], want[0], want[1],
			want[2], want[3]);
	return 0;
}

int
expect_peer_uuid(int vid, const uint8_t *want)
{
	uint8_t u[UUID_LEN];
	int ret = rte_vhost_pci_dev_peer_uuid(vid, u);

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
	EXPECT(s.log.vid == fe_dev(&f), "new_device got another device");
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

const uint32_t gsi_78[2] = { 7, 8 };

/* The server's SET_RX_QUEUE_GSI {7, 8} on the socket. */
int
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

/*
 * The front-end closed its end and the server has not read that yet: the
 * send fails, the call says the device is gone (-ENODEV, as documented)
 * and the connection is closed with destroy_device, not left half open.
 */
static int
t_send_disconnect_gone(const void *arg __rte_unused)
{
	struct srv s;
	struct fe f;
	int rc = -1, ret;

	srv_init(&s, 1);
	TRY(fe_open(&f, &s, V2));
	TRY(fe_bringup(&f));
	close(f.sock);
	f.sock = -1;
	ret = rte_vhost_pci_dev_send_disconnect(fe_dev(&f));
	EXPECT(ret == -ENODEV, "rte_vhost_pci_dev_send_disconnect: %d, want %d",
		ret, -ENODEV);
	EXPECT(f.c->dead, "connection still open after the send failed");
	EXPECT(s.log.destroy_device == 1, "destroy_device called %d times",
		s.log.destroy_device);
	ret = rte_vhost_pci_dev_send_rx_queue_gsi(fe_dev(&f), gsi_78, 2);
	EXPECT(ret == -ENODEV, "rte_vhost_pci_dev_send_rx_queue_gsi: %d, want %d",
		ret, -ENODEV);
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
	{ "rte_vhost_pci_dev_send_disconnect to a front-end that closed its end: -ENODEV, the connection closed with destroy_device",
		t_send_disconnect_gone, NULL },
	{ "v1 connection: send_rx_queue_gsi and send_disconnect return -ENOTSUP",
		t_send_enotsup, &ver1 },
	{ "v2 without F_VHOST_PCI: send_rx_queue_gsi and send_disconnect return -ENOTSUP",
		t_send_enotsup, &ver2 },
	{ "SET_DEV_TYPE 2 (block): ack 1, log names type 2, connection stays open",
		t_dev_type_block, NULL },
	{ "class 14 (messages): v1 connection: ids 20, 22-24 keep their v1 meanings, unsupported: reply-ack 1, connection stays open; 21 (SET_BACKEND_REQ_FD) without F_BACKEND_REQ closes",
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
	{ "client API: a server that closed with the client's bytes unread (connection reset) reads as closed, -EPIPE",
		t_recv_reset, NULL },
};

int
main(void)
{
	struct tally t = { 0, 0 };
	char name[200];
	unsigned int i;

	run_checks(&t, checks, RTE_DIM(checks));
	for (i = 0; i < n_bad_cases; i++) {
		snprintf(name, sizeof(name), "%s closes the connection",
			bad_cases[i].name);
		run_check(&t, name, t_bad, &bad_cases[i]);
	}
	return tally_done(&t);
}
