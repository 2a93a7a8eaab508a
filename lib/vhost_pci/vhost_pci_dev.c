/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * Device model: one BAR window per front-end device.
 *
 * The window is reserved PROT_NONE at twice the peer's memory (the vhost-pci
 * device model RFC: room for hot-add), the metadata page is mapped at
 * offset 0 and each region's fd is mapped MAP_SHARED|MAP_FIXED behind it,
 * aligned to the fd's page size so hugepage-backed memory stays on hugepage
 * boundaries.
 *
 * Security model: region fields come from the peer. They are checked for
 * overflow, overlap and against the fd's real size before anything is
 * mapped, so the driver can never reach past the end of a peer's file.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_common.h>

#define VHOST_PCI_LOGTYPE	vhost_pci_logtype_dev
#include "vhost_pci_private.h"

#define BAR_MIN_ALIGN	(2u << 20)

void
vhost_pci_dev_vring_reset(struct vhost_pci_vring *vr)
{
	if (vr->call_inband)
		vhost_pci_unwatch(vr->callfd);
	if (vr->err_inband)
		vhost_pci_unwatch(vr->errfd);
	if (vr->kickfd >= 0)
		close(vr->kickfd);
	if (vr->callfd >= 0)
		close(vr->callfd);
	if (vr->errfd >= 0)
		close(vr->errfd);
	memset(vr, 0, sizeof(*vr));
	vr->kickfd = vr->callfd = vr->errfd = -1;
}

void
vhost_pci_dev_init(struct vhost_pci_device *dev,
		struct vhost_pci_endpoint *ep)
{
	uint32_t i;

	memset(dev, 0, sizeof(*dev));
	dev->ep = ep;
	dev->backend_fd = -1;
	dev->port_id = -1;
	for (i = 0; i < RTE_VHOST_PCI_MAX_VRINGS; i++) {
		dev->vring[i].kickfd = -1;
		dev->vring[i].callfd = -1;
		dev->vring[i].errfd = -1;
	}
}

static struct rte_vhost_pci_meta *
dev_meta(const struct vhost_pci_device *dev)
{
	return (struct rte_vhost_pci_meta *)dev->bar.base;
}

/*
 * Changes of the metadata page are bracketed like a seqlock write
 * (rte_vhost_pci_meta_write_begin/end): a driver that reads the page at
 * any time, from any thread or another VM, sees a consistent copy.
 */
static void
meta_begin(struct vhost_pci_device *dev)
{
	if (dev_meta(dev) != NULL)
		rte_vhost_pci_meta_write_begin(dev_meta(dev));
}

static uint32_t
meta_end(struct vhost_pci_device *dev)
{
	return dev_meta(dev) != NULL ?
		rte_vhost_pci_meta_write_end(dev_meta(dev)) : 0;
}

/* A driver that stopped using the device, or a ring, acknowledges the
 * generation that told it to (the device model RFC's DEL_DONE). In vdev
 * mode the PMD acknowledges inside the callback; a driver in another VM
 * takes longer, and a dead one never does: then we go on after a bound.
 */
#define ACK_TIMEOUT_MS	2000

static void
meta_wait_ack(struct vhost_pci_device *dev, uint32_t gen)
{
	const struct rte_vhost_pci_meta *meta = dev_meta(dev);
	unsigned int ms;

	if (meta == NULL)
		return;
	for (ms = 0; ms < ACK_TIMEOUT_MS; ms++) {
		/* Pairs with the release in rte_vhost_pci_driver_ack(). */
		if (!(__atomic_load_n(&rte_vhost_pci_meta_driver(meta)->flags,
				__ATOMIC_ACQUIRE) &
				RTE_VHOST_PCI_DRIVER_F_ATTACHED) ||
				rte_vhost_pci_driver_acked(meta, gen))
			return;
		usleep(1000);
	}
	VHOST_PCI_LOG(WARNING, "%s: connection %" PRIu64 ": the driver did not acknowledge generation %u in %u ms",
		dev->ep->path, dev->conn_id, gen, ACK_TIMEOUT_MS);
}

/* Indexes the driver wrote back for ring @idx when it applied @gen. */
static void
meta_take_writeback(struct vhost_pci_device *dev, uint32_t idx,
		uint32_t gen)
{
	const struct rte_vhost_pci_driver *drv;

	if (dev_meta(dev) == NULL)
		return;
	drv = rte_vhost_pci_meta_driver(dev_meta(dev));
	/* Ordered after the acquire of the ack in meta_wait_ack(). */
	if (drv->vring[idx].gen != gen)
		return;
	dev->vring[idx].base = drv->vring[idx].last_avail_idx;
	dev->vring[idx].used_base = drv->vring[idx].last_used_idx;
	dev->vring[idx].resume = true;
}

