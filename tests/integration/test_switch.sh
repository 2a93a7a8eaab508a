#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# examples/vhost_pci_switch: dpdk-vhost-pci-switch with three net_vhost_pci
# ports (a socket each) and one light peer per port: pktcheck on
# net_virtio_user with --expect none, which sends numbered, checksummed
# frames between given MACs and logs every frame it receives. Peers come
# and go between steps (a peer sends only when it starts), which is also
# what the switch's link-up, link-down and flush lines are checked on.
#
#   port 0: A (02:00:00:00:00:0A)  port 1: B (...:0B)  port 2: C (...:0C)
#
# 1. A broadcasts: B and C get each frame once, intact; A gets none.
# 2. A new C sends to an unknown unicast MAC: A and B get it, C not.
# 3. A new B sends to A's MAC (learnt in 1): A only.
# 4. A new A sends to B's MAC (learnt in 3): B only.
# 5. B leaves: the switch flushes B's MAC. A new A sends to B's MAC
#    again: with B's entry gone it floods, so C gets it. (Without the
#    flush the switch would send it to the dead port 1 and C nothing.)
# 6. A new A sends to its own MAC, learnt on its own port: the switch
#    drops it (port 0's drop counter), nobody gets it.
# Each connection has its link-up line (conn_id, version) and each peer
# that leaves its link-down line. Then the switch's counters, and a clean
# stop on SIGINT.
. "$(dirname "$0")/lib.sh"

SWITCH=$VPCI_BUILD/examples/vhost_pci_switch/dpdk-vhost-pci-switch
sw=$LOGS/switch.log
N=8				# frames each sender sends
MA=02:00:00:00:00:0A
MB=02:00:00:00:00:0B
MC=02:00:00:00:00:0C
MU=02:00:00:00:00:EE		# nobody's
BC=FF:FF:FF:FF:FF:FF
# Four EAL processes at once: less memory each than the tests' default.
SW_MEM=${VPCI_EAL_MEM/-m 512/-m 256}
PEER_MEM=${VPCI_EAL_MEM/-m 512/-m 128}

sock() { echo "$VPCI_RUN/t-sw$1.sock"; }

declare -A PID LOG RUN CONN PORT LAST

# peer NAME PORT COUNT SRC DST: a pktcheck on PORT's socket that sends
# COUNT frames SRC -> DST once its link is up, then logs what it receives
# until stopped. Waits for the run id that tags its frames and for the
# switch's link-up line for it, which must name a new conn_id on that
# socket and version 1 (virtio-user speaks vhost-user).
peer() {
	local name=$1 port=$2 n line pfx=${VPCI_PFX}-sw-p$2
	if ! kill -0 "$swpid" 2>/dev/null; then
		not_ok "switch: alive when $name comes" "$(tail -n 5 "$sw" | tr '\n' ' ')"
		exit 1
	fi
	LOG[$name]=$LOGS/switch.$name.log
	# Empty now: the redirection in the child may come after the
	# first look at it, which must not find an earlier run's lines.
	: > "${LOG[$name]}"
	PORT[$name]=$port
	n=$(count_of "$sw" "^port $port: link up ")
	# shellcheck disable=SC2086
	vpci_bg "${LOG[$name]}" "$pfx" "$PKTCHECK" -l 0 --file-prefix="$pfx" \
		$PEER_MEM --no-pci --single-file-segments \
		--vdev "net_virtio_user0,path=$(sock "$port")" -- \
		--count "$3" --expect none --src-mac "$4" --dst-mac "$5" \
		--timeout 600
	PID[$name]=$VPCI_LAST_PID
	wait_count "${LOG[$name]}" '^pktcheck: run id 0x' 1 60
	RUN[$name]=$(sed -nE 's/^pktcheck: run id 0x([0-9a-f]+),.*/\1/p' "${LOG[$name]}")
	wait_count "$sw" "^port $port: link up " $((n + 1)) 60
	line=$(grep "^port $port: link up " "$sw" | sed -n "$((n + 1))p")
	CONN[$name]=$(sed -nE 's/.*: conn_id ([0-9]+), .*/\1/p' <<< "$line")
	case "$line" in
	"port $port: link up on $(sock "$port"): conn_id ${CONN[$name]:-x}, version 1, peer uuid none")
		if [ "${CONN[$name]}" -gt "${LAST[$port]:-0}" ]; then
			ok "switch: $name connects: '$line'"
		else
			not_ok "switch: $name connects" "conn_id ${CONN[$name]} not past the last one on port $port (${LAST[$port]})"
		fi ;;
	*) not_ok "switch: $name connects" "link-up line #$((n + 1)) of port $port: '${line:-none in 60 s}'" ;;
	esac
	LAST[$port]=${CONN[$name]:-0}
}

