#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Side-by-side benchmark: stock net_vhost (librte_vhost) and net_vhost_pci,
# in the same run, against the same stock net_virtio_user peer with the
# same settings, one forwarding core each. Not a test: no thresholds.
#
# Scenarios (what is measured, on which side):
#   dequeue   peer txonly -> PMD rxonly          PMD Rx-pps
#   enqueue   PMD txonly  -> peer rxonly         peer Rx-pps
#   loopback  both mac, peer "start tx_first 32" PMD Rx-pps (DTS method)
#   vm2vm     peer: 2 virtio-user ports io; PMD: 2 ports io   PMD Rx-pps, sum
#   vm2vm-v2  vm2vm, net_vhost_pci's 2 ports on one socket, each front-end
#             behind a dpdk-vhost-pci-client proxy (the v2 set-up);
#             net_vhost has no proxy: its column is a plain vm2vm run
# Each figure is the median of one-second windows after the first two.
# Cycles per packet: the PMD core's, from testpmd --record-core-cycles.
#
# Each row runs --repeat times, the two PMDs alternating, and reports the
# median across repetitions with the min-max spread of the ratio: this
# machine is shared and single runs move by 2-3x.
#
# usage: devtools/bench.sh [--quick] [--json FILE] [--scenarios LIST]
#                          [--sizes LIST] [--seconds N] [--repeat N]
#                          [--vpci-args DEVARGS]   e.g. zero_copy=1
set -eu
. "$(dirname "$0")/common.sh"

cmdline="devtools/bench.sh $*"
quick=0
json=""
scenarios="dequeue enqueue loopback vm2vm vm2vm-v2"
sizes=""
secs=""
repeat=""
vpci_args=""
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--json) json=$2; shift ;;
	--scenarios) scenarios=${2//,/ }; shift ;;
	--sizes) sizes=${2//,/ }; shift ;;
	--seconds) secs=$2; shift ;;
	--repeat) repeat=$2; shift ;;
	--vpci-args) vpci_args=",$2"; shift ;;
	*) vpci_die "unknown option $1 (see the header of $0)" ;;
	esac
	shift
done
if [ "$quick" = 1 ]; then
	sizes=${sizes:-64 1518}
	secs=${secs:-5}
	repeat=${repeat:-1}
else
	sizes=${sizes:-64 512 1518 9000}
	secs=${secs:-10}
	repeat=${repeat:-3}
fi

vpci_setup
trap vpci_cleanup EXIT
trap 'exit 130' INT TERM
out=$VPCI_RUN/bench
mkdir -p "$out"
results=$out/results.tsv
: > "$results"

# Jumbo frames ride mergeable buffers; testpmd needs room for them, and
# checks --txpkts against --mbuf-size in argument order: size args first.
size_args() {
	if [ "$1" -gt 1518 ]; then
		echo "--max-pkt-len=9600 --mbuf-size=10240"
	else
		echo "--max-pkt-len=1600"
	fi
}

# vdev list of the PMD side for pmd $1, $2 ports; socket $3 (all ports on
# one) or s<port>.sock.
pmd_vdevs() {
	local i
	for i in $(seq 0 $(($2 - 1))); do
		if [ "$1" = net_vhost ]; then
			echo "--vdev net_vhost$i,iface=$out/s$i.sock,queues=1"
		else
			echo "--vdev net_vhost_pci$i,path=${3:-$out/s$i.sock},queues=1$vpci_args"
		fi
	done
}

# vdev list of the peer: $1 ports, on <$2><port>.sock.
peer_vdevs() {
	local i
	for i in $(seq 0 $(($1 - 1))); do
		echo "--vdev net_virtio_user$i,path=$out/${2:-s}$i.sock,queues=1"
	done
}

# Median of port Rx-pps windows (ports summed per window), first 2 dropped.
median_rx() {
	awk '/NIC statistics for port/ {match($0, /port +[0-9]+/);
		p = substr($0, RSTART + 5) + 0; if (p == 0 && have) {print sum; sum = 0; have = 0}}
		/Rx-pps:/ {sum += $2; have = 1}
		END {if (have) print sum}' "$1" | tail -n +3 | sort -n |
		awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print 0}'
}

