#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Server restart while the client waits, both ways. pktcheck verifies every
# byte of the traffic before and after each restart.
#
# A. The front-end is the socket server (net_virtio_user server=1) and
#    net_vhost_pci the client (client=1): the server exits, a new one comes,
#    then it is SIGKILLed under traffic and restarted; our client reconnects
#    by itself each time (it retries every second).
#    DPDK 22.11's virtio-user server binds without removing a stale socket
#    file ("failed to bind ...: remove it and try again"): after its SIGKILL
#    the file is removed before the restart, as whoever restarts it must.
#
# B. net_vhost_pci is the server. Stock net_virtio_user 22.11 in client
#    mode never reconnects: it connects once, in vhost_user_setup() at
#    probe, and vhost_user_update_link_state() reconnects only a server=1
#    device (virtio_user_dev_server_reconnect(): accept() on its listening
#    socket). Seen here: after our server's SIGKILL the client stays up,
#    its traffic stops, it does not even report link down (the same with
#    DPDK's own net_vhost as the server), and it never connects to the
#    restarted server; only a new port (a new process) does. So with a
#    stock client: our server is SIGKILLed under traffic and restarted on
#    the same path (stale socket file), the old client is seen staying
#    away, and a NEW client passes verified traffic through the restarted
#    server.
#
# C. Our own client side: app/vhost-pci-client (the v2 proxy on the
#    library's client API) stays up while our server is SIGKILLed under
#    traffic and restarted; it reaches the restarted server for the next
#    front-end session (a new front-end: the old one is a stock client).
#    The client API connects once; the retrying is the proxy's, one server
#    connection per front-end session.
#
# D. (off by default, it hangs) the proxy with --frontend-is-server and a
#    virtio-user server=1 front-end, both waiting for our restarted server:
#    see the comment at D below for why it does not recover.
. "$(dirname "$0")/lib.sh"

CLIENT="$VPCI_BUILD/app/vhost-pci-client/dpdk-vhost-pci-client"
sock=$VPCI_RUN/t-restart.sock
fe=$VPCI_RUN/t-restart-fe.sock
count=20000
size=1024
wait_s=30

reap() { kill -KILL "$1" 2>/dev/null; { wait "$1"; } 2>/dev/null; }
alive() { kill -0 "$@" 2>/dev/null; }
no_crash() { ! grep -qiE 'segmentation|panic|assert' "$@"; }

# Our PMD in testpmd on $sock, lcore 1 forwards; attach/detach logged.
start_vpci() {
	local prefix=$1 devargs=$2 log=$3
	shift 3
	# shellcheck disable=SC2086
	vpci_bg "$log" "$prefix" "$TESTPMD" -l 0-1 --file-prefix="$prefix" \
		$VPCI_EAL_MEM --no-pci -d "$VPCI_PMD" \
		--vdev "net_vhost_pci0,path=$sock$devargs" \
		--log-level=pmd.net.vhost_pci:info -- "$@" \
		--auto-start --stats-period 1
}

# Stock virtio-user in testpmd on socket $2, lcore 0 forwards.
start_virtio() {
	local prefix=$1 path=$2 devargs=$3 log=$4
	shift 4
	# shellcheck disable=SC2086
	vpci_bg "$log" "$prefix" "$TESTPMD" -l 0-1 --main-lcore 1 \
		--file-prefix="$prefix" $VPCI_EAL_MEM --no-pci --single-file-segments \
		--vdev "net_virtio_user0,path=$path$devargs" -- "$@" \
		--auto-start --stats-period 1
}

# pktcheck on virtio-user (lcore 0) on socket $2; the far side swaps MACs.
# Foreground: returns when pktcheck is done.
pktcheck_virtio() {
	local name=$1 path=$2 devargs=$3 log=$4
	# shellcheck disable=SC2086
	timeout 120 "$PKTCHECK" -l 0 --file-prefix=${VPCI_PFX}-rs-p $VPCI_EAL_MEM \
		--no-pci --single-file-segments \
		--vdev "net_virtio_user0,path=$path$devargs" -- \
		--count $count --size $size --expect macswap --timeout 90 \
		--settle-ms 1000 > "$log" 2>&1
	VPCI_PREFIXES="$VPCI_PREFIXES ${VPCI_PFX}-rs-p"
	verdict "$name" "$log"
}

