#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# PCI mode against hostile metadata. tests/tools/vpci_badmeta serves one
# ivshmem-doorbell device per variant of its table, each with a metadata
# page that is good but for one fault, and a memory file that every
# variant's ivshmem-plain memory device shows. In a QEMU guest, stock
# dpdk-devbind.py binds them all and stock dpdk-testpmd probes
# net_vhost_pci on them for 25 s. Each faulty page must be refused with a
# log line naming its fault, its port (if it gets one) must stay down,
# the good control page must attach, and testpmd must end by itself,
# without a crash. Runs as root; under a minute under TCG.
#
# The variants (vpci_badmeta -l; slots fixed: doorbell device 0x10 + 2k,
# memory device 0x11 + 2k, bus 0):
#   a  good control page                         attaches
#   b  wrong signature                           no port
#   c  layout version 3                          no port
#   d  a region past its memory device's BAR     port, refused
#   e  vring 0 desc outside every region,        port attaches, both
#      vring 1 used ring past its region's end     rings refused
#   f  memory device size not a power of two     port, refused
#   g  memory device size != its real BAR 2      port, refused
#   h  memory device another port claimed (a's)  port, refused
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pci_lib.sh"

T=pci-bad-metadata
tool=$VPCI_RUN/t-badmeta-vpci_badmeta
sock=$VPCI_RUN/t-badmeta.sock
gscript=$VPCI_RUN/t-badmeta.guest.sh
glog=$VPCI_RUN/guest/t-badmeta.log
tlog=$LOGS/t-badmeta-server.log
gtxt=$LOGS/t-badmeta-guest.txt
memfile=/dev/shm/${VPCI_PFX}-t-badmeta-mem
memsize=$((2 << 20))	# vpci_badmeta's MEM_SIZE
VARIANTS="a b c d e f g h"
VPCI_SOCKETS="$VPCI_SOCKETS $sock"
trap 'vpci_cleanup; rm -f "$memfile" "$gscript" "$tool"' EXIT

# Not a meson target: built here. rte_vhost_pci_bar.h needs no DPDK.
if ! gcc -O2 -Wall -Wextra -Werror -I "$VPCI_TOP/lib/vhost_pci" \
		-I "$VPCI_TOP/app/vhost-pci-device" \
		"$VPCI_TOP/tests/tools/vpci_badmeta.c" \
		"$VPCI_TOP/app/vhost-pci-device/ivshmem_server.c" -o "$tool" \
		> "$LOGS/t-badmeta-build.log" 2>&1; then
	not_ok "$T: vpci_badmeta builds" "$(head -5 "$LOGS/t-badmeta-build.log")"
	exit 1
fi
# The table and this script must agree on the order.
if [ "$("$tool" -l | awk '{print $2}' | tr -d ':' | xargs)" != "$VARIANTS" ]; then
	not_ok "$T: vpci_badmeta's variants are $VARIANTS" "$("$tool" -l)"
	exit 1
fi
build_guest "$T" "$LOGS/t-badmeta-guest-build.log"

db_addr() { printf '0000:00:%02x.0' $((0x10 + 2 * $1)); }
mem_addr() { printf '0000:00:%02x.0' $((0x11 + 2 * $1)); }
qargs=()
k=0
for v in $VARIANTS; do
	qargs+=(-chardev "socket,path=$sock,id=tbm$v"
		-device "ivshmem-doorbell,chardev=tbm$v,vectors=2,addr=$(printf '0x%x' $((0x10 + 2 * k)))"
		-object "memory-backend-file,id=tbmm$v,mem-path=$memfile,size=$memsize,share=on"
		-device "ivshmem-plain,memdev=tbmm$v,addr=$(printf '0x%x' $((0x11 + 2 * k)))")
	k=$((k + 1))
done

cat > "$gscript" << 'EOF'
echo "== ivshmem devices"
devs=$(lspci -D -n -d 1af4:1110 | awk '{print $1}')
echo $devs
# Which server client each doorbell device is (the memory devices have
# no BAR 1).
python3 - $devs << 'PYEOF'
import mmap, os, sys
for d in sys.argv[1:]:
	p = "/sys/bus/pci/devices/%s/" % d
	if not os.path.exists(p + "resource1"):
		continue
	fd = os.open(p + "resource0", os.O_RDWR | os.O_SYNC)
	m = mmap.mmap(fd, 256)
	os.close(fd)
	print("IVPOSITION %s %d" % (d, memoryview(m).cast("I")[2]))
