/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

#ifndef RTE_VHOST_PCI_CLIENT_H
#define RTE_VHOST_PCI_CLIENT_H

/**
 * @file
 * The front-end (client) side of the vhost-pci extension, version 0x02.
 *
 * A client owns one connection to a vhost-pci server. Requests are
 * synchronous. While a client waits for a reply, the server may send
 * requests of its own (SET_RX_QUEUE_GSI, SET_PVI_SENDER_UUID,
 * SET_PEER_CONNECTION); they are told apart by the reply flag, handed to
 * the callbacks and answered before the wait goes on (the "asynchronous
 * client read" of the vhost-user extension for vhost-pci). Not thread-safe:
 * one thread per client.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_compat.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Largest payload of a message, in either version. */
#define RTE_VHOST_PCI_MSG_PAYLOAD_MAX	280
/** Largest number of fds one message carries. */
#define RTE_VHOST_PCI_MSG_MAX_FDS	8

/** One vhost-user message, either header version. */
struct rte_vhost_pci_msg {
	uint32_t request;
	uint32_t flags;		/**< version bits, reply, need-reply */
	uint64_t conn_id;	/**< v2 only */
	uint32_t size;
	uint32_t nfds;
	int fds[RTE_VHOST_PCI_MSG_MAX_FDS];
	uint8_t payload[RTE_VHOST_PCI_MSG_PAYLOAD_MAX];
};

/**
 * Read one whole message from a blocking or non-blocking socket, waiting
 * up to @p timeout_ms for it to start. fds received belong to the caller.
 *
 * @return 0, -ETIMEDOUT, -EPIPE when the peer closed, -EPROTO if the header
 *   is not of @p version or is too big, other negative errno on error.
 */
__rte_experimental
int rte_vhost_pci_msg_recv(int fd, uint32_t version,
		struct rte_vhost_pci_msg *msg, int timeout_ms);

/** Write one message with its fds. @return 0 or a negative errno. */
__rte_experimental
int rte_vhost_pci_msg_send(int fd, uint32_t version,
		const struct rte_vhost_pci_msg *msg);

/** Close the fds a message still holds. */
__rte_experimental
void rte_vhost_pci_msg_close_fds(struct rte_vhost_pci_msg *msg);

struct rte_vhost_pci_client;

/** Requests the server sends on its own. Return 0 to answer success. */
struct rte_vhost_pci_client_ops {
	int (*sender_uuid)(struct rte_vhost_pci_client *c,
			const uint8_t uuid[16], void *ctx);
	int (*rx_queue_gsi)(struct rte_vhost_pci_client *c,
			const uint32_t *gsi, uint16_t n, void *ctx);
	/** The server tore the peer channel down. */
	int (*peer_disconnect)(struct rte_vhost_pci_client *c, void *ctx);
};

/**
 * Connect to a vhost-pci server and negotiate: GET_PROTOCOL_FEATURES,
 * SET_PROTOCOL_FEATURES (@p protocol_features | F_VHOST_PCI | REPLY_ACK),
 * GET_CONN_ID, SET_DEV_TYPE(net) and SET_PVI_SENDER_UUID(@p uuid).
 *
 * @return the client, or NULL with rte_errno set.
 */
__rte_experimental
struct rte_vhost_pci_client *rte_vhost_pci_client_connect(const char *path,
		const uint8_t uuid[16], uint64_t protocol_features,
		const struct rte_vhost_pci_client_ops *ops, void *ctx);

/** The socket, for poll(). */
__rte_experimental
int rte_vhost_pci_client_fd(const struct rte_vhost_pci_client *c);

/** The id the server assigned. */
__rte_experimental
uint64_t rte_vhost_pci_client_conn_id(const struct rte_vhost_pci_client *c);

/** Protocol features negotiated with the server (F_VHOST_PCI included). */
__rte_experimental
uint64_t rte_vhost_pci_client_protocol_features(
		const struct rte_vhost_pci_client *c);

/** The server's sender UUID. @return 0, or -ENOENT before it came. */
__rte_experimental
int rte_vhost_pci_client_server_uuid(const struct rte_vhost_pci_client *c,
		uint8_t uuid[16]);

/**
 * Send a request (the header is filled in: version 2, conn_id, NEED_REPLY)
 * and wait for its reply, handling server requests meanwhile. The fds in
 * @p req are sent, not closed.
 *
 * @param reply
 *   Filled with the reply. Every request gets one: GET_* their own, the
 *   others a REPLY_ACK u64 (0 success).
 * @return 0, or a negative errno (-EPIPE: the server closed).
 */
__rte_experimental
int rte_vhost_pci_client_request(struct rte_vhost_pci_client *c,
		struct rte_vhost_pci_msg *req, struct rte_vhost_pci_msg *reply);

/** SET_RX_QUEUE_GSI with @p n GSIs. @return 0 or a negative errno. */
__rte_experimental
int rte_vhost_pci_client_set_rx_queue_gsi(struct rte_vhost_pci_client *c,
		const uint32_t *gsi, uint16_t n);

/**
 * SET_PEER_CONNECTION. @return 0 when the server answered success, 1 when
 * it refused (CONNECT before the device is ready), negative on error.
 */
__rte_experimental
int rte_vhost_pci_client_set_peer_connection(struct rte_vhost_pci_client *c,
		bool connect);

/**
 * Handle server requests that are waiting, without blocking.
 *
 * @return 0, or -EPIPE once the server closed the connection.
 */
__rte_experimental
int rte_vhost_pci_client_poll(struct rte_vhost_pci_client *c);

/** Close the connection and free the client. */
__rte_experimental
void rte_vhost_pci_client_close(struct rte_vhost_pci_client *c);

#ifdef __cplusplus
}
#endif

#endif /* RTE_VHOST_PCI_CLIENT_H */
