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
/**
 * Version of this layout. 2: the metadata is read like a seqlock, the
 * driver acknowledges each generation, regions may live in memory devices
 * of their own (PCI mode), and vrings name their doorbell vectors.
 */
#define RTE_VHOST_PCI_META_VERSION	2u
/** Size of the metadata area at the start of the BAR. */
#define RTE_VHOST_PCI_META_SIZE		4096u
/** Offset of the driver's area in the metadata; the device never writes it. */
#define RTE_VHOST_PCI_DRIVER_OFFSET	2048u
/** Memory regions of one front-end device. */
#define RTE_VHOST_PCI_MAX_REGIONS	8u
/** Memory devices one metadata page may name (PCI mode). */
#define RTE_VHOST_PCI_MAX_MEMDEVS	8u
/** Vrings of one front-end device: 16 queue pairs. */
#define RTE_VHOST_PCI_MAX_VRINGS	32u
/** Largest split ring the device model accepts. */
#define RTE_VHOST_PCI_MAX_RING_SIZE	32768u
/** vring.call_vector / kick_vector: no doorbell, the peer polls. */
#define RTE_VHOST_PCI_NO_VECTOR		0xffffu

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

/** driver.flags: a driver uses the device; the device waits for its acks. */
#define RTE_VHOST_PCI_DRIVER_F_ATTACHED	(1u << 0)

/** One peer memory region as the driver sees it. */
struct rte_vhost_pci_region {
	uint64_t gpa;		/**< front-end (guest) address of byte 0 */
	uint64_t size;		/**< bytes */
	/**
	 * Where byte 0 lies: in memory device @p mem's BAR when the page
	 * names memory devices (nmem > 0), else in the metadata's own BAR.
	 */
	uint64_t bar_offset;
	uint32_t mem;		/**< index in memdev[], with nmem > 0 */
	uint32_t reserved;
};

/** One vring, addresses in front-end (guest) address space. */
struct rte_vhost_pci_vring {
	uint32_t size;		/**< descriptors; split: a power of two */
	uint32_t flags;		/**< RTE_VHOST_PCI_VRING_F_* */
	uint64_t desc;		/**< descriptor table */
	uint64_t avail;		/**< driver (available) ring */
	uint64_t used;		/**< device (used) ring */
	uint16_t last_avail_idx; /**< where the driver starts */
	uint16_t last_used_idx;	/**< where the driver starts filling */
	/** Doorbell vector that interrupts the peer about used buffers. */
	uint16_t call_vector;
	/** Vector the peer's kicks arrive on (RX interrupts), or NO_VECTOR. */
	uint16_t kick_vector;
	uint32_t reserved[2];
};

/**
 * A memory device (PCI mode): a PCI function whose BAR 2 shows one of the
 * peer's memory files from file offset 0.
 */
struct rte_vhost_pci_memdev {
	uint64_t size;		/**< BAR 2 size: a power of two */
	/** PCI address: domain << 16 | bus << 8 | device << 3 | function. */
	uint32_t pci_addr;
	uint32_t reserved;
};

/** What the driver writes: the second half of the metadata page. */
struct rte_vhost_pci_driver {
	/** The last generation the driver has applied; see the spec. */
	uint32_t ack;
	uint32_t flags;		/**< RTE_VHOST_PCI_DRIVER_F_* */
	uint32_t reserved[2];
	/** Indexes of a ring the driver stopped, and the generation then. */
	struct {
		uint16_t last_avail_idx;
		uint16_t last_used_idx;
		uint32_t gen;
	} vring[RTE_VHOST_PCI_MAX_VRINGS];
};

/** The metadata page, at BAR offset 0. */
struct rte_vhost_pci_meta {
	uint32_t magic;		/**< RTE_VHOST_PCI_META_MAGIC */
	uint32_t version;	/**< RTE_VHOST_PCI_META_VERSION */
	uint32_t status;	/**< RTE_VHOST_PCI_STATUS_* */
	/** Seqlock: odd while the device writes the page, bumped twice. */
	uint32_t generation;
	uint64_t features;	/**< virtio features the front-end acked */
	uint64_t bar_size;	/**< size of the metadata's BAR */
	uint32_t nregions;	/**< valid entries in region[] */
	uint32_t nvrings;	/**< valid entries in vring[] */
	uint32_t dev_type;	/**< virtio device id; 1 = net */
	uint32_t nmem;		/**< valid entries in memdev[]; 0: vdev window */
	uint8_t peer_uuid[16];	/**< front-end sender UUID, 0 if unknown */
	struct rte_vhost_pci_region region[RTE_VHOST_PCI_MAX_REGIONS];
	struct rte_vhost_pci_vring vring[RTE_VHOST_PCI_MAX_VRINGS];
	struct rte_vhost_pci_memdev memdev[RTE_VHOST_PCI_MAX_MEMDEVS];
	uint64_t conn_id;	/**< the front-end's connection id */
	uint32_t hdr_version;	/**< vhost-user header version: 1 or 2 */
	/** Doorbell peer id of the front-end (PCI mode): (id << 16) | vector. */
	uint16_t peer_id;
	uint16_t reserved;
};

