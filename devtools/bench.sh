#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Side-by-side benchmark: stock net_vhost (librte_vhost) and net_vhost_pci
# against the same stock net_virtio_user peer with the same devargs, one
# forwarding core each. Not a test: no thresholds; the PASS/FAIL column is
# a bench verdict against devtools/bench-expected.json, as DTS prints one.
#
# Scenarios (what is measured, on which side):
#   dequeue        peer txonly -> PMD rxonly                  PMD Rx-pps
#   dequeue-touch  peer txonly -> dpdk-vpci-pktcheck --sink on the PMD,
#                  which reads every payload byte             sink Rx-pps
#   enqueue        PMD txonly -> peer rxonly                  peer Rx-pps
#   loopback       DTS perf_virtio_user_loopback: both sides mac, the
#                  vhost side "set txpkts N", "start tx_first 32"  PMD Rx-pps
#   loopback-8q    DTS loopback_multi_queues with queues=8 (--rxq=8
#                  --txq=8); here still one forwarding core a side.
#                  After its rounds, each PMD's 8 queues carry a
#                  dpdk-vpci-pktcheck --queues 8 run (macswap): every
#                  byte checked, and the queue each frame came back on
#   vm2vm          DTS vm2vm_virtio_user's topology (virtio-user ->
#                  vhost -> testpmd io -> vhost -> virtio-user) with both
#                  front-ends in one peer process, io, tx_first 32;
#                  PMD Rx-pps of its 2 ports summed
#   vm2vm-v2       vm2vm with net_vhost_pci's 2 ports on one socket, each
#                  front-end behind a dpdk-vhost-pci-client proxy;
#                  net_vhost's column is a plain vm2vm run
# --dts runs loopback, loopback-8q and vm2vm at DTS's frame sizes.
#
# Method. This machine is shared: the same set-up gives 5 Mpps in one run
# and 18 in the next, and noise only ever slows a run. So each row is
# --repeat short runs per PMD, interleaved round by round, the order
# alternating (AB, BA, ...). In a run the receiving side's "show port
# stats all" is read once a second (DTS reads it 10 times); windows count
# from the first one with traffic, which is partial and dropped; the
# median of the next --seconds windows is the run's figure. Per PMD the
# row keeps its best run and its median run; the headline ratio is
# vpci/vhost of the bests, the ratio of the medians is printed too.
# Each run also records, over its measured windows, every thread's CPU
# time and last CPU from /proc/<pid>/task/*/stat (ours: both processes
# and the proxies) and the rest of the machine's busy time (/proc/stat
# minus ours, "foreign", in % of one CPU); runs with foreign load over
# 5 % are marked, as are runs where two busy threads last ran on one CPU.
# The PMD core's cycles per packet (the cross-core figure: PMD work with
# the peer on the other core) come from testpmd --record-core-cycles, or
# the sink's own count, best and median run. Whether the PMD core was
# the bottleneck: "busy" is the share of its forwarding thread's running
# time spent in bursts that brought packets (cycles/packet x Rx-pps over
# TSC rate x the thread's CPU share); in enqueue, where testpmd txonly
# counts every burst's cycles, "full" is the share of TX bursts that
# found room for 32 (--record-burst-stats). A dequeue row with median
# busy under 80 %, or an enqueue row with median full under 50 %, is
# flagged "peer-bound": the peer set the rate. (The cycles are TSC
# cycles: a thread preempted inside a burst counts the time it was off
# the CPU, so on a loaded machine busy can read over 100 %.) The peer's negotiated features
# ("features after negotiate", virtio init debug log) are printed per
# row and a row whose two PMDs negotiated different sets is flagged.
#
# usage: devtools/bench.sh [--quick] [--dts] [--json FILE]
#          [--scenarios LIST] [--sizes LIST] [--paths LIST]
#          [--seconds N] [--repeat N] [--vpci-args DEVARGS]
#          [--expected FILE] [--update-expected] [--tolerance F]
#   --repeat N      runs per PMD and row (default 8)
#   --seconds N     measured one-second windows per run (default 3)
#   --paths LIST    peer ring layouts: split packed split-inorder
#                   split-nomrg (default split); each is one row set
#   --vpci-args     extra net_vhost_pci devargs, e.g. zero_copy=1
#   --update-expected  write the expected file from this run's bests
#   --tolerance F   accepted shortfall for --update-expected (0.10)
set -eu
. "$(dirname "$0")/common.sh"

