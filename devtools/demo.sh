#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Installs what is missing, builds, and runs the main job: stock testpmd with
# net_vhost_pci, a second stock testpmd with net_virtio_user connected to it,
# traffic looping between them, both sides' rates printed each second.
#
# usage: devtools/demo.sh [seconds]         (default 8)
#        devtools/demo.sh --pci [seconds]   (default 15)
#   --pci: PCI mode. dpdk-vhost-pci-device exports the virtio-user front-end
#   as a vhost-pci device of stock QEMU devices; a QEMU guest (TCG, so
#   slow) binds it with dpdk-devbind.py and runs stock testpmd on it.
set -eu
. "$(dirname "$0")/common.sh"

pci=0
if [ "${1:-}" = --pci ]; then
	pci=1
	shift
fi
secs=${1:-8}
vpci_setup
trap vpci_cleanup EXIT
trap 'exit 130' INT TERM

if [ "$pci" = 1 ]; then
	. "$(dirname "$0")/demo-pci.sh"
	exit 0
fi

sock=$VPCI_RUN/demo.sock
VPCI_SOCKETS=$sock
a=$VPCI_RUN/demo-vhost-pci.log
b=$VPCI_RUN/demo-virtio-user.log

# Side A: our PMD, one forwarding core (lcore 1), swapping MACs back.
# shellcheck disable=SC2086
vpci_bg "$a" vpci-demo-a "$TESTPMD" -l 0-1 --file-prefix=vpci-demo-a \
	$VPCI_EAL_MEM --no-pci -d "$VPCI_PMD" \
	--vdev "net_vhost_pci0,path=$sock" -- \
	--forward-mode=macswap --auto-start --stats-period 1
vpci_wait_log "$a" 'Start automatic packet forwarding|forwards packets' 20 ||
	{ cat "$a"; vpci_die "testpmd with net_vhost_pci did not start"; }

# Side B: stock virtio-user front-end (forwarding on lcore 0), which puts
# the first bursts on the wire; from then on packets loop.
# shellcheck disable=SC2086
vpci_bg "$b" vpci-demo-b "$TESTPMD" -l 0-1 --main-lcore 1 \
	--file-prefix=vpci-demo-b $VPCI_EAL_MEM --no-pci --single-file-segments \
	--vdev "net_virtio_user0,path=$sock" -- \
	--forward-mode=io --auto-start --tx-first --stats-period 1
vpci_wait_log "$b" 'forwards packets' 20 ||
	{ cat "$b"; vpci_die "testpmd with net_virtio_user did not start"; }

vpci_show_rates "$secs" "net_vhost_pci (testpmd A, macswap)" "$a" \
	"net_virtio_user (testpmd B, io)" "$b" ||
	vpci_die "no traffic (logs: $a $b)"
echo "logs: $a $b"
