/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

#ifndef RTE_VHOST_PCI_H
#define RTE_VHOST_PCI_H

/**
 * @file
 * librte_vhost_pci: the device (server) side of vhost-user for vhost-pci.
 *
 * A front-end (virtio-net device) connects over a unix socket and shares its
 * memory and vrings. The library maps that memory into one BAR window per
 * front-end device (see rte_vhost_pci_bar.h) and tells the application,
 * through rte_vhost_pci_ops, when the device becomes usable and when it
 * stops being usable.
 *
 * Threads and locks: the callbacks run on the library's control thread
 * ("vhost-pci-ctl"), with no library lock held. They may call any
 * rte_vhost_pci_* function except rte_vhost_pci_server_unregister() (which
 * waits for the control thread and so fails with -EDEADLK there). Calls
 * that change a device (close, send_disconnect) made from a callback take
 * effect when the callback returns; made from any other thread, they
 * return once the control thread carried them out. Only the control thread
 * changes or frees a device; every other call finds its device by vid
 * under the library lock, for the duration of the call only.
 *
 * Telemetry: /vhost_pci/servers lists the registered sockets and
 * /vhost_pci/connections[,<socket path>] the connections on them.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <rte_compat.h>

#include "rte_vhost_pci_bar.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Connect to @p path as a client instead of listening on it. */
#define RTE_VHOST_PCI_F_CLIENT		(1u << 0)
/** Do not offer VIRTIO_F_IN_ORDER: buffers complete out of order. */
#define RTE_VHOST_PCI_F_NO_IN_ORDER	(1u << 1)

/**
 * One front-end device is named by a vid: a handle the library gives in
 * new_device. A vid is a slot plus a generation, so a stale one (its
 * connection closed, even if another took the slot since) makes every call
 * fail with -ENODEV (or return the "none" value documented) instead of
 * reaching another device or freed memory.
 */

/** What the library tells the application. */
struct rte_vhost_pci_ops {
	/**
	 * The device is ready: its BAR is mapped and vrings 0 and 1 are set
	 * up and enabled. Return 0 to take the device, or a negative errno to
	 * refuse it (the library then closes the connection).
	 */
	int (*new_device)(int vid, void *ctx);
	/**
	 * The device stops being usable (disconnect, reset, memory change,
	 * ring 0/1 stopped). When this returns, the application must no
	 * longer touch the BAR; it must have written its ring indexes back
	 * with rte_vhost_pci_vring_writeback(). The BAR is unmapped after.
	 */
	void (*destroy_device)(int vid, void *ctx);
	/**
	 * A vring other than what new_device covered changed state while the
	 * device is in use. On @p enable == 0 the application stops the ring
	 * and writes its indexes back before returning.
	 */
	void (*vring_state_changed)(int vid, uint16_t vring, int enable,
			void *ctx);
};

/**
 * Listen on (or, with RTE_VHOST_PCI_F_CLIENT, connect to) a unix socket.
 *
 * @param path
 *   Socket path.
 * @param flags
 *   RTE_VHOST_PCI_F_*.
 * @param max_queue_pairs
 *   Queue pairs offered to each front-end (1..16).
 * @param ops
 *   Callbacks; must stay valid until unregister.
 * @param ctx
 *   Passed back to every callback.
 * @return
 *   0, or a negative errno.
 */
__rte_experimental
int rte_vhost_pci_server_register(const char *path, uint32_t flags,
		uint16_t max_queue_pairs, const struct rte_vhost_pci_ops *ops,
		void *ctx);

/** Connections one socket accepts unless told otherwise. */
#define RTE_VHOST_PCI_MAX_CLIENTS_DEFAULT	64

/**
 * Bound the connections of a registered server socket: past @p max, a new
 * connection is closed at once, with an error log line. Each client can
 * map all of its memory into this process, so the bound is a resource
 * limit. Connections already there stay.
 *
 * @return 0, -EINVAL if @p max is 0, -ENOENT if @p path is not registered.
 */
__rte_experimental
int rte_vhost_pci_server_set_max_clients(const char *path, uint32_t max);