cmdline="devtools/bench.sh $*"
quick=0
dts=0
json=""
scenarios=""
sizes=""
paths="split"
secs=""
repeat=""
vpci_args=""
expected=$VPCI_TOP/devtools/bench-expected.json
update_expected=0
tolerance=0.10
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--dts) dts=1 ;;
	--json) json=$2; shift ;;
	--scenarios) scenarios=${2//,/ }; shift ;;
	--sizes) sizes=${2//,/ }; shift ;;
	--paths) paths=${2//,/ }; shift ;;
	--seconds) secs=$2; shift ;;
	--repeat) repeat=$2; shift ;;
	--vpci-args) vpci_args=",$2"; shift ;;
	--expected) expected=$2; shift ;;
	--update-expected) update_expected=1 ;;
	--tolerance) tolerance=$2; shift ;;
	*) vpci_die "unknown option $1 (see the header of $0)" ;;
	esac
	shift
done
SINK=${VPCI_SINK:-$VPCI_BUILD/app/test-vpci-pktcheck/dpdk-vpci-pktcheck}
if [ "$dts" = 1 ]; then
	scenarios=${scenarios:-loopback loopback-8q vm2vm}
	sizes=${sizes:-64 1518}
fi
if [ "$quick" = 1 ]; then
	sizes=${sizes:-64}
	repeat=${repeat:-3}
fi
secs=${secs:-3}
repeat=${repeat:-8}
if [ -z "$scenarios" ]; then
	scenarios="dequeue enqueue loopback loopback-8q vm2vm"
	# The touching sink is another app's feature: used once it is built.
	if grep -qa -- '--sink' "$SINK" 2>/dev/null; then
		scenarios="dequeue dequeue-touch enqueue loopback loopback-8q vm2vm"
	else
		vpci_log "no --sink in $SINK: dequeue-touch left out"
	fi
fi
sizes=${sizes:-64 1518}

path_devargs() {
	case "$1" in
	split) echo "packed_vq=0,mrg_rxbuf=1,in_order=0" ;;
	packed) echo "packed_vq=1,mrg_rxbuf=1,in_order=0" ;;
	split-inorder) echo "packed_vq=0,mrg_rxbuf=1,in_order=1" ;;
	split-nomrg) echo "packed_vq=0,mrg_rxbuf=0,in_order=0" ;;
	*) vpci_die "unknown path $1 (see the header of $0)" ;;
	esac
}
for p in $paths; do path_devargs "$p" > /dev/null; done
for sc in $scenarios; do
	case "$sc" in
	dequeue|dequeue-touch|enqueue|loopback|loopback-8q|vm2vm|vm2vm-v2) ;;
	*) vpci_die "unknown scenario $sc (see the header of $0)" ;;
	esac
done

# The rows, in order: scenario size path.
rows=()
for sc in $scenarios; do
	for size in $sizes; do
		# 9000 needs mergeable buffers through both hops; vm2vm's
		# io between two virtio-user ports stays at standard sizes.
		case "$sc" in vm2vm*) [ "$size" -gt 1518 ] && continue ;; esac
		for p in $paths; do
			[ "$size" -gt 1518 ] && [ "$p" = split-nomrg ] && continue
			rows+=("$sc $size $p")
		done
	done
