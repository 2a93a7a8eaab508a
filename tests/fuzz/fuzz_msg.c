/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * libFuzzer harness of the vhost-user control plane: message assembly
 * (vhost_pci_transport.c), the dispatcher and its handlers (vhost_pci_msg.c)
 * and the device model they drive (vhost_pci_dev.c: memory tables mapped
 * into BAR windows, ring publication, attach and detach).
 *
 * Each input is one connection. The harness plays the front-end on one end
 * of a socketpair; the library's end is a struct vhost_pci_conn made with
 * vhost_pci_conn_create() on an endpoint of our own (no EAL, no control
 * thread), and vhost_pci_conn_process() runs after each message is sent,
 * exactly as the control thread runs it when the socket is readable.
 *
 * Input format (all integers little endian):
 *
 *   u8 setup     bits 0-3: queue pairs - 1; bit 4: RTE_VHOST_PCI_F_NO_IN_ORDER;
 *                bit 5: new_device refuses the device; bit 6: new_device
 *                sends the RX queue GSIs (as the PMD does); bit 7:
 *                destroy_device writes the ring indexes back (as the PMD).
 *   then records, until the input ends:
 *   u8 ctl       bits 0-3: fds attached, modulo 9 (0..8); bits 4-5: their
 *                kind: 0 memfds of the pool (in order), 1 an eventfd,
 *                2 /dev/null, 3 a unix socket; bit 6: the v2 header's
 *                conn_id is the u64 after the record header instead of the
 *                expected one (anonymous before GET_CONN_ID, the assigned
 *                id after); bit 7: raw, no header is built: the payload
 *                bytes are sent as they are (split or bogus headers).
 *                A raw record of no bytes is an event instead (below).
 *   u8 request
 *   u8 flags     low byte of the header flags; flags & 3 == 2 builds the
 *                20-byte v2 header, any other value the 12-byte v1 header.
 *   u16 len      payload bytes, modulo 512; the header's size field
 *   [u64 conn_id] with ctl bit 6
 *   len bytes    the payload; bytes past the input's end are zeros.
 *
 * Events (raw record, len 0): request % 5 says what happens, as the control
 * thread or the PMD would do it:
 *   0, 1  a signal on vring (flags % 32)'s in-band call (0) or error (1)
 *         eventfd: vhost_pci_conn_inband() sends VRING_CALL or VRING_ERR
 *         on the back-end channel (done only if that fd is in-band);
 *   2     the application disconnects the peer channel of the attached
 *         device (rte_vhost_pci_dev_send_disconnect());
 *   3     a zero-copy mbuf takes a BAR hold (v1 connections only, at most
 *         four): released after the connection is freed, once the harness
 *         has read the still mapped window through it;
 *   4     the application closes the attached device
 *         (rte_vhost_pci_dev_close()).
 *
 * Invariants checked (an abort is a finding):
 * - new_device gets a BAR whose metadata page passes
 *   rte_vhost_pci_map_init(), with vrings 0 and 1 marked ready and enabled
 *   and their desc/avail/used areas translating inside one region; every
 *   region's first and last byte can be read. vring_state_changed only
 *   names rings beyond the first pair, within nvrings.
 * - new_device and destroy_device alternate; nothing is attached once the
 *   connection is closed or freed.
 * - everything the library sends is a whole, well-formed message: the
 *   connection's header version, the REPLY or NEED_REPLY flag, a payload
 *   of at most VHOST_PCI_PAYLOAD_MAX bytes, the right conn_id in v2; on the
 *   back-end channel, v1 VRING_CALL or VRING_ERR with a vring state.
 * - a window held by a BAR hold stays mapped after its device is gone.
 * - no fd is leaked: the process has as many fds open after each input as
 *   before it (a leak lists them). Memory leaks: LeakSanitizer, run by
 *   libFuzzer.
 *
 * --write-seeds=DIR writes the seed corpus (tests/fuzz/corpus/msg).
 */

#include <dirent.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_log.h>

#include "fuzz_common.h"
#include "vhost_pci_private.h"

#define MEMFD_POOL	8
#define LEN_MOD		512u

/* Record ctl bits. */
#define CTL_NFDS(c)	(((c) & 0xfu) % 9u)
#define CTL_KIND(c)	(((c) >> 4) & 3u)
#define CTL_CONN_ID	0x40u
#define CTL_RAW		0x80u
#define KIND_MEMFD	0u
#define KIND_EVENTFD	1u
#define KIND_DEVNULL	2u
#define KIND_SOCKET	3u

/* Events. */
#define EV_CALL		0u
#define EV_ERR		1u
#define EV_DISCONNECT	2u
#define EV_HOLD		3u
#define EV_CLOSE	4u
#define EV_MAX		5u
#define MAX_HOLDS	4u

/* Setup bits. */
#define SETUP_QP(s)	(((s) & 0xfu) + 1u)
#define SETUP_NO_IN_ORDER 0x10u
#define SETUP_REFUSE	0x20u
#define SETUP_SEND_GSI	0x40u
#define SETUP_WRITEBACK	0x80u

