#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Devargs: every bad one refuses the port with a reason, good ones probe.
. "$(dirname "$0")/lib.sh"

sock=$VPCI_RUN/t-devargs.sock
VPCI_SOCKETS=$sock

# Run testpmd on the given devargs; print "show port info 0" and quit.
probe() {
	# shellcheck disable=SC2086
	printf 'show port info 0\nquit\n' | timeout 30 "$TESTPMD" -l 0-1 \
		--file-prefix=${VPCI_PFX}-t-d $VPCI_EAL_MEM --no-pci -d "$VPCI_PMD" \
		--vdev "net_vhost_pci0,$1" -- -i --total-num-mbufs=2048 2>&1
}
VPCI_PREFIXES=${VPCI_PFX}-t-d

refused() {
	local name=$1 args=$2 why=$3 out
	out=$(probe "$args")
	if echo "$out" | grep -q "$why" && ! echo "$out" | grep -q 'Driver name: net_vhost_pci'; then
		ok "$name"
	else
		not_ok "$name" "devargs '$args' were not refused with '$why'"
	fi
}

refused devargs-unknown-key-refused "path=$sock,bogus=1" "invalid devargs"
refused devargs-missing-path-refused "queues=1" "exactly one path= is required"
refused devargs-queues-0-refused "path=$sock,queues=0" "invalid value"
refused devargs-queues-17-refused "path=$sock,queues=17" "invalid value"
refused devargs-client-2-refused "path=$sock,client=2" "invalid value"
# rte_uuid_parse(): the canonical 8-4-4-4-12 form only.
refused devargs-uuid-not-canonical-refused \
	"path=$sock,uuid=11111111222243338444555555555555" "invalid value"

out=$(probe "path=$sock,queues=4")
check devargs-good-probes-as-net_vhost_pci \
	grep -q 'Driver name: net_vhost_pci' <<< "$out"
check devargs-good-link-down-without-peer \
	grep -q 'Link status: down' <<< "$out"
check devargs-good-4-queues grep -qE 'Max possible RX queues: 4' <<< "$out"
check devargs-param-string-registered \
	grep -q 'path=<path> queues=<1-16> client=<0|1>' \
	<(strings "$VPCI_PMD")
