/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * Control: the unix-socket endpoints, their connections, the devices' vids,
 * the control thread, and the server API (rte_vhost_pci_server_*).
 * Messages are framed by vhost_pci_transport.c and handled by
 * vhost_pci_msg.c; the device model is vhost_pci_dev.c.
 *
 * Security model: everything read from a socket is peer input. Fds received
 * with a message are owned by it until a handler takes them, and are closed
 * by the dispatcher otherwise. Any malformed message closes that connection
 * only.
 *
 * Threads and locks: one mutex (vhost_pci_lock, not recursive) guards the
 * endpoints, connections and devices. The control thread reads the sockets
 * and runs the protocol; it alone changes a device or frees a connection,
 * and it releases the lock around each application callback. Application
 * threads find a device by vid under the lock for the length of one call;
 * what would change a device (close, disconnect, unregister) they post as a
 * request, which the control thread carries out at its next safe point
 * while they wait on vhost_pci_cond.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "vhost_pci_private.h"


/* Messages handled per wake-up of one connection: a flood cannot starve
 * the other connections.
 */
#define VHOST_PCI_MSGS_PER_EVENT	64
#define VHOST_PCI_RECONNECT_MS		1000

/* Broadcast by the control thread after it carried out requests. */
static pthread_cond_t vhost_pci_cond = PTHREAD_COND_INITIALIZER;
static TAILQ_HEAD(, vhost_pci_endpoint) vhost_pci_endpoints =
	TAILQ_HEAD_INITIALIZER(vhost_pci_endpoints);
static int vhost_pci_epfd = -1;
static int vhost_pci_wakefd = -1;
static pthread_t vhost_pci_thread;
static bool vhost_pci_thread_quit;
static bool vhost_pci_thread_stopping;
static uint64_t vhost_pci_next_token = 1;

/*
 * Devices by vid. A vid is slot | generation << VID_SLOT_BITS; the slot's
 * generation moves on when its connection is freed, so an old vid never
 * names the slot's next device.
 */
#define VID_SLOT_BITS	10
#define VID_SLOTS	(1u << VID_SLOT_BITS)
#define VID_GEN_MASK	((1u << (31 - VID_SLOT_BITS)) - 1)
static struct vhost_pci_conn *vhost_pci_slot[VID_SLOTS];
static uint32_t vhost_pci_slot_gen[VID_SLOTS];

static int
vid_alloc(struct vhost_pci_conn *conn)
{
	uint32_t i;

	for (i = 0; i < VID_SLOTS; i++) {
		if (vhost_pci_slot[i] != NULL)
			continue;
		vhost_pci_slot_gen[i] = (vhost_pci_slot_gen[i] + 1) & VID_GEN_MASK;
		if (vhost_pci_slot_gen[i] == 0)
			vhost_pci_slot_gen[i] = 1;
		vhost_pci_slot[i] = conn;
		return (int)(vhost_pci_slot_gen[i] << VID_SLOT_BITS | i);
	}
	return -ENOSPC;
}

static void
vid_free(int vid)
{
	if (vid >= 0)
		vhost_pci_slot[vid & (VID_SLOTS - 1)] = NULL;
}

struct vhost_pci_device *
vhost_pci_dev_get(int vid)
{
	struct vhost_pci_conn *conn;
	uint32_t slot;

	if (vid < 0)
		return NULL;
	slot = (uint32_t)vid & (VID_SLOTS - 1);
	conn = vhost_pci_slot[slot];
	if (conn == NULL || vhost_pci_slot_gen[slot] !=
			(uint32_t)vid >> VID_SLOT_BITS)
		return NULL;
	return &conn->dev;
}

/* ---- connections ---- */