# leave NAME: stop a peer; the switch must say which connection left.
leave() {
	local name=$1 port=${PORT[$1]} want
	vpci_kill "${PID[$name]}"
	wait "${PID[$name]}" 2>/dev/null
	want="port $port: link down on $(sock "$port"): conn_id ${CONN[$name]} gone"
	if [ -n "${CONN[$name]}" ] && vpci_wait_log "$sw" "^$want\$" 30; then
		ok "switch: $name leaves: '$want'"
	else
		not_ok "switch: $name leaves" "no '$want' in $sw"
	fi
}

# frames LOG RUN: "seq src dst verdict" of each frame of RUN in LOG.
frames() {
	sed -nE "s/^pktcheck: rx run 0x$2 seq ([0-9]+) len [0-9]+ src ([0-9A-F:]+) dst ([0-9A-F:]+): (.*)$/\\1 \\2 \\3 \\4/p" "$1" | sort -n
}

# got NAME SENDER SRC DST: NAME received seq 0..N-1 of SENDER's run, each
# once, with these MACs and a good checksum.
got() {
	[ "$(frames "${LOG[$1]}" "${RUN[$2]}")" = "$(seq 0 $((N - 1)) | sed "s/\$/ $3 $4 ok/")" ]
}

# expect_got CHECK-NAME SENDER SRC DST RECEIVER...
expect_got() {
	local name=$1 from=$2 src=$3 dst=$4 r bad=""
	shift 4
	for r in "$@"; do
		wait_for 30 got "$r" "$from" "$src" "$dst" ||
			bad="$bad $r has [$(frames "${LOG[$r]}" "${RUN[$from]}" | tr '\n' ',')];"
	done
	if [ -z "$bad" ]; then ok "switch: $name"; else
		not_ok "switch: $name" "want seq 0-$((N - 1)) $src -> $dst ok each once:$bad"; fi
}

# never CHECK-NAME SENDER RECEIVER...: no frame of SENDER's run reaches
# them. Checked at the end, once the receivers have polled for seconds
# past the time the sender's frames went through the switch.
NEVER=()
never() { NEVER+=("$1|$2|${*:3}"); }
check_never() {
	local name=$1 from=$2 r bad=""
	shift 2
	for r in "$@"; do
		[ -z "$(frames "${LOG[$r]}" "${RUN[$from]}")" ] ||
			bad="$bad $r got $(frames "${LOG[$r]}" "${RUN[$from]}" | wc -l) of $from's frames;"
	done
	if [ -z "$bad" ]; then ok "switch: $name"; else not_ok "switch: $name" "$bad"; fi
}

# The port's "flushed" line after its link-down line number $2.
flushed_after() {
	tail -n +"$2" "$sw" | grep -m1 "^port $1: flushed "
}

# ---- the switch ----
for p in 0 1 2; do VPCI_SOCKETS="$VPCI_SOCKETS $(sock $p)"; rm -f "$(sock $p)"; done
# The binary links net_vhost_pci (for rte_pmd_vhost_pci.h): no -d, which
# would load a second copy of the driver.
: > "$sw"
# shellcheck disable=SC2086
vpci_bg "$sw" ${VPCI_PFX}-sw "$SWITCH" -l 0-1 --file-prefix=${VPCI_PFX}-sw \
	$SW_MEM --no-pci \
	--vdev "net_vhost_pci0,path=$(sock 0)" \
	--vdev "net_vhost_pci1,path=$(sock 1)" \
	--vdev "net_vhost_pci2,path=$(sock 2)" -- --stats 1 --aging 300
swpid=$VPCI_LAST_PID
if vpci_wait_log "$sw" '^forwarding on lcore 1$' 60 &&
		[ "$(count_of "$sw" '^port [012]: net_vhost_pci on ')" -eq 3 ]; then
	ok "switch: starts with 3 net_vhost_pci ports, forwards on lcore 1"
else
	not_ok "switch: starts with 3 net_vhost_pci ports, forwards on lcore 1" \
		"$(tail -n 5 "$sw" | tr '\n' ' ')"
	exit 1