cycles_per_pkt() {
	sed -nE 's/.*CPU cycles\/packet=([0-9.]+).*/\1/p' "$1" | tail -n 1
}

# One measurement: pmd scenario size. Appends a row to $results.
run_one() {
	local pmd=$1 sc=$2 size=$3 nports=1 amode bmode a b bpid apid sz i
	local extra=""
	a=$out/$pmd-$sc-$size.pmd.log
	b=$out/$pmd-$sc-$size.peer.log
	sz=$(size_args "$size")
	case "$sc" in
	dequeue) amode=rxonly; bmode=txonly ;;
	enqueue) amode=txonly; bmode=rxonly ;;
	loopback) amode=mac; bmode=mac ;;
	vm2vm|vm2vm-v2) amode=io; bmode=io; nports=2 ;;
	esac
	# The v2 set-up: one server socket, a proxy per front-end.
	local shared="" fe=s
	if [ "$sc" = vm2vm-v2 ] && [ "$pmd" = net_vhost_pci ]; then
		shared=$out/srv.sock
		fe=fe
	fi
	rm -f "$out"/s*.sock "$out"/fe*.sock
	# The PMD side, forwarding on lcore 1.
	# shellcheck disable=SC2046,SC2086
	vpci_bg "$a" vpci-bench-a stdbuf -oL "$TESTPMD" -l 0-1 \
		--file-prefix=vpci-bench-a $VPCI_EAL_MEM --no-pci \
		-d "$VPCI_PMD" $(pmd_vdevs "$pmd" $nports "$shared") -- \
		--forward-mode=$amode --auto-start --stats-period 1 \
		--record-core-cycles $sz --txpkts="$size"
	apid=$VPCI_LAST_PID
	vpci_wait_log "$a" 'forwards packets' 20 || { echo "$pmd $sc $size: PMD side did not start" >&2; return 1; }
	if [ -n "$shared" ]; then
		for i in $(seq 0 $((nports - 1))); do
			vpci_proxy "$out/proxy$i.log" "$out/fe$i.sock" "$shared" ||
				{ echo "$pmd $sc $size: proxy $i did not start" >&2; return 1; }
		done
	fi
	case "$sc" in vm2vm*|loopback) ;; *) extra="--auto-start" ;; esac
	# The peer, forwarding on lcore 0; driven through a fifo.
	# shellcheck disable=SC2046,SC2086
	vpci_testpmd_fifo peer "$b" vpci-bench-b -l 0-1 --main-lcore 1 \
		--file-prefix=vpci-bench-b $VPCI_EAL_MEM --no-pci \
		--single-file-segments $(peer_vdevs $nports $fe) -- -i \
		--forward-mode=$bmode $sz --txpkts="$size" \
		$([ "$size" -gt 1518 ] && echo --enable-scatter)
	bpid=$VPCI_LAST_PID
	vpci_wait_log "$b" 'testpmd>' 20 || { echo "$pmd $sc $size: peer did not start" >&2; return 1; }
	sleep 1
	if [ -n "$extra" ]; then
		vpci_cmd peer "start"
	else
		vpci_cmd peer "start tx_first 32"
	fi
	# The peer reports its own rates when it is the receiver.
	if [ "$sc" = enqueue ]; then
		for _ in $(seq $((secs + 2))); do
			sleep 1
			vpci_cmd peer "show port stats all"
		done
	else
		sleep $((secs + 2))
	fi
	vpci_cmd peer "stop"
	vpci_kill "$apid"
	wait "$apid" 2>/dev/null || true
	vpci_cmd peer "quit"
	sleep 1
	vpci_kill "$bpid"
	local pps cyc
	if [ "$sc" = enqueue ]; then pps=$(median_rx "$b"); else pps=$(median_rx "$a"); fi
	cyc=$(cycles_per_pkt "$a")
	printf '%s\t%s\t%s\t%s\t%s\n' "$sc" "$size" "$pmd" \
		"$(awk -v p="$pps" 'BEGIN {printf "%.3f", p / 1e6}')" "${cyc:-null}" >> "$results"
	vpci_cleanup
	trap vpci_cleanup EXIT
}

