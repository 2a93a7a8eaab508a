/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * Unit tests of the vhost-user (version 0x01) control plane.
 *
 * The test plays the front-end on one end of a socketpair and drives the
 * library's end by hand with vhost_pci_conn_process(): no EAL, no control
 * thread. Every check runs in a child process of its own, so that a crash
 * in the library shows up as "not ok" for that check and the run goes on.
 *
 * Output: one "ok - <name>" or "not ok - <name>" line per check (with a
 * "# reason" line on failure), then "# <n> passed, <m> failed".
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

#include "harness.h"
#include "vhost_pci_private.h"

/* Header flags, feature bits and metadata values, from the specifications
 * rather than from the library, so that a wrong library constant shows.
 */
#define V1			0x1u
#define F_REPLY			0x4u
#define F_NEED_REPLY		0x8u
#define F_MRG_RXBUF		15
#define F_PROTOCOL_FEATURES	30
#define F_VERSION_1		32
#define F_CTRL_VQ		17	/* never offered */
#define PF_MQ			0
#define PF_REPLY_ACK		3
#define PF_STATUS		16
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

static int
cb_new_device(struct rte_vhost_pci_device *dev __rte_unused, void *ctx)
{
	struct cb_log *log = ctx;

	log->new_device++;
	return log->new_device_ret;
}

static void
cb_destroy_device(struct rte_vhost_pci_device *dev, void *ctx)
{
	struct cb_log *log = ctx;

	log->destroy_device++;
	if (log->writeback >= 0)
		rte_vhost_pci_vring_writeback(dev, 0, log->writeback,
			log->writeback);
}

static void
cb_vring_state_changed(struct rte_vhost_pci_device *dev __rte_unused,
		uint16_t vring __rte_unused, int enable __rte_unused, void *ctx)
{
	struct cb_log *log = ctx;

	log->vring_state_changed++;
}

static const struct rte_vhost_pci_ops test_ops = {
	.new_device = cb_new_device,
	.destroy_device = cb_destroy_device,
	.vring_state_changed = cb_vring_state_changed,
};

/* ---- the test front-end ---- */

struct fe {
	struct vhost_pci_endpoint ep;
	struct vhost_pci_conn *c;
	int sock;		/* front-end end of the socketpair */
	uint32_t last_req;
	uint8_t *mem;		/* the test's own mapping of the memfd */
	size_t mem_len;
	struct cb_log log;
};

static int
fe_init(struct fe *f, uint16_t max_queue_pairs)
{
	int sv[2];

	memset(f, 0, sizeof(*f));
	f->sock = -1;
	f->log.writeback = -1;
	vhost_pci_endpoint_init(&f->ep, "test", 0, max_queue_pairs,
		&test_ops, &f->log);
	/* Listed as a registered server's would be (each check is a child
	 * process of its own, so the list dies with it).
	 */
	vhost_pci_endpoint_add(&f->ep);
	TRYR(new_socketpair(SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, sv));
	f->c = vhost_pci_conn_create(&f->ep, sv[0]);
	if (f->c == NULL) {
		close(sv[0]);
		close(sv[1]);
		return FAIL("vhost_pci_conn_create failed");
	}
	f->sock = sv[1];
	return 0;
}

static void
fe_fini(struct fe *f)
{
	if (f->c != NULL)
		vhost_pci_conn_free(f->c);
	if (f->sock >= 0)
		close(f->sock);
	if (f->mem != NULL)
		munmap(f->mem, f->mem_len);
	f->c = NULL;
	f->sock = -1;
	f->mem = NULL;
}

/* The one message builder: a v1 header and @len bytes of payload. The
 * test's copies of the fds are closed in any case: from here on they
 * belong to the library.
 */
static int
fe_send(struct fe *f, uint32_t req, uint32_t flags, const void *pl,
		uint32_t len, const int *fds, unsigned int nfds)
{
	struct vhost_pci_hdr_v1 h = {
		.request = req, .flags = flags, .size = len,
	};
	uint8_t buf[sizeof(h) + 512];

	if (len > sizeof(buf) - sizeof(h))
		return FAIL("payload of %u bytes: test limit", len);
	memcpy(buf, &h, sizeof(h));
	if (len > 0)
		memcpy(buf + sizeof(h), pl, len);
	f->last_req = req;
	return send_raw(f->sock, buf, sizeof(h) + len, fds, nfds, true);
}

static int
send_u64(struct fe *f, uint32_t req, uint32_t flags, uint64_t v,
		const int *fds, unsigned int nfds)
{
	return fe_send(f, req, flags, &v, sizeof(v), fds, nfds);
}

static int
send_state(struct fe *f, uint32_t req, uint32_t flags, uint32_t index,
		uint32_t num)
{
	struct vhost_pci_vring_state s = { .index = index, .num = num };

	return fe_send(f, req, flags, &s, sizeof(s), NULL, 0);
}

static int
send_none(struct fe *f, uint32_t req, uint32_t flags)
{
	return fe_send(f, req, flags, NULL, 0, NULL, 0);
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
		return FAIL("request %u (%s) closed the connection",
			f->last_req, vhost_pci_req_name(V1, f->last_req));
	return 0;
}

/* Read one reply to @req with exactly @len bytes of payload. */
static int
fe_reply(struct fe *f, uint32_t req, void *pl, uint32_t len)
{
	struct vhost_pci_hdr_v1 h;
	ssize_t n;

	n = recv(f->sock, &h, sizeof(h), MSG_DONTWAIT);
	if (n != (ssize_t)sizeof(h))
		return FAIL("no reply to request %u (recv %zd)", req, n);
	if (h.request != req || h.flags != (V1 | F_REPLY) || h.size != len)
		return FAIL("reply: request %u flags 0x%x size %u, want %u 0x%x %u",
			h.request, h.flags, h.size, req, V1 | F_REPLY, len);
	n = recv(f->sock, pl, len, MSG_DONTWAIT);
	if (n != (ssize_t)len)
		return FAIL("reply to %u: payload recv %zd of %u", req, n, len);
	return 0;
}

static int
fe_no_reply(struct fe *f)
{
	uint8_t b;
	ssize_t n = recv(f->sock, &b, 1, MSG_DONTWAIT);

	if (n >= 0)
		return FAIL("unexpected bytes from the library (recv %zd)", n);
	return 0;
}