/* Sizes of the pool's memfds: regions are checked against them. */
static const uint64_t memfd_size[MEMFD_POOL] = {
	0x10000, 0x10000, 0x10000, 0x20000, 0x1000, 0x10000, 0x201000, 0x10000,
};

struct fuzz_state {
	uint8_t setup;
	bool attached;
	int vid;
};

static struct vhost_pci_endpoint fuzz_ep;
static struct fuzz_state fuzz_st;
static int memfds[MEMFD_POOL];
static int evfd = -1, nullfd = -1, sockfd[2] = { -1, -1 };
static int fd_baseline = -1;
static void *holds[MAX_HOLDS];
static unsigned int nholds;

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

/* What each open fd is, for the report of a leak. */
static void
list_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	char path[300], target[256];
	struct dirent *e;
	ssize_t n;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = '\0';
		fprintf(stderr, "fd %s -> %s\n", e->d_name, target);
	}
	closedir(d);
}

/* ---- callbacks: what the PMD would see ---- */

/* Read one byte through a pointer into the BAR: it must be mapped. */
static void
touch(const uint8_t *p)
{
	volatile uint8_t v = *(const volatile uint8_t *)p;

	(void)v;
}

static void
check_area(const struct rte_vhost_pci_map *map, uint64_t gpa, uint64_t len,
		uint32_t vring, const char *what)
{
	const uint8_t *p = rte_vhost_pci_translate(map, gpa, len), *q;
	uint32_t h, hint;

	FUZZ_CHECK(p != NULL, "vring %u %s 0x%" PRIx64 "+0x%" PRIx64
		" published ready but outside the regions", vring, what, gpa,
		len);
	touch(p);
	touch(p + len - 1);
	/* The hinted translation finds it too, whatever the hint (one
	 * past the regions included), and leaves a valid one.
	 */
	for (h = 0; h <= map->nregions; h++) {
		hint = h;
		q = rte_vhost_pci_translate_hint(map, gpa, len, &hint);
		FUZZ_CHECK(q != NULL && hint < map->nregions,
			"vring %u %s: hinted translation from region %u gives %p, hint %u",
			vring, what, h, (const void *)q, hint);
		touch(q);
		touch(q + len - 1);
	}
}

/* A ring the library says is ready must be usable by the driver. */
static void
check_vring(const struct rte_vhost_pci_map *map,
		const struct rte_vhost_pci_meta *meta, uint32_t i)
{
	const struct rte_vhost_pci_vring *v = &meta->vring[i];
	bool packed = !!(meta->features &
		RTE_BIT64(VIRTIO_F_RING_PACKED));
	uint64_t n = v->size;

	FUZZ_CHECK(n != 0 && n <= RTE_VHOST_PCI_MAX_RING_SIZE,
		"vring %u published with size %" PRIu64, i, n);
	/* crashes/msg-packed-to-split-ring-size: sized packed, then split. */
	FUZZ_CHECK(packed || rte_is_power_of_2(n),
		"split vring %u published with size %" PRIu64, i, n);
	check_area(map, v->desc, 16 * n, i, "desc");
	check_area(map, v->avail, packed ? 4 : 6 + 2 * n, i, "avail");
	check_area(map, v->used, packed ? 4 : 6 + 8 * n, i, "used");
}

static void
check_bar(int vid, struct rte_vhost_pci_map *map)
{
	const struct rte_vhost_pci_meta *meta;
	uint64_t size;
	uint8_t *bar;
	uint32_t i;

	bar = rte_vhost_pci_dev_bar(vid, &size);
	FUZZ_CHECK(bar != NULL, "no BAR for a ready device");
	FUZZ_CHECK(rte_vhost_pci_map_init(map, bar, size) == 0,
		"the library's metadata page is not valid");
	meta = (const void *)bar;
	FUZZ_CHECK(meta->nregions >= 1, "ready with no region");
	for (i = 0; i < map->nregions; i++) {
		touch(map->region[i].host);
		touch(map->region[i].host + map->region[i].size - 1);
	}
}

/* What vpci_port_attach() and vpci_queue_attach() ask the library. */
static void
query_api(int vid, uint16_t vring)
{
	uint32_t gsi[VHOST_PCI_MAX_GSI];
	char path[sizeof(fuzz_ep.path)];
	uint8_t uuid[16];
	int n, i;

	(void)rte_vhost_pci_vring_callfd(vid, vring);
	(void)rte_vhost_pci_vring_kickfd(vid, vring);
	(void)rte_vhost_pci_vring_errfd(vid, vring);
	n = rte_vhost_pci_dev_rx_queue_gsi(vid, gsi, RTE_DIM(gsi), false);
	FUZZ_CHECK(n >= 0 && n <= (int)VHOST_PCI_MAX_GSI, "%d GSIs", n);
	for (i = 0; i < n; i++)
		(void)rte_vhost_pci_gsi_eventfd(vid, gsi[i]);
	(void)rte_vhost_pci_dev_peer_uuid(vid, uuid);
	/* One thread here: the device may be read without the lock. */
	FUZZ_CHECK(rte_vhost_pci_dev_version(vid) ==
		vhost_pci_dev_version(vhost_pci_dev_get(vid)), "version");
	FUZZ_CHECK(rte_vhost_pci_dev_conn_id(vid) == 1, "conn_id");
	FUZZ_CHECK(rte_vhost_pci_dev_path(vid, path, sizeof(path)) == 0 &&
		strcmp(path, fuzz_ep.path) == 0, "path");
}