void
vhost_pci_endpoint_init(struct vhost_pci_endpoint *ep, const char *path,
		uint32_t flags, uint16_t max_queue_pairs,
		const struct rte_vhost_pci_ops *ops, void *ctx)
{
	memset(ep, 0, sizeof(*ep));
	strlcpy(ep->path, path, sizeof(ep->path));
	ep->flags = flags;
	ep->max_queue_pairs = max_queue_pairs;
	ep->ops = ops;
	ep->ctx = ctx;
	ep->listen_fd = -1;
	ep->next_conn_id = 1;
	ep->max_clients = RTE_VHOST_PCI_MAX_CLIENTS_DEFAULT;
	TAILQ_INIT(&ep->conns);
}

struct vhost_pci_conn *
vhost_pci_conn_create(struct vhost_pci_endpoint *ep, int fd)
{
	struct vhost_pci_conn *conn;

	conn = calloc(1, sizeof(*conn));
	if (conn == NULL)
		return NULL;
	vhost_pci_dev_init(&conn->dev, ep);
	conn->dev.vid = vid_alloc(conn);
	if (conn->dev.vid < 0) {
		VHOST_PCI_LOG(ERR, "%s: no device slot left of %u", ep->path,
			VID_SLOTS);
		free(conn);
		return NULL;
	}
	conn->fd = fd;
	conn->token = vhost_pci_next_token++;
	conn->notify_token = vhost_pci_next_token;
	vhost_pci_next_token += 2 * RTE_VHOST_PCI_MAX_VRINGS;
	conn->dev.conn_id = ep->next_conn_id++;
	TAILQ_INSERT_TAIL(&ep->conns, conn, next);
	ep->nconns++;
	return conn;
}

/* Close the socket and release the device; the struct stays until freed. */
void
vhost_pci_conn_close(struct vhost_pci_conn *conn)
{
	if (conn->dead)
		return;
	conn->dead = true;
	vhost_pci_dev_reset(&conn->dev);
	vhost_pci_rx_reset(&conn->rx);
	vhost_pci_unwatch(conn->fd);
	close(conn->fd);
	conn->fd = -1;
	VHOST_PCI_LOG(INFO, "%s: connection %" PRIu64 " closed",
		conn->dev.ep->path, conn->dev.conn_id);
}

void
vhost_pci_conn_free(struct vhost_pci_conn *conn)
{
	vhost_pci_conn_close(conn);
	TAILQ_REMOVE(&conn->dev.ep->conns, conn, next);
	conn->dev.ep->nconns--;
	vid_free(conn->dev.vid);
	free(conn);
}

static void
thread_wake(void)
{
	uint64_t one = 1;

	if (vhost_pci_wakefd >= 0 &&
			write(vhost_pci_wakefd, &one, sizeof(one)) < 0)
		VHOST_PCI_LOG(WARNING, "cannot wake the control thread");
}

/* Carry out what the application asked of @conn. Control thread, lock
 * held; callbacks on the way may post more, which are done too.
 */
static void
conn_run_requests(struct vhost_pci_conn *conn)
{
	while (conn->req_disconnect || conn->req_close) {
		if (conn->req_disconnect) {
			conn->req_disconnect = false;
			if (!conn->dead)
				vhost_pci_dev_disconnect(&conn->dev);
			continue;
		}
		conn->req_close = false;
		vhost_pci_conn_close(conn);
	}
}

void
vhost_pci_ctl_request(struct vhost_pci_conn *conn)
{
	struct vhost_pci_device *dev;
	int vid = conn->dev.vid;

	if (vhost_pci_on_ctl()) {
		/* From a callback: once it returned (conn_process, or the
		 * control loop). Otherwise now.
		 */
		if (!vhost_pci_in_callback())
			conn_run_requests(conn);
		return;
	}
	thread_wake();
	/* The vid, not the connection: it may be freed meanwhile. */
	while ((dev = vhost_pci_dev_get(vid)) != NULL) {
		conn = container_of(dev, struct vhost_pci_conn, dev);
		if (!conn->req_close && !conn->req_disconnect)
			break;
		vhost_pci_lock_wait(&vhost_pci_cond);
	}
}

