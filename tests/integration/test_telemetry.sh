#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Telemetry, read the way users read it: stock dpdk-telemetry.py and our
# usertools/dpdk-vhost-pci.py against a testpmd with three net_vhost_pci
# ports, one on a socket of its own with a direct v1 front-end (copying),
# two sharing a socket (zero-copy) with v2 front-ends behind dpdk-vhost-pci-client
# (pinned UUIDs). Every field is checked against what the set-up implies;
# then the v1 front-end leaves and the replies must say so.
. "$(dirname "$0")/lib.sh"

TOOL="$VPCI_TOP/usertools/dpdk-vhost-pci.py"
s1=$VPCI_RUN/t-tel-1.sock
s2=$VPCI_RUN/t-tel-2.sock
fe1=$VPCI_RUN/t-tel-fe1.sock
fe2=$VPCI_RUN/t-tel-fe2.sock
U1=11111111-2222-4333-8444-555555555555
U2=66666666-7777-4888-9999-aaaaaaaaaaaa
pa=${VPCI_PFX}-tl-a
pb=${VPCI_PFX}-tl-b
a=$LOGS/telemetry.vpci.log
b=$LOGS/telemetry.fe.log
VPCI_SOCKETS="$VPCI_SOCKETS $s1 $s2"

# shellcheck disable=SC2086
vpci_bg "$a" "$pa" "$TESTPMD" -l 0-1 --file-prefix="$pa" $VPCI_EAL_MEM \
	--no-pci -d "$VPCI_PMD" \
	--vdev "net_vhost_pci0,path=$s1,zero_copy=0" \
	--vdev "net_vhost_pci1,path=$s2,zc_min_len=0" \
	--vdev "net_vhost_pci2,path=$s2" -- \
	--forward-mode=io --port-topology=loop --auto-start --stats-period 1
need "telemetry: testpmd starts" "$a" vpci_wait_log "$a" 'forwards packets' 20 || exit 1
need "telemetry: proxy 1 listens" "$LOGS/telemetry.proxy1.log" \
	vpci_proxy "$LOGS/telemetry.proxy1.log" "$fe1" "$s2" --uuid $U1 || exit 1
need "telemetry: proxy 2 listens" "$LOGS/telemetry.proxy2.log" \
	vpci_proxy "$LOGS/telemetry.proxy2.log" "$fe2" "$s2" --uuid $U2 || exit 1
# shellcheck disable=SC2086
vpci_bg "$b" "$pb" "$TESTPMD" -l 0-1 --main-lcore 1 --file-prefix="$pb" \
	$VPCI_EAL_MEM --no-pci --single-file-segments \
	--vdev "net_virtio_user0,path=$s1" --vdev "net_virtio_user1,path=$fe1" \
	--vdev "net_virtio_user2,path=$fe2" -- \
	--forward-mode=io --port-topology=loop --auto-start --tx-first \
	--stats-period 1
pb_pid=$VPCI_LAST_PID
need "telemetry: three front-ends attach" "$a" wait_count "$a" 'device ready' 3 30 || exit 1
# Until each port has received packets (the checks below want them).
need "telemetry: traffic on the three ports" "$a" tel_wait 30 "$pa" \
	"all(q('/vhost_pci/port,%d' % i)['queues']['rxq0']['packets'] > 0 for i in range(3))" ||
	exit 1

# Stock dpdk-telemetry.py, commands on stdin: one JSON reply per line.
stock() {
	printf '%s\n' "$@" | timeout 20 dpdk-telemetry.py -f "$pa" 2>&1
}
# judge OUT PY: run the Python checks in PY on the replies in OUT (a list
# "r" in command order); it prints "ok" or what is wrong.
judge() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
r = [list(x.values())[0] for x in r]
def entries(d):
    return [d[k] for k in sorted(d, key=int)]
try:
    exec(open(sys.argv[2]).read())
    print("ok")
except AssertionError as e:
    print("wrong: %s" % e)
except Exception as e:
    print("error: %r" % e)
EOF
}
# verdict NAME OUT CHECKS: ok/not ok from judge, CHECKS as Python text.
verdict() {
	local name=$1 out=$2 res
	printf '%s\n' "$3" > "$out.py"
	res=$(judge "$out" "$out.py")
	if [ "$res" = ok ]; then ok "$name"; else not_ok "$name" "$res; see $out"; fi
}

