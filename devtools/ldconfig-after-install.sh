#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# meson install script: refresh ld.so's cache so that EAL can dlopen the
# PMD from its directory and find librte_vhost_pci. Not into a DESTDIR
# (a package's post-install does that) and only as root.
set -e
[ "${MESON_INSTALL_DESTDIR_PREFIX:-}" = "${MESON_INSTALL_PREFIX:-}" ] || exit 0
[ "$(id -u)" = 0 ] || {
	echo "not root: run ldconfig before starting DPDK applications" >&2
	exit 0
}
command -v ldconfig > /dev/null 2>&1 || exit 0
ldconfig
