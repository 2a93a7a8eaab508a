#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The inter-VM path of the vhost-pci extension, with rates. Two stock
# net_virtio_user ports (one testpmd, standing in for two VMs, io between
# them) each reach the vhost-pci server through its own
# dpdk-vhost-pci-client; the server's testpmd has two net_vhost_pci ports on
# one socket, io between them. Packets loop through both proxied paths.
# Two pollers on two cores, as DTS's vm2vm set-up.
#
# usage: devtools/intervm.sh [frame size] [seconds]   (default 64 10)
set -eu
. "$(dirname "$0")/common.sh"

size=${1:-64}
secs=${2:-10}
vpci_setup
trap vpci_cleanup EXIT
trap 'exit 130' INT TERM

srv=$VPCI_RUN/iv.sock
vm1=$VPCI_RUN/iv-vm1.sock
vm2=$VPCI_RUN/iv-vm2.sock
a=$VPCI_RUN/intervm-vhost-pci.log
b=$VPCI_RUN/intervm-virtio.log
VPCI_SOCKETS="$srv"

# shellcheck disable=SC2086
vpci_bg "$a" vpci-iv-srv "$TESTPMD" -l 0-1 --file-prefix=vpci-iv-srv \
	$VPCI_EAL_MEM --no-pci -d "$VPCI_PMD" \
	--vdev "net_vhost_pci0,path=$srv" --vdev "net_vhost_pci1,path=$srv" \
	--log-level=pmd.net.vhost_pci:info -- \
	--forward-mode=io --auto-start --stats-period 1 --max-pkt-len=9600
vpci_wait_log "$a" 'forwards packets' 20 || vpci_die "vhost-pci testpmd did not start"
vpci_proxy "$VPCI_RUN/intervm-proxy1.log" "$vm1" "$srv"
vpci_proxy "$VPCI_RUN/intervm-proxy2.log" "$vm2" "$srv"

# shellcheck disable=SC2086
vpci_bg "$b" vpci-iv-vm "$TESTPMD" -l 0-1 --main-lcore 1 --file-prefix=vpci-iv-vm \
	$VPCI_EAL_MEM --no-pci --single-file-segments \
	--vdev "net_virtio_user0,path=$vm1" --vdev "net_virtio_user1,path=$vm2" -- \
	--forward-mode=io --auto-start --tx-first --stats-period 1 \
	--txpkts="$size" --max-pkt-len=9600 --enable-scatter
vpci_wait_log "$b" 'forwards packets' 20 || vpci_die "virtio-user testpmd did not start"

sleep "$secs"
echo "proxies:"
grep -h 'conn_id\|peer channel' "$VPCI_RUN"/intervm-proxy*.log | sed 's/^/  /'
echo "vhost-pci ports:"
grep -h 'peer connected' "$a" | sed 's/.*VHOST_PCI_PMD: /  /'
# Median of one port's per-second Rx-pps windows, the first two dropped.
median_rx() {
	awk -v want="$2" '/NIC statistics for port/ {match($0, /port +[0-9]+/);
		p = substr($0, RSTART + 5) + 0}
		/Rx-pps:/ && p == want {print $2}' "$1" | tail -n +3 | sort -n |
		awk '{v[NR] = $1} END {if (NR) printf "median Rx-pps %d over %d windows", v[int((NR + 1) / 2)], NR}'
}
rates() {
	local p
	for p in 0 1; do
		echo "  port $p: $(median_rx "$1" $p)"
	done
}
echo "net_vhost_pci (server testpmd), ${size}-byte frames:"
rates "$a"
echo "net_virtio_user (the two VMs' ports):"
rates "$b"
echo "logs: $a $b"
