#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The build is warning-free under gcc and clang at -Wall -Wextra: build both
# with -Dwerror=true into their own directories.
. "$(dirname "$0")/../../devtools/common.sh"

build() {
	local dir=$VPCI_TOP/build-werror-$1
	shift
	rm -rf "$dir"
	meson setup "$dir" "$VPCI_TOP" -Dwerror=true "$@" > "$dir.log" 2>&1 &&
		ninja -C "$dir" >> "$dir.log" 2>&1
	local rc=$?
	[ $rc -ne 0 ] && tail -20 "$dir.log"
	rm -rf "$dir" "$dir.log"
	return $rc
}

if build gcc; then echo "ok - build-gcc-werror"; else echo "not ok - build-gcc-werror"; fi
if build clang --native-file "$VPCI_TOP/config/clang.ini"; then
	echo "ok - build-clang-werror"
else
	echo "not ok - build-clang-werror"
fi
