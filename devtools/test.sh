#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Installs what is missing, builds, and runs every test. Each test prints
# "ok - name" or "not ok - name" lines; the closing line counts them.
#
# usage: devtools/test.sh [--sanitize] [test-name-filter]
#   --sanitize: the whole suite on an ASan+UBSan build (build-asan/, meson's
#   b_sanitize), stock testpmd included through LD_PRELOAD; any sanitizer
#   report fails the run.
set -u
sanitize=0
if [ "${1:-}" = --sanitize ]; then
	sanitize=1
	shift
	export VPCI_BUILD=${VPCI_BUILD_ASAN:-$(cd "$(dirname "$0")/.." && pwd)/build-asan}
	# No alignment check: DPDK's inline headers (rte_hash_crc.h among
	# them) load misaligned words on x86 by design.
	export VPCI_MESON_ARGS="-Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fno-sanitize=alignment"
fi
. "$(dirname "$0")/common.sh"

filter=${1:-}
vpci_setup
if [ "$sanitize" = 1 ]; then
	# The PCI-mode guests run stock, uninstrumented testpmd: they get the
	# plain build's PMD (devtools/guest.sh); the host side runs ASan.
	export VPCI_GUEST_BUILD=$VPCI_TOP/build
	VPCI_BUILD=$VPCI_GUEST_BUILD VPCI_MESON_ARGS="" vpci_build
fi
out=$VPCI_RUN/test-logs
if [ "$sanitize" = 1 ]; then
	out=$VPCI_RUN/test-logs-asan
	export LOGS=$out
	# Stock testpmd is not instrumented: the runtimes come first.
	LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
	export LD_PRELOAD
	# Leaks: DPDK keeps its memory until exit by design.
	export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi
rm -rf "$out"
mkdir -p "$out"

passed=0
failed=0
skipped=0
run() {
	local name=$1 log="$out/$1.log" rc p f k
	shift
	case "$name" in *"$filter"*) ;; *) return ;; esac
	vpci_log "$name"
	"$@" > "$log" 2> "$log.err"
	rc=$?
	grep -E '^((not )?ok - |# SKIP )' "$log"
	p=$(grep -c '^ok - ' "$log")
	f=$(grep -c '^not ok - ' "$log")
	k=$(grep -c '^# SKIP ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc (see $log.err)"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + k))
}

run unit-msg "$VPCI_BUILD/tests/test_vhost_pci_msg"
run unit-v2 "$VPCI_BUILD/tests/test_vhost_pci_v2"
run datapath "$VPCI_BUILD/tests/test_vpci_datapath" "$VPCI_PMD" \
	"$VPCI_RUN/t-dp.sock"
for t in "$VPCI_TOP"/tests/integration/test_*.sh; do
	# Compilers and sphinx do not run under the preloaded sanitizer
	# runtimes, and the fuzzers bring their own.
	case "$sanitize:$(basename "$t")" in
	1:test_build_warnings.sh|1:test_fuzz.sh|1:test_docs.sh) continue ;;
	# Guests with none of our host code in them: once is enough.
	1:test_guest_ivshmem.sh|1:test_pci_bad_metadata.sh) continue ;;
	esac
	run "$(basename "$t" .sh)" bash "$t"
done

# Issue 5's checklist: each of its 14 classes of hostile input has at
# least one passing check named "class N (slug): ..." (the list is in
# doc/guides/prog_guide/vhost_pci_lib.rst, "Security model").
if [ -z "$filter" ]; then
	missing=""
	for n in $(seq 14); do
		grep -rqh "^ok - class $n (" "$out" || missing="$missing $n"
	done
	if [ -z "$missing" ]; then
		echo "ok - hostile-input checklist: classes 1-14 each have a passing check"
		passed=$((passed + 1))
	else
		echo "not ok - hostile-input checklist: no passing check for class(es)$missing"
		failed=$((failed + 1))
	fi
fi

if [ "$sanitize" = 1 ]; then
	reports=$(grep -lE 'ERROR: AddressSanitizer|runtime error:' -r "$out" \
		2>/dev/null | head -5)
	if [ -z "$reports" ]; then
		echo "ok - sanitizers-report-nothing"
		passed=$((passed + 1))
	else
		echo "not ok - sanitizers-report-nothing"
		echo "# reports in: $reports"
		failed=$((failed + 1))
	fi
fi
echo "logs in $out"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
