#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# dpdk-vpci-pktcheck --sink, the receive-only benchmark sink that reads
# every payload byte. dpdk-vpci-pktcheck --expect none on virtio-user sends
# numbered frames whose bytes it sums as it sends them; the sink on
# net_vhost_pci (copy and zero-copy, one segment and several) must report
# the same packets, the same bytes and the same sum: a sink that skipped a
# byte, a segment or a frame would print another sum. Virtio's guest-to-host
# direction loses nothing (a full ring makes the sender wait), so the counts
# are exact. Then testpmd txonly as the sender, on either side, to show the
# sink's per-second lines and that it runs on other PMDs.
. "$(dirname "$0")/lib.sh"

sock=$VPCI_RUN/t-sink.sock
ps=${VPCI_PFX}-t-s
pp=${VPCI_PFX}-t-p

# start_sink LOG PMD-DEVARGS QUEUES [EAL args]: the sink on lcore 1; its pid
# is left in VPCI_LAST_PID.
start_sink() {
	local log=$1 vdev=$2 nq=$3
	shift 3
	# shellcheck disable=SC2086
	vpci_bg "$log" $ps "$PKTCHECK" -l 1 --file-prefix=$ps $VPCI_EAL_MEM \
		--no-pci "$@" --vdev "$vdev" -- --sink --queues "$nq" --timeout 60
}

# stop_sink PID LOG: SIGINT, and the exit line written.
stop_sink() {
	kill -INT "$1" 2>/dev/null
	wait_for 10 exited "$1" && grep -q '^sink: ' "$2"
}

# Nonzero "Rx-pps: N" lines, and "cycles/packet: N" lines, in LOG.
rates_seen() {
	[ "$(count_of "$1" '^Rx-pps: [1-9][0-9]*$')" -ge 1 ] &&
		[ "$(count_of "$1" '^cycles/packet: [0-9]+$')" -ge 1 ]
}

# sink_sum NAME VPCI-DEVARGS QUEUES SIZE COUNT: every byte accounted for.
sink_sum() {
	local t="sink-reads-every-byte-$1" vargs=$2 nq=$3 size=$4 count=$5
	local s=$LOGS/sink-$1.sink.log p=$LOGS/sink-$1.pktcheck.log spid
	local want got
	VPCI_SOCKETS="$VPCI_SOCKETS $sock"
	start_sink "$s" "net_vhost_pci0,path=$sock,queues=$nq$vargs" "$nq" \
		-d "$VPCI_PMD"
	spid=$VPCI_LAST_PID
	need "$t" "$s" vpci_wait_log "$s" 'listening' 20 || { vpci_cleanup; return; }
	# --timeout: how long it listens once all is sent, the sink's time to
	# take the last frames off the ring.
	# shellcheck disable=SC2086
	timeout 60 "$PKTCHECK" -l 0 --file-prefix=$pp $VPCI_EAL_MEM --no-pci \
		--single-file-segments \
		--vdev "net_virtio_user0,path=$sock,queues=$nq" -- \
		--expect none --queues "$nq" --count "$count" --size "$size" \
		--timeout 3 > "$p" 2>&1
	VPCI_PREFIXES="$VPCI_PREFIXES $pp"
	need "$t" "$s" stop_sink "$spid" "$s" || { vpci_cleanup; return; }
	# "pktcheck: sent B bytes, sum X" -> "C packets, B bytes, sum X"
	want=$(sed -nE "s/^pktcheck: sent ([0-9]+) bytes, sum (0x[0-9a-f]+)$/$count packets, \1 bytes, sum \2/p" "$p")
	got=$(sed -n 's/^sink: //p' "$s")
	if grep -q '^pktcheck: PASS' "$p" &&
		grep -q "^pktcheck: sent=$count " "$p" &&
		[ "$want" = "$count packets, $((count * size)) bytes, sum ${want##* }" ] &&
		[ "$got" = "$want" ] && rates_seen "$s"; then
		ok "$t"
	else
		not_ok "$t" "sink: '${got:-none}', sender: '${want:-none}' ($count of $size bytes); Rx-pps lines: $(count_of "$s" '^Rx-pps: [1-9]')"
	fi
	vpci_cleanup
}

