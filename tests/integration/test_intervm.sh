#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The inter-VM path: two stock net_virtio_user front-ends, each behind its
# own dpdk-vhost-pci-client (v1 in, v2 out), reach one testpmd whose
# net_vhost_pci0 and net_vhost_pci1 share one server socket and forward to
# each other (io). pktcheck on one front-end, testpmd swapping MACs on the
# other: every byte crosses both ports twice. Then the ports' logs against
# the proxies', uuid= pinning, and a disconnect the server starts.
. "$(dirname "$0")/lib.sh"

sock=$VPCI_RUN/t-iv.sock
fe1=$VPCI_RUN/t-iv-fe1.sock
fe2=$VPCI_RUN/t-iv-fe2.sock
a=$LOGS/intervm.vpci.log
c1=$LOGS/intervm.proxy1.log
c2=$LOGS/intervm.proxy2.log
count=20000
U1=11111111-2222-4333-8444-555555555555
U2=66666666-7777-4888-9999-aaaaaaaaaaaa


# The vhost-pci side: two ports on one socket, io between them (lcore 1).
# Extra devargs for port 0 in $2, port 1 in $3.
start_iv_vpci() {
	local log=$1 d0=$2 d1=$3
	VPCI_SOCKETS="$VPCI_SOCKETS $sock"
	# shellcheck disable=SC2086
	vpci_bg "$log" ${VPCI_PFX}-iv-a "$TESTPMD" -l 0-1 --file-prefix=${VPCI_PFX}-iv-a \
		$VPCI_EAL_MEM --no-pci -d "$VPCI_PMD" \
		--vdev "net_vhost_pci0,path=$sock$d0" \
		--vdev "net_vhost_pci1,path=$sock$d1" \
		--log-level=pmd.net.vhost_pci:info -- \
		--forward-mode=io --auto-start --stats-period 2
	vpci_wait_log "$log" 'forwards packets' 20
}

# start_proxy LOG FRONTEND [--uuid U]
start_proxy() { vpci_proxy "$1" "$2" "$sock" "${@:3}"; }

# A front-end process per front-end socket at a time: the hugepage prefix
# follows the socket, so a successor reclaims its predecessor's files.
fe_prefix() { echo "${VPCI_PFX}-iv-$(basename "$1" .sock | sed 's/^t-iv-//')"; }

# start_fe_testpmd FRONTEND LOG MODE [testpmd args]: lcore 0 forwards.
start_fe_testpmd() {
	local fe=$1 log=$2 mode=$3 pfx
	shift 3
	pfx=$(fe_prefix "$fe")
	# shellcheck disable=SC2086
	vpci_bg "$log" "$pfx" "$TESTPMD" -l 0-1 --main-lcore 1 \
		--file-prefix="$pfx" $VPCI_EAL_MEM --no-pci \
		--single-file-segments --vdev "net_virtio_user0,path=$fe" -- \
		--forward-mode="$mode" --auto-start --stats-period 1 "$@"
}

# run_pktcheck NAME FRONTEND SIZE: sends, expects it back MAC-swapped.
run_pktcheck() {
	local name=$1 fe=$2 size=$3 p=$LOGS/intervm.$1.pktcheck.log pfx
	pfx=$(fe_prefix "$fe")
	VPCI_PREFIXES="$VPCI_PREFIXES $pfx"
	# shellcheck disable=SC2086
	timeout 60 "$PKTCHECK" -l 0 --file-prefix="$pfx" $VPCI_EAL_MEM \
		--no-pci --single-file-segments \
		--vdev "net_virtio_user0,path=$fe" -- \
		--count $count --size "$size" --expect macswap --timeout 30 \
		--window "$(window_for "$size")" --settle-ms 1000 > "$p" 2>&1
	if pktcheck_passed "$p"; then ok "$name"; else
		proc_state "$apid"
		not_ok "$name" "$(grep '^pktcheck:' "$p" | tail -3 | tr '\n' ' ')(log $p); vhost-pci testpmd: $STATE"; fi
}