static int
cb_new_device(int vid, void *ctx)
{
	const uint32_t want = RTE_VHOST_PCI_VRING_F_READY |
		RTE_VHOST_PCI_VRING_F_ENABLED;
	struct fuzz_state *st = ctx;
	const struct rte_vhost_pci_meta *meta;
	struct rte_vhost_pci_map map;
	uint32_t gsi[VHOST_PCI_MAX_QUEUE_PAIRS], i, n;

	FUZZ_CHECK(!st->attached, "new_device twice without destroy_device");
	check_bar(vid, &map);
	meta = (const void *)map.bar;
	FUZZ_CHECK(meta->status & RTE_VHOST_PCI_STATUS_READY,
		"new_device but status 0x%x", meta->status);
	FUZZ_CHECK(meta->nvrings == 2u * fuzz_ep.max_queue_pairs,
		"nvrings %u with %u queue pairs", meta->nvrings,
		fuzz_ep.max_queue_pairs);
	for (i = 0; i < 2; i++) {
		FUZZ_CHECK((meta->vring[i].flags & want) == want,
			"new_device but vring %u flags 0x%x", i,
			meta->vring[i].flags);
		check_vring(&map, meta, i);
	}
	if (st->setup & SETUP_REFUSE)
		return -EINVAL;
	st->attached = true;
	st->vid = vid;
	query_api(vid, 0);
	query_api(vid, 1);
	if (st->setup & SETUP_SEND_GSI) {
		/* The PMD tells a v2 peer its RX queues' GSIs from here. */
		n = fuzz_ep.max_queue_pairs;
		for (i = 0; i < n; i++)
			gsi[i] = 32 + i;
		rte_vhost_pci_dev_send_rx_queue_gsi(vid, gsi, n);
	}
	return 0;
}

static void
cb_destroy_device(int vid, void *ctx)
{
	struct fuzz_state *st = ctx;

	FUZZ_CHECK(st->attached && st->vid == vid,
		"destroy_device of a device not attached");
	/* The BAR is still mapped until this returns. */
	if (st->setup & SETUP_WRITEBACK) {
		rte_vhost_pci_vring_writeback(vid, 0, 7, 7);
		rte_vhost_pci_vring_writeback(vid, 1, 9, 9);
	}
	st->attached = false;
	st->vid = -1;
}

static void
cb_vring_state_changed(int vid, uint16_t vring,
		int enable, void *ctx)
{
	const struct rte_vhost_pci_meta *meta;
	struct fuzz_state *st = ctx;
	struct rte_vhost_pci_map map;

	FUZZ_CHECK(st->attached && st->vid == vid,
		"vring_state_changed on a device not attached");
	FUZZ_CHECK(vring >= 2 && vring < 2u * fuzz_ep.max_queue_pairs,
		"vring_state_changed of vring %u", vring);
	if (!enable)
		return;
	check_bar(vid, &map);
	meta = (const void *)map.bar;
	FUZZ_CHECK(meta->vring[vring].flags & RTE_VHOST_PCI_VRING_F_READY,
		"vring %u enabled but not ready", vring);
	check_vring(&map, meta, vring);
	query_api(vid, vring);
}

static const struct rte_vhost_pci_ops fuzz_ops = {
	.new_device = cb_new_device,
	.destroy_device = cb_destroy_device,
	.vring_state_changed = cb_vring_state_changed,
};

/* ---- the front-end ---- */

/* What the library sent back; @carry keeps a partial message. */
struct rx_stream {
	uint8_t buf[4096];
	size_t len;
};

static void
check_sent(const struct vhost_pci_conn *conn, struct rx_stream *rs)
{
	size_t off = 0;

	while (rs->len - off >= VHOST_PCI_HDR_PREFIX) {
		const uint8_t *p = rs->buf + off;
		uint32_t flags, size, hsz;
		uint64_t id;

		memcpy(&flags, p + 4, sizeof(flags));
		FUZZ_CHECK(conn->hops != NULL &&
			(flags & VHOST_PCI_HDR_VERSION_MASK) ==
				conn->hops->version,
			"message of version %u sent on a version %u connection",
			flags & VHOST_PCI_HDR_VERSION_MASK,
			conn->hops ? conn->hops->version : 0);
		FUZZ_CHECK(flags & (VHOST_PCI_HDR_F_REPLY |
				VHOST_PCI_HDR_F_NEED_REPLY),
			"message sent with flags 0x%x", flags);
		hsz = conn->hops->hdr_size;
		if (rs->len - off < hsz)
			break;
		if (hsz == sizeof(struct vhost_pci_hdr_v2)) {
			memcpy(&id, p + 8, sizeof(id));
			memcpy(&size, p + 16, sizeof(size));
			FUZZ_CHECK(id == VHOST_PCI_CONN_ID_ANON ||
				id == conn->dev.conn_id,
				"v2 message sent with conn_id 0x%" PRIx64, id);
		} else {
			memcpy(&size, p + 8, sizeof(size));
		}
		FUZZ_CHECK(size <= VHOST_PCI_PAYLOAD_MAX,
			"message sent with a %u-byte payload", size);
		if (rs->len - off < hsz + size)
			break;
		off += hsz + size;
	}
	memmove(rs->buf, rs->buf + off, rs->len - off);
	rs->len -= off;
}

