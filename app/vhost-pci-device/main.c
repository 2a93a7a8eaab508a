/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * dpdk-vhost-pci-device: the host side of PCI mode.
 *
 * Front-ends (QEMU virtio-net over vhost-user, net_virtio_user, or a
 * dpdk-vhost-pci-client for the v2 extension) connect to --socket, served
 * by librte_vhost_pci. Each ready front-end device is exported to a QEMU
 * VM as a vhost-pci device built from stock QEMU devices only:
 * - an ivshmem-doorbell device, the metadata device: its shared memory is
 *   this device's metadata page (a memfd), served with QEMU's ivshmem
 *   server protocol on --doorbell; its peer vectors are the front-end's
 *   call eventfds, one per vring, so a doorbell write in the VM interrupts
 *   the front-end;
 * - one ivshmem-plain memory device per file of the front-end's memory,
 *   a memory-backend-file on /proc/<our pid>/fd/<n> of the fd the
 *   front-end gave us. Its BAR shows the file from offset 0 and must be a
 *   power of two no larger than the file.
 * The metadata page is written by the same rules as the library's own
 * (rte_vhost_pci_bar.h): a seqlock generation, and a driver that
 * acknowledges before we let the front-end take memory or rings away.
 */

#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_bitops.h>
#include <rte_common.h>
#include <rte_eal.h>
#include <rte_vhost_pci.h>

#include "ivshmem_server.h"

#define MAX_EXPORTS	4
/* Device numbers on the VM's PCI bus 0: each export takes four, the
 * metadata device first, so it is probed before its memory devices.
 */
#define SLOT_STRIDE	4
#define MAX_MEM		(SLOT_STRIDE - 1)
#define ACK_TIMEOUT_MS	2000
/* Doorbell ids: the VM is 0; each set of front-end vectors gets a fresh
 * id from 1 up, published in the metadata (peer_id). QEMU 7.2 must never
 * see vectors for an id it was told to remove: it writes them into freed
 * memory (see ivs_conn_set_peer()).
 */
#define OWN_ID		0
#define MAX_PEER_ID	0xffff

struct memdev {
	int fd;			/* the library's region fd */
	int keep;		/* our dup, named in the QEMU arguments */
	dev_t st_dev;
	ino_t st_ino;
	uint64_t size;		/* BAR size: a power of two */
};

struct export {
	int meta_fd;
	struct rte_vhost_pci_meta *meta;
	int vid;	/* the front-end's device, or -1 */
	bool shown;		/* QEMU arguments printed: memory is fixed */
	uint32_t nmem;
	struct memdev mem[MAX_MEM];
	int db_conn;		/* the VM's doorbell connection, or -1 */
	int dummy_fd;		/* vector of a ring without a call fd */
	char args[2048];	/* its QEMU arguments, once shown */
	uint32_t nvec;
	int vec[RTE_VHOST_PCI_MAX_VRINGS];
	uint16_t peer_id;	/* of the current vectors; 0: none yet */
	bool peer_live;		/* the VM's doorbell device has them */
};

static struct {
	const char *socket;
	const char *doorbell;
	const char *qemu_args;
	uint16_t queues;
	uint32_t nexports;
	uint32_t first_slot;
	struct export ex[MAX_EXPORTS];
	struct ivs_server *ivs;
	/* Exports and doorbell connections: the library's control thread
	 * (callbacks) and main() (the doorbell socket) both touch them.
	 */
	pthread_mutex_t lock;
	volatile sig_atomic_t quit;
} g = { .queues = 1, .nexports = 1, .first_slot = 0x10,
	.lock = PTHREAD_MUTEX_INITIALIZER };

#define LOG(fmt, ...) fprintf(stderr, "vhost-pci-device: " fmt "\n", ##__VA_ARGS__)

static uint32_t
slot_of(uint32_t e, uint32_t j)	/* j 0: metadata, 1..: memory device */
{
	return g.first_slot + e * SLOT_STRIDE + j;
}

static uint64_t
pow2_floor(uint64_t v)
{
	return v == 0 ? 0 : RTE_BIT64(63 - __builtin_clzll(v));
}

/* ---- metadata ---- */