done
[ "${#rows[@]}" -gt 0 ] || vpci_die "nothing to run"
# Start-up, the first traffic window and teardown: about 4 s a run.
est=$(( ${#rows[@]} * 2 * repeat * (secs + 4) ))
vpci_log "${#rows[@]} row(s) x 2 PMDs x $repeat runs x ~$((secs + 4)) s: about $((est / 60)) min $((est % 60)) s"

vpci_setup
trap vpci_cleanup EXIT
trap 'exit 130' INT TERM
out=$VPCI_RUN/bench
mkdir -p "$out"
runs=$out/runs.tsv
: > "$runs"
rm -f "$out"/*.log
PA=${VPCI_PFX}-bench-a
PB=${VPCI_PFX}-bench-b

# Jumbo frames ride mergeable buffers; testpmd needs room for them, and
# checks --txpkts against --mbuf-size in argument order: size args first.
size_args() {
	if [ "$1" -gt 1518 ]; then
		echo "--max-pkt-len=9600 --mbuf-size=10240"
	else
		echo "--max-pkt-len=1600"
	fi
}

# vdev list of the PMD side for pmd $1, $2 ports, $3 queues; socket $4
# (all ports on one) or s<port>.sock.
pmd_vdevs() {
	local i
	for i in $(seq 0 $(($2 - 1))); do
		if [ "$1" = net_vhost ]; then
			echo "--vdev net_vhost$i,iface=$out/s$i.sock,queues=$3"
		else
			echo "--vdev net_vhost_pci$i,path=${4:-$out/s$i.sock},queues=$3$vpci_args"
		fi
	done
}

# vdev list of the peer: $1 ports on <$2><port>.sock, $3 queues, devargs $4.
peer_vdevs() {
	local i
	for i in $(seq 0 $(($1 - 1))); do
		echo "--vdev net_virtio_user$i,mac=00:01:02:03:04:0$((5 + i)),path=$out/$2$i.sock,queues=$3,$4"
	done
}

# A testpmd (or any command) reading commands from a fifo, its output
# line-buffered so that the log can be read while it runs:
# fifo_start NAME LOG PREFIX cmd...; vpci_cmd NAME "command".
fifo_start() {
	local log=$2 prefix=$3 fifo="$VPCI_RUN/$1.fifo"
	shift 3
	rm -f "$fifo"
	mkfifo "$fifo"
	# Emptied now, not when the job starts: a wait on the log must not
	# match what an earlier run left in it.
	: > "$log"
	# Hold the fifo open so testpmd never sees EOF between commands.
	sleep 100000 > "$fifo" &
	VPCI_PIDS="$VPCI_PIDS $!"
	HOLDERS="$HOLDERS $!"
	stdbuf -oL "$@" < "$fifo" > "$log" 2>&1 &
	VPCI_LAST_PID=$!
	VPCI_PIDS="$VPCI_PIDS $!"
	VPCI_PREFIXES="$VPCI_PREFIXES $prefix"
}

HOLDERS=""

# gone PID: the process has exited (a zombie counts: it is not reaped
# until vpci_cleanup waits).
gone() {
	local s
	s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -z "$s" ] || [ "$s" = Z ]
}

# Rx-pps windows of a log, one a line: testpmd's "show port stats all"
# blocks (ports summed; a block for port <= the last one opens the next
# window), or the sink's "Rx-pps: N" lines.
windows_of() {
	awk '/NIC statistics for port/ {match($0, /port +[0-9]+/);
			p = substr($0, RSTART + 5) + 0
			if (have && p <= last) {print sum; sum = 0}
			have = 1; last = p}
		/^ +Rx-pps:/ {sum += $2}
		/^Rx-pps:/ {print $2}
		END {if (have) print sum}' "$1"
}
# Windows from the first one with traffic on.
traffic_windows() {
	windows_of "$1" | awk '$1 > 0 {t = 1} t {print}'
}

# cpu_snap FILE PID...: /proc/stat's busy and total ticks, this shell's
# own time (its children included once reaped), and every thread's ticks
# and last CPU for the PIDs, tagged A, B, C... in argument order.
cpu_snap() {
	local f=$1 tag p t
	shift
	{
		awk '/^cpu / {b = $2 + $3 + $4 + $7 + $8 + $9; print "sys", b, b + $5 + $6; exit}' /proc/stat
		awk '{sub(/.*\) /, ""); print "self", $12 + $13 + $14 + $15}' /proc/$$/stat
		tag=A
		for p in "$@"; do
			for t in /proc/"$p"/task/*/stat; do
				awk -v tag="$tag" '{s = $0; o = index(s, "("); match(s, /.*\)/)
					comm = substr(s, o + 1, RLENGTH - o - 1); gsub(/ /, "_", comm)
					split(substr(s, RLENGTH + 2), f, " ")
					print "thr", tag, $1, comm, f[12] + f[13], f[37]}' "$t" 2>/dev/null
			done
			tag=$(echo "$tag" | tr A-Y B-Z)
		done
	} > "$f"
}

