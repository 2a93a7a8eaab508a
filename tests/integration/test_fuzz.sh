#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The libFuzzer harnesses (tests/fuzz) through devtools/fuzz.sh: (a) replay
# the seed corpus and the saved crash reproducers once, (b) fuzz each target
# for $VPCI_FUZZ_SECONDS (30) seconds. Any crash, leak, timeout or
# out-of-memory is a "not ok"; its reproducer is saved under
# tests/fuzz/crashes/ by fuzz.sh.
#
# The harnesses carry their own ASan and UBSan (clang): under the --sanitize
# pass of devtools/test.sh, whose gcc sanitizer runtimes are preloaded, they
# cannot run and this test skips itself.
#
# Build: $VPCI_FUZZ_BUILD, default "$VPCI_BUILD-fuzz" (clang, -Dfuzz=true).
# Work directory (fuzzed corpus, artifacts, libFuzzer logs): $VPCI_FUZZ_WORK,
# default $VPCI_RUN/fuzz, so that runs side by side do not share one.
. "$(dirname "$0")/../../devtools/common.sh"

LOGS=${LOGS:-$VPCI_RUN/test-logs}
mkdir -p "$LOGS"
seconds=${VPCI_FUZZ_SECONDS:-30}
targets="msg ring"
export VPCI_FUZZ_BUILD=${VPCI_FUZZ_BUILD:-$VPCI_BUILD-fuzz}
export VPCI_FUZZ_WORK=${VPCI_FUZZ_WORK:-$VPCI_RUN/fuzz}

case "${LD_PRELOAD:-}" in
*libasan*|*libubsan*)
	echo "# SKIP fuzz: the harnesses have their own (clang) sanitizers;" \
		"not under devtools/test.sh --sanitize"
	exit 0 ;;
esac
# Nothing of a caller's sanitizer settings: libFuzzer sets its own (leak
# detection on, among them).
unset ASAN_OPTIONS UBSAN_OPTIONS

# The summary line fuzz.sh printed for target $2 in log $1:
# "fuzz <t>: <execs> execs, <crashes> crashes, <s> s" -> "execs crashes s".
summary_of() {
	sed -n "s/^fuzz $2: \([0-9]*\) execs, \([0-9]*\) crashes, \([0-9]*\) s$/\1 \2 \3/p" \
		"$1" | tail -n 1
}

# Where fuzz.sh put the reproducers it saved during this run (its log).
reproducers_of() {
	sed -n 's/.*reproducer saved as \(.*\)$/\1/p' "$1" | sed 's/^/#   /'
}

# ---- (a) replay ----
log=$LOGS/fuzz-replay.log
devtools=$VPCI_TOP/devtools
bash "$devtools/fuzz.sh" --replay --target all > "$log" 2>&1
rc=$?
for t in $targets; do
	seeds=$(find "$VPCI_TOP/tests/fuzz/corpus/$t" -maxdepth 1 -type f |
		wc -l)
	repros=$(find "$VPCI_TOP/tests/fuzz/crashes" -maxdepth 1 -type f \
		-name "$t-*" 2>/dev/null | wc -l)
	inputs=$((seeds + repros))
	name="fuzz replay: $inputs inputs of tests/fuzz/corpus/$t and tests/fuzz/crashes/$t-*"
	read -r execs crashes _ <<< "$(summary_of "$log" "$t")"
	if [ -z "${execs:-}" ]; then
		echo "not ok - $name"
		echo "# fuzz.sh printed no summary for $t (exit $rc); see $log"
		tail -n 5 "$log" | sed 's/^/#   /'
	elif [ "$crashes" -ne 0 ]; then
		echo "not ok - $name, $crashes crashes"
		echo "# see $log and $VPCI_FUZZ_WORK/$t/fuzz.log"
		reproducers_of "$log"
	elif [ "$execs" -lt "$inputs" ]; then
		# libFuzzer runs each input once, plus an empty one.
		echo "not ok - $name, 0 crashes"
		echo "# only $execs executions for $inputs inputs; see $VPCI_FUZZ_WORK/$t/fuzz.log"
	else
		echo "ok - $name, 0 crashes"
	fi
	execs="" crashes=""
done
# No fuzzing on a build that did not replay.
if ! grep -q '^fuzz msg: ' "$log"; then
	for t in $targets; do
		echo "not ok - fuzz $t: ${seconds} s (the fuzz build failed; see $log)"
	done
	exit 1
fi

# ---- (b) fuzz each target ----
for t in $targets; do
	log=$LOGS/fuzz-$t.log
	bash "$devtools/fuzz.sh" --seconds "$seconds" --target "$t" \
		> "$log" 2>&1
	rc=$?
	read -r execs crashes took <<< "$(summary_of "$log" "$t")"
	if [ -z "${execs:-}" ]; then
		echo "not ok - fuzz $t: ${seconds} s"
		echo "# fuzz.sh printed no summary (exit $rc); see $log"
		tail -n 5 "$log" | sed 's/^/#   /'
	elif [ "$crashes" -ne 0 ] || [ "$rc" -ne 0 ]; then
		echo "not ok - fuzz $t: $took s, $execs execs, $crashes crashes"
		echo "# see $log and $VPCI_FUZZ_WORK/$t/fuzz.log"
		reproducers_of "$log"
	elif [ "$execs" -eq 0 ]; then
		echo "not ok - fuzz $t: $took s, 0 execs"
		echo "# the fuzzer ran nothing; see $VPCI_FUZZ_WORK/$t/fuzz.log"
	else
		echo "ok - fuzz $t: $took s, $execs execs, 0 crashes"
	fi
	execs="" crashes="" took=""
done
