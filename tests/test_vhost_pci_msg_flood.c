/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * test_vhost_pci_msg, checklist class 14 (message level): SET_LOG_BASE and
 * SET_LOG_FD, which the library refuses (it offers neither VHOST_F_LOG_ALL
 * nor VHOST_USER_PROTOCOL_F_LOG_SHMFD), and floods.
 *
 * A flood must leave the process as it found it: the same fds open, the
 * same number of mappings, and a resident set that grew by less than
 * FLOOD_RSS_MAX_KB. The figures are printed on "# flood:" lines.
 */

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "msg_common.h"

#define C14	"class 14 (messages): "

/* SET_LOG_BASE's payload (vhost-user: VhostUserLog). */
struct log_payload {
	uint64_t mmap_size;
	uint64_t mmap_offset;
};

#define LOG_MEMFD_NAME	"vhost-pci-test-log"
#define MEM_MEMFD_NAME	"vhost-pci-test-flood"
#define UNKNOWN_REQ	99u
/* The library's log types (lib/meson.build, vhost_pci_core.c). */
#define LOG_PATTERN	"lib.vhost_pci*"

/* Messages of the one-connection flood: FLOOD_ROUNDS rounds of
 * FLOOD_PER_ROUND, after FLOOD_WARMUP rounds that are not measured.
 */
#define FLOOD_PER_ROUND	10u
#define FLOOD_ROUNDS	10000u
#define FLOOD_WARMUP	100u
/* Connections of the connect/disconnect flood, after CHURN_WARMUP. */
#define CHURN_CONNS	2000u
#define CHURN_WARMUP	64u
/*
 * What a flood may add to the resident set. Nothing it does should keep
 * memory: the bound leaves room for allocator and page-cache noise only
 * (a malloc arena's top growing, page tables of re-placed mappings).
 * Measured growth (see the "# flood:" lines): 60-200 kB. A leak of one
 * 4 KiB metadata page per memory table, of 200 bytes per message or of
 * 1 KiB per connection exceeds it.
 */
#define FLOOD_RSS_MAX_KB	2048
/* ASan's quarantine keeps freed blocks resident (up to 256 MiB) and its
 * allocator maps more as it goes: there the resident set and the mappings
 * are printed, not checked (fds still are).
 */
#if defined(__SANITIZE_ADDRESS__)
#define FLOOD_MEM_CHECKED	0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FLOOD_MEM_CHECKED	0
#endif
#endif
#ifndef FLOOD_MEM_CHECKED
#define FLOOD_MEM_CHECKED	1
#endif
/* A reply from the control thread: a liveness guard, not a timing. */
#define REPLY_WAIT_MS		10000

/* ---- process figures ---- */

struct figures {
	int fds;
	int maps;
	long rss_kb;
};

/* VmRSS of /proc/self/status in kB, or -1. */
static long
rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return FAIL("/proc/self/status: %s", strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	if (kb < 0)
		return FAIL("no VmRSS in /proc/self/status");
	return kb;
}

/* Lines of /proc/self/maps, those naming @what if not NULL; or -1. */
static int
count_maps(const char *what)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (f == NULL)
		return FAIL("/proc/self/maps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL)
		if (what == NULL || strstr(line, what) != NULL)
			n++;
	fclose(f);
	return n;
}

static int
figures_get(struct figures *g)
{
	g->fds = count_fds();
	TRYR(g->fds);
	g->maps = count_maps(NULL);
	TRYR(g->maps);
	g->rss_kb = rss_kb();
	return g->rss_kb < 0 ? -1 : 0;
}

/* Print the figures; fail unless fds and mappings are unchanged and the
 * resident set grew by less than FLOOD_RSS_MAX_KB.
 */
