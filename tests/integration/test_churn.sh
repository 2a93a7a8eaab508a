#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Connection churn on a live server socket: while verified traffic crosses
# two net_vhost_pci ports (the inter-VM set-up of test_intervm.sh), vpci_churn
# connects 64 v2 clients, checks their conn_ids and closes them, 10 times.
# The churn clients never bring a device up: the server must accept and
# close them without touching the two real ports, and without leaking fds.
. "$(dirname "$0")/lib.sh"

CHURN="$VPCI_BUILD/tests/vpci_churn"
sock=$VPCI_RUN/t-churn.sock
fe1=$VPCI_RUN/t-churn-fe1.sock
fe2=$VPCI_RUN/t-churn-fe2.sock
a=$LOGS/churn.vpci.log
b=$LOGS/churn.fe2-macswap.log
p=$LOGS/churn.pktcheck.log
ch=$LOGS/churn.churn.log
rounds=10
clients=64
# Enough to outlast the churn and the settling time after it.
count=${CHURN_PKTS:-200000}
size=512

fd_count() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }

# The vhost-pci side: two ports on one socket, io between them (lcore 1);
# room for 64 churning clients besides the two real ones.
VPCI_SOCKETS="$sock"
# shellcheck disable=SC2086
vpci_bg "$a" ${VPCI_PFX}-ch-a "$TESTPMD" -l 0-1 --file-prefix=${VPCI_PFX}-ch-a \
	$VPCI_EAL_MEM --no-pci -d "$VPCI_PMD" \
	--vdev "net_vhost_pci0,path=$sock,max_clients=128" \
	--vdev "net_vhost_pci1,path=$sock" \
	--log-level=pmd.net.vhost_pci:info -- \
	--forward-mode=io --auto-start --stats-period 2
apid=$VPCI_LAST_PID
need "churn: vpci testpmd forwards" "$a" vpci_wait_log "$a" 'forwards packets' 20 || exit 1
need "churn: proxy 1 listens" "$LOGS/churn.proxy1.log" \
	vpci_proxy "$LOGS/churn.proxy1.log" "$fe1" "$sock" || exit 1
need "churn: proxy 2 listens" "$LOGS/churn.proxy2.log" \
	vpci_proxy "$LOGS/churn.proxy2.log" "$fe2" "$sock" || exit 1

# Front-end 2: testpmd swapping MACs (lcore 0).
# shellcheck disable=SC2086
vpci_bg "$b" ${VPCI_PFX}-ch-f2 "$TESTPMD" -l 0-1 --main-lcore 1 \
	--file-prefix=${VPCI_PFX}-ch-f2 $VPCI_EAL_MEM --no-pci --single-file-segments \
	--vdev "net_virtio_user0,path=$fe2" -- \
	--forward-mode=macswap --auto-start --stats-period 1
need "churn: front-end 2 attaches" "$a" wait_count "$a" 'peer connected' 1 20 || exit 1
# Front-end 1: pktcheck, verifying every frame that comes back (lcore 0).
# shellcheck disable=SC2086
vpci_bg "$p" ${VPCI_PFX}-ch-f1 timeout 300 "$PKTCHECK" -l 0 \
	--file-prefix=${VPCI_PFX}-ch-f1 $VPCI_EAL_MEM --no-pci --single-file-segments \
	--vdev "net_virtio_user0,path=$fe1" -- \
	--count "$count" --size $size --expect macswap --timeout 240 \
	--window "$(window_for $size)" --settle-ms 1000
ppid=$VPCI_LAST_PID
if wait_count "$a" 'peer connected' 2 20; then
	ok "churn-both-ports-attached"
else
	not_ok "churn-both-ports-attached" "$(grep -E 'peer connected|ERR|error' "$a" | tr '\n' ' ')"
fi
# pktcheck waits 1 s after link up: until front-end 2 has swapped 1000 of
# its frames, which crossed both ports.
if wait_for 60 rx_at_least "$b" 1000 && kill -0 "$ppid" 2>/dev/null; then
	ok "churn-traffic-running-before-churn"
else
	not_ok "churn-traffic-running-before-churn" \
		"front-end 2 received $(rx_total "$b") packets in 60 s (want 1000), pktcheck running: $(kill -0 "$ppid" 2>/dev/null && echo yes || echo no)"
	log_tail "$b"
	log_tail "$p"
