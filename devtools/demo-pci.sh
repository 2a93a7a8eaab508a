# SPDX-License-Identifier: BSD-3-Clause
#
# devtools/demo.sh --pci, sourced by demo.sh after the set-up: the host
# side of PCI mode and a guest that drives the device, both sides' rates
# printed each second. Needs hugepages: the front-end's memory must be a
# file that QEMU can show to the guest.

grep -q hugetlbfs /proc/mounts && [ "$VPCI_EAL_MEM" = "-m 512" ] ||
	vpci_die "PCI mode needs hugepages (the front-end's memory is shown to the guest as a file)"
[ "${1:-}" = "" ] && secs=15
bash "$VPCI_TOP/devtools/guest.sh" build >&2 || vpci_die "guest image build failed"

sock=$VPCI_RUN/demo-pci.sock
db=$VPCI_RUN/demo-pci-db.sock
args=$VPCI_RUN/demo-pci.qemu-args
d=$VPCI_RUN/demo-pci-device.log
b=$VPCI_RUN/demo-pci-virtio-user.log
g=$VPCI_RUN/guest/demo-pci.log
gscript=$VPCI_RUN/demo-pci.guest.sh
VPCI_SOCKETS="$sock $db"
rm -f "$args" "$g"

# The host side: front-ends on $sock, the guest's doorbell device on $db.
vpci_bg "$d" "" "$VPCI_BUILD/app/vhost-pci-device/dpdk-vhost-pci-device" \
	--socket "$sock" --doorbell "$db" --qemu-args "$args"
wait_for 20 [ -S "$sock" ] || { cat "$d"; vpci_die "dpdk-vhost-pci-device did not start"; }

# The front-end: stock virtio-user, one 512 MiB memory file (a power of
# two, as a memory device needs), forwarding what comes back. The guest
# puts the first bursts on the wire: testpmd flushes its RX queues when
# forwarding starts, so a burst sent before would be lost.
# shellcheck disable=SC2086
vpci_bg "$b" vpci-demo-b "$TESTPMD" -l 0-1 --main-lcore 1 \
	--file-prefix=vpci-demo-b -m 512 --no-pci --single-file-segments \
	--vdev "net_virtio_user0,path=$sock" -- \
	--forward-mode=io --auto-start --stats-period 1
wait_for 30 [ -s "$args" ] || { cat "$d"; vpci_die "the front-end did not become ready"; }
echo "QEMU arguments for the guest (from $args):"
cat "$args"

cat > "$gscript" <<'GEOF'
for d in $(lspci -D -n -d 1af4:1110 | awk '{print $1}'); do
	dpdk-devbind.py -b uio_pci_generic "$d"
done
dpdk-devbind.py --status-dev net
dpdk-testpmd --lcores=0,1@0 -m 256 --log-level=pmd.net.vhost_pci:info -- \
	--forward-mode=macswap --auto-start --tx-first --stats-period 1 --no-mlockall \
	--total-num-mbufs=8192
GEOF
# shellcheck disable=SC2046
qpid=$(bash "$VPCI_TOP/devtools/guest.sh" run --background --name demo-pci \
	--timeout $((secs + 240)) --script "$gscript" -- $(cat "$args"))
VPCI_PIDS="$VPCI_PIDS $qpid"
echo "guest booting (TCG): waiting for its testpmd to attach..."
vpci_wait_log "$g" 'peer connected' 240 || { tail -20 "$g"; vpci_die "the guest's port did not attach"; }
sed -n '/Network devices using DPDK-compatible driver/,/^$/p' "$g"
grep -m1 'Probe PCI driver: net_vhost_pci' "$g" || true
grep -m1 'peer connected' "$g" || true

vpci_show_rates "$secs" "net_vhost_pci in the guest (macswap)" "$g" \
	"net_virtio_user on the host (io)" "$b" ||
	vpci_die "no traffic (logs: $g $b $d)"
echo "logs: $g $b $d"
