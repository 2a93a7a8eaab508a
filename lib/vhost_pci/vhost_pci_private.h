/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

#ifndef VHOST_PCI_PRIVATE_H
#define VHOST_PCI_PRIVATE_H

#include <inttypes.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/queue.h>

#include <rte_bitops.h>
#include <rte_log.h>
#include <rte_string_fns.h>

#include "rte_vhost_pci.h"
#include "vhost_pci_wire.h"

/*
 * Log types (vhost_pci_core.c): lib.vhost_pci for the control layer and
 * the API, lib.vhost_pci.msg for framing and the protocol, and
 * lib.vhost_pci.dev for the device model. A file names its own with
 * VHOST_PCI_LOGTYPE before it includes this header.
 */
extern int vhost_pci_logtype;
extern int vhost_pci_logtype_msg;
extern int vhost_pci_logtype_dev;
#ifndef VHOST_PCI_LOGTYPE
#define VHOST_PCI_LOGTYPE	vhost_pci_logtype
#endif
#define VHOST_PCI_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, VHOST_PCI_LOGTYPE, \
		"VHOST_PCI: " fmt "\n", ##__VA_ARGS__)

#define VHOST_PCI_MAX_QUEUE_PAIRS	(RTE_VHOST_PCI_MAX_VRINGS / 2)

/*
 * A header codec. The transport learns the version from the first 8 bytes
 * of a connection's first message and then uses one codec for the rest of
 * the connection: this is what lets the v2 header (with conn_id) share the
 * transport with v1.
 */
struct vhost_pci_msg;
struct vhost_pci_hdr_ops {
	uint32_t version;
	uint32_t hdr_size;
	void (*decode)(const uint8_t *buf, struct vhost_pci_msg *msg);
	void (*encode)(const struct vhost_pci_msg *msg, uint8_t *buf);
};
extern const struct vhost_pci_hdr_ops vhost_pci_hdr_v1;
extern const struct vhost_pci_hdr_ops vhost_pci_hdr_v2;
/* The codec of a header version, or NULL (vhost_pci_wire.c). */
const struct vhost_pci_hdr_ops *vhost_pci_hdr_ops_for(uint32_t version);

/* A message, decoded from either header version. */
struct vhost_pci_msg {
	uint32_t request;
	uint32_t flags;
	uint64_t conn_id;	/* v2 only */
	uint32_t size;
	int fds[VHOST_PCI_MAX_FDS];	/* -1 once a handler took the fd */
	uint32_t nfds;
	union {
		uint64_t u64;
		struct vhost_pci_vring_state state;
		struct vhost_pci_vring_addr addr;
		uint8_t raw[VHOST_PCI_PAYLOAD_MAX];
	} payload;
};

/* What the library keeps of one vring; ring addresses in front-end VA. */
struct vhost_pci_vring {
	uint32_t num;
	uint16_t base;		/* next avail index (packed: | wrap << 15) */
	uint16_t used_base;	/* next used index, valid with resume */
	/* The driver stopped the ring and wrote its indexes back, and no
	 * message has reset the ring since: the next attach continues it,
	 * buffers the driver still holds included.
	 */
	bool resume;
	bool enabled;
	bool addr_set;
	struct vhost_pci_vring_addr addr;
	int kickfd;		/* -1: none yet or NOFD */
	bool kick_set;		/* SET_VRING_KICK received (fd or NOFD) */
	int callfd;
	int errfd;
	/* In-band notifications: callfd/errfd are ours, and a signal on
	 * them becomes a back-end VRING_CALL/VRING_ERR message.
	 */
	bool call_inband;
	bool err_inband;
	bool active;		/* the driver is using it */
};

/* One mapped region of the BAR window. */
struct vhost_pci_region {
	uint64_t gpa;
	uint64_t uaddr;
	uint64_t size;
	uint64_t bar_offset;	/* of gpa's byte */
	void *map_addr;		/* page-aligned mapping, for munmap */
	uint64_t map_len;
	int fd;			/* the peer's, kept for an exporter */
	uint64_t fd_offset;	/* of gpa's byte in the fd */
};

/* A mapped window; unmapped when its last reference goes (the device's,
 * and one per zero-copy mbuf pointing into it).
 */
struct vhost_pci_window {
	uint8_t *base;
	uint64_t size;
	uint32_t refcnt;
};

/* The BAR window: metadata page at offset 0, regions behind it. */
struct vhost_pci_bar {
	uint8_t *base;		/* NULL when nothing is mapped */
	struct vhost_pci_window *win;
	uint64_t size;
	uint32_t nregions;
	struct vhost_pci_region region[RTE_VHOST_PCI_MAX_REGIONS];
};

struct vhost_pci_endpoint;

