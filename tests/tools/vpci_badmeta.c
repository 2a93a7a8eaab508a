/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * vpci_badmeta: hostile vhost-pci metadata pages for a PCI-mode guest.
 *
 * usage: vpci_badmeta [-t SECONDS] SOCKET MEMFILE
 *        vpci_badmeta -l
 *
 * Serves ivshmem-doorbell clients on SOCKET: client k, in accept order,
 * gets variant k of the table below as its shared memory (BAR 2), a
 * 4096-byte memfd holding one metadata page (layout version 2), and the
 * doorbell id k + 1, with peer 0 behind two vectors. Every page starts as
 * a good one and each variant spoils one thing; variant 0 spoils nothing,
 * the control. Clients past the table are turned down (no shared memory).
 *
 * MEMFILE is created (MEM_SIZE bytes, a power of two, zeroed) for the
 * ivshmem-plain memory devices; the pages place their region in it. The
 * pages name memory devices by PCI address: the QEMU command line must put
 * the doorbell device of variant k at 0000:00:(DB_SLOT0 + 2k).0 and an
 * ivshmem-plain device showing MEMFILE at 0000:00:(DB_SLOT0 + 2k + 1).0;
 * -l prints the table with those addresses. MEMFILE is removed at exit.
 *
 * What the driver writes back is reported as it changes: for each page,
 * "driver: variant X ack G flags F (attached|not attached)".
 *
 * Ends with 0 once every greeted client has closed its connection (QEMU
 * left), 1 on a timeout (default 300 s) or error, 2 on usage. SIGINT and
 * SIGTERM end it with 0.
 *
 * No DPDK: rte_vhost_pci_bar.h is plain C on stdint and string.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* memfd_create, POLLRDHUP */
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ivshmem_server.h"
#include "ivs_tool.h"
#include "rte_vhost_pci_bar.h"

#define MEM_SIZE	(2u << 20)	/* the memory file: a power of two */
#define DB_SLOT0	0x10		/* doorbell of variant 0; memory at +1 */
#define REGION_GPA	0x100000ull
#define REGION_SIZE	0x100000ull	/* at offset 0 of the memory device */
#define RING_SIZE	256u
#define NVEC		2
#define PEER_ID		0
#define FEATURE_VERSION_1 (1ull << 32)

/* PCI address as the metadata packs it: bus 0, function 0, domain 0. */
static uint32_t
slot_addr(unsigned int slot)
{
	return (0u << 8) | (slot << 3) | 0u;
}

static unsigned int
db_slot(unsigned int k)
{
	return DB_SLOT0 + 2 * k;
}

static unsigned int
mem_slot(unsigned int k)
{
	return DB_SLOT0 + 2 * k + 1;
}

/* ---- the variants ---- */

static void
spoil_none(struct rte_vhost_pci_meta *m)
{
	(void)m;
}

static void
spoil_magic(struct rte_vhost_pci_meta *m)
{
	m->magic = 0x12345678u;
}

static void
spoil_version(struct rte_vhost_pci_meta *m)
{
	m->version = 3;
}

/* Ends half a region past the end of its memory device's BAR. */
static void
spoil_region(struct rte_vhost_pci_meta *m)
{
	m->region[0].bar_offset = MEM_SIZE - REGION_SIZE / 2;
}

/*
 * Ring 0: its descriptor table at an address no region holds. Ring 1: its
 * used ring starts inside the region and runs 2046 bytes past its end.
 */
static void
spoil_vrings(struct rte_vhost_pci_meta *m)
{
	m->vring[0].desc = 0x10000000ull;
	m->vring[1].used = REGION_GPA + REGION_SIZE - 8;
}

static void
spoil_memdev_pow2(struct rte_vhost_pci_meta *m)
{
	m->memdev[0].size = 0x180000;
}

/* A power of two, but not what the device's BAR 2 has. */
static void
spoil_memdev_size(struct rte_vhost_pci_meta *m)
{
	m->memdev[0].size = 2ull * MEM_SIZE;
}

/* The control's memory device: a port attached before claimed it. */
static void
spoil_memdev_other(struct rte_vhost_pci_meta *m)
{
	m->memdev[0].pci_addr = slot_addr(mem_slot(0));
}

static const struct variant {
	char id;
	const char *what;
	void (*spoil)(struct rte_vhost_pci_meta *m);
} variants[] = {
	{ 'a', "good control page", spoil_none },
	{ 'b', "wrong signature 0x12345678", spoil_magic },
	{ 'c', "layout version 3", spoil_version },
	{ 'd', "region 0 ends past its memory device's BAR", spoil_region },
	{ 'e', "vring 0 desc outside every region, vring 1 used past the region's end", spoil_vrings },
	{ 'f', "memory device size 0x180000, not a power of two", spoil_memdev_pow2 },
	{ 'g', "memory device size twice its BAR 2", spoil_memdev_size },
	{ 'h', "memory device of variant a, which that port claimed", spoil_memdev_other },
};
#define NVARIANTS	(sizeof(variants) / sizeof(variants[0]))

