#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# PCI mode end to end. On the host, dpdk-vhost-pci-device exports a stock
# net_virtio_user front-end (dpdk-vpci-pktcheck) as a vhost-pci device of
# stock QEMU devices; in a QEMU guest, stock dpdk-devbind.py lists and
# binds it and stock dpdk-testpmd, with no --vdev, probes net_vhost_pci on
# it and swaps MACs. pktcheck verifies every byte of every frame that
# comes back: guest RX (zero-copy-capable reads of the peer's TX ring out
# of a BAR) and guest TX (copies into the peer's RX buffers), with the
# peer's interrupts coming from the guest's doorbell writes.
# Then the front-end leaves and comes back with the same memory file; then
# one with another file is refused, and the guest port stays down.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pci_lib.sh"

need_memory_files pci-mode
build_guest pci-mode "$LOGS/pci-guest-build.log"

sock=$VPCI_RUN/t-pci.sock
db=$VPCI_RUN/t-pci-db.sock
args=$VPCI_RUN/t-pci.qemu-args
go=$VPCI_RUN/t-pci.go
glog=$VPCI_RUN/guest/t-pci.log
dlog=$LOGS/pci-device.log
fe=${VPCI_PFX}-t-pci-fe
rm -f "$args" "$go" "$glog"
VPCI_SOCKETS="$VPCI_SOCKETS $sock $db"
qemu_pid=""
stop_guest() { stop_qemu "$qemu_pid"; qemu_pid=""; }
trap 'stop_guest; vpci_cleanup' EXIT

start_device "pci-mode: device daemon listens" "$dlog" "$sock" "$db" "$args"

# The front-end: --huge-unlink=never keeps its memory file (same inode)
# across a restart, so the VM's memory device still shows it.
frontend() {
	local log=$1 prefix=$2
	shift 2
	# shellcheck disable=SC2086
	vpci_bg "$log" "$prefix" timeout 400 "$PKTCHECK" -l 0 \
		--file-prefix="$prefix" -m 512 --no-pci --single-file-segments \
		--huge-unlink=never \
		--vdev "net_virtio_user0,path=$sock" -- \
		--expect macswap --timeout 300 --window 64 --start-file "$go" "$@"
}

frontend "$LOGS/pci-fe1.log" "$fe" --count 3000 --size 1000
fe_pid=$VPCI_LAST_PID
if wait_for 30 [ -s "$args" ]; then
	ok "pci-mode: the daemon prints the VM's QEMU arguments once the front-end is ready"
else
	not_ok "pci-mode: the daemon prints the VM's QEMU arguments once the front-end is ready" "$(tail -3 "$dlog")"
	exit 1
fi
check "pci-mode: QEMU arguments: a doorbell device and a power-of-two memory device on the front-end's fd" \
	grep -qE "ivshmem-doorbell,chardev=vpci0db,vectors=2,addr=0x10 .*mem-path=/proc/[0-9]+/fd/[0-9]+,size=536870912,share=on -device ivshmem-plain,memdev=vpci0m0,addr=0x11" "$args"

gscript=$VPCI_RUN/t-pci.guest.sh
cat > "$gscript" <<'EOF'
echo "== status before"
dpdk-devbind.py --status-dev net
# vfio-pci without an IOMMU needs CONFIG_VFIO_NOIOMMU (Debian's kernel has
# none: the parameter is missing); where it exists, bind and unbind once.
modprobe vfio enable_unsafe_noiommu_mode=1 2> /dev/null
modprobe vfio-pci 2> /dev/null
if [ -e /sys/module/vfio/parameters/enable_unsafe_noiommu_mode ]; then
	echo "VFIO-NOIOMMU: present"
	dpdk-devbind.py -b vfio-pci 0000:00:10.0 && dpdk-devbind.py --status-dev net | grep "^0000:00:10.0" | sed 's/^/VFIO-BOUND: /'
	dpdk-devbind.py -u 0000:00:10.0
else
	echo "VFIO-NOIOMMU: absent"
fi
for d in $(lspci -D -n -d 1af4:1110 | awk '{print $1}'); do
	dpdk-devbind.py -b uio_pci_generic "$d" || echo "BIND-FAILED $d"
