#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# `meson install` as a DPDK user runs it, then stock tools with no -d:
#  1. into a DESTDIR: every file in its place, the PMD linked into DPDK's
#     PMD directory, and a program built with `pkg-config libvhost_pci`;
#  2. for real, in a private mount namespace whose install directories are
#     throw-away copies: ldconfig, dpdk-pmdinfo.py on the installed PMD,
#     and stock dpdk-testpmd probing net_vhost_pci with no -d and passing
#     checked traffic with a virtio-user peer. Nothing outlives the test.
#
# usage: test_install.sh [--system]
#   --system: step 2 on the machine itself, and the install stays (CI runs
#   it last, on a fresh machine).
. "$(dirname "$0")/lib.sh"

mode=${1:-}
py() { python3 -c "$1"; }
opt() {
	meson introspect "$VPCI_BUILD" --buildoptions | py "import json,sys
print([o['value'] for o in json.load(sys.stdin) if o['name'] == '$1'][0])"
}
prefix=$(opt prefix)
libdir=$prefix/$(opt libdir)
incdir=$prefix/$(opt includedir)
bindir=$prefix/$(opt bindir)
pmddir=$(opt pmd_dir)
[ -n "$pmddir" ] || pmddir=$(pkg-config --variable=pmddir \
	"$VPCI_BUILD/meson-private/libvhost_pci.pc")
soname=librte_net_vhost_pci.so.0
devargs="path queues client uuid zero_copy zc_min_len owner group max_clients"

# user_program NAME DIR [PKG_CONFIG_PATH [LD_LIBRARY_PATH]]: in DIR, build
# a library user's program (the public headers, both libraries) with
# `pkg-config libvhost_pci`, run it, and check what it prints.
user_program() {
	local name=$1 w=$2 out="" cc=gcc
	cat > "$w/user.c" <<'EOF'
#include <stdio.h>
#include <rte_vhost_pci.h>
#include <rte_pmd_vhost_pci.h>

int
main(void)
{
	struct rte_pmd_vhost_pci_peer peer;

	/* No EAL: no port 0, whatever the PMD sees. */
	printf("get_peer=%d max_clients=%d\n",
		rte_pmd_vhost_pci_get_peer(0, &peer),
		RTE_VHOST_PCI_MAX_CLIENTS_DEFAULT);
	return 0;
}
EOF
	# The compiler does not run under preloaded sanitizer runtimes; a
	# program linking the sanitized libraries is built with them.
	case "${VPCI_MESON_ARGS:-}" in
	*b_sanitize=*) cc="env -u LD_PRELOAD gcc -fsanitize=address,undefined" ;;
	esac
	# shellcheck disable=SC2046,SC2086
	if $cc -DALLOW_EXPERIMENTAL_API -Werror -o "$w/user" "$w/user.c" $(PKG_CONFIG_PATH=${3:-} pkg-config \
			--cflags --libs libvhost_pci) > "$w/cc.log" 2>&1 &&
			out=$(LD_LIBRARY_PATH=${4:-} "$w/user" 2>&1) &&
			[ "$out" = "get_peer=-19 max_clients=64" ]; then
		ok "install: $name: $out"
	else
		not_ok "install: $name" "$(head -5 "$w/cc.log") printed '$out'"
	fi
}

# "net_vhost_pci: <devarg names>" from dpdk-pmdinfo.py's JSON output.
pmdinfo_check() {
	python3 - "$1" <<'EOF'
import json, sys
try:
    info = json.load(open(sys.argv[1]))
except ValueError:
    sys.exit(0)
for d in info:
    if d.get("name") == "net_vhost_pci":
        print("net_vhost_pci: " + " ".join(
            p.split("=")[0] for p in d.get("params", "").split()))
EOF
}

# exports_checks LIB PREFIX HEADER...: nm -D lists only PREFIX* functions
# (version.map hides the rest), each declared __rte_experimental in one of
# the installed headers.
exports_checks() {
	local lib=$1 prefix=$2 syms bad="" s n
	shift 2
	# Versioned names (name@@EXPERIMENTAL): the name is what counts.
	syms=$(nm -D --defined-only "$lib" |
		awk '$2 != "A" {sub(/@.*/, "", $3); print $3}')
	n=$(echo "$syms" | grep -c .)
	for s in $syms; do
		case "$s" in "$prefix"*) ;; *) bad="$bad $s"; continue ;; esac
		grep -h -A1 '^__rte_experimental$' "$@" |
			grep -qE "[ *]$s\(" || bad="$bad $s(undeclared)"
	done
	if [ -z "$bad" ] && [ "$n" -gt 0 ]; then
		ok "install: nm -D $(basename "$lib"): $n symbols, all ${prefix}*, all __rte_experimental in the headers"
	else
		not_ok "install: nm -D $(basename "$lib") shows only the public API" \
			"$n symbols; not public:$bad"
	fi
}