/* REPLY_ACK: the u64 status of the last request. */
static int
fe_ack(struct fe *f, uint32_t req, uint64_t want)
{
	uint64_t v;

	TRYR(fe_reply(f, req, &v, sizeof(v)));
	if (v != want)
		return FAIL("ack of request %u is %" PRIu64 ", want %" PRIu64,
			req, v, want);
	return 0;
}

/* A GET_* request without payload and its u64 reply. */
static int
fe_get_u64(struct fe *f, uint32_t req, uint64_t *v)
{
	TRYR(fe_ok(f, send_none(f, req, V1)));
	return fe_reply(f, req, v, sizeof(*v));
}

/* ---- memory ---- */

struct region_spec {
	uint64_t gpa;
	uint64_t uaddr;
	uint64_t size;
	uint64_t mmap_offset;
	uint64_t file_size;	/* of the memfd behind it */
};

static const struct region_spec std_region = {
	.gpa = GPA, .uaddr = GPA, .size = 4 * MIB, .file_size = 4 * MIB,
};

static struct vhost_pci_mem_region
wire_region(const struct region_spec *s)
{
	return (struct vhost_pci_mem_region){
		.guest_phys_addr = s->gpa,
		.memory_size = s->size,
		.userspace_addr = s->uaddr,
		.mmap_offset = s->mmap_offset,
	};
}

/* SET_MEM_TABLE announcing @nregions, carrying @n region entries. */
static int
send_mem_table(struct fe *f, uint32_t flags, uint32_t nregions,
		const struct vhost_pci_mem_region *r, uint32_t n,
		const int *fds, unsigned int nfds)
{
	struct vhost_pci_mem_table mt = { .nregions = nregions };
	uint8_t buf[sizeof(mt) + 9 * sizeof(*r)];

	if (n > 9)
		return FAIL("%u regions: test limit", n);
	memcpy(buf, &mt, sizeof(mt));
	if (n > 0)
		memcpy(buf + sizeof(mt), r, n * sizeof(*r));
	return fe_send(f, VHOST_USER_SET_MEM_TABLE, flags, buf,
		sizeof(mt) + n * sizeof(*r), fds, nfds);
}

/* SET_MEM_TABLE of @n regions, each backed by a memfd of its own. */
static int
send_regions(struct fe *f, const struct region_spec *s, uint32_t n)
{
	struct vhost_pci_mem_region r[VHOST_PCI_MAX_MEM_REGIONS];
	int fds[VHOST_PCI_MAX_MEM_REGIONS];
	uint32_t i, j;

	for (i = 0; i < n; i++) {
		fds[i] = make_memfd(MEMFD_NAME, s[i].file_size);
		if (fds[i] < 0) {
			for (j = 0; j < i; j++)
				close(fds[j]);
			return -1;
		}
		r[i] = wire_region(&s[i]);
	}
	return send_mem_table(f, V1, n, r, n, fds, n);
}

/* Share one region (NEED_REPLY, acked); the test maps the memfd too. */
static int
fe_share_memory(struct fe *f, const struct region_spec *s)
{
	struct vhost_pci_mem_region r = wire_region(s);
	int fd = map_memfd(MEMFD_NAME, s->file_size, &f->mem);

	TRYR(fd);
	f->mem_len = s->file_size;
	TRYR(fe_ok(f, send_mem_table(f, V1 | F_NEED_REPLY, 1, &r, 1, &fd, 1)));
	return fe_ack(f, VHOST_USER_SET_MEM_TABLE, 0);
}

/* ---- bring-up, as a virtio-user front-end does it ---- */

static uint64_t
ring_uaddr(const struct region_spec *s, uint32_t i)
{
	return s->uaddr + (uint64_t)i * RING_STRIDE;
}

/* Ring layout: desc (16 * 256 bytes), avail at +4 KiB, used at +8 KiB. */
/* Size, base and addresses of vring @i; no kick yet. */
static int
setup_vring_nokick(struct fe *f, const struct region_spec *s, uint32_t i)
{
	struct vhost_pci_vring_addr a = {
		.index = i,
		.desc_user_addr = ring_uaddr(s, i),
		.avail_user_addr = ring_uaddr(s, i) + 0x1000,
		.used_user_addr = ring_uaddr(s, i) + 0x2000,
	};

	TRYR(fe_ok(f, send_state(f, VHOST_USER_SET_VRING_NUM, V1, i,
		RING_SIZE)));
	TRYR(fe_ok(f, send_state(f, VHOST_USER_SET_VRING_BASE, V1, i, 0)));
	return fe_ok(f, fe_send(f, VHOST_USER_SET_VRING_ADDR, V1, &a,
		sizeof(a), NULL, 0));
}

static int
setup_vring(struct fe *f, const struct region_spec *s, uint32_t i)
{
	int kick;

	TRYR(setup_vring_nokick(f, s, i));
	kick = new_eventfd();
	TRYR(kick);
	return fe_ok(f, send_u64(f, VHOST_USER_SET_VRING_KICK, V1, i, &kick, 1));
}

/* Everything up to, not including, SET_STATUS. */
static int
bringup_rings(struct fe *f, const struct region_spec *s)
{
	uint64_t v;
	uint32_t i;
	int call;

	TRYR(fe_ok(f, send_none(f, VHOST_USER_SET_OWNER, V1)));
	TRYR(fe_get_u64(f, VHOST_USER_GET_FEATURES, &v));
	TRYR(fe_get_u64(f, VHOST_USER_GET_PROTOCOL_FEATURES, &v));
	TRYR(fe_ok(f, send_u64(f, VHOST_USER_SET_PROTOCOL_FEATURES, V1,
		FE_PFEATURES, NULL, 0)));
	for (i = 0; i < 2; i++) {
		call = new_eventfd();
		TRYR(call);
		TRYR(fe_ok(f, send_u64(f, VHOST_USER_SET_VRING_CALL, V1, i,
			&call, 1)));
	}
	TRYR(fe_ok(f, send_u64(f, VHOST_USER_SET_FEATURES, V1, FE_FEATURES,
		NULL, 0)));
	TRYR(fe_share_memory(f, s));
	for (i = 0; i < 2; i++)
		TRYR(setup_vring(f, s, i));
	for (i = 0; i < 2; i++)
		TRYR(fe_ok(f, send_state(f, VHOST_USER_SET_VRING_ENABLE, V1,
			i, 1)));
	return 0;
}

static int
send_status_ok(struct fe *f)
{
	return send_u64(f, VHOST_USER_SET_STATUS, V1 | F_NEED_REPLY, 0x0f,
		NULL, 0);
}

