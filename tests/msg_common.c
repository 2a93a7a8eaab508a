/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * test_vhost_pci_msg: the test front-end (see msg_common.h). It plays the
 * front-end on one end of a socketpair and drives the library's end by
 * hand with vhost_pci_conn_process(): no EAL, no control thread.
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

/* ---- callbacks ---- */

static int
cb_new_device(int vid __rte_unused, void *ctx)
{
	struct cb_log *log = ctx;

	log->new_device++;
	return log->new_device_ret;
}

static void
cb_destroy_device(int vid, void *ctx)
{
	struct cb_log *log = ctx;

	log->destroy_device++;
	if (log->writeback >= 0)
		rte_vhost_pci_vring_writeback(vid, 0, log->writeback,
			log->writeback);
}

static void
cb_vring_state_changed(int vid __rte_unused,
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

int
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
	vhost_pci_lock_take();
	f->c = vhost_pci_conn_create(&f->ep, sv[0]);
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
fe_fini(struct fe *f)
{
	if (f->c != NULL) {
		vhost_pci_lock_take();
		vhost_pci_conn_free(f->c);
		vhost_pci_lock_release();
	}
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
int
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

int
send_u64(struct fe *f, uint32_t req, uint32_t flags, uint64_t v,
		const int *fds, unsigned int nfds)
{
	return fe_send(f, req, flags, &v, sizeof(v), fds, nfds);
}

int
send_state(struct fe *f, uint32_t req, uint32_t flags, uint32_t index,
		uint32_t num)
{
	struct vhost_pci_vring_state s = { .index = index, .num = num };

	return fe_send(f, req, flags, &s, sizeof(s), NULL, 0);
}

int
send_none(struct fe *f, uint32_t req, uint32_t flags)
{
	return fe_send(f, req, flags, NULL, 0, NULL, 0);
}

/* Let the library process what was sent (@sent: the send's result);
 * 0 if the connection survived it.
 */
int
fe_ok(struct fe *f, int sent)
{
	int ret;

	if (sent < 0)
		return -1;
	vhost_pci_lock_take();
	ret = vhost_pci_conn_process(f->c);
	vhost_pci_lock_release();
	if (ret < 0 || f->c->dead)
		return FAIL("request %u (%s) closed the connection",
			f->last_req, vhost_pci_req_name(V1, f->last_req));
	return 0;
}

/* Read one reply to @req with exactly @len bytes of payload. */
int
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

int
fe_no_reply(struct fe *f)
{
	uint8_t b;
	ssize_t n = recv(f->sock, &b, 1, MSG_DONTWAIT);

	if (n >= 0)
		return FAIL("unexpected bytes from the library (recv %zd)", n);
	return 0;
}

/* REPLY_ACK: the u64 status of the last request. */
int
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
int
fe_get_u64(struct fe *f, uint32_t req, uint64_t *v)
{
	TRYR(fe_ok(f, send_none(f, req, V1)));
	return fe_reply(f, req, v, sizeof(*v));
}

/* ---- memory ---- */

const struct region_spec std_region = {
	.gpa = GPA, .uaddr = GPA, .size = 4 * MIB, .file_size = 4 * MIB,
};

struct vhost_pci_mem_region
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
int
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
int
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
int
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

uint64_t
ring_uaddr(const struct region_spec *s, uint32_t i)
{
	return s->uaddr + (uint64_t)i * RING_STRIDE;
}

/* Ring layout: desc (16 * 256 bytes), avail at +4 KiB, used at +8 KiB. */
/* Size, base and addresses of vring @i; no kick yet. */
int
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

int
setup_vring(struct fe *f, const struct region_spec *s, uint32_t i)
{
	int kick;

	TRYR(setup_vring_nokick(f, s, i));
	kick = new_eventfd();
	TRYR(kick);
	return fe_ok(f, send_u64(f, VHOST_USER_SET_VRING_KICK, V1, i, &kick, 1));
}

/* Everything up to, not including, SET_STATUS. */
int
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

int
send_status_ok(struct fe *f)
{
	return send_u64(f, VHOST_USER_SET_STATUS, V1 | F_NEED_REPLY, 0x0f,
		NULL, 0);
}

int
bringup(struct fe *f, const struct region_spec *s)
{
	TRYR(bringup_rings(f, s));
	TRYR(fe_ok(f, send_status_ok(f)));
	TRYR(fe_ack(f, VHOST_USER_SET_STATUS, 0));
	return fe_no_reply(f);
}

const struct rte_vhost_pci_meta *
fe_meta(const struct fe *f, uint64_t *bar_size)
{
	return (const void *)rte_vhost_pci_dev_bar(f->c->dev.vid, bar_size);
}

/* ---- fd hygiene ---- */

int
expect_fds(int base, int extra, const char *when)
{
	int n = count_fds();

	TRYR(n);
	if (n != base + extra)
		return FAIL("%s: %d fds open, want %d", when, n, base + extra);
	return 0;
}
