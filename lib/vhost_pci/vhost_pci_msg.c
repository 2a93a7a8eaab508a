/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * Request dispatch.
 *
 * Security model: the front-end is untrusted. One table below declares, for
 * every request, its payload size rule, how many fds it may carry, where its
 * vring index is and which protocol feature it needs. vhost_pci_dispatch()
 * enforces all of that before a handler runs, so a handler may rely on the
 * payload size, on fd count and on the vring index being in range. Handlers
 * validate the rest into locals and change state only once all checks pass.
 * fds a handler does not take are closed by the dispatcher.
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_common.h>

#define VHOST_PCI_LOGTYPE	vhost_pci_logtype_msg
#include "vhost_pci_private.h"

enum size_rule {
	SZ_NONE,	/* no payload */
	SZ_EXACT,	/* exactly .size bytes */
	SZ_MIN,		/* at least .size bytes; the handler checks the rest */
};

enum fd_rule {
	FD_NONE,	/* no fd */
	FD_VRING,	/* one fd, or none with VHOST_USER_VRING_NOFD */
	FD_REGIONS,	/* 1..VHOST_PCI_MAX_FDS; the handler matches regions */
	FD_ONE,		/* exactly one */
};

enum vring_arg {
	VR_NONE,
	VR_U64,		/* low 8 bits of a u64 payload */
	VR_STATE,	/* struct vhost_pci_vring_state.index */
	VR_ADDR,	/* struct vhost_pci_vring_addr.index */
};

typedef int (*vhost_pci_handler_t)(struct vhost_pci_conn *conn,
		struct vhost_pci_msg *msg);

struct vhost_pci_req {
	const char *name;
	vhost_pci_handler_t handler;
	uint8_t size_rule;
	uint16_t size;
	uint8_t fd_rule;
	uint8_t vring_arg;
	int8_t pfeature;	/* protocol feature that must be acked, or -1 */
	bool replies;		/* the handler fills a reply payload */
};

#define U64 SZ_EXACT, sizeof(uint64_t)
#define STATE SZ_EXACT, sizeof(struct vhost_pci_vring_state)
#define NOPAY SZ_NONE, 0

static struct vhost_pci_device *
msg_dev(struct vhost_pci_conn *conn)
{
	return &conn->dev;
}

static uint32_t
msg_vring(const struct vhost_pci_req *req, const struct vhost_pci_msg *msg)
{
	switch (req->vring_arg) {
	case VR_U64:
		return msg->payload.u64 & VHOST_USER_VRING_IDX_MASK;
	case VR_STATE:
		return msg->payload.state.index;
	case VR_ADDR:
		return msg->payload.addr.index;
	default:
		return 0;
	}
}

static void
reply_u64(struct vhost_pci_msg *msg, uint64_t v)
{
	msg->payload.u64 = v;
	msg->size = sizeof(uint64_t);
}

uint64_t
vhost_pci_offered_features(const struct vhost_pci_endpoint *ep)
{
	uint64_t f = RTE_BIT64(VIRTIO_F_VERSION_1) |
		RTE_BIT64(VIRTIO_NET_F_MRG_RXBUF) |
		RTE_BIT64(VIRTIO_NET_F_STATUS) |
		/* The front-end serves its control queue itself (QEMU and
		 * virtio-user alike); offered as librte_vhost does, so that
		 * a front-end negotiates the same set against either.
		 */
		RTE_BIT64(VIRTIO_NET_F_CTRL_RX) |
		RTE_BIT64(VIRTIO_RING_F_EVENT_IDX) |
		RTE_BIT64(VIRTIO_RING_F_INDIRECT_DESC) |
		RTE_BIT64(VIRTIO_F_ANY_LAYOUT) |
		RTE_BIT64(VIRTIO_F_RING_PACKED) |
		/* Offloads the virtio-net header carries. */
		RTE_BIT64(VIRTIO_NET_F_CSUM) |
		RTE_BIT64(VIRTIO_NET_F_GUEST_CSUM) |
		RTE_BIT64(VIRTIO_NET_F_GUEST_TSO4) |
		RTE_BIT64(VIRTIO_NET_F_GUEST_TSO6) |
		RTE_BIT64(VIRTIO_NET_F_HOST_TSO4) |
		RTE_BIT64(VIRTIO_NET_F_HOST_TSO6) |
		/* The copy datapath completes every burst in ring order. */
		RTE_BIT64(VIRTIO_F_IN_ORDER) |
		RTE_BIT64(VHOST_USER_F_PROTOCOL_FEATURES);

	if (ep->max_queue_pairs > 1)
		f |= RTE_BIT64(VIRTIO_NET_F_MQ);
	if (ep->flags & RTE_VHOST_PCI_F_NO_IN_ORDER)
		f &= ~RTE_BIT64(VIRTIO_F_IN_ORDER);
	return f;
}

