/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * The server side of QEMU's ivshmem-doorbell protocol: see
 * ivshmem_server.h. Plain POSIX and Linux socket calls, no DPDK.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* accept4, POLLRDHUP */
#endif

#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "ivshmem_server.h"

#define IVS_BACKLOG	16

/*
 * A connection handed to the caller. The caller closes it when the client
 * goes, without telling us, and the number may then be reused for
 * anything: destroy closes only fds that still are the socket accepted
 * (same device and inode; socket inodes are not reused while open).
 */
struct ivs_conn_ref {
	int fd;
	dev_t dev;
	ino_t ino;
};

struct ivs_server {
	int fd;
	/* The socket file we bound, so destroy never unlinks a successor's. */
	dev_t path_dev;
	ino_t path_ino;
	struct ivs_conn_ref *conns;
	unsigned int nconns;
	unsigned int cap;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static int
ivs_valid_id(int64_t id)
{
	return id >= 0 && id <= IVS_MAX_ID;
}

static int
ivs_valid_fds(const int *fds, unsigned int n)
{
	unsigned int i;

	if (n > 0 && fds == NULL)
		return 0;
	/* A negative fd would go out as an id without an fd: a removal. */
	for (i = 0; i < n; i++)
		if (fds[i] < 0)
			return 0;
	return 1;
}

static int
ivs_same_file(int fd, dev_t dev, ino_t ino)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) &&
		st.st_dev == dev && st.st_ino == ino;
}

/*
 * Is a socket file in use? Something that accepts a connection (or whose
 * backlog is full) is; refused means its server is gone.
 */
static int
ivs_socket_alive(const struct sockaddr_un *sa)
{
	int fd, ret, err;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	do {
		ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	} while (ret < 0 && errno == EINTR);
	err = errno;
	close(fd);
	if (ret == 0 || err == EAGAIN || err == EINPROGRESS)
		return 1;
	return 0;
}

struct ivs_server *
ivs_server_create(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ivs_server *s;
	struct stat st;
	int err;

	if (path == NULL || path[0] == '\0') {
		errno = EINVAL;
		return NULL;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errno = EEXIST;
			return NULL;
		}
		/* A live server keeps its socket: two would split QEMUs. */
		if (ivs_socket_alive(&sa) != 0) {
			errno = EADDRINUSE;
			return NULL;
		}
		if (unlink(path) < 0 && errno != ENOENT)
			return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	memcpy(s->path, sa.sun_path, sizeof(s->path));
	/* Non-blocking: accept with nothing pending must not hang. */
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0)
		goto fail;
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail_close;
	if (lstat(path, &st) == 0) {
		s->path_dev = st.st_dev;
		s->path_ino = st.st_ino;
	}
	if (listen(s->fd, IVS_BACKLOG) < 0) {
		err = errno;
		unlink(path);
		errno = err;
		goto fail_close;
	}
	return s;

fail_close:
	err = errno;
	close(s->fd);
	errno = err;
fail:
	err = errno;
	free(s);
	errno = err;
	return NULL;
}

void
ivs_server_destroy(struct ivs_server *s)
{
	struct stat st;
	unsigned int i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nconns; i++)
		if (ivs_same_file(s->conns[i].fd, s->conns[i].dev,
				s->conns[i].ino))
			close(s->conns[i].fd);
	free(s->conns);
	close(s->fd);
	if (lstat(s->path, &st) == 0 && st.st_dev == s->path_dev &&
			st.st_ino == s->path_ino)
		unlink(s->path);
	free(s);
}

int
ivs_server_fd(const struct ivs_server *s)
{
	return s != NULL ? s->fd : -1;
}

/* Remember conn for destroy, forgetting those the caller closed since. */
static void
ivs_track(struct ivs_server *s, int conn)
{
	struct stat st;
	unsigned int i, j;

	if (fstat(conn, &st) < 0)
		return;
	for (i = 0, j = 0; i < s->nconns; i++)
		if (s->conns[i].fd != conn && ivs_same_file(s->conns[i].fd,
				s->conns[i].dev, s->conns[i].ino))
			s->conns[j++] = s->conns[i];
	s->nconns = j;
	if (s->nconns == s->cap) {
		unsigned int cap = s->cap ? s->cap * 2 : 8;
		struct ivs_conn_ref *c = realloc(s->conns, cap * sizeof(*c));

		/* Untracked only means destroy leaves it to the caller. */
		if (c == NULL)
			return;
		s->conns = c;
		s->cap = cap;
	}
	s->conns[s->nconns].fd = conn;
	s->conns[s->nconns].dev = st.st_dev;
	s->conns[s->nconns].ino = st.st_ino;
	s->nconns++;
}