/**
 * Owner, group and mode of a registered server's socket file. The library
 * creates it with mode 0600: only its owner may connect.
 *
 * @return 0, -ENOENT if @p path is not registered, -ENOTSOCK in client
 *   mode, or the negative errno of chown() or chmod().
 */
__rte_experimental
int rte_vhost_pci_server_set_owner(const char *path, uid_t uid, gid_t gid,
		mode_t mode);

/**
 * Close the socket and every connection on it. Devices in use get
 * destroy_device first. When this returns, no callback of this socket runs
 * or will run.
 *
 * @return 0, -ENOENT if @p path is not registered, -EDEADLK if called
 *   from a callback (on the control thread).
 */
__rte_experimental
int rte_vhost_pci_server_unregister(const char *path);

/**
 * The BAR window of a ready device.
 *
 * @param vid
 *   The device.
 * @param[out] size
 *   Size of the window.
 * @return
 *   Base of the window (the metadata page), or NULL if not mapped.
 */
__rte_experimental
uint8_t *rte_vhost_pci_dev_bar(int vid, uint64_t *size);

/**
 * Keep the device's BAR window mapped beyond the device's use of it: for
 * zero-copy mbufs that point into it. To be called while the device is
 * attached (from new_device up to destroy_device).
 *
 * @return a handle for rte_vhost_pci_bar_release(), or NULL if no window.
 */
__rte_experimental
void *rte_vhost_pci_dev_bar_hold(int vid);

/**
 * Let go of a hold. The last reference unmaps the window. Safe on any
 * lcore, without the library lock: an mbuf free callback may call it.
 */
__rte_experimental
void rte_vhost_pci_bar_release(void *hold);

/**
 * Record a stopped ring's indexes in the metadata page, where GET_VRING_BASE
 * and the next new_device read them.
 *
 * @return 0, -EINVAL for a ring out of range, -ENODEV for a stale vid.
 */
__rte_experimental
int rte_vhost_pci_vring_writeback(int vid,
		uint16_t vring, uint16_t last_avail_idx, uint16_t last_used_idx);

/**
 * The eventfd that notifies the front-end about used buffers on @p vring.
 *
 * @return the fd, or -1 if the front-end polls.
 */
__rte_experimental
int rte_vhost_pci_vring_callfd(int vid, uint16_t vring);

/**
 * The eventfd the front-end kicks on new buffers on @p vring.
 *
 * @return the fd, or -1 if the front-end set none.
 */
__rte_experimental
int rte_vhost_pci_vring_kickfd(int vid, uint16_t vring);

/**
 * The eventfd the front-end watches for errors on @p vring.
 *
 * @return the fd, or -1 if none.
 */
__rte_experimental
int rte_vhost_pci_vring_errfd(int vid, uint16_t vring);

/**
 * PVI on one host: the eventfd behind a front-end RX queue's GSI (v2
 * SET_RX_QUEUE_GSI), i.e. that queue's call eventfd.
 *
 * @return the fd, or -1 if no RX queue has this GSI.
 */
__rte_experimental
int rte_vhost_pci_gsi_eventfd(int vid, uint32_t gsi);

/**
 * Socket path the device connected through, copied into @p buf.
 *
 * @return 0, -ENODEV for a stale vid, -ENOSPC if @p len is too short.
 */
__rte_experimental
int rte_vhost_pci_dev_path(int vid, char *buf, size_t len);

/**
 * The file behind one memory region, for an exporter that shows the
 * front-end's memory to a VM (app/vhost-pci-device). Region @p region is
 * entry @p region of the metadata page's region table. The fd stays the
 * library's: valid until the device's memory table changes or it closes.
 *
 * @param[out] fd_offset
 *   Offset of the region's first byte in the file.
 * @return the fd, or -1 if there is no such region.
 */
__rte_experimental
int rte_vhost_pci_dev_region_fd(int vid,
		uint32_t region, uint64_t *fd_offset);

/**
 * Connection id: assigned by the server, unique per server for its life;
 * 0 for a stale vid.
 */