/* Bit 4 is F_MTU in v1 (not offered) and F_VHOST_PCI in v2. */
uint64_t
vhost_pci_offered_protocol_features(uint32_t version)
{
	uint64_t f = RTE_BIT64(VHOST_USER_PROTOCOL_F_MQ) |
		RTE_BIT64(VHOST_USER_PROTOCOL_F_REPLY_ACK) |
		RTE_BIT64(VHOST_USER_PROTOCOL_F_STATUS) |
		RTE_BIT64(VHOST_USER_PROTOCOL_F_STANDALONE);

	/* The back-end channel is set by id 21, which is SET_DEV_TYPE in
	 * v2: it, and the in-band notifications that need it, are v1 only.
	 */
	if (version == VHOST_PCI_HDR_VERSION_2)
		f |= RTE_BIT64(VHOST_PCI_PROTOCOL_F_VHOST_PCI);
	else
		f |= RTE_BIT64(VHOST_USER_PROTOCOL_F_BACKEND_REQ) |
			RTE_BIT64(VHOST_USER_PROTOCOL_F_INBAND_NOTIF);
	return f;
}

/* ---- handlers, one per request ---- */

static int
h_get_features(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	reply_u64(msg, vhost_pci_offered_features(conn->dev.ep));
	return VH_OK;
}

static int
h_set_features(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	struct vhost_pci_device *dev = msg_dev(conn);
	uint64_t f = msg->payload.u64;
	uint64_t extra = f & ~vhost_pci_offered_features(dev->ep);

	if (extra != 0) {
		VHOST_PCI_LOG(ERR, "%s: features 0x%" PRIx64 " were not offered",
			dev->ep->path, extra);
		return VH_ERR;
	}
	if (dev->features_set && f != dev->features) {
		uint32_t i;

		vhost_pci_dev_detach(dev);
		/* The ring format may have changed: no ring continues. */
		for (i = 0; i < RTE_VHOST_PCI_MAX_VRINGS; i++)
			dev->vring[i].resume = false;
	}
	dev->features = f;
	dev->features_set = true;
	return VH_OK;
}

static int
h_set_owner(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg __rte_unused)
{
	conn->dev.owner = true;
	return VH_OK;
}

static int
h_reset_owner(struct vhost_pci_conn *conn,
		struct vhost_pci_msg *msg __rte_unused)
{
	vhost_pci_dev_reset(&conn->dev);
	return VH_OK;
}

/* The memory table at @p, @size bytes of the payload. */
static int
set_mem_table(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg,
		const uint8_t *p, uint32_t size)
{
	struct vhost_pci_mem_region r[VHOST_PCI_MAX_MEM_REGIONS];
	struct vhost_pci_mem_table mt;

	if (size < sizeof(mt)) {
		VHOST_PCI_LOG(ERR, "%s: memory table of %u bytes",
			conn->dev.ep->path, size);
		return VH_ERR;
	}
	memcpy(&mt, p, sizeof(mt));
	if (mt.nregions == 0 || mt.nregions > VHOST_PCI_MAX_MEM_REGIONS) {
		VHOST_PCI_LOG(ERR, "%s: %u memory regions", conn->dev.ep->path,
			mt.nregions);
		return VH_ERR;
	}
	if (size != sizeof(mt) +
			mt.nregions * sizeof(struct vhost_pci_mem_region) ||
			msg->nfds != mt.nregions) {
		VHOST_PCI_LOG(ERR, "%s: %u regions with %u bytes and %u fds",
			conn->dev.ep->path, mt.nregions, msg->size, msg->nfds);
		return VH_ERR;
	}
	/* Copy the regions out: an aligned, private array for the checks. */
	memcpy(r, p + sizeof(mt), mt.nregions * sizeof(r[0]));
	return vhost_pci_dev_set_mem(&conn->dev, r, mt.nregions, msg->fds) < 0 ?
		VH_ERR : VH_OK;
}

static int
h_set_mem_table(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	return set_mem_table(conn, msg, msg->payload.raw, msg->size);
}

/* v2: the 128-bit UUID of the memory's owner comes first (the vhost-user
 * extension for vhost-pci).
 */
static int
h_set_mem_table_v2(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	struct vhost_pci_device *dev = msg_dev(conn);
	int ret;

	ret = set_mem_table(conn, msg, msg->payload.raw + VHOST_PCI_UUID_LEN,
		msg->size - VHOST_PCI_UUID_LEN);
	if (ret == VH_OK)
		vhost_pci_dev_set_peer_uuid(dev, msg->payload.raw);
	return ret;
}

static int
h_set_vring_num(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	struct vhost_pci_device *dev = msg_dev(conn);
	uint32_t num = msg->payload.state.num;

	/* Split rings are a power of two in size (virtio 1.x, 2.6); packed
	 * ones need not be (2.8.10). Features precede the rings.
	 */
	bool packed = !!(dev->features &
		RTE_BIT64(VIRTIO_F_RING_PACKED));

	if (num == 0 || num > RTE_VHOST_PCI_MAX_RING_SIZE ||
			(!packed && !rte_is_power_of_2(num))) {
		VHOST_PCI_LOG(ERR, "%s: vring %u: invalid size %u", dev->ep->path,
			msg->payload.state.index, num);
		return VH_ERR;
	}
	vhost_pci_dev_vring_stop(dev, msg->payload.state.index, NULL,
		true);
	dev->vring[msg->payload.state.index].num = num;
	return VH_OK;
}

