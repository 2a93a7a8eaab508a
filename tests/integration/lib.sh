# SPDX-License-Identifier: BSD-3-Clause
# Helpers for the integration tests. Source it after devtools/common.sh.

. "$(dirname "${BASH_SOURCE[0]}")/../../devtools/common.sh"
PKTCHECK="$VPCI_BUILD/app/test-vpci-pktcheck/dpdk-vpci-pktcheck"
vpci_hugepages
vpci_stage_pmd
trap vpci_cleanup EXIT
LOGS=${LOGS:-$VPCI_RUN/test-logs}
mkdir -p "$LOGS"

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; shift; echo "# $*"; }
skip() { echo "# SKIP $1: $2"; }

# check NAME CMD...: ok when CMD exits 0.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "command failed: $*"; fi
}

# grep -c that prints 0, not nothing, on a missing file.
count_of() { local n; n=$(grep -cE "$2" "$1" 2>/dev/null); echo "${n:-0}"; }

# wait_count FILE REGEX N SECONDS: until FILE has N lines matching.
wait_count() {
	local i
	for i in $(seq $(( $4 * 10 ))); do
		[ "$(count_of "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

# log_tail LOG [N]: LOG's last N (15) lines as "#" comment lines, without
# testpmd's periodic statistics blocks but with the last RX total in them.
log_tail() {
	local stats=$'^ *(#####|RX-|TX-|Rx-pps|Tx-pps|Throughput|$)|^Port statistics =|^\x1b'
	echo "# last lines of $1 (testpmd's periodic statistics left out):"
	grep -vE "$stats" "$1" 2>/dev/null | tail -n "${2:-15}" | cat -v | sed 's/^/#   /'
	if grep -q 'RX-packets:' "$1" 2>/dev/null; then
		echo "#   (last RX-packets: $(rx_total "$1"))"
	fi
}

# need NAME LOG WAIT...: a bounded wait (wait_for, wait_count, tel_wait...)
# the test cannot go on without. Silent when WAIT succeeds; when it fails,
# "not ok - NAME" with what WAIT printed and LOG's tail, and status 1.
need() {
	local name=$1 log=$2 out="$LOGS/.wait.$$"
	shift 2
	# No subshell: WAIT may be a helper that records pids (vpci_proxy).
	"$@" > "$out" && { rm -f "$out"; return 0; }
	not_ok "$name" "timed out: $(printf '%s' "$*" | tr -s '\n\t' '  ')"
	sed 's/^/# /' "$out"
	rm -f "$out"
	log_tail "$log"
	return 1
}

# check_wait NAME LOG WAIT...: "ok - NAME" when the bounded wait WAIT
# succeeds, else as need.
check_wait() {
	need "$@" && ok "$1"
}

# DPDK telemetry of the process with EAL file prefix PREFIX, for exact
# counters (testpmd's interactive output is block-buffered in a file).
# tel_wait SECONDS PREFIX EXPR: until the Python expression EXPR is true;
# q(CMD) in it is the value of CMD's reply (None when refused), and an
# exception (a reply not there yet) counts as false. On a timeout it prints
# the last replies and fails.
tel_wait() { _tel wait "$@"; }
# tel_get PREFIX EXPR: EXPR's value, once (within 10 s).
tel_get() { _tel get 10 "$@"; }
_tel() {
	python3 - "$@" <<'PYEOF'
import json, os, socket, sys, time
mode, secs, prefix, expr = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
code = compile("(%s)" % expr, "EXPR", "eval")  # a bad EXPR fails at once
base = "/var/run" if os.getuid() == 0 else os.environ.get("XDG_RUNTIME_DIR", "/tmp")
path = os.path.join(base, "dpdk", prefix, "dpdk_telemetry.v2")
deadline = time.monotonic() + secs
seen, err, sock = {}, None, None
def q(cmd):
    sock.send(cmd.encode())
    v = json.loads(sock.recv(bufsize).decode()).get(cmd.split(",")[0])
    seen[cmd] = v
    return v
while True:
    try:
        if sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            sock.connect(path)
            bufsize = int(json.loads(sock.recv(1 << 16).decode())["max_output_len"])
        v = eval(code)
        if mode == "get":
            print(v)
            sys.exit(0)
        if v:
            sys.exit(0)
        err = "false"
    except (OSError, ValueError) as e:
        if sock is not None:
            sock.close()
        err, sock = e, None
    except Exception as e:
        err = e
    if time.monotonic() > deadline:
        break
    time.sleep(0.2)
print("%s: no %s in %g s (%s); last replies: %s"
      % (path, "reply" if mode == "get" else "'%s'" % " ".join(expr.split()), secs, err,
         json.dumps(seen)[:1500]), file=sys.stdout if mode == "wait" else sys.stderr)
sys.exit(1)
PYEOF
}

# The last "RX-packets:" total in a testpmd LOG (--stats-period blocks are
# flushed as they are printed).
rx_total() { awk '/RX-packets:/ {v=$2} END {print v+0}' "$1"; }
# rx_at_least LOG N: that total is N or more.
rx_at_least() { [ "$(rx_total "$1")" -ge "$2" ]; }
# exited PID: the process is gone.
exited() { ! kill -0 "$1" 2>/dev/null; }

# pktcheck's summary must show every packet back intact.
pktcheck_passed() {
	grep -q '^pktcheck: PASS' "$1" &&
		grep -qE '^pktcheck: sent=([0-9]+) received=\1 bad=0 dup=0 missing=0' "$1"
}

# Our PMD in testpmd: lcore 1 forwards. Extra devargs in $1, fwd mode in $2.
start_vpci_testpmd() {
	local sock=$1 devargs=$2 mode=$3 log=$4
	VPCI_SOCKETS="$VPCI_SOCKETS $sock"
	# shellcheck disable=SC2086
	vpci_bg "$log" ${VPCI_PFX}-t-a "$TESTPMD" -l 0-1 --file-prefix=${VPCI_PFX}-t-a \
		$VPCI_EAL_MEM --no-pci -d "$VPCI_PMD" \
		--vdev "net_vhost_pci0,path=$sock$devargs" -- \
		--forward-mode="$mode" --auto-start --stats-period 1 \
		--max-pkt-len=9600
}

# In-flight frames pktcheck allows: testpmd drops what a full ring refuses,
# so 9000-byte frames (5 mergeable buffers each) must fit a 256-entry ring.
window_for() { if [ "$1" -gt 2000 ]; then echo 32; else echo 128; fi; }

# Stock virtio-user in testpmd: lcore 0 forwards.
start_virtio_testpmd() {
	local sock=$1 devargs=$2 mode=$3 log=$4 jumbo
	# Stock virtio has no scatter RX without mergeable buffers.
	case "$devargs" in
	*mrg_rxbuf=0*) jumbo="" ;;
	*) jumbo="--max-pkt-len=9600 --enable-scatter" ;;
	esac
	# shellcheck disable=SC2086
	vpci_bg "$log" ${VPCI_PFX}-t-b "$TESTPMD" -l 0-1 --main-lcore 1 \
		--file-prefix=${VPCI_PFX}-t-b $VPCI_EAL_MEM --no-pci \
		--single-file-segments \
		--vdev "net_virtio_user0,path=$sock$devargs" -- \
		--forward-mode="$mode" --auto-start --stats-period 1 $jumbo
}
