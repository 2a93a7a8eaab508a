/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

#ifndef VHOST_PCI_WIRE_H
#define VHOST_PCI_WIRE_H

/**
 * @file
 * vhost-user wire format, version 0x01 (the 2015 vhost-user specification
 * and today's vhost-user specification) and the vhost-pci extension, version
 * 0x02 (the vhost-user extension for vhost-pci). Wire format only: no state,
 * no logic.
 *
 * All fields are in host byte order, as the specification says. The request
 * always travels as a uint32_t: the peer controls it, so it is never an enum.
 */

#include <assert.h>
#include <stdint.h>

#include "vhost_pci_virtio.h"

/* Header flags. */
#define VHOST_PCI_HDR_VERSION_MASK	0x3u
#define VHOST_PCI_HDR_VERSION_1		0x1u
#define VHOST_PCI_HDR_VERSION_2		0x2u
#define VHOST_PCI_HDR_F_REPLY		(1u << 2)
#define VHOST_PCI_HDR_F_NEED_REPLY	(1u << 3)
#define VHOST_PCI_HDR_F_KNOWN		(VHOST_PCI_HDR_VERSION_MASK | \
					 VHOST_PCI_HDR_F_REPLY | \
					 VHOST_PCI_HDR_F_NEED_REPLY)

/* Version 0x01 header: request | flags | size. */
struct vhost_pci_hdr_v1 {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
} __attribute__((packed));
static_assert(sizeof(struct vhost_pci_hdr_v1) == 12, "v1 header");

/* Version 0x02 header: request | flags | conn_id | size. */
struct vhost_pci_hdr_v2 {
	uint32_t request;
	uint32_t flags;
	uint64_t conn_id;
	uint32_t size;
} __attribute__((packed));
static_assert(sizeof(struct vhost_pci_hdr_v2) == 20, "v2 header");

/* Bytes common to both headers; enough to learn the version. */
#define VHOST_PCI_HDR_PREFIX		8u
#define VHOST_PCI_HDR_MAX		20u
#define VHOST_PCI_CONN_ID_ANON		UINT64_MAX

/*
 * Front-end requests. Ids 1-19 are the 2015 set (the 2015 vhost-user
 * specification); the later ids are today's (today's vhost-user
 * specification and the STANDALONE and GET_BACKEND_SPECS RFC). Ids 20-24
 * are listed twice: their meaning depends on the header version (see
 * doc/guides/specs).
 */
#define VHOST_USER_GET_FEATURES			1u
#define VHOST_USER_SET_FEATURES			2u
#define VHOST_USER_SET_OWNER			3u
#define VHOST_USER_RESET_OWNER			4u
#define VHOST_USER_SET_MEM_TABLE		5u
#define VHOST_USER_SET_LOG_BASE			6u
#define VHOST_USER_SET_LOG_FD			7u
#define VHOST_USER_SET_VRING_NUM		8u
#define VHOST_USER_SET_VRING_ADDR		9u
#define VHOST_USER_SET_VRING_BASE		10u
#define VHOST_USER_GET_VRING_BASE		11u
#define VHOST_USER_SET_VRING_KICK		12u
#define VHOST_USER_SET_VRING_CALL		13u
#define VHOST_USER_SET_VRING_ERR		14u
#define VHOST_USER_GET_PROTOCOL_FEATURES	15u
#define VHOST_USER_SET_PROTOCOL_FEATURES	16u
#define VHOST_USER_GET_QUEUE_NUM		17u
#define VHOST_USER_SET_VRING_ENABLE		18u
#define VHOST_USER_SEND_RARP			19u
/* v1 meanings of 20-24 (today's vhost-user specification). */
#define VHOST_USER_NET_SET_MTU			20u
#define VHOST_USER_SET_BACKEND_REQ_FD		21u
#define VHOST_USER_IOTLB_MSG			22u
#define VHOST_USER_SET_VRING_ENDIAN		23u
#define VHOST_USER_GET_CONFIG			24u
/* v2 meanings of 20-24 (the vhost-pci extension). */
#define VHOST_PCI_GET_CONN_ID			20u
#define VHOST_PCI_SET_DEV_TYPE			21u
#define VHOST_PCI_SET_PVI_SENDER_UUID		22u
#define VHOST_PCI_SET_RX_QUEUE_GSI		23u
#define VHOST_PCI_SET_PEER_CONNECTION		24u
#define VHOST_USER_SET_CONFIG			25u
#define VHOST_USER_VRING_KICK			35u
#define VHOST_USER_SET_STATUS			39u
#define VHOST_USER_GET_STATUS			40u
#define VHOST_USER_GET_BACKEND_SPECS		41u
#define VHOST_USER_REQ_MAX			42u

