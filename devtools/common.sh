# SPDX-License-Identifier: BSD-3-Clause
#
# Shared by devtools/demo.sh, devtools/test.sh and the integration tests:
# install what is missing, set up hugepages, build, and run DPDK processes
# that are always cleaned up. Source it; do not run it.

VPCI_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VPCI_BUILD=${VPCI_BUILD:-$VPCI_TOP/build}
VPCI_RUN=${VPCI_RUN:-/run/vhost-pci}
# EAL file prefixes of the test processes start with this: two runs side by
# side need their own VPCI_RUN and VPCI_PFX.
VPCI_PFX=${VPCI_PFX:-vpci}
# libclang-rt-dev: clang's sanitizer and libFuzzer runtimes (tests/fuzz),
# which the clang package only recommends. python3-sphinx: the doc target.
VPCI_PKGS="dpdk dpdk-dev libdpdk-dev meson ninja-build libnuma-dev pkg-config gcc clang libclang-rt-dev python3-sphinx"
VPCI_DPDK_PKGS="dpdk dpdk-dev libdpdk-dev"
TESTPMD=${TESTPMD:-/usr/bin/dpdk-testpmd}

vpci_log() { printf '==> %s\n' "$*" >&2; }
vpci_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# apt packages (default $VPCI_PKGS, else the ones named), DPDK pinned to
# 22.11 whatever other suites apt can see.
vpci_install_deps() {
	local missing="" p
	for p in ${*:-$VPCI_PKGS}; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	[ "$(id -u)" = 0 ] || vpci_die "missing packages:$missing (run as root to install)"
	vpci_log "installing:$missing"
	local args="" 
	for p in $missing; do
		case " $VPCI_DPDK_PKGS " in
		*" $p "*) args="$args $p=22.11.*" ;;
		*) args="$args $p" ;;
		esac
	done
	apt-get update -q >&2 || vpci_die "apt-get update failed"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $args >&2 ||
		vpci_die "apt-get install failed"
}

# 2 MiB hugepages: 2048 of them (4 GiB), mounted on /dev/hugepages.
VPCI_EAL_MEM="-m 512"
vpci_hugepages() {
	local want=2048 have
	have=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || echo 0)
	if [ "$have" -lt "$want" ] && [ "$(id -u)" = 0 ]; then
		echo "$want" > /proc/sys/vm/nr_hugepages 2>/dev/null || true
	fi
	if ! grep -q '^[^ ]* /dev/hugepages hugetlbfs' /proc/mounts && [ "$(id -u)" = 0 ]; then
		mkdir -p /dev/hugepages
		mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true
	fi
	have=$(awk '/HugePages_Free/ {print $2}' /proc/meminfo)
	if [ "${have:-0}" -lt 512 ] || ! grep -q hugetlbfs /proc/mounts; then
		vpci_log "WARNING: fewer than 512 free hugepages: falling back to --no-huge"
		VPCI_EAL_MEM="--no-huge -m 512"
	fi
}

vpci_build() {
	if [ ! -f "$VPCI_BUILD/build.ninja" ]; then
		# shellcheck disable=SC2086
		meson setup "$VPCI_BUILD" "$VPCI_TOP" ${VPCI_MESON_ARGS:-} >&2 ||
			vpci_die "meson setup failed"
	fi
	ninja -C "$VPCI_BUILD" >&2 || vpci_die "build failed"
}

# EAL's -d refuses a path with a world-writable ancestor. Stage the PMD and
# its library into $VPCI_RUN (drivers/ and lib/ keep the $ORIGIN rpath).
vpci_stage_pmd() {
	mkdir -p "$VPCI_RUN/drivers" "$VPCI_RUN/lib"
	chmod 755 "$VPCI_RUN" "$VPCI_RUN/drivers" "$VPCI_RUN/lib"
	local f
	for f in "$VPCI_BUILD"/drivers/librte_net_vhost_pci.so* \
			"$VPCI_BUILD"/lib/librte_vhost_pci.so*; do
		[ -d "$f" ] && continue
		# Copy, then rename: a running process keeps the file it
		# mapped (rewriting it in place would SIGBUS that process).
		local dst
		dst="$VPCI_RUN/$(basename "$(dirname "$f")")/$(basename "$f")"
		cp -P "$f" "$dst.new" && mv -f "$dst.new" "$dst"
	done
	VPCI_PMD="$VPCI_RUN/drivers/librte_net_vhost_pci.so"
}

# Everything the demo and the tests need, in order.
vpci_setup() {
	vpci_install_deps
	vpci_build
	vpci_hugepages
	vpci_stage_pmd
}