static int
bringup(struct fe *f, const struct region_spec *s)
{
	TRYR(bringup_rings(f, s));
	TRYR(fe_ok(f, send_status_ok(f)));
	TRYR(fe_ack(f, VHOST_USER_SET_STATUS, 0));
	return fe_no_reply(f);
}

static const struct rte_vhost_pci_meta *
fe_meta(const struct fe *f, uint64_t *bar_size)
{
	return (const void *)rte_vhost_pci_dev_bar(&f->c->dev, bar_size);
}

/* ---- good paths ---- */

static int
t_get_features(const void *arg __rte_unused)
{
	const uint64_t want = FE_FEATURES;
	struct fe f;
	uint64_t v;
	int rc = -1;

	TRY(fe_init(&f, 1));
	TRY(fe_get_u64(&f, VHOST_USER_GET_FEATURES, &v));
	EXPECT((v & want) == want, "features 0x%" PRIx64 " lack 0x%" PRIx64,
		v, want & ~v);
	rc = 0;
out:
	fe_fini(&f);
	return rc;
}

static int
t_get_protocol_features(const void *arg __rte_unused)
{
	const uint64_t want = FE_PFEATURES;
	struct fe f;
	uint64_t v;
	int rc = -1;

	TRY(fe_init(&f, 1));
	TRY(fe_get_u64(&f, VHOST_USER_GET_PROTOCOL_FEATURES, &v));
	EXPECT((v & want) == want, "protocol features 0x%" PRIx64
		" lack 0x%" PRIx64, v, want & ~v);
	rc = 0;
out:
	fe_fini(&f);
	return rc;
}

static int
t_get_queue_num(const void *arg __rte_unused)
{
	struct fe f;
	uint64_t v;
	int rc = -1;

	TRY(fe_init(&f, 4));
	TRY(fe_ok(&f, send_u64(&f, VHOST_USER_SET_PROTOCOL_FEATURES, V1,
		RTE_BIT64(PF_MQ), NULL, 0)));
	TRY(fe_get_u64(&f, VHOST_USER_GET_QUEUE_NUM, &v));
	EXPECT(v == 4, "GET_QUEUE_NUM replied %" PRIu64 ", want 4", v);
	rc = 0;
out:
	fe_fini(&f);
	return rc;
}

static int
t_bringup_new_device_once(const void *arg __rte_unused)
{
	struct fe f;
	int rc = -1;

	TRY(fe_init(&f, 1));
	TRY(bringup_rings(&f, &std_region));
	EXPECT(f.log.new_device == 0,
		"new_device called %d times before DRIVER_OK", f.log.new_device);
	TRY(fe_ok(&f, send_status_ok(&f)));
	TRY(fe_ack(&f, VHOST_USER_SET_STATUS, 0));
	TRY(fe_no_reply(&f));
	EXPECT(f.log.new_device == 1, "new_device called %d times",
		f.log.new_device);
	EXPECT(f.log.destroy_device == 0 && f.log.vring_state_changed == 0,
		"destroy_device %d, vring_state_changed %d",
		f.log.destroy_device, f.log.vring_state_changed);
	rc = 0;
out:
	fe_fini(&f);
	return rc;
}

static int
check_meta_vring(const struct rte_vhost_pci_meta *m, uint32_t i,
		const struct region_spec *s)
{
	const struct rte_vhost_pci_vring *v = &m->vring[i];
	uint64_t desc = s->gpa + (ring_uaddr(s, i) - s->uaddr);
	uint32_t want_flags = RTE_VHOST_PCI_VRING_F_READY |
		RTE_VHOST_PCI_VRING_F_ENABLED;

	if (v->size != RING_SIZE)
		return FAIL("vring[%u].size %u", i, v->size);
	if (v->desc != desc || v->avail != desc + 0x1000 ||
			v->used != desc + 0x2000)
		return FAIL("vring[%u] desc/avail/used 0x%" PRIx64 "/0x%" PRIx64
			"/0x%" PRIx64 ", want desc 0x%" PRIx64, i, v->desc,
			v->avail, v->used, desc);
	if (v->flags != want_flags)
		return FAIL("vring[%u].flags 0x%x, want 0x%x", i, v->flags,
			want_flags);
	return 0;
}

static int
check_meta(const struct fe *f, const struct region_spec *s)
{
	const struct rte_vhost_pci_meta *m;
	const struct rte_vhost_pci_region *r;
	uint64_t bar_size;

	m = fe_meta(f, &bar_size);
	if (m == NULL)
		return FAIL("no BAR after bring-up");
	r = &m->region[0];
	if (m->magic != META_MAGIC || m->version != 1)
		return FAIL("magic 0x%x version %u", m->magic, m->version);
	if (m->nregions != 1 || m->nvrings != 2 || m->bar_size != bar_size)
		return FAIL("nregions %u nvrings %u bar_size 0x%" PRIx64,
			m->nregions, m->nvrings, m->bar_size);
	if (m->status != RTE_VHOST_PCI_STATUS_READY ||
			m->features != FE_FEATURES)
		return FAIL("status 0x%x features 0x%" PRIx64, m->status,
			m->features);
	if (r->gpa != s->gpa || r->size != s->size)
		return FAIL("region gpa 0x%" PRIx64 " size 0x%" PRIx64,
			r->gpa, r->size);
	if (r->bar_offset < RTE_VHOST_PCI_META_SIZE ||
			r->bar_offset > bar_size || s->size > bar_size - r->bar_offset)
		return FAIL("region at BAR offset 0x%" PRIx64 " of 0x%" PRIx64,
			r->bar_offset, bar_size);
	TRYR(check_meta_vring(m, 0, s));
	return check_meta_vring(m, 1, s);
}

/* Bring up with @arg (a region_spec, or NULL for the standard one) and
 * check the metadata page.
 */
static int
t_bringup_meta(const void *arg)
{
	const struct region_spec *s = arg != NULL ? arg : &std_region;
	struct fe f;
	int rc = -1;

	TRY(fe_init(&f, 1));
	TRY(bringup(&f, s));
	TRY(check_meta(&f, s));
	rc = 0;
out:
	fe_fini(&f);
	return rc;
}

/*
 * Ring areas misaligned for virtio (desc 16, avail 2, used 4 bytes): the
 * ring is not published and the device detaches; aligned again, it comes
 * back. A misaligned index would make the driver's atomics split.
 */