# pktcheck on net_vhost_pci (lcore 1), the server on $sock; background.
start_pktcheck_vpci() {
	# shellcheck disable=SC2086
	vpci_bg "$1" ${VPCI_PFX}-rs-q timeout 120 "$PKTCHECK" -l 1 \
		--file-prefix=${VPCI_PFX}-rs-q $VPCI_EAL_MEM --no-pci --huge-unlink \
		-d "$VPCI_PMD" --vdev "net_vhost_pci0,path=$sock" \
		--log-level=pmd.net.vhost_pci:info -- \
		--count $count --size $size --expect macswap --timeout 90 \
		--settle-ms 1000
}

verdict() {
	if pktcheck_passed "$2"; then ok "$1"; else
		not_ok "$1" "$(grep '^pktcheck:' "$2" | tail -2 | tr '\n' ' ')(log $2)"; fi
}

# ---- A. virtio-user server restarts, net_vhost_pci client=1 reconnects ----
name="fault (server-restart) A"
a=$LOGS/restart-a.vpci.log
b=$LOGS/restart-a.virtio-server.log
start_vpci "${VPCI_PFX}-rs-a" ",client=1" "$a" --forward-mode=macswap
apid=$VPCI_LAST_PID
need "$name: vpci client testpmd forwards" "$a" \
	vpci_wait_log "$a" 'forwards packets' 20
# The socket's owner is the virtio-user server: cleanup removes it.
VPCI_SOCKETS="$sock"

pktcheck_virtio "$name: vpci client=1 to a virtio-user server=1: verified traffic" \
	"$sock" ",server=1" "$LOGS/restart-a.pktcheck1.log"

# Server 2 starts after server 1 exited cleanly (it removed its socket).
start_virtio "${VPCI_PFX}-rs-b" "$sock" ",server=1" "$b" \
	--forward-mode=txonly --txpkts=$size
bpid=$VPCI_LAST_PID
check_wait "$name: vpci client reconnects by itself to a new server after a clean exit" \
	"$a" wait_count "$a" 'peer connected' 2 $wait_s
rx0=$(rx_total "$a")
check_wait "$name: traffic from the new server" \
	"$a" wait_for $wait_s rx_at_least "$a" $((rx0 + 1000))
gone=$(count_of "$a" 'peer gone')
reap "$bpid"
check_wait "$name: vpci client survives the server's SIGKILL, link down" \
	"$a" wait_count "$a" 'peer gone' $((gone + 1)) $wait_s
rm -f "$sock"
pktcheck_virtio "$name: vpci client reconnects by itself after the server's SIGKILL and restart: verified traffic" \
	"$sock" ",server=1" "$LOGS/restart-a.pktcheck2.log"
check "$name: vpci client attached to each of the 3 servers ($(count_of "$a" 'peer connected'))" \
	[ "$(count_of "$a" 'peer connected')" -eq 3 ]
check "$name: vpci client alive, no crash" bash -c "kill -0 $apid && ! grep -qiE 'segmentation|panic|assert' '$a'"
vpci_cleanup

# ---- B. our server restarts; stock virtio-user client ----
name="fault (server-restart) B"
a=$LOGS/restart-b.vpci1.log
a2=$LOGS/restart-b.vpci2.log
c=$LOGS/restart-b.virtio-client.log
VPCI_SOCKETS="$sock"
start_vpci "${VPCI_PFX}-rs-a" "" "$a" --forward-mode=macswap
apid=$VPCI_LAST_PID
need "$name: vpci server testpmd forwards" "$a" vpci_wait_log "$a" 'forwards packets' 20
# A packet loop: the client puts a first burst out, both sides forward.
start_virtio "${VPCI_PFX}-rs-b" "$sock" "" "$c" --forward-mode=io --tx-first
cpid=$VPCI_LAST_PID
need "$name: the stock client attaches" "$a" wait_count "$a" 'peer connected' 1 $wait_s
check_wait "$name: traffic between a stock virtio-user client and the vpci server" \
	"$c" wait_for $wait_s rx_at_least "$c" 1000
