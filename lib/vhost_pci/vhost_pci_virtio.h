/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

#ifndef VHOST_PCI_VIRTIO_H
#define VHOST_PCI_VIRTIO_H

/**
 * @file
 * The virtio definitions the library, the PMD and the tests share: split
 * and packed ring layouts, the virtio-net header, and feature bits (virtio
 * 1.1, sections 2.7, 2.8, 5.1.3 and 5.1.6). They are Linux's UAPI ones, as
 * librte_vhost and DPDK's virtio PMD use them; this header adds only what
 * the UAPI lacks. Internal: not installed.
 *
 * Their __virtio and __le fields are plain integers, read and written
 * without byte swapping: VIRTIO_F_VERSION_1 rings are little-endian, and so
 * is every host this runs on.
 */

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

/* Packed descriptor flags as masks: the UAPI gives their bit numbers. */
#define VHOST_PCI_PDESC_F_AVAIL	(1u << VRING_PACKED_DESC_F_AVAIL)
#define VHOST_PCI_PDESC_F_USED	(1u << VRING_PACKED_DESC_F_USED)

/*
 * A position on a packed ring: the slot, and the wrap counter of its lap in
 * bit VRING_PACKED_EVENT_F_WRAP_CTR. The event suppression off_wrap field
 * and the vhost-user vring base of a packed ring both encode it so.
 */
#define VHOST_PCI_PACKED_WRAP	(1u << VRING_PACKED_EVENT_F_WRAP_CTR)
#define VHOST_PCI_PACKED_SLOT(pos)	((uint16_t)((pos) & \
					 (VHOST_PCI_PACKED_WRAP - 1)))

#endif /* VHOST_PCI_VIRTIO_H */
