/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * vpci_churn: connects and disconnects vhost-pci v2 clients in rounds.
 *
 *   vpci_churn PATH ROUNDS CLIENTS
 *
 * Each round connects CLIENTS clients to the server on PATH (random sender
 * UUIDs), checks that every conn_id the server assigned is new (distinct
 * from all ids seen so far and not the anonymous id), then closes them all.
 * The clients never bring a device up, so they must never take a port.
 * Prints "churn: rounds=R clients=C ids=N errors=E"; exits 1 on any error.
 * No EAL: the client API uses plain sockets.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <rte_common.h>
#include <rte_errno.h>

#include <rte_vhost_pci_client.h>

/* The id of a connection before GET_CONN_ID (vhost_pci_wire.h). */
#define CHURN_CONN_ID_ANON	UINT64_MAX
#define CHURN_MAX_ROUNDS	100000ul
#define CHURN_MAX_CLIENTS	1024ul

struct churn {
	const char *path;
	unsigned long rounds;
	unsigned long clients;
	uint64_t *ids;		/* every id assigned, rounds * clients */
	size_t nids;
	unsigned long errors;
	unsigned long server_requests;
};

static int
cb_sender_uuid(struct rte_vhost_pci_client *c __rte_unused,
		const uint8_t uuid[16] __rte_unused, void *ctx)
{
	struct churn *ch = ctx;

	ch->server_requests++;
	return 0;
}

static int
cb_rx_queue_gsi(struct rte_vhost_pci_client *c __rte_unused,
		const uint32_t *gsi __rte_unused, uint16_t n __rte_unused,
		void *ctx)
{
	struct churn *ch = ctx;

	ch->server_requests++;
	return 0;
}

static int
cb_peer_disconnect(struct rte_vhost_pci_client *c __rte_unused, void *ctx)
{
	struct churn *ch = ctx;

	ch->server_requests++;
	return 0;
}

static const struct rte_vhost_pci_client_ops churn_ops = {
	.sender_uuid = cb_sender_uuid,
	.rx_queue_gsi = cb_rx_queue_gsi,
	.peer_disconnect = cb_peer_disconnect,
};

static int
random_uuid(uint8_t u[16])
{
	if (getrandom(u, 16, 0) != 16)
		return -1;
	u[6] = (u[6] & 0x0f) | 0x40;	/* version 4 */
	u[8] = (u[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Has this id been assigned before, in this round or an earlier one? */
static int
id_seen(const struct churn *ch, uint64_t id)
{
	size_t i;

	for (i = 0; i < ch->nids; i++)
		if (ch->ids[i] == id)
			return 1;
	return 0;
}

static void
churn_round(struct churn *ch, unsigned long round,
		struct rte_vhost_pci_client **c)
{
	uint8_t uuid[16];
	unsigned long i;
	uint64_t id;

	for (i = 0; i < ch->clients; i++) {
		c[i] = NULL;
		if (random_uuid(uuid) < 0) {
			fprintf(stderr, "churn: round %lu client %lu: getrandom: %s\n",
				round, i, strerror(errno));
			ch->errors++;
			continue;
		}
		c[i] = rte_vhost_pci_client_connect(ch->path, uuid, 0,
			&churn_ops, ch);
		if (c[i] == NULL) {
			fprintf(stderr, "churn: round %lu client %lu: connect to %s: %s\n",
				round, i, ch->path, strerror(rte_errno));
			ch->errors++;
			continue;
		}
		id = rte_vhost_pci_client_conn_id(c[i]);
		if (id == CHURN_CONN_ID_ANON) {
			fprintf(stderr, "churn: round %lu client %lu: anonymous conn_id\n",
				round, i);
			ch->errors++;
		} else if (id_seen(ch, id)) {
			fprintf(stderr, "churn: round %lu client %lu: conn_id %" PRIu64 " assigned twice\n",
				round, i, id);
			ch->errors++;
		}
		ch->ids[ch->nids++] = id;
	}
	for (i = 0; i < ch->clients; i++)
		rte_vhost_pci_client_close(c[i]);	/* NULL is fine */
}

/* Distinct ids among those assigned, anonymous ids not counted. */
static size_t
count_distinct(struct churn *ch)
{
	size_t i, n = 0;

	qsort(ch->ids, ch->nids, sizeof(ch->ids[0]), cmp_u64);
	for (i = 0; i < ch->nids; i++)
		if (ch->ids[i] != CHURN_CONN_ID_ANON &&
				(i == 0 || ch->ids[i] != ch->ids[i - 1]))
			n++;
	return n;
}

static int
parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno != 0 || end == s || *end != '\0' || *s == '-' ||
		*out == 0 || *out > max ? -1 : 0;
}

int
main(int argc, char **argv)
{
	struct rte_vhost_pci_client **c;
	struct churn ch = { 0 };
	unsigned long r;
	size_t distinct;

	if (argc != 4 || parse_ulong(argv[2], CHURN_MAX_ROUNDS, &ch.rounds) < 0 ||
			parse_ulong(argv[3], CHURN_MAX_CLIENTS, &ch.clients) < 0) {
		fprintf(stderr, "usage: %s PATH ROUNDS CLIENTS\n"
			"  ROUNDS 1..%lu, CLIENTS 1..%lu\n",
			argv[0], CHURN_MAX_ROUNDS, CHURN_MAX_CLIENTS);
		return 2;
	}
	ch.path = argv[1];
	ch.ids = calloc(ch.rounds * ch.clients, sizeof(ch.ids[0]));
	c = calloc(ch.clients, sizeof(*c));
	if (ch.ids == NULL || c == NULL) {
		fprintf(stderr, "churn: out of memory\n");
		return 1;
	}
	for (r = 0; r < ch.rounds; r++)
		churn_round(&ch, r, c);
	distinct = count_distinct(&ch);
	if (ch.server_requests != 0)
		fprintf(stderr, "churn: note: %lu server request(s) received\n",
			ch.server_requests);
	printf("churn: rounds=%lu clients=%lu ids=%zu errors=%lu\n",
		ch.rounds, ch.clients, distinct, ch.errors);
	free(c);
	free(ch.ids);
	return ch.errors == 0 ? 0 : 1;
}