static int
export_init(struct export *x)
{
	x->db_conn = -1;
	x->vid = -1;
	x->meta_fd = memfd_create("vhost-pci-meta", MFD_CLOEXEC);
	if (x->meta_fd < 0 || ftruncate(x->meta_fd, RTE_VHOST_PCI_META_SIZE) < 0)
		return -1;
	x->meta = mmap(NULL, RTE_VHOST_PCI_META_SIZE, PROT_READ | PROT_WRITE,
		MAP_SHARED, x->meta_fd, 0);
	if (x->meta == MAP_FAILED)
		return -1;
	x->dummy_fd = eventfd(0, EFD_CLOEXEC);
	rte_vhost_pci_meta_write_begin(x->meta);
	x->meta->magic = RTE_VHOST_PCI_META_MAGIC;
	x->meta->version = RTE_VHOST_PCI_META_VERSION;
	x->meta->bar_size = RTE_VHOST_PCI_META_SIZE;
	x->meta->dev_type = 1;
	/* Known before any front-end: the VM's port sizes its queues. */
	x->meta->nvrings = 2u * g.queues;
	rte_vhost_pci_meta_write_end(x->meta);
	return x->dummy_fd < 0 ? -1 : 0;
}

/* The memory devices a front-end device needs, one per distinct file.
 * Refuses what stock QEMU cannot show, saying why.
 */
static int
plan_memory(int vid, const struct rte_vhost_pci_meta *lm,
		struct memdev *mem, uint32_t *nmem, uint32_t *region_mem)
{
	uint32_t i, j, n = 0;

	for (i = 0; i < lm->nregions; i++) {
		uint64_t off;
		int fd = rte_vhost_pci_dev_region_fd(vid, i, &off);
		struct stat st;

		if (fd < 0 || fstat(fd, &st) < 0)
			return -1;
		for (j = 0; j < n; j++)
			if (mem[j].st_dev == st.st_dev && mem[j].st_ino == st.st_ino)
				break;
		if (j == n) {
			if (n == MAX_MEM) {
				LOG("%s: more than %u memory files (a front-end without --single-file-segments?): cannot export",
					g.socket, MAX_MEM);
				return -1;
			}
			mem[n] = (struct memdev){ .fd = fd, .st_dev = st.st_dev,
				.st_ino = st.st_ino,
				.size = pow2_floor(st.st_size) };
			n++;
		}
		if (off + lm->region[i].size > mem[j].size) {
			LOG("%s: region %u ends at 0x%" PRIx64 " of its file, past 0x%" PRIx64 ", the largest power of two the file holds: give the front-end a power-of-two memory size (-m 512) or extend the file (truncate -s)",
				g.socket, i, off + lm->region[i].size, mem[j].size);
			return -1;
		}
		region_mem[i] = j;
	}
	*nmem = n;
	return 0;
}

/* Copy the library's page for @vid into the VM's, with regions placed in
 * memory devices. Called on the library's control thread.
 */
static void
mirror(struct export *x, uint32_t e, int vid,
		const uint32_t *region_mem, uint32_t status)
{
	const struct rte_vhost_pci_meta *lm = (const void *)
		rte_vhost_pci_dev_bar(vid, NULL);
	struct rte_vhost_pci_meta *m = x->meta;
	uint32_t i;

	rte_vhost_pci_meta_write_begin(m);
	m->status = status;
	m->features = lm->features;
	m->nvrings = lm->nvrings;
	m->conn_id = lm->conn_id;
	m->hdr_version = lm->hdr_version;
	m->peer_id = x->peer_id;
	memcpy(m->peer_uuid, lm->peer_uuid, sizeof(m->peer_uuid));
	memcpy(m->vring, lm->vring, sizeof(m->vring));
	for (i = 0; i < RTE_VHOST_PCI_MAX_VRINGS; i++)
		m->vring[i].kick_vector = RTE_VHOST_PCI_NO_VECTOR;
	if (region_mem != NULL) {
		m->nregions = lm->nregions;
		for (i = 0; i < lm->nregions; i++) {
			uint64_t off;

			rte_vhost_pci_dev_region_fd(vid, i, &off);
			m->region[i] = (struct rte_vhost_pci_region){
				.gpa = lm->region[i].gpa,
				.size = lm->region[i].size,
				.bar_offset = off,
				.mem = region_mem[i],
			};
		}
		m->nmem = x->nmem;
		for (i = 0; i < x->nmem; i++)
			m->memdev[i] = (struct rte_vhost_pci_memdev){
				.size = x->mem[i].size,
				.pci_addr = slot_of(e, 1 + i) << 3,
			};
	}
	rte_vhost_pci_meta_write_end(m);
}