fi

fd_before=$(fd_count "$apid")
att_before=$(count_of "$a" 'peer connected')
gone_before=$(count_of "$a" 'peer gone')
new_before=$(count_of "$a" 'new connection [0-9]+$')
closed_before=$(count_of "$a" 'connection [0-9]+ closed$')
t0=$(date +%s%N)
timeout 120 "$CHURN" "$sock" $rounds $clients > "$ch" 2>&1
rc=$?
t1=$(date +%s%N)
# Until the server has closed every churn connection, and its fds are back
# to where they were (a leak never gets there).
closed_all=$((closed_before + rounds * clients))
wait_count "$a" 'connection [0-9]+ closed$' $closed_all 30
closed_in_time=$?
fds_back() { [ "$(fd_count "$apid")" -eq "$fd_before" ]; }
wait_for 30 fds_back
fds_in_time=$?
fd_after=$(fd_count "$apid")
running_after=0
kill -0 "$ppid" 2>/dev/null && running_after=1
ms=$(( (t1 - t0) / 1000000 ))

check "churn-exits-0 (status $rc, $ms ms)" [ "$rc" -eq 0 ]
want="churn: rounds=$rounds clients=$clients ids=$((rounds * clients)) errors=0"
if grep -qx "$want" "$ch"; then ok "churn-reports-$((rounds * clients))-distinct-ids"; else
	not_ok "churn-reports-$((rounds * clients))-distinct-ids" \
		"expected '$want'; got: $(head -c 600 "$ch" | tr '\n' ' ')"; fi

# The server saw and closed every churn connection.
new=$(( $(count_of "$a" 'new connection [0-9]+$') - new_before ))
closed=$(( $(count_of "$a" 'connection [0-9]+ closed$') - closed_before ))
if [ "$closed_in_time" -eq 0 ] && [ "$new" -eq $((rounds * clients)) ] &&
		[ "$closed" -eq "$new" ]; then
	ok "churn-server-accepted-and-closed-all ($new)"
else
	not_ok "churn-server-accepted-and-closed-all" \
		"$((rounds * clients)) churn clients: server logged $new new and $closed closed connections (30 s after the churn)"
	log_tail "$a"
fi

if [ "$running_after" -eq 1 ]; then
	ok "churn-traffic-still-running-when-fds-counted"
else
	not_ok "churn-traffic-still-running-when-fds-counted" \
		"pktcheck ended before the churn settled: raise CHURN_PKTS ($count)"
fi
if [ "$fds_in_time" -eq 0 ] && [ "$fd_before" -gt 0 ] && [ "$fd_after" -eq "$fd_before" ]; then
	ok "churn-vpci-testpmd-fd-count-unchanged ($fd_before)"
else
	not_ok "churn-vpci-testpmd-fd-count-unchanged" \
		"$fd_before fds before the churn, still $fd_after 30 s after it (pid $apid)"
	# shellcheck disable=SC2012 # the fds' targets, for a leak's diagnosis
	ls -l "/proc/$apid/fd" 2>/dev/null | tail -n 20 | sed 's/^/#   /'
fi

# The two real ports were not touched.
att=$(count_of "$a" 'peer connected')
gone=$(count_of "$a" 'peer gone')
if [ "$att" -eq "$att_before" ] && [ "$gone" -eq "$gone_before" ] &&
		! grep -q 'no free port' "$a"; then
	ok "churn-real-ports-undisturbed"
else
	not_ok "churn-real-ports-undisturbed" \
		"attachments $att_before -> $att, detachments $gone_before -> $gone; $(grep -m3 'no free port' "$a" | tr '\n' ' ')"
fi

wait "$ppid"
if pktcheck_passed "$p"; then ok "churn-traffic-passes-verified ($count x ${size}B)"; else
	not_ok "churn-traffic-passes-verified" "$(grep '^pktcheck:' "$p" | tail -3 | tr '\n' ' ')(log $p)"; fi
check "churn-vpci-testpmd-alive" kill -0 "$apid"
check "churn-no-crash-in-vpci-log" \
	bash -c "! grep -qiE 'segmentation|panic|assert' '$a'"
