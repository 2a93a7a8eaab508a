#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Does the bench agree with itself? Runs devtools/bench.sh twice back to
# back with the same arguments and compares every row's headline figure,
# the ratio of the two PMDs' best runs: each pair must agree within the
# tolerance (10 %: max/min - 1). Prints each pair and a verdict; exit
# status 0 when all agree, 1 otherwise.
#
# usage: devtools/bench-agree.sh [--tolerance F] [bench.sh args, no --json]
#        devtools/bench-agree.sh --compare A.json B.json [--tolerance F]
#          (only the comparison, of two bench.sh --json files)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
tolerance=0.10
if [ "${1:-}" = --tolerance ]; then
	tolerance=$2
	shift 2
fi
if [ "${1:-}" = --compare ]; then
	shift
	exec python3 "$top/devtools/bench-report.py" agree --tolerance "$tolerance" "$@"
fi
for a in "$@"; do
	[ "$a" = --json ] && { echo "error: bench-agree.sh sets --json itself" >&2; exit 2; }
done
dir=${VPCI_RUN:-/run/vhost-pci}/bench-agree
mkdir -p "$dir"
for i in 1 2; do
	echo "==> invocation $i of 2: devtools/bench.sh $*" >&2
	rm -f "$dir/$i.json"
	bash "$top/devtools/bench.sh" "$@" --json "$dir/$i.json" > "$dir/$i.log" ||
		{ echo "error: invocation $i failed, see $dir/$i.log" >&2; exit 1; }
	sed -n '/^scenario /,/^$/p' "$dir/$i.log" >&2
done
python3 "$top/devtools/bench-report.py" agree --tolerance "$tolerance" "$dir/1.json" "$dir/2.json"