_Static_assert(DB_SLOT0 + 2 * NVARIANTS <= 32, "slots fit bus 0");

/* A page the driver accepts, for variant k's devices. */
static void
good_page(struct rte_vhost_pci_meta *m, unsigned int k)
{
	unsigned int i;

	m->magic = RTE_VHOST_PCI_META_MAGIC;
	m->version = RTE_VHOST_PCI_META_VERSION;
	m->status = RTE_VHOST_PCI_STATUS_READY;
	m->features = FEATURE_VERSION_1;
	m->bar_size = RTE_VHOST_PCI_META_SIZE;
	m->dev_type = 1;
	m->nregions = 1;
	m->region[0] = (struct rte_vhost_pci_region){
		.gpa = REGION_GPA, .size = REGION_SIZE, .bar_offset = 0, .mem = 0,
	};
	m->nmem = 1;
	m->memdev[0] = (struct rte_vhost_pci_memdev){
		.size = MEM_SIZE, .pci_addr = slot_addr(mem_slot(k)),
	};
	m->nvrings = 2;
	for (i = 0; i < 2; i++) {
		/* 64 KiB apart: desc 16 * 256, avail 6 + 2 * 256 and used
		 * 6 + 8 * 256 bytes, each 4 KiB aligned.
		 */
		uint64_t base = REGION_GPA + i * 0x10000ull;

		m->vring[i] = (struct rte_vhost_pci_vring){
			.size = RING_SIZE,
			.flags = RTE_VHOST_PCI_VRING_F_READY |
				RTE_VHOST_PCI_VRING_F_ENABLED,
			.desc = base,
			.avail = base + 0x1000,
			.used = base + 0x2000,
			.call_vector = i,
			.kick_vector = RTE_VHOST_PCI_NO_VECTOR,
		};
	}
	m->conn_id = k + 1;
	m->hdr_version = 1;
	m->peer_id = PEER_ID;
}

/* ---- the server ---- */

static void
list_variants(void)
{
	unsigned int k;

	for (k = 0; k < NVARIANTS; k++)
		printf("variant %c: doorbell 0000:00:%02x.0 memory 0000:00:%02x.0 id %u: %s\n",
			variants[k].id, db_slot(k), mem_slot(k), k + 1,
			variants[k].what);
}

struct page {
	int fd;
	struct rte_vhost_pci_meta *meta;
	uint32_t ack, flags;	/* what the driver last wrote */
	int conn;
	bool greeted;
};

static int
make_page(struct page *p, unsigned int k)
{
	struct rte_vhost_pci_meta *m;
	char name[32];

	snprintf(name, sizeof(name), "vpci_badmeta_%c", variants[k].id);
	p->conn = -1;
	p->fd = memfd_create(name, MFD_CLOEXEC);
	if (p->fd < 0 || ftruncate(p->fd, RTE_VHOST_PCI_META_SIZE) < 0)
		return -1;
	m = mmap(NULL, RTE_VHOST_PCI_META_SIZE, PROT_READ | PROT_WRITE,
		MAP_SHARED, p->fd, 0);
	if (m == MAP_FAILED)
		return -1;
	p->meta = m;
	rte_vhost_pci_meta_write_begin(m);
	good_page(m, k);
	variants[k].spoil(m);
	rte_vhost_pci_meta_write_end(m);
	return 0;
}

/* Report what the driver wrote in each page's driver area, on a change. */
static void
watch_driver(struct page *pages)
{
	unsigned int k;

	for (k = 0; k < NVARIANTS; k++) {
		const struct rte_vhost_pci_driver *d;
		uint32_t ack, flags;

		if (pages[k].meta == NULL)
			continue;
		d = rte_vhost_pci_meta_driver(pages[k].meta);
		ack = __atomic_load_n(&d->ack, __ATOMIC_ACQUIRE);
		flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
		if (ack == pages[k].ack && flags == pages[k].flags)
			continue;
		pages[k].ack = ack;
		pages[k].flags = flags;
		printf("driver: variant %c ack %" PRIu32 " flags 0x%" PRIx32 " (%s)\n",
			variants[k].id, ack, flags,
			(flags & RTE_VHOST_PCI_DRIVER_F_ATTACHED) ?
			"attached" : "not attached");
	}
}