# sink_txonly NAME SINK-VDEV TESTPMD-VDEV [EAL args for the sink]: testpmd
# txonly (forwarding on lcore 0) sends 64-byte frames for 2 s; the sink
# counts 64 bytes for each.
sink_txonly() {
	local t="sink-rates-from-testpmd-txonly-$1" svdev=$2 tvdev=$3
	local s=$LOGS/sink-$1.sink.log b=$LOGS/sink-$1.testpmd.log spid
	local pkts bytes
	shift 3
	VPCI_SOCKETS="$VPCI_SOCKETS $sock"
	case "$svdev" in
	net_virtio_user*)
		# The sink is the front-end: the back-end listens first.
		# shellcheck disable=SC2086
		vpci_bg "$b" $pp "$TESTPMD" -l 0-1 --main-lcore 1 --file-prefix=$pp \
			$VPCI_EAL_MEM --no-pci --vdev "$tvdev" -- \
			--forward-mode=txonly --txpkts=64 --auto-start \
			--stats-period 1 --no-lsc-interrupt
		need "$t" "$b" wait_for 20 [ -S "$sock" ] || { vpci_cleanup; return; }
		# A virtio-user port shares its memory: few segments.
		start_sink "$s" "$svdev" 1 --single-file-segments "$@"
		spid=$VPCI_LAST_PID
		;;
	*)
		start_sink "$s" "$svdev" 1 "$@"
		spid=$VPCI_LAST_PID
		need "$t" "$s" wait_for 20 [ -S "$sock" ] || { vpci_cleanup; return; }
		# shellcheck disable=SC2086
		vpci_bg "$b" $pp "$TESTPMD" -l 0-1 --main-lcore 1 --file-prefix=$pp \
			$VPCI_EAL_MEM --no-pci --single-file-segments \
			--vdev "$tvdev" -- --forward-mode=txonly --txpkts=64 \
			--auto-start --stats-period 1
		;;
	esac
	need "$t" "$s" vpci_wait_log "$s" '^Rx-pps: [1-9]' 30 || { vpci_cleanup; return; }
	sleep 2
	need "$t" "$s" stop_sink "$spid" "$s" || { vpci_cleanup; return; }
	pkts=$(sed -nE 's/^sink: ([0-9]+) packets, .*/\1/p' "$s")
	bytes=$(sed -nE 's/^sink: [0-9]+ packets, ([0-9]+) bytes, sum 0x[0-9a-f]{16}$/\1/p' "$s")
	if [ "${pkts:-0}" -gt 0 ] && [ "${bytes:-x}" = "$((pkts * 64))" ] &&
		rates_seen "$s" && [ "$(count_of "$s" '^cycles/packet: [1-9]')" -ge 1 ]; then
		ok "$t"
	else
		not_ok "$t" "sink: '$(grep '^sink:' "$s")' (want packets > 0, bytes = 64 x packets, Rx-pps and cycles/packet lines)"
		log_tail "$s"
	fi
	vpci_cleanup
}

sink_sum copy-1000B ",zero_copy=0" 2 1000 50000
sink_sum copy-9000B-segments ",zero_copy=0" 1 9000 5000
sink_sum zero-copy-64B ",zero_copy=1,zc_min_len=0" 1 64 50000
sink_sum zero-copy-9000B-segments ",zero_copy=1" 2 9000 5000
sink_txonly vpci-copy "net_vhost_pci0,path=$sock,zero_copy=0" \
	"net_virtio_user0,path=$sock" -d "$VPCI_PMD"
sink_txonly vpci-zero-copy "net_vhost_pci0,path=$sock,zero_copy=1,zc_min_len=0" \
	"net_virtio_user0,path=$sock" -d "$VPCI_PMD"
sink_txonly stock-vhost "net_vhost0,iface=$sock" "net_virtio_user0,path=$sock"
sink_txonly virtio-user "net_virtio_user0,path=$sock" "net_vhost0,iface=$sock"
