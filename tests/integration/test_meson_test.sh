#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The C suites are meson tests: `meson test -C build` lists them and runs
# them on their own, without devtools/test.sh.
. "$(dirname "$0")/lib.sh"

log=$LOGS/meson-test.log
list=$(env -u LD_PRELOAD meson test -C "$VPCI_BUILD" --no-rebuild --list 2>&1)
check "meson test --list: unit-msg, unit-v2 and datapath are registered" \
	test "$(echo "$list" | grep -cE ':(unit|datapath) / (unit-msg|unit-v2|datapath)$')" -eq 3
# The sanitized binaries carry their runtime; meson itself runs without it.
if env -u LD_PRELOAD meson test -C "$VPCI_BUILD" --no-rebuild \
		--suite unit --num-processes 1 > "$log" 2>&1 &&
		grep -qE '^Ok: +2 *$' "$log" && grep -qE '^Fail: +0 *$' "$log"; then
	ok "meson test --suite unit: unit-msg and unit-v2 pass"
else
	not_ok "meson test --suite unit: unit-msg and unit-v2 pass" \
		"$(grep -E '^(Ok|Fail|Timeout):' "$log" | tr '\n' ' ') (see $log)"
fi
