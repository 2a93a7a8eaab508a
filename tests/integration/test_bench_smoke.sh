#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# devtools/bench.sh must keep working: one short scenario, both PMDs. This
# checks the report's shape, that traffic flowed, where the forwarding
# threads ran and what was negotiated, never a rate: the bench has no
# thresholds and neither has this. Its summaries (best/median, verdict
# against the expected file, bench-agree's comparison) are checked on
# canned input.
. "$(dirname "$0")/lib.sh"

json=$LOGS/bench-smoke.json
log=$LOGS/bench-smoke.log
exp=$LOGS/bench-smoke-expected.json
rm -f "$json" "$exp"
bash "$VPCI_TOP/devtools/bench.sh" --scenarios loopback --sizes 64 \
	--seconds 3 --repeat 1 --json "$json" --expected "$exp" \
	--update-expected > "$log" 2>&1
check "bench-smoke-exits-0" [ $? -eq 0 ]
check "bench-smoke-prints-the-estimated-run-time" \
	grep -qE '^==> 1 row\(s\) x 2 PMDs x 1 runs x .*: about [0-9]+ min' "$log"
check "bench-smoke-prints-the-ratio-table" \
	grep -qE '^loopback +64 +split +1 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+' "$log"
check "bench-smoke-prints-a-line-per-run-with-threads-and-foreign-load" \
	[ "$(grep -cE '^  AB +1 net_vhost(_pci)? +[0-9.]+ Mpps \[[0-9. ]+\] c/p .* A .*\| B .* foreign [0-9]+%' "$log")" -eq 2 ]
check "bench-smoke-prints-the-negotiated-features-alike" \
	grep -qE '^  loopback/64/split/1q +net_vhost [0-9a-f]+ +net_vhost_pci [0-9a-f]+ +same$' "$log"
check "bench-smoke-json-has-both-pmds-with-traffic-on-their-own-cpus" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["rows"]) == 1, d["rows"]
r = d["rows"][0]
assert r["key"] == "loopback/64/split/1q", r["key"]
assert set(r["pmds"]) == {"net_vhost", "net_vhost_pci"}, r["pmds"].keys()
assert r["ratio_best"] > 0 and r["features_equal"], r
for p, s in r["pmds"].items():
    assert s["best"] > 0 and s["median"] > 0 and s["runs"] == 1, (p, s)
    assert s["cycles_best"] is None or s["cycles_best"] > 0, (p, s)
    run = s["run_list"][0]
    assert len(run["windows_mpps"]) == 3, (p, run)
    # The PMD side forwards on lcore 1 (CPU 1), the peer on lcore 0.
    a, b = run["threads"].split("|")
    assert "@1 " in a and a.startswith("A") and "@0 " in b, (p, run["threads"])
    assert run["foreign_pct"] is not None, (p, run)
assert d["machine"] and d["command"].startswith("devtools/bench.sh"), d
' "$json"
check "bench-smoke-update-expected-writes-both-bests" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
e = d["rows"]["loopback/64/split/1q"]
assert e["net_vhost"] > 0 and e["net_vhost_pci"] > 0, e
assert d["tolerance"] == 0.1 and d["command"].startswith("devtools/bench.sh"), d
' "$exp"
check "bench-expected-file-in-the-tree-parses" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert 0 < d["tolerance"] < 1 and d["rows"], d
' "$VPCI_TOP/devtools/bench-expected.json"