static int
figures_check(const char *what, const struct figures *a,
		const struct figures *b)
{
	printf("# flood: %s: fds %d -> %d, mappings %d -> %d, VmRSS %ld -> %ld kB (%+ld kB, bound %d kB%s)\n",
		what, a->fds, b->fds, a->maps, b->maps, a->rss_kb, b->rss_kb,
		b->rss_kb - a->rss_kb, FLOOD_RSS_MAX_KB,
		FLOOD_MEM_CHECKED ? "" :
		"; ASan: VmRSS and mappings not checked");
	fflush(stdout);
	if (b->fds != a->fds)
		return FAIL("%s: %d fds open, %d before", what, b->fds, a->fds);
	if (!FLOOD_MEM_CHECKED)
		return 0;
	if (b->maps != a->maps)
		return FAIL("%s: %d mappings, %d before", what, b->maps,
			a->maps);
	if (b->rss_kb - a->rss_kb >= FLOOD_RSS_MAX_KB)
		return FAIL("%s: VmRSS grew by %ld kB (%ld -> %ld), bound %d",
			what, b->rss_kb - a->rss_kb, a->rss_kb, b->rss_kb,
			FLOOD_RSS_MAX_KB);
	return 0;
}

/* ---- SET_LOG_BASE / SET_LOG_FD ---- */

static int
t_log_not_offered(const void *arg __rte_unused)
{
	struct fe f;
	uint64_t v;
	int rc = -1;

	TRY(fe_init(&f, 1));
	TRY(fe_get_u64(&f, VHOST_USER_GET_FEATURES, &v));
	EXPECT(!(v & RTE_BIT64(F_LOG_ALL)),
		"GET_FEATURES 0x%" PRIx64 " offers LOG_ALL", v);
	TRY(fe_get_u64(&f, VHOST_USER_GET_PROTOCOL_FEATURES, &v));
	EXPECT(!(v & RTE_BIT64(PF_LOG_SHMFD)),
		"GET_PROTOCOL_FEATURES 0x%" PRIx64 " offers LOG_SHMFD", v);
	rc = 0;
out:
	fe_fini(&f);
	return rc;
}

/* SET_LOG_BASE with @p (@len bytes) and a 1 MiB memfd; @ack: NEED_REPLY
 * (REPLY_ACK is negotiated) and the ack must be 1, else no reply at all.
 */
static int
send_log_base(struct fe *f, const void *p, uint32_t len, bool ack)
{
	int fd = make_memfd(LOG_MEMFD_NAME, MIB);

	TRYR(fd);
	TRYR(fe_ok(f, fe_send(f, VHOST_USER_SET_LOG_BASE,
		ack ? V1 | F_NEED_REPLY : V1, p, len, &fd, 1)));
	return ack ? fe_ack(f, VHOST_USER_SET_LOG_BASE, 1) : fe_no_reply(f);
}

/*
 * SET_LOG_BASE whose mmap_size and mmap_offset overflow 64 bits, each with
 * an fd: refused (REPLY_ACK 1, or silence), the connection stays open, the
 * fds are closed and the log memfd is mapped nowhere; SET_LOG_FD likewise.
 * The same after bring-up, where a log would matter.
 */