static int
t_misaligned_ring(const void *arg __rte_unused)
{
	static const uint64_t skew[3][3] = {
		{ 8, 0, 0 }, { 0, 1, 0 }, { 0, 0, 2 },
	};
	const struct region_spec *s = &std_region;
	const struct rte_vhost_pci_meta *m;
	struct vhost_pci_vring_addr a;
	struct fe f;
	int rc = -1, k, good;

	TRY(fe_init(&f, 1));
	TRY(bringup(&f, s));
	for (k = 0; k < 6; k++) {
		good = k & 1;
		a.index = 1;
		a.flags = 0;
		a.log_guest_addr = 0;
		a.desc_user_addr = ring_uaddr(s, 1) +
			(good ? 0 : skew[k / 2][0]);
		a.avail_user_addr = ring_uaddr(s, 1) + 0x1000 +
			(good ? 0 : skew[k / 2][1]);
		a.used_user_addr = ring_uaddr(s, 1) + 0x2000 +
			(good ? 0 : skew[k / 2][2]);
		TRY(fe_ok(&f, fe_send(&f, VHOST_USER_SET_VRING_ADDR, V1, &a,
			sizeof(a), NULL, 0)));
		TRY(fe_get_u64(&f, VHOST_USER_GET_FEATURES, &a.desc_user_addr));
		m = fe_meta(&f, NULL);
		EXPECT(m != NULL, "no BAR");
		EXPECT(!!(m->vring[1].flags & RTE_VHOST_PCI_VRING_F_READY) ==
			good && !!(m->status & RTE_VHOST_PCI_STATUS_READY) == good,
			"%s desc/avail/used skew %" PRIu64 "/%" PRIu64 "/%" PRIu64
			": vring flags 0x%x, status 0x%x", good ? "aligned" :
			"misaligned", skew[k / 2][0], skew[k / 2][1],
			skew[k / 2][2], m->vring[1].flags, m->status);
	}
	EXPECT(f.log.new_device == 4 && f.log.destroy_device == 3,
		"new_device %d, destroy_device %d; want 4 and 3",
		f.log.new_device, f.log.destroy_device);
	rc = 0;
out:
	fe_fini(&f);
	return rc;
}

/* Byte @k of the region, seen from the test's memfd mapping and the BAR. */
static int
check_shared_byte(struct fe *f, const struct region_spec *s, uint64_t k,
		uint8_t val)
{
	const struct rte_vhost_pci_meta *m = fe_meta(f, NULL);
	volatile uint8_t *bar = (uint8_t *)(uintptr_t)m;
	volatile uint8_t *mine = f->mem + s->mmap_offset + k;
	volatile uint8_t *theirs = bar + m->region[0].bar_offset + k;
	uint8_t inv = ~val;

	*mine = val;
	if (*theirs != val)
		return FAIL("BAR byte 0x%" PRIx64 " is 0x%02x, memfd wrote 0x%02x",
			k, *theirs, val);
	*theirs = inv;
	if (*mine != inv)
		return FAIL("memfd byte 0x%" PRIx64 " is 0x%02x, BAR wrote 0x%02x",
			k, *mine, inv);
	return 0;
}

static int
t_bar_maps_memfd(const void *arg)
{
	const struct region_spec *s = arg != NULL ? arg : &std_region;
	struct fe f;
	uint64_t k;
	int rc = -1;

	TRY(fe_init(&f, 1));
	TRY(bringup(&f, s));
	EXPECT(fe_meta(&f, NULL) != NULL, "no BAR after bring-up");
	for (k = 0; k < s->size; k += 0x3fff1)
		TRY(check_shared_byte(&f, s, k, (uint8_t)(k * 7 + 1)));
	TRY(check_shared_byte(&f, s, s->size - 1, 0x5a));
	rc = 0;
out:
	fe_fini(&f);
	return rc;
}

/* GET_VRING_BASE 0 after bring-up; @arg: index destroy_device writes back. */
static int
t_get_vring_base(const void *arg)
{
	const int *writeback = arg;
	struct vhost_pci_vring_state st;
	uint32_t want = writeback != NULL ? (uint32_t)*writeback : 0;
	struct fe f;
	int rc = -1;

	TRY(fe_init(&f, 1));
	TRY(bringup(&f, &std_region));
	if (writeback != NULL)
		f.log.writeback = *writeback;
	TRY(fe_ok(&f, send_state(&f, VHOST_USER_GET_VRING_BASE, V1, 0, 0)));
	TRY(fe_reply(&f, VHOST_USER_GET_VRING_BASE, &st, sizeof(st)));
	EXPECT(f.log.destroy_device == 1, "destroy_device called %d times",
		f.log.destroy_device);
	EXPECT(st.index == 0 && st.num == want,
		"reply index %u num %u, want 0 %u", st.index, st.num, want);
	EXPECT(rte_vhost_pci_vring_kickfd(&f.c->dev, 0) < 0,
		"vring 0 still has a kick fd after GET_VRING_BASE");
	EXPECT(fe_meta(&f, NULL)->status == 0, "metadata status 0x%x",
		fe_meta(&f, NULL)->status);
	rc = 0;
out:
	fe_fini(&f);
	return rc;
}

static int
t_unsupported_nack(const void *arg __rte_unused)
{
	struct fe f;
	uint64_t v;
	int fd, rc = -1;

	TRY(fe_init(&f, 1));
	TRY(fe_ok(&f, send_u64(&f, VHOST_USER_SET_PROTOCOL_FEATURES, V1,
		RTE_BIT64(PF_REPLY_ACK), NULL, 0)));
	fd = make_memfd(MEMFD_NAME, MIB);
	TRY(fd);
	TRY(fe_ok(&f, send_u64(&f, VHOST_USER_SET_LOG_BASE, V1 | F_NEED_REPLY,
		0, &fd, 1)));
	TRY(fe_ack(&f, VHOST_USER_SET_LOG_BASE, 1));
	TRY(fe_ok(&f, send_none(&f, 99, V1 | F_NEED_REPLY)));
	TRY(fe_ack(&f, 99, 1));
	TRY(fe_ok(&f, send_none(&f, 99, V1)));
	TRY(fe_no_reply(&f));
	TRY(fe_get_u64(&f, VHOST_USER_GET_FEATURES, &v));
	EXPECT(f.log.new_device == 0, "new_device called");
	rc = 0;
out:
	fe_fini(&f);
	return rc;
}

/* ---- back-end channel, in-band notifications, backend specs ---- */