/* One front-end device: one connection in v1. */
struct vhost_pci_device {
	struct vhost_pci_endpoint *ep;
	int vid;		/* the application's handle: slot | gen */
	uint64_t conn_id;
	uint64_t features;
	uint64_t protocol_features;
	bool features_set;
	bool owner;
	uint8_t status;
	struct vhost_pci_bar bar;
	struct vhost_pci_vring vring[RTE_VHOST_PCI_MAX_VRINGS];
	bool attached;		/* new_device succeeded, no destroy yet */
	/* Version 0x02 (vhost-pci extension) state. */
	bool conn_id_assigned;	/* GET_CONN_ID answered: headers carry it */
	uint64_t dev_type;	/* 0 until SET_DEV_TYPE */
	bool peer_uuid_set;
	bool local_uuid_sent;	/* our SET_PVI_SENDER_UUID went out */
	uint8_t peer_uuid[VHOST_PCI_UUID_LEN];
	uint16_t ngsi;		/* the front-end's RX queue GSIs */
	uint32_t gsi[VHOST_PCI_MAX_GSI];
	uint16_t nlocal_gsi;	/* ours, as last sent */
	uint32_t local_gsi[VHOST_PCI_MAX_GSI];
	void *priv;		/* the application's, see rte_vhost_pci_dev_priv */
	int port_id;		/* the application's port using it, or -1 */
	int backend_fd;		/* SET_BACKEND_REQ_FD channel, or -1 */
};

/*
 * Framing (vhost_pci_transport.c), for the server and the client alike:
 * one message assembled from a stream socket, with its fds.
 */
struct vhost_pci_rx {
	uint8_t buf[VHOST_PCI_HDR_MAX + VHOST_PCI_PAYLOAD_MAX];
	uint32_t len;
	int fds[VHOST_PCI_MAX_FDS];
	uint32_t nfds;
};
/* Read what the socket holds, up to the end of one message, without
 * blocking. *hops NULL: learnt from the first header. Returns 1 when a
 * whole message is there, 0 when the socket has no more for now, or a
 * negative errno (-EPIPE at the end of the stream, -EPROTO for a header
 * that breaks the rules): the connection is to be closed. @who names the
 * socket in log lines.
 */
int vhost_pci_rx_read(int fd, struct vhost_pci_rx *rx,
		const struct vhost_pci_hdr_ops **hops, const char *who);
/* Take the whole message out; its fds go with it. */
void vhost_pci_rx_take(struct vhost_pci_rx *rx,
		const struct vhost_pci_hdr_ops *hops, struct vhost_pci_msg *msg);
/* Drop a message half read, closing its fds. */
void vhost_pci_rx_reset(struct vhost_pci_rx *rx);
/* Send one message, with @nfds fds; @flags add to sendmsg's. */
int vhost_pci_tx(int fd, const struct vhost_pci_hdr_ops *hops,
		const struct vhost_pci_msg *msg, const int *fds, uint32_t nfds,
		int flags);
void vhost_pci_close_fds(int *fds, uint32_t *nfds);

struct vhost_pci_conn {
	TAILQ_ENTRY(vhost_pci_conn) next;
	int fd;
	uint64_t token;		/* epoll cookie, checked before use */
	uint64_t notify_token;	/* + 2 * vring (+ 1 for err): in-band fds */
	bool dead;		/* closed, waiting to be freed */
	/* Asked by the application from outside the control thread, or from
	 * a callback: carried out by the control thread at its next safe
	 * point (vhost_pci_ctl_request()).
	 */
	bool req_close;
	bool req_disconnect;
	const struct vhost_pci_hdr_ops *hops;
	struct vhost_pci_rx rx;	/* the message being assembled */
	/* Requests we sent (v2) whose replies have not come yet, in order. */
	uint32_t pending[8];
	uint32_t npending;
	struct vhost_pci_device dev;
};

TAILQ_HEAD(vhost_pci_conn_list, vhost_pci_conn);

struct vhost_pci_endpoint {
	TAILQ_ENTRY(vhost_pci_endpoint) next;
	char path[108];
	uint32_t flags;
	uint16_t max_queue_pairs;
	const struct rte_vhost_pci_ops *ops;
	void *ctx;
	int listen_fd;		/* -1 in client mode */
	uint64_t sock_dev;	/* the file we bound: only it is unlinked */
	uint64_t sock_ino;
	uint64_t token;
	uint64_t next_conn_id;
	uint32_t nconns;	/* connections in conns */
	uint32_t max_clients;	/* past it, a new connection is refused */
	bool req_unregister;	/* the control thread removes it */
	struct vhost_pci_conn_list conns;
};

/*
 * Shared by every layer (vhost_pci_core.c). One mutex, never recursive,
 * guards every endpoint, connection and device. Only the control thread
 * changes a device or frees a connection; other threads read under the
 * lock or post requests. The lock is released around every application
 * callback and around the wait for a driver's acknowledgement.
 */