_Static_assert(sizeof(struct rte_vhost_pci_region) == 32, "region size");
_Static_assert(sizeof(struct rte_vhost_pci_vring) == 48, "vring size");
_Static_assert(sizeof(struct rte_vhost_pci_memdev) == 16, "memdev size");
_Static_assert(sizeof(struct rte_vhost_pci_meta) ==
	64 + 8 * 32 + 32 * 48 + 8 * 16 + 16, "meta size");
_Static_assert(sizeof(struct rte_vhost_pci_meta) <= RTE_VHOST_PCI_DRIVER_OFFSET,
	"device part fits below the driver's");
_Static_assert(RTE_VHOST_PCI_DRIVER_OFFSET +
	sizeof(struct rte_vhost_pci_driver) <= RTE_VHOST_PCI_META_SIZE,
	"driver part fits its page");

/** The driver's area of a metadata page. */
static inline struct rte_vhost_pci_driver *
rte_vhost_pci_meta_driver(const void *meta)
{
	return (struct rte_vhost_pci_driver *)(uintptr_t)
		((const uint8_t *)meta + RTE_VHOST_PCI_DRIVER_OFFSET);
}

/**
 * Device side: open a change of the metadata page. The generation is odd
 * until rte_vhost_pci_meta_write_end(): a reader that sees it odd, or
 * sees it change across its copy, copies again.
 */
