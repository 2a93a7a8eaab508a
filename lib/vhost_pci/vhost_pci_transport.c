/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * Framing: messages over a unix stream socket, with the fds that come
 * along (SCM_RIGHTS). One implementation for the server's connections
 * (non-blocking, driven by the control thread) and the client (which
 * waits for readability between reads); the headers themselves are the
 * codec's (vhost_pci_wire.c).
 *
 * Security model: everything read is peer input. A message is assembled
 * into a fixed buffer whose size bounds the payload; the version of every
 * header is checked against the connection's, the payload size against
 * the buffer, before the payload is read. Fds received are owned by the
 * assembly until the message is taken; more than a message may carry is
 * an error, and the excess is closed at once so no fd leaks.
 */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define VHOST_PCI_LOGTYPE	vhost_pci_logtype_msg
#include "vhost_pci_private.h"

void
vhost_pci_close_fds(int *fds, uint32_t *nfds)
{
	uint32_t i;

	for (i = 0; i < *nfds; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	*nfds = 0;
}

void
vhost_pci_rx_reset(struct vhost_pci_rx *rx)
{
	vhost_pci_close_fds(rx->fds, &rx->nfds);
	rx->len = 0;
}

/* Take the fds of every SCM_RIGHTS block. -1 if there were too many. */
static int
rx_take_fds(struct vhost_pci_rx *rx, struct msghdr *mh)
{
	struct cmsghdr *cm;
	int ret = 0;

	if (mh->msg_flags & MSG_CTRUNC)
		ret = -1;	/* the kernel already closed what did not fit */
	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		size_t n, i;
		int fd;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (rx->nfds < VHOST_PCI_MAX_FDS) {
				rx->fds[rx->nfds++] = fd;
			} else {
				close(fd);
				ret = -1;
			}
		}
	}
	return ret;
}

/* How many bytes the message being assembled still needs. */
static uint32_t
rx_need(const struct vhost_pci_rx *rx, const struct vhost_pci_hdr_ops *hops)
{
	struct vhost_pci_msg m;

	if (hops == NULL || rx->len < VHOST_PCI_HDR_PREFIX)
		return VHOST_PCI_HDR_PREFIX - rx->len;
	if (rx->len < hops->hdr_size)
		return hops->hdr_size - rx->len;
	hops->decode(rx->buf, &m);
	return hops->hdr_size + m.size - rx->len;
}

/* Header checks that need no request knowledge. 0, or -EPROTO. */
static int
rx_check(struct vhost_pci_rx *rx, const struct vhost_pci_hdr_ops **hops,
		const char *who)
{
	uint32_t flags, version;
	struct vhost_pci_msg m;

	if (rx->len == VHOST_PCI_HDR_PREFIX) {
		memcpy(&flags, rx->buf + 4, sizeof(flags));
		version = flags & VHOST_PCI_HDR_VERSION_MASK;
		if (*hops == NULL) {
			*hops = vhost_pci_hdr_ops_for(version);
			if (*hops == NULL) {
				VHOST_PCI_LOG(ERR, "%s: unsupported protocol version %u",
					who, version);
				return -EPROTO;
			}
		} else if ((*hops)->version != version) {
			VHOST_PCI_LOG(ERR, "%s: version %u message on a version %u connection",
				who, version, (*hops)->version);
			return -EPROTO;
		}
	}
	/* Fewer than 8 bytes of a first header: keep reading. */
	if (*hops == NULL)
		return 0;
	if (rx->len == (*hops)->hdr_size) {
		(*hops)->decode(rx->buf, &m);
		if (m.size > VHOST_PCI_PAYLOAD_MAX) {
			VHOST_PCI_LOG(ERR, "%s: request %u: payload of %u bytes exceeds %zu",
				who, m.request, m.size, VHOST_PCI_PAYLOAD_MAX);
			return -EPROTO;
		}
	}
	return 0;
}

int
vhost_pci_rx_read(int fd, struct vhost_pci_rx *rx,
		const struct vhost_pci_hdr_ops **hops, const char *who)
{
	char control[CMSG_SPACE(VHOST_PCI_MAX_FDS * sizeof(int))];
	struct iovec iov;
	struct msghdr mh;
	ssize_t ret;

	for (;;) {
		if (*hops != NULL && rx->len >= (*hops)->hdr_size &&
				rx_need(rx, *hops) == 0)
			return 1;
		iov.iov_base = rx->buf + rx->len;
		iov.iov_len = rx_need(rx, *hops);
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = control;
		mh.msg_controllen = sizeof(control);
		do {
			ret = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		} while (ret < 0 && errno == EINTR);
		if (ret < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		/* A peer that closed with our bytes unread resets the
		 * stream: closed all the same.
		 */
		if (ret == 0 || (ret < 0 && errno == ECONNRESET))
			return -EPIPE;
		if (ret < 0) {
			ret = -errno;
			VHOST_PCI_LOG(ERR, "%s: recvmsg: %s", who,
				strerror(errno));
			return ret;
		}
		if (rx_take_fds(rx, &mh) < 0) {
			VHOST_PCI_LOG(ERR, "%s: more than %u fds with one message",
				who, VHOST_PCI_MAX_FDS);
			return -EPROTO;
		}
		rx->len += ret;
		if (rx_check(rx, hops, who) < 0)
			return -EPROTO;
	}
}

void
vhost_pci_rx_take(struct vhost_pci_rx *rx,
		const struct vhost_pci_hdr_ops *hops, struct vhost_pci_msg *msg)
{
	uint32_t hsz = hops->hdr_size;

	memset(msg, 0, offsetof(struct vhost_pci_msg, payload));
	hops->decode(rx->buf, msg);
	memcpy(msg->payload.raw, rx->buf + hsz, msg->size);
	memset(msg->payload.raw + msg->size, 0,
		sizeof(msg->payload.raw) - msg->size);
	memcpy(msg->fds, rx->fds, rx->nfds * sizeof(int));
	msg->nfds = rx->nfds;
	rx->nfds = 0;
	rx->len = 0;
}

int
vhost_pci_tx(int fd, const struct vhost_pci_hdr_ops *hops,
		const struct vhost_pci_msg *msg, const int *fds, uint32_t nfds,
		int flags)
{
	char control[CMSG_SPACE(VHOST_PCI_MAX_FDS * sizeof(int))];
	uint8_t buf[VHOST_PCI_HDR_MAX + VHOST_PCI_PAYLOAD_MAX];
	struct iovec iov = { .iov_base = buf };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (msg->size > VHOST_PCI_PAYLOAD_MAX || nfds > VHOST_PCI_MAX_FDS)
		return -EINVAL;
	hops->encode(msg, buf);
	memcpy(buf + hops->hdr_size, msg->payload.raw, msg->size);
	iov.iov_len = hops->hdr_size + msg->size;
	if (nfds > 0) {
		struct cmsghdr *cm;

		memset(control, 0, sizeof(control));
		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	do {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | flags);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == iov.iov_len ? 0 : -EIO;
}