static int
h_set_vring_addr(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	struct vhost_pci_device *dev = msg_dev(conn);
	struct vhost_pci_vring *vr = &dev->vring[msg->payload.addr.index];

	/* Addresses are checked against the memory table when the ring is
	 * about to be used: front-ends may send them before SET_MEM_TABLE.
	 */
	vhost_pci_dev_vring_stop(dev, msg->payload.addr.index, NULL, true);
	vr->addr = msg->payload.addr;
	vr->addr_set = true;
	return VH_OK;
}

static int
h_set_vring_base(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	struct vhost_pci_device *dev = msg_dev(conn);
	uint32_t num = msg->payload.state.num;

	if (num > UINT16_MAX) {
		VHOST_PCI_LOG(ERR, "%s: vring %u: invalid base %u", dev->ep->path,
			msg->payload.state.index, num);
		return VH_ERR;
	}
	vhost_pci_dev_vring_stop(dev, msg->payload.state.index, NULL,
		true);
	dev->vring[msg->payload.state.index].base = num;
	return VH_OK;
}

static int
h_get_vring_base(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	struct vhost_pci_device *dev = msg_dev(conn);
	uint32_t idx = msg->payload.state.index;
	struct vhost_pci_vring *vr = &dev->vring[idx];
	uint16_t base;

	vhost_pci_dev_vring_stop(dev, idx, &base, true);
	/* The ring stays stopped until the next kick (vhost-user spec). */
	if (vr->kickfd >= 0)
		close(vr->kickfd);
	vr->kickfd = -1;
	vr->kick_set = false;
	msg->payload.state.num = base;
	msg->size = sizeof(msg->payload.state);
	return VH_OK;
}

static int
vring_set_fd(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg,
		size_t field)
{
	struct vhost_pci_device *dev = msg_dev(conn);
	uint32_t idx = msg->payload.u64 & VHOST_USER_VRING_IDX_MASK;
	int *slot = (int *)((uint8_t *)&dev->vring[idx] + field);
	int fd = -1;

	if (msg->nfds == 1) {
		fd = msg->fds[0];
		msg->fds[0] = -1;	/* taken */
	}
	vhost_pci_dev_vring_stop(dev, idx, NULL, false);
	if (*slot >= 0)
		close(*slot);
	*slot = fd;
	return VH_OK;
}

/*
 * In-band notifications without an fd: the ring gets an eventfd of ours,
 * so the driver signals it as any call fd, and the control thread turns
 * each signal into a back-end message.
 */
static int
vring_inband_fd(struct vhost_pci_conn *conn, uint32_t idx, bool err)
{
	struct vhost_pci_vring *vr = &conn->dev.vring[idx];
	int *slot = err ? &vr->errfd : &vr->callfd;
	bool *inband = err ? &vr->err_inband : &vr->call_inband;

	if (*slot >= 0 || !(conn->dev.protocol_features &
			RTE_BIT64(VHOST_USER_PROTOCOL_F_INBAND_NOTIF)))
		return VH_OK;
	*slot = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (*slot < 0)
		return VH_ERR;
	*inband = true;
	if (vhost_pci_watch(*slot,
			conn->notify_token + 2 * idx + err) < 0)
		return VH_ERR;
	return VH_OK;
}

int
vhost_pci_conn_send(struct vhost_pci_conn *conn,
		const struct vhost_pci_msg *msg)
{
	int ret;

	ret = vhost_pci_tx(conn->fd, conn->hops, msg, NULL, 0, MSG_DONTWAIT);
	if (ret == -EINVAL)
		return ret;
	if (ret < 0) {
		/* A peer that does not read its replies is broken. */
		VHOST_PCI_LOG(ERR, "%s: connection %" PRIu64 ": send failed: %s",
			conn->dev.ep->path, conn->dev.conn_id,
			ret == -EIO ? "short write" : strerror(-ret));
		return -EIO;
	}
	return 0;
}

void
vhost_pci_conn_inband(struct vhost_pci_conn *conn, uint32_t vring, bool err)
{
	struct vhost_pci_vring *vr = &conn->dev.vring[vring];
	struct vhost_pci_vring_state st = { .index = vring, .num = 0 };
	struct vhost_pci_msg msg = {
		.request = err ? VHOST_USER_BACKEND_VRING_ERR :
			VHOST_USER_BACKEND_VRING_CALL,
		.flags = VHOST_PCI_HDR_VERSION_1,
		.size = sizeof(st),
	};
	uint64_t n;
	int ret;

	if (read(err ? vr->errfd : vr->callfd, &n, sizeof(n)) < 0 ||
			conn->dev.backend_fd < 0)
		return;
	memcpy(msg.payload.raw, &st, sizeof(st));
	ret = vhost_pci_tx(conn->dev.backend_fd, &vhost_pci_hdr_v1, &msg,
		NULL, 0, 0);
	if (ret < 0)
		VHOST_PCI_LOG(WARNING, "%s: connection %" PRIu64 ": back-end channel write failed: %s",
			conn->dev.ep->path, conn->dev.conn_id, strerror(-ret));
}