int
vhost_pci_conn_process(struct vhost_pci_conn *conn)
{
	struct vhost_pci_msg msg;
	unsigned int done = 0;
	int ret;

	while (!conn->dead && done < VHOST_PCI_MSGS_PER_EVENT) {
		conn_run_requests(conn);
		if (conn->dead)
			break;
		ret = vhost_pci_rx_read(conn->fd, &conn->rx, &conn->hops,
			conn->dev.ep->path);
		if (ret == 0)
			return 0;
		if (ret < 0)
			goto close;
		done++;
		/* The dispatcher owns the message's fds from here. */
		vhost_pci_rx_take(&conn->rx, conn->hops, &msg);
		if (vhost_pci_dispatch(conn, &msg) == VH_ERR)
			goto close;
	}
	conn_run_requests(conn);
	return conn->dead ? -1 : 0;
close:
	vhost_pci_conn_close(conn);
	return -1;
}

/* ---- endpoints and the control thread ---- */

static int
unix_socket(const char *path, struct sockaddr_un *sa)
{
	int fd;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlcpy(sa->sun_path, path, sizeof(sa->sun_path)) >=
			sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

struct vhost_pci_endpoint *
vhost_pci_endpoint_next(struct vhost_pci_endpoint *ep)
{
	return ep == NULL ? TAILQ_FIRST(&vhost_pci_endpoints) :
		TAILQ_NEXT(ep, next);
}

static void
endpoint_add_conn(struct vhost_pci_endpoint *ep, int fd)
{
	struct vhost_pci_conn *conn;

	if (set_nonblock(fd) < 0)
		goto fail;
	conn = vhost_pci_conn_create(ep, fd);
	if (conn == NULL)
		goto fail;
	if (vhost_pci_watch(fd, conn->token) < 0) {
		vhost_pci_conn_free(conn);
		return;
	}
	VHOST_PCI_LOG(INFO, "%s: new connection %" PRIu64, ep->path,
		conn->dev.conn_id);
	return;
fail:
	close(fd);
}

/* Client mode: (re)connect when there is no live connection. */
static void
endpoint_try_connect(struct vhost_pci_endpoint *ep)
{
	struct vhost_pci_conn *conn;
	struct sockaddr_un sa;
	int fd;

	TAILQ_FOREACH(conn, &ep->conns, next)
		if (!conn->dead)
			return;
	fd = unix_socket(ep->path, &sa);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return;
	}
	endpoint_add_conn(ep, fd);
}

static int
endpoint_listen(struct vhost_pci_endpoint *ep)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, probe;

	fd = unix_socket(ep->path, &sa);
	if (fd < 0)
		return fd;
	/* A socket file nobody listens on is stale: remove it. */
	if (stat(ep->path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		probe = unix_socket(ep->path, &sa);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa,
				sizeof(sa)) == 0) {
			close(probe);
			close(fd);
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		unlink(ep->path);
	}
	/* Only the owner may connect until told otherwise (umask leaves
	 * others without write permission meanwhile).
	 */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
			chmod(ep->path, 0600) < 0 ||
			listen(fd, 128) < 0 || set_nonblock(fd) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	ep->listen_fd = fd;
	if (stat(ep->path, &st) == 0) {
		ep->sock_dev = st.st_dev;
		ep->sock_ino = st.st_ino;
	}
	ep->token = vhost_pci_next_token++;
	return vhost_pci_watch(fd, ep->token);
}

/* Remove our socket file, not one a newer server bound on the path. */
static void
endpoint_unlink(const struct vhost_pci_endpoint *ep)
{
	struct stat st;

	if (stat(ep->path, &st) == 0 && (uint64_t)st.st_dev == ep->sock_dev &&
			(uint64_t)st.st_ino == ep->sock_ino)
		unlink(ep->path);
}

