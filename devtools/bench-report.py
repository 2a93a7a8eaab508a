#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Summaries for devtools/bench.sh and devtools/bench-agree.sh.

report: the per-run lines bench.sh wrote (runs.tsv) -> the throughput
        table (best and median run per PMD, their ratios), the peer's
        negotiated features per row, the verdict against the expected
        file, and optionally JSON; --update-expected rewrites that file.
agree:  two bench JSON files -> every row's ratio of bests side by side;
        exit 0 when each pair agrees within the tolerance, else 1.
"""

import argparse
import json
import statistics
import sys

PMDS = ("net_vhost", "net_vhost_pci")
FIELDS = ("scenario", "size", "path", "queues", "pmd", "round", "order", "pps",
          "windows", "cycles", "full", "features", "foreign", "threads", "flags",
          "fwd_pct", "mhz")
# A run with more foreign load than this (% of one CPU) is marked.
FOREIGN_PCT = 5
# Whether the PMD core, not the peer, was the bottleneck:
# - enqueue (testpmd txonly counts the cycles of every burst): the share
#   of TX bursts that found room for 32 packets, under FULL_PCT when the
#   peer's ring was full most of the time;
# - the other scenarios: "busy", the share of the forwarding thread's
#   running time spent in bursts that received packets, from
#   cycles/packet x Rx-pps over the TSC rate x the thread's CPU share;
#   under BUSY_PCT the core waited for the peer.
FULL_PCT = 50
BUSY_PCT = 80
# Virtio feature bits worth naming when two PMDs negotiate differently.
BITS = {0: "CSUM", 1: "GUEST_CSUM", 5: "MAC", 15: "MRG_RXBUF", 16: "STATUS",
        17: "CTRL_VQ", 18: "CTRL_RX", 19: "CTRL_VLAN", 20: "CTRL_RX_EXTRA",
        21: "GUEST_ANNOUNCE", 22: "MQ", 23: "CTRL_MAC_ADDR", 24: "NOTIFY_ON_EMPTY", 27: "ANY_LAYOUT",
        28: "RING_INDIRECT_DESC", 29: "RING_EVENT_IDX", 30: "PROTOCOL_FEATURES",
        32: "VERSION_1", 33: "ACCESS_PLATFORM", 34: "RING_PACKED",
        35: "IN_ORDER", 36: "ORDER_PLATFORM", 37: "SR_IOV", 38: "NOTIFICATION_DATA"}


def num(s):
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def row_key(r):
    return "%s/%s/%s/%sq" % (r["scenario"], r["size"], r["path"], r["queues"])


def read_runs(path):
    runs = []
    with open(path) as f:
        for line in f:
            v = line.rstrip("\n").split("\t")
            v += ["-"] * (len(FIELDS) - len(v))
            runs.append(dict(zip(FIELDS, v)))
    return runs


def busy(r):
    """% of the PMD forwarding thread's running time in non-empty bursts."""
    c, p, m, t = num(r["cycles"]), num(r["pps"]), num(r["mhz"]), num(r["fwd_pct"])
    if not (c and p and m and t):
        return None
    return round(min(100.0 * c * p / (m * 1e6 * t / 100), 999), 1)


def bottleneck(r):
    """The PMD-core-bound figure of a run: (name, value, threshold)."""
    if r["scenario"] == "enqueue":
        return "full", num(r["full"]), FULL_PCT
    return "busy", busy(r), BUSY_PCT


def side(runs):
    """Best and median run of one PMD in one row."""
    ok = [r for r in runs if num(r["pps"])]
    bn = [b for b in (bottleneck(r)[1] for r in ok) if b is not None]
    pps = sorted(num(r["pps"]) / 1e6 for r in ok)
    cyc = sorted(c for c in (num(r["cycles"]) for r in ok) if c)
    full = [f for f in (num(r["full"]) for r in ok) if f is not None]
    foreign = [num(r["foreign"]) for r in ok]
    feats = sorted({r["features"] for r in ok if r["features"] != "-"})
    return {
        "best": pps[-1] if pps else None,
        "median": statistics.median_low(pps) if pps else None,
        "cycles_best": cyc[0] if cyc else None,
        "cycles_median": statistics.median_low(cyc) if cyc else None,
        "full_bursts_median": statistics.median_low(full) if full else None,
        "pmd_bound_median": statistics.median_low(bn) if bn else None,
        "pmd_bound_measure": bottleneck(runs[0])[0] if runs else None,
        "runs": len(runs),
        "failed_runs": len(runs) - len(ok),
        "foreign_runs": sum(1 for f in foreign if f is not None and f > FOREIGN_PCT),
        "cpu_shared_runs": sum(1 for r in ok if r["flags"] == "cpu-shared"),
        "features": feats,
        "run_list": [{"round": int(r["round"]), "order": r["order"],
                      "mpps": round(num(r["pps"]) / 1e6, 3) if num(r["pps"]) else None,
                      "windows_mpps": [round(float(w) / 1e6, 3) for w in r["windows"].split(",")
                                       if num(w) is not None],
                      "cycles_per_pkt": num(r["cycles"]), "full_bursts_pct": num(r["full"]),
                      "busy_pct": busy(r), "fwd_thread_cpu_pct": num(r["fwd_pct"]),
                      "foreign_pct": num(r["foreign"]), "threads": r["threads"].strip(),
                      "flags": r["flags"]} for r in runs],
    }


