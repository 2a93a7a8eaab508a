#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Multi-queue: net_vhost_pci with queues=2 against stock virtio-user with
# queues=2 (MQ negotiated), both queue pairs carrying traffic each way. The
# receiving side's per-queue xstats must show packets on queue 0 and on
# queue 1, and its error counters must stay at 0. The counters are read
# through DPDK telemetry: exact, and live (testpmd's interactive output
# only reaches its log file at exit).
#
# Then eight queue pairs with their payload verified per queue: testpmd on
# net_vhost_pci swaps MACs with one forwarding core, which forwards rxq i
# to txq i; dpdk-vpci-pktcheck --queues 8 on virtio-user sends each
# queue's share of numbered, checksummed frames on its own TX queue and
# must get every one back intact on the RX queue of the same index.
. "$(dirname "$0")/lib.sh"

sock=$VPCI_RUN/t-mq.sock
min=10000	# packets each receive queue must see
pa=${VPCI_PFX}-t-a
pb=${VPCI_PFX}-t-b

# Prompts testpmd printed in LOG: one more each time a command is done.
prompts() { count_of "$1" 'testpmd> '; }

# mq NAME VPCI-MODE VIRTIO-MODE RECEIVER(vpci|virtio)
mq() {
	local name=$1 amode=$2 bmode=$3 rx=$4 t="multiqueue-$1"
	local a=$LOGS/mq-$name.vpci.log b=$LOGS/mq-$name.virtio.log
	local apid bpid na nb log rxp good xs q0 q1 err
	VPCI_SOCKETS="$VPCI_SOCKETS $sock"
	# shellcheck disable=SC2086
	vpci_testpmd_fifo mqa "$a" $pa -l 0-1 --file-prefix=$pa \
		$VPCI_EAL_MEM --no-pci -d "$VPCI_PMD" \
		--vdev "net_vhost_pci0,path=$sock,queues=2" -- -i \
		--rxq=2 --txq=2 --forward-mode="$amode"
	apid=$VPCI_LAST_PID
	need "$t" "$a" vpci_wait_log "$a" 'testpmd>' 20 || { vpci_cleanup; return; }
	# shellcheck disable=SC2086
	vpci_testpmd_fifo mqb "$b" $pb -l 0-1 --main-lcore 1 \
		--file-prefix=$pb $VPCI_EAL_MEM --no-pci \
		--single-file-segments \
		--vdev "net_virtio_user0,path=$sock,queues=2" -- -i \
		--rxq=2 --txq=2 --forward-mode="$bmode"
	bpid=$VPCI_LAST_PID
	need "$t" "$b" vpci_wait_log "$b" 'testpmd>' 20 || { vpci_cleanup; return; }
	# Both ends have the link up before the forwarding starts.
	if ! need "$t" "$a" tel_wait 30 "$pa" "q('/ethdev/link_status,0')['status'] == 'UP'" ||
		! need "$t" "$b" tel_wait 30 "$pb" "q('/ethdev/link_status,0')['status'] == 'UP'"; then
		vpci_cleanup
		return
	fi

	# virtio names its per-queue counters rx_qN_good_packets.
	if [ "$rx" = vpci ]; then log=$a; rxp=$pa; good=""; else log=$b; rxp=$pb; good=good_; fi
	xs="q('/ethdev/xstats,0')"
	na=$(prompts "$a")
	nb=$(prompts "$b")
	vpci_cmd mqa start
	vpci_cmd mqb start
	# Until each receive queue has taken $min packets.
	need "$t" "$log" tel_wait 60 "$rxp" \
		"min(${xs}['rx_q0_${good}packets'], ${xs}['rx_q1_${good}packets']) >= $min" ||
		{ vpci_cleanup; return; }
	vpci_cmd mqa stop
	vpci_cmd mqb stop
	# The prompts after start and stop: both forwarding loops are done.
	if ! need "$t" "$a" wait_count "$a" 'testpmd> ' $((na + 2)) 30 ||
		! need "$t" "$b" wait_count "$b" 'testpmd> ' $((nb + 2)) 30; then
		vpci_cleanup
		return
	fi
	q0=$(tel_get "$rxp" "${xs}['rx_q0_${good}packets']")
	q1=$(tel_get "$rxp" "${xs}['rx_q1_${good}packets']")
	err=$(tel_get "$rxp" "${xs}['rx_errors']")
	# The same counters in the logs, for whoever reads them.
	vpci_cmd mqa "show port xstats 0"
	vpci_cmd mqb "show port xstats 0"
	vpci_cmd mqa quit
	vpci_cmd mqb quit
	if [ "${q0:-0}" -ge $min ] && [ "${q1:-0}" -ge $min ] && [ "${err:-1}" -eq 0 ]; then
		ok "$t"
	else
		not_ok "$t" "rx_q0_${good}packets=${q0:-none} rx_q1_${good}packets=${q1:-none} rx_errors=${err:-none} (want >= $min, >= $min, 0)"
	fi
	need "$t: vpci testpmd quits" "$a" wait_for 30 exited "$apid"
	need "$t: virtio testpmd quits" "$b" wait_for 30 exited "$bpid"
	vpci_cleanup
}