for sc in $scenarios; do
	for size in $sizes; do
		# 9000 needs mergeable buffers through both hops; vm2vm's
		# io between two virtio-user ports is left at standard sizes.
		case "$sc" in vm2vm*) [ "$size" -gt 1518 ] && continue ;; esac
		for r in $(seq "$repeat"); do
			for pmd in net_vhost net_vhost_pci; do
				vpci_log "$sc $size $pmd (run $r of $repeat)"
				run_one "$pmd" "$sc" "$size" || printf '%s\t%s\t%s\t0\tnull\n' "$sc" "$size" "$pmd" >> "$results"
			done
		done
	done
done

machine="$(nproc) cores, $(awk '/model name/ {$1=$2=$3=""; print; exit}' /proc/cpuinfo | sed 's/^ *//'), $(uname -r)"
# Median per (scenario, size, pmd) across repetitions; ratio per rep too.
summary=$out/summary.tsv
awk -F'\t' '{k = $1 FS $2 FS $3; n[k]++; v[k, n[k]] = $4; c[k, n[k]] = $5;
		if (!(k in seen)) {seen[k] = 1; order[++m] = k}}
	function med(arr, k, cnt,   i, j, t, a) {
		for (i = 1; i <= cnt; i++) a[i] = arr[k, i];
		for (i = 1; i <= cnt; i++) for (j = i + 1; j <= cnt; j++)
			if (a[j] + 0 < a[i] + 0) {t = a[i]; a[i] = a[j]; a[j] = t}
		return a[int((cnt + 1) / 2)]}
	END {for (i = 1; i <= m; i++) {k = order[i];
		printf "%s\t%s\t%s\t%d\n", k, med(v, k, n[k]), med(c, k, n[k]), n[k]}}' \
	"$results" > "$summary"
# Spread of the per-repetition ratio (rows alternate vhost, vpci).
spread() {
	awk -F'\t' -v sc="$1" -v sz="$2" '$1 == sc && $2 == sz {
		if ($3 == "net_vhost") v = $4; else if (v > 0) {r = $4 / v;
			if (lo == "" || r < lo) lo = r; if (hi == "" || r > hi) hi = r}}
		END {if (lo != "") printf "%.2f-%.2f", lo, hi; else print "n/a"}' "$results"
}
echo
echo "machine: $machine"
echo "command: $cmdline"
printf '%-9s %5s  %10s %10s  %6s %10s  %8s %8s\n' scenario size \
	"vhost Mpps" "vpci Mpps" ratio "spread" "vhost c/p" "vpci c/p"
awk -F'\t' '{k = $1 FS $2; if (!(k in seen)) {seen[k] = 1; order[++n] = k}
	m[k, $3] = $4; c[k, $3] = $5}
	END {for (i = 1; i <= n; i++) print order[i] FS m[order[i], "net_vhost"] FS \
		m[order[i], "net_vhost_pci"] FS c[order[i], "net_vhost"] FS \
		c[order[i], "net_vhost_pci"]}' "$summary" |
while IFS=$'\t' read -r sc sz v p cv cp; do
	printf '%-9s %5s  %10s %10s  %6s %10s  %8s %8s\n' "$sc" "$sz" "$v" "$p" \
		"$(awk -v v="$v" -v p="$p" 'BEGIN {if (v > 0) printf "%.2f", p / v; else print "n/a"}')" \
		"$(spread "$sc" "$sz")" "$cv" "$cp"
done
echo "median of $repeat run(s) per row, $secs s each; raw rows: $results"

if [ -n "$json" ]; then
	awk -F'\t' -v machine="$machine" -v cmd="$cmdline" '
		BEGIN {printf "{\"results\": ["}
		{printf "%s{\"scenario\": \"%s\", \"size\": %d, \"pmd\": \"%s\", \"mpps\": %s, \"cycles_per_pkt\": %s}",
			(NR > 1 ? ", " : ""), $1, $2, $3, $4, ($5 == "" ? "null" : $5)}
		END {gsub(/"/, "\\\"", machine); gsub(/"/, "\\\"", cmd);
			printf "], \"machine\": \"%s\", \"command\": \"%s\"}\n", machine, cmd}' \
		"$summary" > "$json"
	echo "json: $json"
fi