blocks=$(count_of "$c" 'RX-packets:')
reap "$apid"
# The stock client does not report link down (22.11, same with DPDK's own
# net_vhost as the server): its traffic stopping is what can be seen. Until
# two of its stats blocks, a second apart and both after the kill (the
# first one after $blocks may be from before it), show the same RX total.
stalled() {
	local v
	v=$(grep 'RX-packets:' "$c" | tail -n +$((blocks + 2)) | awk '{print $2}' | tail -n 2)
	alive "$cpid" && [ "$(echo "$v" | wc -w)" -eq 2 ] && [ "$(echo "$v" | uniq | wc -l)" -eq 1 ]
}
check_wait "$name: stock client survives the server's SIGKILL, its traffic stops" \
	"$c" wait_for $wait_s stalled
check "$name: SIGKILLed server left its socket file" test -S "$sock"
start_vpci "${VPCI_PFX}-rs-a2" "" "$a2" --forward-mode=macswap
a2pid=$VPCI_LAST_PID
took_over() { grep -q "$sock: listening" "$a2" && grep -q 'forwards packets' "$a2" && test -S "$sock"; }
check_wait "$name: restarted vpci server takes over the stale socket path" \
	"$a2" wait_for $wait_s took_over
# The limitation, as seen (not a test: see the top of this file): does the
# old client connect to the restarted server within 5 s?
vpci_wait_log "$a2" 'new connection' 5
n=$(count_of "$a2" 'new connection')
if [ "$n" -eq 0 ] && alive "$cpid"; then
	echo "# limitation confirmed: the old stock virtio-user client (alive) did not reconnect to the restarted server in 5 s"
else
	echo "# note: $n connection(s) to the restarted server from the old client (alive: $(alive "$cpid" && echo yes || echo no))"
fi
vpci_kill "$cpid"
pktcheck_virtio "$name: a new stock virtio-user client passes verified traffic through the restarted server" \
	"$sock" "" "$LOGS/restart-b.pktcheck.log"
check "$name: restarted server alive, no crash" \
	bash -c "kill -0 $a2pid && ! grep -qiE 'segmentation|panic|assert' '$a' '$a2'"
vpci_cleanup

# ---- C. our server restarts; our client library (the v2 proxy) stays up ----
name="fault (server-restart) C"
c=$LOGS/restart-c.frontend1.log
pl=$LOGS/restart-c.proxy.log
a=$LOGS/restart-c.vpci1.log
a2=$LOGS/restart-c.vpci2.log
VPCI_SOCKETS="$sock $fe"
start_vpci "${VPCI_PFX}-rs-a" "" "$a" --forward-mode=macswap
apid=$VPCI_LAST_PID
need "$name: vpci server testpmd forwards" "$a" vpci_wait_log "$a" 'forwards packets' 20
need "$name: the proxy listens" "$pl" vpci_proxy "$pl" "$fe" "$sock"
ppid=$VPCI_LAST_PID
start_virtio "${VPCI_PFX}-rs-b" "$fe" "" "$c" --forward-mode=io --tx-first
cpid=$VPCI_LAST_PID
check_wait "$name: traffic between a front-end and the vpci server through the proxy" \
	"$c" wait_for $wait_s rx_at_least "$c" 1000
closed=$(count_of "$pl" ': closed$')
reap "$apid"
# The proxy logs "conn N: closed" when it has let the dead server go.
let_go() { [ "$(count_of "$pl" ': closed$')" -gt "$closed" ] && alive "$@"; }
check_wait "$name: proxy survives the server's SIGKILL, closes the session" \
	"$pl" wait_for $wait_s let_go "$ppid"
# The old front-end is a stock client: it stays down (see B).
vpci_kill "$cpid"
start_vpci "${VPCI_PFX}-rs-a2" "" "$a2" --forward-mode=macswap
a2pid=$VPCI_LAST_PID
need "$name: restarted vpci server testpmd forwards" "$a2" \
	vpci_wait_log "$a2" 'forwards packets' 20
