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

lsc_count() { count_of "$a" 'link state change event'; }

start_vpci_testpmd "$sock" "" io "$a"
apid=$VPCI_LAST_PID
need "vpci testpmd forwards" "$a" vpci_wait_log "$a" 'forwards packets' 20 || exit 1
# Packets loop: virtio-user puts a first burst out, both sides forward.
# shellcheck disable=SC2086
vpci_bg "$b" ${VPCI_PFX}-t-b "$TESTPMD" -l 0-1 --main-lcore 1 --file-prefix=${VPCI_PFX}-t-b \
	$VPCI_EAL_MEM --no-pci --single-file-segments \
	--vdev "net_virtio_user0,path=$sock" -- \
	--forward-mode=io --auto-start --tx-first --stats-period 1
bpid=$VPCI_LAST_PID
# Until the vpci side has had its link-up event and its stats show the loop
# running.
flowing() { [ "$(lsc_count)" -ge 1 ] && rx_at_least "$a" 1001; }
wait_for 30 flowing
rx_before=$(rx_total "$a")
lsc_up=$(lsc_count)
if [ "$lsc_up" -ge 1 ] && [ "$rx_before" -gt 1000 ]; then
	ok "traffic-flows-before-kill ($rx_before packets)"
else
	not_ok "traffic-flows-before-kill ($rx_before packets)" \
		"after 30 s: $lsc_up link events, $rx_before packets (want >= 1, > 1000)"
	log_tail "$a"
	log_tail "$b"
	exit 1
fi

kill -KILL "$bpid"
# Until the PMD has seen the peer go: testpmd's link state change event.
check_wait "link-down-event-after-peer-sigkill" "$a" \
	wait_count "$a" 'link state change event' $((lsc_up + 1)) 30
check "vpci-testpmd-survives-peer-sigkill" kill -0 "$apid"
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
rc=$?
check "vpci-testpmd-exits-cleanly (status $rc)" [ "$rc" -eq 0 ]
check "socket-removed-on-exit" [ ! -e "$sock" ]