out=$LOGS/telemetry.stock.json
stock /vhost_pci/servers /vhost_pci/connections /vhost_pci/ports \
	/vhost_pci/port,0 /vhost_pci/port,1 /vhost_pci/port,2 /vhost_pci/port,9 \
	> "$out"
verdict "telemetry: dpdk-telemetry.py /vhost_pci/servers: 2 sockets, 1 and 2 clients" "$out" "
s = entries(r[0])
assert [x['path'] for x in s] == ['$s1', '$s2'], s
assert [x['clients'] for x in s] == [1, 2], s
assert all(x['mode'] == 'server' and x['max_clients'] == 64 for x in s), s
"
verdict "telemetry: /vhost_pci/connections: v1 on port 0, v2 with the proxies' UUIDs and GSIs on ports 1-2" "$out" "
c = entries(r[1])
assert len(c) == 3, c
v1 = [x for x in c if x['path'] == '$s1']
v2 = sorted([x for x in c if x['path'] == '$s2'], key=lambda x: x['port_id'])
assert len(v1) == 1 and v1[0]['version'] == 1 and v1[0]['port_id'] == 0, v1
assert v1[0]['peer_uuid'] == '' and v1[0]['dev_type'] == 'none', v1
assert [x['version'] for x in v2] == [2, 2], v2
assert [x['port_id'] for x in v2] == [1, 2], v2
assert sorted(x['peer_uuid'] for x in v2) == ['$U1', '$U2'], v2
assert all(x['dev_type'] == 'net' and x['gsi'] == [100] for x in v2), v2
assert all(x['state'] == 'attached' and x['queue_pairs'] == 1 for x in c), c
assert len(set(x['conn_id'] for x in v2)) == 2, v2
"
verdict "telemetry: /vhost_pci/ports lists ports 0, 1 and 2" "$out" "
assert r[2] == [0, 1, 2], r[2]
"
verdict "telemetry: /vhost_pci/port,<id>: BAR, regions inside it, queues, zero-copy on ports 1-2" "$out" "
c = entries(r[1])
for i in (0, 1, 2):
    p = r[3 + i]
    assert p['port_id'] == i and p['name'] == 'net_vhost_pci%d' % i, p
    assert p['connected'] == 1, p
    conn = [x for x in c if x['port_id'] == i][0]
    assert p['conn_id'] == conn['conn_id'] and p['version'] == conn['version'], p
    assert p['meta_size'] == 4096 and p['bar_size'] > 4096, p
    regs = entries(p['regions'])
    assert len(regs) >= 1, p
    for g in regs:
        assert g['bar_offset'] >= 4096 and g['bar_offset'] + g['size'] <= p['bar_size'], g
    q = p['queues']
    assert q['rxq0']['ready'] == 1 and q['txq0']['ready'] == 1, q
    assert q['rxq0']['ring_size'] == 256 and q['rxq0']['packets'] > 0, q
    assert q['rxq0']['zero_copy'] == p['zero_copy'] == (0 if i == 0 else 1), q
    assert 0 <= q['rxq0']['zc_in_flight'] <= 256, q
assert [r[3 + i]['zc_min_len'] for i in (0, 1, 2)] == [512, 0, 512]
"
verdict "telemetry: /vhost_pci/port,9 (no such port) is refused" "$out" "
assert len(r) == 7 and r[6] is None, r[6:]
"

# Our tool: the same data, as JSON and as tables.
tj=$LOGS/telemetry.tool.json
tt=$LOGS/telemetry.tool.txt
python3 "$TOOL" -f "$pa" --json > "$tj" 2>&1
python3 "$TOOL" -f "$pa" > "$tt" 2>&1
verdict "telemetry: dpdk-vhost-pci.py --json agrees with dpdk-telemetry.py" "$out" "
t = json.load(open('$tj'))
c = entries(r[1])
assert [x['path'] for x in t['servers']] == ['$s1', '$s2'], t['servers']
assert sorted(x['conn_id'] for x in t['connections']) == sorted(x['conn_id'] for x in c)
assert [p['port_id'] for p in t['ports']] == [0, 1, 2], t['ports']
assert [p['regions'] for p in t['ports']] == [r[3]['regions'], r[4]['regions'], r[5]['regions']]
"
port1_conn=$(python3 -c "import json; print([c['conn_id'] for c in json.load(open('$tj'))['connections'] if c['port_id'] == 1][0])" 2>/dev/null)
if grep -q '^Servers' "$tt" && grep -q '^Connections' "$tt" && grep -q '^Ports' "$tt" &&
		grep -qE "^  $s2 +server +2 +64 +1$" "$tt" &&
		grep -qE "^  $s2 +${port1_conn:-x} +2 +attached +net +($U1|$U2) +100 +1 +1$" "$tt" &&
		grep -qE "^  0 +net_vhost_pci0 +$s1 +[0-9]+ +0x[0-9a-f]+ +[0-9]+ +rxq0 ring 256, txq0 ring 256$" "$tt" &&
		grep -qE "^  1 +net_vhost_pci1 +$s2 +[0-9]+ +0x[0-9a-f]+ +[0-9]+ +rxq0 ring 256 zc [0-9]+, txq0 ring 256$" "$tt"; then
	ok "telemetry: dpdk-vhost-pci.py prints the servers, connections and ports tables"