# ---- the summaries, on canned input ----
canned=$LOGS/bench-canned
rm -rf "$canned"
mkdir -p "$canned"
# Row 1: vhost runs 10 and 6 Mpps, vpci 12 and 3: bests 10/12 (ratio
# 1.20), medians 6/3 (0.50). Row 2: vhost 4, vpci 2; features differ.
t=$'\t'
{
	for l in "dequeue 64 split 1 net_vhost 1 AB 10000000 9e6,10e6,11e6 100 - 110018020 1 A w1@1 99% | B w0@0 99% - 99 2600" \
		"dequeue 64 split 1 net_vhost_pci 1 AB 12000000 12e6,12e6,12e6 80 - 110018020 40 A w1@1 99% | B w0@0 99% - 99 2600" \
		"dequeue 64 split 1 net_vhost_pci 2 BA 3000000 3e6,3e6,3e6 90 - 110018020 1 A w1@1 99% | B w0@0 99% - 99 2600" \
		"dequeue 64 split 1 net_vhost 2 BA 6000000 6e6,6e6,6e6 120 - 110018020 1 A w1@1 99% | B w0@0 99% - 99 2600" \
		"loopback 64 split 1 net_vhost 1 AB 4000000 4e6,4e6,4e6 200 - 110018020 1 A w1@1 99% | B w0@0 99% - 99 2600" \
		"loopback 64 split 1 net_vhost_pci 1 AB 2000000 2e6,2e6,2e6 300 - 110018000 1 A w1@1 99% | B w0@0 99% - 99 2600"; do
		# fields: sc size path q pmd round order pps windows c/p full
		# features foreign threads flags fwd% MHz
		read -r sc sz p q pmd r o pps w c f feat fo th1 th2 th3 th4 th5 th6 th7 fl fwd mhz <<< "$l"
		echo "$sc$t$sz$t$p$t$q$t$pmd$t$r$t$o$t$pps$t$w$t$c$t$f$t$feat$t$fo$t$th1 $th2 $th3 $th4 $th5 $th6 $th7$t$fl$t$fwd$t$mhz"
	done
} > "$canned/runs.tsv"
cat > "$canned/expected.json" <<'EOF'
{"tolerance": 0.1, "command": "canned", "rows": {
 "dequeue/64/split/1q": {"net_vhost": 10.5, "net_vhost_pci": 12.0},
 "loopback/64/split/1q": {"net_vhost": 5.0, "net_vhost_pci": 2.0}}}
EOF
python3 "$VPCI_TOP/devtools/bench-report.py" report --runs "$canned/runs.tsv" \
	--repeat 2 --seconds 3 --expected "$canned/expected.json" \
	--json "$canned/report.json" > "$canned/report.log" 2>&1
check "bench-report-ratio-of-bests-and-of-medians" \
	grep -qE '^dequeue +64 +split +1 +10.00 +6.00 +12.00 +3.00 +1.20 +0.50 +100.0 +100.0 +80.0 +80.0 +PASS ' "$canned/report.log"
check "bench-report-marks-foreign-load-and-peer-bound" \
	grep -qE '^dequeue .*vpci foreign 1/2, vpci peer-bound \(busy ' "$canned/report.log"
check "bench-report-verdict-fails-below-expected-minus-tolerance" \
	grep -qE '^  loopback/64/split/1q +expected vhost 5.00 vpci 2.00 -> FAIL$' "$canned/report.log"
check "bench-report-flags-features-that-differ" \
	grep -qE '^  loopback/64/split/1q +net_vhost 110018020 +net_vhost_pci 110018000 +DIFFER: MAC$' "$canned/report.log"

# bench-agree's comparison: ratios of bests within 10 % agree.
mk() { # FILE RATIO1 RATIO2
	printf '{"rows": [{"key": "dequeue/64/split/1q", "ratio_best": %s}, {"key": "loopback/64/split/1q", "ratio_best": %s}]}\n' \
		"$2" "$3" > "$1"
}
mk "$canned/a.json" 1.00 2.00
mk "$canned/b.json" 1.05 2.19
mk "$canned/c.json" 1.05 2.30
bash "$VPCI_TOP/devtools/bench-agree.sh" --compare "$canned/a.json" "$canned/b.json" > "$canned/agree-ok.log"
check "bench-agree-passes-when-ratios-agree-within-10pct" \
	[ $? -eq 0 -a "$(grep -c ' agree$' "$canned/agree-ok.log")" -eq 2 ]
check "bench-agree-prints-each-pair-and-the-verdict" \
	grep -qE '^loopback/64/split/1q +2.000 +2.190 +9.5% +agree$' "$canned/agree-ok.log"
bash "$VPCI_TOP/devtools/bench-agree.sh" --compare "$canned/a.json" "$canned/c.json" > "$canned/agree-bad.log"
check "bench-agree-fails-when-a-ratio-differs-by-more-than-10pct" \
	[ $? -eq 1 -a "$(grep -c 'DIFFER$' "$canned/agree-bad.log")" -eq 1 ]
check "bench-agree-verdict-line" grep -q '^verdict: DISAGREE' "$canned/agree-bad.log"

# The ablation study (devtools/ablation) patches this tree: the patch must
# keep applying as TX changes, or ablate.sh stops before its first run.
check "ablation-patch-applies-to-this-tree" \
	sh -c "cd '$VPCI_TOP' && git apply --check devtools/ablation/tx-ablation.patch"
check "ablation-script-parses" bash -n "$VPCI_TOP/devtools/ablation/ablate.sh"
