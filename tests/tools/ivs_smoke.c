/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * ivs_smoke: the ivshmem server of app/vhost-pci-device against a real
 * QEMU ivshmem-doorbell device.
 *
 * usage: ivs_smoke [-t SECONDS] [-r set|fresh|remove] SOCKET
 *
 * Serves one client on SOCKET: it is id 1, with a 4096-byte memfd as its
 * shared memory (32-bit little-endian word i holds IVS_SMOKE_PATTERN + i)
 * and two own vectors; peer 0 has two vectors, eventfds watched here. A
 * guest write of (0 << 16) | 1 to the doorbell register prints
 * "doorbell: vector 1 count N" and ends the run with 0.
 *
 * -r changes the peer's vectors after vector 1 rang, then writes the id to
 * ring next in word 1 of the shared memory and IVS_SMOKE_REPLACED in word
 * 0; the guest answers with vector 0 of that id:
 *   set     ivs_conn_set_peer(): peer 0 gets two new eventfds in place
 *   fresh   ivs_conn_add_peer(): the new eventfds go to a new peer id, 2
 *   remove  ivs_conn_set_peer() with none: the answer must reach nothing
 *           (the run passes when nothing rang for 3 s after it, or until
 *           the client left)
 * Rings on the replaced eventfds fail the run.
 *
 * Exit status: 0 passed, 1 failed or timed out (default 60 s, counted from
 * the start), 2 usage.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* memfd_create, POLLRDHUP */
#endif

#include <errno.h>
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

#define IVS_SMOKE_PATTERN	0x49560000u	/* "IV" in the high half */
#define IVS_SMOKE_REPLACED	0x52455044u	/* "REPD" */
#define SHM_SIZE		4096
#define OWN_ID			1
#define PEER_ID			0
#define FRESH_ID		2
#define NVEC			2

static int
make_eventfds(int *fds, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fds[i] < 0)
			return -1;
	}
	return 0;
}