static int
t_log_base_refused(const void *arg __rte_unused)
{
	static const struct log_payload bad[] = {
		{ UINT64_MAX, UINT64_MAX - 0xfff },
		{ MIB, UINT64_MAX - 0xfff },
		{ UINT64_MAX - 0xfff, 0x2000 },
		{ 1ull << 63, 1ull << 63 },
		{ MIB, 0 },	/* fits: still no log without LOG_ALL */
	};
	const uint64_t old_form = 0;	/* the u64 of older vhost-user specs */
	struct figures a, b;
	unsigned int i;
	uint64_t v;
	struct fe f;
	int fd, rc = -1;

	TRY(fe_init(&f, 1));
	TRY(figures_get(&a));
	TRY(fe_ok(&f, send_u64(&f, VHOST_USER_SET_PROTOCOL_FEATURES, V1,
		FE_PFEATURES, NULL, 0)));
	for (i = 0; i < RTE_DIM(bad); i++) {
		TRY(send_log_base(&f, &bad[i], sizeof(bad[i]), true));
		TRY(send_log_base(&f, &bad[i], sizeof(bad[i]), false));
	}
	TRY(send_log_base(&f, &old_form, sizeof(old_form), true));
	fd = make_memfd(LOG_MEMFD_NAME, MIB);
	TRY(fd);
	TRY(fe_ok(&f, fe_send(&f, VHOST_USER_SET_LOG_FD, V1 | F_NEED_REPLY,
		NULL, 0, &fd, 1)));
	TRY(fe_ack(&f, VHOST_USER_SET_LOG_FD, 1));
	/* Once the device is up, where dirty logging would start. */
	TRY(bringup(&f, &std_region));
	for (i = 0; i < RTE_DIM(bad); i++)
		TRY(send_log_base(&f, &bad[i], sizeof(bad[i]), true));
	TRY(fe_get_u64(&f, VHOST_USER_GET_FEATURES, &v));
	EXPECT(f.log.new_device == 1 && f.log.destroy_device == 0,
		"new_device %d destroy_device %d, want 1 0: a refused SET_LOG_BASE changed the device",
		f.log.new_device, f.log.destroy_device);
	EXPECT(count_maps("memfd:" LOG_MEMFD_NAME) == 0,
		"a log memfd is mapped (%d mappings)",
		count_maps("memfd:" LOG_MEMFD_NAME));
	fe_fini(&f);
	TRY(fe_init(&f, 1));
	TRY(figures_get(&b));
	EXPECT(b.fds == a.fds, "%d fds open, %d before the SET_LOG_BASEs",
		b.fds, a.fds);
	EXPECT(b.maps == a.maps, "%d mappings, %d before the SET_LOG_BASEs",
		b.maps, a.maps);
	rc = 0;
out:
	fe_fini(&f);
	return rc;
}

/* ---- one connection, many messages ---- */

/* A fresh 4 MiB memfd as the one region, NEED_REPLY, acked 0. */
static int
flood_mem_table(struct fe *f)
{
	struct vhost_pci_mem_region r = wire_region(&std_region);
	int fd = make_memfd(MEM_MEMFD_NAME, std_region.file_size);

	TRYR(fd);
	TRYR(fe_ok(f, send_mem_table(f, V1 | F_NEED_REPLY, 1, &r, 1, &fd, 1)));
	return fe_ack(f, VHOST_USER_SET_MEM_TABLE, 0);
}

/* A u64 request for vring @i with a fresh eventfd. */
static int
flood_vring_fd(struct fe *f, uint32_t req, uint32_t i)
{
	int fd = new_eventfd();

	TRYR(fd);
	return fe_ok(f, send_u64(f, req, V1, i, &fd, 1));
}

/* Requests the library refuses, each with fds: a NACK each. */
static int
flood_refused(struct fe *f)
{
	static const struct log_payload lp = {
		UINT64_MAX, UINT64_MAX - 0xfff,
	};
	int fds[2];

	TRYR(send_log_base(f, &lp, sizeof(lp), true));
	fds[0] = new_eventfd();
	TRYR(fds[0]);
	fds[1] = make_memfd(MEM_MEMFD_NAME, MIB);
	if (fds[1] < 0) {
		close(fds[0]);
		return -1;
	}
	TRYR(fe_ok(f, fe_send(f, UNKNOWN_REQ, V1 | F_NEED_REPLY, &lp,
		sizeof(lp), fds, 2)));
	return fe_ack(f, UNKNOWN_REQ, 1);
}

/* One round: FLOOD_PER_ROUND messages on a brought-up device. */
static int
flood_round(struct fe *f, uint32_t r)
{
	uint64_t v;
	int i;

	for (i = 0; i < 4; i++)
		TRYR(fe_get_u64(f, VHOST_USER_GET_FEATURES, &v));
	TRYR(flood_vring_fd(f, VHOST_USER_SET_VRING_CALL, r & 1));
	TRYR(flood_vring_fd(f, VHOST_USER_SET_VRING_KICK, r & 1));
	TRYR(flood_refused(f));			/* 2 messages */
	return flood_mem_table(f);
}

