/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vhost-pci for DPDK authors
 */

/*
 * Telemetry: what the library serves and who is connected.
 *
 *   /vhost_pci/servers                      one entry per socket
 *   /vhost_pci/connections[,<socket path>]  one entry per connection
 *
 * Entries are keyed "0", "1", ...: a socket path is no valid key for
 * every telemetry version. The reply is limited to 16 KiB by telemetry:
 * with many connections, ask per socket path.
 */

#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_telemetry.h>
#include <rte_uuid.h>

#include "vhost_pci_private.h"

static const char *
conn_state(const struct vhost_pci_device *dev)
{
	if (dev->attached)
		return "attached";
	return dev->bar.base != NULL ? "mapped" : "negotiating";
}

/* Pairs of vrings (2n, 2n + 1) that are both enabled. */
static uint16_t
conn_queue_pairs(const struct vhost_pci_device *dev)
{
	uint16_t n = 0, i;

	for (i = 0; i < VHOST_PCI_MAX_QUEUE_PAIRS; i++)
		if (dev->vring[2 * i].enabled && dev->vring[2 * i + 1].enabled)
			n++;
	return n;
}

static struct rte_tel_data *
server_entry(const struct vhost_pci_endpoint *ep)
{
	struct rte_tel_data *e = rte_tel_data_alloc();

	if (e == NULL)
		return NULL;
	rte_tel_data_start_dict(e);
	rte_tel_data_add_dict_string(e, "path", ep->path);
	rte_tel_data_add_dict_string(e, "mode",
		ep->flags & RTE_VHOST_PCI_F_CLIENT ? "client" : "server");
	rte_tel_data_add_dict_int(e, "clients", ep->nconns);
	rte_tel_data_add_dict_int(e, "max_clients", ep->max_clients);
	rte_tel_data_add_dict_int(e, "queue_pairs", ep->max_queue_pairs);
	return e;
}

static struct rte_tel_data *
conn_entry(const struct vhost_pci_conn *conn)
{
	const struct vhost_pci_device *dev = &conn->dev;
	struct rte_tel_data *e, *gsi;
	char uuid[RTE_UUID_STRLEN] = "";
	uint16_t i;

	e = rte_tel_data_alloc();
	gsi = rte_tel_data_alloc();
	if (e == NULL || gsi == NULL) {
		rte_tel_data_free(e);
		rte_tel_data_free(gsi);
		return NULL;
	}
	rte_tel_data_start_dict(e);
	rte_tel_data_add_dict_string(e, "path", dev->ep->path);
	rte_tel_data_add_dict_u64(e, "conn_id", dev->conn_id);
	rte_tel_data_add_dict_int(e, "version", vhost_pci_dev_version(dev));
	rte_tel_data_add_dict_string(e, "state", conn_state(dev));
	if (dev->dev_type == 0)
		rte_tel_data_add_dict_string(e, "dev_type", "none");
	else if (dev->dev_type == VHOST_PCI_DEV_TYPE_NET)
		rte_tel_data_add_dict_string(e, "dev_type", "net");
	else
		rte_tel_data_add_dict_u64(e, "dev_type", dev->dev_type);
	if (dev->peer_uuid_set)
		rte_uuid_unparse(dev->peer_uuid, uuid, sizeof(uuid));
	rte_tel_data_add_dict_string(e, "peer_uuid", uuid);
	rte_tel_data_start_array(gsi, RTE_TEL_U64_VAL);
	for (i = 0; i < dev->ngsi && i < RTE_TEL_MAX_ARRAY_ENTRIES; i++)
		rte_tel_data_add_array_u64(gsi, dev->gsi[i]);
	rte_tel_data_add_dict_container(e, "gsi", gsi, 0);
	rte_tel_data_add_dict_int(e, "queue_pairs", conn_queue_pairs(dev));
	rte_tel_data_add_dict_int(e, "port_id", dev->port_id);
	return e;
}

/* Add @p e under the next index key; false when the reply is full. */
static bool
add_entry(struct rte_tel_data *d, unsigned int *n, struct rte_tel_data *e)
{
	char key[16];

	if (e == NULL)
		return false;
	snprintf(key, sizeof(key), "%u", (*n)++);
	if (rte_tel_data_add_dict_container(d, key, e, 0) != 0) {
		rte_tel_data_free(e);
		return false;
	}
	return true;
}

static int
tel_servers(const char *cmd __rte_unused, const char *params __rte_unused,
		struct rte_tel_data *d)
{
	struct vhost_pci_endpoint *ep = NULL;
	unsigned int n = 0;

	rte_tel_data_start_dict(d);
	vhost_pci_lock_take();
	while ((ep = vhost_pci_endpoint_next(ep)) != NULL)
		if (!add_entry(d, &n, server_entry(ep)))
			break;
	vhost_pci_lock_release();
	return 0;
}

static int
tel_connections(const char *cmd __rte_unused, const char *params,
		struct rte_tel_data *d)
{
	struct vhost_pci_endpoint *ep = NULL;
	struct vhost_pci_conn *conn;
	unsigned int n = 0;
	bool full = false;

	rte_tel_data_start_dict(d);
	vhost_pci_lock_take();
	while (!full && (ep = vhost_pci_endpoint_next(ep)) != NULL) {
		if (params != NULL && *params != '\0' &&
				strcmp(params, ep->path) != 0)
			continue;
		TAILQ_FOREACH(conn, &ep->conns, next) {
			if (conn->dead)
				continue;
			full = !add_entry(d, &n, conn_entry(conn));
			if (full)
				break;
		}
	}
	vhost_pci_lock_release();
	return 0;
}

RTE_INIT(vhost_pci_telemetry_init)
{
	rte_telemetry_register_cmd("/vhost_pci/servers", tel_servers,
		"The vhost-pci server sockets. Takes no parameters");
	rte_telemetry_register_cmd("/vhost_pci/connections", tel_connections,
		"The vhost-pci connections. Parameters: socket path (optional)");
}
