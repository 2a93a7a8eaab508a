/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ivshmem_server.h"

#define IVS_PROTOCOL_VERSION	0

struct ivs_server {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

struct ivs_server *
ivs_server_create(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ivs_server *s;
	struct stat st;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	strcpy(s->path, path);
	strcpy(sa.sun_path, path);
	/* Only a stale socket is replaced, never another kind of file. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
			listen(s->fd, 8) < 0) {
		int err = errno;

		if (s->fd >= 0)
			close(s->fd);
		free(s);
		errno = err;
		return NULL;
	}
	return s;
}

void
ivs_server_destroy(struct ivs_server *s)
{
	if (s == NULL)
		return;
	close(s->fd);
	unlink(s->path);
	free(s);
}

int
ivs_server_fd(const struct ivs_server *s)
{
	return s->fd;
}

/* One message: an int64, little endian (x86), with at most one fd. */
static int
ivs_send(int conn, int64_t v, int fd)
{
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &v, .iov_len = sizeof(v) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(ctl, 0, sizeof(ctl));
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof(ctl);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do {
		n = sendmsg(conn, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(v) ? 0 : -1;
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
	int conn = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);

	if (conn < 0)
		return -1;
	/* QEMU reads these three while it creates the device. */
	if (ivs_send(conn, IVS_PROTOCOL_VERSION, -1) < 0 ||
			ivs_send(conn, own_id, -1) < 0 ||
			ivs_send(conn, -1, shm_fd) < 0 ||
			ivs_send_vectors(conn, peer_id, peer_fds, npeer) < 0 ||
			ivs_send_vectors(conn, own_id, own_fds, nown) < 0) {
		close(conn);
		return -1;
	}
	return conn;
}

int
ivs_conn_add_peer(int conn_fd, int64_t peer_id, const int *fds,
		unsigned int n)
{
	return ivs_send_vectors(conn_fd, peer_id, fds, n);
}

int
ivs_conn_set_peer(int conn_fd, int64_t peer_id, const int *fds,
		unsigned int n)
{
	/* An id without an fd removes that peer and its vectors. */
	if (ivs_send(conn_fd, peer_id, -1) < 0)
		return -1;
	return ivs_send_vectors(conn_fd, peer_id, fds, n);
}

bool
ivs_conn_closed(int conn_fd)
{
	struct pollfd p = { .fd = conn_fd, .events = POLLIN };
	char c;

	if (poll(&p, 1, 0) <= 0)
		return false;
	if (p.revents & (POLLHUP | POLLERR))
		return true;
	/* QEMU never writes to us: readable means end of file. */
	return recv(conn_fd, &c, 1, MSG_DONTWAIT) <= 0;
}