static int
t_flood_one_conn(const void *arg __rte_unused)
{
	struct figures a, b;
	char what[128];
	struct fe f;
	uint32_t r;
	int rc = -1;

	TRY(fe_init(&f, 1));
	TRY(bringup(&f, &std_region));
	for (r = 0; r < FLOOD_WARMUP; r++)
		TRY(flood_round(&f, r));
	TRY(figures_get(&a));
	/* The warm-up logged one of each; 50000 lines say no more. */
	rte_log_set_level_pattern(LOG_PATTERN, RTE_LOG_ERR);
	for (r = 0; r < FLOOD_ROUNDS; r++)
		TRY(flood_round(&f, r));
	TRY(figures_get(&b));
	snprintf(what, sizeof(what), "%u messages on one connection",
		FLOOD_ROUNDS * FLOOD_PER_ROUND);
	TRY(figures_check(what, &a, &b));
	printf("# flood: the device went down and up %d times\n",
		f.log.destroy_device);
	/* Each new memory table, call or kick fd restarts the device. */
	EXPECT(f.log.new_device == f.log.destroy_device + 1,
		"new_device %d, destroy_device %d: the device is not up",
		f.log.new_device, f.log.destroy_device);
	EXPECT(count_maps("memfd:" MEM_MEMFD_NAME) == 1,
		"%d mappings of flood memfds, want 1 (the last table)",
		count_maps("memfd:" MEM_MEMFD_NAME));
	rc = 0;
out:
	fe_fini(&f);
	return rc;
}

/* ---- many connections to a live server ---- */

struct churn_log {
	int new_device;
	int destroy_device;
};

static int
churn_new_device(int vid __rte_unused, void *ctx)
{
	struct churn_log *l = ctx;

	__atomic_fetch_add(&l->new_device, 1, __ATOMIC_RELAXED);
	return 0;
}

static void
churn_destroy_device(int vid __rte_unused,
		void *ctx)
{
	struct churn_log *l = ctx;

	__atomic_fetch_add(&l->destroy_device, 1, __ATOMIC_RELAXED);
}

static void
churn_vring_state_changed(int vid __rte_unused,
		uint16_t vring __rte_unused, int enable __rte_unused,
		void *ctx __rte_unused)
{
}

static const struct rte_vhost_pci_ops churn_ops = {
	.new_device = churn_new_device,
	.destroy_device = churn_destroy_device,
	.vring_state_changed = churn_vring_state_changed,
};

struct churn {
	char path[108];
	struct churn_log log;
	bool eal;
	bool registered;
};

static int
churn_up(struct churn *c)
{
	const char *run = getenv("VPCI_RUN");
	const char *pfx = getenv("VPCI_PFX");
	char args[][96] = {
		"test_vhost_pci_msg", "--no-huge", "-m", "64", "--no-pci",
		"--no-shconf", "--no-telemetry", "-l", "0",
		"--file-prefix=",
	};
	char *argv[RTE_DIM(args)];
	unsigned int i;
	int ret;

	memset(c, 0, sizeof(*c));
	snprintf(args[RTE_DIM(args) - 1], sizeof(args[0]),
		"--file-prefix=%s-msgflood-%d", pfx != NULL ? pfx : "vpci",
		(int)getpid());
	for (i = 0; i < RTE_DIM(args); i++)
		argv[i] = args[i];
	if (rte_eal_init(RTE_DIM(argv), argv) < 0)
		return FAIL("rte_eal_init: %s", rte_strerror(rte_errno));
	c->eal = true;
	snprintf(c->path, sizeof(c->path), "%s/t-msg-churn-%d.sock",
		run != NULL ? run : "/tmp", (int)getpid());
	unlink(c->path);
	ret = rte_vhost_pci_server_register(c->path, 0, 1, &churn_ops,
		&c->log);
	if (ret != 0)
		return FAIL("rte_vhost_pci_server_register(%s): %d", c->path,
			ret);
	c->registered = true;
	return 0;
}