# cpu_report SNAP0 SNAP1: "<foreign %> <busy threads> <flags> <A's
# busiest thread %>" over the interval, in % of one CPU; threads under
# 3 % are left out of the list.
cpu_report() {
	awk -v ncpu="$(nproc)" '
		FNR == 1 {file++}
		$1 == "sys" {busy[file] = $2; tot[file] = $3}
		$1 == "self" {self[file] = $2}
		$1 == "thr" {k = $2 " " $3; if (file == 1) t0[k] = $5
			else {t1[k] = $5; cpu[k] = $6; name[k] = $4; tag[k] = $2; order[++n] = k}}
		END {el = (tot[2] - tot[1]) / ncpu; if (el <= 0) el = 1
			ours = self[2] - self[1]; s = ""; cur = ""
			for (i = 1; i <= n; i++) {k = order[i]; d = t1[k] - t0[k]; ours += d
				pct = 100 * d / el; if (tag[k] == "A" && pct > amax) amax = pct
				if (pct < 3) continue
				nm = name[k]; sub(/^(lcore|rte)-worker-/, "w", nm); sub(/^dpdk-.*/, "main", nm)
				if (tag[k] != cur) {s = s (cur == "" ? "" : " | ") tag[k]; cur = tag[k]}
				s = s sprintf(" %s@%d %d%%", nm, cpu[k], pct + 0.5)
				if (pct >= 50) {if (cpu[k] in busycpu) shared = 1; busycpu[cpu[k]] = 1}}
			foreign = 100 * (busy[2] - busy[1] - ours) / el; if (foreign < 0) foreign = 0
			printf "%.0f\t%s\t%s\t%.0f\n", foreign, s, (shared ? "cpu-shared" : "-"), amax}' "$1" "$2"
}

# Share (%) of bursts of 32 packets in testpmd's last "$2-bursts" line.
full_share() {
	awk -v d="$2-bursts" '$1 == d {line = $0} END {
		if (line == "") {print "-"; exit}
		n = split(line, w, /[[+\]]/); v = 0
		for (i = 2; i <= n; i++) if (w[i] ~ /% of 32 pkts/) v = w[i] + 0
		print v}' "$1"
}

cycles_per_pkt() {
	sed -nE 's/.*CPU cycles\/packet=([0-9.]+).*/\1/p' "$1" | tail -n 1
}

# The peer's negotiated virtio features, one hex per port (unique, "/").
features_of() {
	sed -nE 's/.*features after negotiate = ([0-9a-fA-F]+).*/\1/p' "$1" |
		sort -u | paste -sd/ -
}

# median of the numbers on stdin ("-" when none)
median() {
	sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print "-"}'
}

# Queue pairs of a scenario.
queues_of() {
	case "$1" in loopback-8q) echo 8 ;; *) echo 1 ;; esac
}