# proc_state PID: sets STATE to "alive", or to how our child PID ended.
# Not in $(...): only this shell can wait for its children.
STATE=""
DEAD=""
proc_state() {
	local st
	if kill -0 "$1" 2>/dev/null; then STATE=alive; return; fi
	case " $DEAD " in *" $1="*)
		STATE=${DEAD##* "$1"=}; STATE=${STATE%% *}; STATE=${STATE//_/ }
		return ;;
	esac
	wait "$1" 2>/dev/null
	st=$?
	if [ "$st" -gt 128 ] && [ "$st" -lt 255 ]; then
		STATE="died_of_signal_$((st - 128))_(SIG$(kill -l $((st - 128))))"
	else
		STATE="exited_with_status_$st"
	fi
	DEAD="$DEAD $1=$STATE"
	STATE=${STATE//_/ }
}

# Every session of a proxy: "conn_id uuid" per line.
proxy_sessions() {
	sed -nE 's/.*: conn_id ([0-9]+), sender uuid ([0-9a-f-]+)$/\1 \2/p' "$1"
}
# Every device a port took: "port conn_id uuid" per line.
port_sessions() {
	sed -nE "s/.*port ([0-9]+): peer connected on [^ ]+: v2, conn_id ([0-9]+), peer uuid ([0-9a-f-]+),.*/\\1 \\2 \\3/p" "$1"
}
# The proxy log whose session has conn_id $1.
proxy_of() {
	local f
	for f in "$c1" "$c2"; do
		proxy_sessions "$f" | grep -q "^$1 " && { echo "$f"; return; }
	done
}

kill_fe() { vpci_kill "$1"; wait "$1" 2>/dev/null; }

# tp_cmd CMD: run CMD on the interactive testpmd and wait for its next
# prompt, i.e. for CMD to return. testpmd's own printf output is buffered
# while its prompt is not, so the prompt is what tells a command is done.
tp_cmd() {
	local n
	n=$(count_of "$a" 'testpmd> ')
	vpci_cmd iv "$1"
	wait_count "$a" 'testpmd> ' $((n + 1)) "${2:-10}"
}

# ---- 1. traffic both ways, proxies and vhost-pci testpmd stay up ----
start_iv_vpci "$a" "" ""
apid=$VPCI_LAST_PID
start_proxy "$c1" "$fe1"
p1pid=$VPCI_LAST_PID
start_proxy "$c2" "$fe2"
p2pid=$VPCI_LAST_PID
check "intervm-proxies-listen" test -S "$fe1" -a -S "$fe2"

# (a) testpmd swaps MACs behind front-end 2, pktcheck sends on front-end 1.
start_fe_testpmd "$fe2" "$LOGS/intervm.fe2-macswap.log" macswap
bpid=$VPCI_LAST_PID
check "intervm-fe2-peer-channel-connected" \
	wait_count "$c2" 'peer channel connected' 1 20
run_pktcheck intervm-fe1-to-fe2-and-back-64B "$fe1" 64
run_pktcheck intervm-fe1-to-fe2-and-back-1518B "$fe1" 1518
kill_fe "$bpid"

# (b) roles swapped: the front-ends reconnect through the same proxies.
n=$(count_of "$c1" 'peer channel connected')
start_fe_testpmd "$fe1" "$LOGS/intervm.fe1-macswap.log" macswap
bpid=$VPCI_LAST_PID
check "intervm-fe1-reconnects-peer-channel" \
	wait_count "$c1" 'peer channel connected' $((n + 1)) 20
run_pktcheck intervm-fe2-to-fe1-and-back-64B "$fe2" 64
run_pktcheck intervm-fe2-to-fe1-and-back-1518B "$fe2" 1518
kill_fe "$bpid"

proc_state "$apid"
if [ "$STATE" = alive ]; then ok "intervm-vpci-testpmd-alive-after-both-directions"; else
	not_ok "intervm-vpci-testpmd-alive-after-both-directions" "vhost-pci testpmd $STATE (log $a)"; fi
check "intervm-both-proxies-alive-after-both-directions" \
	kill -0 "$p1pid" "$p2pid"

# ---- 2. what the logs say ----
s1=$(proxy_sessions "$c1")
s2=$(proxy_sessions "$c2")
ids=$(printf '%s\n%s\n' "$s1" "$s2" | awk 'NF {print $1}')
id1=$(awk 'NR == 1 {print $1}' <<< "$s1")
id2=$(awk 'NR == 1 {print $1}' <<< "$s2")
if [ -n "$id1" ] && [ -n "$id2" ] && [ "$id1" != "$id2" ] &&
		[ "$(sort <<< "$ids" | uniq -d | wc -l)" -eq 0 ]; then
	ok "intervm-distinct-conn-ids ($(echo $ids))"
else
	not_ok "intervm-distinct-conn-ids" "proxy 1 sessions: $(echo $s1); proxy 2 sessions: $(echo $s2)"
fi

# Each proxy keeps its UUID; each port names the UUID of the proxy whose
# conn_id it took.
uu1=$(awk '{print $2}' <<< "$s1" | sort -u)
uu2=$(awk '{print $2}' <<< "$s2" | sort -u)
if [ "$(wc -w <<< "$uu1")" -eq 1 ] && [ "$(wc -w <<< "$uu2")" -eq 1 ] &&
		[ "$uu1" != "$uu2" ]; then
	ok "intervm-proxies-one-uuid-each ($uu1, $uu2)"
else
	not_ok "intervm-proxies-one-uuid-each" "proxy 1: $(echo $uu1); proxy 2: $(echo $uu2)"
fi
bad=""
seen=0
while read -r port id uuid; do
	[ -n "$port" ] || continue
	seen=$((seen + 1))
	f=$(proxy_of "$id")
	want=$(proxy_sessions "${f:-/dev/null}" | awk -v id="$id" '$1 == id {print $2}')
	[ -n "$want" ] && [ "$want" = "$uuid" ] ||
		bad="$bad port $port conn_id $id uuid $uuid (proxy says '${want:-no such session}');"
done <<< "$(port_sessions "$a")"
nsess=$(wc -w <<< "$ids")
if [ -z "$bad" ] && [ "$seen" -eq "$nsess" ] && [ "$seen" -ge 2 ]; then
	ok "intervm-ports-name-proxy-sender-uuid ($seen devices)"
else
	not_ok "intervm-ports-name-proxy-sender-uuid" \
		"$seen port attachments for $nsess proxy sessions;$bad"
fi
check "intervm-proxy1-peer-channel-connected" grep -q 'peer channel connected' "$c1"
check "intervm-proxy2-peer-channel-connected" grep -q 'peer channel connected' "$c2"
check "intervm-no-crash-in-vpci-log" \
	bash -c "! grep -qiE 'segmentation|panic|assert|no free port' '$a'"
vpci_cleanup

# ---- 3. uuid= pinning, on an interactive testpmd kept for part 4 ----
a=$LOGS/intervm-pin.vpci.log
c1=$LOGS/intervm-pin.proxy1.log
c2=$LOGS/intervm-pin.proxy2.log
VPCI_SOCKETS="$sock"
# shellcheck disable=SC2086
vpci_testpmd_fifo iv "$a" ${VPCI_PFX}-iv-a -l 0-1 --file-prefix=${VPCI_PFX}-iv-a \
	$VPCI_EAL_MEM --no-pci -d "$VPCI_PMD" \
	--vdev "net_vhost_pci0,path=$sock,uuid=$U2" \
	--vdev "net_vhost_pci1,path=$sock,uuid=$U1" \
	--log-level=pmd.net.vhost_pci:info -- -i --forward-mode=io
apid=$VPCI_LAST_PID
vpci_wait_log "$a" 'testpmd> ' 20
check "intervm-pinned-vpci-testpmd-starts-forwarding" tp_cmd start
start_proxy "$c1" "$fe1" --uuid "$U1"
start_proxy "$c2" "$fe2" --uuid "$U2"

# Front-end 1 comes first: the first free port is 0, the pin says 1.
start_fe_testpmd "$fe1" "$LOGS/intervm-pin.fe1-macswap.log" macswap
wait_count "$a" 'peer connected' 1 20
line=$(grep 'peer connected' "$a" | head -1)
if grep -q "port 1: peer connected .*peer uuid $U1," <<< "$line"; then
	ok "intervm-uuid-pin-fe1-lands-on-port-1"
else
	not_ok "intervm-uuid-pin-fe1-lands-on-port-1" "first attachment: '${line:-none in 20 s}'"
fi
run_pktcheck intervm-pinned-fe2-to-fe1-and-back-64B "$fe2" 64
check "intervm-uuid-pin-fe2-lands-on-port-0" \
	grep -q "port 0: peer connected .*peer uuid $U2," "$a"

# ---- 4. port stop sends SET_PEER_CONNECTION(DISCONNECT) ----
# A packet loop through both ports: io on front-end 2 puts a first burst
# out, front-end 1 swaps MACs back.
n=$(count_of "$a" 'port 0: peer connected')
b=$LOGS/intervm-pin.fe2-io.log
start_fe_testpmd "$fe2" "$b" io --tx-first
wait_count "$a" 'port 0: peer connected' $((n + 1)) 20
sleep 4
rx=$(awk '/RX-packets:/ {v=$2} END {print v+0}' "$b")
check "intervm-loop-traffic-before-port-stop ($rx packets)" [ "$rx" -gt 1000 ]
id0=$(port_sessions "$a" | awk '$1 == 0 {id = $2} END {print id}')
f=$(proxy_of "$id0")
if [ -z "$f" ]; then
	not_ok "intervm-port-stop-disconnects-v2-peer" "no proxy session for port 0's conn_id '$id0'"
else
	check "intervm-stop-forwarding" tp_cmd stop
	# In the background: the proxy's log is watched meanwhile.
	tp_cmd "port stop 0" &
	stop_job=$!
	if vpci_wait_log "$f" "conn $id0: server sent SET_PEER_CONNECTION\\(DISCONNECT\\)" 5; then
		ok "intervm-port-stop-disconnects-v2-peer (conn $id0, $(basename "$f"))"
	else
		not_ok "intervm-port-stop-disconnects-v2-peer" \
			"no DISCONNECT in $f within 5 s of 'port stop 0' (conn $id0); vpci log: $(grep -E 'port 0|connection '"$id0" "$a" | tail -3 | tr '\n' ' ')"
	fi
	check "intervm-port-stop-returns" wait "$stop_job"
fi
proc_state "$apid"
if [ "$STATE" = alive ]; then ok "intervm-vpci-testpmd-alive-after-port-stop"; else
	not_ok "intervm-vpci-testpmd-alive-after-port-stop" "vhost-pci testpmd $STATE (log $a)"; fi
check "intervm-vpci-testpmd-answers-after-port-stop" tp_cmd "show port info 1"
check "intervm-no-crash-in-pinned-vpci-log" \
	bash -c "! grep -qiE 'segmentation|panic|assert|no free port' '$a'"