static void
endpoint_accept(struct vhost_pci_endpoint *ep)
{
	int fd;

	fd = accept4(ep->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	/* Each client may map all of its memory here: a bounded number. */
	if (ep->nconns >= ep->max_clients) {
		VHOST_PCI_LOG(ERR, "%s: connection refused: %u clients already, the maximum",
			ep->path, ep->nconns);
		close(fd);
		return;
	}
	endpoint_add_conn(ep, fd);
}

/* Close every connection of @ep, its socket, and forget it. Control
 * thread (or no thread at all), lock held.
 */
static void
endpoint_remove(struct vhost_pci_endpoint *ep)
{
	struct vhost_pci_conn *conn;

	/* Callbacks on the way release the lock; only this thread adds
	 * connections, so none comes in meanwhile.
	 */
	while ((conn = TAILQ_FIRST(&ep->conns)) != NULL)
		vhost_pci_conn_free(conn);
	if (ep->listen_fd >= 0) {
		vhost_pci_unwatch(ep->listen_fd);
		close(ep->listen_fd);
		endpoint_unlink(ep);
	}
	TAILQ_REMOVE(&vhost_pci_endpoints, ep, next);
	free(ep);
}

/* The control thread's safe point: carry out requests, free dead
 * connections, reconnect in client mode, report faults; then wake whoever
 * waits for a request.
 */
static void
endpoints_maintain(void)
{
	static uint64_t faults_logged;
	uint64_t faults = rte_vhost_pci_fault_count();
	struct vhost_pci_endpoint *ep, *ep_next;
	struct vhost_pci_conn *conn, *tmp;

	if (faults != faults_logged) {
		VHOST_PCI_LOG(WARNING, "%" PRIu64 " access(es) to peer memory that its owner took away: zero pages put in its place",
			faults - faults_logged);
		faults_logged = faults;
	}

	for (ep = TAILQ_FIRST(&vhost_pci_endpoints); ep != NULL; ep = ep_next) {
		if (ep->req_unregister) {
			ep_next = TAILQ_NEXT(ep, next);
			endpoint_remove(ep);
			continue;
		}
		for (conn = TAILQ_FIRST(&ep->conns); conn != NULL; conn = tmp) {
			conn_run_requests(conn);
			tmp = TAILQ_NEXT(conn, next);
			if (conn->dead)
				vhost_pci_conn_free(conn);
		}
		if (ep->flags & RTE_VHOST_PCI_F_CLIENT)
			endpoint_try_connect(ep);
		ep_next = TAILQ_NEXT(ep, next);
	}
	pthread_cond_broadcast(&vhost_pci_cond);
}

/* Tokens, not pointers, travel through epoll: an event for an fd closed
 * in the meantime finds nothing instead of freed memory.
 */
static void
handle_token(uint64_t token)
{
	struct vhost_pci_endpoint *ep;
	struct vhost_pci_conn *conn;

	TAILQ_FOREACH(ep, &vhost_pci_endpoints, next) {
		if (ep->listen_fd >= 0 && ep->token == token) {
			endpoint_accept(ep);
			return;
		}
		TAILQ_FOREACH(conn, &ep->conns, next) {
			if (conn->dead)
				continue;
			if (conn->token == token) {
				vhost_pci_conn_process(conn);
				return;
			}
			if (token - conn->notify_token <
					2 * RTE_VHOST_PCI_MAX_VRINGS) {
				token -= conn->notify_token;
				vhost_pci_conn_inband(conn, token / 2, token & 1);
				return;
			}
		}
	}
}

static uint32_t
control_thread(void *arg __rte_unused)
{
	/* Set before the thread started; stop waits for it to end. */
	int epfd = vhost_pci_epfd, wakefd = vhost_pci_wakefd;
	struct epoll_event ev[16];
	uint64_t junk;
	int n, i;

	for (;;) {
		n = epoll_wait(epfd, ev, RTE_DIM(ev), VHOST_PCI_RECONNECT_MS);
		vhost_pci_lock_take();
		if (vhost_pci_thread_quit) {
			vhost_pci_lock_release();
			break;
		}
		for (i = 0; i < n; i++) {
			if (ev[i].data.u64 == 0) {
				if (read(wakefd, &junk, sizeof(junk)) < 0)
					junk = 0;
				continue;
			}
			handle_token(ev[i].data.u64);
		}
		endpoints_maintain();
		vhost_pci_lock_release();
	}
	return 0;
}

static void *
control_thread_entry(void *arg)
{
	vhost_pci_ctl_enter();
	control_thread(arg);
	return NULL;
}

static int
thread_start(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0 };
	int ret;

	/* One control thread at a time: a stop in progress ends first. */
	while (vhost_pci_thread_stopping)
		vhost_pci_lock_wait(&vhost_pci_cond);
	if (vhost_pci_ctl_running())
		return 0;
	vhost_pci_epfd = epoll_create1(EPOLL_CLOEXEC);
	vhost_pci_wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vhost_pci_epfd < 0 || vhost_pci_wakefd < 0 ||
			epoll_ctl(vhost_pci_epfd, EPOLL_CTL_ADD, vhost_pci_wakefd,
				&ev) < 0) {
		ret = -errno;
		goto fail;
	}
	vhost_pci_thread_quit = false;
	vhost_pci_ctl_set(true, vhost_pci_epfd);
	ret = rte_ctrl_thread_create(&vhost_pci_thread, "vhost-pci-ctl", NULL,
		control_thread_entry, NULL);
	if (ret != 0) {
		vhost_pci_ctl_set(false, -1);
		ret = -ret;
		goto fail;
	}
	return 0;
