/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * test_vpci_stress: the front-ends. Peer threads play v1 front-ends with
 * the fake peer (fake_peer.h), each connection on fresh memory so that a
 * frame the application still reads is never rewritten under it; the
 * client thread plays v2 front-ends with the client API. None of them
 * touches a port: they only connect, post, hold and leave, and check
 * what the ports wrote into their buffers.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_bitops.h>
#include <rte_common.h>
#include <rte_errno.h>

#include <rte_vhost_pci_client.h>

#include "fake_peer.h"
#include "stress.h"

#define PEER_RING		256
#define PEER_RX_BUFS		16	/* RX buffers posted per connection */
#define PEER_TX_MAX		64	/* TX frames per connection, < ring */
#define HOLD_MAX_US		5000
/* Of 100: how often a round does something other than the plain case. */
#define PEER_ABORT_PCT		10	/* drop the connection mid-handshake */
#define PEER_RESTART_PCT	15	/* stop and set up the rings again */
#define CLIENT_UP_PCT		40	/* a v2 client brings a device up */
#define SOCK0_PCT		70	/* the socket with two ports */

/* ---- what the threads share ---- */

void
stress_fault(struct stress *st, enum stress_fault f, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&st->lock);
	if (st->nfault[f]++ == 0) {
		va_start(ap, fmt);
		vsnprintf(st->fault[f], sizeof(st->fault[f]), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&st->lock);
}

unsigned int
stress_faults(struct stress *st, enum stress_fault f)
{
	unsigned int n;

	pthread_mutex_lock(&st->lock);
	n = st->nfault[f];
	pthread_mutex_unlock(&st->lock);
	return n;
}

void
stress_where(struct stress *st, unsigned int thread, const char *what)
{
	uint64_t now = stress_now_ms(), took = now - st->where_t0[thread];
	const char *prev = st->where[thread];

	if (prev != NULL && took > __atomic_load_n(&st->slow_ms,
			__ATOMIC_RELAXED)) {
		pthread_mutex_lock(&st->lock);
		if (took > st->slow_ms) {
			/* Also read outside the lock, just above. */
			__atomic_store_n(&st->slow_ms, took, __ATOMIC_RELAXED);
			st->slow_what = prev;
		}
		pthread_mutex_unlock(&st->lock);
	}
	st->where_t0[thread] = now;
	/* Read by the watchdog; nothing else is published with it. */
	__atomic_store_n(&st->where[thread], what, __ATOMIC_RELAXED);
}

uint64_t
stress_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

uint32_t
stress_below(uint64_t *state, uint32_t n)
{
	return n == 0 ? 0 : (uint32_t)((stress_rand(state) >> 32) % n);
}