# ---- 1. DESTDIR ----
destdir_checks() {
	local d=$VPCI_RUN/destdir log=$LOGS/install-destdir.log f missing=""
	rm -rf "$d"
	if ! meson install -C "$VPCI_BUILD" --no-rebuild --destdir "$d" \
			> "$log" 2>&1; then
		not_ok "install: meson install --destdir" "see $log"
		return
	fi
	for f in "$libdir/librte_vhost_pci.so.0.1.0" "$libdir/librte_vhost_pci.so" \
			"$libdir/librte_net_vhost_pci.so.0.1.0" \
			"$incdir/vhost_pci/rte_vhost_pci.h" \
			"$incdir/vhost_pci/rte_vhost_pci_bar.h" \
			"$incdir/vhost_pci/rte_vhost_pci_client.h" \
			"$incdir/vhost_pci/rte_pmd_vhost_pci.h" \
			"$libdir/pkgconfig/libvhost_pci.pc" \
			"$bindir/dpdk-vhost-pci-client" \
			"$bindir/dpdk-vhost-pci.py"; do
		[ -e "$d$f" ] || missing="$missing $f"
	done
	if [ -z "$missing" ]; then
		ok "install: DESTDIR has the libraries, 4 headers, libvhost_pci.pc, the proxy and dpdk-vhost-pci.py"
	else
		not_ok "install: DESTDIR has every file" "missing:$missing"
	fi
	local link=$d$pmddir/librte_net_vhost_pci.so target
	target=$(readlink "$link")
	if [ "$target" = "$libdir/$soname" ] && [ -f "$d$target" ]; then
		ok "install: $pmddir/librte_net_vhost_pci.so -> $target"
	else
		not_ok "install: PMD linked into DPDK's PMD directory" \
			"$link -> '$target'"
	fi
	local so
	so=$(readelf -d "$d$libdir/librte_net_vhost_pci.so.0.1.0" |
		awk '/SONAME/ {print $NF}')
	check "install: the PMD's soname is [$soname]" [ "$so" = "[$soname]" ]
	exports_checks "$d$libdir/librte_vhost_pci.so.0.1.0" rte_vhost_pci_ \
		"$d$incdir/vhost_pci/rte_vhost_pci.h" \
		"$d$incdir/vhost_pci/rte_vhost_pci_client.h"
	exports_checks "$d$libdir/librte_net_vhost_pci.so.0.1.0" \
		rte_pmd_vhost_pci_ "$d$incdir/vhost_pci/rte_pmd_vhost_pci.h"

	# pkg-config from the DESTDIR: the .pc with its prefix moved there.
	local pc=$VPCI_RUN/destdir-pc
	mkdir -p "$pc"
	sed "s|^prefix=.*|prefix=$d$prefix|" "$d$libdir/pkgconfig/libvhost_pci.pc" \
		> "$pc/libvhost_pci.pc"
	user_program "a program built with pkg-config libvhost_pci (DESTDIR) runs" \
		"$pc" "$pc" "$d$libdir"
	rm -rf "$d" "$pc"
}