/* Wait until the VM's driver applied our last change, if one is there. */
static bool
wait_ack(struct export *x)
{
	const struct rte_vhost_pci_driver *d = rte_vhost_pci_meta_driver(x->meta);
	uint32_t gen = x->meta->generation;
	int ms;

	for (ms = 0; ms < ACK_TIMEOUT_MS; ms++) {
		if (!(__atomic_load_n(&d->flags, __ATOMIC_ACQUIRE) &
				RTE_VHOST_PCI_DRIVER_F_ATTACHED) ||
				rte_vhost_pci_driver_acked(x->meta, gen))
			return true;
		/* A VM that closed its doorbell device is gone: nobody
		 * left to answer.
		 */
		if (x->db_conn < 0 || ivs_conn_closed(x->db_conn))
			return true;
		usleep(1000);
	}
	LOG("%s: the VM's driver did not acknowledge generation %u in %d ms",
		g.socket, gen, ACK_TIMEOUT_MS);
	return false;
}

/* Hand the indexes the VM's driver wrote back to the library. */
static void
take_writeback(struct export *x, int vid,
		int vring)
{
	const struct rte_vhost_pci_driver *d = rte_vhost_pci_meta_driver(x->meta);
	uint32_t gen = x->meta->generation;
	uint32_t i;

	for (i = 0; i < RTE_VHOST_PCI_MAX_VRINGS; i++)
		if ((vring < 0 || (uint32_t)vring == i) && d->vring[i].gen == gen)
			rte_vhost_pci_vring_writeback(vid, i,
				d->vring[i].last_avail_idx,
				d->vring[i].last_used_idx);
}

/* ---- doorbell vectors and QEMU arguments ---- */

/*
 * The front-end's call eventfds become the VM's doorbell vectors of a new
 * peer id, vector i for vring i; the old id is removed. Called before the
 * metadata publishes the id.
 */
static void
set_vectors(struct export *x, int vid)
{
	const struct rte_vhost_pci_meta *lm;
	uint32_t i;

	if (x->db_conn >= 0 && x->peer_live &&
			ivs_conn_set_peer(x->db_conn, x->peer_id, NULL, 0) < 0)
		LOG("doorbell peer %u of export %u not removed", x->peer_id,
			(unsigned int)(x - g.ex));
	x->peer_live = false;
	x->nvec = 0;
	if (vid < 0)
		return;
	lm = (const void *)rte_vhost_pci_dev_bar(vid, NULL);
	for (i = 0; i < lm->nvrings && i < RTE_VHOST_PCI_MAX_VRINGS; i++) {
		int fd = rte_vhost_pci_vring_callfd(vid, i);

		x->vec[x->nvec++] = fd >= 0 ? fd : x->dummy_fd;
	}
	if (x->peer_id == MAX_PEER_ID) {
		LOG("export %u: doorbell peer ids used up: restart the VM",
			(unsigned int)(x - g.ex));
		x->nvec = 0;
		return;
	}
	x->peer_id++;
	if (x->db_conn >= 0) {
		if (ivs_conn_add_peer(x->db_conn, x->peer_id, x->vec,
				x->nvec) < 0)
			LOG("doorbell vectors of export %u not sent",
				(unsigned int)(x - g.ex));
		else
			x->peer_live = true;
	}
}

