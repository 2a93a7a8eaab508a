#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
# Copyright(c) 2026 The vhost-pci for DPDK authors

"""
Show the vhost-pci servers, connections and net_vhost_pci ports of a
running DPDK application, read from its telemetry socket.

  dpdk-vhost-pci.py                 tables, application with file prefix "rte"
  dpdk-vhost-pci.py -f vpci         the application started with --file-prefix=vpci
  dpdk-vhost-pci.py --json          one JSON object, for scripts
  dpdk-vhost-pci.py --xstats        also each port's per-queue xstats

Standard library only.
"""

import argparse
import json
import os
import socket
import sys

SOCKET_NAME = "dpdk_telemetry.v2"


def runtime_dir(prefix):
    """EAL's runtime directory for a file prefix (as eal_get_runtime_dir)."""
    if os.getuid() == 0:
        base = "/var/run"
    else:
        base = os.environ.get("XDG_RUNTIME_DIR", "/tmp")
    return os.path.join(base, "dpdk", prefix)


class Telemetry:
    """One connection to a DPDK telemetry v2 socket."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.connect(path)
        hello = json.loads(self.sock.recv(1 << 16).decode())
        self.bufsize = int(hello.get("max_output_len", 16384))

    def query(self, cmd):
        """Send one command; the value of its reply, or None."""
        self.sock.send(cmd.encode())
        reply = json.loads(self.sock.recv(self.bufsize).decode())
        return reply.get(cmd.split(",")[0])

    def close(self):
        self.sock.close()


def entries(d):
    """The values of an index-keyed telemetry dict, in index order."""
    if not isinstance(d, dict):
        return []
    return [d[k] for k in sorted(d, key=lambda k: int(k) if k.isdigit() else k)]


def queue_xstats(tel, port_id):
    """A port's per-queue xstats (rx_q<N>_..., tx_q<N>_...), by name."""
    xs = tel.query("/ethdev/xstats,%d" % port_id) or {}
    return {k: v for k, v in xs.items()
            if k.startswith("rx_q") or k.startswith("tx_q")}


def collect(tel, xstats=False):
    """Everything the tool shows, as one dict."""
    servers = entries(tel.query("/vhost_pci/servers"))
    connections = entries(tel.query("/vhost_pci/connections"))
    ports = []
    for port_id in tel.query("/vhost_pci/ports") or []:
        port = tel.query("/vhost_pci/port,%d" % port_id)
        if port is not None:
            ports.append(port)
    info = {"servers": servers, "connections": connections, "ports": ports}
    if xstats:
        info["xstats"] = {str(p["port_id"]): queue_xstats(tel, p["port_id"])
                          for p in ports}
    return info


def table(title, header, rows):
    """A titled, column-aligned table."""
    out = [title]
    if not rows:
        out.append("  (none)")
        return out
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    width = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for r in cells:
        out.append("  " + "  ".join(c.ljust(w) for c, w in zip(r, width)).rstrip())
    return out


def port_queues(port):
    """'rxq0 ring 256 zc 3, txq0 ring 256' from a port's queue dict."""
    parts = []
    for name, q in sorted((port.get("queues") or {}).items()):
        s = "%s ring %s" % (name, q.get("ring_size", 0) if q.get("ready") else "-")
        if q.get("zero_copy"):
            s += " zc %d" % q.get("zc_in_flight", 0)
        parts.append(s)
    return ", ".join(parts) or "-"


def render(info):
    """The three tables as text lines."""
    lines = table("Servers", ["path", "mode", "clients", "max", "queue pairs"],
                  [[s["path"], s["mode"], s["clients"], s["max_clients"],
                    s["queue_pairs"]] for s in info["servers"]])
    lines.append("")
    lines += table("Connections",
                   ["path", "conn_id", "version", "state", "type", "peer uuid",
                    "gsi", "queue pairs", "port"],
                   [[c["path"], c["conn_id"], c["version"], c["state"],
                     c["dev_type"], c["peer_uuid"] or "-",
                     ",".join(str(g) for g in c.get("gsi") or []) or "-",
                     c["queue_pairs"],
                     c["port_id"] if c["port_id"] >= 0 else "-"]
                    for c in info["connections"]])
    lines.append("")
    rows = []
    for p in info["ports"]:
        connected = p.get("connected")
        rows.append([p["port_id"], p["name"], p["path"],
                     p.get("conn_id", "-") if connected else "-",
                     "%#x" % p["bar_size"] if connected else "-",
                     len(p.get("regions") or {}) if connected else "-",
                     port_queues(p)])
    lines += table("Ports", ["port", "name", "path", "conn_id", "bar size",
                             "regions", "queues"], rows)
    if "xstats" in info:
        lines.append("")
        lines += table("Queue xstats", XSTATS_HEADER, xstats_rows(info))
    return lines


# Columns of the queue xstats table: the PMD's names (net_vhost's) and
# ethdev's rx_q<N>_errors, without their rx_q<N>_ or tx_q<N>_ prefix.
XSTATS_HEADER = ["port", "queue", "good packets", "good bytes", "multicast",
                 "broadcast", "errors", "zc in flight"]
XSTATS_COLUMNS = ["good_packets", "good_bytes", "multicast_packets",
                  "broadcast_packets", "errors", "zero_copy_in_flight"]


def xstats_rows(info):
    """One row per queue of every port, RX queues first."""
    rows = []
    for port_id, xs in sorted(info["xstats"].items(), key=lambda i: int(i[0])):
        queues = sorted({k.split("_")[0] + "_" + k.split("_")[1] for k in xs},
                        key=lambda q: (q[0] != "r", int(q.split("_q")[1])))
        for q in queues:
            rows.append([port_id, q.replace("_", "")] +
                        [xs.get("%s_%s" % (q, c), "-") for c in XSTATS_COLUMNS])
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("-f", "--file-prefix", default="rte",
                        help="EAL --file-prefix of the application (default: rte)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object instead of tables")
    parser.add_argument("--xstats", action="store_true",
                        help="add the ports' per-queue xstats (/ethdev/xstats)")
    args = parser.parse_args()

    path = os.path.join(runtime_dir(args.file_prefix), SOCKET_NAME)
    try:
        tel = Telemetry(path)
    except OSError as e:
        print("dpdk-vhost-pci: cannot connect to %s: %s" % (path, e.strerror),
              file=sys.stderr)
        return 1
    try:
        info = collect(tel, args.xstats)
    finally:
        tel.close()
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
    else:
        print("\n".join(render(info)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