# One run: pmd scenario size path round order. Appends a line to $runs.
run_one() {
	local pmd=$1 sc=$2 size=$3 path=$4 round=$5 order=$6
	local nports=1 q=1 a b apid bpid sz i
	local a_cmd=1 peer_dev shared="" fe=s pids
	a=$out/$pmd-$sc-$size-$path-$round.pmd.log
	b=$out/$pmd-$sc-$size-$path-$round.peer.log
	sz=$(size_args "$size")
	peer_dev=$(path_devargs "$path")
	q=$(queues_of "$sc")
	case "$sc" in
	dequeue-touch) a_cmd=0 ;;
	vm2vm|vm2vm-v2) nports=2 ;;
	esac
	# The v2 set-up: one server socket, a proxy per front-end.
	if [ "$sc" = vm2vm-v2 ] && [ "$pmd" = net_vhost_pci ]; then
		shared=$out/srv.sock
		fe=fe
	fi
	rm -f "$out"/s*.sock "$out"/fe*.sock
	# The PMD side: its forwarding lcore 1 on CPU 1, main lcore 0 idle
	# at the prompt. The sink is one lcore, CPU 1.
	if [ "$a_cmd" = 1 ]; then
		# shellcheck disable=SC2046,SC2086
		fifo_start pmd "$a" "$PA" "$TESTPMD" -l 0-1 --file-prefix="$PA" \
			$VPCI_EAL_MEM --no-pci -d "$VPCI_PMD" \
			$(pmd_vdevs "$pmd" $nports $q "$shared") -- -i \
			--nb-cores=1 --rxq=$q --txq=$q --txd=1024 --rxd=1024 \
			--record-core-cycles --record-burst-stats $sz
		apid=$VPCI_LAST_PID
		vpci_wait_log "$a" 'testpmd>' 20 || { echo "$pmd $sc $size: PMD side did not start" >&2; return 1; }
	else
		: > "$a"
		# shellcheck disable=SC2046,SC2086
		vpci_bg "$a" "$PA" stdbuf -oL "$SINK" -l 1 --file-prefix="$PA" \
			$VPCI_EAL_MEM --no-pci -d "$VPCI_PMD" \
			$(pmd_vdevs "$pmd" 1 $q) -- --sink --queues $q \
			--timeout $((secs + 60))
		apid=$VPCI_LAST_PID
		wait_for 20 [ -S "$out/s0.sock" ] || { echo "$pmd $sc $size: sink did not start" >&2; return 1; }
	fi
	pids="$apid"
	if [ -n "$shared" ]; then
		for i in $(seq 0 $((nports - 1))); do
			vpci_proxy "$out/proxy$i.log" "$out/fe$i.sock" "$shared" ||
				{ echo "$pmd $sc $size: proxy $i did not start" >&2; return 1; }
			pids="$pids $VPCI_LAST_PID"
		done
	fi
	# The peer: forwarding lcore 0 on CPU 0, main lcore 1 idle; DTS's
	# virtio-user testpmd arguments.
	# shellcheck disable=SC2046,SC2086
	fifo_start peer "$b" "$PB" "$TESTPMD" -l 0-1 --main-lcore 1 \
		--file-prefix="$PB" $VPCI_EAL_MEM --no-pci --single-file-segments \
		--log-level=pmd.net.virtio.init:debug \
		$(peer_vdevs $nports $fe $q "$peer_dev") -- -i \
		--tx-offloads=0x0 --enable-hw-vlan-strip --rss-ip \
		--nb-cores=1 --rxq=$q --txq=$q --txd=1024 --rxd=1024 \
		--record-core-cycles --record-burst-stats $sz \
		$([ "$size" -gt 1518 ] && echo --enable-scatter)
	bpid=$VPCI_LAST_PID
	pids="$apid $bpid${pids#"$apid"}"
	vpci_wait_log "$b" 'testpmd>' 20 || { echo "$pmd $sc $size: peer did not start" >&2; return 1; }

	# Traffic sent before the PMD's ports are up is lost, and a loop
	# that lost its first bursts stays empty.
	if [ "$a_cmd" = 1 ]; then
		for i in $(seq 0 $((nports - 1))); do
			vpci_wait_log "$a" "Port $i: link state change event" 20 ||
				{ echo "$pmd $sc $size: port $i of the PMD side is not up" >&2; return 1; }
		done
	fi

	# The DTS command sequences; the receiving side is read each second.
	local m=pmd mlog=$a
	case "$sc" in
	loopback*)
		vpci_cmd pmd "set fwd mac"
		vpci_cmd peer "set fwd mac"
		vpci_cmd peer "start"
		vpci_wait_log "$b" 'forwards packets' 10 || true
		vpci_cmd pmd "set txpkts $size"
		vpci_cmd pmd "show port stats all"
		vpci_cmd pmd "start tx_first 32" ;;
	dequeue)
		vpci_cmd pmd "set fwd rxonly"
		vpci_cmd pmd "show port stats all"
		vpci_cmd peer "set fwd txonly"
		vpci_cmd peer "set txpkts $size"
		vpci_cmd peer "start"
		# Forwarding starts on a full ring.
		sleep 0.5
		vpci_cmd pmd "start" ;;
	dequeue-touch)
		vpci_cmd peer "set fwd txonly"
		vpci_cmd peer "set txpkts $size"
		vpci_cmd peer "start" ;;
	enqueue)
		m=peer; mlog=$b
		vpci_cmd peer "set fwd rxonly"
		vpci_cmd peer "show port stats all"
		vpci_cmd peer "start"
		vpci_cmd pmd "set fwd txonly"
		vpci_cmd pmd "set txpkts $size"
		vpci_cmd pmd "start" ;;
	vm2vm*)
		vpci_cmd pmd "set fwd io"
		vpci_cmd pmd "start"
		vpci_cmd pmd "show port stats all"
		vpci_cmd peer "set fwd io"
		vpci_cmd peer "set txpkts $size"
		vpci_cmd peer "start tx_first 32" ;;
	esac
	local n=0 t0=$out/cpu0 t1=$out/cpu1 have0=0
	rm -f "$t0" "$t1"
	local deadline=$((SECONDS + secs + 15))
	while [ "$SECONDS" -lt "$deadline" ]; do
		if [ "$a_cmd" = 1 ] || [ "$m" = peer ]; then
			sleep 1
			vpci_cmd "$m" "show port stats all"
			sleep 0.1
		else
			sleep 0.2
		fi
		n=$(traffic_windows "$mlog" | wc -l)
		# The measured part starts where the first traffic window ends.
		if [ "$have0" = 0 ] && [ "$n" -ge 1 ]; then
			# shellcheck disable=SC2086
			cpu_snap "$t0" $pids
			have0=1
		fi
		[ "$n" -gt "$secs" ] && break
	done
	# shellcheck disable=SC2086
	cpu_snap "$t1" $pids
	# stop prints the cycles and burst statistics; then both quit.
	# The fifo holders ignore SIGINT (background jobs of a script), so
	# they get SIGTERM, and vpci_cleanup finds nothing left to wait for.
	if [ "$a_cmd" = 1 ]; then vpci_cmd pmd "stop"; fi
	vpci_cmd peer "stop"
	sleep 0.3
	if [ "$a_cmd" = 1 ]; then vpci_cmd pmd "quit"; else kill -INT "$apid" 2>/dev/null; fi
	wait_for 5 gone "$apid" || true
	vpci_cmd peer "quit"
	wait_for 5 gone "$bpid" || true
	# shellcheck disable=SC2086
	kill -TERM $HOLDERS 2>/dev/null || true
	# shellcheck disable=SC2086
	wait $HOLDERS 2>/dev/null || true
	HOLDERS=""
	local wins pps cyc full cpu features mhz dir=RX
	wins=$(traffic_windows "$mlog" | sed -n "2,$((secs + 1))p" | paste -sd, -)
	pps=$(echo "$wins" | tr , '\n' | grep . | median)
	if [ "$a_cmd" = 1 ]; then
		cyc=$(cycles_per_pkt "$a")
	else
		# The sink's per-second figure over the measured windows:
		# each "cycles/packet:" goes with the "Rx-pps:" before it.
		cyc=$(awk 'match($0, /^Rx-pps: *[0-9]+/) {p = substr($0, RSTART + 7) + 0}
			match($0, /cycles\/packet: *[0-9.]+/) {print p, substr($0, RSTART + 14) + 0}' "$a" |
			awk '$1 > 0 {t = 1} t {print $2}' | sed -n "2,$((secs + 1))p" | median)
	fi
	[ "$sc" = enqueue ] && dir=TX
	full=$(full_share "$a" $dir)
	if [ "$have0" = 1 ]; then cpu=$(cpu_report "$t0" "$t1"); else cpu=$'-\t-\t-\t-'; fi
	mhz=$(sed -nE 's/.* at ([0-9]+) MHz Clock.*/\1/p' "$b" | tail -n 1)
	features=$(features_of "$b")
	[ "$n" -gt "$secs" ] || echo "$pmd $sc $size: only $n traffic window(s) of $((secs + 1))" >&2
	# scenario size path queues pmd round order pps windows c/p full%
	# features foreign% threads flags A-thread% tsc-MHz
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sc" "$size" "$path" \
		"$q" "$pmd" "$round" "$order" "${pps:--}" "${wins:--}" "${cyc:--}" \
		"${full:--}" "${features:--}" "$cpu" "${mhz:--}" >> "$runs"
	# One line a run: figure, windows, c/p, what bound the PMD core
	# (bench-report.py's "busy", or enqueue's full TX bursts), threads
	# with their last CPU, foreign load.
	local foreign threads flags fwd bound
	IFS=$'\t' read -r foreign threads flags fwd <<< "$cpu"
	if [ "$sc" = enqueue ]; then
		bound="full ${full:--}%"
	else
		bound="busy $(awk -v c="${cyc:--}" -v p="${pps:--}" -v m="${mhz:--}" -v t="$fwd" \
			'BEGIN {if (c + 0 && p + 0 && m + 0 && t + 0) printf "%.0f%%", 100 * c * p / (m * 1e6 * t / 100); else print "-"}')"
	fi
	printf '  %-2s %2s %-13s %7s Mpps [%s] c/p %s %s  %s  foreign %s%%%s\n' \
		"$order" "$round" "$pmd" \
		"$(awk -v p="$pps" 'BEGIN {if (p == "-") print "-"; else printf "%.2f", p / 1e6}')" \
		"$(echo "$wins" | tr , '\n' | awk 'NF {printf "%s%.1f", (NR > 1 ? " " : ""), $1 / 1e6}')" \
		"${cyc:--}" "$bound" "$threads" "$foreign" \
		"$([ "$flags" = - ] || echo " $flags")" >&2
	vpci_cleanup
	trap vpci_cleanup EXIT
}


