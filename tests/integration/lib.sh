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
