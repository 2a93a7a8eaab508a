/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

#ifndef IVSHMEM_SERVER_H
#define IVSHMEM_SERVER_H

/*
 * The server side of QEMU's ivshmem-doorbell protocol, version 0.
 *
 * The server listens on a unix stream socket. It talks, the client (QEMU)
 * only listens: every message is an 8-byte little-endian int64, some with
 * one fd attached (SCM_RIGHTS). A new client gets, in this order:
 *   0                    the protocol version, no fd
 *   own id               no fd
 *   -1                   with the shared memory fd (BAR2; its size is the
 *                        fd's size, which must be a power of two)
 *   peer id, per vector  with that vector's eventfd, for each other peer
 *   own id, per vector   with the client's own eventfds (its MSI-X vectors)
 * Later a peer id with an fd adds one vector to that peer, a peer id
 * without an fd removes the peer and all its vectors. A guest write of
 * (peer << 16) | vector to the doorbell register signals that peer's
 * eventfd for that vector.
 *
 * QEMU reads the version, its id and the shared memory synchronously while
 * it creates the device: the server must listen before QEMU starts, and
 * ivs_server_accept() must be called as soon as the listening fd is
 * readable.
 *
 * Ids are 0 to IVS_MAX_ID. All fds passed in stay the caller's: the kernel
 * duplicates them into the client. Nothing a client does makes these
 * functions abort; a client that stops reading makes a send fail after
 * IVS_SEND_TIMEOUT_MS instead of blocking the caller for good.
 */

#include <stdbool.h>
#include <stdint.h>

#define IVS_PROTOCOL_VERSION	0
#define IVS_MAX_ID		65535	/* QEMU rejects larger ids */
#define IVS_SEND_TIMEOUT_MS	5000

struct ivs_server;

/*
 * Listen on path. A stale socket file is replaced; a socket someone still
 * listens on, or any other kind of file, is left alone (EADDRINUSE,
 * EEXIST). Returns NULL with errno set on failure.
 */
struct ivs_server *ivs_server_create(const char *path);

/*
 * Close the listening socket and every client connection the caller has
 * not closed already, and unlink the path. NULL is a no-op.
 */
void ivs_server_destroy(struct ivs_server *s);

/* The listening fd (non-blocking), for poll(): POLLIN means a client. */
int ivs_server_fd(const struct ivs_server *s);

/*
 * Accept one pending client and greet it: version 0, its id own_id, the
 * shared memory shm_fd, then peer_id with each of the npeer peer_fds
 * (npeer may be 0: no peer yet), then own_id with each of the nown
 * own_fds. With shm_fd < 0 the shared memory message goes without an fd:
 * QEMU then fails to create that device (a way to turn a client down).
 * Returns the connection fd (blocking, close-on-exec) for the ivs_conn_*
 * functions; the caller closes it. Returns -1 with errno set when no
 * client is pending (EAGAIN), an argument is wrong (EINVAL) or the
 * greeting fails (the connection is then closed).
 */
int ivs_server_accept(struct ivs_server *s, int64_t own_id, int shm_fd,
		int64_t peer_id, const int *peer_fds, unsigned int npeer,
		const int *own_fds, unsigned int nown);

/*
 * Replace peer peer_id's vectors on a greeted connection: remove the peer
 * (its id without an fd), then add each of the n fds as its vectors 0 to
 * n - 1. n == 0 only removes. Never pass the connection's own id: QEMU
 * refuses to remove it. Returns 0, or -1 with errno set.
 *
 * Beware QEMU (7.2, Debian's; upstream's code reads the same): a removal
 * frees the peer's vector array but leaves the peer pointing at it, so a
 * later vector for that same id is written into freed memory. QEMU's own
 * ivshmem-server never reuses an id, so nothing upstream goes that way;
 * here the guest still rings the new eventfds, and QEMU aborts at exit
 * with "malloc(): unaligned tcache chunk detected" (tests/tools/ivs_smoke
 * -r set shows it). A removal alone is harmless. To change a peer's
 * vectors, give the peer a new id with ivs_conn_add_peer() instead.
 */
int ivs_conn_set_peer(int conn_fd, int64_t peer_id, const int *fds,
		unsigned int n);

/*
 * Add the n fds as further vectors of peer peer_id, without removing it
 * first: for a peer the client has not been told about yet. 0 or -1.
 */
int ivs_conn_add_peer(int conn_fd, int64_t peer_id, const int *fds,
		unsigned int n);

/*
 * True when the client has closed the connection (or the fd is not a
 * usable socket); the caller then closes conn_fd. Never blocks. Anything
 * the client sent (the protocol has it send nothing) is read and dropped,
 * fds included, so a chatty client cannot keep poll() spinning.
 */
bool ivs_conn_closed(int conn_fd);

#endif /* IVSHMEM_SERVER_H */