/* Read what the library sent, and check it. */
static void
drain(const struct vhost_pci_conn *conn, int sock, struct rx_stream *rs)
{
	ssize_t n;

	for (;;) {
		n = recv(sock, rs->buf + rs->len, sizeof(rs->buf) - rs->len,
			MSG_DONTWAIT);
		if (n <= 0)
			break;
		rs->len += n;
		check_sent(conn, rs);
		FUZZ_CHECK(rs->len < sizeof(rs->buf),
			"unparsable data from the library");
	}
}

static void
pick_fds(unsigned int kind, unsigned int n, int *fds)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		switch (kind) {
		case KIND_MEMFD:
			fds[i] = memfds[i];
			break;
		case KIND_EVENTFD:
			fds[i] = evfd;
			break;
		case KIND_DEVNULL:
			fds[i] = nullfd;
			break;
		default:
			fds[i] = sockfd[1];
			break;
		}
	}
}

static void
send_bytes(int sock, const uint8_t *buf, size_t len, const int *fds,
		unsigned int nfds)
{
	char control[CMSG_SPACE(MEMFD_POOL * sizeof(int))];
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf,
		.iov_len = len };
	struct msghdr mh;
	struct cmsghdr *cm;

	if (len == 0)
		return;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		memset(control, 0, sizeof(control));
		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	/* The library closed its end: nothing more to deliver. */
	(void)sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* What the library wrote on the back-end channel (our sockfd[1]). */
