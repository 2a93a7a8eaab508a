/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * PCI mode: net_vhost_pci drives a vhost-pci device in a VM. With stock
 * QEMU the device is a set of ivshmem functions (app/vhost-pci-device
 * prints them):
 * - the metadata device, an ivshmem-doorbell whose BAR 2 is the metadata
 *   page and whose BAR 0 holds the doorbell register;
 * - one ivshmem-plain memory device per file of the peer's memory, named
 *   by its PCI address in the metadata page, BAR 2 showing the file from
 *   offset 0.
 * The BARs, the doorbell and nothing else are the contract: a port exists
 * for every metadata device with our signature, an alarm polls its page
 * (vpci_ctl_sync()), memory devices are mapped when an attach names them.
 *
 * IOVA: the BARs are not DPDK memory. A zero-copy mbuf's IOVA is its
 * virtual address under IOVA as VA, else RTE_BAD_IOVA, so a NIC in the
 * same VM must not be handed one: zero-copy is off by default here
 * (vpci_zero_copy_default()), and zero_copy=1 is for software ports only.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bus_driver.h>
#include <bus_pci_driver.h>
#include <ethdev_driver.h>
#include <ethdev_pci.h>
#include <rte_alarm.h>
#include <rte_bus.h>
#include <rte_kvargs.h>
#include <rte_malloc.h>

#include "vpci.h"

#define IVSHMEM_VENDOR		0x1af4
#define IVSHMEM_DEVICE		0x1110
/* QEMU's ivshmem subsystem; DPDK's net_avp claims 0x1104 on the same id. */
#define IVSHMEM_SUBSYS		0x1100
#define IVSHMEM_REG_DOORBELL	12	/* BAR 0: (peer << 16) | vector */
#define IVSHMEM_MEM_BAR		2

/* How often a port reads its metadata page: a change waits at most this
 * long, and the device model waits for our acknowledgement.
 */
#define VPCI_PCI_POLL_US	10000

struct vpci_pci {
	struct rte_pci_device *pdev;		/* the metadata device */
	struct rte_pci_device *mem[RTE_VHOST_PCI_MAX_MEMDEVS];
	bool alarm;
};

static struct rte_pci_driver vpci_pci_drv;

/* Memory devices some port mapped and claimed (EAL sets a device's driver
 * before it calls probe, so that field cannot tell them apart).
 */
static struct rte_pci_device *vpci_claimed[RTE_VHOST_PCI_MAX_MEMDEVS * 8];

static bool
vpci_is_claimed(const struct rte_pci_device *p)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(vpci_claimed); i++)
		if (vpci_claimed[i] == p)
			return true;
	return false;
}

static int
vpci_claim(struct rte_pci_device *p, bool on)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(vpci_claimed); i++)
		if (vpci_claimed[i] == (on ? NULL : p)) {
			vpci_claimed[i] = on ? p : NULL;
			return 0;
		}
	return -1;
}

static const char * const vpci_pci_args[] = { "zero_copy", "zc_min_len", NULL };

static bool
vpci_is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

static uint32_t
vpci_addr_pack(const struct rte_pci_addr *a)
{
	return (a->domain << 16) | (a->bus << 8) | (a->devid << 3) |
		a->function;
}

static int
vpci_addr_cmp(const struct rte_device *dev, const void *want)
{
	const struct rte_pci_device *p = RTE_DEV_TO_PCI_CONST(dev);

	return vpci_addr_pack(&p->addr) != *(const uint32_t *)want;
}

static void vpci_mem_unclaim(struct rte_pci_device *p, bool mapped);