static void
churn_down(struct churn *c)
{
	if (c->registered)
		rte_vhost_pci_server_unregister(c->path);
	unlink(c->path);
	if (c->eal)
		rte_eal_cleanup();
}

static int
churn_connect(const struct churn *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return FAIL("socket: %s", strerror(errno));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return FAIL("connect %s: %s", c->path, strerror(errno));
	}
	return fd;
}

/* A v1 message with @fds (closed in any case). */
static int
churn_send(int sock, uint32_t req, uint32_t flags, const void *pl,
		uint32_t len, const int *fds, unsigned int nfds)
{
	struct vhost_pci_hdr_v1 h = {
		.request = req, .flags = flags, .size = len,
	};
	uint8_t buf[sizeof(h) + 64];

	if (len > sizeof(buf) - sizeof(h))
		return FAIL("payload of %u bytes: test limit", len);
	memcpy(buf, &h, sizeof(h));
	if (len > 0)
		memcpy(buf + sizeof(h), pl, len);
	return send_raw(sock, buf, sizeof(h) + len, fds, nfds, true);
}

/* Wait for the server's reply (or EOF): a liveness guard only. */
static int
churn_wait(int sock)
{
	struct pollfd p = { .fd = sock, .events = POLLIN };
	int ret;

	do {
		ret = poll(&p, 1, REPLY_WAIT_MS);
	} while (ret < 0 && errno == EINTR);
	if (ret <= 0)
		return FAIL("no answer from the server in %d ms (%s)",
			REPLY_WAIT_MS, ret < 0 ? strerror(errno) : "timeout");
	return 0;
}

/* Read a reply to @req whose u64 must be @want; @want < 0: any value. */
static int
churn_reply(int sock, uint32_t req, int64_t want)
{
	struct {
		struct vhost_pci_hdr_v1 h;
		uint64_t v;
	} __rte_packed r;
	ssize_t n;

	TRYR(churn_wait(sock));
	n = recv(sock, &r, sizeof(r), MSG_WAITALL);
	if (n != (ssize_t)sizeof(r))
		return FAIL("reply to request %u: recv %zd", req, n);
	if (r.h.request != req || r.h.flags != (V1 | F_REPLY) ||
			r.h.size != sizeof(r.v))
		return FAIL("reply: request %u flags 0x%x size %u, want %u",
			r.h.request, r.h.flags, r.h.size, req);
	if (want >= 0 && r.v != (uint64_t)want)
		return FAIL("reply to request %u is %" PRIu64 ", want %" PRId64,
			req, r.v, want);
	return 0;
}

/* The server must close the connection: EOF. */
static int
churn_eof(int sock)
{
	uint8_t b;
	ssize_t n;

	TRYR(churn_wait(sock));
	n = recv(sock, &b, 1, 0);
	if (n != 0)
		return FAIL("connection still open after a bad message (recv %zd)",
			n);
	return 0;
}

/*
 * Connection @i: GET_FEATURES, then by i % 4: nothing more; a memory table
 * and a call fd; a refused SET_LOG_BASE with an fd; a bad message with an
 * fd, which makes the server close. Then the test closes.
 */
