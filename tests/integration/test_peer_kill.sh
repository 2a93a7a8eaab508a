#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The peer is SIGKILLed during traffic: the port must survive with link down,
# and a restarted peer must pass verified traffic through the same port.
. "$(dirname "$0")/lib.sh"

sock=$VPCI_RUN/t-kill.sock
a=$LOGS/peer-kill.vpci.log
b=$LOGS/peer-kill.virtio.log
p=$LOGS/peer-kill.pktcheck.log

lsc_count() { grep -c 'link state change event' "$a"; }
rx_total() { awk '/RX-packets:/ {v=$2} END {print v+0}' "$1"; }

start_vpci_testpmd "$sock" "" io "$a"
apid=$VPCI_LAST_PID
vpci_wait_log "$a" 'forwards packets' 20
# Packets loop: virtio-user puts a first burst out, both sides forward.
# shellcheck disable=SC2086
vpci_bg "$b" ${VPCI_PFX}-t-b "$TESTPMD" -l 0-1 --main-lcore 1 --file-prefix=${VPCI_PFX}-t-b \
	$VPCI_EAL_MEM --no-pci --single-file-segments \
	--vdev "net_virtio_user0,path=$sock" -- \
	--forward-mode=io --auto-start --tx-first --stats-period 1
bpid=$VPCI_LAST_PID
sleep 4
rx_before=$(rx_total "$a")
check "traffic-flows-before-kill ($rx_before packets)" [ "$rx_before" -gt 1000 ]
lsc_up=$(lsc_count)

kill -KILL "$bpid"
sleep 3
check "vpci-testpmd-survives-peer-sigkill" kill -0 "$apid"
check "link-down-event-after-peer-sigkill" [ "$(lsc_count)" -gt "$lsc_up" ]
check "no-error-from-vpci-side" bash -c "! grep -qiE 'segmentation|panic|assert' '$a'"

# A new peer on the same socket: full payload check through the io port.
# shellcheck disable=SC2086
timeout 60 "$PKTCHECK" -l 0 --file-prefix=${VPCI_PFX}-t-p $VPCI_EAL_MEM --no-pci \
	--single-file-segments --vdev "net_virtio_user0,path=$sock" -- \
	--count 20000 --size 512 --expect io --timeout 40 > "$p" 2>&1
VPCI_PREFIXES="$VPCI_PREFIXES ${VPCI_PFX}-t-p"
if pktcheck_passed "$p"; then ok "restarted-peer-passes-verified-traffic"; else
	not_ok "restarted-peer-passes-verified-traffic" "$(grep '^pktcheck:' "$p" | tail -2 | tr '\n' ' ')"; fi
check "vpci-testpmd-alive-after-restarted-peer-left" kill -0 "$apid"
vpci_kill "$apid"
wait "$apid"
check "vpci-testpmd-exits-cleanly (status $?)" [ $? -eq 0 ]
check "socket-removed-on-exit" [ ! -e "$sock" ]