static void
show_qemu_args(uint32_t e)
{
	struct export *x = &g.ex[e];
	FILE *f = NULL;
	char *buf = x->args;
	size_t size = sizeof(x->args);
	int len, k;
	uint32_t j;

	len = snprintf(buf, size,
		"-chardev socket,id=vpci%udb,path=%s -device ivshmem-doorbell,chardev=vpci%udb,vectors=%u,addr=0x%x",
		e, g.doorbell, e, 2u * g.queues, slot_of(e, 0));
	for (j = 0; j < x->nmem && len < (int)size; j++)
		len += snprintf(buf + len, size - len,
			" -object memory-backend-file,id=vpci%um%u,mem-path=/proc/%d/fd/%d,size=%" PRIu64 ",share=on -device ivshmem-plain,memdev=vpci%um%u,addr=0x%x",
			e, j, (int)getpid(), x->mem[j].keep, x->mem[j].size, e, j,
			slot_of(e, 1 + j));
	printf("qemu-args %u: %s\n", e, buf);
	fflush(stdout);
	if (g.qemu_args != NULL) {
		char tmp[4200];

		k = snprintf(tmp, sizeof(tmp), "%s.tmp", g.qemu_args);
		if (k > 0 && (size_t)k < sizeof(tmp))
			f = fopen(tmp, "w");
		if (f != NULL) {
			const char *sep = "";

			/* Every export shown so far: the VM needs them all. */
			for (k = 0; k < (int)g.nexports; k++)
				if (g.ex[k].shown || k == (int)e) {
					fprintf(f, "%s%s", sep, g.ex[k].args);
					sep = " ";
				}
			fprintf(f, "\n");
			fclose(f);
			if (rename(tmp, g.qemu_args) < 0)
				LOG("cannot write %s: %s", g.qemu_args, strerror(errno));
		}
	}
	x->shown = true;
}

/* ---- library callbacks (its control thread) ---- */

static int
new_device(int vid)
{
	const struct rte_vhost_pci_meta *lm = (const void *)
		rte_vhost_pci_dev_bar(vid, NULL);
	uint32_t region_mem[RTE_VHOST_PCI_MAX_REGIONS];
	struct memdev mem[MAX_MEM];
	uint32_t e, j, nmem;
	struct export *x = NULL;

	for (e = 0; e < g.nexports; e++)
		if (g.ex[e].vid < 0) {
			x = &g.ex[e];
			break;
		}
	if (x == NULL) {
		LOG("%s: connection %" PRIu64 ": all %u exports in use",
			g.socket, rte_vhost_pci_dev_conn_id(vid), g.nexports);
		return -EBUSY;
	}
	if (plan_memory(vid, lm, mem, &nmem, region_mem) < 0)
		return -EINVAL;
	if (x->shown) {
		/* The VM maps the files it was started with. Another file
		 * needs the memory devices hot-plugged (QMP device_del,
		 * object-add, device_add): until then the port stays down
		 * rather than read stale memory.
		 */
		bool same = nmem == x->nmem;

		for (j = 0; same && j < nmem; j++)
			same = mem[j].st_dev == x->mem[j].st_dev &&
				mem[j].st_ino == x->mem[j].st_ino &&
				mem[j].size == x->mem[j].size;
		if (!same) {
			LOG("%s: connection %" PRIu64 ": the front-end's memory is not the memory export %u shows to the VM: refused (the VM's memory devices must be hot-plugged anew)",
				g.socket, rte_vhost_pci_dev_conn_id(vid), e);
			return -EXDEV;
		}
	}
	/* The VM opens /proc/<pid>/fd/<keep> whenever it starts: our own dup
	 * outlives the front-end's connection.
	 */
	for (j = 0; j < nmem; j++) {
		mem[j].keep = x->shown ? x->mem[j].keep :
			fcntl(mem[j].fd, F_DUPFD_CLOEXEC, 0);
		if (mem[j].keep < 0) {
			LOG("%s: cannot keep a memory fd: %s", g.socket,
				strerror(errno));
			while (!x->shown && j-- > 0)
				close(mem[j].keep);
			return -EMFILE;
		}
	}
	for (j = 0; j < nmem; j++)
		x->mem[j] = mem[j];
	x->nmem = nmem;
	x->vid = vid;
	set_vectors(x, vid);
	mirror(x, e, vid, region_mem, RTE_VHOST_PCI_STATUS_READY);
	if (!x->shown)
		show_qemu_args(e);
	LOG("%s: connection %" PRIu64 " (v%u) exported as vhost-pci device %u, %u memory device(s)",
		g.socket, rte_vhost_pci_dev_conn_id(vid),
		rte_vhost_pci_dev_version(vid), e, nmem);
	return 0;
}