static int
churn_one(const struct churn *c, uint32_t i)
{
	static const struct log_payload lp = { UINT64_MAX, UINT64_MAX };
	struct vhost_pci_mem_table mt = { .nregions = 1 };
	struct vhost_pci_mem_region r = wire_region(&std_region);
	uint8_t buf[sizeof(mt) + sizeof(r)];
	uint64_t v = RTE_BIT64(PF_REPLY_ACK);
	int sock, fd, rc = -1;

	sock = churn_connect(c);
	TRYR(sock);
	TRY(churn_send(sock, VHOST_USER_GET_FEATURES, V1, NULL, 0, NULL, 0));
	TRY(churn_reply(sock, VHOST_USER_GET_FEATURES, -1));
	if (i % 4 == 1 || i % 4 == 2)
		TRY(churn_send(sock, VHOST_USER_SET_PROTOCOL_FEATURES, V1, &v,
			sizeof(v), NULL, 0));
	fd = -1;
	switch (i % 4) {
	case 1:
		memcpy(buf, &mt, sizeof(mt));
		memcpy(buf + sizeof(mt), &r, sizeof(r));
		TRY(fd = make_memfd(MEM_MEMFD_NAME, std_region.file_size));
		TRY(churn_send(sock, VHOST_USER_SET_MEM_TABLE,
			V1 | F_NEED_REPLY, buf, sizeof(buf), &fd, 1));
		TRY(churn_reply(sock, VHOST_USER_SET_MEM_TABLE, 0));
		v = 0;
		TRY(fd = new_eventfd());
		TRY(churn_send(sock, VHOST_USER_SET_VRING_CALL, V1, &v,
			sizeof(v), &fd, 1));
		break;
	case 2:
		TRY(fd = make_memfd(LOG_MEMFD_NAME, MIB));
		TRY(churn_send(sock, VHOST_USER_SET_LOG_BASE,
			V1 | F_NEED_REPLY, &lp, sizeof(lp), &fd, 1));
		TRY(churn_reply(sock, VHOST_USER_SET_LOG_BASE, 1));
		break;
	case 3:
		v = FE_FEATURES;
		TRY(fd = new_eventfd());
		TRY(churn_send(sock, VHOST_USER_SET_FEATURES, V1, &v,
			sizeof(v), &fd, 1));
		TRY(churn_eof(sock));
		break;
	default:
		break;
	}
	rc = 0;
out:
	close(sock);
	return rc;
}

/* Wait until the server closed every connection: the fd count is back to
 * @want (a liveness guard: the comparison is the caller's). The count it
 * settled at, or -1.
 */
static int
churn_settle(int want)
{
	const struct timespec ms = { .tv_nsec = 1000000 };
	int i, n = -1;

	for (i = 0; i < REPLY_WAIT_MS; i++) {
		n = count_fds();
		if (n < 0 || n == want)
			return n;
		nanosleep(&ms, NULL);
	}
	return n;
}

static int
t_flood_connections(const void *arg __rte_unused)
{
	struct figures a, b;
	char what[128];
	struct churn c;
	uint32_t i;
	int base, rc = -1;

	TRY(churn_up(&c));
	base = count_fds();
	TRY(base);
	for (i = 0; i < CHURN_WARMUP; i++)
		TRY(churn_one(&c, i));
	TRY(churn_settle(base));
	TRY(figures_get(&a));
	/* The warm-up logged each kind; the bad messages' errors too. */
	rte_log_set_level_pattern(LOG_PATTERN, RTE_LOG_CRIT);
	for (i = 0; i < CHURN_CONNS; i++)
		TRY(churn_one(&c, i));
	TRY(churn_settle(a.fds));
	TRY(figures_get(&b));
	snprintf(what, sizeof(what),
		"%u connections opened and closed on a live server",
		CHURN_CONNS);
	TRY(figures_check(what, &a, &b));
	EXPECT(c.log.new_device == 0, "new_device called %d times",
		c.log.new_device);
	rc = 0;
out:
	churn_down(&c);
	return rc;
}

const struct check msg_flood_checks[] = {
	{ C14 "GET_FEATURES offers no LOG_ALL, GET_PROTOCOL_FEATURES no LOG_SHMFD",
		t_log_not_offered, NULL },
	{ C14 "SET_LOG_BASE with an fd and mmap_size/offset overflowing 2^64, and SET_LOG_FD, are refused: connection open, fds closed, nothing mapped",
		t_log_base_refused, NULL },
	{ C14 "flood of 100000 messages on one connection (GET_FEATURES, call/kick fds, refused requests with fds, SET_MEM_TABLE with fresh memfds): fds and mappings unchanged, VmRSS flat",
		t_flood_one_conn, NULL },
	{ C14 "flood of 2000 connections opened and closed on a live server (memory tables, fds, refused and bad messages): fds and mappings unchanged, VmRSS flat",
		t_flood_connections, NULL },
};

const unsigned int n_msg_flood_checks = RTE_DIM(msg_flood_checks);