static void
drain_backend(void)
{
	uint8_t buf[512];
	struct vhost_pci_hdr_v1 h;
	ssize_t n;
	size_t off;

	while ((n = recv(sockfd[0], buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		for (off = 0; off + sizeof(h) <= (size_t)n;
				off += sizeof(h) + h.size) {
			memcpy(&h, buf + off, sizeof(h));
			FUZZ_CHECK((h.request ==
					VHOST_USER_BACKEND_VRING_CALL ||
				h.request == VHOST_USER_BACKEND_VRING_ERR) &&
				h.flags == VHOST_PCI_HDR_VERSION_1 &&
				h.size == sizeof(struct vhost_pci_vring_state),
				"back-end message %u flags 0x%x size %u",
				h.request, h.flags, h.size);
		}
	}
}

/* An event record: what the control thread or the PMD would do. */
static void
event(struct vhost_pci_conn *conn, uint8_t request, uint8_t flags)
{
	struct vhost_pci_vring *vr = &conn->dev.vring[flags % 32u];
	uint64_t one = 1;
	int fd;

	switch (request % EV_MAX) {
	case EV_CALL:
	case EV_ERR:
		/* Only fds of ours are watched by the control thread. */
		if (request % EV_MAX == EV_CALL ? !vr->call_inband :
				!vr->err_inband)
			return;
		fd = request % EV_MAX == EV_CALL ? vr->callfd : vr->errfd;
		FUZZ_CHECK(fd >= 0, "in-band vring without its eventfd");
		FUZZ_CHECK(write(fd, &one, sizeof(one)) == sizeof(one),
			"in-band eventfd not writable");
		vhost_pci_lock_take();
		vhost_pci_conn_inband(conn, flags % 32u,
			request % EV_MAX == EV_ERR);
		vhost_pci_lock_release();
		drain_backend();
		break;
	case EV_DISCONNECT:
		if (fuzz_st.attached)
			rte_vhost_pci_dev_send_disconnect(fuzz_st.vid);
		break;
	case EV_HOLD:
		/* v1 only: a v2 disconnect would wait a second for it. */
		if (nholds == MAX_HOLDS || conn->hops == NULL ||
				conn->hops->version != VHOST_PCI_HDR_VERSION_1)
			return;
		holds[nholds] = rte_vhost_pci_dev_bar_hold(conn->dev.vid);
		FUZZ_CHECK((holds[nholds] != NULL) ==
			(conn->dev.bar.base != NULL), "BAR hold");
		if (holds[nholds] != NULL)
			nholds++;
		break;
	default:
		if (fuzz_st.attached)
			rte_vhost_pci_dev_close(fuzz_st.vid);
		break;
	}
}

/* The windows held are still mapped: read them, then let them go. */
static void
release_holds(void)
{
	const struct vhost_pci_window *w;
	const struct rte_vhost_pci_meta *meta;

	while (nholds > 0) {
		w = holds[--nholds];
		meta = (const void *)w->base;
		FUZZ_CHECK(meta->magic == RTE_VHOST_PCI_META_MAGIC,
			"held window lost its metadata page");
		rte_vhost_pci_bar_release(holds[nholds]);
	}
}

/* Input reader: bytes past the end read as zeros. */
struct reader {
	const uint8_t *p;
	size_t left;
};

static void
rd(struct reader *r, void *dst, size_t n)
{
	size_t k = RTE_MIN(n, r->left);

	memcpy(dst, r->p, k);
	memset((uint8_t *)dst + k, 0, n - k);
	r->p += k;
	r->left -= k;
}

/* Build record @r's bytes into @buf (header + payload); their length. */
static size_t
build_record(const struct vhost_pci_conn *conn, struct reader *r,
		uint8_t ctl, uint8_t *buf)
{
	uint8_t request, flags8;
	uint16_t len;
	uint64_t conn_id;
	size_t hsz;

	rd(r, &request, 1);
	rd(r, &flags8, 1);
	rd(r, &len, 2);
	len %= LEN_MOD;
	conn_id = conn->dev.conn_id_assigned ? conn->dev.conn_id :
		VHOST_PCI_CONN_ID_ANON;
	if (ctl & CTL_CONN_ID)
		rd(r, &conn_id, sizeof(conn_id));
	if (ctl & CTL_RAW) {
		/* No bytes: an event, told by the request and flags. */
		buf[0] = request;
		buf[1] = flags8;
		rd(r, buf, len);
		return len;
	}
	if ((flags8 & VHOST_PCI_HDR_VERSION_MASK) == VHOST_PCI_HDR_VERSION_2) {
		struct vhost_pci_hdr_v2 h = {
			.request = request, .flags = flags8,
			.conn_id = conn_id, .size = len,
		};

		memcpy(buf, &h, sizeof(h));
		hsz = sizeof(h);
	} else {
		struct vhost_pci_hdr_v1 h = {
			.request = request, .flags = flags8, .size = len,
		};

		memcpy(buf, &h, sizeof(h));
		hsz = sizeof(h);
	}
	rd(r, buf + hsz, len);
	return hsz + len;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[VHOST_PCI_HDR_MAX + LEN_MOD];
	struct reader r = { .p = data, .left = size };
	struct vhost_pci_conn *conn;
	struct rx_stream rs;
	int sv[2], fds[MEMFD_POOL], n;
	uint8_t setup, ctl;
	size_t len;

	if (size == 0)
		return 0;
	/* Per input: between inputs libFuzzer may open pipes of its own
	 * (to symbolize what it prints).
	 */
	fd_baseline = count_fds();
	rd(&r, &setup, 1);
	memset(&fuzz_st, 0, sizeof(fuzz_st));
	fuzz_st.setup = setup;
	/* The endpoint stays listed; only its settings change. */
	fuzz_ep.max_queue_pairs = RTE_MIN(SETUP_QP(setup),
		VHOST_PCI_MAX_QUEUE_PAIRS);
	fuzz_ep.flags = (setup & SETUP_NO_IN_ORDER) ?
		RTE_VHOST_PCI_F_NO_IN_ORDER : 0;
	fuzz_ep.next_conn_id = 1;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0, sv) < 0) {
		perror("socketpair");
		abort();
	}
	vhost_pci_lock_take();
	conn = vhost_pci_conn_create(&fuzz_ep, sv[0]);
	vhost_pci_lock_release();
	FUZZ_CHECK(conn != NULL, "vhost_pci_conn_create failed");
	rs.len = 0;

	while (r.left > 0 && !conn->dead) {
		rd(&r, &ctl, 1);
		len = build_record(conn, &r, ctl, buf);
		if ((ctl & CTL_RAW) && len == 0) {
			event(conn, buf[0], buf[1]);
			drain(conn, sv[1], &rs);
			continue;
		}
		n = CTL_NFDS(ctl);
		pick_fds(CTL_KIND(ctl), n, fds);
		send_bytes(sv[1], buf, len, fds, n);
		vhost_pci_lock_take();
		vhost_pci_conn_process(conn);
		FUZZ_CHECK(!conn->dead || !fuzz_st.attached,
			"connection closed with the device attached");
		FUZZ_CHECK(conn->dead || fuzz_st.attached == conn->dev.attached,
			"callbacks and device disagree on attached");
		vhost_pci_lock_release();
		drain(conn, sv[1], &rs);
	}

	vhost_pci_lock_take();
	vhost_pci_conn_free(conn);
	vhost_pci_lock_release();
	FUZZ_CHECK(!fuzz_st.attached, "device still attached after free");
	FUZZ_CHECK(TAILQ_EMPTY(&fuzz_ep.conns), "connection still listed");
	release_holds();
	drain_backend();
	close(sv[1]);
	n = count_fds();
	if (n != fd_baseline)
		list_fds();
	FUZZ_CHECK(n == fd_baseline, "%d fds open after the input, %d before",
		n, fd_baseline);
	return 0;
}

/* ---- seeds ---- */

#define V1		VHOST_PCI_HDR_VERSION_1
#define V2		VHOST_PCI_HDR_VERSION_2
#define NEED_REPLY	VHOST_PCI_HDR_F_NEED_REPLY
#define SEED_GPA	0x100000000ull
#define SEED_UADDR	0x7f0000000000ull
#define SEED_RING	64u