# ---- processes ----
VPCI_PIDS=""
VPCI_PREFIXES=""
VPCI_SOCKETS=""

# vpci_bg LOG PREFIX cmd...: start cmd in the background, logging to LOG;
# PREFIX is its EAL --file-prefix, whose hugepage files cleanup removes.
# The pid is left in VPCI_LAST_PID (no subshell: the pid stays ours).
vpci_bg() {
	local log=$1 prefix=$2
	shift 2
	"$@" > "$log" 2>&1 < /dev/null &
	VPCI_LAST_PID=$!
	VPCI_PIDS="$VPCI_PIDS $!"
	VPCI_PREFIXES="$VPCI_PREFIXES $prefix"
}

# vpci_proxy LOG FRONTEND SERVER [args]: a dpdk-vhost-pci-client for the
# front-end socket FRONTEND (cleanup removes it), until that socket is
# there. No EAL, so no hugepage prefix; its pid is in VPCI_LAST_PID.
vpci_proxy() {
	local log=$1 fe=$2 srv=$3
	shift 3
	VPCI_SOCKETS="$VPCI_SOCKETS $fe"
	vpci_bg "$log" "" "$VPCI_BUILD/app/vhost-pci-client/dpdk-vhost-pci-client" \
		--frontend "$fe" --server "$srv" "$@"
	wait_for 10 [ -S "$fe" ]
}

# A testpmd driven through a fifo: vpci_testpmd_fifo NAME LOG PREFIX args...
# Send commands with vpci_cmd NAME "command".
vpci_testpmd_fifo() {
	local name=$1 log=$2 prefix=$3
	shift 3
	local fifo="$VPCI_RUN/$name.fifo"
	rm -f "$fifo"
	mkfifo "$fifo"
	# Hold the fifo open so testpmd never sees EOF between commands.
	sleep 100000 > "$fifo" &
	VPCI_PIDS="$VPCI_PIDS $!"
	"$TESTPMD" "$@" < "$fifo" > "$log" 2>&1 &
	VPCI_LAST_PID=$!
	VPCI_PIDS="$VPCI_PIDS $!"
	VPCI_PREFIXES="$VPCI_PREFIXES $prefix"
}

vpci_cmd() {
	printf '%s\n' "$2" > "$VPCI_RUN/$1.fifo"
}

# vpci_wait_log LOG REGEX SECONDS: wait until LOG matches.
vpci_wait_log() {
	local i
	for i in $(seq $(( $3 * 10 ))); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wait_for SECONDS CMD...: until CMD succeeds.
wait_for() {
	local s=$1
	shift
	for _ in $(seq $((s * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

vpci_kill() {
	local pid=$1 i
	kill -INT "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

vpci_cleanup() {
	local pid p
	for pid in $VPCI_PIDS; do
		vpci_kill "$pid"
	done
	wait 2>/dev/null
	for p in $VPCI_PREFIXES; do
		rm -f /dev/hugepages/"$p"map_* /dev/hugepages/"$p"map-* \
			/dev/hugepages/"$p"_* 2>/dev/null
		rm -rf "/var/run/dpdk/$p"
	done
	for p in $VPCI_SOCKETS; do
		rm -f "$p"
	done
	rm -f "$VPCI_RUN"/*.fifo
	VPCI_PIDS=""
	VPCI_PREFIXES=""
	VPCI_SOCKETS=""
}

# Rates from the last statistics block testpmd printed for port 0.
vpci_rates() {
	awk '/Rx-pps:/ {rx=$2} /Tx-pps:/ {tx=$2} END {printf "Rx-pps %10s  Tx-pps %10s", rx+0, tx+0}' "$1"
}

# vpci_show_rates SECONDS TITLE-A LOG-A TITLE-B LOG-B: both sides' rates
# once a second, then their RX totals; fails when either side got none.
vpci_show_rates() {
	local secs=$1 ta=$2 a=$3 tb=$4 b=$5 i rx_a rx_b
	printf '%-4s  %-44s  %s\n' "s" "$ta" "$tb"
	for i in $(seq "$secs"); do
		sleep 1
		printf '%-4s  %-44s  %s\n' "$i" "$(vpci_rates "$a")" "$(vpci_rates "$b")"
	done
	rx_a=$(awk '/RX-packets:/ {v=$2} END {print v+0}' "$a")
	rx_b=$(awk '/RX-packets:/ {v=$2} END {print v+0}' "$b")
	echo "total RX: $rx_a and $rx_b packets"
	[ "$rx_a" -gt 0 ] && [ "$rx_b" -gt 0 ]
}
