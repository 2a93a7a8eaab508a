#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The guest harness (devtools/guest.sh) and the ivshmem server
# (app/vhost-pci-device/ivshmem_server.c) against a real QEMU, with nothing
# of the data path in between: tests/tools/ivs_smoke serves an
# ivshmem-doorbell device, an ivshmem-plain device shows a host file, and
# the guest, with stock tools only, finds both among its network devices,
# binds them to uio_pci_generic, reads the server's memory through BAR2,
# rings the host through the doorbell register, answers the server's
# replacement of its peer's vectors, and starts testpmd with the project's
# PMD autoloaded. Runs as root; about a minute under TCG.
#
# usage: tests/integration/test_guest_ivshmem.sh [fresh|set|remove]
#   how ivs_smoke changes the peer's vectors half-way (see ivs_smoke.c);
#   default fresh: "set" and "remove" send a removal, after which QEMU 7.2
#   frees the peer's vector array but keeps using it (heap corruption, an
#   abort when QEMU exits), which the last check catches.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pci_lib.sh"

mode=${1:-fresh}

smoke=$VPCI_RUN/ivs_smoke
sock=$VPCI_RUN/ivs-smoke.sock
slog=$LOGS/ivs-smoke.log
gscript=$VPCI_RUN/ivs-smoke.guest.sh
glog=$VPCI_RUN/guest/ivs-smoke.log
# Fixed slots, so the guest script knows which device is which.
DB_ADDR=0000:00:04.0
PLAIN_ADDR=0000:00:05.0
# A hugetlbfs file when there are free 2 MiB pages (the front-ends' memory
# lives there), else a plain tmpfs file; a power of two either way.
if [ "$VPCI_EAL_MEM" = "-m 512" ]; then
	memfile=/dev/hugepages/${VPCI_PFX}-ivs-smoke-plain
	memsize=$((2 << 20))
else
	memfile=/dev/shm/${VPCI_PFX}-ivs-smoke-plain
	memsize=$((1 << 20))
fi
VPCI_SOCKETS="$VPCI_SOCKETS $sock"
trap 'vpci_cleanup; rm -f "$memfile" "$gscript"' EXIT

# Not a meson target (yet): built here, in a second.
if ! gcc -O2 -Wall -Wextra -Werror -I "$VPCI_TOP/app/vhost-pci-device" \
		"$VPCI_TOP/tests/tools/ivs_smoke.c" \
		"$VPCI_TOP/app/vhost-pci-device/ivshmem_server.c" -o "$smoke" \
		> "$LOGS/ivs-smoke-build.log" 2>&1; then
	not_ok "ivs-smoke: ivs_smoke builds" "$(head -5 "$LOGS/ivs-smoke-build.log")"
	exit 1
fi
t0=$(date +%s.%N)
build_guest ivs-smoke "$LOGS/ivs-smoke-guest-build.log"
build_s=$(echo "$(date +%s.%N) - $t0" | bc)

# hugetlbfs takes no write(2): the marker goes in through a mapping.
python3 - "$memfile" "$memsize" << 'EOF'
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
os.ftruncate(fd, int(sys.argv[2]))
m = mmap.mmap(fd, int(sys.argv[2]))
m[0:24] = b"ivshmem-plain host file\0"
m.close()
EOF

cat > "$gscript" << EOF
DB=$DB_ADDR
PLAIN=$PLAIN_ADDR
EOF
cat >> "$gscript" << 'EOF'
fail() { echo "GUEST-FAIL: $*"; exit 1; }
echo "== ivshmem devices (lspci)"
lspci -D -nn -d 1af4:1110
# The doorbell device alone has BAR1, its MSI-X table.
[ -e /sys/bus/pci/devices/$DB/resource1 ] || fail "no doorbell device at $DB"
[ -e /sys/bus/pci/devices/$PLAIN/resource2 ] &&
	[ ! -e /sys/bus/pci/devices/$PLAIN/resource1 ] || fail "no plain device at $PLAIN"
echo "== dpdk-devbind.py --status"
dpdk-devbind.py --status
dpdk-devbind.py --status-dev net > /tmp/net.txt 2>&1
for d in $DB $PLAIN; do
	grep -q "^$d " /tmp/net.txt || fail "$d not among the network devices"
done
echo "GUEST-CHECK: both devices listed as network devices"
for d in $DB $PLAIN; do
	dpdk-devbind.py -b uio_pci_generic $d || fail "cannot bind $d"
	[ "$(basename "$(readlink /sys/bus/pci/devices/$d/driver)")" = uio_pci_generic ] ||
		fail "$d not on uio_pci_generic"
done
echo "GUEST-CHECK: both bound to uio_pci_generic"
dpdk-devbind.py --status-dev net
python3 - $DB $PLAIN << 'PYEOF'
import mmap, os, struct, sys, time
db, plain = sys.argv[1], sys.argv[2]
def bar(dev, n, size):
	fd = os.open("/sys/bus/pci/devices/%s/resource%d" % (dev, n), os.O_RDWR | os.O_SYNC)
	m = mmap.mmap(fd, size)
	os.close(fd)
	return m
shm = bar(db, 2, 4096)
words = memoryview(shm).cast("I")
bad = [i for i in range(1024) if words[i] != 0x49560000 + i]
if bad:
	sys.exit("GUEST-FAIL: BAR2 word %d is 0x%08x" % (bad[0], words[bad[0]]))