PYEOF
dpdk-devbind.py -b uio_pci_generic $devs || echo "BIND-FAILED"
echo "== status"
dpdk-devbind.py --status-dev net
echo "== testpmd"
timeout -s INT 25 dpdk-testpmd --lcores=0,1@0 -m 256 \
	--log-level=pmd.net.vhost_pci:info -- --forward-mode=io --auto-start \
	--stats-period 5 --no-mlockall --total-num-mbufs=8192
echo "TESTPMD-EXIT: $?"
EOF

vpci_bg "$tlog" "" "$tool" -t 240 "$sock" "$memfile"
tool_pid=$VPCI_LAST_PID
wait_for 10 [ -S "$sock" ] || { not_ok "$T: vpci_badmeta listens" "$(cat "$tlog")"; exit 1; }

t0=$(date +%s.%N)
bash "$VPCI_TOP/devtools/guest.sh" run --timeout 150 --name t-badmeta \
	--script "$gscript" -- "${qargs[@]}" > /dev/null 2>&1
grc=$?
boot_s=$(echo "$(date +%s.%N) - $t0" | bc)
# The server ends when QEMU has closed every connection.
wait_for 10 sh -c "! kill -0 $tool_pid 2> /dev/null" || kill "$tool_pid" 2> /dev/null
wait "$tool_pid" 2> /dev/null
trc=$?
tr -d '\r' < "$glog" > "$gtxt"

if ! grep -q '^GUEST-RESULT: 0' "$gtxt"; then
	not_ok "$T: the guest boots with the 16 devices and runs its script (status $grc)" "$(tail -5 "$gtxt")"
	exit 1
fi

# ---- what the log says about one device ----
# The port EAL's probe made on DEV, if any.
port_of() {
	sed -n "s/^VHOST_PCI_PMD: $1: port \([0-9]*\) on a vhost-pci device.*/\1/p" "$gtxt" | head -n1
}
# The port on DEV attached to its peer (metadata accepted).
attached() { grep -q "^VHOST_PCI_PMD: port [0-9]*: peer connected on $1:" "$gtxt"; }
# The driver told the device so in the page (vpci_badmeta's view).
dev_attached() { grep -q "^driver: variant $1 .*(attached)" "$tlog"; }
logged() { grep -qF -- "$1" "$gtxt"; }
control_up() { attached "$(db_addr 0)" && dev_attached a; }

# refused NAME VARIANT LINE [noport]: LINE in the log, the variant's port
# never attached, the control did. noport: no port at all either.
refused() {
	local name=$1 v=$2 line=$3 noport=${4:-} k dev why=""
	k=$(( $(printf '%d' "'$v") - $(printf '%d' "'a") ))
	dev=$(db_addr "$k")
	logged "$line" || why="no line '$line';"
	attached "$dev" && why="$why the port on $dev attached;"
	dev_attached "$v" && why="$why the driver says attached in the page;"
	[ -n "$noport" ] && [ -n "$(port_of "$dev")" ] && why="$why $dev got port $(port_of "$dev");"
	control_up || why="$why the control (a) did not attach;"
	if [ -z "$why" ]; then
		ok "$T: $name"
	else
		not_ok "$T: $name" "$why $(grep -E "^VHOST_PCI_PMD: ($dev|port $(port_of "$dev"):)" "$gtxt" | head -3 | tr '\n' ' ')"
	fi
}

# The mapping of clients to devices (accept order = chardev order).
why=""
k=0
for v in $VARIANTS; do
	grep -q "^IVPOSITION $(db_addr $k) $((k + 1))\$" "$gtxt" || why="$why $v"
	k=$((k + 1))
done
check "$T: every doorbell device is the server client its slot says (IVPosition)" \
	test -z "$why"
check "$T: stock dpdk-devbind.py binds all 16 devices to uio_pci_generic" \
	test "$(grep -cE '^0000:00:1[0-9a-f]\.0 .*drv=uio_pci_generic' "$gtxt")" -eq 16

