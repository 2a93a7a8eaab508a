#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Every datapath of stock net_virtio_user that DTS's loopback suites cover,
# against net_vhost_pci: split and packed rings, each mergeable,
# non-mergeable and in-order, and the vectorized ones. virtio-user picks its
# RX/TX functions from its devargs and the features we offer, so each one is
# a different peer. pktcheck sends on the virtio-user side and verifies
# every byte that comes back through a testpmd with net_vhost_pci swapping
# MACs. Each check also asserts, from virtio's own log, that the intended
# RX path was the one used. The ten paths run against the copy datapath
# (zero_copy=0), where IN_ORDER is offered; the paths without IN_ORDER run
# again against zero-copy RX (the default), which does not offer it.
. "$(dirname "$0")/lib.sh"

sock=$VPCI_RUN/t-paths.sock

# path NAME DEVARGS SIZE RX-PATH-LOG [EAL-ARGS]; $ZC: our devargs.
path() {
	local name=$1 args=$2 size=$3 want=$4 eal=${5:-}
	local a=$LOGS/paths-$name-$size${ZC:+-zc}.vpci.log
	local p=$LOGS/paths-$name-$size${ZC:+-zc}.pktcheck.log
	local check="virtio-user-$name-${size}B"
	[ -z "${ZC:-}" ] || check="$check-zero-copy"
	start_vpci_testpmd "$sock" "${ZC:-,zero_copy=0}" macswap "$a"
	vpci_wait_log "$a" 'forwards packets' 20
	# shellcheck disable=SC2086
	timeout 60 "$PKTCHECK" -l 0 --file-prefix=${VPCI_PFX}-t-p $VPCI_EAL_MEM \
		--no-pci --single-file-segments $eal \
		--log-level=pmd.net.virtio.init:info \
		--vdev "net_virtio_user0,path=$sock,queues=1$args" -- \
		--count 20000 --size "$size" --expect macswap --timeout 40 \
		--window "$(window_for "$size")" > "$p" 2>&1
	VPCI_PREFIXES="$VPCI_PREFIXES ${VPCI_PFX}-t-p"
	if ! grep -q "virtio: using $want Rx path" "$p"; then
		not_ok "$check" "virtio-user did not pick its $want Rx path: $(grep -o 'using .* Rx path' "$p" | head -1)"
	elif pktcheck_passed "$p"; then
		ok "$check"
	else
		not_ok "$check" "$(grep '^pktcheck:' "$p" | tail -2 | tr '\n' ' ')"
	fi
	vpci_cleanup
}

# The packed vectorized path needs AVX512 and EAL's 512-bit SIMD limit.
simd512=--force-max-simd-bitwidth=512

for size in 64 1518; do
	path split-mrg-inorder ",packed_vq=0,mrg_rxbuf=1,in_order=1" $size inorder
	path split-mrg ",packed_vq=0,mrg_rxbuf=1,in_order=0" $size "mergeable buffer"
	path split-nonmrg-inorder ",packed_vq=0,mrg_rxbuf=0,in_order=1" $size inorder
	path split-nonmrg ",packed_vq=0,mrg_rxbuf=0,in_order=0" $size standard
	path split-vectorized ",packed_vq=0,mrg_rxbuf=0,in_order=0,vectorized=1" \
		$size vectorized
	path packed-mrg-inorder ",packed_vq=1,mrg_rxbuf=1,in_order=1" $size \
		"packed ring mergeable buffer"
	path packed-mrg ",packed_vq=1,mrg_rxbuf=1,in_order=0" $size \
		"packed ring mergeable buffer"
	path packed-nonmrg-inorder ",packed_vq=1,mrg_rxbuf=0,in_order=1" $size \
		"packed ring standard"
	path packed-nonmrg ",packed_vq=1,mrg_rxbuf=0,in_order=0" $size \
		"packed ring standard"
	if grep -qw avx512f /proc/cpuinfo; then
		path packed-vectorized ",packed_vq=1,mrg_rxbuf=0,in_order=1,vectorized=1" \
			$size "packed ring vectorized" $simd512
	else
		skip "virtio-user-packed-vectorized-${size}B" "no AVX512F on this CPU"
	fi
done
path split-mrg-inorder ",packed_vq=0,mrg_rxbuf=1,in_order=1" 9000 inorder
path split-mrg ",packed_vq=0,mrg_rxbuf=1,in_order=0" 9000 "mergeable buffer"
path packed-mrg ",packed_vq=1,mrg_rxbuf=1,in_order=0" 9000 \
	"packed ring mergeable buffer"

# Zero-copy RX, with a low threshold so that every frame is lent.
ZC=",zc_min_len=0"
for size in 64 1518; do
	path split-mrg ",packed_vq=0,mrg_rxbuf=1,in_order=0" $size "mergeable buffer"
	path split-nonmrg ",packed_vq=0,mrg_rxbuf=0,in_order=0" $size standard
	path packed-mrg ",packed_vq=1,mrg_rxbuf=1,in_order=0" $size \
		"packed ring mergeable buffer"
	path packed-nonmrg ",packed_vq=1,mrg_rxbuf=0,in_order=0" $size \
		"packed ring standard"
done
