#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# PCI mode between two VMs, stock software on both sides. VM1 is a QEMU
# guest whose kernel virtio-net driver talks vhost-user to
# dpdk-vhost-pci-device on the host (its RAM is one 512 MiB memfd); the
# daemon exports that front-end to VM2 as a vhost-pci device of stock QEMU
# devices, where stock dpdk-testpmd (net_vhost_pci autoloaded, no --vdev)
# answers ARP and ICMP echo (icmpecho). VM1 pings VM2's port: its requests
# go through its TX ring, read by VM2 out of the memory device's BAR; the
# replies are copied into VM1's RX buffers, and VM2's doorbell writes
# become VM1's call eventfds, i.e. its virtio interrupts. Both guests run
# under TCG with one vCPU; 30 to 45 s on a 2-core machine (bounded waits:
# at most about 4 minutes when something hangs).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pci_lib.sh"

T=pci-two-vms
build_guest "$T" "$LOGS/t-2vm-guest-build.log"

sock=$VPCI_RUN/t-2vm.sock
db=$VPCI_RUN/t-2vm-db.sock
args=$VPCI_RUN/t-2vm.qemu-args
fscript=$VPCI_RUN/t-2vm-fe.guest.sh
pscript=$VPCI_RUN/t-2vm-pci.guest.sh
flog=$VPCI_RUN/guest/t-2vm-fe.log
plog=$VPCI_RUN/guest/t-2vm-pci.log
dlog=$LOGS/t-2vm-device.log
# VM1's address and VM2's (any address: icmpecho answers them all).
# Link-local only.
IP1=169.254.10.1
IP2=169.254.10.2
rm -f "$args" "$flog" "$plog"
VPCI_SOCKETS="$VPCI_SOCKETS $sock $db"