static inline void
rte_vhost_pci_meta_write_begin(struct rte_vhost_pci_meta *meta)
{
	/* Pairs with the acquire loads in rte_vhost_pci_meta_snapshot(); the
	 * fence keeps the page's stores after the odd generation.
	 */
	__atomic_store_n(&meta->generation, (meta->generation | 1u),
		__ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

/** Device side: close a change; returns the new (even) generation. */
static inline uint32_t
rte_vhost_pci_meta_write_end(struct rte_vhost_pci_meta *meta)
{
	uint32_t g = (meta->generation | 1u) + 1;

	/* Pairs with the acquire loads in rte_vhost_pci_meta_snapshot(). */
	__atomic_store_n(&meta->generation, g, __ATOMIC_RELEASE);
	return g;
}

/**
 * Driver side: a consistent copy of the device's part of a metadata page.
 *
 * @return the generation copied, or -1 if the device kept writing (the
 *   page stayed odd or changed across every one of a few tries).
 */
static inline int64_t
rte_vhost_pci_meta_snapshot(const volatile void *page,
		struct rte_vhost_pci_meta *copy)
{
	const struct rte_vhost_pci_meta *meta =
		(const struct rte_vhost_pci_meta *)(uintptr_t)page;
	uint32_t g1, g2;
	int tries;

	for (tries = 0; tries < 1000; tries++) {
		/* Pairs with the release in rte_vhost_pci_meta_write_end(). */
		g1 = __atomic_load_n(&meta->generation, __ATOMIC_ACQUIRE);
		if (g1 & 1u)
			continue;
		memcpy(copy, meta, sizeof(*copy));
		/* The copy's loads complete before the second look. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		g2 = __atomic_load_n(&meta->generation, __ATOMIC_RELAXED);
		if (g1 == g2) {
			copy->generation = g1;
			return g1;
		}
	}
	return -1;
}

/** Driver side: acknowledge generation @p gen (after the ring write-backs). */
static inline void
rte_vhost_pci_driver_ack(void *page, uint32_t gen)
{
	/* Pairs with the acquire in rte_vhost_pci_driver_acked(): the
	 * write-backs and the driver's last BAR accesses come before it.
	 */
	__atomic_store_n(&rte_vhost_pci_meta_driver(page)->ack, gen,
		__ATOMIC_RELEASE);
}

/** Device side: has the driver applied generation @p gen or a later one? */
static inline int
rte_vhost_pci_driver_acked(const void *page, uint32_t gen)
{
	/* Pairs with the release in rte_vhost_pci_driver_ack(). */
	uint32_t ack = __atomic_load_n(&rte_vhost_pci_meta_driver(page)->ack,
		__ATOMIC_ACQUIRE);

	return (int32_t)(ack - gen) >= 0;
}

/**
 * A driver's private copy of the region table, taken once when the device
 * becomes ready, so that every translation uses the same checked values.
 */
struct rte_vhost_pci_map {
	uint8_t *bar;			/**< the metadata's BAR */
	uint64_t bar_size;		/**< its size */
	uint32_t nregions;
	struct {
		uint64_t gpa;
		uint64_t size;
		uint8_t *host;		/**< where byte 0 is mapped */
	} region[RTE_VHOST_PCI_MAX_REGIONS];
};

/** One BAR a region may lie in: the metadata's own, or a memory device's. */
struct rte_vhost_pci_bar_view {
	uint8_t *base;
	uint64_t size;
};

/** Why rte_vhost_pci_map_init() refused a page, for a log line. */
static inline const char *
rte_vhost_pci_map_strerror(int err)
{
	switch (err) {
	case -1: return "no vhost-pci signature";
	case -2: return "unsupported layout version";
	case -3: return "too many regions or memory devices";
	case -4: return "a region lies outside its BAR";
	case -5: return "a region names a memory device that is not there";
	case -6: return "a region wraps the guest address space";
	default: return "invalid metadata";
	}
}

/**
 * Check a snapshot's region table and build @p map from it: each region
 * must lie inside the BAR that holds it, after the metadata page when
 * that is the metadata's own BAR.
 *
 * @param meta
 *   A snapshot (rte_vhost_pci_meta_snapshot()).
 * @param bar
 *   The metadata's BAR.
 * @param mem
 *   The memory devices' BARs, in memdev[] order (meta->nmem of them), as
 *   the caller found and mapped them; NULL if meta->nmem is 0.
 * @return 0, or a negative code for rte_vhost_pci_map_strerror().
 */
static inline int
rte_vhost_pci_map_build(struct rte_vhost_pci_map *map,
		const struct rte_vhost_pci_meta *meta,
		const struct rte_vhost_pci_bar_view *bar,
		const struct rte_vhost_pci_bar_view *mem)
{
	uint32_t i, n;

	memset(map, 0, sizeof(*map));
	if (meta->magic != RTE_VHOST_PCI_META_MAGIC)
		return -1;
	if (meta->version != RTE_VHOST_PCI_META_VERSION)
		return -2;
	n = meta->nregions;
	if (n > RTE_VHOST_PCI_MAX_REGIONS ||
			meta->nmem > RTE_VHOST_PCI_MAX_MEMDEVS)
		return -3;
	for (i = 0; i < n; i++) {
		const struct rte_vhost_pci_region *r = &meta->region[i];
		const struct rte_vhost_pci_bar_view *v = bar;
		uint64_t lo = RTE_VHOST_PCI_META_SIZE;

		if (meta->nmem > 0) {
			if (r->mem >= meta->nmem || mem == NULL ||
					mem[r->mem].base == NULL)
				return -5;
			v = &mem[r->mem];
			lo = 0;
		}
		if (r->bar_offset < lo || r->bar_offset > v->size ||
				r->size > v->size - r->bar_offset)
			return -4;
		if (r->gpa + r->size < r->gpa)
			return -6;
		map->region[i].gpa = r->gpa;
		map->region[i].size = r->size;
		map->region[i].host = v->base + r->bar_offset;
	}
	map->bar = bar->base;
	map->bar_size = bar->size;
	map->nregions = n;
	return 0;
}

/**
 * Snapshot the metadata page at the start of a vdev window of
 * @p bar_size bytes and build @p map from it (no memory devices).
 *
 * @return 0, or -1 if the metadata is not valid.
 */
static inline int
rte_vhost_pci_map_init(struct rte_vhost_pci_map *map, uint8_t *bar,
		uint64_t bar_size)
{
	struct rte_vhost_pci_bar_view v = { bar, bar_size };
	struct rte_vhost_pci_meta meta;

	memset(map, 0, sizeof(*map));
	if (bar_size < RTE_VHOST_PCI_META_SIZE ||
			rte_vhost_pci_meta_snapshot(bar, &meta) < 0 ||
			meta.nmem != 0)
		return -1;
	return rte_vhost_pci_map_build(map, &meta, &v, NULL) < 0 ? -1 : 0;
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

/**
 * As rte_vhost_pci_translate(), trying region @p *hint first: the
 * region of the caller's last translation, which consecutive buffers
 * usually share. On a miss every region is searched, and @p *hint set to
 * the one found. Any @p *hint value is safe: out of range, it is ignored.
 *
 * @return a pointer valid for all @p len bytes, or NULL if any byte of
 *   [gpa, gpa + len) lies outside one single mapped region.
 */
static inline void *
rte_vhost_pci_translate_hint(const struct rte_vhost_pci_map *map,
		uint64_t gpa, uint64_t len, uint32_t *hint)
{
	uint32_t i = *hint;
	uint64_t off;

	if (i < map->nregions) {
		off = gpa - map->region[i].gpa;
		/* Unsigned wrap makes gpa below the region fail too. */
		if (off < map->region[i].size &&
				len <= map->region[i].size - off)
			return map->region[i].host + off;
	}
	for (i = 0; i < map->nregions; i++) {
		off = gpa - map->region[i].gpa;
		if (off < map->region[i].size &&
				len <= map->region[i].size - off) {
			*hint = i;
			return map->region[i].host + off;
		}
	}
	return NULL;
}

#ifdef __cplusplus
}
#endif

#endif /* RTE_VHOST_PCI_BAR_H */