print("GUEST-CHECK: BAR2 of the doorbell device holds the server's pattern (1024 words)")
plain_m = bar(plain, 2, 4096)
if plain_m[0:23] != b"ivshmem-plain host file":
	sys.exit("GUEST-FAIL: plain BAR2 starts with %r" % plain_m[0:23])
print("GUEST-CHECK: BAR2 of the plain device shows the host file")
# The registers take 4-byte accesses only: a memoryview of "I" stores one
# 32-bit word.
regs = memoryview(bar(db, 0, 256)).cast("I")
print("GUEST-CHECK: IVPosition %d" % regs[2])
regs[3] = (0 << 16) | 1
print("GUEST-CHECK: rang peer 0 vector 1")
# ivs_smoke -r now changes the peer's vectors, puts the id to ring in
# word 1 and says so in word 0.
for _ in range(300):
	if words[0] == 0x52455044:
		break
	time.sleep(0.1)
else:
	sys.exit("GUEST-FAIL: the server never replaced the peer's vectors")
peer = words[1]
regs[3] = (peer << 16) | 0
print("GUEST-CHECK: rang peer %d vector 0 after the replacement" % peer)
PYEOF
[ $? -eq 0 ] || exit 1
echo "== testpmd"
# Only to show testpmd starts with every PMD, ours included, autoloaded.
echo quit | dpdk-testpmd --lcores=0,1@0 -m 256 --log-level=lib.eal:debug \
	-- -i --total-num-mbufs=2048 > /tmp/testpmd.txt 2>&1
rc=$?
grep -E '^EAL: (Detected|Selected IOVA|Probe PCI)|librte_net_vhost_pci' /tmp/testpmd.txt | head -20
grep -vE '^EAL: ' /tmp/testpmd.txt | head -20
grep -q 'open shared lib .*pmds-23.0/librte_net_vhost_pci.so' /tmp/testpmd.txt ||
	fail "testpmd did not load net_vhost_pci"
grep -q '^testpmd> ' /tmp/testpmd.txt || fail "testpmd gave no prompt (status $rc)"
echo "GUEST-CHECK: testpmd ran with net_vhost_pci autoloaded (status $rc)"
exit $rc
EOF

vpci_bg "$slog" "" "$smoke" -t 300 -r "$mode" "$sock"
smoke_pid=$VPCI_LAST_PID
wait_for 10 [ -S "$sock" ] || { not_ok "ivs-smoke: server listens" "$(cat "$slog")"; exit 1; }

t0=$(date +%s.%N)
bash "$VPCI_TOP/devtools/guest.sh" run --timeout 240 --name ivs-smoke \
	--script "$gscript" -- \
	-chardev "socket,path=$sock,id=ivs0" \
	-device "ivshmem-doorbell,chardev=ivs0,vectors=2,addr=0x4" \
	-object "memory-backend-file,id=m0,mem-path=$memfile,size=$memsize,share=on" \
	-device "ivshmem-plain,memdev=m0,addr=0x5" > /dev/null 2>&1
grc=$?
boot_s=$(echo "$(date +%s.%N) - $t0" | bc)
# The server ends on the second doorbell; give it a moment after the guest.
wait_for 10 sh -c "! kill -0 $smoke_pid 2> /dev/null" || kill "$smoke_pid" 2> /dev/null
wait "$smoke_pid" 2> /dev/null
src=$?

check "ivs-smoke: the guest script passes (GUEST-RESULT 0)" [ "$grc" -eq 0 ]
check "ivs-smoke: both devices are network devices to dpdk-devbind.py" \
	grep -q 'GUEST-CHECK: both devices listed' "$glog"
check "ivs-smoke: both bind to uio_pci_generic" \
	grep -q 'GUEST-CHECK: both bound' "$glog"
check "ivs-smoke: the guest reads the server's memory through BAR2" \
	grep -q 'GUEST-CHECK: BAR2 of the doorbell device holds' "$glog"
check "ivs-smoke: the guest's IVPosition is the id the server gave it" \
	grep -q 'GUEST-CHECK: IVPosition 1' "$glog"
check "ivs-smoke: a doorbell write reaches the server's eventfd for vector 1" \
	grep -q '^doorbell: vector 1 count [1-9]' "$slog"
if [ "$mode" = remove ]; then
	check "ivs-smoke: after the peer's removal the doorbell reaches nothing" \
		grep -q '^ivs_smoke: nothing rang after the removal' "$slog"
else
	check "ivs-smoke: after the change ($mode) the doorbell reaches the new eventfds" \
		grep -q '^doorbell: vector 0 count [1-9][0-9]* (replaced eventfds)' "$slog"
fi
check "ivs-smoke: ivs_smoke exits 0" [ "$src" -eq 0 ]
check "ivs-smoke: testpmd starts in the guest with net_vhost_pci autoloaded" \
	grep -q 'GUEST-CHECK: testpmd ran' "$glog"
check "ivs-smoke: QEMU exits cleanly after the guest powers off" \
	sh -c "! grep -qE 'qemu exited with status|malloc\(\)|double free|corrupted' '$glog'"
echo "# guest image build ${build_s}s, boot to GUEST-RESULT ${boot_s}s; logs: $glog $slog"
[ "$grc" -eq 0 ] && [ "$src" -eq 0 ]