static void
rec(struct fuzz_seed *s, uint8_t ctl, uint8_t req, uint8_t flags,
		const void *pl, uint16_t len)
{
	seed_u8(s, ctl);
	seed_u8(s, req);
	seed_u8(s, flags);
	seed_u16(s, len);
	if (len > 0)
		seed_put(s, pl, len);
}

static void
rec_u64(struct fuzz_seed *s, uint8_t ctl, uint8_t req, uint8_t flags,
		uint64_t v)
{
	rec(s, ctl, req, flags, &v, sizeof(v));
}

static void
rec_state(struct fuzz_seed *s, uint8_t req, uint8_t flags, uint32_t index,
		uint32_t num)
{
	struct vhost_pci_vring_state st = { .index = index, .num = num };

	rec(s, 0, req, flags, &st, sizeof(st));
}

/* A memory table of @n regions, each of the pool memfd's size (or
 * @size if smaller), gpa and uaddr apart; @uuid in front for v2.
 */
static void
rec_mem_table(struct fuzz_seed *s, uint8_t version, uint32_t n,
		uint64_t size, uint64_t offset)
{
	uint8_t pl[VHOST_PCI_PAYLOAD_MAX];
	struct vhost_pci_mem_table mt = { .nregions = n };
	struct vhost_pci_mem_region reg;
	size_t len = 0;
	uint32_t i;

	if (version == V2) {
		memset(pl, 0xa5, VHOST_PCI_UUID_LEN);
		len = VHOST_PCI_UUID_LEN;
	}
	memcpy(pl + len, &mt, sizeof(mt));
	len += sizeof(mt);
	for (i = 0; i < n; i++) {
		reg.guest_phys_addr = SEED_GPA + i * 0x1000000ull;
		reg.userspace_addr = SEED_UADDR + i * 0x1000000ull;
		reg.memory_size = RTE_MIN(size, memfd_size[i] - offset);
		reg.mmap_offset = offset;
		memcpy(pl + len, &reg, sizeof(reg));
		len += sizeof(reg);
	}
	rec(s, (uint8_t)(n | (KIND_MEMFD << 4)), VHOST_USER_SET_MEM_TABLE,
		version, pl, len);
}

/* Size, addresses, base, kick, call and enable of vring @i, laid out in
 * the first region: 0x2000 bytes per ring.
 */
static void
rec_vring(struct fuzz_seed *s, uint8_t version, uint32_t i, uint32_t num,
		bool inband)
{
	uint64_t base = SEED_UADDR + i * 0x2000ull;
	struct vhost_pci_vring_addr a = {
		.index = i,
		.desc_user_addr = base,
		.avail_user_addr = base + 0x400,
		.used_user_addr = base + 0x800,
	};

	rec_state(s, VHOST_USER_SET_VRING_NUM, version, i, num);
	rec(s, 0, VHOST_USER_SET_VRING_ADDR, version, &a, sizeof(a));
	rec_state(s, VHOST_USER_SET_VRING_BASE, version, i, 0);
	if (inband) {
		rec_u64(s, 0, VHOST_USER_SET_VRING_CALL, version,
			i | VHOST_USER_VRING_NOFD);
		rec_u64(s, 0, VHOST_USER_SET_VRING_ERR, version,
			i | VHOST_USER_VRING_NOFD);
		rec_u64(s, 0, VHOST_USER_SET_VRING_KICK, version,
			i | VHOST_USER_VRING_NOFD);
		rec_state(s, VHOST_USER_VRING_KICK, version, i, 0);
	} else {
		rec_u64(s, 1 | (KIND_EVENTFD << 4), VHOST_USER_SET_VRING_KICK,
			version, i);
		rec_u64(s, 1 | (KIND_EVENTFD << 4), VHOST_USER_SET_VRING_CALL,
			version, i);
	}
	rec_state(s, VHOST_USER_SET_VRING_ENABLE, version | NEED_REPLY, i, 1);
}

static void
rec_event(struct fuzz_seed *s, uint8_t ev, uint8_t arg)
{
	seed_u8(s, CTL_RAW);
	seed_u8(s, ev);
	seed_u8(s, arg);
	seed_u16(s, 0);
}

static void
rec_features(struct fuzz_seed *s, uint8_t version, uint64_t f, uint64_t pf)
{
	rec(s, 0, VHOST_USER_GET_FEATURES, version, NULL, 0);
	rec_u64(s, 0, VHOST_USER_SET_FEATURES, version, f);
	rec(s, 0, VHOST_USER_GET_PROTOCOL_FEATURES, version, NULL, 0);
	rec_u64(s, 0, VHOST_USER_SET_PROTOCOL_FEATURES, version, pf);
	rec(s, 0, VHOST_USER_SET_OWNER, version, NULL, 0);
}

#define F_BASE	(RTE_BIT64(VIRTIO_F_VERSION_1) | \
		 RTE_BIT64(VHOST_USER_F_PROTOCOL_FEATURES) | \
		 RTE_BIT64(VIRTIO_NET_F_MRG_RXBUF) | \
		 RTE_BIT64(VIRTIO_RING_F_EVENT_IDX) | \
		 RTE_BIT64(VIRTIO_RING_F_INDIRECT_DESC))
