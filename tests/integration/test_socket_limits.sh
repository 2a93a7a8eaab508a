#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The socket and its limits: created 0600, owner= and group= devargs, and
# max_clients= refusing the connection past it with a clear error while
# the clients already there stay connected.
. "$(dirname "$0")/lib.sh"

sock=$VPCI_RUN/t-limits.sock

# start DEVARGS LOG: our PMD in an interactive testpmd, until "quit".
start() {
	VPCI_SOCKETS="$VPCI_SOCKETS $sock"
	# shellcheck disable=SC2086
	vpci_testpmd_fifo lim "$2" ${VPCI_PFX}-t-a -l 0-1 --file-prefix=${VPCI_PFX}-t-a \
		$VPCI_EAL_MEM --no-pci -d "$VPCI_PMD" \
		--vdev "net_vhost_pci0,path=$sock$1" -- -i
	vpci_wait_log "$2" 'testpmd>' 20
}

stop() {
	vpci_cmd lim quit
	sleep 1
	vpci_cleanup
}

log=$LOGS/limits-mode.log
start "" "$log"
check socket-created-0600 test "$(stat -c %a "$sock" 2>/dev/null)" = 600
stop

log=$LOGS/limits-owner.log
start ",owner=nobody,group=daemon" "$log"
check socket-owner-devarg test "$(stat -c %U "$sock" 2>/dev/null)" = nobody
check socket-group-devarg-0660 \
	test "$(stat -c %G:%a "$sock" 2>/dev/null)" = daemon:660
stop

log=$LOGS/limits-bad-owner.log
out=$(printf 'quit\n' | timeout 30 "$TESTPMD" -l 0-1 --file-prefix=${VPCI_PFX}-t-a \
	$VPCI_EAL_MEM --no-pci -d "$VPCI_PMD" \
	--vdev "net_vhost_pci0,path=$sock,owner=no-such-user-vpci" -- -i 2>&1)
VPCI_PREFIXES="$VPCI_PREFIXES ${VPCI_PFX}-t-a"
check socket-unknown-owner-refused grep -q 'owner=no-such-user-vpci: no such user' <<< "$out"
vpci_cleanup

# Two raw connections held open, then a third: with max_clients=2 the
# third is closed at once (the read sees EOF) and the log says why; the
# first two are still open.
log=$LOGS/limits-max.log
start ",max_clients=2" "$log"
res=$(python3 - "$sock" <<'EOF'
import socket, sys, time
path = sys.argv[1]
held = []
for _ in range(2):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    held.append(s)
time.sleep(0.5)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.settimeout(3)
try:
    third = "closed" if s.recv(1) == b"" else "data"
except socket.timeout:
    third = "open"
alive = 0
for h in held:
    h.setblocking(False)
    try:
        alive += 0 if h.recv(1) == b"" else 1
    except BlockingIOError:
        alive += 1
print(third, alive)
EOF
)
check max-clients-third-closed test "$res" = "closed 2"
check max-clients-error-logged \
	grep -q 'connection refused: 2 clients already, the maximum' "$log"
stop