# a: the control.
A=$(db_addr 0)
why=""
attached "$A" || why="no 'peer connected on $A';"
dev_attached a || why="$why the driver never wrote ATTACHED in its page;"
logged "$A: vring" && why="$why $(grep -F "$A: vring" "$gtxt" | head -1)"
if [ -z "$why" ]; then
	ok "$T: a well-formed page (the control) attaches, both rings up"
else
	not_ok "$T: a well-formed page (the control) attaches, both rings up" "$why"
fi

# b, c: refused at probe, no port.
refused "a BAR without the vhost-pci signature makes no port (log: no vhost-pci signature)" \
	b "$(db_addr 1): no vhost-pci signature in BAR 2 (0x12345678)" noport
refused "an unknown layout version makes no port (log: metadata version 3)" \
	c "$(db_addr 2): vhost-pci metadata version 3, this driver speaks 2: refused" noport

# d, f, g, h: a port, its attach refused.
P=$(port_of "$(db_addr 3)")
refused "a region outside its memory device's BAR is refused with a log line naming it" \
	d "port ${P:-?}: metadata of $(db_addr 3) refused: a region lies outside its BAR"
P=$(port_of "$(db_addr 5)")
refused "a memory device size that is not a power of two is refused with a log line naming it" \
	f "port ${P:-?}: memory device 0: size 0x180000 is not a power of two"
P=$(port_of "$(db_addr 6)")
refused "a memory device size other than its real BAR 2 is refused with a log line naming both" \
	g "port ${P:-?}: memory device 0 ($(mem_addr 6)): BAR 2 has 0x200000 bytes, the metadata says 0x400000"
P=$(port_of "$(db_addr 7)")
refused "a memory device another port already claimed is refused with a log line naming it" \
	h "port ${P:-?}: memory device 0 ($(mem_addr 0)) is another port's"

# e: the page is fine but for its rings: the port attaches, the rings not.
E=$(db_addr 4)
for r in 0 1; do
	if [ "$r" = 0 ]; then
		name="a vring whose descriptor table lies outside every region is refused with a log line naming it"
	else
		name="a vring whose used ring runs past its region's end is refused with a log line naming it"
	fi
	why=""
	logged "$E: vring $r refused: size, base or addresses out of range" || why="no 'vring $r refused' for $E;"
	control_up || why="$why the control (a) did not attach;"
	if [ -z "$why" ]; then ok "$T: $name"; else not_ok "$T: $name" "$why $(grep -F "VHOST_PCI_PMD: $E" "$gtxt" | head -3 | tr '\n' ' ')"; fi
done

check "$T: only the good pages attach (a, and e whose rings alone are bad); b and c make no port" \
	test "$(count_of "$gtxt" 'peer connected')" -eq 2 -a \
	"$(count_of "$gtxt" 'on a vhost-pci device')" -eq 6
rc_line=$(sed -n 's/^TESTPMD-EXIT: //p' "$gtxt")
# testpmd 22.11 ends on SIGINT with its own cleanup: ports closed, "Bye...",
# status 0. Its statistics every 5 s show it ran the whole time.
if [ "$rc_line" = 0 ] && grep -q '^Bye\.\.\.' "$gtxt" &&
		[ "$(count_of "$gtxt" '^Port [0-9]+ is closed')" -eq 6 ] &&
		[ "$(count_of "$gtxt" '^Port statistics =')" -ge 3 ] &&
		! grep -qE 'Segmentation fault|Aborted|PANIC|Kernel panic|Oops' "$gtxt"; then
	ok "$T: testpmd ran its 25 s among the hostile devices and closed every port without a crash (status 0)"
else
	not_ok "$T: testpmd ran its 25 s among the hostile devices and closed every port without a crash (status ${rc_line:-none})" "$(tail -5 "$gtxt" | tr '\n' ' ')"
fi
check "$T: vpci_badmeta served every variant and ended when QEMU left" \
	sh -c "[ $trc -eq 0 ] && grep -q 'every client left' '$tlog' && [ \$(grep -c '^vpci_badmeta: client [0-9]*: variant' '$tlog') -eq 8 ]"
echo "# guest boot to GUEST-RESULT ${boot_s}s; logs: $gtxt $tlog"
