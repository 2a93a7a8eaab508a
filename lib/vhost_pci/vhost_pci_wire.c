/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * Wire codec: the one place that knows the two message headers, the
 * vhost-user specification's (version 0x01) and the vhost-pci extension's
 * (version 0x02, with a 64-bit conn_id). The server's transport, the
 * client and the relaying programs all frame messages through it.
 */

#include <string.h>

#include "vhost_pci_private.h"

static void
hdr_v1_decode(const uint8_t *buf, struct vhost_pci_msg *msg)
{
	struct vhost_pci_hdr_v1 h;

	memcpy(&h, buf, sizeof(h));
	msg->request = h.request;
	msg->flags = h.flags;
	msg->conn_id = VHOST_PCI_CONN_ID_ANON;
	msg->size = h.size;
}

static void
hdr_v1_encode(const struct vhost_pci_msg *msg, uint8_t *buf)
{
	struct vhost_pci_hdr_v1 h = {
		.request = msg->request,
		.flags = msg->flags,
		.size = msg->size,
	};

	memcpy(buf, &h, sizeof(h));
}

const struct vhost_pci_hdr_ops vhost_pci_hdr_v1 = {
	.version = VHOST_PCI_HDR_VERSION_1,
	.hdr_size = sizeof(struct vhost_pci_hdr_v1),
	.decode = hdr_v1_decode,
	.encode = hdr_v1_encode,
};

static void
hdr_v2_decode(const uint8_t *buf, struct vhost_pci_msg *msg)
{
	struct vhost_pci_hdr_v2 h;

	memcpy(&h, buf, sizeof(h));
	msg->request = h.request;
	msg->flags = h.flags;
	msg->conn_id = h.conn_id;
	msg->size = h.size;
}

static void
hdr_v2_encode(const struct vhost_pci_msg *msg, uint8_t *buf)
{
	struct vhost_pci_hdr_v2 h = {
		.request = msg->request,
		.flags = msg->flags,
		.conn_id = msg->conn_id,
		.size = msg->size,
	};

	memcpy(buf, &h, sizeof(h));
}

const struct vhost_pci_hdr_ops vhost_pci_hdr_v2 = {
	.version = VHOST_PCI_HDR_VERSION_2,
	.hdr_size = sizeof(struct vhost_pci_hdr_v2),
	.decode = hdr_v2_decode,
	.encode = hdr_v2_encode,
};

const struct vhost_pci_hdr_ops *
vhost_pci_hdr_ops_for(uint32_t version)
{
	if (version == VHOST_PCI_HDR_VERSION_1)
		return &vhost_pci_hdr_v1;
	if (version == VHOST_PCI_HDR_VERSION_2)
		return &vhost_pci_hdr_v2;
	return NULL;
}