pktcheck_virtio "$name: the same proxy reaches the restarted server for a new front-end: verified traffic" \
	"$fe" "" "$LOGS/restart-c.pktcheck.log"
check "$name: proxy connected the peer channel once per server ($(count_of "$pl" 'peer channel connected') of 2)" \
	[ "$(count_of "$pl" 'peer channel connected')" -eq 2 ]
check "$name: proxy and restarted server alive, no crash" \
	bash -c "kill -0 $ppid $a2pid && ! grep -qiE 'segmentation|panic|assert' '$pl' '$a' '$a2'"
vpci_cleanup

# ---- D. the proxy and a virtio-user server=1 front-end wait for our
# restarted server. A stock 22.11 virtio-user server=1 port waiting for its
# reconnection never accepts again after one connection closed unused
# (seen with a bare connect()+close(): "Expected valid Vhost FD"), so with
# --frontend-is-server the proxy connects the server first, retrying each
# second until it is back, and only then the front-end. ----
name="fault (server-restart) D"
f=$LOGS/restart-d.frontend.log
pl=$LOGS/restart-d.proxy.log
a=$LOGS/restart-d.vpci.log
VPCI_SOCKETS="$sock $fe"
# Server, then the proxy, then the front-end: virtio-user server=1 blocks
# in its probe until the proxy connects, and the proxy needs the server.
start_vpci "${VPCI_PFX}-rs-a" "" "$a" --forward-mode=txonly --txpkts=$size
apid=$VPCI_LAST_PID
need "$name: vpci server testpmd forwards" "$a" vpci_wait_log "$a" 'forwards packets' 20
vpci_bg "$pl" "" "$CLIENT" --frontend "$fe" --server "$sock" --frontend-is-server
ppid=$VPCI_LAST_PID
start_virtio "${VPCI_PFX}-rs-f" "$fe" ",server=1" "$f" --forward-mode=macswap
fpid=$VPCI_LAST_PID
check_wait "$name: traffic through the proxy to a virtio-user server=1 front-end" \
	"$f" wait_for $wait_s rx_at_least "$f" 1000
closed=$(count_of "$pl" ': closed$')
reap "$apid"
check_wait "$name: proxy and front-end survive the server's SIGKILL" \
	"$pl" wait_for $wait_s let_go "$ppid" "$fpid"
start_pktcheck_vpci "$LOGS/restart-d.pktcheck.log"
q=$VPCI_LAST_PID
wait "$q"
# The front-end kept its rings across the restart and, like any
# virtio-user, sends base 0: the PMD continues from its used index (as
# librte_vhost does). Entries still posted from before come through first
# (pktcheck's "other"), and the front-end may drop a ring's worth of frames
# on TX while its ring still holds them: up to 256 missing, none bad.
dl=$LOGS/restart-d.pktcheck.log
read -r sent recv bad dup miss <<< "$(sed -n 's/^pktcheck: sent=\([0-9]*\) received=\([0-9]*\) bad=\([0-9]*\) dup=\([0-9]*\) missing=\([0-9]*\).*/\1 \2 \3 \4 \5/p' "$dl")"
if [ "${sent:-0}" -eq "$count" ] && [ "${bad:-1}" -eq 0 ] &&
		[ "${dup:-1}" -eq 0 ] && [ "${miss:-$count}" -le 256 ] &&
		grep -q 'continuing from the ring' "$dl"; then
	ok "$name: proxy and front-end reconnect by themselves to the restarted server, which continues from the front-end's used index: $recv of $sent frames back intact, $miss missing (<= 256), 0 bad"
else
	not_ok "$name: proxy and front-end reconnect by themselves to the restarted server" \
		"$(grep -E '^pktcheck:|continuing' "$dl" | tail -3 | tr '\n' ' ')(log $dl)"
fi
check "$name: proxy and front-end alive, no crash" \
	bash -c "kill -0 $ppid $fpid && ! grep -qiE 'segmentation|panic|assert' '$f' '$pl' '$a'"