/* A memory device named by the metadata, mapped and claimed by us. */
static struct rte_pci_device *
vpci_mem_claim(struct pmd_internal *internal, uint32_t j, uint32_t addr,
		uint64_t size)
{
	struct rte_bus *bus = rte_bus_find_by_name("pci");
	struct rte_device *d;
	struct rte_pci_device *p;
	uint64_t len;

	d = bus != NULL ? bus->find_device(NULL, vpci_addr_cmp, &addr) : NULL;
	if (d == NULL) {
		VPCI_LOG(ERR, "port %u: memory device %u at %04x:%02x:%02x.%x: no such PCI device",
			internal->port_id, j, addr >> 16, (addr >> 8) & 0xff,
			(addr >> 3) & 0x1f, addr & 7);
		return NULL;
	}
	p = RTE_DEV_TO_PCI(d);
	if (p->id.vendor_id != IVSHMEM_VENDOR ||
			p->id.device_id != IVSHMEM_DEVICE) {
		VPCI_LOG(ERR, "port %u: memory device %u (%s) is not an ivshmem device",
			internal->port_id, j, d->name);
		return NULL;
	}
	if (vpci_is_claimed(p)) {
		VPCI_LOG(ERR, "port %u: memory device %u (%s) is another port's",
			internal->port_id, j, d->name);
		return NULL;
	}
	if (p->driver != NULL) {
		VPCI_LOG(ERR, "port %u: memory device %u (%s) is another driver's",
			internal->port_id, j, d->name);
		return NULL;
	}
	/* What EAL's probe sets up before it maps a device. Claimed from
	 * here: EAL skips a probed device, other drivers leave it.
	 */
	p->intr_handle = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
	p->vfio_req_intr_handle =
		rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
	p->driver = &vpci_pci_drv;
	p->device.driver = &vpci_pci_drv.driver;
	if (p->intr_handle == NULL || p->vfio_req_intr_handle == NULL ||
			vpci_claim(p, true) < 0) {
		vpci_mem_unclaim(p, false);
		return NULL;
	}
	if (rte_pci_map_device(p) != 0) {
		VPCI_LOG(ERR, "port %u: memory device %u (%s) cannot be mapped: bind it to uio_pci_generic or vfio-pci",
			internal->port_id, j, d->name);
		vpci_mem_unclaim(p, false);
		return NULL;
	}
	len = p->mem_resource[IVSHMEM_MEM_BAR].len;
	if (p->mem_resource[IVSHMEM_MEM_BAR].addr == NULL || len != size) {
		VPCI_LOG(ERR, "port %u: memory device %u (%s): BAR 2 has 0x%" PRIx64 " bytes, the metadata says 0x%" PRIx64,
			internal->port_id, j, d->name, len, size);
		/* Let it go: a corrected page may name it again. */
		vpci_mem_unclaim(p, true);
		return NULL;
	}
	return p;
}

static void
vpci_mem_unclaim(struct rte_pci_device *p, bool mapped)
{
	if (mapped)
		rte_pci_unmap_device(p);
	vpci_claim(p, false);
	rte_intr_instance_free(p->intr_handle);
	rte_intr_instance_free(p->vfio_req_intr_handle);
	p->intr_handle = NULL;
	p->vfio_req_intr_handle = NULL;
	p->driver = NULL;
	p->device.driver = NULL;
}

static void
vpci_mem_release(struct rte_pci_device *p)
{
	if (p != NULL && vpci_is_claimed(p))
		vpci_mem_unclaim(p, true);
}

/*
 * Map the memory devices the snapshot names, before an attach. A device
 * named before at the same address is kept; one no longer named is let go.
 * Returns 0, or -1 with a log line naming the fault.
 */
int
vpci_pci_map_mem(struct pmd_internal *internal,
		const struct rte_vhost_pci_meta *meta)
{
	struct vpci_pci *pci = internal->pci;
	uint32_t j;

	if (meta->nmem > RTE_VHOST_PCI_MAX_MEMDEVS) {
		VPCI_LOG(ERR, "port %u: metadata names %u memory devices, at most %u",
			internal->port_id, meta->nmem, RTE_VHOST_PCI_MAX_MEMDEVS);
		return -1;
	}
	for (j = 0; j < RTE_VHOST_PCI_MAX_MEMDEVS; j++) {
		const struct rte_vhost_pci_memdev *md = &meta->memdev[j];
		struct rte_pci_device *p = pci->mem[j];

		if (p != NULL && (j >= meta->nmem ||
				vpci_addr_pack(&p->addr) != md->pci_addr)) {
			vpci_mem_release(p);
			pci->mem[j] = NULL;
		}
		internal->mem[j] = (struct rte_vhost_pci_bar_view){ NULL, 0 };
		if (j >= meta->nmem)
			continue;
		if (!vpci_is_pow2(md->size)) {
			VPCI_LOG(ERR, "port %u: memory device %u: size 0x%" PRIx64 " is not a power of two",
				internal->port_id, j, md->size);
			return -1;
		}
		if (pci->mem[j] == NULL)
			pci->mem[j] = vpci_mem_claim(internal, j, md->pci_addr,
				md->size);
		if (pci->mem[j] == NULL)
			return -1;
		internal->mem[j].base =
			pci->mem[j]->mem_resource[IVSHMEM_MEM_BAR].addr;
		internal->mem[j].size =
			pci->mem[j]->mem_resource[IVSHMEM_MEM_BAR].len;
	}
	internal->nmem = meta->nmem;
	return 0;
}

static void
vpci_pci_alarm(void *arg)
{
	struct pmd_internal *internal = arg;

	vpci_ctl_lock();
	if (!internal->pci->alarm) {
		vpci_ctl_unlock();
		return;
	}
	/* A link change goes out from an alarm of its own (vpci_ctl.c). */
	vpci_ctl_sync(internal);
	if (rte_eal_alarm_set(VPCI_PCI_POLL_US, vpci_pci_alarm, internal) != 0)
		VPCI_LOG(ERR, "port %u: cannot re-arm the metadata poll",
			internal->port_id);
	vpci_ctl_unlock();
}