#define PF_BACKEND_REQ	5
#define PF_INBAND	14
#define PF_STANDALONE	18

/* Negotiate @pf and hand the library one end of a back-end channel. */
static int
fe_backend_channel(struct fe *f, uint64_t pf, int *chan)
{
	int sv[2];

	TRYR(fe_ok(f, send_u64(f, VHOST_USER_SET_PROTOCOL_FEATURES, V1, pf,
		NULL, 0)));
	TRYR(new_socketpair(SOCK_STREAM | SOCK_CLOEXEC, sv));
	*chan = sv[0];
	/* fe_send() closes the fds it sends. */
	TRYR(fe_ok(f, fe_send(f, VHOST_USER_SET_BACKEND_REQ_FD,
		V1 | F_NEED_REPLY, NULL, 0, &sv[1], 1)));
	return fe_ack(f, VHOST_USER_SET_BACKEND_REQ_FD, 0);
}

/* Read one back-end request from the channel. */
static int
chan_read(int chan, uint32_t want_req, uint32_t want_vring)
{
	struct vhost_pci_vring_state st;
	struct vhost_pci_hdr_v1 h;

	if (recv(chan, &h, sizeof(h), MSG_DONTWAIT) != (ssize_t)sizeof(h))
		return FAIL("nothing on the back-end channel");
	if (h.request != want_req || h.flags != V1 || h.size != sizeof(st))
		return FAIL("back-end request %u flags 0x%x size %u, want %u 0x1 8",
			h.request, h.flags, h.size, want_req);
	if (recv(chan, &st, sizeof(st), MSG_DONTWAIT) != (ssize_t)sizeof(st))
		return FAIL("back-end request payload missing");
	if (st.index != want_vring || st.num != 0)
		return FAIL("back-end request for vring %u num %u, want %u 0",
			st.index, st.num, want_vring);
	return 0;
}

/* A ring given no call/err fd under in-band notifications gets one of
 * the library's: a signal on it is a VRING_CALL/VRING_ERR message.
 */
static int
t_inband_call_err(const void *arg __rte_unused)
{
	uint64_t pf = RTE_BIT64(PF_REPLY_ACK) | RTE_BIT64(PF_BACKEND_REQ) |
		RTE_BIT64(PF_INBAND);
	uint64_t one = 1;
	int chan = -1, fd, rc = -1;
	struct fe f;

	TRY(fe_init(&f, 1));
	TRY(fe_backend_channel(&f, pf, &chan));
	TRY(fe_ok(&f, send_u64(&f, VHOST_USER_SET_VRING_CALL, V1,
		1 | VHOST_USER_VRING_NOFD, NULL, 0)));
	TRY(fe_ok(&f, send_u64(&f, VHOST_USER_SET_VRING_ERR, V1,
		1 | VHOST_USER_VRING_NOFD, NULL, 0)));
	fd = rte_vhost_pci_vring_callfd(&f.c->dev, 1);
	EXPECT(fd >= 0, "vring 1 has no call fd of the library's");
	EXPECT(write(fd, &one, sizeof(one)) == sizeof(one), "signal failed");
	vhost_pci_conn_inband(f.c, 1, false);
	TRY(chan_read(chan, VHOST_USER_BACKEND_VRING_CALL, 1));
	fd = rte_vhost_pci_vring_errfd(&f.c->dev, 1);
	EXPECT(fd >= 0, "vring 1 has no err fd of the library's");
	EXPECT(write(fd, &one, sizeof(one)) == sizeof(one), "signal failed");
	vhost_pci_conn_inband(f.c, 1, true);
	TRY(chan_read(chan, VHOST_USER_BACKEND_VRING_ERR, 1));
	rc = 0;
out:
	if (chan >= 0)
		close(chan);
	fe_fini(&f);
	return rc;
}

/* VRING_KICK starts a ring that has no kick fd: bring-up completes. */
static int
t_inband_kick_starts_ring(const void *arg __rte_unused)
{
	uint64_t pf = RTE_BIT64(PF_REPLY_ACK) | RTE_BIT64(PF_BACKEND_REQ) |
		RTE_BIT64(PF_INBAND);
	int chan = -1, rc = -1;
	uint32_t i;
	struct fe f;

	TRY(fe_init(&f, 1));
	TRY(fe_backend_channel(&f, pf, &chan));
	TRY(fe_ok(&f, send_u64(&f, VHOST_USER_SET_FEATURES, V1, FE_FEATURES,
		NULL, 0)));
	TRY(fe_share_memory(&f, &std_region));
	for (i = 0; i < 2; i++) {
		TRY(setup_vring_nokick(&f, &std_region, i));
		TRY(fe_ok(&f, send_state(&f, VHOST_USER_SET_VRING_ENABLE, V1,
			i, 1)));
	}
	EXPECT(f.log.new_device == 0, "ready before any kick");
	for (i = 0; i < 2; i++)
		TRY(fe_ok(&f, send_state(&f, VHOST_USER_VRING_KICK, V1, i, 0)));
	EXPECT(f.log.new_device == 1, "new_device called %d times after the in-band kicks",
		f.log.new_device);
	rc = 0;
out:
	if (chan >= 0)
		close(chan);
	fe_fini(&f);
	return rc;
}

static int
t_backend_specs(const void *arg __rte_unused)
{
	struct vhost_pci_backend_specs sp;
	struct fe f;
	int rc = -1;

	TRY(fe_init(&f, 3));
	TRY(fe_ok(&f, send_u64(&f, VHOST_USER_SET_PROTOCOL_FEATURES, V1,
		RTE_BIT64(PF_STATUS) | RTE_BIT64(PF_STANDALONE), NULL, 0)));
	TRY(fe_ok(&f, send_none(&f, VHOST_USER_GET_BACKEND_SPECS, V1)));
	TRY(fe_reply(&f, VHOST_USER_GET_BACKEND_SPECS, &sp, sizeof(sp)));
	EXPECT(sp.device_id == 1 && sp.config_size == 0 && sp.min_vqs == 2 &&
		sp.max_vqs == 6, "specs %u %u %u %u, want 1 0 2 6",
		sp.device_id, sp.config_size, sp.min_vqs, sp.max_vqs);
	rc = 0;
out:
	fe_fini(&f);
	return rc;
}

