#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Stress (tests/test_vpci_stress.c): for STRESS_ROUNDS rounds (default 400)
# the application stops, starts, disconnects, closes and re-creates ports
# while v1 fake peers and v2 clients connect and leave; then a fresh port
# must serve a fresh peer byte for byte. Its ok/not ok lines show here,
# with its exit status and summary line. A thread that stops making
# progress is a deadlock: every thread's backtrace goes to stress.gdb.log
# before the process is killed. STRESS_SEED repeats a run's choices.
. "$(dirname "$0")/lib.sh"

STRESS="$VPCI_BUILD/tests/test_vpci_stress"
log=$LOGS/stress.out
bt=$LOGS/stress.gdb.log
limit=${STRESS_TIMEOUT:-240}
VPCI_PREFIXES="${VPCI_PFX}-t-stress"
VPCI_SOCKETS="$VPCI_RUN/t-stress0.sock $VPCI_RUN/t-stress1.sock"

# Every thread's backtrace, if gdb is there.
backtraces() {
	if command -v gdb > /dev/null; then
		timeout 60 gdb -batch -p "$1" -ex "info threads" \
			-ex "thread apply all bt" > "$bt" 2>&1
	else
		echo "gdb not installed" > "$bt"
	fi
}

# Its stderr stays in $LOGS, where devtools/test.sh looks for sanitizer
# reports.
"$STRESS" "$VPCI_PMD" "$VPCI_RUN" > "$log" 2> "$log.err" < /dev/null &
pid=$!
VPCI_PIDS="$VPCI_PIDS $pid"
hung=""
for _ in $(seq $((limit * 10))); do
	kill -0 "$pid" 2> /dev/null || break
	# The watchdog found no progress for 20 s.
	if grep -q '^# stall:' "$log"; then
		hung="stalled"
		break
	fi
	sleep 0.1
done
if kill -0 "$pid" 2> /dev/null; then
	hung=${hung:-"still running after $limit s"}
	backtraces "$pid"
	kill -KILL "$pid"
fi
wait "$pid"
rc=$?

grep -E '^(not )?ok - |^# ' "$log"
summary=$(grep '^stress: ' "$log")
if [ -n "$hung" ]; then
	not_ok "stress: runs to its end" \
		"$hung: backtraces in $bt; $(grep -A8 '^# stall:' "$log" | tr '\n' ' ')"
elif [ "$rc" -eq 0 ]; then
	ok "stress: exits 0 ($summary)"
else
	not_ok "stress: exits 0" \
		"status $rc; ${summary:-no summary}; $(tail -3 "$log.err" | tr '\n' ' ')(logs $log, $log.err)"
fi