fi

# ---- 1. broadcast ----
peer B1 1 0 "$MB" "$BC"
peer C1 2 0 "$MC" "$BC"
peer A1 0 $N "$MA" "$BC"
expect_got "broadcast from A reaches B and C, every frame once, intact" \
	A1 "$MA" "$BC" B1 C1
never "broadcast from A never comes back to A" A1 A1

# ---- 2. unknown unicast ----
leave C1
peer C2 2 $N "$MC" "$MU"
expect_got "unknown unicast from C floods to A and B" C2 "$MC" "$MU" A1 B1
never "unknown unicast from C never comes back to C" C2 C2

# ---- 3. unicast to a learnt MAC ----
leave B1
peer B2 1 $N "$MB" "$MA"
expect_got "unicast from B to A's learnt MAC reaches A" B2 "$MB" "$MA" A1
never "unicast from B to A's learnt MAC reaches A only (not C, not B)" B2 C2 B2

# ---- 4. unicast back, after B was learnt ----
leave A1
peer A2 0 $N "$MA" "$MB"
expect_got "unicast from A to B's learnt MAC reaches B" A2 "$MA" "$MB" B2
never "unicast from A to B's learnt MAC reaches B only (not C, not A)" A2 C2 A2

# ---- 5. B leaves: its MAC is flushed ----
leave B2
dl=$(grep -n "^port 1: link down " "$sw" | tail -n 1 | cut -d: -f1)
wait_for 10 flushed_after 1 "${dl:-1}" > /dev/null
line=$(flushed_after 1 "${dl:-1}")
if [ "$line" = "port 1: flushed 1 MAC entries" ]; then
	ok "switch: B's link down flushes B's MAC: '$line'"
else
	not_ok "switch: B's link down flushes B's MAC" "after the link-down line: '${line:-nothing in 10 s}'"
fi
leave A2
peer A3 0 $N "$MA" "$MB"
expect_got "after B left, A's frames to B's MAC flood again (C gets them)" \
	A3 "$MA" "$MB" C2
never "after B left, nothing comes back to A" A3 A3

# ---- 6. unicast to a MAC on the ingress port ----
leave A3
peer A4 0 $N "$MA" "$MA"
if wait_count "$sw" '^stats: port 0 link up +rx 32 tx 16 drop 8$' 1 30; then
	ok "switch: unicast to a MAC learnt on the ingress port is dropped there (port 0 drop 8)"
else
	not_ok "switch: unicast to a MAC learnt on the ingress port is dropped there" \
		"last: '$(grep '^stats: port 0 ' "$sw" | tail -n 1)', want rx 32 tx 16 drop 8"
fi
never "unicast to a MAC on the ingress port reaches nobody (not A, not C)" A4 A4 C2

# Absence needs a grace: a peer polls its ring every 200 us at most.
sleep 1
for n in "${NEVER[@]}"; do
	IFS='|' read -r name from to <<< "$n"
	# shellcheck disable=SC2086
	check_never "$name" "$from" $to
done

# ---- counters, then SIGINT ----
# rx: A1-A4 on port 0, B2 on 1, C2 on 2; tx: what 1-5 delivered; drop: 6.
vpci_kill "$swpid"
wait "$swpid"
rc=$?
bad=""
for want in "0 32 16 8" "1 8 24 0" "2 8 16 0"; do
	read -r p rx tx drop <<< "$want"
	line=$(grep "^stats: port $p " "$sw" | tail -n 1)
	[[ "$line" =~ ^stats:\ port\ $p\ link\ (up|down)\ +rx\ $rx\ tx\ $tx\ drop\ $drop$ ]] ||
		bad="$bad want port $p rx $rx tx $tx drop $drop, last '$line';"
done
if [ -z "$bad" ]; then ok "switch: final counters: rx/tx/drop per port as sent"; else
	not_ok "switch: final counters" "$bad"; fi
gone=1
for p in 0 1 2; do [ -e "$(sock $p)" ] && gone=0; done
if [ "$rc" -eq 0 ] && [ "$gone" = 1 ] && grep -q '^switch: stopped$' "$sw"; then
	ok "switch: SIGINT stops it: exit 0, 'switch: stopped', sockets removed"
else
	not_ok "switch: SIGINT stops it" "exit status $rc, sockets removed: $gone, last: $(tail -n 2 "$sw" | tr '\n' ' ')"
fi