static int
t_new_device_refused(const void *arg __rte_unused)
{
	struct fe f;
	int ret, rc = -1;

	TRY(fe_init(&f, 1));
	f.log.new_device_ret = -EBUSY;
	TRY(bringup_rings(&f, &std_region));
	TRY(send_status_ok(&f));
	ret = vhost_pci_conn_process(f.c);
	EXPECT(ret == -1 && f.c->dead, "connection open after -EBUSY (%d)",
		ret);
	EXPECT(f.log.new_device == 1 && f.log.destroy_device == 0,
		"new_device %d destroy_device %d, want 1 0",
		f.log.new_device, f.log.destroy_device);
	rc = 0;
out:
	fe_fini(&f);
	return rc;
}

/* A stream peer may write a header in pieces: 4 bytes, then the rest.
 * @arg: true to split the second message instead of the first.
 */
static int
t_split_header(const void *arg)
{
	const struct vhost_pci_hdr_v1 h = {
		.request = VHOST_USER_GET_FEATURES, .flags = V1,
	};
	const uint8_t *p = (const uint8_t *)&h;
	const bool *later = arg;
	struct fe f;
	uint64_t v;
	int rc = -1;

	TRY(fe_init(&f, 1));
	if (*later)
		TRY(fe_get_u64(&f, VHOST_USER_GET_FEATURES, &v));
	f.last_req = h.request;
	TRY(fe_ok(&f, send_raw(f.sock, p, 4, NULL, 0, false)));
	TRY(fe_ok(&f, send_raw(f.sock, p + 4, sizeof(h) - 4, NULL, 0, false)));
	TRY(fe_reply(&f, VHOST_USER_GET_FEATURES, &v, sizeof(v)));
	rc = 0;
out:
	fe_fini(&f);
	return rc;
}

/* ---- bad messages: each one closes the connection ---- */

static int
send_header(struct fe *f, uint32_t req, uint32_t flags, uint32_t size,
		size_t len)
{
	struct vhost_pci_hdr_v1 h = {
		.request = req, .flags = flags, .size = size,
	};

	f->last_req = req;
	return send_raw(f->sock, &h, len, NULL, 0, false);
}

static int
bad_set_features_4_bytes(struct fe *f)
{
	uint32_t v = 1;

	return fe_send(f, VHOST_USER_SET_FEATURES, V1, &v, sizeof(v), NULL, 0);
}

static int
bad_get_features_8_bytes(struct fe *f)
{
	return send_u64(f, VHOST_USER_GET_FEATURES, V1, 0, NULL, 0);
}

static int
bad_payload_4096(struct fe *f)
{
	static uint8_t buf[sizeof(struct vhost_pci_hdr_v1) + 4096];
	struct vhost_pci_hdr_v1 h = {
		.request = VHOST_USER_SET_MEM_TABLE, .flags = V1, .size = 4096,
	};

	memcpy(buf, &h, sizeof(h));
	return send_raw(f->sock, buf, sizeof(buf), NULL, 0, false);
}

static int
bad_call_nofd_with_fd(struct fe *f)
{
	int fd = new_eventfd();

	TRYR(fd);
	return send_u64(f, VHOST_USER_SET_VRING_CALL, V1, VRING_NOFD, &fd, 1);
}

static int
bad_kick_without_fd(struct fe *f)
{
	return send_u64(f, VHOST_USER_SET_VRING_KICK, V1, 0, NULL, 0);
}

static int
bad_features_with_fd(struct fe *f)
{
	int fd = new_eventfd();

	TRYR(fd);
	return send_u64(f, VHOST_USER_SET_FEATURES, V1, FE_FEATURES, &fd, 1);
}

static int
bad_nine_fds(struct fe *f)
{
	int fds[9];
	unsigned int i, j;

	for (i = 0; i < RTE_DIM(fds); i++) {
		fds[i] = new_eventfd();
		if (fds[i] < 0) {
			for (j = 0; j < i; j++)
				close(fds[j]);
			return -1;
		}
	}
	return send_u64(f, VHOST_USER_SET_VRING_CALL, V1, 0, fds, 9);
}

static int
bad_mem_2_regions_1_fd(struct fe *f)
{
	struct region_spec s2 = std_region;
	struct vhost_pci_mem_region r[2];
	int fd;

	s2.gpa += std_region.size;
	s2.uaddr += std_region.size;
	r[0] = wire_region(&std_region);
	r[1] = wire_region(&s2);
	fd = make_memfd(MEMFD_NAME, std_region.file_size);
	TRYR(fd);
	return send_mem_table(f, V1, 2, r, 2, &fd, 1);
}

static int
bad_vring_num_index_2(struct fe *f)
{
	return send_state(f, VHOST_USER_SET_VRING_NUM, V1, 2, RING_SIZE);
}

static int
bad_vring_addr_index_max(struct fe *f)
{
	struct vhost_pci_vring_addr a = {
		.index = UINT32_MAX,
		.desc_user_addr = GPA,
		.avail_user_addr = GPA + 0x1000,
		.used_user_addr = GPA + 0x2000,
	};

	return fe_send(f, VHOST_USER_SET_VRING_ADDR, V1, &a, sizeof(a), NULL, 0);
}

static int
bad_kick_index_0x40(struct fe *f)
{
	int fd = new_eventfd();

	TRYR(fd);
	return send_u64(f, VHOST_USER_SET_VRING_KICK, V1, 0x40, &fd, 1);
}

static int
bad_vring_num_100(struct fe *f)
{
	return send_state(f, VHOST_USER_SET_VRING_NUM, V1, 0, 100);
}

static int
bad_vring_num_0(struct fe *f)
{
	return send_state(f, VHOST_USER_SET_VRING_NUM, V1, 0, 0);
}

static int
bad_vring_num_65536(struct fe *f)
{
	return send_state(f, VHOST_USER_SET_VRING_NUM, V1, 0, 65536);
}

static int
bad_features_ctrl_vq(struct fe *f)
{
	return send_u64(f, VHOST_USER_SET_FEATURES, V1,
		FE_FEATURES | RTE_BIT64(F_CTRL_VQ), NULL, 0);
}

static int
bad_mem_0_regions(struct fe *f)
{
	int fd = make_memfd(MEMFD_NAME, MIB);

	TRYR(fd);
	return send_mem_table(f, V1, 0, NULL, 0, &fd, 1);
}

