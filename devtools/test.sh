#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Installs what is missing, builds, and runs every test. Each test prints
# "ok - name" or "not ok - name" lines; the closing line counts them.
#
# usage: devtools/test.sh [test-name-filter]
set -u
. "$(dirname "$0")/common.sh"

filter=${1:-}
vpci_setup
out=$VPCI_RUN/test-logs
rm -rf "$out"
mkdir -p "$out"

passed=0
failed=0
run() {
	local name=$1 log="$out/$1.log" rc p f
	shift
	case "$name" in *"$filter"*) ;; *) return ;; esac
	vpci_log "$name"
	"$@" > "$log" 2> "$log.err"
	rc=$?
	grep -E '^(not )?ok - ' "$log"
	p=$(grep -c '^ok - ' "$log")
	f=$(grep -c '^not ok - ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name exited with status $rc (see $log.err)"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

run unit-msg "$VPCI_BUILD/tests/test_vhost_pci_msg"
run unit-v2 "$VPCI_BUILD/tests/test_vhost_pci_v2"
run datapath "$VPCI_BUILD/tests/test_vpci_datapath" "$VPCI_PMD" \
	"$VPCI_RUN/t-dp.sock"
for t in "$VPCI_TOP"/tests/integration/test_*.sh; do
	run "$(basename "$t" .sh)" bash "$t"
done

echo "logs in $out"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
