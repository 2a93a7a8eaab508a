/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

#ifndef RTE_PMD_VHOST_PCI_H
#define RTE_PMD_VHOST_PCI_H

/**
 * @file
 * net_vhost_pci specific API.
 */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What a net_vhost_pci port knows of the front-end device it serves. */
struct rte_pmd_vhost_pci_peer {
	uint64_t conn_id;	/**< connection id on the server socket */
	uint32_t version;	/**< 1: vhost-user, 2: vhost-pci extension */
	int has_uuid;		/**< uuid is valid */
	uint8_t uuid[16];	/**< the front-end's sender UUID (v2) */
};

/**
 * The peer of a net_vhost_pci port.
 *
 * @return 0; -ENODEV if @p port_id is not a net_vhost_pci port; -ENOTCONN
 *   if no front-end device is attached to it.
 */
int rte_pmd_vhost_pci_get_peer(uint16_t port_id,
		struct rte_pmd_vhost_pci_peer *peer);

/**
 * Tear down the peer channel of a port's v2 front-end device: it receives
 * SET_PEER_CONNECTION(DISCONNECT), the port goes link down and the BAR is
 * unmapped. The front-end may connect again.
 *
 * @return 0; -ENODEV if @p port_id is not a net_vhost_pci port, or if the
 *   device went away meanwhile (its front-end closed its end: the
 *   connection is closed and the port goes link down all the same);
 *   -ENOTCONN if no device is attached; -ENOTSUP for a v1 front-end,
 *   which has no such message; -ENOSPC if the front-end left 8 requests
 *   unanswered.
 */
int rte_pmd_vhost_pci_disconnect(uint16_t port_id);

#ifdef __cplusplus
}
#endif

#endif /* RTE_PMD_VHOST_PCI_H */