/* nregions says 9; 8 entries and 8 fds, all a message can carry. */
static int
bad_mem_9_regions(struct fe *f)
{
	struct vhost_pci_mem_region r[8];
	int fds[8];
	uint32_t i, j;

	for (i = 0; i < 8; i++) {
		fds[i] = make_memfd(MEMFD_NAME, MIB);
		if (fds[i] < 0) {
			for (j = 0; j < i; j++)
				close(fds[j]);
			return -1;
		}
		r[i] = (struct vhost_pci_mem_region){
			.guest_phys_addr = GPA + i * MIB,
			.memory_size = MIB,
			.userspace_addr = GPA + i * MIB,
		};
	}
	return send_mem_table(f, V1, 9, r, 8, fds, 8);
}

static int
bad_mem_overlap(struct fe *f)
{
	const struct region_spec s[2] = {
		{ .gpa = GPA, .uaddr = GPA, .size = 2 * MIB,
			.file_size = 2 * MIB },
		{ .gpa = GPA + MIB, .uaddr = GPA + 16 * MIB, .size = 2 * MIB,
			.file_size = 2 * MIB },
	};

	return send_regions(f, s, 2);
}

static int
bad_mem_past_fd_end(struct fe *f)
{
	const struct region_spec s = {
		.gpa = GPA, .uaddr = GPA, .size = 4 * MIB,
		.mmap_offset = MIB, .file_size = 4 * MIB,
	};

	return send_regions(f, &s, 1);
}

static int
bad_mem_zero_size(struct fe *f)
{
	const struct region_spec s = {
		.gpa = GPA, .uaddr = GPA, .size = 0, .file_size = MIB,
	};

	return send_regions(f, &s, 1);
}

static int
bad_mem_gpa_overflow(struct fe *f)
{
	const struct region_spec s = {
		.gpa = UINT64_MAX - MIB + 1 + 0x1000, .uaddr = GPA,
		.size = MIB, .file_size = MIB,
	};

	return send_regions(f, &s, 1);
}

static int
bad_reply_flag(struct fe *f)
{
	return send_none(f, VHOST_USER_GET_FEATURES, V1 | F_REPLY);
}

static int
bad_v3_first(struct fe *f)
{
	struct vhost_pci_hdr_v2 h = {
		.request = VHOST_USER_GET_FEATURES, .flags = 0x3,
		.conn_id = UINT64_MAX, .size = 0,
	};

	return send_raw(f->sock, &h, sizeof(h), NULL, 0, false);
}

static int
bad_v3_after_v1(struct fe *f)
{
	uint64_t v;

	TRYR(fe_get_u64(f, VHOST_USER_GET_FEATURES, &v));
	return send_header(f, VHOST_USER_GET_FEATURES, 0x3, 0,
		sizeof(struct vhost_pci_hdr_v1));
}

static int
bad_inband_without_backend_req(struct fe *f)
{
	return send_u64(f, VHOST_USER_SET_PROTOCOL_FEATURES, V1,
		RTE_BIT64(PF_REPLY_ACK) | RTE_BIT64(14), NULL, 0);
}

static int
bad_standalone_without_status(struct fe *f)
{
	return send_u64(f, VHOST_USER_SET_PROTOCOL_FEATURES, V1,
		RTE_BIT64(18), NULL, 0);
}

static int
bad_backend_specs_without_standalone(struct fe *f)
{
	return send_none(f, VHOST_USER_GET_BACKEND_SPECS, V1);
}

static int
bad_queue_num_without_mq(struct fe *f)
{
	return send_none(f, VHOST_USER_GET_QUEUE_NUM, V1);
}

static int
bad_status_without_feature(struct fe *f)
{
	return send_u64(f, VHOST_USER_SET_STATUS, V1, 0x0f, NULL, 0);
}

/* 6 bytes of a header, then EOF. */
static int
send_truncated(struct fe *f)
{
	TRYR(send_header(f, VHOST_USER_GET_FEATURES, V1, 0, 6));
	close(f->sock);
	f->sock = -1;
	return 0;
}

static int
bad_truncated_first(struct fe *f)
{
	return send_truncated(f);
}

static int
bad_truncated_later(struct fe *f)
{
	uint64_t v;

	TRYR(fe_get_u64(f, VHOST_USER_GET_FEATURES, &v));
	return send_truncated(f);
}

struct bad_case {
	const char *name;
	int (*send)(struct fe *f);
	bool sends_fds;
};

static const struct bad_case bad_cases[] = {
	{ "SET_FEATURES with a 4-byte payload", bad_set_features_4_bytes, false },
	{ "GET_FEATURES with an 8-byte payload", bad_get_features_8_bytes, false },
	{ "payload size 4096 in the header", bad_payload_4096, false },
	{ "SET_VRING_CALL with NOFD and an fd", bad_call_nofd_with_fd, true },
	{ "SET_VRING_KICK without NOFD and without fd", bad_kick_without_fd,
		false },
	{ "SET_FEATURES with an fd", bad_features_with_fd, true },
	{ "9 fds with one message", bad_nine_fds, true },
	{ "SET_MEM_TABLE with 2 regions and 1 fd", bad_mem_2_regions_1_fd, true },
	{ "SET_VRING_NUM index 2 with 1 queue pair", bad_vring_num_index_2,
		false },
	{ "SET_VRING_ADDR index 0xffffffff", bad_vring_addr_index_max, false },
	{ "SET_VRING_KICK index 0x40", bad_kick_index_0x40, true },
	{ "SET_VRING_NUM 100 (not a power of 2)", bad_vring_num_100, false },
	{ "SET_VRING_NUM 0", bad_vring_num_0, false },
	{ "SET_VRING_NUM 65536", bad_vring_num_65536, false },
	{ "SET_FEATURES with CTRL_VQ (not offered)",
		bad_features_ctrl_vq, false },
	{ "SET_MEM_TABLE with 0 regions", bad_mem_0_regions, true },
	{ "SET_MEM_TABLE with 9 regions", bad_mem_9_regions, true },
	{ "SET_MEM_TABLE with overlapping regions", bad_mem_overlap, true },
	{ "SET_MEM_TABLE region past the end of its fd", bad_mem_past_fd_end,
		true },
	{ "SET_MEM_TABLE region of size 0", bad_mem_zero_size, true },
	{ "SET_MEM_TABLE region with gpa + size past 2^64",
		bad_mem_gpa_overflow, true },
	{ "request with the REPLY flag (flags 0x5)", bad_reply_flag, false },
	{ "version 3 (unknown) header as first message", bad_v3_first, false },
	{ "version 3 message after a version 1 message", bad_v3_after_v1,
		false },
	{ "IN_BAND_NOTIFICATIONS without BACKEND_REQ (seed 003)",
		bad_inband_without_backend_req, false },
	{ "STANDALONE without STATUS (seed 004)",
		bad_standalone_without_status, false },
	{ "GET_BACKEND_SPECS before STANDALONE was negotiated",
		bad_backend_specs_without_standalone, false },
	{ "GET_QUEUE_NUM before MQ was negotiated", bad_queue_num_without_mq,
		false },
	{ "SET_STATUS before STATUS was negotiated",
		bad_status_without_feature, false },
	{ "6 bytes of a first header then EOF", bad_truncated_first, false },
	{ "6 bytes of a second header then EOF", bad_truncated_later, false },
};

