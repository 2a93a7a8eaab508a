/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/* test_vhost_pci_v2: the client-API checks, each starting EAL in its child. */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>

#include "rte_vhost_pci_client.h"
#include "v2_common.h"

/* ---- client API against a live server (EAL, control thread) ---- */

static int
log_get(const int *counter)
{
	return __atomic_load_n(counter, __ATOMIC_SEQ_CST);
}

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
	static char args[][96] = {
		"test_vhost_pci_v2", "--no-huge", "-m", "64", "--no-pci",
		"-l", "0", "--file-prefix=",
	};
	const char *pfx = getenv("VPCI_PFX");
	char *argv[RTE_DIM(args)];
	unsigned int i;

	/* Runs side by side (devtools/common.sh) need their own prefix. */
	snprintf(args[RTE_DIM(args) - 1], sizeof(args[0]),
		"--file-prefix=%s-v2", pfx != NULL ? pfx : "vpci");
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

/* Bring the device up through the client; the server's vid comes from
 * new_device.
 */
static int
cl_bringup(struct live *l, int *vid)
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
	*vid = __atomic_load_n(&l->log.vid, __ATOMIC_SEQ_CST);
	return 0;
}

int
t_live_connect(const void *arg __rte_unused)
{
	int vid;
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
	TRY(cl_bringup(&l, &vid));
	EXPECT(rte_vhost_pci_dev_conn_id(vid) == id,
		"server conn_id %" PRIu64 ", client %" PRIu64,
		rte_vhost_pci_dev_conn_id(vid), id);
	EXPECT(rte_vhost_pci_dev_version(vid) == V2, "server side speaks v%u",
		rte_vhost_pci_dev_version(vid));
	TRY(expect_peer_uuid(vid, client_uuid));
	ret = rte_vhost_pci_client_set_peer_connection(l.c, true);
	EXPECT(ret == 0, "SET_PEER_CONNECTION(1) after bring-up: %d", ret);
	rc = 0;
out:
	live_down(&l);
	return rc;
}

int
t_live_gsi(const void *arg __rte_unused)
{
	int vid;
	struct live l;
	uint64_t v;
	int rc = -1, ret;

	TRY(live_up(&l));
	TRY(cl_bringup(&l, &vid));
	ret = rte_vhost_pci_dev_send_rx_queue_gsi(vid, gsi_78, 2);
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

int
t_live_disconnect(const void *arg __rte_unused)
{
	int vid;
	struct live l;
	uint64_t v;
	int rc = -1, ret;

	TRY(live_up(&l));
	TRY(cl_bringup(&l, &vid));
	ret = rte_vhost_pci_dev_send_disconnect(vid);
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

/*
 * The peer closed its end with bytes of ours unread: the kernel resets
 * the connection (ECONNRESET), which means closed, as documented: -EPIPE.
 */
int
t_recv_reset(const void *arg __rte_unused)
{
	static const uint8_t reply[HDR_V2 + 8];
	struct rte_vhost_pci_msg m;
	int sv[2], ret;

	TRYR(new_socketpair(SOCK_STREAM | SOCK_CLOEXEC, sv));
	if (write(sv[0], reply, sizeof(reply)) != (ssize_t)sizeof(reply)) {
		close(sv[0]);
		close(sv[1]);
		return FAIL("write: %s", strerror(errno));
	}
	close(sv[1]);
	ret = rte_vhost_pci_msg_recv(sv[0], V2, &m, 1000);
	close(sv[0]);
	if (ret != -EPIPE)
		return FAIL("rte_vhost_pci_msg_recv: %d (%s), want -EPIPE", ret,
			strerror(-ret));
	return 0;
}