void
stress_sleep_us(unsigned long us)
{
	struct timespec ts = {
		.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000,
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

uint64_t
stress_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- frames ---- */

static const uint8_t frame_eth[14] = {
	0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x88, 0xb5,
};
static const uint8_t frame_magic[4] = { 'V', 'P', 'S', 'T' };

static uint8_t
frame_byte(uint32_t seed, uint32_t i)
{
	return (uint8_t)((seed >> (8 * (i & 3))) ^ (i * 31 + (i >> 8)));
}

void
frame_make(uint8_t *f, uint32_t len, uint32_t seed)
{
	uint32_t i;

	memcpy(f, frame_eth, sizeof(frame_eth));
	memcpy(f + 14, frame_magic, sizeof(frame_magic));
	f[18] = len & 0xff;
	f[19] = len >> 8;
	memcpy(f + 20, &seed, sizeof(seed));
	for (i = FRAME_HDR; i < len; i++)
		f[i] = frame_byte(seed, i);
}

int
frame_check(const uint8_t *f, uint32_t len, char *why, size_t wlen)
{
	uint32_t seed, i;

	if (len < FRAME_MIN || len > FRAME_MAX) {
		snprintf(why, wlen, "length %u outside %u..%u", len, FRAME_MIN,
			FRAME_MAX);
		return -1;
	}
	if (memcmp(f, frame_eth, sizeof(frame_eth)) != 0 ||
			memcmp(f + 14, frame_magic, sizeof(frame_magic)) != 0) {
		snprintf(why, wlen, "%u bytes without the test's header (%02x%02x%02x%02x at 14)",
			len, f[14], f[15], f[16], f[17]);
		return -1;
	}
	if (f[18] + (f[19] << 8) != (int)len) {
		snprintf(why, wlen, "%u bytes, but the frame says %u", len,
			f[18] + (f[19] << 8));
		return -1;
	}
	memcpy(&seed, f + 20, sizeof(seed));
	for (i = FRAME_HDR; i < len; i++) {
		if (f[i] != frame_byte(seed, i)) {
			snprintf(why, wlen, "%u-byte frame (seed 0x%08x): byte %u is 0x%02x, want 0x%02x",
				len, seed, i, f[i], frame_byte(seed, i));
			return -1;
		}
	}
	return 0;
}

static uint32_t
frame_len(uint64_t *rng)
{
	return FRAME_MIN + stress_below(rng, FRAME_MAX - FRAME_MIN + 1);
}

/* ---- v1 fake front-ends ---- */

static unsigned int
pick_sock(uint64_t *rng)
{
	return stress_below(rng, 100) < SOCK0_PCT ? 0 : 1;
}

/* A random hold of at most @max_us. */
static void
hold(uint64_t *rng, unsigned int max_us)
{
	stress_sleep_us(stress_below(rng, max_us + 1));
}

/*
 * Connect and leave in the middle of the handshake: a header cut short,
 * or a request whose reply is never read. The device must drop the
 * half-made connection and nothing else.
 */
static void
peer_abort(struct stress_thread *t, const char *path)
{
	/* GET_FEATURES, v1: request 1, flags 1, size 0. */
	static const uint8_t get_features[12] = { 1, 0, 0, 0, 1, 0, 0, 0 };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	stress_where(t->st, t->idx, "peer: handshake abort");
	stress_count(&t->st->v1_abort);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	len = stress_below(&t->rng, 2) ? 6 : sizeof(get_features);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
			send(fd, get_features, len, MSG_NOSIGNAL) >= 0)
		hold(&t->rng, 500);
	close(fd);
}

/* @n frames on the TX ring, never more than PEER_TX_MAX a connection:
 * the ring is not refilled, so no descriptor is posted twice.
 */
static void
peer_post_tx(struct stress_thread *t, struct fake_peer *p, unsigned int n,
		unsigned int *posted)
{
	uint8_t f[FRAME_MAX];
	unsigned int i;

	for (i = 0; i < n && *posted < PEER_TX_MAX; i++, (*posted)++) {
		uint32_t len = frame_len(&t->rng);

		frame_make(f, len, (uint32_t)stress_rand(&t->rng));
		fp_post_tx(p, f, len);
		stress_count(&t->st->v1_tx);
	}
}

static void
peer_post_rx(struct fake_peer *p)
{
	unsigned int i;

	for (i = 0; i < PEER_RX_BUFS; i++)
		fp_post_rx(p, FP_BUF_SIZE, 0xa5);
}

/*
 * Every buffer the port filled: a virtio-net header (no offloads, one
 * buffer) and a whole test frame.
 */
static void
peer_check_rx(struct stress_thread *t, struct fake_peer *p)
{
	static const uint8_t hdr[FP_NET_HDR_LEN] = { [10] = 1 };
	struct vring_used_elem e;
	const uint8_t *b;
	char why[200];

	while (fp_used_next(p, FP_RXQ, &e)) {
		if (e.id >= PEER_RX_BUFS || e.len < FP_NET_HDR_LEN ||
				e.len > FP_BUF_SIZE) {
			stress_fault(t->st, SF_PEER_RX, "peer %u: used entry id %u len %u, posted ids 0..%u of %u bytes",
				t->idx, e.id, e.len, PEER_RX_BUFS - 1,
				FP_BUF_SIZE);
			continue;
		}
		b = fp_buf(p, FP_RXQ, e.id);
		if (memcmp(b, hdr, sizeof(hdr)) != 0) {
			stress_fault(t->st, SF_PEER_RX, "peer %u: buffer %u: virtio-net header %02x%02x.. num_buffers %u, want zeros and 1",
				t->idx, e.id, b[0], b[1], b[10] | b[11] << 8);
			continue;
		}
		if (frame_check(b + FP_NET_HDR_LEN, e.len - FP_NET_HDR_LEN,
				why, sizeof(why)) < 0) {
			stress_fault(t->st, SF_PEER_RX, "peer %u: buffer %u: %s",
				t->idx, e.id, why);
			continue;
		}
		stress_count(&t->st->peer_rx);
	}
}

/* After a handshake: post, hold, maybe restart the rings, post, hold. */
static void
peer_attached(struct stress_thread *t, struct fake_peer *p, unsigned int sock)
{
	unsigned int posted = 0;

	stress_where(t->st, t->idx, "peer: attached");
	peer_post_rx(p);
	peer_post_tx(t, p, 1 + stress_below(&t->rng, 4), &posted);
	hold(&t->rng, HOLD_MAX_US / 2);
	/* Not on the zero-copy socket: a restarted front-end takes its
	 * buffers back, and lent mbufs could still point at them.
	 */
	if (sock == 0 && stress_below(&t->rng, 100) < PEER_RESTART_PCT) {
		peer_check_rx(t, p);
		stress_where(t->st, t->idx, "peer: fp_restart");
		if (fp_restart(p) < 0)
			return;	/* the device went away meanwhile */
		stress_count(&t->st->v1_restart);
		posted = 0;
		peer_post_rx(p);
	}
	peer_post_tx(t, p, stress_below(&t->rng, 4), &posted);
	hold(&t->rng, HOLD_MAX_US / 2);
	peer_check_rx(t, p);
}

static void
peer_round(struct stress_thread *t)
{
	struct stress *st = t->st;
	unsigned int sock = pick_sock(&t->rng);
	struct fake_peer p;

	if (stress_below(&t->rng, 100) < PEER_ABORT_PCT) {
		peer_abort(t, st->sock[sock]);
		return;
	}
	stress_where(st, t->idx, "peer: fp_init");
	if (fp_init(&p, PEER_RING) < 0) {
		stress_fault(st, SF_HARNESS, "peer %u: fp_init: %s", t->idx,
			p.err);
		fp_fini(&p);
		return;
	}
	stress_count(&st->v1_try);
	stress_where(st, t->idx, "peer: fp_connect");
	/* Refused when no port is free, or the socket is being re-created:
	 * not a fault.
	 */
	if (fp_connect(&p, st->sock[sock], 0) == 0) {
		stress_count(&st->v1_ok);
		peer_attached(t, &p, sock);
		if (stress_below(&t->rng, 2)) {
			stress_where(st, t->idx, "peer: fp_leave");
			fp_leave(&p);
			stress_count(&st->v1_clean);
		} else {
			stress_count(&st->v1_abrupt);
		}
	}
	stress_where(st, t->idx, "peer: fp_fini");
	fp_fini(&p);
}

static bool
keep_going(struct stress *st, unsigned long round)
{
	if (__atomic_load_n(&st->stop, __ATOMIC_RELAXED))
		return false;
	/* At least the rounds asked for, and churn as long as the
	 * application still runs its own.
	 */
	return round < st->rounds ||
		!__atomic_load_n(&st->app_done, __ATOMIC_RELAXED);
}

void *
stress_peer_thread(void *arg)
{
	struct stress_thread *t = arg;
	unsigned long r;

	for (r = 0; keep_going(t->st, r); r++) {
		peer_round(t);
		stress_count(&t->st->progress);
	}
	stress_where(t->st, t->idx, "peer: done");
	return NULL;
}

/* ---- v2 clients ---- */

/* The vhost-user and vhost-pci extension requests, from the specs. */
#define V2_GET_FEATURES		1u
#define V2_SET_FEATURES		2u
#define V2_SET_OWNER		3u
#define V2_SET_MEM_TABLE	5u
#define V2_SET_VRING_NUM	8u
#define V2_SET_VRING_ADDR	9u
#define V2_SET_VRING_BASE	10u
#define V2_SET_VRING_KICK	12u
#define V2_SET_VRING_CALL	13u
#define V2_SET_VRING_ENABLE	18u
#define V2_SET_STATUS		39u
#define V2_F_VERSION_1		32
#define V2_F_PROTOCOL_FEATURES	30
#define V2_PF_STATUS		16
#define V2_STATUS_ALL		0x0fu

/* One region of zeroed memory: the rings are empty, nothing moves. */
#define V2_GPA			0x100000000ull
#define V2_UADDR		0x7f0000000000ull
#define V2_MEM_SIZE		(4u << 20)
#define V2_RING			256u
#define V2_RING_STRIDE		0x10000u

static int
cl_server_request(struct stress_thread *t)
{
	stress_count(&t->st->v2_srv_req);
	return 0;
}

static int
cl_sender_uuid(struct rte_vhost_pci_client *c __rte_unused,
		const uint8_t uuid[16] __rte_unused, void *ctx)
{
	return cl_server_request(ctx);
}

static int
cl_rx_queue_gsi(struct rte_vhost_pci_client *c __rte_unused,
		const uint32_t *gsi __rte_unused, uint16_t n __rte_unused,
		void *ctx)
{
	return cl_server_request(ctx);
}

static int
cl_peer_disconnect(struct rte_vhost_pci_client *c __rte_unused, void *ctx)
{
	return cl_server_request(ctx);
}

static const struct rte_vhost_pci_client_ops cl_ops = {
	.sender_uuid = cl_sender_uuid,
	.rx_queue_gsi = cl_rx_queue_gsi,
	.peer_disconnect = cl_peer_disconnect,
};

/* A negative errno is what rte_vhost_pci_client_request() documents. */
static int
cl_expect_errno(struct stress_thread *t, const char *what, int ret)
{
	if (ret > 0)
		stress_fault(t->st, SF_API, "client: %s returned %d", what, ret);
	return ret;
}

/* A request whose reply is a u64: 0 and *out, or a negative errno. */
static int
cl_req(struct stress_thread *t, struct rte_vhost_pci_client *c, uint32_t req,
		const void *pl, uint32_t len, const int *fds, uint32_t nfds,
		uint64_t *out)
{
	struct rte_vhost_pci_msg m, r;
	int ret;

	memset(&m, 0, sizeof(m));
	m.request = req;
	m.size = len;
	if (len > 0)
		memcpy(m.payload, pl, len);
	if (nfds > 0)
		memcpy(m.fds, fds, nfds * sizeof(*fds));
	m.nfds = nfds;
	ret = cl_expect_errno(t, "rte_vhost_pci_client_request",
		rte_vhost_pci_client_request(c, &m, &r));
	if (ret < 0)
		return ret;
	rte_vhost_pci_msg_close_fds(&r);
	if (r.size != sizeof(*out))
		return -EPROTO;
	memcpy(out, r.payload, sizeof(*out));
	return 0;
}

/* A request acked with 0; a refusal is -EPERM. */
static int
cl_call(struct stress_thread *t, struct rte_vhost_pci_client *c,
		uint32_t req, const void *pl, uint32_t len, int fd)
{
	uint64_t v;
	int ret = cl_req(t, c, req, pl, len, &fd, fd >= 0, &v);

	return ret < 0 ? ret : (v == 0 ? 0 : -EPERM);
}

static void
put32(uint8_t *b, uint32_t v)
{
	memcpy(b, &v, sizeof(v));
}

static void
put64(uint8_t *b, uint64_t v)
{
	memcpy(b, &v, sizeof(v));
}

static int
cl_call_fd_u64(struct stress_thread *t, struct rte_vhost_pci_client *c,
		uint32_t req, uint64_t v, int fd)
{
	return cl_call(t, c, req, &v, sizeof(v), fd);
}

static int
cl_state(struct stress_thread *t, struct rte_vhost_pci_client *c,
		uint32_t req, uint32_t index, uint32_t num)
{
	uint8_t st[8];

	put32(st, index);
	put32(st + 4, num);
	return cl_call(t, c, req, st, sizeof(st), -1);
}

/* Ring @i: descriptors, then avail at +4 KiB, used at +8 KiB. */
static int
cl_vring(struct stress_thread *t, struct rte_vhost_pci_client *c, uint32_t i)
{
	uint64_t at = V2_UADDR + (uint64_t)i * V2_RING_STRIDE;
	uint8_t addr[40];
	int fd, ret;

	put32(addr, i);
	put32(addr + 4, 0);
	put64(addr + 8, at);
	put64(addr + 16, at + 0x2000);
	put64(addr + 24, at + 0x1000);
	put64(addr + 32, 0);
	ret = cl_state(t, c, V2_SET_VRING_NUM, i, V2_RING);
	if (ret == 0)
		ret = cl_state(t, c, V2_SET_VRING_BASE, i, 0);
	if (ret == 0)
		ret = cl_call(t, c, V2_SET_VRING_ADDR, addr, sizeof(addr), -1);
	if (ret < 0)
		return ret;
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ret = fd < 0 ? -errno : cl_call_fd_u64(t, c, V2_SET_VRING_KICK, i, fd);
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		return ret;
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ret = fd < 0 ? -errno : cl_call_fd_u64(t, c, V2_SET_VRING_CALL, i, fd);
	if (fd >= 0)
		close(fd);
	return ret < 0 ? ret : cl_state(t, c, V2_SET_VRING_ENABLE, i, 1);
}

/* The whole set-up of a v2 device on zeroed memory. 0 once it is ready. */
static int
cl_bringup(struct stress_thread *t, struct rte_vhost_pci_client *c,
		const uint8_t uuid[16])
{
	uint64_t want = RTE_BIT64(V2_F_VERSION_1) |
		RTE_BIT64(V2_F_PROTOCOL_FEATURES), v;
	uint8_t mem[16 + 8 + 32];
	uint32_t i;
	int fd, ret;

	ret = cl_req(t, c, V2_GET_FEATURES, NULL, 0, NULL, 0, &v);
	if (ret < 0)
		return ret;
	if ((v & want) != want)
		return -ENOTSUP;
	ret = cl_call(t, c, V2_SET_OWNER, NULL, 0, -1);
	if (ret == 0)
		ret = cl_call_fd_u64(t, c, V2_SET_FEATURES, want, -1);
	if (ret < 0)
		return ret;
	fd = memfd_create("vpci-stress-v2", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, V2_MEM_SIZE) < 0) {
		stress_fault(t->st, SF_HARNESS, "client: memfd: %s",
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	/* v2 memory table: the owner's UUID, then the v1 layout. */
	memcpy(mem, uuid, 16);
	put32(mem + 16, 1);
	put32(mem + 20, 0);
	put64(mem + 24, V2_GPA);
	put64(mem + 32, V2_MEM_SIZE);
	put64(mem + 40, V2_UADDR);
	put64(mem + 48, 0);
	ret = cl_call(t, c, V2_SET_MEM_TABLE, mem, sizeof(mem), fd);
	close(fd);
	for (i = 0; i < 2 && ret == 0; i++)
		ret = cl_vring(t, c, i);
	if (ret == 0)
		ret = cl_call_fd_u64(t, c, V2_SET_STATUS, V2_STATUS_ALL, -1);
	return ret;
}

/* Answer the server while holding the connection for up to @max_us. */
static void
cl_hold(struct stress_thread *t, struct rte_vhost_pci_client *c,
		unsigned int max_us)
{
	unsigned int left = stress_below(&t->rng, max_us + 1);
	int ret;

	do {
		ret = rte_vhost_pci_client_poll(c);
		if (ret != 0 && ret != -EPIPE)
			stress_fault(t->st, SF_API, "client: rte_vhost_pci_client_poll returned %d (%s), documented: 0 or -EPIPE",
				ret, strerror(-ret));
		if (ret != 0)
			return;
		stress_sleep_us(RTE_MIN(left, 500u));
		left -= RTE_MIN(left, 500u);
	} while (left > 0);
}

static void
client_round(struct stress_thread *t)
{
	struct stress *st = t->st;
	unsigned int sock = pick_sock(&t->rng);
	struct rte_vhost_pci_client *c;
	uint8_t uuid[16], srv[16];
	uint64_t u[2];
	int ret;

	u[0] = stress_rand(&t->rng);
	u[1] = stress_rand(&t->rng);
	memcpy(uuid, u, sizeof(uuid));
	uuid[6] = (uuid[6] & 0x0f) | 0x40;	/* RFC 4122 version 4 */
	uuid[8] = (uuid[8] & 0x3f) | 0x80;
	stress_count(&st->v2_try);
	stress_where(st, t->idx, "client: connect");
	c = rte_vhost_pci_client_connect(st->sock[sock], uuid,
		RTE_BIT64(V2_PF_STATUS), &cl_ops, t);
	if (c == NULL)
		return;	/* no socket now, or it went away: not a fault */
	stress_count(&st->v2_ok);
	ret = rte_vhost_pci_client_server_uuid(c, srv);
	if (ret != 0 && ret != -ENOENT)
		stress_fault(st, SF_API, "client: rte_vhost_pci_client_server_uuid returned %d",
			ret);
	if (stress_below(&t->rng, 100) < CLIENT_UP_PCT) {
		stress_where(st, t->idx, "client: bring-up");
		if (cl_bringup(t, c, uuid) == 0) {
			stress_count(&st->v2_up);
			if (stress_below(&t->rng, 2)) {
				ret = rte_vhost_pci_client_set_peer_connection(c,
					true);
				if (ret > 1)
					stress_fault(st, SF_API, "client: rte_vhost_pci_client_set_peer_connection returned %d",
						ret);
			}
		} else {
			stress_count(&st->v2_up_fail);
		}
	}
	stress_where(st, t->idx, "client: hold");
	cl_hold(t, c, HOLD_MAX_US);
	stress_where(st, t->idx, "client: close");
	rte_vhost_pci_client_close(c);
}

void *
stress_client_thread(void *arg)
{
	struct stress_thread *t = arg;
	unsigned long r;

	for (r = 0; keep_going(t->st, r); r++) {
		client_round(t);
		stress_count(&t->st->progress);
	}
	stress_where(t->st, t->idx, "client: done");
	return NULL;
}
