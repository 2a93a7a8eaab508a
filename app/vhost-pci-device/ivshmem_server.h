/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

#ifndef IVSHMEM_SERVER_H
#define IVSHMEM_SERVER_H

/*
 * QEMU's ivshmem server protocol, the server side: what an
 * ivshmem-doorbell device's chardev talks to. Messages are little-endian
 * int64 values, some carrying one fd (SCM_RIGHTS).
 */

#include <stdbool.h>
#include <stdint.h>

struct ivs_server;

/* Listen on path (a stale socket file is replaced). NULL and errno on failure. */
struct ivs_server *ivs_server_create(const char *path);
/* Closes the listening socket and unlinks its path. */
void ivs_server_destroy(struct ivs_server *s);
/* The listening fd, for poll(). */
int ivs_server_fd(const struct ivs_server *s);
/*
 * Accept one pending client and greet it: version 0, its id own_id, the
 * shared-memory fd (none if shm_fd < 0: QEMU then fails that device),
 * then peer_id with each of the npeer peer_fds, then own_id with each of
 * the nown own_fds. Returns the connection fd, or -1.
 */
int ivs_server_accept(struct ivs_server *s, int64_t own_id, int shm_fd,
		int64_t peer_id, const int *peer_fds, unsigned int npeer,
		const int *own_fds, unsigned int nown);
/* Replace a peer's vectors: remove it, then add each fd (n 0: remove). */
int ivs_conn_set_peer(int conn_fd, int64_t peer_id, const int *fds,
		unsigned int n);
/* Add vectors to a peer the client does not know yet. */
int ivs_conn_add_peer(int conn_fd, int64_t peer_id, const int *fds,
		unsigned int n);
/* True once the client has closed the connection. */
bool ivs_conn_closed(int conn_fd);

#endif /* IVSHMEM_SERVER_H */
