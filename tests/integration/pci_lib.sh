# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash
#
# Helpers for the PCI-mode integration tests: dpdk-vhost-pci-device and
# the QEMU guests of devtools/guest.sh. Source it after lib.sh; not a test
# itself (devtools/test.sh runs tests/integration/test_*.sh).

DEVICE=$VPCI_BUILD/app/vhost-pci-device/dpdk-vhost-pci-device
# The test's start, for elapsed: this file is sourced at its top.
t_start=$SECONDS

# need_memory_files NAME [WHAT]: the daemon exports a front-end's memory
# by its file, and without 512 free hugepages (vpci_hugepages fell back to
# --no-huge) a front-end has none: NAME is skipped and the test exits.
need_memory_files() {
	local what="the front-end's memory must be a file"
	[ $# -ge 2 ] && what=$2
	if ! grep -q hugetlbfs /proc/mounts || [ "$VPCI_EAL_MEM" != "-m 512" ]; then
		skip "$1" "no hugepages: $what"
		exit 0
	fi
}

# build_guest NAME LOG: every check after it needs the guest image, so
# when devtools/guest.sh cannot build it, NAME fails (its output in LOG)
# and the test exits.
build_guest() {
	if ! bash "$VPCI_TOP/devtools/guest.sh" build > "$2" 2>&1; then
		not_ok "$1: guest image builds" "see $2"
		exit 1
	fi
}

# start_device NAME LOG SOCKET DOORBELL QEMU_ARGS [ARGS...]: the daemon
# (its pid in VPCI_LAST_PID), waited for until it listens on SOCKET, as a
# front-end started earlier would find no socket; when it does not within
# 20 s (or dies first), NAME fails and the test exits.
start_device() {
	local name=$1 log=$2 sock=$3 db=$4 args=$5
	shift 5
	vpci_bg "$log" "" "$DEVICE" --socket "$sock" --doorbell "$db" \
		--qemu-args "$args" "$@"
	if ! alive_wait 20 "$VPCI_LAST_PID" [ -S "$sock" ]; then
		not_ok "$name" "$(tail_of "$log" 3)"
		exit 1
	fi
}

# stop_qemu PID...: a guest maps its front-ends' memory through the
# daemon's fds, so it must be gone before vpci_cleanup stops those: each
# QEMU (guest.sh run --background's pid; empty ones skipped) gets SIGTERM,
# then SIGKILL if it still runs 5 s later.
stop_qemu() {
	local p
	for p in "$@"; do
		kill "$p" 2> /dev/null || continue
		for _ in $(seq 50); do
			kill -0 "$p" 2> /dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2> /dev/null
	done
	return 0
}

# A guest log without the console's CRs, which would otherwise end every
# line (a regex's $ and awk's last field would miss); quietly nothing for
# a log not there yet, as waits poll logs before their writer starts.
clean() { tr -d '\r' 2> /dev/null < "$1"; }

# tail_of FILE [N]: the last lines of a log, on one line, for a reason:
# not_ok prints its reason as one "# " line.
tail_of() { clean "$1" | grep -v '^\s*$' | tail -n "${2:-5}" | tr '\n' '|'; }

# has FILE REGEX: the log has a line matching (CRs removed; a log not
# there yet has none).
has() { clean "$1" | grep -qE "$2"; }

# Seconds since the test started, for its closing "# timings" line: TCG
# guests are slow, and how slow is worth a look when a wait runs out.
elapsed() { echo $((SECONDS - t_start)); }

# alive_wait SECONDS "PIDS" CMD...: until CMD succeeds; gives up at once
# (after a last try) when one of PIDS is gone, e.g. a qemu that failed,
# rather than wait out a bound that is minutes under TCG.
alive_wait() {
	local s=$1 pids=$2 p
	shift 2
	for _ in $(seq $((s * 10))); do
		"$@" && return 0
		for p in $pids; do
			kill -0 "$p" 2> /dev/null || { "$@"; return; }
		done
		sleep 0.1
	done
	return 1
}