void vhost_pci_lock_take(void);
void vhost_pci_lock_release(void);
void vhost_pci_lock_wait(pthread_cond_t *cond);
/* Whether a control thread runs, and its epoll set (-1: none). Lock held. */
void vhost_pci_ctl_set(bool running, int epfd);
bool vhost_pci_ctl_running(void);
/* The calling thread is the control thread. */
void vhost_pci_ctl_enter(void);
bool vhost_pci_is_ctl_thread(void);
/* Whether this thread is in the role of the control thread: the thread
 * itself, or the caller that drives connections when there is none.
 */
bool vhost_pci_on_ctl(void);
/* Whether this thread runs an application callback right now. */
bool vhost_pci_in_callback(void);
/* Around an application callback (and the wait for the driver's
 * acknowledgement that follows it): release the lock, mark this thread as
 * in a callback; then take the lock again. Only the control thread calls
 * these, so the connection cannot go away in between.
 */
void vhost_pci_unlocked_begin(void);
void vhost_pci_unlocked_end(void);
/* Watch @fd for the control thread, its events carrying @token; a no-op
 * when no thread runs.
 */
int vhost_pci_watch(int fd, uint64_t token);
void vhost_pci_unwatch(int fd);

/* Control (vhost_pci_ctl.c): endpoints, connections, vids, requests. */
/* The device of @vid, or NULL if the vid is stale. Lock held. */
struct vhost_pci_device *vhost_pci_dev_get(int vid);
/* Carry out a request just posted on @conn: now if this thread may, else
 * wake the control thread and wait for it. Lock held; it may be released.
 */
void vhost_pci_ctl_request(struct vhost_pci_conn *conn);
struct vhost_pci_conn *vhost_pci_conn_create(struct vhost_pci_endpoint *ep,
		int fd);
/* Read what is there and dispatch whole messages; -1: connection closed. */
int vhost_pci_conn_process(struct vhost_pci_conn *conn);
void vhost_pci_conn_close(struct vhost_pci_conn *conn);
void vhost_pci_conn_free(struct vhost_pci_conn *conn);
void vhost_pci_endpoint_init(struct vhost_pci_endpoint *ep, const char *path,
		uint32_t flags, uint16_t max_queue_pairs,
		const struct rte_vhost_pci_ops *ops, void *ctx);
void vhost_pci_endpoint_add(struct vhost_pci_endpoint *ep);
/* The registered sockets in order, under the lock: NULL gives the first. */
struct vhost_pci_endpoint *vhost_pci_endpoint_next(
		struct vhost_pci_endpoint *ep);

/* Dispatch (vhost_pci_msg.c). Return values of a handler: */
#define VH_OK		0	/* done; reply if one is owed */
#define VH_REFUSE	1	/* refused: NACK when asked, connection stays */
#define VH_ERR		(-1)	/* protocol violation: close the connection */
int vhost_pci_dispatch(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg);
const char *vhost_pci_req_name(uint32_t version, uint32_t request);
uint64_t vhost_pci_offered_features(const struct vhost_pci_endpoint *ep);
uint64_t vhost_pci_offered_protocol_features(uint32_t version);
int vhost_pci_send_request(struct vhost_pci_conn *conn, uint32_t request,
		const void *payload, uint32_t size);
int vhost_pci_conn_send(struct vhost_pci_conn *conn,
		const struct vhost_pci_msg *msg);
/* A signal on an in-band vring fd: send VRING_CALL or VRING_ERR. */
void vhost_pci_conn_inband(struct vhost_pci_conn *conn, uint32_t vring,
		bool err);
extern uint8_t vhost_pci_local_uuid[VHOST_PCI_UUID_LEN];

/* Peer memory taken away under a window (vhost_pci_fault.c). */
int vhost_pci_fault_watch(void *base, uint64_t size, uint64_t page);
void vhost_pci_fault_unwatch(void *base);

/* Device model (vhost_pci_dev.c). */
void vhost_pci_dev_init(struct vhost_pci_device *dev,
		struct vhost_pci_endpoint *ep);
int vhost_pci_dev_set_mem(struct vhost_pci_device *dev,
		const struct vhost_pci_mem_region *regions, uint32_t nregions,
		int *fds);
int vhost_pci_dev_update(struct vhost_pci_device *dev);
void vhost_pci_dev_detach(struct vhost_pci_device *dev);
void vhost_pci_dev_disconnect(struct vhost_pci_device *dev);
void vhost_pci_dev_set_peer_uuid(struct vhost_pci_device *dev,
		const uint8_t *uuid);
void vhost_pci_dev_reset(struct vhost_pci_device *dev);
void vhost_pci_dev_vring_reset(struct vhost_pci_vring *vr);
int vhost_pci_dev_vring_stop(struct vhost_pci_device *dev,
		uint32_t idx, uint16_t *base, bool reset);
uint32_t vhost_pci_dev_version(const struct vhost_pci_device *dev);
struct vhost_pci_window *vhost_pci_dev_window_hold(
		const struct vhost_pci_device *dev);
/* Drop one reference; the last one unmaps. Any thread, no lock. */
void vhost_pci_window_put(struct vhost_pci_window *w);

#endif /* VHOST_PCI_PRIVATE_H */