static int
h_set_vring_kick(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	uint32_t idx = msg->payload.u64 & VHOST_USER_VRING_IDX_MASK;

	vring_set_fd(conn, msg, offsetof(struct vhost_pci_vring, kickfd));
	conn->dev.vring[idx].kick_set = true;
	return VH_OK;
}

/* An fd of ours being replaced leaves the control thread's watch. */
static void
vring_drop_inband(int fd, bool *inband)
{
	if (*inband)
		vhost_pci_unwatch(fd);
	*inband = false;
}

static int
h_set_vring_call(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	struct vhost_pci_vring *vr = &conn->dev.vring[msg->payload.u64 &
		VHOST_USER_VRING_IDX_MASK];

	vring_drop_inband(vr->callfd, &vr->call_inband);
	vring_set_fd(conn, msg, offsetof(struct vhost_pci_vring, callfd));
	return vring_inband_fd(conn, msg->payload.u64 &
		VHOST_USER_VRING_IDX_MASK, false);
}

static int
h_set_vring_err(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	struct vhost_pci_vring *vr = &conn->dev.vring[msg->payload.u64 &
		VHOST_USER_VRING_IDX_MASK];

	vring_drop_inband(vr->errfd, &vr->err_inband);
	vring_set_fd(conn, msg, offsetof(struct vhost_pci_vring, errfd));
	return vring_inband_fd(conn, msg->payload.u64 &
		VHOST_USER_VRING_IDX_MASK, true);
}

static int
h_set_backend_req_fd(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	struct vhost_pci_device *dev = msg_dev(conn);
	int fl = fcntl(msg->fds[0], F_GETFL);

	/* Never block the control thread on a front-end that does not read. */
	if (fl < 0 || fcntl(msg->fds[0], F_SETFL, fl | O_NONBLOCK) < 0) {
		VHOST_PCI_LOG(ERR, "%s: back-end channel fd unusable",
			dev->ep->path);
		return VH_ERR;
	}
	if (dev->backend_fd >= 0)
		close(dev->backend_fd);
	dev->backend_fd = msg->fds[0];
	msg->fds[0] = -1;	/* taken */
	return VH_OK;
}

/* In-band kick: the ring is started as by its kick fd (today's vhost-user
 * specification).
 */
static int
h_vring_kick(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	conn->dev.vring[msg->payload.state.index].kick_set = true;
	return VH_OK;
}

static int
h_get_backend_specs(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	struct vhost_pci_backend_specs specs = {
		.device_id = VHOST_PCI_DEV_TYPE_NET,
		.config_size = 0,	/* virtio-net config is the front-end's */
		.min_vqs = 2,
		.max_vqs = 2u * conn->dev.ep->max_queue_pairs,
	};

	memcpy(msg->payload.raw, &specs, sizeof(specs));
	msg->size = sizeof(specs);
	return VH_OK;
}

static int
h_get_protocol_features(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	reply_u64(msg, vhost_pci_offered_protocol_features(conn->hops->version));
	return VH_OK;
}

/* Features that need others (today's vhost-user specification: in-band
 * notifications; the STANDALONE and GET_BACKEND_SPECS RFC: standalone).
 * The spec's remedy for a violation is closing.
 */
static bool
pfeature_deps_missing(struct vhost_pci_conn *conn, uint64_t f)
{
	static const struct {
		int bit;
		uint64_t needs;
	} deps[] = {
		{ VHOST_USER_PROTOCOL_F_INBAND_NOTIF,
			RTE_BIT64(VHOST_USER_PROTOCOL_F_BACKEND_REQ) |
			RTE_BIT64(VHOST_USER_PROTOCOL_F_REPLY_ACK) },
		{ VHOST_USER_PROTOCOL_F_STANDALONE,
			RTE_BIT64(VHOST_USER_PROTOCOL_F_STATUS) },
	};
	unsigned int i;

	for (i = 0; i < RTE_DIM(deps); i++) {
		if (!(f & RTE_BIT64(deps[i].bit)) ||
				(f & deps[i].needs) == deps[i].needs)
			continue;
		VHOST_PCI_LOG(ERR, "%s: protocol feature %d needs 0x%" PRIx64 ", acked 0x%" PRIx64,
			conn->dev.ep->path, deps[i].bit, deps[i].needs, f);
		return true;
	}
	return false;
}

static int
h_set_protocol_features(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	uint64_t extra = msg->payload.u64 &
		~vhost_pci_offered_protocol_features(conn->hops->version);

	if (extra != 0) {
		VHOST_PCI_LOG(ERR, "%s: protocol features 0x%" PRIx64 " were not offered",
			conn->dev.ep->path, extra);
		return VH_ERR;
	}
	if (pfeature_deps_missing(conn, msg->payload.u64))
		return VH_ERR;
	conn->dev.protocol_features = msg->payload.u64;
	return VH_OK;
}

static int
h_get_queue_num(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	reply_u64(msg, conn->dev.ep->max_queue_pairs);
	return VH_OK;
}