done
echo "== status after"
dpdk-devbind.py --status-dev net
echo "== testpmd"
# The port's queues as telemetry shows them, every 10 s: when traffic
# stalls, where each ring stands.
( sleep 20; while :; do python3 -c '
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect("/var/run/dpdk/rte/dpdk_telemetry.v2")
s.recv(16384)
s.send(b"/vhost_pci/port,0")
print(s.recv(65536).decode())' 2>&1 | sed 's/^/TEL: /'; sleep 10; done ) &
dpdk-testpmd --lcores=0,1@0 -m 256 --log-level=pmd.net.vhost_pci:info -- \
	--forward-mode=macswap --auto-start --stats-period 5 --no-mlockall \
	--total-num-mbufs=8192
EOF
# shellcheck disable=SC2046
qemu_pid=$(bash "$VPCI_TOP/devtools/guest.sh" run --background --name t-pci \
	--timeout 500 --script "$gscript" -- $(cat "$args"))

if wait_count "$glog" 'peer connected' 1 240; then
	ok "pci-mode: guest testpmd with no --vdev probes net_vhost_pci on the PCI device and attaches"
else
	not_ok "pci-mode: guest testpmd with no --vdev probes net_vhost_pci on the PCI device and attaches" "$(tail -5 "$glog")"
	exit 1
fi
sed -n '/== status before/,/== status after/p' "$glog" > "$LOGS/pci-status-before.log"
sed -n '/== status after/,/== testpmd/p' "$glog" > "$LOGS/pci-status-after.log"
check "pci-mode: dpdk-devbind.py --status lists the metadata device under network devices" \
	grep -qE "^0000:00:10.0 .*1110" "$LOGS/pci-status-before.log"
check "pci-mode: dpdk-devbind.py -b uio_pci_generic binds the metadata and memory devices" \
	test "$(grep -cE '^0000:00:1[01].0 .*drv=uio_pci_generic' "$LOGS/pci-status-after.log")" -eq 2
if grep -q "VFIO-NOIOMMU: present" "$glog"; then
	check "pci-mode: dpdk-devbind.py -b vfio-pci (no-IOMMU mode) binds the metadata device" \
		grep -qE "^VFIO-BOUND: 0000:00:10.0 .*drv=vfio-pci" "$glog"
else
	skip "pci-mode: dpdk-devbind.py -b vfio-pci" "the guest kernel has no VFIO no-IOMMU mode (CONFIG_VFIO_NOIOMMU)"
fi
check "pci-mode: EAL probes net_vhost_pci_ivshmem on the metadata device" \
	grep -qE "Probe PCI driver: net_vhost_pci_ivshmem \(1af4:1110\) device: 0000:00:10.0" "$glog"
check "pci-mode: the memory device makes no port of its own" \
	test "$(count_of "$glog" 'on a vhost-pci device')" -eq 1

# testpmd drops what its port holds when forwarding starts (its RX flush),
# then prints the burst size: only then may pktcheck send. Frames sent
# before were flushed, and pktcheck waited for them for ever.
if ! wait_count "$glog" 'macswap packet forwarding packets/burst=' 1 60; then
	not_ok "pci-mode: the guest's testpmd starts forwarding" "$(tail -6 "$glog")"
fi
touch "$go"
wait "$fe_pid"
if pktcheck_passed "$LOGS/pci-fe1.log"; then
	ok "pci-mode: 3000 frames of 1000 B through the guest and back, every byte checked"
else
	# What the guest saw, in the CI output too: its counters and errors.
	cp "$glog" "$LOGS/pci-guest-fail.log"
	not_ok "pci-mode: 3000 frames of 1000 B through the guest and back, every byte checked" "$(grep '^pktcheck:' "$LOGS/pci-fe1.log" | tail -2 | tr '\n' ' ') guest: $(grep -aE 'RX-packets|TX-packets|VHOST_PCI_PMD|ERR' "$glog" | tail -8 | tr -s ' ' | tr '\n' '|') $(grep -a '^TEL:' "$glog" | tail -1)"
fi

# The front-end left: the guest port goes down.
if wait_count "$glog" 'peer gone' 1 30; then
	ok "pci-mode: the front-end leaves: the guest port goes down"
else
	not_ok "pci-mode: the front-end leaves: the guest port goes down" "$(tail -3 "$glog")"
fi

# It comes back with the same memory file: up again, traffic again.
frontend "$LOGS/pci-fe2.log" "$fe" --count 2000 --size 64
fe_pid=$VPCI_LAST_PID
if wait_count "$glog" 'peer connected' 2 60; then
	ok "pci-mode: the front-end comes back with its memory: the guest port comes up again"
else
	not_ok "pci-mode: the front-end comes back with its memory: the guest port comes up again" "$(tail -3 "$dlog")"
fi
wait "$fe_pid"
if pktcheck_passed "$LOGS/pci-fe2.log"; then
	ok "pci-mode: after the return, 2000 frames of 64 B through the guest and back, every byte checked"
else
	not_ok "pci-mode: after the return, 2000 frames of 64 B through the guest and back, every byte checked" "$(grep '^pktcheck:' "$LOGS/pci-fe2.log" | tail -2 | tr '\n' ' ')"
fi
wait_count "$glog" 'peer gone' 2 30

# A front-end with another memory file: the VM's memory device would show
# stale memory, so the daemon refuses it and the port stays down.
rm -f "$go"
frontend "$LOGS/pci-fe3.log" "${fe}3" --count 10 --size 64
fe_pid=$VPCI_LAST_PID
if wait_count "$dlog" 'is not the memory export 0 shows' 1 30; then
	ok "pci-mode: a front-end with other memory is refused, not shown through stale memory devices"
else
	not_ok "pci-mode: a front-end with other memory is refused, not shown through stale memory devices" "$(tail -3 "$dlog")"
fi
sleep 1
check "pci-mode: the guest port stayed down for it" \
	test "$(count_of "$glog" 'peer connected')" -eq 2
kill "$fe_pid" 2>/dev/null
check "pci-mode: the guest survived: no crash, no panic" \
	sh -c "! grep -qE 'Segmentation fault|Kernel panic|GUEST-RESULT' '$glog'"
stop_guest