void
vpci_pci_close(struct pmd_internal *internal)
{
	struct vpci_pci *pci = internal->pci;
	uint32_t j;

	vpci_ctl_lock();
	pci->alarm = false;
	internal->closing = true;
	vpci_ctl_release(internal);
	vpci_ctl_unlock();
	rte_eal_alarm_cancel(vpci_pci_alarm, internal);
	for (j = 0; j < RTE_VHOST_PCI_MAX_MEMDEVS; j++) {
		vpci_mem_release(pci->mem[j]);
		pci->mem[j] = NULL;
	}
}

static int
vpci_pci_arg(const char *key, const char *value, void *opaque)
{
	struct pmd_internal *internal = opaque;
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 0);
	if (errno != 0 || end == value || *end != '\0')
		return -EINVAL;
	if (strcmp(key, "zero_copy") == 0) {
		if (v > 1)
			return -EINVAL;
		internal->zero_copy = v;
	} else {
		if (v > UINT16_MAX)
			return -EINVAL;
		internal->zc_min_len = v;
	}
	return 0;
}

/* Devargs of a PCI port (-a <addr>,zero_copy=1): an unknown key refuses it. */
static int
vpci_pci_parse(struct rte_pci_device *pdev, struct pmd_internal *internal)
{
	const char *args = pdev->device.devargs != NULL ?
		pdev->device.devargs->args : NULL;
	struct rte_kvargs *kv;
	int ret;

	if (args == NULL || *args == '\0')
		return 0;
	kv = rte_kvargs_parse(args, vpci_pci_args);
	if (kv == NULL) {
		VPCI_LOG(ERR, "%s: invalid devargs '%s'", pdev->device.name,
			args);
		return -EINVAL;
	}
	ret = rte_kvargs_process(kv, NULL, vpci_pci_arg, internal);
	rte_kvargs_free(kv);
	if (ret < 0)
		VPCI_LOG(ERR, "%s: invalid value in '%s'", pdev->device.name,
			args);
	return ret < 0 ? -EINVAL : 0;
}

/* Is this function a vhost-pci metadata device? Says why not in the log. */
static bool
vpci_pci_is_meta(struct rte_pci_device *pdev)
{
	const struct rte_mem_resource *r = &pdev->mem_resource[IVSHMEM_MEM_BAR];
	const struct rte_vhost_pci_meta *meta = r->addr;
	uint32_t magic, version;

	if (meta == NULL || r->len < RTE_VHOST_PCI_META_SIZE) {
		VPCI_LOG(INFO, "%s: BAR 2 is not a metadata page: not a vhost-pci device",
			pdev->device.name);
		return false;
	}
	magic = meta->magic;
	version = meta->version;
	if (magic != RTE_VHOST_PCI_META_MAGIC) {
		/* Memory devices, and other users' ivshmem, end up here. */
		VPCI_LOG(INFO, "%s: no vhost-pci signature in BAR 2 (0x%08x): not a vhost-pci metadata device",
			pdev->device.name, magic);
		return false;
	}
	if (version != RTE_VHOST_PCI_META_VERSION) {
		VPCI_LOG(ERR, "%s: vhost-pci metadata version %u, this driver speaks %u: refused",
			pdev->device.name, version, RTE_VHOST_PCI_META_VERSION);
		return false;
	}
	if (!vpci_is_pow2(r->len)) {
		VPCI_LOG(ERR, "%s: BAR 2 has 0x%" PRIx64 " bytes, not a power of two: refused",
			pdev->device.name, r->len);
		return false;
	}
	if (pdev->mem_resource[0].addr == NULL ||
			pdev->mem_resource[0].len < IVSHMEM_REG_DOORBELL + 4) {
		VPCI_LOG(ERR, "%s: no doorbell register in BAR 0: refused",
			pdev->device.name);
		return false;
	}
	return true;
}

/* Queue pairs the device offers (its nvrings), or the most we take. */
static uint16_t
vpci_pci_queues(struct rte_pci_device *pdev)
{
	struct rte_vhost_pci_meta meta;
	uint32_t n;

	if (rte_vhost_pci_meta_snapshot(pdev->mem_resource[IVSHMEM_MEM_BAR].addr,
			&meta) < 0)
		return VPCI_MAX_QUEUE_PAIRS;
	n = meta.nvrings / 2;
	return n >= 1 && n <= VPCI_MAX_QUEUE_PAIRS ? n : VPCI_MAX_QUEUE_PAIRS;
}