def ratio(a, b):
    return round(b / a, 3) if a and b else None


def decode(diff):
    return " ".join(BITS.get(i, "bit%d" % i) for i in range(64) if diff >> i & 1)


def summarize(runs):
    rows, order = {}, []
    for r in runs:
        k = row_key(r)
        if k not in rows:
            rows[k] = {"key": k, "scenario": r["scenario"], "size": int(r["size"]),
                       "path": r["path"], "queues": int(r["queues"]) if r["queues"].isdigit() else 1,
                       "by_pmd": {p: [] for p in PMDS}}
            order.append(k)
        rows[k]["by_pmd"].setdefault(r["pmd"], []).append(r)
    out = []
    for k in order:
        row = rows.pop(k)
        row["pmds"] = {p: side(v) for p, v in row.pop("by_pmd").items()}
        a, b = row["pmds"]["net_vhost"], row["pmds"]["net_vhost_pci"]
        row["ratio_best"] = ratio(a["best"], b["best"])
        row["ratio_median"] = ratio(a["median"], b["median"])
        fa, fb = a["features"], b["features"]
        row["features_equal"] = bool(fa) and fa == fb
        flags = []
        if not row["features_equal"]:
            flags.append("features-differ")
        for p, s in row["pmds"].items():
            short = "vhost" if p == "net_vhost" else "vpci"
            if s["foreign_runs"]:
                flags.append("%s foreign %d/%d" % (short, s["foreign_runs"], s["runs"]))
            if s["cpu_shared_runs"]:
                flags.append("%s cpu-shared %d/%d" % (short, s["cpu_shared_runs"], s["runs"]))
            if s["failed_runs"]:
                flags.append("%s failed %d/%d" % (short, s["failed_runs"], s["runs"]))
            lim = FULL_PCT if row["scenario"] == "enqueue" else BUSY_PCT
            if (row["scenario"].startswith(("dequeue", "enqueue")) and s["pmd_bound_median"] is not None
                    and s["pmd_bound_median"] < lim):
                flags.append("%s peer-bound (%s %.0f%%)" % (short, s["pmd_bound_measure"],
                                                          s["pmd_bound_median"]))
        row["flags"] = flags
        out.append(row)
    return out


