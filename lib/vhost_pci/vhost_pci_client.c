/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * The front-end (client) side of the vhost-pci extension, and message I/O
 * for programs that relay vhost-user (app/vhost-pci-client).
 *
 * Security model: the server is trusted no more than a client is. Every
 * header is checked for version, size and fd count before its payload is
 * read; a reply must name the request that was sent.
 */

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_errno.h>

#include "rte_vhost_pci_client.h"
#include "vhost_pci_private.h"

#define CLIENT_TIMEOUT_MS	5000

struct rte_vhost_pci_client {
	int fd;
	uint64_t conn_id;
	uint64_t protocol_features;
	bool server_uuid_set;
	uint8_t server_uuid[VHOST_PCI_UUID_LEN];
	const struct rte_vhost_pci_client_ops *ops;
	void *ctx;
};

static_assert(RTE_VHOST_PCI_MSG_PAYLOAD_MAX == VHOST_PCI_PAYLOAD_MAX,
	"one payload bound");

static uint32_t
hdr_size(uint32_t version)
{
	return version == VHOST_PCI_HDR_VERSION_2 ?
		sizeof(struct vhost_pci_hdr_v2) : sizeof(struct vhost_pci_hdr_v1);
}

void
rte_vhost_pci_msg_close_fds(struct rte_vhost_pci_msg *msg)
{
	vhost_pci_close_fds(msg->fds, &msg->nfds);
}

static int
wait_readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int ret;

	do {
		ret = poll(&p, 1, timeout_ms);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	return ret == 0 ? -ETIMEDOUT : 0;
}

/* Read exactly @len bytes; fds that come along are added to @msg. */
static int
recv_exact(int fd, uint8_t *buf, size_t len, struct rte_vhost_pci_msg *msg,
		int timeout_ms)
{
	char control[CMSG_SPACE(RTE_VHOST_PCI_MSG_MAX_FDS * sizeof(int))];
	size_t got = 0;

	while (got < len) {
		struct iovec iov = { .iov_base = buf + got, .iov_len = len - got };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = control, .msg_controllen = sizeof(control),
		};
		struct cmsghdr *cm;
		ssize_t n;
		int ret;

		ret = wait_readable(fd, timeout_ms);
		if (ret < 0)
			return ret;
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		/* A peer that closed with our bytes unread resets the
		 * connection: closed all the same.
		 */
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return -EPIPE;
		if (n < 0)
			return -errno;
		for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			size_t k, nfd;

			if (cm->cmsg_level != SOL_SOCKET ||
					cm->cmsg_type != SCM_RIGHTS)
				continue;
			nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (k = 0; k < nfd; k++) {
				int f;

				memcpy(&f, CMSG_DATA(cm) + k * sizeof(int), sizeof(f));
				if (msg->nfds < RTE_VHOST_PCI_MSG_MAX_FDS)
					msg->fds[msg->nfds++] = f;
				else
					close(f);
			}
		}
		if (mh.msg_flags & MSG_CTRUNC)
			return -EPROTO;
		got += n;
	}
	return 0;
}

int
rte_vhost_pci_msg_recv(int fd, uint32_t version, struct rte_vhost_pci_msg *msg,
		int timeout_ms)
{
	uint8_t hdr[VHOST_PCI_HDR_MAX];
	struct vhost_pci_msg m;
	int ret;

	memset(msg, 0, offsetof(struct rte_vhost_pci_msg, payload));
	ret = recv_exact(fd, hdr, hdr_size(version), msg, timeout_ms);
	if (ret < 0)
		goto fail;
	(version == VHOST_PCI_HDR_VERSION_2 ? &vhost_pci_hdr_v2 :
		&vhost_pci_hdr_v1)->decode(hdr, &m);
	ret = -EPROTO;
	if ((m.flags & VHOST_PCI_HDR_VERSION_MASK) != version ||
			m.size > RTE_VHOST_PCI_MSG_PAYLOAD_MAX)
		goto fail;
	msg->request = m.request;
	msg->flags = m.flags;
	msg->conn_id = m.conn_id;
	msg->size = m.size;
	ret = recv_exact(fd, msg->payload, m.size, msg, timeout_ms);
	if (ret == 0)
		return 0;
fail:
	rte_vhost_pci_msg_close_fds(msg);
	return ret;
}

