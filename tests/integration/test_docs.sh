#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The guides build with Debian's python3-sphinx, warning-free: the doc
# target runs sphinx-build -W (any warning fails it). Then the HTML must
# hold the pages the guides promise, each with its title, so a page left
# out of every toctree or renamed is caught too.
. "$(dirname "$0")/../../devtools/common.sh"

logs=${LOGS:-$VPCI_RUN/test-logs}
log=$logs/docs-sphinx.log
html=$VPCI_BUILD/doc/guides/html
mkdir -p "$logs"

if ! command -v sphinx-build > /dev/null; then
	echo "not ok - docs: sphinx build is warning-free (sphinx-build not found: apt-get install python3-sphinx)"
	exit 0
fi
# A stale page must not pass for a built one. Meson regenerates first, in
# a log of its own: only sphinx may speak in the doc log.
rm -rf "$html"
ninja -C "$VPCI_BUILD" build.ninja > "$log.meson" 2>&1
if ninja -C "$VPCI_BUILD" doc > "$log" 2>&1 &&
		grep -q '^build succeeded' "$log" &&
		! grep -qE 'WARNING|ERROR|CRITICAL' "$log"; then
	echo "ok - docs: sphinx build is warning-free"
else
	echo "not ok - docs: sphinx build is warning-free (log: $log)"
	grep -E 'WARNING|ERROR|CRITICAL|ninja:' "$log" | head -20 | sed 's/^/# /'
fi

# page TITLE...: the HTML page exists and has each title as a heading.
page() {
	local f=$html/$1 t
	shift
	if [ ! -f "$f" ]; then
		echo "not ok - docs: ${f#"$html"/} built (missing; log: $log)"
		return
	fi
	for t in "$@"; do
		if ! grep -qE "<h[1-3][^>]*>(<span class=\"section-number\">[^<]*</span>)?$t<a class=\"headerlink\"" "$f"; then
			echo "not ok - docs: ${f#"$html"/} has the heading '$t'"
			return
		fi
	done
	echo "ok - docs: ${f#"$html"/} built with its headings"
}

page index.html 'vhost-pci for DPDK Documentation'
page nics/vhost_pci.html 'Vhost-pci Poll Mode Driver' 'Runtime configuration' \
	'Installation' 'Telemetry' 'Performance'
page nics/overview.html 'Overview of Networking Drivers'
page prog_guide/vhost_pci_lib.html 'Vhost-pci Library' 'Security model' \
	'Library API' 'A minimal application'
page specs/bar_layout.html 'BAR Layout'
page howto/vhost_pci_intervm.html 'Inter-VM Communication through vhost-pci'
page sample_app_ug/vhost_pci_switch.html 'Vhost-PCI Switch Sample Application'
page testplans/vhost_pci_test_plan.html 'Vhost-pci PMD Tests' \
	'Test Case 1: [^<]*'
page tools/vhost_pci.html 'dpdk-vhost-pci Application'

# The programmer's guide example is code a reader copies: it must build,
# warning-free, against this tree's headers and library.
ex=$VPCI_TOP/doc/guides/prog_guide/vhost_pci_dump.c
exe=$logs/vhost_pci_dump
# shellcheck disable=SC2046
if gcc -Wall -Wextra -Werror -DALLOW_EXPERIMENTAL_API -o "$exe" "$ex" \
		-I"$VPCI_TOP/lib/vhost_pci" \
		$(pkg-config --cflags libdpdk) -L"$VPCI_BUILD/lib" -lrte_vhost_pci \
		$(pkg-config --libs libdpdk) > "$exe.log" 2>&1; then
	echo "ok - docs: the programmer's guide example builds warning-free"
else
	echo "not ok - docs: the programmer's guide example builds warning-free (log: $exe.log)"
	head -5 "$exe.log" | sed 's/^/# /'
fi
rm -f "$exe"