def load_expected(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def verdict(row, exp, tol):
    """DTS's check: each PMD's throughput at least expected * (1 - tol)."""
    e = (exp or {}).get("rows", {}).get(row["key"])
    if not e:
        return "n/a", None
    res = "PASS"
    for p in PMDS:
        got, want = row["pmds"][p]["best"], e.get(p)
        if want is None:
            continue
        if got is None or got < want * (1 - tol):
            res = "FAIL"
    return res, e


def multi_queue(rows):
    """loopback-8q's best over loopback's, per PMD, where both rows ran."""
    by = {(r["scenario"], r["size"], r["path"]): r for r in rows}
    out = []
    for (sc, size, path), r8 in by.items():
        r1 = by.get(("loopback", size, path))
        if sc != "loopback-8q" or not r1:
            continue
        parts = []
        for p in PMDS:
            a, b = r1["pmds"][p]["best"], r8["pmds"][p]["best"]
            parts.append("%s %s" % (p, "%.2fx" % (b / a) if a and b else "-"))
            r8.setdefault("vs_1q", {})[p] = round(b / a, 3) if a and b else None
        out.append("%5s %-13s 8q/1q best: %s" % (size, path, ", ".join(parts)))
    return out


def fmt(v, spec="%.2f"):
    return "-" if v is None else spec % v


def report(args):
    runs = read_runs(args.runs)
    rows = summarize(runs)
    exp = load_expected(args.expected)
    tol = float(exp.get("tolerance", args.tolerance)) if exp else float(args.tolerance)
    print("machine: %s" % args.machine)
    print("command: %s" % args.command)
    print("method:  %d runs per PMD and row, interleaved AB/BA; a run's figure is the median "
          "of %d one-second Rx-pps windows after the first traffic window; best and median run "
          "per PMD; ratio = net_vhost_pci / net_vhost" % (args.repeat, args.seconds))
    hdr = "%-13s %5s %-13s %2s  %-13s %-13s %-11s %-13s %-13s %-7s %s"
    print()
    print(hdr % ("scenario", "size", "path", "q", "vhost Mpps", "vpci Mpps", "ratio",
                 "vhost c/p", "vpci c/p", "verdict", "flags"))
    print(hdr % ("", "", "", "", "best   med", "best   med", "best  med", "best   med",
                 "best   med", "", ""))
    for row in rows:
        a, b = row["pmds"]["net_vhost"], row["pmds"]["net_vhost_pci"]
        v, e = verdict(row, exp, tol)
        row["verdict"] = v
        row["expected"] = e
        print(hdr % (row["scenario"], row["size"], row["path"], row["queues"],
                     "%-6s %s" % (fmt(a["best"]), fmt(a["median"])),
                     "%-6s %s" % (fmt(b["best"]), fmt(b["median"])),
                     "%-5s %s" % (fmt(row["ratio_best"]), fmt(row["ratio_median"])),
                     "%-6s %s" % (fmt(a["cycles_best"], "%.1f"), fmt(a["cycles_median"], "%.1f")),
                     "%-6s %s" % (fmt(b["cycles_best"], "%.1f"), fmt(b["cycles_median"], "%.1f")),
                     v, ", ".join(row["flags"])))
    print()
    print("negotiated features (the peer's \"features after negotiate\"):")
    for row in rows:
        fa = row["pmds"]["net_vhost"]["features"]
        fb = row["pmds"]["net_vhost_pci"]["features"]
        line = "  %-28s net_vhost %-18s net_vhost_pci %-18s" % (
            row["key"], "/".join(fa) or "-", "/".join(fb) or "-")
        if row["features_equal"]:
            line += " same"
        elif fa and fb:
            try:
                diff = int(fa[0].split("/")[0], 16) ^ int(fb[0].split("/")[0], 16)
                line += " DIFFER: " + decode(diff)
            except ValueError:
                line += " DIFFER"
        else:
            line += " DIFFER (not read)"
        print(line)
    mq = multi_queue(rows)
    if mq:
        print()
        print("loopback_multi_queues (DTS expects 8 queues on 8 cores a side to give about 8x the "
              "1-queue rate; here one forwarding core serves all 8 queues a side):")
        for line in mq:
            print("  " + line)
    if exp:
        print()
        print("expected: %s (tolerance %.0f %%; %s)" % (args.expected, tol * 100,
                                                       exp.get("command", "")))
        for row in rows:
            e = row["expected"]
            if e:
                print("  %-28s expected vhost %s vpci %s -> %s" % (
                    row["key"], fmt(e.get("net_vhost")), fmt(e.get("net_vhost_pci")), row["verdict"]))
            else:
                print("  %-28s no expectation" % row["key"])
    print()
    print("%d run(s) in %d s; per-run lines: %s" % (len(runs), args.took, args.runs))
    if args.json:
        doc = {"machine": args.machine, "command": args.command,
               "method": {"repeat": args.repeat, "seconds": args.seconds,
                          "figure": "median of per-second Rx-pps windows, first traffic window dropped",
                          "headline": "ratio of best runs", "foreign_pct_mark": FOREIGN_PCT},
               "took_seconds": args.took, "tolerance": tol, "rows": rows}
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=1)
        print("json: %s" % args.json)
    if args.update_expected:
        doc = {"note": "bench verdict baseline: each PMD's best Mpps per row; "
                       "rewrite with devtools/bench.sh --update-expected",
               "machine": args.machine, "command": args.command, "tolerance": float(args.tolerance),
               "rows": dict((exp or {}).get("rows", {}))}
        for row in rows:
            if all(row["pmds"][p]["best"] for p in PMDS):
                doc["rows"][row["key"]] = {p: round(row["pmds"][p]["best"], 3) for p in PMDS}
        with open(args.expected, "w") as f:
            json.dump(doc, f, indent=1, sort_keys=True)
            f.write("\n")
        print("expected written: %s" % args.expected)
    return 0


def agree(args):
    docs = []
    for p in (args.first, args.second):
        with open(p) as f:
            docs.append({r["key"]: r.get("ratio_best") for r in json.load(f)["rows"]})
    tol = float(args.tolerance)
    ok = True
    print("%-30s %8s %8s %8s" % ("row", "ratio 1", "ratio 2", "diff"))
    for k in list(docs[0]) + [k for k in docs[1] if k not in docs[0]]:
        r1, r2 = docs[0].get(k), docs[1].get(k)
        if not r1 or not r2:
            print("%-30s %8s %8s %8s  MISSING" % (k, fmt(r1, "%.3f"), fmt(r2, "%.3f"), "-"))
            ok = False
            continue
        d = max(r1, r2) / min(r1, r2) - 1
        good = d <= tol
        ok = ok and good
        print("%-30s %8.3f %8.3f %7.1f%%  %s" % (k, r1, r2, d * 100, "agree" if good else "DIFFER"))
    if not docs[0] and not docs[1]:
        ok = False
    print("verdict: %s (ratios of bests within %.0f %%)" % ("AGREE" if ok else "DISAGREE", tol * 100))
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("report")
    r.add_argument("--runs", required=True)
    r.add_argument("--machine", default="")
    r.add_argument("--command", default="")
    r.add_argument("--seconds", type=int, default=0)
    r.add_argument("--repeat", type=int, default=0)
    r.add_argument("--took", type=int, default=0)
    r.add_argument("--expected", default="")
    r.add_argument("--tolerance", default="0.10")
    r.add_argument("--json")
    r.add_argument("--update-expected", action="store_true")
    a = sub.add_parser("agree")
    a.add_argument("first")
    a.add_argument("second")
    a.add_argument("--tolerance", default="0.10")
    args = ap.parse_args()
    return report(args) if args.cmd == "report" else agree(args)


if __name__ == "__main__":
    sys.exit(main())
