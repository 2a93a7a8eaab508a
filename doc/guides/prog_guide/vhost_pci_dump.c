/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_vhost_pci.h>

#define SPLIT_AVAIL_IDX	2	/* offset of idx in a split available ring */
#define F_RING_PACKED	34

/* What this application keeps per device. */
struct app_dev {
	const struct rte_vhost_pci_meta *meta;	/* the BAR's first page */
	struct rte_vhost_pci_map map;		/* checked region table */
	uint16_t last_avail[RTE_VHOST_PCI_MAX_VRINGS];
	uint16_t last_used[RTE_VHOST_PCI_MAX_VRINGS];
	uint8_t running[RTE_VHOST_PCI_MAX_VRINGS];
};

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

/* Take a ring: start from the indexes the metadata page gives. */
static void
ring_start(struct app_dev *ad, uint16_t i)
{
	const struct rte_vhost_pci_meta *meta = ad->meta;
	const struct rte_vhost_pci_vring *vr = &meta->vring[i];
	uint32_t want = RTE_VHOST_PCI_VRING_F_READY |
		RTE_VHOST_PCI_VRING_F_ENABLED;
	const uint16_t *idx;

	if (i >= meta->nvrings || (vr->flags & want) != want)
		return;
	ad->last_avail[i] = vr->last_avail_idx;
	ad->last_used[i] = vr->last_used_idx;
	ad->running[i] = 1;
	printf("  vring %u: %u descriptors, base %u", i, vr->size,
		vr->last_avail_idx);
	idx = rte_vhost_pci_translate(&ad->map, vr->avail + SPLIT_AVAIL_IDX,
		sizeof(*idx));
	if (!(meta->features & (1ULL << F_RING_PACKED)) && idx != NULL)
		printf(", front-end's avail idx %u",
			__atomic_load_n(idx, __ATOMIC_ACQUIRE));
	printf("\n");
}

/* Give a ring back: record where we stopped. */
static void
ring_stop(int vid, struct app_dev *ad, uint16_t i)
{
	if (!ad->running[i])
		return;
	ad->running[i] = 0;
	rte_vhost_pci_vring_writeback(vid, i, ad->last_avail[i],
		ad->last_used[i]);
}

static int
new_device(int vid, void *ctx)
{
	const struct rte_vhost_pci_meta *meta;
	char path[108];
	struct app_dev *ad;
	uint64_t size;
	uint8_t *bar;
	uint32_t i;

	(void)ctx;
	bar = rte_vhost_pci_dev_bar(vid, &size);
	ad = calloc(1, sizeof(*ad));
	if (bar == NULL || ad == NULL ||
			rte_vhost_pci_map_init(&ad->map, bar, size) < 0) {
		free(ad);
		return -EINVAL;	/* refused: the connection is closed */
	}
	meta = (const void *)bar;
	ad->meta = meta;
	if (rte_vhost_pci_dev_path(vid, path, sizeof(path)) < 0)
		path[0] = '\0';
	printf("%s: conn_id %" PRIu64 ", version %u, features 0x%" PRIx64
		", BAR %" PRIu64 " bytes\n", path,
		rte_vhost_pci_dev_conn_id(vid), rte_vhost_pci_dev_version(vid),
		meta->features, meta->bar_size);
	for (i = 0; i < meta->nregions; i++)
		printf("  region %u: gpa 0x%" PRIx64 ", %" PRIu64
			" bytes, BAR offset 0x%" PRIx64 "\n", i,
			meta->region[i].gpa, meta->region[i].size,
			meta->region[i].bar_offset);
	rte_vhost_pci_dev_set_priv(vid, ad);
	/* Vrings 0 and 1 are ours now; others come by vring_state_changed. */
	ring_start(ad, 0);
	ring_start(ad, 1);
	return 0;
}

static void
vring_state_changed(int vid, uint16_t vring,
		int enable, void *ctx)
{
	struct app_dev *ad = rte_vhost_pci_dev_priv(vid);

	(void)ctx;
	if (ad == NULL || vring >= RTE_VHOST_PCI_MAX_VRINGS)
		return;
	if (enable)
		ring_start(ad, vring);
	else
		ring_stop(vid, ad, vring);
}

static void
destroy_device(int vid, void *ctx)
{
	struct app_dev *ad = rte_vhost_pci_dev_priv(vid);
	char path[108];
	uint16_t i;

	(void)ctx;
	if (ad == NULL)
		return;
	for (i = 0; i < RTE_VHOST_PCI_MAX_VRINGS; i++)
		ring_stop(vid, ad, i);
	rte_vhost_pci_dev_set_priv(vid, NULL);
	free(ad);
	if (rte_vhost_pci_dev_path(vid, path, sizeof(path)) < 0)
		path[0] = '\0';
	printf("%s: conn_id %" PRIu64 " gone\n", path,
		rte_vhost_pci_dev_conn_id(vid));
}

static const struct rte_vhost_pci_ops ops = {
	.new_device = new_device,
	.destroy_device = destroy_device,
	.vring_state_changed = vring_state_changed,
};

int
main(int argc, char **argv)
{
	const char *path = "/tmp/vpci-dump.sock";
	int ret;

	if (rte_eal_init(argc, argv) < 0)
		return 1;
	signal(SIGINT, on_signal);
	ret = rte_vhost_pci_server_register(path, 0, 1, &ops, NULL);
	if (ret < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(-ret));
		rte_eal_cleanup();
		return 1;
	}
	while (!quit)
		sleep(1);
	/* Devices in use get destroy_device first. */
	rte_vhost_pci_server_unregister(path);
	rte_eal_cleanup();
	return 0;
}
