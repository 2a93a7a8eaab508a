#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# devtools/bench.sh must keep working: one short scenario, both PMDs. This
# checks the report's shape and that traffic flowed, never a rate: the
# bench has no thresholds and neither has this.
. "$(dirname "$0")/lib.sh"

json=$LOGS/bench-smoke.json
log=$LOGS/bench-smoke.log
rm -f "$json"
bash "$VPCI_TOP/devtools/bench.sh" --scenarios loopback --sizes 64 \
	--seconds 3 --repeat 1 --json "$json" > "$log" 2>&1
check "bench-smoke-exits-0" [ $? -eq 0 ]
check "bench-smoke-prints-the-ratio-table" \
	grep -qE '^loopback +64 +[0-9.]+ +[0-9.]+ +[0-9.]+' "$log"
check "bench-smoke-json-has-both-pmds-with-traffic" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = {x["pmd"]: x for x in d["results"]}
assert set(r) == {"net_vhost", "net_vhost_pci"}, r
for x in r.values():
    assert x["scenario"] == "loopback" and x["size"] == 64, x
    assert x["mpps"] > 0, x
    assert x["cycles_per_pkt"] is None or x["cycles_per_pkt"] > 0, x
assert d["machine"] and d["command"].startswith("devtools/bench.sh"), d
' "$json"