static int
h_set_vring_enable(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	uint32_t enable = msg->payload.state.num;

	if (enable > 1) {
		VHOST_PCI_LOG(ERR, "%s: vring %u: enable %u", conn->dev.ep->path,
			msg->payload.state.index, enable);
		return VH_ERR;
	}
	conn->dev.vring[msg->payload.state.index].enabled = enable;
	return VH_OK;
}

static int
h_set_status(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	struct vhost_pci_device *dev = msg_dev(conn);

	if (msg->payload.u64 > UINT8_MAX) {
		VHOST_PCI_LOG(ERR, "%s: status 0x%" PRIx64, dev->ep->path,
			msg->payload.u64);
		return VH_ERR;
	}
	dev->status = msg->payload.u64;
	return VH_OK;
}

static int
h_get_status(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	reply_u64(msg, conn->dev.status);
	return VH_OK;
}

/* ---- version 0x02: the vhost-pci extension ---- */

static int
h_get_conn_id(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	struct vhost_pci_device *dev = msg_dev(conn);

	/* From the reply on, every header must carry this id. */
	dev->conn_id_assigned = true;
	reply_u64(msg, dev->conn_id);
	VHOST_PCI_LOG(INFO, "%s: connection %" PRIu64 ": conn_id assigned",
		dev->ep->path, dev->conn_id);
	return VH_OK;
}

static int
h_set_dev_type(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	struct vhost_pci_device *dev = msg_dev(conn);

	if (msg->payload.u64 != VHOST_PCI_DEV_TYPE_NET) {
		VHOST_PCI_LOG(ERR, "%s: connection %" PRIu64 ": device type %" PRIu64 " is not supported (only 1, net)",
			dev->ep->path, dev->conn_id, msg->payload.u64);
		return VH_REFUSE;
	}
	dev->dev_type = msg->payload.u64;
	return VH_OK;
}

static int
h_set_pvi_sender_uuid(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	struct vhost_pci_device *dev = msg_dev(conn);

	vhost_pci_dev_set_peer_uuid(dev, msg->payload.raw);
	/* PVI goes both ways: answer with ours, as a request of our own. The
	 * client sees it before this reply (its asynchronous read).
	 */
	if (!dev->local_uuid_sent) {
		if (vhost_pci_send_request(conn, VHOST_PCI_SET_PVI_SENDER_UUID,
				vhost_pci_local_uuid, VHOST_PCI_UUID_LEN) < 0)
			return VH_ERR;
		dev->local_uuid_sent = true;
	}
	reply_u64(msg, 0);
	return VH_OK;
}

static int
h_set_rx_queue_gsi(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	struct vhost_pci_device *dev = msg_dev(conn);
	uint16_t n;

	memcpy(&n, msg->payload.raw, sizeof(n));
	if (n == 0 || n > dev->ep->max_queue_pairs ||
			msg->size != VHOST_PCI_GSI_HDR + n * VHOST_PCI_GSI_SIZE) {
		VHOST_PCI_LOG(ERR, "%s: connection %" PRIu64 ": GSI table of %u entries in %u bytes (%u RX queues)",
			dev->ep->path, dev->conn_id, n, msg->size,
			dev->ep->max_queue_pairs);
		return VH_ERR;
	}
	memcpy(dev->gsi, msg->payload.raw + VHOST_PCI_GSI_HDR,
		n * VHOST_PCI_GSI_SIZE);
	dev->ngsi = n;
	return VH_OK;
}

static int
h_set_peer_connection(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	struct vhost_pci_device *dev = msg_dev(conn);

	switch (msg->payload.u64) {
	case VHOST_PCI_PEER_CONNECT:
		/* Established only once the BAR is mapped and the port up. */
		reply_u64(msg, dev->attached ? 0 : 1);
		return VH_OK;
	case VHOST_PCI_PEER_DISCONNECT:
		vhost_pci_dev_disconnect(dev);
		reply_u64(msg, 0);
		return VH_OK;
	default:
		VHOST_PCI_LOG(ERR, "%s: SET_PEER_CONNECTION %" PRIu64,
			dev->ep->path, msg->payload.u64);
		return VH_ERR;
	}
}

#define PCI VHOST_PCI_PROTOCOL_F_VHOST_PCI

/* Version 0x02 meanings of ids 20-24; every other id as in v1. */
static const struct vhost_pci_req vhost_pci_reqs_ext[] = {
	[VHOST_PCI_GET_CONN_ID - 20] = { "GET_CONN_ID", h_get_conn_id,
		U64, FD_NONE, VR_NONE, PCI, true },
	[VHOST_PCI_SET_DEV_TYPE - 20] = { "SET_DEV_TYPE", h_set_dev_type,
		U64, FD_NONE, VR_NONE, PCI, false },
	[VHOST_PCI_SET_PVI_SENDER_UUID - 20] = { "SET_PVI_SENDER_UUID",
		h_set_pvi_sender_uuid, SZ_EXACT, VHOST_PCI_UUID_LEN, FD_NONE,
		VR_NONE, PCI, true },
	[VHOST_PCI_SET_RX_QUEUE_GSI - 20] = { "SET_RX_QUEUE_GSI",
		h_set_rx_queue_gsi, SZ_MIN, VHOST_PCI_GSI_HDR, FD_NONE,
		VR_NONE, PCI, false },
	[VHOST_PCI_SET_PEER_CONNECTION - 20] = { "SET_PEER_CONNECTION",
		h_set_peer_connection, U64, FD_NONE, VR_NONE, PCI, true },
};

