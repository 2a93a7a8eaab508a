/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

#ifndef RTE_VHOST_PCI_BAR_H
#define RTE_VHOST_PCI_BAR_H

/**
 * @file
 * Layout of the vhost-pci BAR: a metadata page at offset 0, then the peer's
 * memory regions. This is exactly what the driver reads, in vdev mode from
 * the library's window and later from a PCI BAR; doc/guides/specs/bar_layout.rst
 * describes the same bytes. All fields are little endian (host order on the
 * only supported targets).
 *
 * The metadata page is written by the device side only. The driver writes
 * nothing but the per-vring index write-back fields, when it stops a ring.
 */

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/** "VPCI" read as a little-endian uint32_t. */
#define RTE_VHOST_PCI_META_MAGIC	0x49435056u
/** Version of this layout. */
#define RTE_VHOST_PCI_META_VERSION	1u
/** Size of the metadata area at the start of the BAR. */
#define RTE_VHOST_PCI_META_SIZE		4096u
/** Memory regions of one front-end device. */
#define RTE_VHOST_PCI_MAX_REGIONS	8u
/** Vrings of one front-end device: 16 queue pairs. */
#define RTE_VHOST_PCI_MAX_VRINGS	32u
/** Largest split ring the device model accepts. */
#define RTE_VHOST_PCI_MAX_RING_SIZE	32768u

/** meta.status: regions are mapped and vring 0 and 1 are usable. */
#define RTE_VHOST_PCI_STATUS_READY	(1u << 0)

/** vring.flags: the front-end enabled this ring. */
#define RTE_VHOST_PCI_VRING_F_ENABLED	(1u << 0)
/** vring.flags: size, addresses and kick are set and translate. */
#define RTE_VHOST_PCI_VRING_F_READY	(1u << 1)
/** vring.flags: the front-end wants polling, it set no kick fd. */
#define RTE_VHOST_PCI_VRING_F_NO_KICK	(1u << 2)
/**
 * vring.flags: the ring continues where the driver stopped it (a ring
 * disable, a memory table update): last_used_idx may trail
 * last_avail_idx, and buffers the driver held then are still its own to
 * return. Without it the ring was reset, and such buffers are forfeit.
 */
#define RTE_VHOST_PCI_VRING_F_RESUME	(1u << 3)

/** One peer memory region as the driver sees it. */
struct rte_vhost_pci_region {
	uint64_t gpa;		/**< front-end (guest) address of byte 0 */
	uint64_t size;		/**< bytes */
	uint64_t bar_offset;	/**< where byte 0 lies in the BAR */
	uint64_t reserved;
};

/** One vring, addresses in front-end (guest) address space. */
struct rte_vhost_pci_vring {
	uint32_t size;		/**< descriptors; split: a power of two */
	uint32_t flags;		/**< RTE_VHOST_PCI_VRING_F_* */
	uint64_t desc;		/**< descriptor table */
	uint64_t avail;		/**< driver (available) ring */
	uint64_t used;		/**< device (used) ring */
	uint16_t last_avail_idx; /**< base; the driver writes it back on stop */
	uint16_t last_used_idx;	/**< the driver writes it back on stop */
	uint32_t reserved[3];
};

/** The metadata page, at BAR offset 0. */
struct rte_vhost_pci_meta {
	uint32_t magic;		/**< RTE_VHOST_PCI_META_MAGIC */
	uint32_t version;	/**< RTE_VHOST_PCI_META_VERSION */
	uint32_t status;	/**< RTE_VHOST_PCI_STATUS_* */
	uint32_t generation;	/**< bumped on every change of this page */
	uint64_t features;	/**< virtio features the front-end acked */
	uint64_t bar_size;	/**< size of the whole BAR window */
	uint32_t nregions;	/**< valid entries in region[] */
	uint32_t nvrings;	/**< valid entries in vring[] */
	uint32_t dev_type;	/**< virtio device id; 1 = net */
	uint32_t reserved;
	uint8_t peer_uuid[16];	/**< front-end sender UUID, 0 if unknown */
	struct rte_vhost_pci_region region[RTE_VHOST_PCI_MAX_REGIONS];
	struct rte_vhost_pci_vring vring[RTE_VHOST_PCI_MAX_VRINGS];
};

_Static_assert(sizeof(struct rte_vhost_pci_region) == 32, "region size");
_Static_assert(sizeof(struct rte_vhost_pci_vring) == 48, "vring size");
_Static_assert(sizeof(struct rte_vhost_pci_meta) == 64 + 8 * 32 + 32 * 48,
	"meta size");
_Static_assert(sizeof(struct rte_vhost_pci_meta) <= RTE_VHOST_PCI_META_SIZE,
	"meta fits its page");

/**
 * A driver's private copy of the region table, taken once when the device
 * becomes ready, so that every translation uses the same checked values.
 */
struct rte_vhost_pci_map {
	uint8_t *bar;			/**< BAR base address */
	uint64_t bar_size;		/**< BAR size */
	uint32_t nregions;
	struct {
		uint64_t gpa;
		uint64_t size;
		uint8_t *host;		/**< bar + bar_offset */
	} region[RTE_VHOST_PCI_MAX_REGIONS];
};

/**
 * Snapshot the metadata page's region table into @p map, checking that
 * every region lies inside the BAR and after the metadata page.
 *
 * @return 0, or -1 if the metadata is not valid.
 */
static inline int
rte_vhost_pci_map_init(struct rte_vhost_pci_map *map, uint8_t *bar,
		uint64_t bar_size)
{
	const struct rte_vhost_pci_meta *meta = (const void *)bar;
	uint32_t i, n;

	memset(map, 0, sizeof(*map));
	if (bar_size < RTE_VHOST_PCI_META_SIZE ||
			meta->magic != RTE_VHOST_PCI_META_MAGIC ||
			meta->version != RTE_VHOST_PCI_META_VERSION)
		return -1;
	n = meta->nregions;
	if (n > RTE_VHOST_PCI_MAX_REGIONS)
		return -1;
	for (i = 0; i < n; i++) {
		uint64_t off = meta->region[i].bar_offset;
		uint64_t size = meta->region[i].size;
		uint64_t gpa = meta->region[i].gpa;

		if (off < RTE_VHOST_PCI_META_SIZE || off > bar_size ||
				size > bar_size - off || gpa + size < gpa)
			return -1;
		map->region[i].gpa = gpa;
		map->region[i].size = size;
		map->region[i].host = bar + off;
	}
	map->bar = bar;
	map->bar_size = bar_size;
	map->nregions = n;
	return 0;
}

/**
 * Translate a front-end address range to a pointer into the BAR.
 *
 * This is the only way the driver turns a peer address into a pointer.
 *
 * @return a pointer valid for all @p len bytes, or NULL if any byte of
 *   [gpa, gpa + len) lies outside one single mapped region.
 */
static inline void *
rte_vhost_pci_translate(const struct rte_vhost_pci_map *map, uint64_t gpa,
		uint64_t len)
{
	uint32_t i;

	for (i = 0; i < map->nregions; i++) {
		uint64_t off = gpa - map->region[i].gpa;

		/* Unsigned wrap makes gpa below the region fail too. */
		if (off < map->region[i].size &&
				len <= map->region[i].size - off)
			return map->region[i].host + off;
	}
	return NULL;
}

#ifdef __cplusplus
}
#endif

#endif /* RTE_VHOST_PCI_BAR_H */
