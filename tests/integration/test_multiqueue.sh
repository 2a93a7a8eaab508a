#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Multi-queue: net_vhost_pci with queues=2 against stock virtio-user with
# queues=2 (MQ negotiated), both queue pairs carrying traffic each way. The
# receiving side's per-queue xstats must show packets on queue 0 and on
# queue 1, and its error counters must stay at 0.
. "$(dirname "$0")/lib.sh"

sock=$VPCI_RUN/t-mq.sock
min=10000	# packets each queue must see in a few seconds

# xstat LOG NAME: the last value of xstat NAME printed in LOG.
xstat() {
	sed -nE "s/^ *$2: ([0-9]+).*/\1/p" "$1" | tail -n 1
}

# mq NAME VPCI-MODE VIRTIO-MODE RECEIVER(vpci|virtio)
mq() {
	local name=$1 amode=$2 bmode=$3 rx=$4
	local a=$LOGS/mq-$name.vpci.log b=$LOGS/mq-$name.virtio.log log q0 q1 err
	local good
	VPCI_SOCKETS="$VPCI_SOCKETS $sock"
	# shellcheck disable=SC2086
	vpci_testpmd_fifo mqa "$a" ${VPCI_PFX}-t-a -l 0-1 --file-prefix=${VPCI_PFX}-t-a \
		$VPCI_EAL_MEM --no-pci -d "$VPCI_PMD" \
		--vdev "net_vhost_pci0,path=$sock,queues=2" -- -i \
		--rxq=2 --txq=2 --forward-mode="$amode"
	vpci_wait_log "$a" 'testpmd>' 20
	# shellcheck disable=SC2086
	vpci_testpmd_fifo mqb "$b" ${VPCI_PFX}-t-b -l 0-1 --main-lcore 1 \
		--file-prefix=${VPCI_PFX}-t-b $VPCI_EAL_MEM --no-pci \
		--single-file-segments \
		--vdev "net_virtio_user0,path=$sock,queues=2" -- -i \
		--rxq=2 --txq=2 --forward-mode="$bmode"
	vpci_wait_log "$b" 'testpmd>' 20
	sleep 1
	vpci_cmd mqa start
	vpci_cmd mqb start
	sleep 4
	vpci_cmd mqa stop
	vpci_cmd mqb stop
	sleep 1
	vpci_cmd mqa "show port xstats 0"
	vpci_cmd mqb "show port xstats 0"
	sleep 1
	vpci_cmd mqa quit
	vpci_cmd mqb quit
	sleep 2
	# virtio names its per-queue counters rx_qN_good_packets.
	if [ "$rx" = vpci ]; then log=$a; good=""; else log=$b; good=good_; fi
	q0=$(xstat "$log" "rx_q0_${good}packets")
	q1=$(xstat "$log" "rx_q1_${good}packets")
	err=$(xstat "$log" rx_errors)
	if [ "${q0:-0}" -ge $min ] && [ "${q1:-0}" -ge $min ] && [ "${err:-1}" -eq 0 ]; then
		ok "multiqueue-$name"
	else
		not_ok "multiqueue-$name" "rx_q0_packets=${q0:-none} rx_q1_packets=${q1:-none} rx_errors=${err:-none} (want >= $min, >= $min, 0)"
	fi
	vpci_cleanup
}

mq virtio-to-vpci rxonly txonly vpci
mq vpci-to-virtio txonly rxonly virtio
