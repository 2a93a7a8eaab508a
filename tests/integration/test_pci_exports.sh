#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# PCI mode with two exports from one daemon into one VM. dpdk-vhost-pci-device
# --exports 2 takes two front-ends on one socket: front-end 1 is
# dpdk-vpci-pktcheck on net_virtio_user straight on the socket (vhost-user
# v1); front-end 2 is stock dpdk-testpmd on net_virtio_user behind
# dpdk-vhost-pci-client (the v2 extension, with a sender UUID), swapping
# MACs. Each becomes a vhost-pci device (metadata at 0x10 and 0x14, memory
# right after) in one QEMU guest, where stock dpdk-testpmd probes
# net_vhost_pci on both and io-forwards port 0 <-> port 1. pktcheck's
# frames go into the guest's first port, out of its second to front-end 2,
# which swaps the MACs (the only MAC change on the path: io forwarding
# leaves them alone) and sends them back the same way: pktcheck expects
# them swapped once (--expect macswap) and checks every byte. Under TCG
# with one vCPU: 30 to 45 s on a 2-core machine (bounded waits: at most
# about 5 minutes when something hangs).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pci_lib.sh"

T=pci-exports
U2=11111111-2222-4333-8444-555555555555
COUNT=3000
SIZE=1000

need_memory_files "$T" "the front-ends' memory must be files"
build_guest "$T" "$LOGS/px-guest-build.log"

sock=$VPCI_RUN/t-px.sock
db=$VPCI_RUN/t-px-db.sock
fe2sock=$VPCI_RUN/t-px-fe2.sock
args=$VPCI_RUN/t-px.qemu-args
go=$VPCI_RUN/t-px.go
gscript=$VPCI_RUN/t-px.guest.sh
glog=$VPCI_RUN/guest/t-px.log
dlog=$LOGS/px-device.log
flog=$LOGS/px-fe1.log
plog=$LOGS/px-proxy.log
tlog=$LOGS/px-fe2.log
pfx1=${VPCI_PFX}-t-px-fe1
pfx2=${VPCI_PFX}-t-px-fe2
rm -f "$args" "$go" "$glog" "$gscript"
VPCI_SOCKETS="$VPCI_SOCKETS $sock $db"

