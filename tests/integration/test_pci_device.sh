#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dpdk-vhost-pci-device on the host, no guest: what it exports and what it
# refuses before a VM is ever started.
# - A front-end whose memory file is not a power of two is refused with a
#   line that says what to do, and no QEMU arguments are printed.
# - With two exports, the --qemu-args file holds both devices, each memory
#   device naming a fd of the daemon's own that shows the front-end's file
#   and outlives the front-end's connection (a VM may start later).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pci_lib.sh"

need_memory_files pci-device
sock=$VPCI_RUN/t-pcidev.sock
db=$VPCI_RUN/t-pcidev-db.sock
args=$VPCI_RUN/t-pcidev.qemu-args
dlog=$LOGS/pci-device-host.log
rm -f "$args"
VPCI_SOCKETS="$VPCI_SOCKETS $sock $db"

start_device "pci-device: listens" "$dlog" "$sock" "$db" "$args" --exports 2
dev_pid=$VPCI_LAST_PID

# frontend NAME MEM: a front-end that sends nothing and stays up.
frontend() {
	# shellcheck disable=SC2086
	vpci_bg "$LOGS/pci-device-$1.log" "${VPCI_PFX}-t-pd-$1" timeout 60 \
		"$PKTCHECK" -l 0 --file-prefix="${VPCI_PFX}-t-pd-$1" -m "$2" \
		--no-pci --single-file-segments \
		--vdev "net_virtio_user0,path=$sock" -- \
		--expect macswap --count 1 --timeout 50 --start-file /nonexistent
}

frontend odd 500
if wait_count "$dlog" 'the largest power of two the file holds' 1 30; then
	ok "pci-device: a 500 MiB memory file is refused with what to do about it"
else
	not_ok "pci-device: a 500 MiB memory file is refused with what to do about it" "$(tail -3 "$dlog")"
fi
check "pci-device: no QEMU arguments for a refused front-end" test ! -e "$args"
kill "$VPCI_LAST_PID" 2> /dev/null

frontend one 512
p1=$VPCI_LAST_PID
frontend two 512
wait_count "$dlog" '^qemu-args 1:' 1 30
check "pci-device: two exports: the --qemu-args file holds both metadata devices and both memory devices" \
	grep -qE "vpci0db,vectors=2,addr=0x10 .*vpci0m0,addr=0x11 .*vpci1db,vectors=2,addr=0x14 .*vpci1m0,addr=0x15$" "$args"

# The memory devices' paths name the front-ends' files through fds of
# the daemon's, which stay after a front-end leaves.
kill "$p1" 2> /dev/null
wait_count "$dlog" 'left export 0' 1 20
paths=$(grep -oE "mem-path=/proc/$dev_pid/fd/[0-9]+" "$args" | sed 's/mem-path=//')
targets=""
for p in $paths; do
	targets="$targets $(readlink "$p")"
done
if [ "$(echo "$paths" | wc -w)" -eq 2 ] &&
		echo "$targets" | grep -q "${VPCI_PFX}-t-pd-onemap_0" &&
		echo "$targets" | grep -q "${VPCI_PFX}-t-pd-twomap_0"; then
	ok "pci-device: each memory device's path is the front-end's file, still open after it left"
else
	not_ok "pci-device: each memory device's path is the front-end's file, still open after it left" "paths: $paths -> $targets"
fi
