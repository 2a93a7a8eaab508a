#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Builds the libFuzzer harnesses (tests/fuzz, meson -Dfuzz=true, clang) and
# runs them on a copy of the seed corpus, or replays the corpus once.
#
# usage: devtools/fuzz.sh [--seconds N] [--target msg|ring|all] [--replay]
#
#   --seconds N   fuzz each target for N seconds (default 600)
#   --target T    msg (control plane), ring (datapath) or all (default)
#   --replay      run every seed of tests/fuzz/corpus/<target> and every
#                 saved reproducer tests/fuzz/crashes/<target>-* once
#
# New interesting inputs stay in the work directory ($VPCI_FUZZ_WORK,
# default /tmp/vpci-fuzz), never in the repository; crash reproducers are
# copied to tests/fuzz/crashes/<target>-<libFuzzer's name>. The build goes
# to $VPCI_FUZZ_BUILD (default $VPCI_TOP/build-fuzz). The last lines read
#   fuzz <target>: <executions> execs, <crashes> crashes, <N> s
# and the exit status is non-zero if any target crashed.
set -u
. "$(dirname "$0")/common.sh"

seconds=600
target=all
replay=false
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) seconds=${2:?--seconds needs a value}; shift ;;
	--seconds=*) seconds=${1#*=} ;;
	--target) target=${2:?--target needs a value}; shift ;;
	--target=*) target=${1#*=} ;;
	--replay) replay=true ;;
	-h|--help) sed -n '4,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) vpci_die "unknown argument: $1 (see --help)" ;;
	esac
	shift
done
case "$seconds" in
''|*[!0-9]*) vpci_die "--seconds wants a number of seconds, not '$seconds'" ;;
esac
case "$target" in
msg|ring) targets=$target ;;
all) targets="msg ring" ;;
*) vpci_die "--target is msg, ring or all, not '$target'" ;;
esac

FUZZ_BUILD=${VPCI_FUZZ_BUILD:-$VPCI_TOP/build-fuzz}
FUZZ_WORK=${VPCI_FUZZ_WORK:-/tmp/vpci-fuzz}
CRASH_DIR=$VPCI_TOP/tests/fuzz/crashes

# clang and its libFuzzer runtime: probe by linking a harness.
fuzz_probe() {
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
		'{ (void)d; (void)n; return 0; }' |
		clang -fsanitize=fuzzer,address,undefined -x c - \
			-o /dev/null >/dev/null 2>&1
}

fuzz_deps() {
	vpci_install_deps
	if ! command -v clang >/dev/null 2>&1 || ! fuzz_probe; then
		[ "$(id -u)" = 0 ] ||
			vpci_die "clang/libFuzzer missing: run as root"
		vpci_log "installing clang and libFuzzer (libclang-rt-dev)"
		apt-get update -q >&2 || vpci_die "apt-get update failed"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang \
			libclang-rt-dev >&2 || vpci_die "apt-get install failed"
		fuzz_probe || vpci_die "clang still cannot link a harness"
	fi
}

fuzz_build() {
	if [ ! -f "$FUZZ_BUILD/build.ninja" ]; then
		# The driver-SDK headers of the normal build save a download.
		if [ -f "$VPCI_BUILD/sdk-include/.version" ] &&
				[ ! -e "$FUZZ_BUILD/sdk-include" ]; then
			mkdir -p "$FUZZ_BUILD"
			cp -a "$VPCI_BUILD/sdk-include" "$FUZZ_BUILD/"
		fi
		CC=clang meson setup "$FUZZ_BUILD" "$VPCI_TOP" -Dfuzz=true \
			-Dtests=false \
			--native-file "$VPCI_TOP/config/clang.ini" >&2 ||
			vpci_die "meson setup of $FUZZ_BUILD failed"
	elif ! grep -q 'fuzz_msg' "$FUZZ_BUILD/build.ninja"; then
		meson configure "$FUZZ_BUILD" -Dfuzz=true >&2 ||
			vpci_die "meson configure of $FUZZ_BUILD failed"
	fi
	# Another fuzz.sh building at the same time would race on objects.
	local lock=""
	command -v flock >/dev/null 2>&1 &&
		lock="flock $FUZZ_BUILD/.fuzz-build.lock"
	$lock ninja -C "$FUZZ_BUILD" tests/fuzz/fuzz_msg \
		tests/fuzz/fuzz_ring >&2 || vpci_die "fuzzer build failed"
}