int
rte_vhost_pci_msg_send(int fd, uint32_t version,
		const struct rte_vhost_pci_msg *msg)
{
	char control[CMSG_SPACE(RTE_VHOST_PCI_MSG_MAX_FDS * sizeof(int))];
	uint8_t buf[VHOST_PCI_HDR_MAX + RTE_VHOST_PCI_MSG_PAYLOAD_MAX];
	struct vhost_pci_msg m = {
		.request = msg->request, .flags = msg->flags,
		.conn_id = msg->conn_id, .size = msg->size,
	};
	uint32_t hsz = hdr_size(version);
	struct iovec iov = { .iov_base = buf, .iov_len = hsz + msg->size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (msg->size > RTE_VHOST_PCI_MSG_PAYLOAD_MAX ||
			msg->nfds > RTE_VHOST_PCI_MSG_MAX_FDS)
		return -EINVAL;
	(version == VHOST_PCI_HDR_VERSION_2 ? &vhost_pci_hdr_v2 :
		&vhost_pci_hdr_v1)->encode(&m, buf);
	memcpy(buf + hsz, msg->payload, msg->size);
	if (msg->nfds > 0) {
		struct cmsghdr *cm;

		memset(control, 0, sizeof(control));
		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE(msg->nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(msg->nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), msg->fds, msg->nfds * sizeof(int));
	}
	do {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == iov.iov_len ? 0 : -EIO;
}

/* ---- the client ---- */

static int
client_reply(struct rte_vhost_pci_client *c, uint32_t request, uint64_t v)
{
	struct rte_vhost_pci_msg r = {
		.request = request,
		.flags = VHOST_PCI_HDR_VERSION_2 | VHOST_PCI_HDR_F_REPLY,
		.conn_id = c->conn_id,
		.size = sizeof(v),
	};

	memcpy(r.payload, &v, sizeof(v));
	return rte_vhost_pci_msg_send(c->fd, VHOST_PCI_HDR_VERSION_2, &r);
}

/* A request the server sent on its own: hand it over, answer it. */
static int
client_server_request(struct rte_vhost_pci_client *c,
		struct rte_vhost_pci_msg *m)
{
	const struct rte_vhost_pci_client_ops *ops = c->ops;
	uint32_t gsi[VHOST_PCI_MAX_GSI];
	int ret = -1;
	uint64_t v;
	uint16_t n;

	rte_vhost_pci_msg_close_fds(m);
	switch (m->request) {
	case VHOST_PCI_SET_PVI_SENDER_UUID:
		if (m->size != VHOST_PCI_UUID_LEN)
			return -EPROTO;
		memcpy(c->server_uuid, m->payload, VHOST_PCI_UUID_LEN);
		c->server_uuid_set = true;
		ret = ops && ops->sender_uuid ?
			ops->sender_uuid(c, m->payload, c->ctx) : 0;
		break;
	case VHOST_PCI_SET_RX_QUEUE_GSI:
		memcpy(&n, m->payload, sizeof(n));
		if (m->size < VHOST_PCI_GSI_HDR || n == 0 ||
				n > VHOST_PCI_MAX_GSI ||
				m->size != VHOST_PCI_GSI_HDR + n * VHOST_PCI_GSI_SIZE)
			return -EPROTO;
		memcpy(gsi, m->payload + VHOST_PCI_GSI_HDR, n * sizeof(gsi[0]));
		ret = ops && ops->rx_queue_gsi ?
			ops->rx_queue_gsi(c, gsi, n, c->ctx) : 0;
		break;
	case VHOST_PCI_SET_PEER_CONNECTION:
		/* A server may only disconnect (the vhost-pci extension). */
		memcpy(&v, m->payload, sizeof(v));
		if (m->size != sizeof(v) || v != VHOST_PCI_PEER_DISCONNECT)
			return -EPROTO;
		ret = ops && ops->peer_disconnect ?
			ops->peer_disconnect(c, c->ctx) : 0;
		break;
	default:
		return -EPROTO;
	}
	if (!(m->flags & VHOST_PCI_HDR_F_NEED_REPLY))
		return 0;
	return client_reply(c, m->request, ret == 0 ? 0 : 1);
}

/* Read one message; server requests are handled here. 1: got a reply. */
static int
client_read(struct rte_vhost_pci_client *c, struct rte_vhost_pci_msg *m,
		int timeout_ms)
{
	int ret;

	ret = rte_vhost_pci_msg_recv(c->fd, VHOST_PCI_HDR_VERSION_2, m,
		timeout_ms);
	if (ret < 0)
		return ret;
	if (c->conn_id != VHOST_PCI_CONN_ID_ANON && m->conn_id != c->conn_id) {
		rte_vhost_pci_msg_close_fds(m);
		return -EPROTO;
	}
	if (m->flags & VHOST_PCI_HDR_F_REPLY)
		return 1;
	ret = client_server_request(c, m);
	return ret < 0 ? ret : 0;
}

int
rte_vhost_pci_client_request(struct rte_vhost_pci_client *c,
		struct rte_vhost_pci_msg *req, struct rte_vhost_pci_msg *reply)
{
	int ret;

	req->flags = VHOST_PCI_HDR_VERSION_2 | VHOST_PCI_HDR_F_NEED_REPLY;
	req->conn_id = c->conn_id;
	ret = rte_vhost_pci_msg_send(c->fd, VHOST_PCI_HDR_VERSION_2, req);
	if (ret < 0)
		return ret;
	for (;;) {
		ret = client_read(c, reply, CLIENT_TIMEOUT_MS);
		if (ret < 0)
			return ret;
		if (ret == 0)
			continue;	/* a server request, answered */
		if (reply->request != req->request || reply->nfds != 0) {
			rte_vhost_pci_msg_close_fds(reply);
			return -EPROTO;
		}
		return 0;
	}
}

int
rte_vhost_pci_client_poll(struct rte_vhost_pci_client *c)
{
	struct rte_vhost_pci_msg m;
	int ret;

	for (;;) {
		ret = client_read(c, &m, 0);
		if (ret == -ETIMEDOUT)
			return 0;
		if (ret < 0)
			return ret;
		if (ret == 1)
			return -EPROTO;	/* a reply nobody asked for */
	}
}

/* A request with a u64 payload; the reply's u64 in *out. */
static int
client_u64(struct rte_vhost_pci_client *c, uint32_t request, const void *arg,
		uint32_t size, uint64_t *out)
{
	struct rte_vhost_pci_msg req = { .request = request, .size = size };
	struct rte_vhost_pci_msg reply;
	int ret;

	if (size > 0)
		memcpy(req.payload, arg, size);
	ret = rte_vhost_pci_client_request(c, &req, &reply);
	if (ret < 0)
		return ret;
	if (reply.size != sizeof(*out))
		return -EPROTO;
	memcpy(out, reply.payload, sizeof(*out));
	return 0;
}

static int
client_hello(struct rte_vhost_pci_client *c, const uint8_t uuid[16],
		uint64_t pfeatures)
{
	uint64_t offered, v, zero = 0, type = VHOST_PCI_DEV_TYPE_NET;
	int ret;

	ret = client_u64(c, VHOST_USER_GET_PROTOCOL_FEATURES, NULL, 0, &offered);
	if (ret < 0)
		return ret;
	if (!(offered & RTE_BIT64(VHOST_PCI_PROTOCOL_F_VHOST_PCI)))
		return -ENOTSUP;
	v = (pfeatures | RTE_BIT64(VHOST_PCI_PROTOCOL_F_VHOST_PCI) |
		RTE_BIT64(VHOST_USER_PROTOCOL_F_REPLY_ACK)) & offered;
	ret = client_u64(c, VHOST_USER_SET_PROTOCOL_FEATURES, &v, sizeof(v),
		&zero);
	if (ret < 0 || zero != 0)
		return ret < 0 ? ret : -EPROTO;
	c->protocol_features = v;
	ret = client_u64(c, VHOST_PCI_GET_CONN_ID, &zero, sizeof(zero), &v);
	if (ret < 0)
		return ret;
	c->conn_id = v;
	ret = client_u64(c, VHOST_PCI_SET_DEV_TYPE, &type, sizeof(type), &v);
	if (ret < 0 || v != 0)
		return ret < 0 ? ret : -ENOTSUP;
	ret = client_u64(c, VHOST_PCI_SET_PVI_SENDER_UUID, uuid,
		VHOST_PCI_UUID_LEN, &v);
	return ret < 0 ? ret : (v != 0 ? -EPROTO : 0);
}

struct rte_vhost_pci_client *
rte_vhost_pci_client_connect(const char *path, const uint8_t uuid[16],
		uint64_t protocol_features,
		const struct rte_vhost_pci_client_ops *ops, void *ctx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct rte_vhost_pci_client *c;
	int ret;

	if (strlcpy(sa.sun_path, path, sizeof(sa.sun_path)) >=
			sizeof(sa.sun_path)) {
		rte_errno = ENAMETOOLONG;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	c->conn_id = VHOST_PCI_CONN_ID_ANON;
	c->ops = ops;
	c->ctx = ctx;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa,
			sizeof(sa)) < 0) {
		ret = -errno;
		goto fail;
	}
	ret = client_hello(c, uuid, protocol_features);
	if (ret < 0)
		goto fail;
	return c;
fail:
	rte_vhost_pci_client_close(c);
	rte_errno = -ret;
	return NULL;
}

int
rte_vhost_pci_client_set_rx_queue_gsi(struct rte_vhost_pci_client *c,
		const uint32_t *gsi, uint16_t n)
{
	struct rte_vhost_pci_msg req = { .request = VHOST_PCI_SET_RX_QUEUE_GSI };
	struct rte_vhost_pci_msg reply;
	uint64_t v;
	int ret;

	if (n == 0 || n > VHOST_PCI_MAX_GSI)
		return -EINVAL;
	memcpy(req.payload, &n, sizeof(n));
	memcpy(req.payload + VHOST_PCI_GSI_HDR, gsi, n * VHOST_PCI_GSI_SIZE);
	req.size = VHOST_PCI_GSI_HDR + n * VHOST_PCI_GSI_SIZE;
	ret = rte_vhost_pci_client_request(c, &req, &reply);
	if (ret < 0)
		return ret;
	memcpy(&v, reply.payload, sizeof(v));
	return reply.size == sizeof(v) && v == 0 ? 0 : -EPROTO;
}

int
rte_vhost_pci_client_set_peer_connection(struct rte_vhost_pci_client *c,
		bool connect)
{
	uint64_t arg = connect ? VHOST_PCI_PEER_CONNECT :
		VHOST_PCI_PEER_DISCONNECT, v;
	int ret;

	ret = client_u64(c, VHOST_PCI_SET_PEER_CONNECTION, &arg, sizeof(arg),
		&v);
	if (ret < 0)
		return ret;
	return v == 0 ? 0 : 1;
}

int
rte_vhost_pci_client_fd(const struct rte_vhost_pci_client *c)
{
	return c->fd;
}

uint64_t
rte_vhost_pci_client_conn_id(const struct rte_vhost_pci_client *c)
{
	return c->conn_id;
}

uint64_t
rte_vhost_pci_client_protocol_features(const struct rte_vhost_pci_client *c)
{
	return c->protocol_features;
}

int
rte_vhost_pci_client_server_uuid(const struct rte_vhost_pci_client *c,
		uint8_t uuid[16])
{
	if (!c->server_uuid_set)
		return -ENOENT;
	memcpy(uuid, c->server_uuid, VHOST_PCI_UUID_LEN);
	return 0;
}

void
rte_vhost_pci_client_close(struct rte_vhost_pci_client *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}
