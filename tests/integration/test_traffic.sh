#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Stock testpmd and stock net_virtio_user on either side of net_vhost_pci.
# dpdk-vpci-pktcheck sends numbered, checksummed frames and verifies every
# byte of each one that comes back, so these prove content, not counts.
. "$(dirname "$0")/lib.sh"

sock=$VPCI_RUN/t-traffic.sock
count=20000

# pktcheck on virtio-user (lcore 0), testpmd + net_vhost_pci swapping MACs.
virtio_sends() {
	local name=$1 vpci_args=$2 virtio_args=$3 size=$4
	local a=$LOGS/$name.vpci.log p=$LOGS/$name.pktcheck.log
	start_vpci_testpmd "$sock" "$vpci_args" macswap "$a"
	vpci_wait_log "$a" 'forwards packets' 20
	# shellcheck disable=SC2086
	timeout 60 "$PKTCHECK" -l 0 --file-prefix=${VPCI_PFX}-t-p $VPCI_EAL_MEM \
		--no-pci --single-file-segments \
		--vdev "net_virtio_user0,path=$sock$virtio_args" -- \
		--count $count --size "$size" --expect macswap --timeout 40 \
		--window "$(window_for "$size")" \
		> "$p" 2>&1
	VPCI_PREFIXES="$VPCI_PREFIXES ${VPCI_PFX}-t-p"
	if pktcheck_passed "$p"; then ok "$name"; else
		not_ok "$name" "$(grep '^pktcheck:' "$p" | tail -2 | tr '\n' ' ')"; fi
	vpci_cleanup
}

# pktcheck on net_vhost_pci (lcore 1), stock virtio-user testpmd swapping.
vpci_sends() {
	local name=$1 vpci_args=$2 virtio_args=$3 size=$4
	local b=$LOGS/$name.virtio.log p=$LOGS/$name.pktcheck.log pid
	VPCI_SOCKETS="$VPCI_SOCKETS $sock"
	# shellcheck disable=SC2086
	vpci_bg "$p" ${VPCI_PFX}-t-p timeout 60 "$PKTCHECK" -l 1 \
		--file-prefix=${VPCI_PFX}-t-p $VPCI_EAL_MEM --no-pci --huge-unlink \
		-d "$VPCI_PMD" --vdev "net_vhost_pci0,path=$sock$vpci_args" -- \
		--count $count --size "$size" --expect macswap --timeout 40 \
		--window "$(window_for "$size")" --settle-ms 1000
	pid=$VPCI_LAST_PID
	vpci_wait_log "$p" 'run id' 20
	start_virtio_testpmd "$sock" "$virtio_args" macswap "$b"
	wait "$pid"
	if pktcheck_passed "$p"; then ok "$name"; else
		not_ok "$name" "$(grep '^pktcheck:' "$p" | tail -2 | tr '\n' ' ')"; fi
	vpci_cleanup
}

# Copy RX (zero_copy=0): zero-copy is the default on a vdev port, and has
# its own cases below.
virtio_sends virtio-to-vpci-and-back-64B ",zero_copy=0" "" 64
virtio_sends virtio-to-vpci-and-back-1518B ",zero_copy=0" "" 1518
virtio_sends virtio-to-vpci-and-back-9000B-mergeable ",zero_copy=0" "" 9000
virtio_sends virtio-to-vpci-and-back-1518B-no-mergeable ",zero_copy=0" ",mrg_rxbuf=0" 1518
virtio_sends virtio-to-vpci-2-queues-configured-1-used ",queues=2,zero_copy=0" ",queues=2" 512
virtio_sends zero-copy-virtio-to-vpci-and-back-64B ",zero_copy=1,zc_min_len=0" "" 64
virtio_sends zero-copy-virtio-to-vpci-and-back-1518B ",zero_copy=1" "" 1518
virtio_sends zero-copy-virtio-to-vpci-and-back-9000B ",zero_copy=1" "" 9000
virtio_sends zero-copy-no-mergeable-1518B ",zero_copy=1" ",mrg_rxbuf=0" 1518
vpci_sends vpci-to-virtio-and-back-64B "" "" 64
vpci_sends vpci-to-virtio-and-back-1518B "" "" 1518
vpci_sends vpci-to-virtio-and-back-9000B-mergeable "" "" 9000
vpci_sends vpci-to-virtio-and-back-1518B-no-mergeable "" ",mrg_rxbuf=0" 1518
vpci_sends vpci-client-to-virtio-server-mode ",client=1" ",server=1" 256
