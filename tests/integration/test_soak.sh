#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# devtools/soak.sh, short: 5 peers SIGKILLed under traffic while the
# application holds zero-copy mbufs in their memory (see the soak's header
# for the set-up and what each line checks). The soak prints the ok/not ok
# lines; this adds its exit status and summary, and points at the logs.
. "$(dirname "$0")/lib.sh"

rounds=5
log=$LOGS/soak.out
LOGS=$LOGS SOAK_NO_SETUP=1 timeout 300 bash "$VPCI_TOP/devtools/soak.sh" --rounds $rounds \
	> "$log" 2> "$log.err"
rc=$?
grep -E '^(not )?ok - |^# ' "$log"
summary=$(grep '^soak: ' "$log")
if [ "$rc" -eq 0 ]; then
	ok "fault (peer-sigkill): soak of $rounds rounds exits 0 ($summary)"
else
	not_ok "fault (peer-sigkill): soak of $rounds rounds exits 0" \
		"status $rc; ${summary:-no summary}; $(tail -3 "$log.err" | tr '\n' ' ')(log $log)"
fi
if grep -qE "^soak: $rounds rounds, fds ([0-9]+) -> \\1, rss [0-9]+ kB -> [0-9]+ kB$" "$log"; then
	ok "fault (peer-sigkill): soak summary: all $rounds rounds, fd count equal"
else
	not_ok "fault (peer-sigkill): soak summary: all $rounds rounds, fd count equal" \
		"got '${summary:-nothing}'"
fi