mq virtio-to-vpci rxonly txonly vpci
mq vpci-to-virtio txonly rxonly virtio

# mq_payload NAME VPCI-DEVARGS VIRTIO-DEVARGS: 8 queue pairs, every frame
# verified byte by byte and by the queue it came back on.
# mq8_run NAME VPCI-DEVARGS VIRTIO-DEVARGS TXQ TIMEOUT: testpmd forwards
# its 8 RX queues to TXQ TX queues; pktcheck's log is $LOGS/mq8-NAME.pktcheck.log.
mq8_run() {
	local t="multiqueue-8-queues-$1" vargs=$2 fargs=$3 ntx=$4 secs=$5 nq=8
	local a=$LOGS/mq8-$1.vpci.log p=$LOGS/mq8-$1.pktcheck.log
	VPCI_SOCKETS="$VPCI_SOCKETS $sock"
	# shellcheck disable=SC2086
	vpci_bg "$a" $pa "$TESTPMD" -l 0-1 --file-prefix=$pa $VPCI_EAL_MEM \
		--no-pci -d "$VPCI_PMD" \
		--vdev "net_vhost_pci0,path=$sock,queues=$nq$vargs" -- \
		--rxq=$nq --txq="$ntx" --forward-mode=macswap --auto-start \
		--stats-period 1
	need "$t" "$a" vpci_wait_log "$a" 'forwards packets' 20 || return 1
	# shellcheck disable=SC2086
	timeout 90 "$PKTCHECK" -l 0 --file-prefix=${VPCI_PFX}-t-p $VPCI_EAL_MEM \
		--no-pci --single-file-segments \
		--vdev "net_virtio_user0,path=$sock,queues=$nq$fargs" -- \
		--queues $nq --count 40000 --size 256 --expect macswap \
		--timeout "$secs" > "$p" 2>&1
	VPCI_PREFIXES="$VPCI_PREFIXES ${VPCI_PFX}-t-p"
}

mq_payload() {
	local t="multiqueue-8-queues-payload-$1" nq=8
	local p=$LOGS/mq8-$1.pktcheck.log lines good
	mq8_run "$1" "$2" "$3" $nq 60 || { vpci_cleanup; return; }
	# One line per queue, each with all its frames back, none bad, none
	# on another queue.
	lines=$(count_of "$p" '^pktcheck: queue [0-7]: ')
	good=$(count_of "$p" '^pktcheck: queue [0-7]: sent ([1-9][0-9]*), received \1, bad 0, dup 0, missing 0, wrong-queue 0$')
	if pktcheck_passed "$p" && [ "$lines" -eq $nq ] && [ "$good" -eq $nq ] &&
		grep -q 'wrong-queue=0$' "$p"; then
		ok "$t"
	else
		not_ok "$t" "$good of $lines queue lines good (want $nq of $nq): $(grep '^pktcheck:' "$p" | tail -$((nq + 3)) | tr '\n' ' ')"
	fi
	vpci_cleanup
}

mq_payload copy ",zero_copy=0" ""
mq_payload zero-copy ",zero_copy=1,zc_min_len=0" ""
mq_payload packed-ring ",zero_copy=0" ",packed_vq=1"

# The per-queue lines tell queues apart: testpmd with 4 TX queues forwards
# only RX queues 0-3 (it pairs rxq i with txq i), so queues 4-7 must get
# nothing back and the run must fail, while queues 0-3 are whole.
mq_unforwarded() {
	local t="multiqueue-8-queues-only-the-4-unforwarded-fail"
	local p=$LOGS/mq8-unforwarded.pktcheck.log whole empty
	mq8_run unforwarded ",zero_copy=0" "" 4 5 || { vpci_cleanup; return; }
	whole=$(count_of "$p" '^pktcheck: queue [0-3]: sent ([1-9][0-9]*), received \1, bad 0, dup 0, missing 0, wrong-queue 0$')
	empty=$(count_of "$p" '^pktcheck: queue [4-7]: sent [1-9][0-9]*, received 0, bad 0, dup 0, missing [1-9][0-9]*, wrong-queue 0$')
	if grep -q '^pktcheck: FAIL' "$p" && [ "$whole" -eq 4 ] && [ "$empty" -eq 4 ]; then
		ok "$t"
	else
		not_ok "$t" "want FAIL, queues 0-3 whole (got $whole), 4-7 empty (got $empty): $(grep '^pktcheck:' "$p" | tail -11 | tr '\n' ' ')"
	fi
	vpci_cleanup
}
mq_unforwarded
