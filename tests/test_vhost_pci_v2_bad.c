/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/* test_vhost_pci_v2: the bad messages, each closing a fresh connection. */

#include <string.h>

#include <rte_common.h>

#include "v2_common.h"

/* ---- bad messages: each closes a fresh connection ---- */

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

/* The checks of checklist class 14 (message level) are named so. */
#define C14	"class 14 (messages): "
#define GSI_ARG(count, n)	(((uint32_t)(count) << 16) | (n))

const struct bad_case bad_cases[] = {
	{ "header naming conn_id id+1 after GET_CONN_ID",
		bad_spoof_next_id, 0, V2, 1 },
	{ "header naming the anonymous id after GET_CONN_ID",
		bad_anon_after_id, 0, V2, 1 },
	{ "header naming conn_id 0x1234 before GET_CONN_ID",
		bad_id_before_get, 0x1234, V2, 1 },
	{ "header naming conn_id 1 (the id to come) before GET_CONN_ID",
		bad_id_before_get, 1, V2, 1 },
	{ C14 "GET_CONN_ID (20) before F_VHOST_PCI", bad_ext_without_pci,
		R_GET_CONN_ID, V2, 1 },
	{ C14 "SET_DEV_TYPE (21) before F_VHOST_PCI", bad_ext_without_pci,
		R_SET_DEV_TYPE, V2, 1 },
	{ C14 "SET_PVI_SENDER_UUID (22) before F_VHOST_PCI",
		bad_ext_without_pci, R_SET_PVI_SENDER_UUID, V2, 1 },
	{ C14 "SET_RX_QUEUE_GSI (23) before F_VHOST_PCI", bad_ext_without_pci,
		R_SET_RX_QUEUE_GSI, V2, 1 },
	{ C14 "SET_PEER_CONNECTION (24) before F_VHOST_PCI",
		bad_ext_without_pci, R_SET_PEER_CONNECTION, V2, 1 },
	{ C14 "SET_RX_QUEUE_GSI with 0 entries", bad_gsi, GSI_ARG(0, 0), V2,
		1 },
	{ C14 "SET_RX_QUEUE_GSI with 2 entries, 1 queue pair", bad_gsi,
		GSI_ARG(2, 2), V2, 1 },
	{ C14 "SET_RX_QUEUE_GSI with 3 entries, 2 queue pairs", bad_gsi,
		GSI_ARG(3, 3), V2, 2 },
	{ C14 "SET_RX_QUEUE_GSI count 2 with 1 GSI's bytes", bad_gsi,
		GSI_ARG(2, 1), V2, 2 },
	{ C14 "SET_RX_QUEUE_GSI count 1 with 2 GSIs' bytes", bad_gsi,
		GSI_ARG(1, 2), V2, 2 },
	{ C14 "SET_PVI_SENDER_UUID with a 15-byte UUID", bad_pvi_15, 0, V2,
		1 },
	{ C14 "v2 SET_MEM_TABLE of 23 bytes (< 16 + 8)", bad_mem_short, 23,
		V2, 1 },
	{ C14 "v2 SET_MEM_TABLE of 16 bytes (UUID only)", bad_mem_short, 16,
		V2, 1 },
	{ C14 "v1 header after a v2 message", bad_mixed, V1, V2, 1 },
	{ C14 "v2 header after a v1 message", bad_mixed, V2, V1, 1 },
	{ C14 "SET_PEER_CONNECTION with value 2", bad_peer_connection_2, 0, V2,
		1 },
	{ C14 "client reply with no server request pending",
		bad_reply_none_pending, 0, V2, 1 },
	{ C14 "client reply naming another request than the pending one",
		bad_reply_other_request, 0, V2, 1 },
};

const size_t n_bad_cases = RTE_DIM(bad_cases);

int
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