/* vhost-user's own feature bit (virtio's are in vhost_pci_virtio.h). */
#define VHOST_USER_F_PROTOCOL_FEATURES		30

/* Protocol feature bits. Bit 4 collides: F_MTU in v1, F_VHOST_PCI in v2. */
#define VHOST_USER_PROTOCOL_F_MQ		0
#define VHOST_USER_PROTOCOL_F_LOG_SHMFD		1
#define VHOST_USER_PROTOCOL_F_RARP		2
#define VHOST_USER_PROTOCOL_F_REPLY_ACK		3
#define VHOST_USER_PROTOCOL_F_MTU		4
#define VHOST_PCI_PROTOCOL_F_VHOST_PCI		4
#define VHOST_USER_PROTOCOL_F_BACKEND_REQ	5
#define VHOST_USER_PROTOCOL_F_CONFIG		9
#define VHOST_USER_PROTOCOL_F_INBAND_NOTIF	14
#define VHOST_USER_PROTOCOL_F_STATUS		16
#define VHOST_USER_PROTOCOL_F_STANDALONE	18

/* u64 payload of SET_VRING_KICK/CALL/ERR. */
#define VHOST_USER_VRING_IDX_MASK		0xffu
#define VHOST_USER_VRING_NOFD			(1u << 8)

struct vhost_pci_vring_state {
	uint32_t index;
	uint32_t num;
} __attribute__((packed));
static_assert(sizeof(struct vhost_pci_vring_state) == 8, "vring state");

struct vhost_pci_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
} __attribute__((packed));
static_assert(sizeof(struct vhost_pci_vring_addr) == 40, "vring addr");

#define VHOST_PCI_MAX_MEM_REGIONS		8u

struct vhost_pci_mem_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
} __attribute__((packed));
static_assert(sizeof(struct vhost_pci_mem_region) == 32, "mem region");

/* v1 SET_MEM_TABLE; v2 puts a 16-byte UUID in front of it. */
struct vhost_pci_mem_table {
	uint32_t nregions;
	uint32_t padding;
	struct vhost_pci_mem_region regions[];
} __attribute__((packed));
static_assert(sizeof(struct vhost_pci_mem_table) == 8, "mem table");

#define VHOST_PCI_UUID_LEN			16u

/* Largest payload accepted from a peer: the v2 memory table. */
#define VHOST_PCI_PAYLOAD_MAX	(VHOST_PCI_UUID_LEN + \
				 sizeof(struct vhost_pci_mem_table) + \
				 VHOST_PCI_MAX_MEM_REGIONS * \
				 sizeof(struct vhost_pci_mem_region))
static_assert(VHOST_PCI_PAYLOAD_MAX == 280, "largest payload");

/* Back-end requests, on the SET_BACKEND_REQ_FD channel (today's vhost-user
 * specification).
 */
#define VHOST_USER_BACKEND_VRING_CALL		4u
#define VHOST_USER_BACKEND_VRING_ERR		5u

/* GET_BACKEND_SPECS reply (the STANDALONE and GET_BACKEND_SPECS RFC). */
struct vhost_pci_backend_specs {
	uint32_t device_id;
	uint32_t config_size;
	uint32_t min_vqs;
	uint32_t max_vqs;
} __attribute__((packed));
static_assert(sizeof(struct vhost_pci_backend_specs) == 16, "specs");

/* SET_DEV_TYPE payload (u64). */
#define VHOST_PCI_DEV_TYPE_NET			1u

/* SET_PEER_CONNECTION payload (u64). */
#define VHOST_PCI_PEER_DISCONNECT		0u
#define VHOST_PCI_PEER_CONNECT			1u

/*
 * SET_RX_QUEUE_GSI payload: a 16-bit count, then one GSI per RX queue. The
 * vhost-pci extension leaves the GSI width open; we use 32 bits (a Linux GSI
 * is a u32) and no padding after the count, as the extension draws it.
 */
#define VHOST_PCI_GSI_HDR			2u
#define VHOST_PCI_GSI_SIZE			4u
#define VHOST_PCI_MAX_GSI			16u

/* fds a single message may carry: one per memory region at most. */
#define VHOST_PCI_MAX_FDS			VHOST_PCI_MAX_MEM_REGIONS

#endif /* VHOST_PCI_WIRE_H */