fail:
	if (vhost_pci_epfd >= 0)
		close(vhost_pci_epfd);
	if (vhost_pci_wakefd >= 0)
		close(vhost_pci_wakefd);
	vhost_pci_epfd = vhost_pci_wakefd = -1;
	return ret;
}

/* Called with the lock held, never on the control thread; releases the
 * lock while joining; thread_start() waits for that.
 */
static void
thread_stop_locked(void)
{
	pthread_t thread = vhost_pci_thread;
	int epfd = vhost_pci_epfd, wakefd = vhost_pci_wakefd;

	if (!vhost_pci_ctl_running())
		return;
	vhost_pci_thread_quit = true;
	thread_wake();
	vhost_pci_thread_stopping = true;
	vhost_pci_ctl_set(false, -1);
	vhost_pci_epfd = vhost_pci_wakefd = -1;
	vhost_pci_lock_release();
	pthread_join(thread, NULL);
	vhost_pci_lock_take();
	close(epfd);
	close(wakefd);
	vhost_pci_thread_stopping = false;
	pthread_cond_broadcast(&vhost_pci_cond);
}

/* List an endpoint; its devices count as live from here. */
void
vhost_pci_endpoint_add(struct vhost_pci_endpoint *ep)
{
	vhost_pci_lock_take();
	TAILQ_INSERT_TAIL(&vhost_pci_endpoints, ep, next);
	vhost_pci_lock_release();
}

static struct vhost_pci_endpoint *
endpoint_find(const char *path)
{
	struct vhost_pci_endpoint *ep;

	TAILQ_FOREACH(ep, &vhost_pci_endpoints, next)
		if (strcmp(ep->path, path) == 0)
			return ep;
	return NULL;
}