static struct export *
export_of(int vid, uint32_t *e)
{
	for (*e = 0; *e < g.nexports; (*e)++)
		if (g.ex[*e].vid == vid)
			return &g.ex[*e];
	return NULL;
}

static void
destroy_device(int vid)
{
	struct export *x;
	uint32_t e;

	x = export_of(vid, &e);
	if (x == NULL)
		return;
	rte_vhost_pci_meta_write_begin(x->meta);
	x->meta->status = 0;
	rte_vhost_pci_meta_write_end(x->meta);
	/* The device model RFC's DEL_DONE: the VM stopped using the memory. */
	wait_ack(x);
	take_writeback(x, vid, -1);
	x->vid = -1;
	set_vectors(x, -1);
	LOG("%s: connection %" PRIu64 " left export %u", g.socket,
		rte_vhost_pci_dev_conn_id(vid), e);
}

static void
vring_state_changed(int vid, uint16_t vring,
		int enable)
{
	struct export *x;
	uint32_t e;

	x = export_of(vid, &e);
	if (x == NULL)
		return;
	/* A ring (re)enabled may bring a new call eventfd. */
	if (enable)
		set_vectors(x, vid);
	mirror(x, e, vid, NULL, x->meta->status);
	if (!enable) {
		wait_ack(x);
		take_writeback(x, vid, vring);
	}
}

static int
cb_new_device(int vid, void *ctx __rte_unused)
{
	int ret;

	pthread_mutex_lock(&g.lock);
	ret = new_device(vid);
	pthread_mutex_unlock(&g.lock);
	return ret;
}

static void
cb_destroy_device(int vid, void *ctx __rte_unused)
{
	pthread_mutex_lock(&g.lock);
	destroy_device(vid);
	pthread_mutex_unlock(&g.lock);
}

static void
cb_vring_state_changed(int vid, uint16_t vring,
		int enable, void *ctx __rte_unused)
{
	pthread_mutex_lock(&g.lock);
	vring_state_changed(vid, vring, enable);
	pthread_mutex_unlock(&g.lock);
}

static const struct rte_vhost_pci_ops ops = {
	.new_device = cb_new_device,
	.destroy_device = cb_destroy_device,
	.vring_state_changed = cb_vring_state_changed,
};

/* ---- main ---- */

static void
on_signal(int sig __rte_unused)
{
	g.quit = 1;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s --socket PATH --doorbell PATH [options]\n"
		"  --socket PATH     vhost-user socket the front-ends connect to\n"
		"  --doorbell PATH   ivshmem server socket for the VM's ivshmem-doorbell devices\n"
		"  --queues N        queue pairs offered to each front-end (1-16, default 1)\n"
		"  --exports N       front-end devices exported, one vhost-pci device each (1-%u, default 1)\n"
		"  --qemu-args FILE  also write the VM's QEMU arguments there once they are known\n"
		"  --first-slot N    PCI device number of the first metadata device (default 0x10)\n"
		"Start the VM with the printed arguments once a front-end is ready.\n",
		prog, MAX_EXPORTS);
}

static int
parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "doorbell", required_argument, NULL, 'd' },
		{ "queues", required_argument, NULL, 'q' },
		{ "exports", required_argument, NULL, 'n' },
		{ "qemu-args", required_argument, NULL, 'a' },
		{ "first-slot", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': g.socket = optarg; break;
		case 'd': g.doorbell = optarg; break;
		case 'a': g.qemu_args = optarg; break;
		case 'q':
			v = strtoul(optarg, NULL, 0);
			if (v < 1 || v > RTE_VHOST_PCI_MAX_VRINGS / 2)
				return -1;
			g.queues = v;
			break;
		case 'n':
			v = strtoul(optarg, NULL, 0);
			if (v < 1 || v > MAX_EXPORTS)
				return -1;
			g.nexports = v;
			break;
		case 'f':
			v = strtoul(optarg, NULL, 0);
			if (v < 1 || v + MAX_EXPORTS * SLOT_STRIDE > 32)
				return -1;
			g.first_slot = v;
			break;
		default:
			return -1;
		}
	}
	return g.socket != NULL && g.doorbell != NULL ? 0 : -1;
}