static const struct vhost_pci_req vhost_pci_req_mem_table_v2 = {
	"SET_MEM_TABLE", h_set_mem_table_v2, SZ_MIN,
	VHOST_PCI_UUID_LEN + sizeof(struct vhost_pci_mem_table), FD_REGIONS,
	VR_NONE, -1, false
};

/* Version 0x01 requests. What is not here gets "unsupported". */
static const struct vhost_pci_req vhost_pci_reqs_v1[VHOST_USER_REQ_MAX] = {
	[VHOST_USER_GET_FEATURES] = { "GET_FEATURES", h_get_features,
		NOPAY, FD_NONE, VR_NONE, -1, true },
	[VHOST_USER_SET_FEATURES] = { "SET_FEATURES", h_set_features,
		U64, FD_NONE, VR_NONE, -1, false },
	[VHOST_USER_SET_OWNER] = { "SET_OWNER", h_set_owner,
		NOPAY, FD_NONE, VR_NONE, -1, false },
	[VHOST_USER_RESET_OWNER] = { "RESET_OWNER", h_reset_owner,
		NOPAY, FD_NONE, VR_NONE, -1, false },
	[VHOST_USER_SET_MEM_TABLE] = { "SET_MEM_TABLE", h_set_mem_table,
		SZ_MIN, sizeof(struct vhost_pci_mem_table), FD_REGIONS,
		VR_NONE, -1, false },
	[VHOST_USER_SET_VRING_NUM] = { "SET_VRING_NUM", h_set_vring_num,
		STATE, FD_NONE, VR_STATE, -1, false },
	[VHOST_USER_SET_VRING_ADDR] = { "SET_VRING_ADDR", h_set_vring_addr,
		SZ_EXACT, sizeof(struct vhost_pci_vring_addr), FD_NONE,
		VR_ADDR, -1, false },
	[VHOST_USER_SET_VRING_BASE] = { "SET_VRING_BASE", h_set_vring_base,
		STATE, FD_NONE, VR_STATE, -1, false },
	[VHOST_USER_GET_VRING_BASE] = { "GET_VRING_BASE", h_get_vring_base,
		STATE, FD_NONE, VR_STATE, -1, true },
	[VHOST_USER_SET_VRING_KICK] = { "SET_VRING_KICK", h_set_vring_kick,
		U64, FD_VRING, VR_U64, -1, false },
	[VHOST_USER_SET_VRING_CALL] = { "SET_VRING_CALL", h_set_vring_call,
		U64, FD_VRING, VR_U64, -1, false },
	[VHOST_USER_SET_VRING_ERR] = { "SET_VRING_ERR", h_set_vring_err,
		U64, FD_VRING, VR_U64, -1, false },
	[VHOST_USER_GET_PROTOCOL_FEATURES] = { "GET_PROTOCOL_FEATURES",
		h_get_protocol_features, NOPAY, FD_NONE, VR_NONE, -1, true },
	[VHOST_USER_SET_PROTOCOL_FEATURES] = { "SET_PROTOCOL_FEATURES",
		h_set_protocol_features, U64, FD_NONE, VR_NONE, -1, false },
	[VHOST_USER_GET_QUEUE_NUM] = { "GET_QUEUE_NUM", h_get_queue_num,
		NOPAY, FD_NONE, VR_NONE, VHOST_USER_PROTOCOL_F_MQ, true },
	[VHOST_USER_SET_VRING_ENABLE] = { "SET_VRING_ENABLE",
		h_set_vring_enable, STATE, FD_NONE, VR_STATE, -1, false },
	[VHOST_USER_SET_STATUS] = { "SET_STATUS", h_set_status,
		U64, FD_NONE, VR_NONE, VHOST_USER_PROTOCOL_F_STATUS, false },
	[VHOST_USER_GET_STATUS] = { "GET_STATUS", h_get_status,
		NOPAY, FD_NONE, VR_NONE, VHOST_USER_PROTOCOL_F_STATUS, true },
	[VHOST_USER_SET_BACKEND_REQ_FD] = { "SET_BACKEND_REQ_FD",
		h_set_backend_req_fd, NOPAY, FD_ONE, VR_NONE,
		VHOST_USER_PROTOCOL_F_BACKEND_REQ, false },
	[VHOST_USER_VRING_KICK] = { "VRING_KICK", h_vring_kick,
		STATE, FD_NONE, VR_STATE, VHOST_USER_PROTOCOL_F_INBAND_NOTIF,
		false },
	[VHOST_USER_GET_BACKEND_SPECS] = { "GET_BACKEND_SPECS",
		h_get_backend_specs, NOPAY, FD_NONE, VR_NONE,
		VHOST_USER_PROTOCOL_F_STANDALONE, true },
};

