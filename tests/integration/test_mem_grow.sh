#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The peer gains memory during traffic. net_virtio_user then disables its
# rings, sends a new memory table and enables them again, while its own
# datapath goes on. The BAR is rebuilt under zero-copy traffic; frames
# sent from the new memory must come back intact, and none may be lost.
#
# This is the real flow end to end. Whether a lent mbuf is out at the very
# moment of the update is up to timing here, and in runs against the PMD
# without ring resume it never was: the check that lent heads survive the
# update is the datapath unit test (class 13, t_zc_remap), which holds
# them on purpose.
. "$(dirname "$0")/lib.sh"

sock=$VPCI_RUN/t-grow.sock
a=$LOGS/mem-grow.vpci.log
p=$LOGS/mem-grow.pktcheck.log

case "$VPCI_EAL_MEM" in
*--no-huge*)
	skip mem-grow "no hugepages: the peer's memory cannot grow"
	exit 0 ;;
esac

start_vpci_testpmd "$sock" ",zero_copy=1" io "$a"
apid=$VPCI_LAST_PID
vpci_wait_log "$a" 'forwards packets' 20
# No -m: the peer starts small, and the new pool at half-way takes pages
# it did not have. 1000-byte frames are over zc_min_len: they are lent.
# shellcheck disable=SC2086
timeout 120 "$PKTCHECK" -l 0 --file-prefix="${VPCI_PFX}-t-p" --no-pci \
	--single-file-segments --vdev "net_virtio_user0,path=$sock" -- \
	--count 200000 --size 1000 --expect io --timeout 90 --grow-mb 64 \
	> "$p" 2>&1
VPCI_PREFIXES="$VPCI_PREFIXES ${VPCI_PFX}-t-p"

grew=$(sed -n 's/^pktcheck: grew at frame [0-9]*: .*memory segments \([0-9]*\) -> \([0-9]*\)$/\1 \2/p' "$p")
set -- $grew
if [ $# -eq 2 ] && [ "$2" -gt "$1" ]; then
	ok "mem-grow: the peer gained memory half-way (memory segments $1 -> $2)"
else
	not_ok "mem-grow: the peer gained memory half-way" "pktcheck: $(grep grew "$p")"
fi
# BAR sizes, in order, of every memory table the port mapped.
bars=$(sed -n 's/.*t-grow.sock: connection [0-9]*: [0-9]* regions in a \(0x[0-9a-f]*\)-byte BAR.*/\1/p' "$a" | tr '\n' ' ')
set -- $bars
first=${1:-0}
last=$(eval echo "\${$#}")
if [ $# -ge 2 ] && [ $((last)) -gt $((first)) ]; then
	ok "mem-grow: the port rebuilt its BAR for each new table ($# tables: $bars)"
else
	not_ok "mem-grow: the port rebuilt its BAR for each new table" "BARs: $bars"
fi
if grep -qE 'device ready, features 0x[0-9a-f]+' "$a" &&
		! grep -E 'device ready, features' "$a" |
		awk '{print $NF}' | while read -r f; do
			[ $(( (f >> 35) & 1 )) = 1 ] && echo in_order
		done | grep -q .; then
	ok "mem-grow: zero-copy ran (IN_ORDER never negotiated)"
else
	not_ok "mem-grow: zero-copy ran" "$(grep 'device ready' "$a" | head -3)"
fi
if pktcheck_passed "$p"; then
	ok "class 13 (zc-lifetime): mem-grow: all 200000 frames came back intact, the 100000 sent from the new memory included"
else
	not_ok "class 13 (zc-lifetime): mem-grow: all frames came back intact" \
		"$(grep '^pktcheck:' "$p" | tail -3 | tr '\n' ' ')"
fi
check "mem-grow: the vhost-pci testpmd is alive, no fault logged" \
	bash -c "kill -0 $apid && ! grep -qiE 'segmentation|panic|fault' '$a'"
