#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Where does a 64-byte TX packet lose across cores? Not a test, and not
# the bench: an ablation study of net_vhost_pci's TX. It builds a copy of
# this tree with tx-ablation.patch applied (VPCI_ABL bits that each leave
# out or change one part of TX; the list is in the patch, in vpci_ring.h),
# then runs enqueue (PMD testpmd txonly -> stock net_virtio_user rxonly,
# split ring, mergeable buffers, in_order=0, as devtools/bench.sh's
# enqueue row) for each variant in turn, round after round, and prints per
# variant every run's figure and the best. The peer's Rx-pps is the
# figure (the median of the run's windows after the first), with the
# peer's cycles per packet (--record-core-cycles, bursts that brought
# packets): equal peer cycles mean the variant changed only the PMD
# core's work. The PMD side's own count is not shown: its txonly starts
# before the peer connects and counts those bursts too. Noise only slows
# a run: compare bests, over many rounds.
#
# usage: devtools/ablation/ablate.sh [--rounds N] [--size B]
#          [--seconds N] VARIANT...
#   VARIANT  vhost (stock net_vhost); null (txonly into net_null, no
#            peer: testpmd's own work per packet, its Tx-pps the figure);
#            or a VPCI_ABL bit mask: 0 is net_vhost_pci unchanged, 1 no
#            payload copy, 9 = 1 + 8 ...
# e.g. devtools/ablation/ablate.sh --rounds 8 vhost 0 1 2 4 8 11
set -eu
. "$(dirname "$0")/../common.sh"

rounds=6
size=64
secs=3
while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) rounds=$2; shift ;;
	--size) size=$2; shift ;;
	--seconds) secs=$2; shift ;;
	-*) vpci_die "unknown option $1 (see the header of $0)" ;;
	*) break ;;
	esac
	shift
done
[ $# -gt 0 ] || vpci_die "no variant (see the header of $0)"

vpci_install_deps
vpci_hugepages
out=$VPCI_RUN/ablation
src=$out/src
mkdir -p "$out"
chmod 755 "$VPCI_RUN" "$out"
# The patched copy: a detached worktree of HEAD, built on its own.
if [ ! -f "$src/build/build.ninja" ]; then
	rm -rf "$src"
	git -C "$VPCI_TOP" worktree prune
	git -C "$VPCI_TOP" worktree add -q --detach "$src" HEAD ||
		vpci_die "git worktree add failed"
	git -C "$src" apply "$VPCI_TOP/devtools/ablation/tx-ablation.patch" ||
		vpci_die "tx-ablation.patch does not apply to HEAD"
fi
VPCI_TOP=$src VPCI_BUILD=$src/build vpci_build
pmd_so=$src/build/drivers/librte_net_vhost_pci.so
trap vpci_cleanup EXIT

# The median of a testpmd log's "NAME: N" figures (Rx-pps, Tx-pps) over
# the --seconds windows after the first one with traffic.
window_median() {
	grep -a "$2:" "$1" | awk '{print $2}' | awk '$1 > 0 {t = 1} t' |
		sed -n "2,$((secs + 1))p" | sort -n |
		awk '{a[NR] = $1} END {print NR ? a[int((NR + 1) / 2)] : 0}'
}

# testpmd --record-core-cycles' cycles per packet, from its stop report.
cycles_per_pkt() {
	sed -nE 's/.*CPU cycles\/packet=([0-9.]+).*/\1/p' "$1" | tail -n 1
}

# One run: the peer's median Rx-pps after its first traffic window, and
# its cycles per packet.
one() {
	local v=$1 a=$out/pmd.log b=$out/peer.log sock=$out/s.sock vd
	rm -f "$sock"
	case "$v" in
	vhost) vd="--vdev net_vhost0,iface=$sock,queues=1" ;;
	null) vd="--vdev net_null0" ;;
	*) vd="--vdev net_vhost_pci0,path=$sock,queues=1" ;;
	esac
	# shellcheck disable=SC2086
	VPCI_ABL=$v vpci_bg "$a" "${VPCI_PFX}abla" "$TESTPMD" -l 0-1 \
		--file-prefix="${VPCI_PFX}abla" $VPCI_EAL_MEM --no-pci \
		-d "$pmd_so" $vd -- --nb-cores=1 --forward-mode=txonly \
		--txd=1024 --rxd=1024 --txpkts="$size" --record-core-cycles \
		--stats-period 1
	if [ "$v" = null ]; then
		# No peer: txonly's own work per packet, and its rate.
		sleep $((secs + 2))
		vpci_cleanup
		printf '%s\t%s\t%s\n' "$v" "$(window_median "$a" Tx-pps)" \
			"$(cycles_per_pkt "$a")"
		return
	fi
	wait_sock "$sock"
	# shellcheck disable=SC2086
	vpci_bg "$b" "${VPCI_PFX}ablb" "$TESTPMD" -l 0-1 --main-lcore 1 \
		--file-prefix="${VPCI_PFX}ablb" $VPCI_EAL_MEM --no-pci \
		--single-file-segments \
		--vdev "net_virtio_user0,mac=00:01:02:03:04:05,path=$sock,queues=1,packed_vq=0,mrg_rxbuf=1,in_order=0" \
		-- --nb-cores=1 --forward-mode=rxonly --txd=1024 --rxd=1024 \
		--tx-offloads=0x0 --record-core-cycles --stats-period 1
	sleep $((secs + 2))
	vpci_cleanup
	local pc
	pc=$(cycles_per_pkt "$b")
	printf '%s\t%s\t%s\n' "$v" "$(window_median "$b" Rx-pps)" "${pc:--}"
}

wait_sock() {
	local i
	for i in $(seq 100); do
		[ -S "$1" ] && return 0
		sleep 0.1
	done
	vpci_die "the PMD side made no socket $1"
}

runs=$out/runs.tsv
: > "$runs"
for r in $(seq "$rounds"); do
	for v in "$@"; do
		line=$(one "$v")
		printf 'round %s\t%s\n' "$r" "$line"
		printf '%s\n' "$line" >> "$runs"
	done
done
echo "variant  best Mpps  runs (Mpps)   c/p of the best run (the peer's; null: txonly's)"
for v in "$@"; do
	awk -F'\t' -v v="$v" '$1 == v {
		all = all sprintf(" %.1f", $2 / 1e6)
		if ($2 > best) {best = $2; pc = $3}
	} END {printf "%-8s %9.2f  %s   %s\n", v, best / 1e6, all, pc}' "$runs"
done
