#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Every split-ring datapath of stock net_virtio_user against net_vhost_pci:
# virtio-user picks its RX/TX functions from its devargs and the features we
# offer (IN_ORDER among them), so each one is a different peer. pktcheck
# sends on the virtio-user side and verifies every byte that comes back
# through a testpmd with net_vhost_pci swapping MACs. Packed-ring paths come
# with packed-ring support.
. "$(dirname "$0")/lib.sh"

sock=$VPCI_RUN/t-paths.sock

path() {
	local name=$1 args=$2 size=$3
	local a=$LOGS/paths-$name.vpci.log p=$LOGS/paths-$name.pktcheck.log
	start_vpci_testpmd "$sock" "" macswap "$a"
	vpci_wait_log "$a" 'forwards packets' 20
	# shellcheck disable=SC2086
	timeout 60 "$PKTCHECK" -l 0 --file-prefix=vpci-t-p $VPCI_EAL_MEM \
		--no-pci --single-file-segments \
		--vdev "net_virtio_user0,path=$sock,queues=1$args" -- \
		--count 20000 --size "$size" --expect macswap --timeout 40 \
		--window "$(window_for "$size")" > "$p" 2>&1
	VPCI_PREFIXES="$VPCI_PREFIXES vpci-t-p"
	if pktcheck_passed "$p"; then ok "virtio-user-split-$name-${size}B"; else
		not_ok "virtio-user-split-$name-${size}B" "$(grep '^pktcheck:' "$p" | tail -2 | tr '\n' ' ')"; fi
	vpci_cleanup
}

for size in 64 1518; do
	path mrg-inorder ",packed_vq=0,mrg_rxbuf=1,in_order=1" $size
	path mrg ",packed_vq=0,mrg_rxbuf=1,in_order=0" $size
	path nonmrg-inorder ",packed_vq=0,mrg_rxbuf=0,in_order=1" $size
	path nonmrg ",packed_vq=0,mrg_rxbuf=0,in_order=0" $size
	path vectorized ",packed_vq=0,mrg_rxbuf=0,in_order=0,vectorized=1" $size
done
path mrg-inorder-jumbo ",packed_vq=0,mrg_rxbuf=1,in_order=1" 9000
path mrg-jumbo ",packed_vq=0,mrg_rxbuf=1,in_order=0" 9000