fe_pid=""
pci_pid=""
dev_pid=""
stop_guests() {
	# VM2 first: it maps VM1's memory through the daemon's fds.
	stop_qemu "$pci_pid" "$fe_pid"
	pci_pid=""
	fe_pid=""
}
cleanup() {
	stop_guests
	vpci_cleanup
	rm -f "$args" "$args.tmp" "$fscript" "$pscript"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the daemon ----
start_device "$T: the device daemon listens" "$dlog" "$sock" "$db" "$args"
dev_pid=$VPCI_LAST_PID

# ---- VM1: the front-end ----
cat > "$fscript" << EOF
modprobe virtio_pci
modprobe virtio_net
ifc=""
for i in \$(seq 50); do
	ifc=\$(ls /sys/class/net | grep -v '^lo\$' | head -n1)
	[ -n "\$ifc" ] && break
	sleep 0.1
done
[ -n "\$ifc" ] || { echo "VM1: no network interface"; exit 2; }
ip link set "\$ifc" up
ip addr add $IP1/24 dev "\$ifc"
echo "VM1: \$ifc up, $IP1"
echo "== interrupts before"
grep virtio /proc/interrupts
echo "== end"
n=0
until ping -c 1 -W 1 $IP2 > /dev/null 2>&1; do
	n=\$((n + 1))
	if [ \$n -ge 150 ]; then
		echo "VM1: no reply from $IP2 after \$n tries"
		exit 3
	fi
done
echo "VM1: first reply after \$n unanswered tries"
ping -c 5 -i 0.5 $IP2 > /tmp/ping.out 2>&1
echo "== ping"
cat /tmp/ping.out
echo "== interrupts after"
cat /proc/interrupts
echo "== end"
for f in rx_packets tx_packets rx_dropped tx_dropped; do
	echo "VM1 \$ifc \$f \$(cat /sys/class/net/\$ifc/statistics/\$f)"
done
grep -q ' 5 packets received' /tmp/ping.out
EOF
# -m (guest.sh --mem) must equal the memory backend's size with -numa
# memdev. No hugepages in this guest: it runs no DPDK. vectors=0: INTx,
# which TCG delivers from QEMU's main loop when the call eventfd fires.
# romfile=: no iPXE option ROM for SeaBIOS to run (the kernel boots
# directly).
fe_pid=$(bash "$VPCI_TOP/devtools/guest.sh" run --background --name t-2vm-fe \
	--mem 512 --timeout 200 --append vpci.hugepages=0 --script "$fscript" -- \
	-object memory-backend-memfd,id=mem,size=512M,share=on \
	-numa node,memdev=mem \
	-chardev "socket,id=vu,path=$sock" \
	-netdev vhost-user,id=n0,chardev=vu \
	-device virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01,vectors=0,romfile=)
if [ -z "$fe_pid" ]; then
	not_ok "$T: VM1 (the front-end) starts" "guest.sh printed no pid"
	exit 1
fi

# Its driver up, the daemon prints VM2's arguments.
if alive_wait 60 "$fe_pid $dev_pid" [ -s "$args" ]; then
	ok "$T: VM1's virtio-net comes up over vhost-user: the daemon prints VM2's QEMU arguments"
else
	not_ok "$T: VM1's virtio-net comes up over vhost-user: the daemon prints VM2's QEMU arguments" \
		"daemon: $(tail_of "$dlog" 3) VM1: $(tail_of "$flog" 5)"
	exit 1
fi
t_args=$(elapsed)
nmem=$(grep -o 'memory-backend-file' "$args" | wc -l)
if [ "$nmem" -eq 1 ] && grep -qE "ivshmem-doorbell,chardev=vpci0db,vectors=2,addr=0x10 .*memory-backend-file,id=vpci0m0,mem-path=/proc/$dev_pid/fd/[0-9]+,size=536870912,share=on -device ivshmem-plain,memdev=vpci0m0,addr=0x11" "$args"; then
	ok "$T: QEMU arguments: a doorbell device and exactly one 536870912-byte memory device (VM1's memfd)"
else
	not_ok "$T: QEMU arguments: a doorbell device and exactly one 536870912-byte memory device (VM1's memfd)" \
		"$nmem memory device(s): $(cat "$args")"
fi

# ---- VM2: the vhost-pci device ----
cat > "$pscript" << 'EOF'
for d in $(lspci -D -n -d 1af4:1110 | awk '{print $1}'); do
	dpdk-devbind.py -b uio_pci_generic "$d" || echo "BIND-FAILED $d"
done
dpdk-devbind.py --status-dev net
echo "== testpmd"
dpdk-testpmd --lcores=0,1@0 -m 256 --log-level=pmd.net.vhost_pci:info -- \
	--forward-mode=icmpecho --auto-start --stats-period 5 --no-mlockall \
	--total-num-mbufs=8192
EOF
# shellcheck disable=SC2046
pci_pid=$(bash "$VPCI_TOP/devtools/guest.sh" run --background --name t-2vm-pci \
	--mem 1024 --timeout 200 --script "$pscript" -- $(cat "$args"))
if [ -z "$pci_pid" ]; then
	not_ok "$T: VM2 (the vhost-pci device) starts" "guest.sh printed no pid"
	exit 1
fi

if alive_wait 90 "$pci_pid $fe_pid $dev_pid" has "$plog" 'peer connected'; then
	ok "$T: VM2's testpmd probes net_vhost_pci on the device and attaches to VM1"
else
	not_ok "$T: VM2's testpmd probes net_vhost_pci on the device and attaches to VM1" \
		"VM2: $(tail_of "$plog" 6) daemon: $(tail_of "$dlog" 2)"
	exit 1
fi
t_peer=$(elapsed)

# ---- the pings ----
if alive_wait 60 "$fe_pid" has "$flog" 'GUEST-RESULT: '; then
	t_ping=$(elapsed)
	frc=$(clean "$flog" | sed -n 's/.*GUEST-RESULT: \([0-9]*\)$/\1/p' | tail -n1)
else
	t_ping=$(elapsed)
	frc="none (VM1 gone or still pinging)"
fi
clean "$flog" | sed -n '/^== ping/,/^== interrupts after/p' > "$LOGS/t-2vm-ping.log"
if grep -q '5 packets transmitted, 5 packets received' "$LOGS/t-2vm-ping.log"; then
	ok "$T: VM1 pings VM2's testpmd: 5 packets transmitted, 5 packets received"
else
	not_ok "$T: VM1 pings VM2's testpmd: 5 packets transmitted, 5 packets received" \
		"VM1 result $frc: $(tail_of "$flog" 8) VM2: $(tail_of "$plog" 4)"
fi

# VM1's virtio interrupts (INTx lines naming virtio) before its first ping
# and after the last: VM2's doorbell writes ring VM1's call eventfds.
virtio_irqs() {
	awk '/virtio/ {for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i}
		END {print s + 0}'
}
irq_before=$(clean "$flog" | sed -n '/^== interrupts before/,/^== end/p' | virtio_irqs)
irq_after=$(clean "$flog" | sed -n '/^== interrupts after/,/^== end/p' | virtio_irqs)
if clean "$flog" | grep -q '^== interrupts after' && [ "$irq_after" -gt 0 ] &&
		[ "$irq_after" -gt "$irq_before" ]; then
	ok "$T: VM1's virtio interrupts rose from $irq_before to $irq_after: VM2's doorbell rings VM1"
else
	not_ok "$T: VM1's virtio interrupts rose: VM2's doorbell rings VM1" \
		"before $irq_before, after $irq_after: $(clean "$flog" | grep virtio | tr '\n' '|')"
fi
rx1=$(clean "$flog" | sed -n 's/^VM1 [^ ]* rx_packets \([0-9]*\)$/\1/p')
tx1=$(clean "$flog" | sed -n 's/^VM1 [^ ]* tx_packets \([0-9]*\)$/\1/p')

# VM2's port counters: a stats block (every 5 s) after the ping; the port
# keeps them when the peer leaves. testpmd drops what VM1 queued before
# VM2 came (its RX flush at start): RX exceeds TX.
nblocks=$(count_of "$plog" 'NIC statistics for port 0')
wait_count "$plog" 'NIC statistics for port 0' $((nblocks + 1)) 8 || true
read -r rx2 tx2 <<< "$(clean "$plog" | awk '
	/RX-packets:/ && /RX-missed:/ {rx = $2}
	/TX-packets:/ && /TX-errors:/ {tx = $2}
	END {print rx + 0, tx + 0}')"
if [ "$rx2" -ge 5 ] && [ "$tx2" -ge 5 ]; then
	ok "$T: VM2's port counted the traffic: RX-packets $rx2, TX-packets $tx2 (VM1: rx $rx1, tx $tx1)"
else
	not_ok "$T: VM2's port counted the traffic (RX and TX at least 5 packets)" \
		"RX-packets $rx2, TX-packets $tx2: $(clean "$plog" | grep -E 'RX-packets|TX-packets' | tail -n2 | tr '\n' '|')"
fi

# ---- nothing crashed ----
bad='Segmentation fault|Kernel panic|Oops|BUG:|general protection|Aborted|core dumped|PANIC|EAL: Error|qemu-system-x86_64: |guest.sh: timed out'
if ! clean "$flog" | grep -qE "$bad" && ! clean "$plog" | grep -qE "$bad" &&
		[ "$frc" = 0 ] && ! grep -q 'GUEST-RESULT' "$plog" &&
		kill -0 "$pci_pid" 2> /dev/null && kill -0 "$dev_pid" 2> /dev/null; then
	ok "$T: no crash or panic: VM1 exited 0, VM2's testpmd and the daemon still run"
else
	not_ok "$T: no crash or panic: VM1 exited 0, VM2's testpmd and the daemon still run" \
		"VM1 result $frc; $(clean "$flog" | grep -E "$bad" | head -n2 | tr '\n' '|') $(clean "$plog" | grep -E "$bad|GUEST-RESULT" | head -n2 | tr '\n' '|') daemon: $(tail_of "$dlog" 2)"
fi
echo "# timings: VM2's arguments at ${t_args}s, VM2 attached at ${t_peer}s, VM1's result at ${t_ping}s, total $(elapsed)s"
stop_guests