static int
vpci_pci_probe(struct rte_pci_driver *drv __rte_unused,
		struct rte_pci_device *pdev)
{
	struct pmd_internal *internal;
	struct rte_eth_dev *eth_dev;
	struct vpci_pci *pci;
	int ret;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY)
		return -ENOTSUP;
	/* A memory device claimed by a port that attached first. */
	if (vpci_is_claimed(pdev))
		return 0;
	if (!vpci_pci_is_meta(pdev))
		return 1;	/* not ours: EAL unmaps it */
	eth_dev = rte_eth_dev_pci_allocate(pdev, sizeof(*internal));
	if (eth_dev == NULL)
		return -ENOMEM;
	internal = eth_dev->data->dev_private;
	pci = rte_zmalloc_socket("vpci_pci", sizeof(*pci), 0,
		pdev->device.numa_node);
	if (pci == NULL) {
		rte_eth_dev_release_port(eth_dev);
		return -ENOMEM;
	}
	pci->pdev = pdev;
	internal->pci = pci;
	snprintf(internal->path, sizeof(internal->path), "%s",
		pdev->device.name);
	internal->zc_min_len = VPCI_ZC_MIN_LEN_DEFAULT;
	internal->zero_copy = false;	/* see the IOVA note on top */
	ret = vpci_pci_parse(pdev, internal);
	if (ret == 0)
		ret = vpci_port_init(eth_dev, vpci_pci_queues(pdev));
	if (ret < 0) {
		rte_free(pci);
		rte_eth_dev_release_port(eth_dev);
		return ret;
	}
	internal->meta = pdev->mem_resource[IVSHMEM_MEM_BAR].addr;
	internal->meta_size = pdev->mem_resource[IVSHMEM_MEM_BAR].len;
	internal->doorbell = (volatile uint32_t *)(void *)
		((uint8_t *)pdev->mem_resource[0].addr + IVSHMEM_REG_DOORBELL);
	rte_eth_dev_probing_finish(eth_dev);
	VPCI_LOG(INFO, "%s: port %u on a vhost-pci device, %u queue pairs, zero-copy %s",
		pdev->device.name, internal->port_id,
		internal->max_queue_pairs, internal->zero_copy ? "on" : "off");
	/* The first look now, so a ready device is up by the first poll. */
	vpci_ctl_lock();
	vpci_ctl_sync(internal);
	pci->alarm = rte_eal_alarm_set(VPCI_PCI_POLL_US, vpci_pci_alarm,
		internal) == 0;
	vpci_ctl_unlock();
	return 0;
}

static int
vpci_pci_remove(struct rte_pci_device *pdev)
{
	struct rte_eth_dev *eth_dev;
	struct vpci_pci *pci;

	eth_dev = rte_eth_dev_allocated(pdev->device.name);
	if (eth_dev == NULL)
		return 0;	/* a memory device, or already closed */
	pci = ((struct pmd_internal *)eth_dev->data->dev_private)->pci;
	/* Closing releases the port and its private data. */
	rte_eth_dev_close(eth_dev->data->port_id);
	rte_free(pci);
	return 0;
}

static const struct rte_pci_id vpci_pci_ids[] = {
	{
		.class_id = RTE_CLASS_ANY_ID,
		.vendor_id = IVSHMEM_VENDOR,
		.device_id = IVSHMEM_DEVICE,
		.subsystem_vendor_id = IVSHMEM_VENDOR,
		.subsystem_device_id = IVSHMEM_SUBSYS,
	},
	{ .vendor_id = 0, },
};

static struct rte_pci_driver vpci_pci_drv = {
	.id_table = vpci_pci_ids,
	.drv_flags = RTE_PCI_DRV_NEED_MAPPING,
	.probe = vpci_pci_probe,
	.remove = vpci_pci_remove,
};

RTE_PMD_REGISTER_PCI(net_vhost_pci_ivshmem, vpci_pci_drv);
RTE_PMD_REGISTER_PCI_TABLE(net_vhost_pci_ivshmem, vpci_pci_ids);
RTE_PMD_REGISTER_KMOD_DEP(net_vhost_pci_ivshmem,
	"* igb_uio | uio_pci_generic | vfio-pci");
RTE_PMD_REGISTER_PARAM_STRING(net_vhost_pci_ivshmem,
	"zero_copy=<0|1> zc_min_len=<bytes>");

/* What dpdk-pmdinfo.py reads (see vpci_pmd_info in rte_eth_vhost_pci.c):
 * ids in decimal, as pmdinfogen writes them (0x1af4, 0x1110, 0x1100).
 */
__rte_used static const char vpci_pci_pmd_info[] =
	"PMD_INFO_STRING= {\"name\": \"net_vhost_pci_ivshmem\", "
	"\"params\": \"zero_copy=<0|1> zc_min_len=<bytes>\", "
	"\"kmod\": \"* igb_uio | uio_pci_generic | vfio-pci\", "
	"\"pci_ids\": [[6900, 4368, 6900, 4352]]}";