void
vhost_pci_dev_detach(struct vhost_pci_device *dev)
{
	uint32_t i, gen;

	if (!dev->attached)
		return;
	meta_begin(dev);
	if (dev_meta(dev) != NULL)
		dev_meta(dev)->status = 0;
	gen = meta_end(dev);
	/* The application and the wait for its driver run without the
	 * lock; only this thread changes the device meanwhile.
	 */
	vhost_pci_unlocked_begin();
	dev->ep->ops->destroy_device(dev->vid, dev->ep->ctx);
	meta_wait_ack(dev, gen);
	vhost_pci_unlocked_end();
	dev->attached = false;
	dev->port_id = -1;
	for (i = 0; i < RTE_VHOST_PCI_MAX_VRINGS; i++) {
		if (dev->vring[i].active)
			meta_take_writeback(dev, i, gen);
		dev->vring[i].active = false;
	}
	VHOST_PCI_LOG(INFO, "%s: connection %" PRIu64 ": device detached",
		dev->ep->path, dev->conn_id);
}

/* Drop one reference; the last one unmaps. Any thread, no lock. */
void
vhost_pci_window_put(struct vhost_pci_window *w)
{
	/* Pairs with the increment in rte_vhost_pci_dev_bar_hold(): every
	 * access through the reference happened before it is dropped.
	 */
	if (__atomic_sub_fetch(&w->refcnt, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	vhost_pci_fault_unwatch(w->base);
	munmap(w->base, w->size);
	free(w);
}

/* The device lets go of its window; mbufs may still hold it mapped. */
static void
bar_unmap(struct vhost_pci_bar *bar)
{
	uint32_t i;

	for (i = 0; i < bar->nregions; i++)
		if (bar->region[i].fd >= 0)
			close(bar->region[i].fd);
	if (bar->win != NULL)
		vhost_pci_window_put(bar->win);
	else if (bar->base != NULL)
		munmap(bar->base, bar->size);	/* never fully built */
	memset(bar, 0, sizeof(*bar));
}

void
vhost_pci_dev_reset(struct vhost_pci_device *dev)
{
	uint32_t i;

	vhost_pci_dev_detach(dev);
	bar_unmap(&dev->bar);
	for (i = 0; i < RTE_VHOST_PCI_MAX_VRINGS; i++)
		vhost_pci_dev_vring_reset(&dev->vring[i]);
	dev->features = 0;
	dev->features_set = false;
	dev->status = 0;
	dev->owner = false;
	if (dev->backend_fd >= 0)
		close(dev->backend_fd);
	dev->backend_fd = -1;
}

/* Stop one ring if the driver uses it; report its index. With @reset the
 * ring's size, addresses or base change, or it ends: it will not continue
 * where the driver stopped it.
 */
int
vhost_pci_dev_vring_stop(struct vhost_pci_device *dev, uint32_t idx,
		uint16_t *base, bool reset)
{
	struct vhost_pci_vring *vr = &dev->vring[idx];

	if (dev->attached && idx < 2) {
		vhost_pci_dev_detach(dev);
	} else if (vr->active) {
		uint32_t gen;

		meta_begin(dev);
		dev_meta(dev)->vring[idx].flags &=
			~RTE_VHOST_PCI_VRING_F_ENABLED;
		gen = meta_end(dev);
		vhost_pci_unlocked_begin();
		dev->ep->ops->vring_state_changed(dev->vid, idx, 0,
			dev->ep->ctx);
		meta_wait_ack(dev, gen);
		vhost_pci_unlocked_end();
		meta_take_writeback(dev, idx, gen);
		vr->active = false;
	}
	if (reset)
		vr->resume = false;
	if (base != NULL)
		*base = vr->base;
	return 0;
}

/* ---- memory table ---- */

struct region_plan {
	uint64_t align;
	uint64_t map_off;	/* file offset of the mapping */
	uint64_t delta;		/* mmap_offset - map_off */
	uint64_t map_len;
	uint64_t bar_off;	/* of the mapping */
};

static bool
ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static int
check_region(const char *path, const struct vhost_pci_mem_region *r, int fd,
		struct region_plan *p)
{
	struct stat st;
	uint64_t end;

	if (r->memory_size == 0 ||
			r->guest_phys_addr + r->memory_size < r->guest_phys_addr ||
			r->userspace_addr + r->memory_size < r->userspace_addr ||
			r->mmap_offset + r->memory_size < r->mmap_offset) {
		VHOST_PCI_LOG(ERR, "%s: region gpa 0x%" PRIx64 " size 0x%" PRIx64 " overflows",
			path, r->guest_phys_addr, r->memory_size);
		return -EINVAL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		VHOST_PCI_LOG(ERR, "%s: region fd is not a regular file", path);
		return -EINVAL;
	}
	end = r->mmap_offset + r->memory_size;
	if (end > (uint64_t)st.st_size) {
		VHOST_PCI_LOG(ERR, "%s: region ends at 0x%" PRIx64 ", past the fd's 0x%" PRIx64,
			path, end, (uint64_t)st.st_size);
		return -EINVAL;
	}
	p->align = RTE_MAX((uint64_t)st.st_blksize, (uint64_t)getpagesize());
	if (!rte_is_power_of_2(p->align))
		return -EINVAL;
	p->delta = r->mmap_offset & (p->align - 1);
	p->map_off = r->mmap_offset - p->delta;
	p->map_len = RTE_ALIGN_CEIL(r->memory_size + p->delta, p->align);
	return 0;
}

static int
check_regions(const char *path, const struct vhost_pci_mem_region *r,
		uint32_t n, const int *fds, struct region_plan *plan)
{
	uint32_t i, j;
	int ret;

	for (i = 0; i < n; i++) {
		ret = check_region(path, &r[i], fds[i], &plan[i]);
		if (ret < 0)
			return ret;
		for (j = 0; j < i; j++) {
			if (ranges_overlap(r[i].guest_phys_addr, r[i].memory_size,
					r[j].guest_phys_addr, r[j].memory_size) ||
				ranges_overlap(r[i].userspace_addr, r[i].memory_size,
					r[j].userspace_addr, r[j].memory_size)) {
				VHOST_PCI_LOG(ERR, "%s: regions %u and %u overlap",
					path, j, i);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/* Reserve an aligned PROT_NONE window of @size bytes. */
static uint8_t *
window_reserve(uint64_t size, uint64_t align)
{
	uint8_t *raw, *base;
	uint64_t head, tail;

	raw = mmap(NULL, size + align, PROT_NONE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	base = RTE_PTR_ALIGN_CEIL(raw, align);
	head = base - raw;
	tail = align - head;
	if (head != 0)
		munmap(raw, head);
	if (tail != 0)
		munmap(base + size, tail);
	return base;
}

static int
bar_build(struct vhost_pci_bar *bar, const struct vhost_pci_mem_region *r,
		uint32_t n, const int *fds, struct region_plan *plan)
{
	uint64_t cur = RTE_VHOST_PCI_META_SIZE, align = BAR_MIN_ALIGN, size;
	uint32_t i;
	void *m;

	for (i = 0; i < n; i++) {
		align = RTE_MAX(align, plan[i].align);
		cur = RTE_ALIGN_CEIL(cur, plan[i].align);
		plan[i].bar_off = cur;
		cur += plan[i].map_len;
	}
	/* Twice what the peer has, for hot-add (the vhost-pci device model
	 * RFC).
	 */
	size = RTE_ALIGN_CEIL(2 * cur, align);
	bar->base = window_reserve(size, align);
	if (bar->base == NULL)
		return -ENOMEM;
	bar->size = size;
	m = mmap(bar->base, RTE_VHOST_PCI_META_SIZE, PROT_READ | PROT_WRITE,
		MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (m == MAP_FAILED)
		goto fail;
	for (i = 0; i < n; i++) {
		m = mmap(bar->base + plan[i].bar_off, plan[i].map_len,
			PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fds[i],
			plan[i].map_off);
		if (m == MAP_FAILED)
			goto fail;
		bar->region[i] = (struct vhost_pci_region){
			.gpa = r[i].guest_phys_addr,
			.uaddr = r[i].userspace_addr,
			.size = r[i].memory_size,
			.bar_offset = plan[i].bar_off + plan[i].delta,
			.map_addr = m,
			.map_len = plan[i].map_len,
			.fd = -1,
			.fd_offset = r[i].mmap_offset,
		};
	}
	bar->nregions = n;
	bar->win = malloc(sizeof(*bar->win));
	if (bar->win == NULL)
		goto fail;
	*bar->win = (struct vhost_pci_window){
		.base = bar->base, .size = bar->size, .refcnt = 1,
	};
	/* From here a peer that drops its memory costs zeros, not SIGBUS. */
	if (vhost_pci_fault_watch(bar->base, bar->size, align) < 0) {
		free(bar->win);
		bar->win = NULL;
		goto fail;
	}
	return 0;
fail:
	bar_unmap(bar);
	return -ENOMEM;
}

static void
meta_write_regions(struct vhost_pci_device *dev)
{
	struct rte_vhost_pci_meta *meta = dev_meta(dev);
	uint32_t i;

	memset(meta, 0, RTE_VHOST_PCI_META_SIZE);
	meta_begin(dev);
	meta->magic = RTE_VHOST_PCI_META_MAGIC;
	meta->version = RTE_VHOST_PCI_META_VERSION;
	meta->bar_size = dev->bar.size;
	meta->dev_type = 1;	/* virtio-net */
	meta->conn_id = dev->conn_id;
	meta->hdr_version = vhost_pci_dev_version(dev);
	meta->nregions = dev->bar.nregions;
	if (dev->peer_uuid_set)
		memcpy(meta->peer_uuid, dev->peer_uuid, VHOST_PCI_UUID_LEN);
	for (i = 0; i < dev->bar.nregions; i++) {
		meta->region[i].gpa = dev->bar.region[i].gpa;
		meta->region[i].size = dev->bar.region[i].size;
		meta->region[i].bar_offset = dev->bar.region[i].bar_offset;
	}
	meta_end(dev);
}

int
vhost_pci_dev_set_mem(struct vhost_pci_device *dev,
		const struct vhost_pci_mem_region *regions, uint32_t nregions,
		int *fds)
{
	struct region_plan plan[RTE_VHOST_PCI_MAX_REGIONS];
	struct vhost_pci_bar bar;
	uint32_t i;
	int ret;

	ret = check_regions(dev->ep->path, regions, nregions, fds, plan);
	if (ret < 0)
		return ret;
	memset(&bar, 0, sizeof(bar));
	ret = bar_build(&bar, regions, nregions, fds, plan);
	if (ret < 0) {
		VHOST_PCI_LOG(ERR, "%s: cannot map the memory table: %s",
			dev->ep->path, strerror(-ret));
		return ret;
	}
	/* Kept for an exporter that shows the memory to a VM
	 * (rte_vhost_pci_dev_region_fd()); the window does not need them.
	 */
	for (i = 0; i < nregions; i++) {
		bar.region[i].fd = fds[i];
		fds[i] = -1;
	}
	/* Stop the driver before the old window goes away. */
	vhost_pci_dev_detach(dev);
	bar_unmap(&dev->bar);
	dev->bar = bar;
	meta_write_regions(dev);
	VHOST_PCI_LOG(INFO, "%s: connection %" PRIu64 ": %u regions in a 0x%" PRIx64 "-byte BAR",
		dev->ep->path, dev->conn_id, nregions, bar.size);
	return 0;
}

/* ---- readiness ---- */

/* Front-end VA range to guest address, inside one region. */
static int
uaddr_to_gpa(const struct vhost_pci_bar *bar, uint64_t uaddr, uint64_t len,
		uint64_t *gpa)
{
	uint32_t i;

	for (i = 0; i < bar->nregions; i++) {
		uint64_t off = uaddr - bar->region[i].uaddr;

		if (off < bar->region[i].size &&
				len <= bar->region[i].size - off) {
			*gpa = bar->region[i].gpa + off;
			return 0;
		}
	}
	return -1;
}

static bool
vring_enabled(const struct vhost_pci_device *dev,
		const struct vhost_pci_vring *vr)
{
	/* Without F_PROTOCOL_FEATURES a ring is enabled by its kick. */
	if (dev->features & RTE_BIT64(VHOST_USER_F_PROTOCOL_FEATURES))
		return vr->enabled;
	return vr->kick_set;
}

/*
 * Size, base and addresses of a ring as the features now say they must be:
 * - a size accepted while RING_PACKED was acked must still suit the
 *   features (found by fuzz_msg: packed, size 200, then split);
 * - a packed base is slot | wrap counter << 15, the slot in the ring;
 * - alignments of virtio 1.1, 2.6 and 2.8.10.1: a misaligned index would
 *   make the driver's atomic accesses split across cache lines (a bus
 *   lock, or SIGBUS where split-lock detection is fatal).
 */
static bool
vring_shape_ok(const struct vhost_pci_vring *vr, bool packed)
{
	const struct vhost_pci_vring_addr *a = &vr->addr;

	if (vr->num == 0)
		return false;
	if (packed)
		return (vr->base & 0x7fff) < vr->num &&
			(a->desc_user_addr & 15) == 0 &&
			(a->avail_user_addr & 3) == 0 &&
			(a->used_user_addr & 3) == 0;
	return rte_is_power_of_2(vr->num) && (a->desc_user_addr & 15) == 0 &&
		(a->avail_user_addr & 1) == 0 && (a->used_user_addr & 3) == 0;
}

/* Fill the metadata of one vring; true if it is usable. */
static bool
vring_publish(struct vhost_pci_device *dev, uint32_t idx)
{
	struct rte_vhost_pci_vring *mv = &dev_meta(dev)->vring[idx];
	struct vhost_pci_vring *vr = &dev->vring[idx];
	bool enabled = vring_enabled(dev, vr);
	uint64_t n = vr->num;
	/* Packed rings have two 4-byte event suppression areas instead of
	 * the avail and used rings.
	 */
	bool packed = !!(dev->features &
		RTE_BIT64(VIRTIO_F_RING_PACKED));
	uint64_t avail_len = packed ? 4 : 6 + 2 * n;
	uint64_t used_len = packed ? 4 : 6 + 8 * n;

	memset(mv, 0, sizeof(*mv));
	mv->size = vr->num;
	/* The peer's doorbell vectors are its rings' eventfds, by index. */
	mv->call_vector = vr->callfd >= 0 ? idx : RTE_VHOST_PCI_NO_VECTOR;
	mv->kick_vector = vr->kickfd >= 0 ? idx : RTE_VHOST_PCI_NO_VECTOR;
	mv->last_avail_idx = vr->base;
	mv->last_used_idx = vr->resume ? vr->used_base : vr->base;
	if (vr->resume)
		mv->flags |= RTE_VHOST_PCI_VRING_F_RESUME;
	if (enabled)
		mv->flags |= RTE_VHOST_PCI_VRING_F_ENABLED;
	if (vr->kickfd < 0)
		mv->flags |= RTE_VHOST_PCI_VRING_F_NO_KICK;
	if (!vr->addr_set || !vr->kick_set || !vring_shape_ok(vr, packed) ||
			uaddr_to_gpa(&dev->bar, vr->addr.desc_user_addr, 16 * n,
				&mv->desc) < 0 ||
			uaddr_to_gpa(&dev->bar, vr->addr.avail_user_addr,
				avail_len, &mv->avail) < 0 ||
			uaddr_to_gpa(&dev->bar, vr->addr.used_user_addr,
				used_len, &mv->used) < 0)
		return false;
	mv->flags |= RTE_VHOST_PCI_VRING_F_READY;
	return enabled;
}

static bool
dev_ready(struct vhost_pci_device *dev, bool ring0, bool ring1)
{
	if (dev->bar.base == NULL || !dev->features_set || !ring0 || !ring1)
		return false;
	if ((dev->protocol_features &
			RTE_BIT64(VHOST_USER_PROTOCOL_F_STATUS)) &&
			!(dev->status & VIRTIO_CONFIG_S_DRIVER_OK))
		return false;
	return true;
}

static int
dev_attach(struct vhost_pci_device *dev)
{
	struct rte_vhost_pci_meta *meta = dev_meta(dev);
	int ret;

	meta_begin(dev);
	meta->status = RTE_VHOST_PCI_STATUS_READY;
	meta_end(dev);
	vhost_pci_unlocked_begin();
	ret = dev->ep->ops->new_device(dev->vid, dev->ep->ctx);
	vhost_pci_unlocked_end();
	if (ret < 0) {
		meta_begin(dev);
		meta->status = 0;
		meta_end(dev);
		VHOST_PCI_LOG(ERR, "%s: connection %" PRIu64 ": device refused: %s",
			dev->ep->path, dev->conn_id, strerror(-ret));
		return ret;
	}
	dev->attached = true;
	dev->vring[0].active = dev->vring[1].active = true;
	VHOST_PCI_LOG(INFO, "%s: connection %" PRIu64 ": device ready, features 0x%" PRIx64,
		dev->ep->path, dev->conn_id, dev->features);
	return 0;
}

/* Tell the driver about rings beyond the first pair that came or went. */
static void
dev_update_rings(struct vhost_pci_device *dev, const bool *usable,
		uint32_t nvrings)
{
	uint32_t i;

	for (i = 2; i < nvrings; i++) {
		if (usable[i] == dev->vring[i].active)
			continue;
		dev->vring[i].active = usable[i];
		vhost_pci_unlocked_begin();
		dev->ep->ops->vring_state_changed(dev->vid, i, usable[i],
			dev->ep->ctx);
		vhost_pci_unlocked_end();
	}
}

/*
 * Bring the driver's view in line with the protocol state: publish the
 * vrings, attach when the device became ready, detach when it stopped
 * being ready. Returns -1 if the driver refused the device.
 */
int
vhost_pci_dev_update(struct vhost_pci_device *dev)
{
	bool usable[RTE_VHOST_PCI_MAX_VRINGS] = { false };
	uint32_t i, nvrings = 2u * dev->ep->max_queue_pairs;
	bool ready;

	if (dev->bar.base == NULL) {
		vhost_pci_dev_detach(dev);
		return 0;
	}
	meta_begin(dev);
	dev_meta(dev)->features = dev->features;
	dev_meta(dev)->nvrings = nvrings;
	dev_meta(dev)->hdr_version = vhost_pci_dev_version(dev);
	for (i = 0; i < nvrings; i++) {
		/* A ring the driver is using keeps its published state:
		 * config changes stop it first, so only enable can change.
		 */
		if (dev->vring[i].active) {
			usable[i] = vring_enabled(dev, &dev->vring[i]);
			continue;
		}
		usable[i] = vring_publish(dev, i);
	}
	meta_end(dev);
	ready = dev_ready(dev, usable[0], usable[1]);
	if (!ready) {
		vhost_pci_dev_detach(dev);
		return 0;
	}
	if (!dev->attached && dev_attach(dev) < 0)
		return -1;
	dev_update_rings(dev, usable, nvrings);
	return 0;
}

/* The front-end's sender UUID, kept and shown in the metadata page. */
void
vhost_pci_dev_set_peer_uuid(struct vhost_pci_device *dev,
		const uint8_t *uuid)
{
	memcpy(dev->peer_uuid, uuid, VHOST_PCI_UUID_LEN);
	dev->peer_uuid_set = true;
	if (dev_meta(dev) != NULL) {
		meta_begin(dev);
		memcpy(dev_meta(dev)->peer_uuid, uuid, VHOST_PCI_UUID_LEN);
		meta_end(dev);
	}
}

/* Zero-copy mbufs still pointing into a window: how long a disconnect
 * waits for them before it answers anyway (the mapping outlives them).
 */
#define DRAIN_TIMEOUT_MS	1000

static void
window_drain(const struct vhost_pci_device *dev)
{
	const struct vhost_pci_window *w = dev->bar.win;
	unsigned int ms;

	if (w == NULL)
		return;
	/* The device's own reference is the one left when all came back.
	 * Pairs with the release in vhost_pci_window_put().
	 */
	for (ms = 0; ms < DRAIN_TIMEOUT_MS &&
			__atomic_load_n(&w->refcnt, __ATOMIC_ACQUIRE) > 1; ms++)
		usleep(1000);
	if (__atomic_load_n(&w->refcnt, __ATOMIC_ACQUIRE) > 1)
		VHOST_PCI_LOG(WARNING, "%s: connection %" PRIu64 ": %u zero-copy buffer(s) still held after %u ms; the memory stays mapped until they are freed",
			dev->ep->path, dev->conn_id,
			__atomic_load_n(&w->refcnt, __ATOMIC_RELAXED) - 1,
			DRAIN_TIMEOUT_MS);
}

/* Peer channel destroyed: stop the driver, let lent buffers come back,
 * unmap (the vhost-user extension for vhost-pci: the reply means the channel
 * is gone).
 */
void
vhost_pci_dev_disconnect(struct vhost_pci_device *dev)
{
	vhost_pci_dev_detach(dev);
	window_drain(dev);
	bar_unmap(&dev->bar);
}

uint32_t
vhost_pci_dev_version(const struct vhost_pci_device *dev)
{
	const struct vhost_pci_conn *conn = container_of(dev,
		const struct vhost_pci_conn, dev);

	return conn->hops != NULL ? conn->hops->version : 0;
}

/* A reference on the window for zero-copy mbufs: NULL if none. */
struct vhost_pci_window *
vhost_pci_dev_window_hold(const struct vhost_pci_device *dev)
{
	struct vhost_pci_window *w = dev->bar.win;

	if (w == NULL)
		return NULL;
	/* The device's own reference keeps w alive while we add ours. */
	__atomic_add_fetch(&w->refcnt, 1, __ATOMIC_RELAXED);
	return w;
}