# ---- 2. a real install, then stock tools ----
real_install_checks() {
	local log=$LOGS/install-real.log w=$VPCI_RUN/install-user
	if ! meson install -C "$VPCI_BUILD" --no-rebuild > "$log" 2>&1; then
		not_ok "install: meson install" "see $log"
		return
	fi
	ok "install: meson install ($prefix, PMD link in $pmddir)"
	if ldconfig -p | grep -q "librte_vhost_pci.so.0 .*=> $libdir/"; then
		ok "install: ldconfig knows librte_vhost_pci in $libdir"
	else
		not_ok "install: ldconfig knows librte_vhost_pci" "$(ldconfig -p | grep vhost_pci)"
	fi

	# pkg-config with no help: the .pc is on pkg-config's default path.
	rm -rf "$w"
	mkdir -p "$w"
	user_program "gcc \$(pkg-config --cflags --libs libvhost_pci) builds a program that runs" "$w"
	rm -rf "$w"

	# dpdk-pmdinfo.py on the installed PMD: its name and every devarg;
	# and with -p on stock testpmd, which finds it through EAL's PMD path.
	local info=$LOGS/install-pmdinfo.log res
	dpdk-pmdinfo.py "$pmddir/librte_net_vhost_pci.so" > "$info" 2>&1
	res=$(pmdinfo_check "$info")
	if [ "$res" = "net_vhost_pci: $devargs" ]; then
		ok "install: dpdk-pmdinfo.py shows $res"
	else
		not_ok "install: dpdk-pmdinfo.py shows net_vhost_pci and its devargs" \
			"got '$res'; see $info"
	fi
	dpdk-pmdinfo.py -p "$TESTPMD" > "$info.testpmd" 2>&1
	res=$(pmdinfo_check "$info.testpmd")
	check "install: dpdk-pmdinfo.py -p dpdk-testpmd finds net_vhost_pci among the plugins" \
		[ "$res" = "net_vhost_pci: $devargs" ]

	# Stock testpmd, no -d: EAL autoloads the PMD from its directory.
	local sock=$VPCI_RUN/t-install.sock a=$LOGS/install-testpmd.log
	local p=$LOGS/install-pktcheck.log
	VPCI_SOCKETS="$VPCI_SOCKETS $sock"
	# shellcheck disable=SC2086
	vpci_bg "$a" ${VPCI_PFX}-t-a "$TESTPMD" -l 0-1 --file-prefix=${VPCI_PFX}-t-a \
		$VPCI_EAL_MEM --no-pci --vdev "net_vhost_pci0,path=$sock" -- \
		--forward-mode=macswap --auto-start --stats-period 1
	if ! vpci_wait_log "$a" 'forwards packets' 20; then
		not_ok "install: stock dpdk-testpmd with no -d probes net_vhost_pci" \
			"$(grep -iE 'error|fail|vhost_pci' "$a" | head -3)"
		vpci_cleanup
		return
	fi
	ok "install: stock dpdk-testpmd with no -d probes net_vhost_pci"
	# shellcheck disable=SC2086
	timeout 60 "$PKTCHECK" -l 0 --file-prefix=${VPCI_PFX}-t-p $VPCI_EAL_MEM \
		--no-pci --single-file-segments \
		--vdev "net_virtio_user0,path=$sock" -- \
		--count 20000 --size 512 --expect macswap --timeout 40 > "$p" 2>&1
	VPCI_PREFIXES="$VPCI_PREFIXES ${VPCI_PFX}-t-p"
	if pktcheck_passed "$p"; then
		ok "install: autoloaded net_vhost_pci swaps 20000 checked frames with virtio-user"
	else
		not_ok "install: traffic through the autoloaded PMD" \
			"$(grep '^pktcheck:' "$p" | tail -2 | tr '\n' ' ')"
	fi
	# The installed tool, from PATH, on the same testpmd.
	local tool=$LOGS/install-tool.txt
	dpdk-vhost-pci.py -f "${VPCI_PFX}-t-a" > "$tool" 2>&1
	if [ "$(command -v dpdk-vhost-pci.py)" = "$bindir/dpdk-vhost-pci.py" ] &&
			grep -qE "^  $sock +server +0 +64 +1$" "$tool" &&
			grep -qE "^  0 +net_vhost_pci0 +$sock " "$tool"; then
		ok "install: $bindir/dpdk-vhost-pci.py shows the socket and port 0"
	else
		not_ok "install: the installed dpdk-vhost-pci.py" "see $tool"
	fi
	vpci_cleanup
}

# Step 2 in a mount namespace: the install's directories, /etc (ld.so's
# cache) and DPDK's PMD directory become copies on a tmpfs that goes with
# the namespace.
in_namespace() {
	local t=$VPCI_RUN/install-ns d shadowed="" s n=0
	mkdir -p "$t"
	mount --make-rprivate / && mount -t tmpfs -o size=4g vpci-install "$t" ||
		return 1
	for d in "$libdir" "$incdir" "$bindir" "$pmddir" /etc; do
		while [ ! -d "$d" ]; do d=$(dirname "$d"); done
		case " $shadowed " in *" $d "*) continue ;; esac
		n=$((n + 1))
		s=$t/$n
		mkdir -p "$s"
		cp -a "$d/." "$s/" && mount --bind "$s" "$d" || return 1
		shadowed="$shadowed $d"
	done
	real_install_checks
}

if [ "$mode" = --in-namespace ]; then
	in_namespace || not_ok "install: private mount namespace" \
		"could not shadow the install directories"
	exit 0
fi
destdir_checks
if [ "$mode" = --system ]; then
	real_install_checks
elif [ "$prefix" = /usr ]; then
	skip "install: real install" "prefix /usr cannot be shadowed; run with --system"
elif ! unshare -m true 2> /dev/null; then
	not_ok "install: private mount namespace" "unshare -m refused (need CAP_SYS_ADMIN)"
else
	unshare -m bash "$0" --in-namespace
fi
