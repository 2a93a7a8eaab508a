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
 * The test front-end and its helpers are in msg_common.c; SET_LOG_BASE
 * and the floods in test_vhost_pci_msg_flood.c. Checks of checklist class
 * 14 (message level) are named "class 14 (messages): ...".
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

#include "msg_common.h"

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
	if (m->magic != META_MAGIC || m->version != RTE_VHOST_PCI_META_VERSION)
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
	uint64_t v;
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
		/* A round trip: the request before it was handled. */
		TRY(fe_get_u64(&f, VHOST_USER_GET_FEATURES, &v));
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
	EXPECT(rte_vhost_pci_vring_kickfd(f.c->dev.vid, 0) < 0,
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
	fd = rte_vhost_pci_vring_callfd(f.c->dev.vid, 1);
	EXPECT(fd >= 0, "vring 1 has no call fd of the library's");
	EXPECT(write(fd, &one, sizeof(one)) == sizeof(one), "signal failed");
	vhost_pci_lock_take();
	vhost_pci_conn_inband(f.c, 1, false);
	vhost_pci_lock_release();
	TRY(chan_read(chan, VHOST_USER_BACKEND_VRING_CALL, 1));
	fd = rte_vhost_pci_vring_errfd(f.c->dev.vid, 1);
	EXPECT(fd >= 0, "vring 1 has no err fd of the library's");
	EXPECT(write(fd, &one, sizeof(one)) == sizeof(one), "signal failed");
	vhost_pci_lock_take();
	vhost_pci_conn_inband(f.c, 1, true);
	vhost_pci_lock_release();
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
	vhost_pci_lock_take();
	ret = vhost_pci_conn_process(f.c);
	vhost_pci_lock_release();
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

/* SET_FEATURES: a header announcing 8 bytes, 4 of them, then EOF. */
static int
bad_truncated_payload(struct fe *f)
{
	struct vhost_pci_hdr_v1 h = {
		.request = VHOST_USER_SET_FEATURES, .flags = V1, .size = 8,
	};
	uint8_t buf[sizeof(h) + 4];

	memcpy(buf, &h, sizeof(h));
	memset(buf + sizeof(h), 0, 4);
	f->last_req = h.request;
	TRYR(send_raw(f->sock, buf, sizeof(buf), NULL, 0, false));
	close(f->sock);
	f->sock = -1;
	return 0;
}

static int
bad_payload_size_max(struct fe *f)
{
	return send_header(f, VHOST_USER_GET_FEATURES, V1, UINT32_MAX,
		sizeof(struct vhost_pci_hdr_v1));
}

/* SET_VRING_ADDR with 8 bytes more than the struct. */
static int
bad_vring_addr_48_bytes(struct fe *f)
{
	uint8_t buf[sizeof(struct vhost_pci_vring_addr) + 8];

	memset(buf, 0, sizeof(buf));
	return fe_send(f, VHOST_USER_SET_VRING_ADDR, V1, buf, sizeof(buf),
		NULL, 0);
}

/* A memory table of 4 bytes: not even its nregions/padding header. */
static int
bad_mem_4_bytes(struct fe *f)
{
	uint32_t n = 1;
	int fd = make_memfd(MEMFD_NAME, MIB);

	TRYR(fd);
	return fe_send(f, VHOST_USER_SET_MEM_TABLE, V1, &n, sizeof(n), &fd, 1);
}

/* Index 2^16: its low 16 bits are vring 0, a truncation would accept it. */
static int
bad_vring_num_index_2_16(struct fe *f)
{
	return send_state(f, VHOST_USER_SET_VRING_NUM, V1, 0x10000,
		RING_SIZE);
}

static int
bad_get_vring_base_index_2_16(struct fe *f)
{
	return send_state(f, VHOST_USER_GET_VRING_BASE, V1, 0x10001, 0);
}

/* With the maximum number of queue pairs (bad_case.qps). */
static int
bad_vring_enable_past_max(struct fe *f)
{
	return send_state(f, VHOST_USER_SET_VRING_ENABLE, V1,
		2u * VHOST_PCI_MAX_QUEUE_PAIRS, 1);
}

static int
bad_call_index_0xff(struct fe *f)
{
	int fd = new_eventfd();

	TRYR(fd);
	return send_u64(f, VHOST_USER_SET_VRING_CALL, V1, 0xff, &fd, 1);
}

static int
bad_call_2_fds(struct fe *f)
{
	int fds[2];

	fds[0] = new_eventfd();
	TRYR(fds[0]);
	fds[1] = new_eventfd();
	if (fds[1] < 0) {
		close(fds[0]);
		return -1;
	}
	return send_u64(f, VHOST_USER_SET_VRING_CALL, V1, 0, fds, 2);
}

/* One region entry and two memfds, the table saying @nregions. */
static int
send_mem_2_fds(struct fe *f, uint32_t nregions)
{
	struct vhost_pci_mem_region r = wire_region(&std_region);
	int fds[2];

	fds[0] = make_memfd(MEMFD_NAME, std_region.file_size);
	TRYR(fds[0]);
	fds[1] = make_memfd(MEMFD_NAME, std_region.file_size);
	if (fds[1] < 0) {
		close(fds[0]);
		return -1;
	}
	return send_mem_table(f, V1, nregions, &r, 1, fds, 2);
}

static int
bad_mem_1_region_2_fds(struct fe *f)
{
	return send_mem_2_fds(f, 1);
}

/* nregions 2, one region entry, two fds. */
static int
bad_mem_2_regions_1_entry(struct fe *f)
{
	return send_mem_2_fds(f, 2);
}

static int
bad_mem_offset_past_fd(struct fe *f)
{
	const struct region_spec s = {
		.gpa = GPA, .uaddr = GPA, .size = MIB,
		.mmap_offset = 8 * MIB, .file_size = 4 * MIB,
	};

	return send_regions(f, &s, 1);
}

static int
bad_mem_offset_overflow(struct fe *f)
{
	const struct region_spec s = {
		.gpa = GPA, .uaddr = GPA, .size = MIB,
		.mmap_offset = UINT64_MAX - MIB + 1 + 0x1000, .file_size = MIB,
	};

	return send_regions(f, &s, 1);
}

static int
bad_mem_uaddr_overflow(struct fe *f)
{
	const struct region_spec s = {
		.gpa = GPA, .uaddr = UINT64_MAX - 0xfff, .size = MIB,
		.file_size = MIB,
	};

	return send_regions(f, &s, 1);
}

static int
bad_mem_eventfd(struct fe *f)
{
	struct vhost_pci_mem_region r = wire_region(&std_region);
	int fd = new_eventfd();

	TRYR(fd);
	return send_mem_table(f, V1, 1, &r, 1, &fd, 1);
}

static int
bad_features_log_all(struct fe *f)
{
	return send_u64(f, VHOST_USER_SET_FEATURES, V1,
		FE_FEATURES | RTE_BIT64(F_LOG_ALL), NULL, 0);
}

static int
bad_pfeatures_log_shmfd(struct fe *f)
{
	return send_u64(f, VHOST_USER_SET_PROTOCOL_FEATURES, V1,
		RTE_BIT64(PF_REPLY_ACK) | RTE_BIT64(PF_LOG_SHMFD), NULL, 0);
}

struct bad_case {
	const char *name;
	int (*send)(struct fe *f);
	bool sends_fds;
	uint16_t qps;		/* queue pairs of the endpoint; 0: 1 */
};

/* The checks of checklist class 14 (message level) are named so. */
#define C14	"class 14 (messages): "

static const struct bad_case bad_cases[] = {
	{ C14 "SET_FEATURES with a 4-byte payload", bad_set_features_4_bytes,
		false },
	{ C14 "GET_FEATURES with an 8-byte payload", bad_get_features_8_bytes,
		false },
	{ C14 "payload size 4096 in the header", bad_payload_4096, false },
	{ C14 "SET_VRING_CALL with NOFD and an fd", bad_call_nofd_with_fd,
		true },
	{ C14 "SET_VRING_KICK without NOFD and without fd",
		bad_kick_without_fd, false },
	{ C14 "SET_FEATURES with an fd", bad_features_with_fd, true },
	{ C14 "9 fds with one message", bad_nine_fds, true },
	{ C14 "SET_MEM_TABLE with 2 regions and 1 fd", bad_mem_2_regions_1_fd,
		true },
	{ C14 "SET_VRING_NUM index 2 with 1 queue pair", bad_vring_num_index_2,
		false },
	{ C14 "SET_VRING_ADDR index 0xffffffff", bad_vring_addr_index_max,
		false },
	{ C14 "SET_VRING_KICK index 0x40", bad_kick_index_0x40, true },
	{ C14 "SET_VRING_NUM 100 (not a power of 2)", bad_vring_num_100,
		false },
	{ C14 "SET_VRING_NUM 0", bad_vring_num_0, false },
	{ C14 "SET_VRING_NUM 65536", bad_vring_num_65536, false },
	{ "SET_FEATURES with CTRL_VQ (not offered)",
		bad_features_ctrl_vq, false },
	{ C14 "SET_MEM_TABLE with 0 regions", bad_mem_0_regions, true },
	{ C14 "SET_MEM_TABLE with 9 regions", bad_mem_9_regions, true },
	{ C14 "SET_MEM_TABLE with overlapping regions", bad_mem_overlap,
		true },
	{ C14 "SET_MEM_TABLE region past the end of its fd",
		bad_mem_past_fd_end, true },
	{ C14 "SET_MEM_TABLE region of size 0", bad_mem_zero_size, true },
	{ C14 "SET_MEM_TABLE region with gpa + size past 2^64",
		bad_mem_gpa_overflow, true },
	{ C14 "request with the REPLY flag (flags 0x5)", bad_reply_flag,
		false },
	{ C14 "version 3 (unknown) header as first message", bad_v3_first,
		false },
	{ C14 "version 3 message after a version 1 message", bad_v3_after_v1,
		false },
	{ "IN_BAND_NOTIFICATIONS without BACKEND_REQ"
		" (today's vhost-user specification)",
		bad_inband_without_backend_req, false },
	{ "STANDALONE without STATUS"
		" (the STANDALONE and GET_BACKEND_SPECS RFC)",
		bad_standalone_without_status, false },
	{ C14 "GET_BACKEND_SPECS before STANDALONE was negotiated",
		bad_backend_specs_without_standalone, false },
	{ C14 "GET_QUEUE_NUM before MQ was negotiated",
		bad_queue_num_without_mq, false },
	{ C14 "SET_STATUS before STATUS was negotiated",
		bad_status_without_feature, false },
	{ C14 "6 bytes of a first header then EOF", bad_truncated_first,
		false },
	{ C14 "6 bytes of a second header then EOF", bad_truncated_later,
		false },
	/* Added for class 14. */
	{ C14 "SET_FEATURES header, 4 of its 8 payload bytes, then EOF",
		bad_truncated_payload, false },
	{ C14 "payload size 0xffffffff in the header", bad_payload_size_max,
		false },
	{ C14 "SET_VRING_ADDR with a 48-byte payload (8 extra)",
		bad_vring_addr_48_bytes, false },
	{ C14 "SET_MEM_TABLE of 4 bytes, with an fd", bad_mem_4_bytes, true },
	{ C14 "SET_VRING_NUM index 0x10000 (2^16) with 1 queue pair",
		bad_vring_num_index_2_16, false },
	{ C14 "GET_VRING_BASE index 0x10001 with 1 queue pair",
		bad_get_vring_base_index_2_16, false },
	{ C14 "SET_VRING_ENABLE index 32 with 16 queue pairs (the maximum)",
		bad_vring_enable_past_max, false, VHOST_PCI_MAX_QUEUE_PAIRS },
	{ C14 "SET_VRING_CALL index 0xff with 16 queue pairs",
		bad_call_index_0xff, true, VHOST_PCI_MAX_QUEUE_PAIRS },
	{ C14 "SET_VRING_CALL with 2 fds", bad_call_2_fds, true },
	{ C14 "SET_MEM_TABLE with 1 region and 2 fds", bad_mem_1_region_2_fds,
		true },
	{ C14 "SET_MEM_TABLE nregions 2 with 1 region entry and 2 fds",
		bad_mem_2_regions_1_entry, true },
	{ C14 "SET_MEM_TABLE region whose mmap_offset is past the end of its fd",
		bad_mem_offset_past_fd, true },
	{ C14 "SET_MEM_TABLE region with mmap_offset + size past 2^64",
		bad_mem_offset_overflow, true },
	{ C14 "SET_MEM_TABLE region with userspace_addr + size past 2^64",
		bad_mem_uaddr_overflow, true },
	{ C14 "SET_MEM_TABLE region backed by an eventfd (not a file)",
		bad_mem_eventfd, true },
	{ C14 "SET_FEATURES with LOG_ALL (bit 26, not offered)",
		bad_features_log_all, false },
	{ C14 "SET_PROTOCOL_FEATURES with LOG_SHMFD (bit 1, not offered)",
		bad_pfeatures_log_shmfd, false },
};

/* Send a bad case on a fresh connection; it must close, no new_device. */
static int
t_bad(const void *arg)
{
	const struct bad_case *bc = arg;
	struct fe f;
	int ret, rc = -1;

	TRY(fe_init(&f, bc->qps != 0 ? bc->qps : 1));
	TRY(bc->send(&f));
	vhost_pci_lock_take();
	ret = vhost_pci_conn_process(f.c);
	vhost_pci_lock_release();
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

/* ---- requests out of the usual order ---- */

/* DRIVER_OK, ring set-up, kicks and calls before SET_FEATURES and the
 * memory table, and a GET_VRING_BASE of a ring never set up: nothing
 * closes, and new_device runs once, when the last piece (the memory
 * table) arrives.
 */
static int
t_out_of_order(const void *arg __rte_unused)
{
	struct vhost_pci_vring_state st;
	struct fe f;
	uint32_t i;
	int call, rc = -1;

	TRY(fe_init(&f, 1));
	TRY(fe_ok(&f, send_u64(&f, VHOST_USER_SET_PROTOCOL_FEATURES, V1,
		FE_PFEATURES, NULL, 0)));
	TRY(fe_ok(&f, send_state(&f, VHOST_USER_GET_VRING_BASE, V1, 1, 0)));
	TRY(fe_reply(&f, VHOST_USER_GET_VRING_BASE, &st, sizeof(st)));
	EXPECT(st.index == 1 && st.num == 0,
		"GET_VRING_BASE of a fresh ring: index %u num %u, want 1 0",
		st.index, st.num);
	TRY(fe_ok(&f, send_status_ok(&f)));
	TRY(fe_ack(&f, VHOST_USER_SET_STATUS, 0));
	for (i = 0; i < 2; i++) {
		TRY(setup_vring(&f, &std_region, i));
		call = new_eventfd();
		TRY(call);
		TRY(fe_ok(&f, send_u64(&f, VHOST_USER_SET_VRING_CALL, V1, i,
			&call, 1)));
		TRY(fe_ok(&f, send_state(&f, VHOST_USER_SET_VRING_ENABLE, V1,
			i, 1)));
	}
	TRY(fe_ok(&f, send_u64(&f, VHOST_USER_SET_FEATURES, V1, FE_FEATURES,
		NULL, 0)));
	EXPECT(f.log.new_device == 0,
		"new_device called %d times before the memory table",
		f.log.new_device);
	TRY(fe_share_memory(&f, &std_region));
	EXPECT(f.log.new_device == 1 && f.log.destroy_device == 0,
		"new_device %d destroy_device %d after the memory table, want 1 0",
		f.log.new_device, f.log.destroy_device);
	TRY(fe_no_reply(&f));
	rc = 0;
out:
	fe_fini(&f);
	return rc;
}

/* ---- fd hygiene ---- */

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
	/* The socket pair, two kick and two call fds, and the region's fd
	 * (kept for an exporter: rte_vhost_pci_dev_region_fd()).
	 */
	TRY(expect_fds(base, 2 + 4 + 1, "after bring-up"));
	EXPECT(rte_vhost_pci_dev_region_fd(f.c->dev.vid, 0, NULL) >= 0,
		"the region's fd is not kept");
	EXPECT(rte_vhost_pci_dev_region_fd(f.c->dev.vid, 1, NULL) == -1,
		"a region past the table has an fd");
	TRY(fe_ok(&f, send_state(&f, VHOST_USER_GET_VRING_BASE, V1, 0, 0)));
	TRY(fe_reply(&f, VHOST_USER_GET_VRING_BASE, &st, sizeof(st)));
	TRY(expect_fds(base, 2 + 3 + 1, "after GET_VRING_BASE"));
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
	{ C14 "unsupported requests get a NACK and the connection stays open",
		t_unsupported_nack, NULL },
	{ "new_device refusing the device closes the connection",
		t_new_device_refused, NULL },
	{ "in-band: a ring without call/err fds signals VRING_CALL and VRING_ERR on the back-end channel",
		t_inband_call_err, NULL },
	{ "in-band: VRING_KICK starts rings that have no kick fd, and the device becomes ready",
		t_inband_kick_starts_ring, NULL },
	{ "GET_BACKEND_SPECS under STANDALONE: net, no config space, 2..2N virtqueues",
		t_backend_specs, NULL },
	{ C14 "first header written in two pieces is assembled",
		t_split_header, &split_first },
	{ C14 "second header written in two pieces is assembled",
		t_split_header, &split_second },
	{ "a live connection holds only its kick/call fds and region fds, freeing closes them",
		t_fds_live, NULL },
	{ C14 "requests out of order (DRIVER_OK, rings and kicks before SET_FEATURES and SET_MEM_TABLE): new_device once, when the memory table comes",
		t_out_of_order, NULL },
	{ C14 "bad messages and refused requests leak no fd",
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
	run_checks(&t, msg_flood_checks, n_msg_flood_checks);
	return tally_done(&t);
}