else
	not_ok "telemetry: dpdk-vhost-pci.py tables" "see $tt"
fi

# The ports' per-queue xstats through the tool (/ethdev/xstats). The
# front-ends loop testpmd's --tx-first burst: 64-byte unicast frames only.
txs=$LOGS/telemetry.tool.xstats.json
python3 "$TOOL" -f "$pa" --xstats --json > "$txs" 2>&1
python3 "$TOOL" -f "$pa" --xstats > "$txs.txt" 2>&1
verdict "telemetry: dpdk-vhost-pci.py --xstats: each port's queues have net_vhost's xstats; all traffic in size_64, none multicast, broadcast or dropped; no lent mbufs on the copying port 0" "$out" "
x = json.load(open('$txs'))['xstats']
assert sorted(x) == ['0', '1', '2'], sorted(x)
zero = ['undersize_packets', 'size_65_127_packets', 'size_128_255_packets',
        'size_256_511_packets', 'size_512_1023_packets',
        'size_1024_1518_packets', 'size_1519_max_packets',
        'multicast_packets', 'broadcast_packets']
for p, q in sorted(x.items()):
    assert len([k for k in q if k.startswith('rx_q0_')]) == 17, (p, sorted(q))
    assert len([k for k in q if k.startswith('tx_q0_')]) == 15, (p, sorted(q))
    for d in ('rx', 'tx'):
        assert q[d + '_q0_good_packets'] > 0, (p, q)
        assert q[d + '_q0_size_64_packets'] > 0, (p, q)
        assert all(q['%s_q0_%s' % (d, k)] == 0 for k in zero), (p, q)
    assert q['tx_q0_errors'] == 0 and q['rx_q0_mbuf_allocation_errors'] == 0, (p, q)
assert x['0']['rx_q0_zero_copy_in_flight'] == 0, x['0']
"
check "telemetry: dpdk-vhost-pci.py --xstats prints a queue xstats table" \
	grep -qE '^  1 +rxq0 +[0-9]+ +[0-9]+ +0 +0 +0 +[0-9]+$' "$txs.txt"

# The v1 front-end leaves (its testpmd, with the two v2 ones): the replies
# follow. The proxies stay connected to the server, detached.
vpci_kill "$pb_pid"
# Until the server has let them go, as telemetry tells.
name="telemetry: after the front-ends leave, socket 1 has no client and port 0 is not connected"
if need "$name" "$a" tel_wait 30 "$pa" "q('/vhost_pci/servers')['0']['clients'] == 0 and
		all(x['path'] != '$s1' and x['port_id'] == -1 and x['state'] != 'attached'
		    for x in q('/vhost_pci/connections').values()) and
		q('/vhost_pci/port,0')['connected'] == 0"; then
	out2=$LOGS/telemetry.after.json
	stock /vhost_pci/servers /vhost_pci/connections /vhost_pci/port,0 > "$out2"
	verdict "$name" "$out2" "
s = entries(r[0])
assert s[0]['clients'] == 0, s
assert not any(x['path'] == '$s1' for x in entries(r[1])), r[1]
assert all(x['port_id'] == -1 and x['state'] != 'attached' for x in entries(r[1])), r[1]
assert r[2]['connected'] == 0 and 'bar_size' not in r[2], r[2]
"
fi
if python3 "$TOOL" -f "${VPCI_PFX}-tl-none" > "$LOGS/telemetry.none.txt" 2>&1; then
	not_ok "telemetry: dpdk-vhost-pci.py fails on a prefix with no application" "exit 0"
else
	check "telemetry: dpdk-vhost-pci.py fails on a prefix with no application" \
		grep -q 'cannot connect to' "$LOGS/telemetry.none.txt"
fi