static int
make_memfile(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, MEM_SIZE) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	struct page pages[NVARIANTS];
	int peer[NVEC] = { -1, -1 }, own[NVEC] = { -1, -1 };
	int timeout_s = 300, opt, rc = 1, memfd = -1;
	unsigned int k, naccepted = 0, nopen = 0, i;
	const char *sock, *memfile;
	struct ivs_server *s = NULL;
	int64_t deadline;

	while ((opt = getopt(argc, argv, "t:l")) != -1) {
		switch (opt) {
		case 't':
			timeout_s = atoi(optarg);
			break;
		case 'l':
			list_variants();
			return 0;
		default:
			goto usage;
		}
	}
	if (optind != argc - 2 || timeout_s <= 0)
		goto usage;
	sock = argv[optind];
	memfile = argv[optind + 1];
	deadline = now_ms() + (int64_t)timeout_s * 1000;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(pages, 0, sizeof(pages));
	for (k = 0; k < NVARIANTS; k++)
		pages[k].fd = pages[k].conn = -1;

	memfd = make_memfile(memfile);
	if (memfd < 0) {
		fprintf(stderr, "vpci_badmeta: %s: %s\n", memfile, strerror(errno));
		goto out;
	}
	for (k = 0; k < NVARIANTS; k++)
		if (make_page(&pages[k], k) < 0) {
			perror("vpci_badmeta: metadata page");
			goto out;
		}
	for (i = 0; i < NVEC; i++) {
		peer[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		own[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (peer[i] < 0 || own[i] < 0) {
			perror("vpci_badmeta: eventfd");
			goto out;
		}
	}
	list_variants();
	s = ivs_server_create(sock);
	if (s == NULL) {
		fprintf(stderr, "vpci_badmeta: cannot listen on %s: %s\n", sock,
			strerror(errno));
		goto out;
	}
	printf("vpci_badmeta: listening on %s, memory file %s (0x%x bytes)\n",
		sock, memfile, MEM_SIZE);

	while (!quit) {
		struct pollfd p[1 + NVARIANTS];
		unsigned int owner[1 + NVARIANTS];
		unsigned int np = 0;
		int64_t left = deadline - now_ms();
		int r;

		watch_driver(pages);
		if (naccepted > 0 && nopen == 0) {
			printf("vpci_badmeta: every client left\n");
			rc = 0;
			goto out;
		}
		if (left <= 0) {
			printf("vpci_badmeta: timed out after %d s\n", timeout_s);
			goto out;
		}
		p[np++] = (struct pollfd){ .fd = ivs_server_fd(s), .events = POLLIN };
		for (k = 0; k < NVARIANTS; k++)
			if (pages[k].conn >= 0) {
				owner[np] = k;
				p[np++] = (struct pollfd){
					.fd = pages[k].conn,
					.events = POLLIN | POLLRDHUP,
				};
			}
		r = poll(p, np, left > 100 ? 100 : (int)left);
		if (r < 0 && errno != EINTR) {
			perror("vpci_badmeta: poll");
			goto out;
		}
		if (r <= 0)
			continue;
		for (i = 1; i < np; i++) {
			k = owner[i];
			if (p[i].revents && ivs_conn_closed(pages[k].conn)) {
				printf("vpci_badmeta: client of variant %c left\n",
					variants[k].id);
				close(pages[k].conn);
				pages[k].conn = -1;
				nopen--;
			}
		}
		/* All pending clients now, in order: QEMU waits for each. */
		while (p[0].revents & POLLIN) {
			int conn;

			if (naccepted >= NVARIANTS) {
				/* No shared memory: QEMU fails that device. */
				conn = ivs_server_accept(s, NVARIANTS + 1, -1,
					PEER_ID, peer, NVEC, own, NVEC);
				if (conn < 0)
					break;
				printf("vpci_badmeta: client %u past the table turned down\n",
					++naccepted);
				close(conn);
				continue;
			}
			k = naccepted;
			conn = ivs_server_accept(s, k + 1, pages[k].fd, PEER_ID,
				peer, NVEC, own, NVEC);
			if (conn < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				fprintf(stderr, "vpci_badmeta: greeting client %u: %s\n",
					k, strerror(errno));
				goto out;
			}
			pages[k].conn = conn;
			pages[k].greeted = true;
			naccepted++;
			nopen++;
			printf("vpci_badmeta: client %u: variant %c (%s), id %u, memory device 0000:00:%02x.0\n",
				k, variants[k].id, variants[k].what, k + 1,
				mem_slot(k));
		}
	}
	if (quit) {
		printf("vpci_badmeta: interrupted\n");
		rc = 0;
	}
out:
	watch_driver(pages);
	for (k = 0; k < NVARIANTS; k++) {
		if (pages[k].conn >= 0)
			close(pages[k].conn);
		if (pages[k].fd >= 0)
			close(pages[k].fd);
	}
	ivs_server_destroy(s);
	for (i = 0; i < NVEC; i++) {
		if (peer[i] >= 0)
			close(peer[i]);
		if (own[i] >= 0)
			close(own[i]);
	}
	if (memfd >= 0) {
		close(memfd);
		unlink(memfile);
	}
	return rc;
usage:
	fprintf(stderr, "usage: %s [-t SECONDS] SOCKET MEMFILE\n       %s -l\n",
		argv[0], argv[0]);
	return 2;
}