static void
remove_rundir(const char *dir)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/dpdk_telemetry.v2", dir);
	unlink(path);
	if (rmdir(dir) < 0 && errno != ENOENT)
		LOG("%s left behind: %s", dir, strerror(errno));
}

static void
accept_doorbell(void)
{
	struct export *x = NULL;
	uint32_t e;
	int fd;

	/* A VM (re)started connects its doorbell devices in the order of
	 * the printed arguments: each takes the first export without one.
	 */
	for (e = 0; e < g.nexports && x == NULL; e++)
		if (g.ex[e].db_conn < 0)
			x = &g.ex[e];
	if (x == NULL) {
		/* Greet and drop: QEMU fails that device, not the others. */
		LOG("a doorbell connection beyond the %u exports: refused", g.nexports);
		fd = ivs_server_accept(g.ivs, OWN_ID, -1, 1, NULL, 0, NULL, 0);
		if (fd >= 0)
			close(fd);
		return;
	}
	/* The vectors are re-sent by set_vectors() whenever a front-end
	 * comes or goes.
	 */
	fd = ivs_server_accept(g.ivs, OWN_ID, x->meta_fd, x->peer_id, x->vec,
		x->nvec, NULL, 0);
	if (fd < 0)
		return;
	x->db_conn = fd;
	x->peer_live = x->nvec > 0;
	LOG("VM doorbell device %u connected", (unsigned int)(x - g.ex));
}

int
main(int argc, char **argv)
{
	/* No hugepages, no PCI, no files under /var/run/dpdk: EAL only
	 * carries the library's control thread and logs.
	 */
	char prefix[64];
	char *eal_argv[] = { argv[0], "-l", "0", "--no-huge", "-m", "64",
		"--no-pci", "--no-shconf", prefix, "--log-level",
		"lib.eal:error", NULL };
	char rundir[PATH_MAX];
	uint32_t e;
	int ret;

	if (parse(argc, argv) < 0) {
		usage(argv[0]);
		return 2;
	}
	snprintf(prefix, sizeof(prefix), "--file-prefix=vhost-pci-device-%d",
		(int)getpid());
	if (rte_eal_init(RTE_DIM(eal_argv) - 1, eal_argv) < 0) {
		LOG("EAL init failed");
		return 1;
	}
	snprintf(rundir, sizeof(rundir), "%s", rte_eal_get_runtime_dir());
	for (e = 0; e < g.nexports; e++)
		if (export_init(&g.ex[e]) < 0) {
			LOG("cannot create the metadata memory: %s", strerror(errno));
			return 1;
		}
	g.ivs = ivs_server_create(g.doorbell);
	if (g.ivs == NULL) {
		LOG("cannot listen on %s: %s", g.doorbell, strerror(errno));
		return 1;
	}
	/* Zero-copy in the VM returns buffers out of order. */
	ret = rte_vhost_pci_server_register(g.socket,
		RTE_VHOST_PCI_F_NO_IN_ORDER, g.queues, &ops, NULL);
	if (ret < 0) {
		LOG("cannot listen on %s: %s", g.socket, strerror(-ret));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	LOG("front-ends on %s, VM doorbell on %s, %u export(s), pid %d",
		g.socket, g.doorbell, g.nexports, (int)getpid());
	while (!g.quit) {
		struct pollfd p = { .fd = ivs_server_fd(g.ivs), .events = POLLIN };

		if (poll(&p, 1, 200) <= 0)
			p.revents = 0;
		pthread_mutex_lock(&g.lock);
		if (p.revents & POLLIN)
			accept_doorbell();
		for (e = 0; e < g.nexports; e++)
			if (g.ex[e].db_conn >= 0 && ivs_conn_closed(g.ex[e].db_conn)) {
				LOG("VM doorbell device %u closed", e);
				close(g.ex[e].db_conn);
				g.ex[e].db_conn = -1;
			}
		pthread_mutex_unlock(&g.lock);
	}
	rte_vhost_pci_server_unregister(g.socket);
	ivs_server_destroy(g.ivs);
	rte_eal_cleanup();
	/* Our own runtime directory: only the telemetry socket was in it. */
	remove_rundir(rundir);
	return 0;
}