/*
 * One message: the value as 8 little-endian bytes, fd (if >= 0) attached
 * to them. Each message is its own sendmsg(): the receiving kernel never
 * merges data across a change of attached fds, so QEMU sees each fd with
 * its own 8 bytes.
 */
static int
ivs_send(int conn, int64_t v, int fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	uint64_t le = htole64((uint64_t)v);
	const char *p = (const char *)&le;
	size_t left = sizeof(le);
	struct msghdr mh;
	struct iovec iov;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	while (left > 0) {
		iov.iov_base = (void *)(uintptr_t)p;
		iov.iov_len = left;
		/* No SIGPIPE when the client is gone: EPIPE instead. */
		n = sendmsg(conn, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* SO_SNDTIMEO ran out; EAGAIN would read as "no
			 * client pending" to ivs_server_accept's caller.
			 */
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			return -1;
		}
		if (n == 0) {
			errno = EPIPE;
			return -1;
		}
		/* The fd went with the first bytes; the rest goes bare. */
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		p += n;
		left -= (size_t)n;
	}
	return 0;
}

static int
ivs_send_vectors(int conn, int64_t id, const int *fds, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (ivs_send(conn, id, fds[i]) < 0)
			return -1;
	return 0;
}

int
ivs_server_accept(struct ivs_server *s, int64_t own_id, int shm_fd,
		int64_t peer_id, const int *peer_fds, unsigned int npeer,
		const int *own_fds, unsigned int nown)
{
	struct timeval tv = {
		.tv_sec = IVS_SEND_TIMEOUT_MS / 1000,
		.tv_usec = (IVS_SEND_TIMEOUT_MS % 1000) * 1000,
	};
	int conn, err;

	if (s == NULL || !ivs_valid_id(own_id) ||
			(npeer > 0 && (!ivs_valid_id(peer_id) || peer_id == own_id)) ||
			!ivs_valid_fds(peer_fds, npeer) ||
			!ivs_valid_fds(own_fds, nown)) {
		errno = EINVAL;
		return -1;
	}
	do {
		conn = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
	} while (conn < 0 && errno == EINTR);
	if (conn < 0)
		return -1;
	/* A client that does not read must not stall the caller for good. */
	if (setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		goto fail;
	/* QEMU reads these three before it finishes creating the device. */
	if (ivs_send(conn, IVS_PROTOCOL_VERSION, -1) < 0 ||
			ivs_send(conn, own_id, -1) < 0 ||
			ivs_send(conn, -1, shm_fd) < 0)
		goto fail;
	if (ivs_send_vectors(conn, peer_id, peer_fds, npeer) < 0 ||
			ivs_send_vectors(conn, own_id, own_fds, nown) < 0)
		goto fail;
	ivs_track(s, conn);
	return conn;

fail:
	err = errno;
	close(conn);
	errno = err;
	return -1;
}

int
ivs_conn_add_peer(int conn_fd, int64_t peer_id, const int *fds,
		unsigned int n)
{
	if (conn_fd < 0 || !ivs_valid_id(peer_id) || !ivs_valid_fds(fds, n)) {
		errno = EINVAL;
		return -1;
	}
	return ivs_send_vectors(conn_fd, peer_id, fds, n);
}

int
ivs_conn_set_peer(int conn_fd, int64_t peer_id, const int *fds,
		unsigned int n)
{
	if (conn_fd < 0 || !ivs_valid_id(peer_id) || !ivs_valid_fds(fds, n)) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * The id alone removes the peer and closes QEMU's copies of its
	 * eventfds; QEMU takes a peer it never heard of in its stride.
	 */
	if (ivs_send(conn_fd, peer_id, -1) < 0)
		return -1;
	return ivs_send_vectors(conn_fd, peer_id, fds, n);
}

bool
ivs_conn_closed(int conn_fd)
{
	struct pollfd p = { .fd = conn_fd, .events = POLLIN | POLLRDHUP };
	char buf[256];
	unsigned int i;
	ssize_t n;
	int r;

	if (conn_fd < 0)
		return true;
	/* Bounded: a client that keeps writing is not closed, and not ours
	 * to wait for either.
	 */
	for (i = 0; i < 64; i++) {
		r = poll(&p, 1, 0);
		if (r < 0)
			return errno != EINTR && errno != ENOMEM && errno != EAGAIN;
		if (r == 0)
			return false;
		if (p.revents & (POLLNVAL | POLLERR | POLLHUP | POLLRDHUP))
			return true;
		/*
		 * QEMU never writes. Whatever came is dropped; without a
		 * control buffer the kernel closes any fds that came with it.
		 */
		n = recv(conn_fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			return true;
		if (n < 0)
			return errno != EINTR && errno != EAGAIN &&
				errno != EWOULDBLOCK;
	}
	return false;
}