qemu_pid=""
dev_pid=""
fe1_pid=""
proxy_pid=""
fe2_pid=""
stop_guest() { stop_qemu "$qemu_pid"; qemu_pid=""; }
cleanup() {
	local p
	# The VM maps the front-ends' memory through the daemon's fds: it
	# goes first; then the front-ends, then the daemon (vpci_cleanup
	# would take them in start order, the daemon first).
	stop_guest
	for p in $fe2_pid $proxy_pid $fe1_pid $dev_pid; do
		vpci_kill "$p"
	done
	vpci_cleanup
	rm -f "$args" "$args.tmp" "$go" "$gscript"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the daemon ----
start_device "$T: the device daemon listens" "$dlog" "$sock" "$db" "$args" \
	--exports 2
dev_pid=$VPCI_LAST_PID

# ---- front-end 1: pktcheck, vhost-user v1 ----
# It is started (and ready) before front-end 2, so it takes export 0.
# --huge-unlink=never: its memory file stays a file (cleanup removes it).
# shellcheck disable=SC2086
vpci_bg "$flog" "$pfx1" timeout 330 "$PKTCHECK" -l 0 \
	--file-prefix="$pfx1" -m 512 --no-pci --single-file-segments \
	--huge-unlink=never --vdev "net_virtio_user0,path=$sock" -- \
	--expect macswap --timeout 300 --window 64 --start-file "$go" \
	--count $COUNT --size $SIZE
fe1_pid=$VPCI_LAST_PID
if alive_wait 30 "$fe1_pid $dev_pid" has "$dlog" '^qemu-args 0: '; then
	ok "$T: front-end 1 (v1) ready: the daemon prints export 0's QEMU arguments"
else
	not_ok "$T: front-end 1 (v1) ready: the daemon prints export 0's QEMU arguments" \
		"daemon: $(tail_of "$dlog" 3) fe1: $(tail_of "$flog" 3)"
	exit 1
fi

# ---- front-end 2: stock testpmd behind dpdk-vhost-pci-client (v2) ----
if ! vpci_proxy "$plog" "$fe2sock" "$sock" --uuid "$U2"; then
	not_ok "$T: dpdk-vhost-pci-client listens for front-end 2" "$(tail_of "$plog" 3)"
	exit 1
fi
proxy_pid=$VPCI_LAST_PID
# --stats-period: without it testpmd waits for a key on stdin, which is
# /dev/null. Lcore 0 forwards.
vpci_bg "$tlog" "$pfx2" "$TESTPMD" -l 0-1 --main-lcore 1 \
	--file-prefix="$pfx2" -m 512 --no-pci --single-file-segments \
	--vdev "net_virtio_user0,path=$fe2sock" -- \
	--forward-mode=macswap --auto-start --stats-period 5
fe2_pid=$VPCI_LAST_PID
if alive_wait 30 "$fe2_pid $proxy_pid $dev_pid" has "$dlog" '^qemu-args 1: '; then
	ok "$T: front-end 2 (v2, through the client) ready: the daemon prints export 1's QEMU arguments"
else
	not_ok "$T: front-end 2 (v2, through the client) ready: the daemon prints export 1's QEMU arguments" \
		"daemon: $(tail_of "$dlog" 3) proxy: $(tail_of "$plog" 3) fe2: $(tail_of "$tlog" 3)"
	exit 1
fi
t_args=$(elapsed)
check "$T: the daemon exported the v1 connection as device 0 and the v2 one as device 1" \
	sh -c "grep -qE 'connection [0-9]+ \(v1\) exported as vhost-pci device 0, 1 memory device' '$dlog' &&
		grep -qE 'connection [0-9]+ \(v2\) exported as vhost-pci device 1, 1 memory device' '$dlog'"

# The VM needs every export's arguments: the stdout lines, in export order.
qargs=$(sed -n 's/^qemu-args 0: //p' "$dlog" | tail -n1)
qargs="$qargs $(sed -n 's/^qemu-args 1: //p' "$dlog" | tail -n1)"
echo "$qargs" > "$LOGS/px-qemu-args"
# For the record only: the --qemu-args file is written at each export;
# the test takes the stdout lines, whatever the file keeps.
alive_wait 2 "$dev_pid" [ -s "$args" ] && cp "$args" "$LOGS/px-qemu-args.file"
echo "# the --qemu-args file names metadata devices at: $(grep -oE 'ivshmem-doorbell,[^ ]*addr=0x[0-9a-f]+' "$args" 2> /dev/null | sed 's/.*addr=//' | tr '\n' ' ')"
# export_re E META MEM: export E's arguments, a regex.
export_re() {
	echo "-chardev socket,id=vpci$1db,path=$db -device ivshmem-doorbell,chardev=vpci$1db,vectors=2,addr=$2 -object memory-backend-file,id=vpci$1m0,mem-path=/proc/$dev_pid/fd/[0-9]+,size=536870912,share=on -device ivshmem-plain,memdev=vpci$1m0,addr=$3"
}
re0=$(export_re 0 0x10 0x11)
re1=$(export_re 1 0x14 0x15)
if echo "$qargs" | grep -qE "^$re0 $re1\$"; then
	ok "$T: QEMU arguments: metadata devices at 0x10 and 0x14, one 536870912-byte memory device each at 0x11 and 0x15"
else
	not_ok "$T: QEMU arguments: metadata devices at 0x10 and 0x14, one 536870912-byte memory device each at 0x11 and 0x15" "$qargs"
fi

# ---- the VM ----
cat > "$gscript" << 'EOF'
devs=$(lspci -D -n -d 1af4:1110 | awk '{print $1}')
echo "FUNCTIONS: $(echo $devs)"
# shellcheck disable=SC2086
dpdk-devbind.py -b uio_pci_generic $devs || echo "BIND-FAILED"
dpdk-devbind.py --status-dev net
echo "== testpmd"
dpdk-testpmd --lcores=0,1@0 -m 256 --log-level=pmd.net.vhost_pci:info -- \
	--forward-mode=io --auto-start --stats-period 5 --no-mlockall \
	--total-num-mbufs=16384
EOF
# Two 512 MiB BARs sit in the 64-bit PCI window, not in the guest's RAM.
# shellcheck disable=SC2086
qemu_pid=$(bash "$VPCI_TOP/devtools/guest.sh" run --background --name t-px \
	--timeout 240 --script "$gscript" -- $qargs)
if [ -z "$qemu_pid" ]; then
	not_ok "$T: the VM starts" "guest.sh printed no pid"
	exit 1
fi

pids="$qemu_pid $dev_pid $fe1_pid $fe2_pid $proxy_pid"
# at_least FILE REGEX N: FILE has at least N lines matching.
at_least() { [ "$(count_of "$1" "$2")" -ge "$3" ]; }
if alive_wait 120 "$pids" at_least "$glog" 'peer connected' 2; then
	ok "$T: the guest's testpmd attaches both ports to their peers"
else
	not_ok "$T: the guest's testpmd attaches both ports to their peers" \
		"guest: $(tail_of "$glog" 6) daemon: $(tail_of "$dlog" 3)"
	exit 1
fi
t_peer=$(elapsed)

# The console may put the script's first line after the firmware's text.
if has "$glog" 'FUNCTIONS: 0000:00:10.0 0000:00:11.0 0000:00:14.0 0000:00:15.0$' &&
		[ "$(clean "$glog" | grep -cE '^0000:00:1[0145].0 .*drv=uio_pci_generic')" -eq 4 ] &&
		! has "$glog" BIND-FAILED; then
	ok "$T: the guest sees four 1af4:1110 functions (two metadata, two memory) and binds them"
else
	not_ok "$T: the guest sees four 1af4:1110 functions (two metadata, two memory) and binds them" \
		"$(clean "$glog" | grep -E 'FUNCTIONS|BIND-FAILED|^0000:' | tr '\n' '|')"
fi
if has "$glog" 'Probe PCI driver: net_vhost_pci_ivshmem \(1af4:1110\) device: 0000:00:10.0' &&
		has "$glog" 'Probe PCI driver: net_vhost_pci_ivshmem \(1af4:1110\) device: 0000:00:14.0' &&
		has "$glog" '0000:00:10.0: port 0 on a vhost-pci device' &&
		has "$glog" '0000:00:14.0: port 1 on a vhost-pci device' &&
		[ "$(count_of "$glog" 'on a vhost-pci device')" -eq 2 ]; then
	ok "$T: two metadata devices probed (0000:00:10.0, 0000:00:14.0), two ports (0, 1); the memory devices make none"
else
	not_ok "$T: two metadata devices probed (0000:00:10.0, 0000:00:14.0), two ports (0, 1); the memory devices make none" \
		"$(clean "$glog" | grep -E 'Probe PCI driver|on a vhost-pci device' | tr '\n' '|')"
fi
peers=$(clean "$glog" | grep 'peer connected' | tr '\n' '|')
if has "$glog" 'port 0: peer connected on 0000:00:10.0: v1, conn_id [0-9]+, peer uuid none, features 0x[0-9a-f]+$' &&
		has "$glog" "port 1: peer connected on 0000:00:14.0: v2, conn_id [0-9]+, peer uuid $U2, features 0x[0-9a-f]+\$"; then
	ok "$T: port 0 is front-end 1 over v1 (no uuid), port 1 front-end 2 over v2 with peer uuid $U2"
else
	not_ok "$T: port 0 is front-end 1 over v1 (no uuid), port 1 front-end 2 over v2 with peer uuid $U2" "$peers"
fi

# ---- the traffic ----
# testpmd drops what its ports hold when forwarding starts (its RX flush),
# then prints the burst size: only then may pktcheck send.
if ! alive_wait 30 "$qemu_pid" has "$glog" 'io packet forwarding packets/burst='; then
	not_ok "$T: the guest's testpmd starts forwarding" "$(tail_of "$glog" 6)"
fi
touch "$go"
t_go=$(elapsed)
ms_go=$(date +%s%3N)
# A frame takes four trips through the guest: bounded, pktcheck is
# interrupted (and prints its summary) if it is still at it.
gone() { ! kill -0 "$1" 2> /dev/null; }
wait_for 60 gone "$fe1_pid" || vpci_kill "$fe1_pid"
wait "$fe1_pid"
fe1_rc=$?
fe1_pid=""
t_done=$(elapsed)
ms_traffic=$(($(date +%s%3N) - ms_go))
if pktcheck_passed "$flog"; then
	ok "$T: $COUNT frames of $SIZE B: guest port 0 -> port 1 -> front-end 2 (macswap) -> port 1 -> port 0, every byte back intact"
else
	not_ok "$T: $COUNT frames of $SIZE B: guest port 0 -> port 1 -> front-end 2 (macswap) -> port 1 -> port 0, every byte back intact" \
		"rc $fe1_rc: $(grep '^pktcheck:' "$flog" | tail -n4 | tr '\n' ' ')"
fi

# The guest's counters: the next stats block shows both ports carried it.
nblocks=$(count_of "$glog" 'NIC statistics for port 1')
alive_wait 8 "$qemu_pid" at_least "$glog" 'NIC statistics for port 1' $((nblocks + 1)) || true
read -r rx0 tx0 rx1 tx1 <<< "$(clean "$glog" | awk '
	/NIC statistics for port/ {p = $(NF - 1)}
	/RX-packets:/ && /RX-missed:/ {rx[p] = $2}
	/TX-packets:/ && /TX-errors:/ {tx[p] = $2}
	END {print rx[0] + 0, tx[0] + 0, rx[1] + 0, tx[1] + 0}')"
if [ "$rx0" -ge "$COUNT" ] && [ "$tx1" -ge "$COUNT" ] && [ "$rx1" -ge "$COUNT" ] &&
		[ "$tx0" -ge "$COUNT" ]; then
	ok "$T: the guest's ports counted both ways: port 0 RX $rx0 TX $tx0, port 1 RX $rx1 TX $tx1"
else
	not_ok "$T: the guest's ports counted both ways (each at least $COUNT)" \
		"port 0 RX $rx0 TX $tx0, port 1 RX $rx1 TX $tx1"
fi

# ---- nothing crashed ----
bad='Segmentation fault|Kernel panic|Oops|BUG:|general protection|Aborted|core dumped|PANIC|EAL: Error|qemu-system-x86_64: |guest.sh: timed out|GUEST-RESULT'
gbad=$(clean "$glog" | grep -E "$bad" | head -n3 | tr '\n' '|')
hbad=$(grep -hE 'Segmentation fault|Aborted|core dumped|PANIC' "$dlog" "$tlog" "$plog" "$flog" 2> /dev/null | head -n3 | tr '\n' '|')
if [ -z "$gbad" ] && [ -z "$hbad" ] && kill -0 "$qemu_pid" 2> /dev/null &&
		kill -0 "$dev_pid" 2> /dev/null && kill -0 "$fe2_pid" 2> /dev/null &&
		kill -0 "$proxy_pid" 2> /dev/null; then
	ok "$T: no crash or panic: the guest's testpmd, the daemon, the client and front-end 2 still run"
else
	not_ok "$T: no crash or panic: the guest's testpmd, the daemon, the client and front-end 2 still run" \
		"guest: $gbad host: $hbad daemon: $(tail_of "$dlog" 2)"
fi
echo "# timings: arguments at ${t_args}s, both ports attached at ${t_peer}s, traffic ${t_go}s to ${t_done}s (${ms_traffic} ms), total $(elapsed)s"