int
rte_vhost_pci_server_register(const char *path, uint32_t flags,
		uint16_t max_queue_pairs, const struct rte_vhost_pci_ops *ops,
		void *ctx)
{
	struct vhost_pci_endpoint *ep;
	int ret;

	if (path == NULL || ops == NULL || max_queue_pairs == 0 ||
			max_queue_pairs > VHOST_PCI_MAX_QUEUE_PAIRS ||
			(flags & ~(RTE_VHOST_PCI_F_CLIENT |
				RTE_VHOST_PCI_F_NO_IN_ORDER)) ||
			strlen(path) >= sizeof(ep->path))
		return -EINVAL;
	vhost_pci_lock_take();
	if (endpoint_find(path) != NULL) {
		ret = -EEXIST;
		goto out;
	}
	ep = malloc(sizeof(*ep));
	if (ep == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	vhost_pci_endpoint_init(ep, path, flags, max_queue_pairs, ops, ctx);
	ret = thread_start();
	if (ret == 0 && !(flags & RTE_VHOST_PCI_F_CLIENT))
		ret = endpoint_listen(ep);
	if (ret < 0) {
		if (ep->listen_fd >= 0)
			close(ep->listen_fd);
		free(ep);
		if (TAILQ_EMPTY(&vhost_pci_endpoints))
			thread_stop_locked();
		VHOST_PCI_LOG(ERR, "%s: cannot register: %s", path,
			strerror(-ret));
		goto out;
	}
	TAILQ_INSERT_TAIL(&vhost_pci_endpoints, ep, next);
	/* The control thread connects (client mode): it alone adds
	 * connections.
	 */
	if (flags & RTE_VHOST_PCI_F_CLIENT)
		thread_wake();
	VHOST_PCI_LOG(INFO, "%s: %s, %u queue pairs", path,
		(flags & RTE_VHOST_PCI_F_CLIENT) ? "connecting" : "listening",
		max_queue_pairs);
out:
	vhost_pci_lock_release();
	return ret;
}

int
rte_vhost_pci_server_set_max_clients(const char *path, uint32_t max)
{
	struct vhost_pci_endpoint *ep;
	int ret = -ENOENT;

	if (max == 0)
		return -EINVAL;
	vhost_pci_lock_take();
	ep = endpoint_find(path);
	if (ep != NULL) {
		ep->max_clients = max;
		ret = 0;
	}
	vhost_pci_lock_release();
	return ret;
}

int
rte_vhost_pci_server_set_owner(const char *path, uid_t uid, gid_t gid,
		mode_t mode)
{
	struct vhost_pci_endpoint *ep;
	int ret = -ENOENT;

	vhost_pci_lock_take();
	ep = endpoint_find(path);
	if (ep != NULL && ep->listen_fd < 0)
		ret = -ENOTSOCK;	/* client mode: no socket of ours */
	else if (ep != NULL)
		ret = (chown(path, uid, gid) < 0 ||
			chmod(path, mode & 0777) < 0) ? -errno : 0;
	vhost_pci_lock_release();
	if (ret < 0 && ret != -ENOENT)
		VHOST_PCI_LOG(ERR, "%s: cannot set owner %d:%d mode %o: %s",
			path, (int)uid, (int)gid, (unsigned int)mode,
			strerror(-ret));
	return ret;
}

int
rte_vhost_pci_server_unregister(const char *path)
{
	struct vhost_pci_endpoint *ep;

	if (path == NULL)
		return -EINVAL;
	vhost_pci_lock_take();
	ep = endpoint_find(path);
	if (ep == NULL) {
		vhost_pci_lock_release();
		return -ENOENT;
	}
	if (!vhost_pci_ctl_running()) {
		endpoint_remove(ep);
	} else if (vhost_pci_is_ctl_thread()) {
		/* It would wait for itself. */
		vhost_pci_lock_release();
		return -EDEADLK;
	} else {
		/* The control thread closes the connections (their
		 * destroy_device calls run there) and frees the endpoint.
		 */
		ep->req_unregister = true;
		thread_wake();
		while (endpoint_find(path) == ep && ep->req_unregister)
			vhost_pci_lock_wait(&vhost_pci_cond);
	}
	if (TAILQ_EMPTY(&vhost_pci_endpoints))
		thread_stop_locked();
	vhost_pci_lock_release();
	return 0;
}