# loopback_multi_queues counts packets; this checks them. After a row's
# rounds, once per PMD: the PMD side macswaps its 8 queues, pktcheck
# --queues 8 on the peer sends frames on each queue and verifies every
# byte of every frame, and the queue it came back on. One line a PMD.
verify_queues() {
	local pmd=$1 size=$2 path=$3 q=8 a p got
	a=$out/$pmd-verify-$size-$path.pmd.log
	p=$out/$pmd-verify-$size-$path.pktcheck.log
	rm -f "$out"/s*.sock
	# shellcheck disable=SC2046,SC2086
	vpci_bg "$a" "$PA" "$TESTPMD" -l 0-1 --file-prefix="$PA" $VPCI_EAL_MEM \
		--no-pci -d "$VPCI_PMD" $(pmd_vdevs "$pmd" 1 $q) -- \
		--rxq=$q --txq=$q --forward-mode=macswap --auto-start \
		--stats-period 1 $(size_args "$size")
	if ! vpci_wait_log "$a" 'forwards packets' 20; then
		echo "payload  $pmd: the PMD side did not start"
		return
	fi
	# shellcheck disable=SC2086
	timeout 60 "$SINK" -l 0 --file-prefix="$PB" $VPCI_EAL_MEM --no-pci \
		--single-file-segments \
		--vdev "net_virtio_user0,path=$out/s0.sock,queues=$q,$(path_devargs "$path")" -- \
		--queues $q --count 16000 --size "$size" --expect macswap \
		--timeout 40 > "$p" 2>&1
	VPCI_PREFIXES="$VPCI_PREFIXES $PB"
	got=$(grep -cE '^pktcheck: queue [0-7]: sent ([1-9][0-9]*), received \1, bad 0, dup 0, missing 0, wrong-queue 0$' "$p" || true)
	if grep -q '^pktcheck: PASS' "$p" && [ "$got" -eq $q ]; then
		echo "payload  $pmd: $got of $q queues whole, every byte checked ($(grep -m1 -oE 'sent=[0-9]+ received=[0-9]+' "$p"))"
	else
		echo "payload  $pmd: FAILED, $got of $q queues whole: see $p"
	fi
	vpci_cleanup
	trap vpci_cleanup EXIT
}
verified=$out/verify.txt
: > "$verified"
start=$(date +%s)
for row in "${rows[@]}"; do
	read -r sc size p <<< "$row"
	vpci_log "$sc $size $p: $repeat rounds"
	for r in $(seq "$repeat"); do
		# AB, BA, AB...: neither PMD always runs first.
		if [ $((r % 2)) = 1 ]; then order="net_vhost net_vhost_pci"; tag=AB
		else order="net_vhost_pci net_vhost"; tag=BA; fi
		for pmd in $order; do
			run_one "$pmd" "$sc" "$size" "$p" "$r" "$tag" ||
				printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\n' \
					"$sc" "$size" "$p" "$(queues_of "$sc")" "$pmd" "$r" "$tag" >> "$runs"
			vpci_cleanup
		done
	done
	if [ "$sc" = loopback-8q ]; then
		echo "loopback-8q $size $p, per-queue payload check:" >> "$verified"
		for pmd in net_vhost net_vhost_pci; do
			verify_queues "$pmd" "$size" "$p" >> "$verified"
		done
	fi
done
took=$(( $(date +%s) - start ))

machine="$(nproc) cores, $(awk '/model name/ {$1=$2=$3=""; print; exit}' /proc/cpuinfo | sed 's/^ *//'), $(uname -r)"
report_args=(--runs "$runs" --machine "$machine" --command "$cmdline"
	--seconds "$secs" --repeat "$repeat" --took "$took"
	--expected "$expected" --tolerance "$tolerance")
[ -n "$json" ] && report_args+=(--json "$json")
[ "$update_expected" = 1 ] && report_args+=(--update-expected)
echo
python3 "$VPCI_TOP/devtools/bench-report.py" report "${report_args[@]}"
if [ -s "$verified" ]; then
	echo
	cat "$verified"
fi