/* Names of v1 requests we do not implement, for a clear log line. */
static const char * const vhost_pci_unsupported_v1[VHOST_USER_REQ_MAX] = {
	[VHOST_USER_SET_LOG_BASE] = "SET_LOG_BASE",
	[VHOST_USER_SET_LOG_FD] = "SET_LOG_FD",
	[VHOST_USER_SEND_RARP] = "SEND_RARP",
	[VHOST_USER_NET_SET_MTU] = "NET_SET_MTU",
	[VHOST_USER_IOTLB_MSG] = "IOTLB_MSG",
	[VHOST_USER_SET_VRING_ENDIAN] = "SET_VRING_ENDIAN",
	[VHOST_USER_GET_CONFIG] = "GET_CONFIG",
	[VHOST_USER_SET_CONFIG] = "SET_CONFIG",
};

static const struct vhost_pci_req *
req_lookup(uint32_t version, uint32_t request)
{
	if (request >= VHOST_USER_REQ_MAX)
		return NULL;
	if (version == VHOST_PCI_HDR_VERSION_2) {
		if (request >= VHOST_PCI_GET_CONN_ID &&
				request <= VHOST_PCI_SET_PEER_CONNECTION)
			return &vhost_pci_reqs_ext[request - 20];
		if (request == VHOST_USER_SET_MEM_TABLE)
			return &vhost_pci_req_mem_table_v2;
	}
	/* v1 keeps the meanings of 20-24 in today's vhost-user
	 * specification; of those only 21 (SET_BACKEND_REQ_FD) is in the
	 * v1 table.
	 */
	if (vhost_pci_reqs_v1[request].handler == NULL)
		return NULL;
	return &vhost_pci_reqs_v1[request];
}

const char *
vhost_pci_req_name(uint32_t version, uint32_t request)
{
	const struct vhost_pci_req *req = req_lookup(version, request);

	if (req != NULL)
		return req->name;
	if (request < VHOST_USER_REQ_MAX &&
			vhost_pci_unsupported_v1[request] != NULL)
		return vhost_pci_unsupported_v1[request];
	return "UNKNOWN";
}

/* ---- the dispatcher ---- */

static bool
check_size(const struct vhost_pci_req *req, const struct vhost_pci_msg *msg)
{
	switch (req->size_rule) {
	case SZ_NONE:
		return msg->size == 0;
	case SZ_EXACT:
		return msg->size == req->size;
	default:
		return msg->size >= req->size;
	}
}

static bool
check_fds(const struct vhost_pci_req *req, const struct vhost_pci_msg *msg)
{
	switch (req->fd_rule) {
	case FD_NONE:
		return msg->nfds == 0;
	case FD_ONE:
		return msg->nfds == 1;
	case FD_VRING:
		/* The no-fd bit and an fd together are a contradiction. */
		return msg->nfds ==
			((msg->payload.u64 & VHOST_USER_VRING_NOFD) ? 0u : 1u);
	default:
		return msg->nfds >= 1;
	}
}

/* The fixed checks of the table. 0, or -1 with the reason logged. */
static int
check_request(struct vhost_pci_conn *conn, const struct vhost_pci_req *req,
		const struct vhost_pci_msg *msg)
{
	struct vhost_pci_device *dev = &conn->dev;
	const char *path = dev->ep->path;

	if (!check_size(req, msg)) {
		VHOST_PCI_LOG(ERR, "%s: %s: bad payload size %u", path, req->name,
			msg->size);
		return -1;
	}
	if (!check_fds(req, msg)) {
		VHOST_PCI_LOG(ERR, "%s: %s: %u fds not allowed", path, req->name,
			msg->nfds);
		return -1;
	}
	if (req->vring_arg != VR_NONE &&
			msg_vring(req, msg) >= 2u * dev->ep->max_queue_pairs) {
		VHOST_PCI_LOG(ERR, "%s: %s: vring %u out of range (%u)", path,
			req->name, msg_vring(req, msg),
			2u * dev->ep->max_queue_pairs);
		return -1;
	}
	if (req->pfeature >= 0 &&
			!(dev->protocol_features & RTE_BIT64(req->pfeature))) {
		VHOST_PCI_LOG(ERR, "%s: %s: protocol feature %d not negotiated",
			path, req->name, req->pfeature);
		return -1;
	}
	return 0;
}

static void
close_fds(struct vhost_pci_msg *msg)
{
	vhost_pci_close_fds(msg->fds, &msg->nfds);
}

static int
send_reply(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	msg->flags = conn->hops->version | VHOST_PCI_HDR_F_REPLY;
	msg->conn_id = conn->dev.conn_id_assigned ? conn->dev.conn_id :
		VHOST_PCI_CONN_ID_ANON;
	return vhost_pci_conn_send(conn, msg) < 0 ? VH_ERR : VH_OK;
}

/* REPLY_ACK: a u64 status for a request that has no reply of its own. */
static int
send_ack(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg, int status)
{
	if (!(msg->flags & VHOST_PCI_HDR_F_NEED_REPLY) ||
			!(conn->dev.protocol_features &
				RTE_BIT64(VHOST_USER_PROTOCOL_F_REPLY_ACK)))
		return VH_OK;
	reply_u64(msg, status == VH_OK ? 0 : 1);
	return send_reply(conn, msg);
}