__rte_experimental
uint64_t rte_vhost_pci_dev_conn_id(int vid);

/**
 * Header version the device's connection speaks: 1 (vhost-user) or 2
 * (vhost-pci extension); 0 before its first message or for a stale vid.
 */
__rte_experimental
uint32_t rte_vhost_pci_dev_version(int vid);

/**
 * The front-end's sender UUID (v2: SET_PVI_SENDER_UUID or the memory
 * table's owner).
 *
 * @return 0, -ENOENT if the front-end sent none, -ENODEV for a stale vid.
 */
__rte_experimental
int rte_vhost_pci_dev_peer_uuid(int vid,
		uint8_t uuid[16]);

/** This side's sender UUID, sent to every v2 front-end. */
__rte_experimental
void rte_vhost_pci_local_uuid(uint8_t uuid[16]);

/** Replace this side's sender UUID (random by default). */
__rte_experimental
void rte_vhost_pci_set_local_uuid(const uint8_t uuid[16]);

/**
 * A GSI table: the front-end's RX queues' (@p local false) or the ones
 * this side sent (@p local true). Copies at most @p max entries.
 *
 * @return the number of entries in the table, or -ENODEV.
 */
__rte_experimental
int rte_vhost_pci_dev_rx_queue_gsi(int vid,
		uint32_t *gsi, uint16_t max, bool local);

/**
 * Send the GSIs of this side's RX queues (v2 SET_RX_QUEUE_GSI).
 *
 * @return 0, -EINVAL if @p n is 0 or over 16, -ENOTSUP on a v1 connection
 *   or without F_VHOST_PCI, -ENOSPC if the front-end left 8 requests
 *   unanswered, -ENODEV if the device's connection is closed or the
 *   message could not be sent (the connection is then closed, by the
 *   control thread as rte_vhost_pci_dev_close() does).
 */
__rte_experimental
int rte_vhost_pci_dev_send_rx_queue_gsi(int vid,
		const uint32_t *gsi, uint16_t n);

/**
 * Tear the peer channel down from this side (v2 SET_PEER_CONNECTION with
 * DISCONNECT): the device is detached (destroy_device) and unmapped, by
 * the control thread (see the threads and locks note above).
 *
 * @return 0, -ENOTSUP on a v1 connection or without F_VHOST_PCI, -ENOSPC
 *   if the front-end left 8 requests unanswered, -ENODEV if the device's
 *   connection is already closed or the message could not be sent (a
 *   front-end that closed its end: the connection is then closed, by the
 *   control thread as rte_vhost_pci_dev_close() does).
 */
__rte_experimental
int rte_vhost_pci_dev_send_disconnect(int vid);

/**
 * Close the device's connection (destroy_device first if it is in use),
 * by the control thread (see the threads and locks note above). The vid
 * is stale from then on.
 *
 * @return 0, or -ENODEV if it already was.
 */
__rte_experimental
int rte_vhost_pci_dev_close(int vid);

/**
 * Accesses to peer memory that its owner took away (a region shrunk or
 * punched while mapped). Each one got a zeroed page instead of SIGBUS.
 */
__rte_experimental
uint64_t rte_vhost_pci_fault_count(void);

/**
 * Name the application's port that uses the device, for telemetry
 * (/vhost_pci/connections). Call it from new_device; the library forgets
 * it when the device is detached.
 *
 * @param port_id
 *   An ethdev port id, or -1 for none.
 * @return 0, or -ENODEV.
 */
__rte_experimental
int rte_vhost_pci_dev_set_port_id(int vid, int port_id);

/** Attach an application pointer to the device: 0, or -ENODEV. */
__rte_experimental
int rte_vhost_pci_dev_set_priv(int vid, void *priv);

/** The pointer given to rte_vhost_pci_dev_set_priv(), or NULL (also for
 * a stale vid).
 */
__rte_experimental
void *rte_vhost_pci_dev_priv(int vid);

#ifdef __cplusplus
}
#endif

#endif /* RTE_VHOST_PCI_H */