/* Send a bad case on a fresh connection; it must close, no new_device. */
static int
t_bad(const void *arg)
{
	const struct bad_case *bc = arg;
	struct fe f;
	int ret, rc = -1;

	TRY(fe_init(&f, 1));
	TRY(bc->send(&f));
	ret = vhost_pci_conn_process(f.c);
	EXPECT(ret == -1 && f.c->dead,
		"connection still open (process returned %d, dead %d)",
		ret, f.c->dead);
	EXPECT(f.log.new_device == 0, "new_device called %d times",
		f.log.new_device);
	rc = 0;
out:
	fe_fini(&f);
	return rc;
}

/* ---- fd hygiene ---- */

static int
expect_fds(int base, int extra, const char *when)
{
	int n = count_fds();

	TRYR(n);
	if (n != base + extra)
		return FAIL("%s: %d fds open, want %d", when, n, base + extra);
	return 0;
}

/* A live connection keeps its 2 call and 2 kick fds, GET_VRING_BASE
 * releases the kick of its ring, and freeing the connection the rest.
 */
static int
t_fds_live(const void *arg __rte_unused)
{
	struct vhost_pci_vring_state st;
	int base, rc = -1;
	struct fe f;

	base = count_fds();
	TRY(base);
	TRY(fe_init(&f, 1));
	TRY(bringup(&f, &std_region));
	TRY(expect_fds(base, 2 + 4, "after bring-up"));
	TRY(fe_ok(&f, send_state(&f, VHOST_USER_GET_VRING_BASE, V1, 0, 0)));
	TRY(fe_reply(&f, VHOST_USER_GET_VRING_BASE, &st, sizeof(st)));
	TRY(expect_fds(base, 2 + 3, "after GET_VRING_BASE"));
	fe_fini(&f);
	TRY(expect_fds(base, 0, "after freeing the connection"));
	rc = 0;
out:
	fe_fini(&f);
	return rc;
}

/* Every bad case that carries fds, and the refused requests, in a row. */
static int
t_fds_bad(const void *arg __rte_unused)
{
	unsigned int i;
	int base;

	base = count_fds();
	TRYR(base);
	for (i = 0; i < RTE_DIM(bad_cases); i++) {
		if (!bad_cases[i].sends_fds)
			continue;
		if (t_bad(&bad_cases[i]) < 0)
			return -1;
	}
	TRYR(t_unsupported_nack(NULL));
	TRYR(t_new_device_refused(NULL));
	return expect_fds(base, 0, "after the bad messages");
}

/* ---- main ---- */

static const struct region_spec translated_region = {
	.gpa = 0x40000000, .uaddr = 0x7f1234500000ull, .size = 4 * MIB,
	.file_size = 4 * MIB,
};

static const struct region_spec offset_region = {
	.gpa = GPA, .uaddr = GPA, .size = 2 * MIB, .mmap_offset = 0x1010,
	.file_size = 4 * MIB,
};

static const int writeback_42 = 42;
static const bool split_first = false, split_second = true;

static const struct check good_checks[] = {
	{ "GET_FEATURES offers VERSION_1, MRG_RXBUF and PROTOCOL_FEATURES",
		t_get_features, NULL },
	{ "GET_PROTOCOL_FEATURES offers MQ, REPLY_ACK and STATUS",
		t_get_protocol_features, NULL },
	{ "GET_QUEUE_NUM after MQ replies max_queue_pairs",
		t_get_queue_num, NULL },
	{ "bring-up calls new_device exactly once, at DRIVER_OK",
		t_bringup_new_device_once, NULL },
	{ "bring-up publishes regions and vrings in the metadata page",
		t_bringup_meta, NULL },
	{ "class 4 (addr-len): ring areas misaligned (desc +8, avail +1, used +2) are not published and detach the device; aligned again, it attaches",
		t_misaligned_ring, NULL },
	{ "metadata vring addresses are front-end VAs translated to GPAs",
		t_bringup_meta, &translated_region },
	{ "BAR region maps the front-end's memfd both ways",
		t_bar_maps_memfd, NULL },
	{ "BAR region starts at the region's mmap_offset in the memfd",
		t_bar_maps_memfd, &offset_region },
	{ "GET_VRING_BASE calls destroy_device once and replies base 0",
		t_get_vring_base, NULL },
	{ "GET_VRING_BASE replies the index written back in destroy_device",
		t_get_vring_base, &writeback_42 },
	{ "unsupported requests get a NACK and the connection stays open",
		t_unsupported_nack, NULL },
	{ "new_device refusing the device closes the connection",
		t_new_device_refused, NULL },
	{ "in-band: a ring without call/err fds signals VRING_CALL and VRING_ERR on the back-end channel",
		t_inband_call_err, NULL },
	{ "in-band: VRING_KICK starts rings that have no kick fd, and the device becomes ready",
		t_inband_kick_starts_ring, NULL },
	{ "GET_BACKEND_SPECS under STANDALONE: net, no config space, 2..2N virtqueues",
		t_backend_specs, NULL },
	{ "first header written in two pieces is assembled",
		t_split_header, &split_first },
	{ "second header written in two pieces is assembled",
		t_split_header, &split_second },
	{ "a live connection holds only its kick/call fds, freeing closes them",
		t_fds_live, NULL },
	{ "bad messages and refused requests leak no fd",
		t_fds_bad, NULL },
};

int
main(void)
{
	struct tally t = { 0, 0 };
	char name[160];
	unsigned int i;

	run_checks(&t, good_checks, RTE_DIM(good_checks));
	for (i = 0; i < RTE_DIM(bad_cases); i++) {
		snprintf(name, sizeof(name), "%s closes the connection",
			bad_cases[i].name);
		run_check(&t, name, t_bad, &bad_cases[i]);
	}
	return tally_done(&t);
}