# Executions libFuzzer reports in @log: its final stats, else the last
# "#N" status line.
fuzz_execs() {
	local n
	n=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' \
		"$1" | tail -n 1)
	[ -z "$n" ] && n=$(sed -n 's/^#\([0-9][0-9]*\)[[:space:]].*/\1/p' "$1" |
		tail -n 1)
	echo "${n:-0}"
}

summary=""
failed=0

# fuzz_one TARGET: fuzz (or replay) one target; appends to $summary.
fuzz_one() {
	local t=$1 bin="$FUZZ_BUILD/tests/fuzz/fuzz_$1"
	local seeds="$VPCI_TOP/tests/fuzz/corpus/$1"
	local work="$FUZZ_WORK/$1" log art start end execs crashes=0 rc f dst
	local -a args

	rm -rf "$work/artifacts"
	mkdir -p "$work/corpus" "$work/artifacts"
	log=$work/fuzz.log
	art=$work/artifacts
	args=(-print_final_stats=1 -artifact_prefix="$art/" -timeout=25
		-rss_limit_mb=4096)
	start=$(date +%s)
	if $replay; then
		# A copy: libFuzzer may write to the corpus directory it reads.
		rm -rf "$work/replay"
		mkdir -p "$work/replay"
		cp "$seeds"/* "$work/replay/"
		# Reproducers of fixed findings: they must pass now.
		for f in "$CRASH_DIR/$t"-*; do
			[ -e "$f" ] && cp "$f" "$work/replay/"
		done
		vpci_log "replaying $seeds and $CRASH_DIR/$t-* with fuzz_$t"
		"$bin" "${args[@]}" -runs=0 "$work/replay" > "$log" 2>&1
		rc=$?
	else
		# New inputs go to the work corpus; the repository's seeds are
		# read from their own directory, never written.
		cp -n "$seeds"/* "$work/corpus/" 2>/dev/null
		vpci_log "fuzzing $t for $seconds s (corpus $work/corpus," \
			"log $log)"
		"$bin" "${args[@]}" -max_total_time="$seconds" -max_len=4096 \
			"$work/corpus" > "$log" 2>&1
		rc=$?
	fi
	end=$(date +%s)
	execs=$(fuzz_execs "$log")
	for f in "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-*; do
		[ -e "$f" ] || continue
		crashes=$((crashes + 1))
		mkdir -p "$CRASH_DIR"
		dst="$CRASH_DIR/$t-$(basename "$f")"
		cp "$f" "$dst"
		vpci_log "fuzz_$t found a crash: reproducer saved as $dst"
		grep -m 1 -E 'invariant failed|ERROR: |runtime error' "$log" |
			sed 's/^/==>   /' >&2
		vpci_log "  reproduce: $bin $dst   (log: $log)"
	done
	if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
		# Died without an artifact (e.g. an EAL failure): say so.
		vpci_log "fuzz_$t exited with status $rc; see $log"
		tail -n 20 "$log" >&2
		crashes=1
	fi
	[ "$crashes" -gt 0 ] && failed=1
	summary="${summary}fuzz $t: $execs execs, $crashes crashes,"
	summary="$summary $((end - start)) s
"
}

# One function read whole before it runs: the tree may change under a
# long run (bash reads a script as it goes).
main() {
	fuzz_deps
	fuzz_build
	for t in $targets; do
		fuzz_one "$t"
	done
	printf '%s' "$summary"
	return "$failed"
}
main; exit $?