static void
close_fds(int *fds, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int
main(int argc, char **argv)
{
	int peer[NVEC] = { -1, -1 }, old_peer[NVEC] = { -1, -1 };
	int own[NVEC] = { -1, -1 };
	int timeout_s = 60, opt, shm = -1, conn = -1, rc = 1;
	const char *replace = NULL;
	bool replaced = false;
	int64_t quiet_until = 0;
	struct ivs_server *s = NULL;
	volatile uint32_t *words;
	int64_t deadline;
	unsigned int i;

	while ((opt = getopt(argc, argv, "t:r:")) != -1) {
		switch (opt) {
		case 't':
			timeout_s = atoi(optarg);
			break;
		case 'r':
			replace = optarg;
			if (strcmp(replace, "set") != 0 && strcmp(replace, "fresh") != 0 &&
					strcmp(replace, "remove") != 0)
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || timeout_s <= 0)
		goto usage;
	deadline = now_ms() + (int64_t)timeout_s * 1000;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	setvbuf(stdout, NULL, _IOLBF, 0);

	shm = memfd_create("ivs_smoke", MFD_CLOEXEC);
	if (shm < 0 || ftruncate(shm, SHM_SIZE) < 0) {
		perror("ivs_smoke: memfd");
		goto out;
	}
	words = mmap(NULL, SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, shm, 0);
	if (words == MAP_FAILED) {
		perror("ivs_smoke: mmap");
		goto out;
	}
	for (i = 0; i < SHM_SIZE / 4; i++)
		words[i] = IVS_SMOKE_PATTERN + i;
	if (make_eventfds(peer, NVEC) < 0 || make_eventfds(own, NVEC) < 0) {
		perror("ivs_smoke: eventfd");
		goto out;
	}
	s = ivs_server_create(argv[optind]);
	if (s == NULL) {
		fprintf(stderr, "ivs_smoke: cannot listen on %s: %s\n",
			argv[optind], strerror(errno));
		goto out;
	}
	printf("ivs_smoke: listening on %s\n", argv[optind]);

	while (!quit) {
		struct pollfd p[2 + NVEC];
		unsigned int np = 0;
		int64_t left = deadline - now_ms();
		int r;

		if (quiet_until != 0 && now_ms() >= quiet_until) {
			printf("ivs_smoke: nothing rang after the removal\n");
			rc = 0;
			goto out;
		}
		if (left <= 0) {
			printf("ivs_smoke: timed out after %d s\n", timeout_s);
			goto out;
		}
		if (conn < 0)
			p[np++] = (struct pollfd){ .fd = ivs_server_fd(s), .events = POLLIN };
		else
			p[np++] = (struct pollfd){ .fd = conn, .events = POLLIN | POLLRDHUP };
		for (i = 0; i < NVEC; i++)
			p[np++] = (struct pollfd){ .fd = peer[i], .events = POLLIN };
		r = poll(p, np, left > 1000 ? 1000 : (int)left);
		if (r < 0 && errno != EINTR) {
			perror("ivs_smoke: poll");
			goto out;
		}
		if (r <= 0)
			continue;
		/* Doorbells first: a guest rings, then powers off. */
		for (i = 0; i < NVEC; i++) {
			uint64_t count;

			if (!(p[1 + i].revents & POLLIN) ||
					read(peer[i], &count, sizeof(count)) != sizeof(count))
				continue;
			printf("doorbell: vector %u count %" PRIu64 "%s\n", i, count,
				replaced ? " (replaced eventfds)" : "");
			if (replace == NULL && i == 1) {
				rc = 0;
				goto out;
			}
			if (replaced && i == 0) {
				rc = 0;
				goto out;
			}
			if (replace != NULL && !replaced && i == 1) {
				int64_t next_id = PEER_ID;
				int ret;

				/* Keep the old ones open: a ring on them would
				 * show QEMU still used them.
				 */
				memcpy(old_peer, peer, sizeof(peer));
				if (strcmp(replace, "remove") == 0) {
					peer[0] = peer[1] = -1;
					ret = ivs_conn_set_peer(conn, PEER_ID, NULL, 0);
					quiet_until = now_ms() + 3000;
				} else if (make_eventfds(peer, NVEC) < 0) {
					ret = -1;
				} else if (strcmp(replace, "set") == 0) {
					ret = ivs_conn_set_peer(conn, PEER_ID, peer, NVEC);
				} else {
					next_id = FRESH_ID;
					ret = ivs_conn_add_peer(conn, FRESH_ID, peer, NVEC);
				}
				if (ret < 0) {
					perror("ivs_smoke: changing the peer's vectors");
					goto out;
				}
				words[1] = (uint32_t)next_id;
				__atomic_thread_fence(__ATOMIC_RELEASE);
				words[0] = IVS_SMOKE_REPLACED;
				replaced = true;
				printf("ivs_smoke: vectors changed (%s), the guest rings id %" PRId64 " next\n",
					replace, next_id);
			}
		}
		if (replaced)
			for (i = 0; i < NVEC; i++) {
				uint64_t count;

				if (read(old_peer[i], &count, sizeof(count)) == sizeof(count)) {
					printf("ivs_smoke: old eventfd of vector %u rang after the replacement\n", i);
					goto out;
				}
			}
		if (conn < 0 && (p[0].revents & POLLIN)) {
			conn = ivs_server_accept(s, OWN_ID, shm, PEER_ID, peer, NVEC,
				own, NVEC);
			if (conn < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					continue;
				perror("ivs_smoke: accept");
				goto out;
			}
			printf("ivs_smoke: client connected (id %d, peer %d with %d vectors)\n",
				OWN_ID, PEER_ID, NVEC);
		} else if (conn >= 0 && p[0].revents && ivs_conn_closed(conn)) {
			printf("ivs_smoke: client closed the connection\n");
			close(conn);
			conn = -1;
			/* The guest may power off before the quiet time is up. */
			if (quiet_until != 0) {
				printf("ivs_smoke: nothing rang after the removal\n");
				rc = 0;
			}
			goto out;
		}
	}
	printf("ivs_smoke: interrupted\n");
out:
	if (conn >= 0)
		close(conn);
	ivs_server_destroy(s);
	close_fds(peer, NVEC);
	close_fds(old_peer, NVEC);
	close_fds(own, NVEC);
	if (shm >= 0)
		close(shm);
	return rc;
usage:
	fprintf(stderr, "usage: %s [-t SECONDS] [-r set|fresh|remove] SOCKET\n", argv[0]);
	return 2;
}