static int
dispatch_unsupported(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg,
		uint32_t version)
{
	VHOST_PCI_LOG(WARNING, "%s: connection %" PRIu64 ": unsupported request %u (%s)",
		conn->dev.ep->path, conn->dev.conn_id, msg->request,
		vhost_pci_req_name(version, msg->request));
	close_fds(msg);
	return send_ack(conn, msg, VH_REFUSE);
}

/* v2: a header must carry the id we assigned, or the anonymous id before
 * GET_CONN_ID. Anything else is a client acting as another: close.
 */
static int
check_conn_id(struct vhost_pci_conn *conn, const struct vhost_pci_msg *msg)
{
	struct vhost_pci_device *dev = &conn->dev;
	uint64_t want = dev->conn_id_assigned ? dev->conn_id :
		VHOST_PCI_CONN_ID_ANON;

	if (conn->hops->version != VHOST_PCI_HDR_VERSION_2 ||
			msg->conn_id == want)
		return 0;
	VHOST_PCI_LOG(ERR, "%s: connection %" PRIu64 ": header names conn_id 0x%" PRIx64 ", expected 0x%" PRIx64,
		dev->ep->path, dev->conn_id, msg->conn_id, want);
	return -1;
}

/* v2: a reply from the client to a request we sent. */
static int
dispatch_reply(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	const char *path = conn->dev.ep->path;

	if (conn->hops->version != VHOST_PCI_HDR_VERSION_2 ||
			conn->npending == 0 || conn->pending[0] != msg->request) {
		VHOST_PCI_LOG(ERR, "%s: unexpected reply to request %u", path,
			msg->request);
		return VH_ERR;
	}
	conn->npending--;
	memmove(conn->pending, conn->pending + 1,
		conn->npending * sizeof(conn->pending[0]));
	if (msg->size == sizeof(uint64_t) && msg->payload.u64 != 0)
		VHOST_PCI_LOG(WARNING, "%s: connection %" PRIu64 ": %s refused by the client",
			path, conn->dev.conn_id,
			vhost_pci_req_name(VHOST_PCI_HDR_VERSION_2, msg->request));
	return VH_OK;
}

int
vhost_pci_send_request(struct vhost_pci_conn *conn, uint32_t request,
		const void *payload, uint32_t size)
{
	struct vhost_pci_msg msg;

	if (conn->dead || conn->hops == NULL ||
			conn->hops->version != VHOST_PCI_HDR_VERSION_2 ||
			!(conn->dev.protocol_features &
				RTE_BIT64(VHOST_PCI_PROTOCOL_F_VHOST_PCI)))
		return -ENOTSUP;
	if (conn->npending == RTE_DIM(conn->pending) ||
			size > sizeof(msg.payload))
		return -ENOSPC;
	memset(&msg, 0, offsetof(struct vhost_pci_msg, payload));
	msg.request = request;
	msg.flags = VHOST_PCI_HDR_VERSION_2 | VHOST_PCI_HDR_F_NEED_REPLY;
	msg.conn_id = conn->dev.conn_id_assigned ? conn->dev.conn_id :
		VHOST_PCI_CONN_ID_ANON;
	msg.size = size;
	memcpy(msg.payload.raw, payload, size);
	if (vhost_pci_conn_send(conn, &msg) < 0)
		return -EIO;
	conn->pending[conn->npending++] = request;
	return 0;
}

int
vhost_pci_dispatch(struct vhost_pci_conn *conn, struct vhost_pci_msg *msg)
{
	uint32_t version = conn->hops->version;
	const struct vhost_pci_req *req;
	int ret;

	if (check_conn_id(conn, msg) < 0) {
		close_fds(msg);
		return VH_ERR;
	}
	if ((msg->flags & VHOST_PCI_HDR_F_REPLY) &&
			!(msg->flags & ~VHOST_PCI_HDR_F_KNOWN) && msg->nfds == 0)
		return dispatch_reply(conn, msg);
	if ((msg->flags & ~VHOST_PCI_HDR_F_KNOWN) ||
			(msg->flags & VHOST_PCI_HDR_F_REPLY)) {
		VHOST_PCI_LOG(ERR, "%s: request %u: bad flags 0x%x",
			conn->dev.ep->path, msg->request, msg->flags);
		close_fds(msg);
		return VH_ERR;
	}
	req = req_lookup(version, msg->request);
	if (req == NULL)
		return dispatch_unsupported(conn, msg, version);
	if (check_request(conn, req, msg) < 0) {
		close_fds(msg);
		return VH_ERR;
	}
	VHOST_PCI_LOG(DEBUG, "%s: connection %" PRIu64 ": %s",
		conn->dev.ep->path, conn->dev.conn_id, req->name);
	ret = req->handler(conn, msg);
	close_fds(msg);
	if (ret == VH_ERR)
		return VH_ERR;
	if (ret == VH_OK && vhost_pci_dev_update(&conn->dev) < 0)
		return VH_ERR;
	if (req->replies)
		return send_reply(conn, msg);
	return send_ack(conn, msg, ret);
}