#define PF_BASE	(RTE_BIT64(VHOST_USER_PROTOCOL_F_MQ) | \
		 RTE_BIT64(VHOST_USER_PROTOCOL_F_REPLY_ACK))

static void
write_seeds(const char *dir)
{
	static struct fuzz_seed s;
	uint8_t pl[64];
	uint16_t n16;
	uint32_t gsi;

	/* v1: the whole handshake to new_device, then a ring stop. */
	s.len = 0;
	seed_u8(&s, SETUP_WRITEBACK);
	rec_features(&s, V1, F_BASE, PF_BASE);
	rec(&s, 0, VHOST_USER_GET_QUEUE_NUM, V1, NULL, 0);
	rec_mem_table(&s, V1, 1, 0x10000, 0);
	rec_vring(&s, V1, 0, SEED_RING, false);
	rec_vring(&s, V1, 1, SEED_RING, false);
	rec_event(&s, EV_HOLD, 0);
	rec_state(&s, VHOST_USER_GET_VRING_BASE, V1, 0, 0);
	rec(&s, 0, VHOST_USER_RESET_OWNER, V1, NULL, 0);
	seed_write(dir, "v1-handshake", &s);

	/* v2: conn_id, device type, PVI UUIDs both ways, the v2 memory
	 * table, GSIs both ways, peer connection up and down.
	 */
	s.len = 0;
	seed_u8(&s, SETUP_SEND_GSI | 1);
	rec_features(&s, V2, F_BASE, PF_BASE |
		RTE_BIT64(VHOST_PCI_PROTOCOL_F_VHOST_PCI));
	rec_u64(&s, 0, VHOST_PCI_GET_CONN_ID, V2, 0);
	rec_u64(&s, 0, VHOST_PCI_SET_DEV_TYPE, V2 | NEED_REPLY,
		VHOST_PCI_DEV_TYPE_NET);
	memset(pl, 0x5c, VHOST_PCI_UUID_LEN);
	rec(&s, 0, VHOST_PCI_SET_PVI_SENDER_UUID, V2, pl, VHOST_PCI_UUID_LEN);
	/* Our reply to the server's own SET_PVI_SENDER_UUID. */
	rec_u64(&s, 0, VHOST_PCI_SET_PVI_SENDER_UUID,
		V2 | VHOST_PCI_HDR_F_REPLY, 0);
	/* Our RX queues' GSIs, before the rings: new_device sees them. */
	n16 = 2;
	memcpy(pl, &n16, 2);
	gsi = 40;
	memcpy(pl + 2, &gsi, 4);
	gsi = 41;
	memcpy(pl + 6, &gsi, 4);
	rec(&s, 0, VHOST_PCI_SET_RX_QUEUE_GSI, V2, pl, 10);
	rec_mem_table(&s, V2, 1, 0x10000, 0);
	rec_vring(&s, V2, 0, SEED_RING, false);
	rec_vring(&s, V2, 1, SEED_RING, false);
	rec_vring(&s, V2, 2, SEED_RING, false);
	rec_vring(&s, V2, 3, SEED_RING, false);
	rec_u64(&s, 0, VHOST_PCI_SET_PEER_CONNECTION, V2,
		VHOST_PCI_PEER_CONNECT);
	/* Our reply to the GSIs new_device sent. */
	rec_u64(&s, 0, VHOST_PCI_SET_RX_QUEUE_GSI, V2 | VHOST_PCI_HDR_F_REPLY,
		0);
	rec_u64(&s, 0, VHOST_PCI_SET_PEER_CONNECTION, V2,
		VHOST_PCI_PEER_DISCONNECT);
	seed_write(dir, "v2-handshake", &s);
	/* The same, but the application disconnects, then closes. */
	s.len -= 5 + 8;
	rec_event(&s, EV_DISCONNECT, 0);
	rec_u64(&s, 0, VHOST_PCI_SET_PEER_CONNECTION,
		V2 | VHOST_PCI_HDR_F_REPLY, 0);
	rec_u64(&s, 0, VHOST_PCI_SET_PEER_CONNECTION, V2,
		VHOST_PCI_PEER_CONNECT);
	rec_event(&s, EV_CLOSE, 0);
	seed_write(dir, "v2-app-disconnect", &s);

	/* Packed rings of a size that is no power of two, with STATUS. */
	s.len = 0;
	seed_u8(&s, 0);
	rec_features(&s, V1, F_BASE | RTE_BIT64(VIRTIO_F_RING_PACKED),
		PF_BASE | RTE_BIT64(VHOST_USER_PROTOCOL_F_STATUS) |
		RTE_BIT64(VHOST_USER_PROTOCOL_F_STANDALONE));
	rec(&s, 0, VHOST_USER_GET_BACKEND_SPECS, V1, NULL, 0);
	rec_mem_table(&s, V1, 1, 0x10000, 0);
	rec_vring(&s, V1, 0, 100, false);
	rec_vring(&s, V1, 1, 100, false);
	rec_u64(&s, 0, VHOST_USER_SET_STATUS, V1 | NEED_REPLY, 0xf);
	rec(&s, 0, VHOST_USER_GET_STATUS, V1, NULL, 0);
	rec_u64(&s, 0, VHOST_USER_SET_STATUS, V1, 0);
	seed_write(dir, "v1-packed-status", &s);

	/* In-band notifications over a back-end channel. */
	s.len = 0;
	seed_u8(&s, 0);
	rec_features(&s, V1, F_BASE, PF_BASE |
		RTE_BIT64(VHOST_USER_PROTOCOL_F_BACKEND_REQ) |
		RTE_BIT64(VHOST_USER_PROTOCOL_F_INBAND_NOTIF));
	rec(&s, 1 | (KIND_SOCKET << 4), VHOST_USER_SET_BACKEND_REQ_FD,
		V1 | NEED_REPLY, NULL, 0);
	rec_mem_table(&s, V1, 1, 0x10000, 0);
	rec_vring(&s, V1, 0, SEED_RING, true);
	rec_vring(&s, V1, 1, SEED_RING, true);
	rec_event(&s, EV_CALL, 0);
	rec_event(&s, EV_ERR, 1);
	rec_event(&s, EV_CLOSE, 0);
	seed_write(dir, "v1-inband", &s);

	/* Three regions at file offsets, then a new table over them. */
	s.len = 0;
	seed_u8(&s, 3);
	rec_features(&s, V1, F_BASE, PF_BASE);
	rec_mem_table(&s, V1, 3, 0x8000, 0x1000);
	rec_mem_table(&s, V1, 2, 0x10000, 0);
	seed_write(dir, "v1-regions", &s);

	/* Requests we refuse, with REPLY_ACK. */
	s.len = 0;
	seed_u8(&s, 0);
	rec_features(&s, V1, F_BASE, PF_BASE);
	rec_u64(&s, 0, VHOST_USER_SET_LOG_BASE, V1 | NEED_REPLY, 0);
	rec(&s, 0, VHOST_USER_SEND_RARP, V1 | NEED_REPLY, pl, 8);
	rec(&s, 0, VHOST_USER_GET_CONFIG, V1 | NEED_REPLY, pl, 12);
	rec(&s, 0, 0x7f, V1 | NEED_REPLY, NULL, 0);
	rec_u64(&s, 1 | (KIND_DEVNULL << 4), VHOST_USER_SET_LOG_FD,
		V1 | NEED_REPLY, 0);
	rec(&s, 0, VHOST_USER_GET_BACKEND_SPECS, V1, NULL, 0);
	seed_write(dir, "v1-unsupported", &s);

	/* A header split over two writes, then one with an fd it may not
	 * carry (the connection closes).
	 */
	s.len = 0;
	seed_u8(&s, 0);
	seed_u8(&s, CTL_RAW);
	seed_u8(&s, 0);
	seed_u8(&s, 0);
	seed_u16(&s, 6);
	seed_u32(&s, VHOST_USER_GET_FEATURES);
	seed_u16(&s, V1);
	seed_u8(&s, CTL_RAW);
	seed_u8(&s, 0);
	seed_u8(&s, 0);
	seed_u16(&s, 6);
	seed_u16(&s, 0);
	seed_u32(&s, 0);
	rec(&s, 1 | (KIND_EVENTFD << 4), VHOST_USER_GET_FEATURES, V1, NULL, 0);
	seed_write(dir, "v1-split-header", &s);

	/* v2 header with a foreign conn_id. */
	s.len = 0;
	seed_u8(&s, 0);
	seed_u8(&s, CTL_CONN_ID);
	seed_u8(&s, VHOST_USER_GET_FEATURES);
	seed_u8(&s, V2);
	seed_u16(&s, 0);
	seed_u64(&s, 7);
	seed_write(dir, "v2-bad-conn-id", &s);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t uuid[16] = {
		0x76, 0x70, 0x63, 0x69, 0x2d, 0x66, 0x75, 0x7a,
		0x7a, 0x2d, 0x40, 0x6d, 0x80, 0x73, 0x67, 0x21,
	};
	const char *dir = seed_dir_arg(*argc, *argv);
	unsigned int i;

	if (dir != NULL) {
		write_seeds(dir);
		exit(0);
	}
	if (!fuzz_verbose())
		rte_log_set_global_level(RTE_LOG_CRIT);
	/* Replies carry it: the same bytes in every run. */
	rte_vhost_pci_set_local_uuid(uuid);
	for (i = 0; i < MEMFD_POOL; i++) {
		memfds[i] = memfd_create("vpci-fuzz", MFD_CLOEXEC);
		if (memfds[i] < 0 || ftruncate(memfds[i], memfd_size[i]) < 0) {
			perror("memfd");
			exit(1);
		}
	}
	evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (evfd < 0 || nullfd < 0 || socketpair(AF_UNIX,
			SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
			sockfd) < 0) {
		perror("fds");
		exit(1);
	}
	vhost_pci_endpoint_init(&fuzz_ep, "/run/vpci-fuzz/msg.sock", 0, 1,
		&fuzz_ops, &fuzz_st);
	vhost_pci_endpoint_add(&fuzz_ep);
	return 0;
}
