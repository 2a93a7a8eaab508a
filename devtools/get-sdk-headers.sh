#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Debian's libdpdk-dev does not ship DPDK's driver-SDK headers. Fetch them
# from Debian's source package of the exact installed version and keep only
# those headers, under OUTDIR. Nothing of DPDK is ever committed here.
#
# usage: get-sdk-headers.sh OUTDIR
set -eu

out=${1:?usage: $0 OUTDIR}
headers="ethdev_driver.h ethdev_vdev.h ethdev_pci.h bus_vdev_driver.h
bus_pci_driver.h dev_driver.h bus_driver.h"

ver=$(dpkg-query -W -f='${Version}' libdpdk-dev 2>/dev/null) || {
	echo "get-sdk-headers: libdpdk-dev is not installed" >&2
	exit 1
}
mkdir -p "$out"
if [ "$(cat "$out/.version" 2>/dev/null)" = "$ver" ]; then
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/parts"
cat > "$work/sources.list" <<SRC
deb-src http://deb.debian.org/debian bookworm main
deb-src http://deb.debian.org/debian-security bookworm-security main
SRC
aptopt="-o Dir::Etc::sourcelist=$work/sources.list
	-o Dir::Etc::sourceparts=$work/parts
	-o Dir::State::Lists=$work/lists
	-o Dir::Cache::archives=$work/archives
	-o APT::Sandbox::User=root -q"
# shellcheck disable=SC2086
apt-get $aptopt update >&2
# shellcheck disable=SC2086
(cd "$work" && apt-get $aptopt source --download-only "dpdk=$ver" >&2)

orig=$(ls "$work"/dpdk_*.orig.tar.* | head -n 1)
pattern=""
for h in $headers; do
	pattern="$pattern */$h"
done
# shellcheck disable=SC2086
tar -C "$work" -xf "$orig" --wildcards --no-anchored $pattern
for h in $headers; do
	f=$(find "$work" -name "$h" -path '*/lib/*' -o -name "$h" -path '*/drivers/bus/*' | head -n 1)
	[ -n "$f" ] || { echo "get-sdk-headers: $h not found in $orig" >&2; exit 1; }
	cp "$f" "$out/$h"
done
echo "$ver" > "$out/.version"
echo "get-sdk-headers: DPDK $ver driver headers in $out" >&2
