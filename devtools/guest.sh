#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A throw-away x86 guest for PCI-mode tests: Debian's kernel, a busybox
# initramfs carrying stock DPDK (testpmd, the PMDs, dpdk-devbind.py with the
# python3 it needs) and this project's PMD, booted under TCG (nested KVM
# hangs guests on the machines this runs on). No disk, no network: the test
# hands the guest a shell script and gets its exit code back.
#
# usage:
#   devtools/guest.sh build
#	Builds $VPCI_RUN/guest/vmlinuz and initrd.gz (cached; the kernel
#	packages are kept in $VPCI_GUEST_CACHE, so rebuilds are offline).
#	The project's PMD is taken from $VPCI_GUEST_BUILD (default
#	$VPCI_BUILD): build it first. An ASan build's PMD cannot load in
#	the guest's uninstrumented testpmd: give a plain build there.
#   devtools/guest.sh run [options] --script FILE [-- extra qemu args...]
#	Boots the guest; it runs FILE with sh as root, prints
#	"GUEST-RESULT: <exit code>" and powers off. The console goes to stdout
#	and to $VPCI_RUN/guest/NAME.log. Exits with the script's exit code,
#	124 on timeout (qemu killed), 125 when qemu ended without a result.
#	--timeout SECONDS	default 120
#	--smp N			default 1
#	--mem MiB		default 1024
#	--name NAME		the log's name, default "guest"; give guests
#				that run at once their own names
#	--append ARGS		more kernel command line, e.g.
#				vpci.hugepages=N (2 MiB pages, default 192)
#	--background		start qemu and return at once, printing only
#				qemu's pid; the console goes to the log only.
#				Wait for the "GUEST-RESULT: " line in the log
#				yourself. The timeout still applies: qemu is
#				killed then, and the log's last line says so.
#	In the foreground, a qemu that exits non-zero after the result (a
#	crash at exit) leaves "guest.sh: qemu exited with status N" at the
#	end of the log and a warning on stderr; the exit code stays the
#	guest's.
#	The kernel boots through its PVH entry (vmlinux, extracted from
#	vmlinuz at build), which saves SeaBIOS's and xz's 3 to 5 s under TCG.
#	-nic none: the guest's PCI slots 3 to 31 are free for addr= (0 and 1
#	are the chipset's, 2 the VGA; add -vga none to free 2).
#
# In the guest: /usr/bin/dpdk-testpmd autoloads every stock PMD and
# net_vhost_pci (no -d needed); uio and uio_pci_generic are loaded; vfio-pci
# and virtio modules are there for modprobe; hugepages are on /dev/hugepages.
set -eu
# devtools/test.sh --sanitize preloads the sanitizer runtimes for our
# programs; QEMU, cpio and the rest of this are not ours.
unset LD_PRELOAD
. "$(dirname "$0")/common.sh"
SELF=$(readlink -f "$0")

GUEST_DIR=$VPCI_RUN/guest
GUEST_PMD_BUILD=${VPCI_GUEST_BUILD:-$VPCI_BUILD}
# Not under /run: that is a tmpfs, and the kernel packages should survive a
# reboot of the host.
VPCI_GUEST_CACHE=${VPCI_GUEST_CACHE:-/var/cache/vhost-pci-guest}
GUEST_PKGS="qemu-system-x86 busybox-static pciutils kmod cpio python3"
# vfio needs an emulated IOMMU (Debian's kernel has no no-IOMMU mode), but
# the modules cost little and let a test try it.
GUEST_MODULES="uio uio_pci_generic vfio vfio-pci vfio_iommu_type1 virtio_pci virtio_net net_failover ${VPCI_GUEST_MODULES:-}"
MULTIARCH=x86_64-linux-gnu
PMD_DIR=/usr/lib/$MULTIARCH/dpdk/pmds-23.0
PY=python3.11

usage() {
	sed -n '/^# usage:/,/^# In the guest/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 2
}

guest_deps() {
	# The guest runs the host's DPDK, which the project pins to 22.11.
	vpci_install_deps $GUEST_PKGS dpdk
}

# The kernel comes from the archive, not from the host's /boot: the host may
# be a container without one, and the versioned package brings its modules.
# The .debs stay in the cache, unpacked once into $VPCI_GUEST_CACHE/kernel.
guest_kernel() {
	local debs=$VPCI_GUEST_CACHE/debs root=$VPCI_GUEST_CACHE/kernel dep m
	if [ -d "$root" ]; then
		m=("$root"/lib/modules/*)
		KVER=${m[0]##*/}
		return 0
	fi
	mkdir -p "$debs"
	if ! ls "$debs"/linux-image-amd64_*.deb > /dev/null 2>&1; then
		vpci_log "downloading linux-image-amd64"
		# apt-get download writes into the current directory; as root
		# it cannot drop to the _apt user there and warns about it.
		(cd "$debs" && apt-get download linux-image-amd64 >&2) ||
			(apt-get update -q >&2 && cd "$debs" && apt-get download linux-image-amd64 >&2) ||
			vpci_die "apt-get download linux-image-amd64 failed"
	fi
	# The metapackage names the real one: take the name from the .deb we
	# hold, so the pair stays consistent after the archive moves on.
	m=("$debs"/linux-image-amd64_*.deb)
	dep=$(dpkg-deb -f "${m[-1]}" Depends |
		tr ',' '\n' | sed -n 's/^ *\(linux-image-[0-9][^ ]*\).*/\1/p' | head -n1)
	[ -n "$dep" ] || vpci_die "linux-image-amd64 names no versioned kernel"
	if ! ls "$debs/${dep}"_*.deb > /dev/null 2>&1; then
		vpci_log "downloading $dep"
		(cd "$debs" && apt-get download "$dep" >&2) ||
			vpci_die "apt-get download $dep failed"
	fi
	rm -rf "$root.tmp"
	m=("$debs/${dep}"_*.deb)
	dpkg -x "${m[-1]}" "$root.tmp"
	# Bookworm's package ships /lib/modules; a usr-merged one would not.
	if [ ! -d "$root.tmp/lib/modules" ] && [ -d "$root.tmp/usr/lib/modules" ]; then
		ln -s usr/lib "$root.tmp/lib"
	fi
	m=("$root.tmp"/lib/modules/*)
	KVER=${m[0]##*/}
	[ -f "$root.tmp/boot/vmlinuz-$KVER" ] || vpci_die "$dep has no kernel or modules"
	# The package leaves depmod to its postinst; the host's modprobe needs
	# the result to list the dependencies of the modules the guest gets.
	depmod -b "$root.tmp" "$KVER"
	extract_vmlinux "$root.tmp/boot/vmlinuz-$KVER" "$root.tmp/vmlinux"
	mv "$root.tmp" "$root"
}

# extract_vmlinux BZIMAGE OUT: the uncompressed ELF kernel inside a bzImage.
# Under TCG, SeaBIOS plus the kernel's own xz decompression take 3 to 5 s
# of every boot; qemu loads the ELF directly through its PVH entry point
# (CONFIG_PVH) in a fraction of that. The setup header says where the
# payload is: setup_sects at 0x1f1, payload_offset and payload_length at
# 0x248 and 0x24c, the offset counted from the protected-mode code, which
# follows the (setup_sects + 1) 512-byte sectors of setup.
extract_vmlinux() {
	local k=$1 out=$2 ss off len magic dec
	ss=$(od -An -tu1 -j $((0x1f1)) -N1 "$k" | tr -d ' ')
	[ "$ss" = 0 ] && ss=4
	off=$(( (ss + 1) * 512 + $(od -An -tu4 -j $((0x248)) -N4 "$k" | tr -d ' ') ))
	len=$(od -An -tu4 -j $((0x24c)) -N4 "$k" | tr -d ' ')
	magic=$(od -An -tx1 -j "$off" -N4 "$k" | tr -d ' ')
	case "$magic" in
	fd377a58) dec="xz -dc --single-stream" ;;
	1f8b*) dec="gzip -dc" ;;
	28b52ffd) dec="zstd -dcq" ;;
	*) vpci_log "unknown kernel compression ($magic): booting the bzImage"; return 0 ;;
	esac
	# gzip and zstd warn about the size word after the stream; the
	# result is checked below instead.
	# shellcheck disable=SC2086
	tail -c +$((off + 1)) "$k" | head -c "$len" | $dec > "$out" 2> /dev/null || true
	if [ "$(head -c4 "$out" | tr -d '\177')" != ELF ] ||
			! readelf -n "$out" 2> /dev/null | grep -q 'Xen .*type: (0x00000012)'; then
		vpci_log "no PVH entry in the kernel: booting the bzImage"
		rm -f "$out"
	fi
}

# stage_copy SRC...: copy files into $stage at the same path. Symlinks stay
# symlinks, their targets copied too: the loader must see one file where the
# host has one (librte_bus_pci.so.23 in the library directory is a link into
# the PMD directory; two copies would be loaded twice by a PMD's dependency
# and by EAL's plugin scan, and DPDK panics on the second tailq). Anything
# already at the path (a busybox applet link, say) is replaced, not written
# through.
stage_copy() {
	local f t depth
	for f in "$@"; do
		depth=0
		while [ -n "$f" ] && [ "$depth" -lt 16 ]; do
			mkdir -p "$stage$(dirname "$f")"
			rm -f "$stage$f"
			if [ -L "$f" ]; then
				t=$(readlink "$f")
				ln -s "$t" "$stage$f"
				case "$t" in
				/*) f=$t ;;
				*) f=$(dirname "$f")/$t ;;
				esac
				depth=$((depth + 1))
			else
				cp "$f" "$stage$f"
				f=""
			fi
		done
	done
}

# The /init the guest boots into. busybox sh.
write_init() {
	cat > "$stage/init" << 'EOF'
#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb
# rootfs is a tmpfs created world-writable, and EAL refuses to load plugins
# from under a world-writable directory.
chmod 755 /
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/hugepages /dev/shm /dev/pts
mount -t hugetlbfs hugetlbfs /dev/hugepages
mount -t tmpfs tmpfs /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
# vpci.hugepages is not the kernel's: it only reaches us through cmdline.
hp=192
for a in $(cat /proc/cmdline); do
	case "$a" in
	vpci.hugepages=*) hp=${a#*=} ;;
	esac
done
echo "$hp" > /proc/sys/vm/nr_hugepages
modprobe uio
modprobe uio_pci_generic
ip link set lo up
cd /root
sh /guest-script
rc=$?
cd /
sync
# Keep the kernel's "Power down" off the console: the result line is last.
echo 0 > /proc/sys/kernel/printk
# On a line of its own even when the script's output did not end one.
printf '\nGUEST-RESULT: %d\n' "$rc"
poweroff -f
EOF
	chmod 755 "$stage/init"
}

# Everything but the project's PMD: rebuilt only when this script or the
# host's DPDK changes, since it is the slow part.
guest_base() {
	local base=$GUEST_DIR/base.cpio.gz kroot=$VPCI_GUEST_CACHE/kernel m f
	if [ -f "$base" ] && [ ! "$SELF" -nt "$base" ] &&
			[ ! /var/lib/dpkg/status -nt "$base" ] &&
			[ ! "$kroot" -nt "$base" ]; then
		return 0
	fi
	vpci_log "building the guest's base image"
	stage=$GUEST_DIR/stage-base
	rm -rf "$stage"
	mkdir -p "$stage"/usr/bin "$stage"/usr/sbin "$stage/usr/lib/$MULTIARCH" \
		"$stage"/usr/lib64 "$stage"/usr/share/misc
	# Bookworm is usr-merged: ldd names /lib/..., testpmd's interpreter is
	# /lib64/..., scripts say /bin/sh. One tree serves all the names.
	ln -s usr/bin "$stage/bin"
	ln -s usr/sbin "$stage/sbin"
	ln -s usr/lib "$stage/lib"
	ln -s usr/lib64 "$stage/lib64"
	mkdir -p "$stage"/proc "$stage"/sys "$stage"/dev "$stage"/run \
		"$stage"/tmp "$stage"/root "$stage"/etc "$stage"/var
	ln -s ../run "$stage/var/run"
	mknod "$stage/dev/console" c 5 1
	mknod "$stage/dev/null" c 1 3
	chmod 1777 "$stage/tmp"

	# The real tools first; busybox fills in what is left below.
	stage_copy /usr/bin/dpdk-testpmd /usr/bin/dpdk-devbind.py \
		/usr/bin/lspci /usr/bin/setpci /usr/share/misc/pci.ids \
		/usr/bin/$PY /usr/bin/kmod
	ln -s $PY "$stage/usr/bin/python3"
	for f in modprobe insmod rmmod lsmod modinfo depmod; do
		ln -s ../bin/kmod "$stage/usr/sbin/$f"
	done
	# The whole PMD directory, its .so/.so.23 links kept: testpmd loads
	# it all at start, as on the host.
	mkdir -p "$stage$(dirname "$PMD_DIR")"
	cp -a "$PMD_DIR" "$stage$(dirname "$PMD_DIR")/"
	# Python's stdlib without what no test script needs (the static
	# libpython alone is 25 MiB).
	mkdir -p "$stage/usr/lib/$PY"
	tar -C "/usr/lib/$PY" \
		--exclude="./config-*" --exclude=./test --exclude=./lib2to3 \
		--exclude=./pydoc_data --exclude=./distutils --exclude=./idlelib \
		--exclude=./tkinter --exclude=./turtledemo --exclude=./ensurepip \
		--exclude=./site-packages --exclude=./dist-packages \
		-cf - . | tar -C "$stage/usr/lib/$PY" -xf -

	# Every library any staged ELF file names, plus libgcc_s, which glibc
	# dlopens at thread exit (without it testpmd aborts when it quits).
	# ldd runs on the host's copies: the same files, and their links
	# resolve. It shrugs off the scripts among the executables.
	(cd "$stage" && find usr -type f \( -name '*.so' -o -name '*.so.*' \
		-o -perm -u+x \) | sed 's|^|/|') > "$GUEST_DIR/elf.list"
	xargs ldd < "$GUEST_DIR/elf.list" 2> /dev/null |
		awk '/=> not found/ {print "warning: " $0 > "/dev/stderr"}
			/=> \// {print $3} /^\t\/[^ ]* \(/ {print $1}' |
		sort -u | while read -r f; do stage_copy "$f"; done
	stage_copy /lib/$MULTIARCH/libgcc_s.so.1

	# busybox for everything else, never over a real tool.
	stage_copy /usr/bin/busybox
	busybox --list-full | while read -r f; do
		case "$f" in */*) ;; *) continue ;; esac
		[ -e "$stage/$f" ] || [ -L "$stage/$f" ] ||
			ln -s /usr/bin/busybox "$stage/$f"
	done

	# The kernel modules asked for and all they depend on, then depmod so
	# modprobe resolves them in the guest.
	local kmods=$stage/lib/modules/$KVER
	mkdir -p "$kmods"
	cp "$kroot/lib/modules/$KVER"/modules.order \
		"$kroot/lib/modules/$KVER"/modules.builtin* "$kmods/"
	for m in $GUEST_MODULES; do
		modprobe -d "$kroot" -S "$KVER" --show-depends "$m" ||
			vpci_die "no module $m in $KVER"
	done | awk '$1 == "insmod" {print $2}' | sort -u | while read -r f; do
		f=${f#"$kroot"}
		f=/lib/modules/${f#*/lib/modules/}
		mkdir -p "$stage$(dirname "$f")"
		cp "$kroot$f" "$stage$f"
	done
	depmod -b "$stage" "$KVER"

	# A loader cache, so nothing depends on the loader's built-in paths.
	mkdir -p "$stage/etc/ld.so.conf.d"
	echo "include /etc/ld.so.conf.d/*.conf" > "$stage/etc/ld.so.conf"
	printf '/usr/local/lib/%s\n/lib/%s\n/usr/lib/%s\n' $MULTIARCH $MULTIARCH \
		$MULTIARCH > "$stage/etc/ld.so.conf.d/$MULTIARCH.conf"
	ldconfig -r "$stage" 2> /dev/null || true
	echo 'root:x:0:0:root:/root:/bin/sh' > "$stage/etc/passwd"
	echo 'root:x:0:' > "$stage/etc/group"
	write_init

	# -R 0:0: the guest's files are root's whoever built them. gzip -1:
	# the size hardly changes at -6 and the build takes twice as long.
	(cd "$stage" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -1 > "$base.tmp"
	mv "$base.tmp" "$base"
	rm -rf "$stage" "$GUEST_DIR/elf.list"
}

# The project's PMD on top of the base, as a second archive (the kernel
# unpacks concatenated ones in order). The PMD goes into the PMD directory
# so EAL loads it with the stock ones; its library goes where the loader
# looks, not into the PMD directory, where EAL would dlopen it on its own.
guest_initrd() {
	local out=$GUEST_DIR/initrd.gz base=$GUEST_DIR/base.cpio.gz f newer=0
	local pmds=("$GUEST_PMD_BUILD"/drivers/librte_net_vhost_pci.so*)
	local libs=("$GUEST_PMD_BUILD"/lib/librte_vhost_pci.so*)
	[ -f "$GUEST_PMD_BUILD/drivers/librte_net_vhost_pci.so" ] ||
		vpci_die "no $GUEST_PMD_BUILD/drivers/librte_net_vhost_pci.so: build the project first (ninja -C $GUEST_PMD_BUILD)"
	# A stamp names the build the image holds: switching VPCI_BUILD (to
	# an ASan build, say) must bring that build's PMD in, old or not.
	if [ ! -f "$out" ] || [ "$base" -nt "$out" ] ||
			[ "$(cat "$GUEST_DIR/pmd.from" 2> /dev/null)" != "$GUEST_PMD_BUILD" ]; then
		newer=1
	fi
	for f in "${pmds[@]}" "${libs[@]}"; do
		[ -d "$f" ] && continue
		[ "$f" -nt "$out" ] && newer=1
	done
	[ "$newer" = 1 ] || return 0
	vpci_log "adding the project's PMD to the guest image"
	stage=$GUEST_DIR/stage-pmd
	rm -rf "$stage"
	mkdir -p "$stage$PMD_DIR" "$stage/usr/lib/$MULTIARCH"
	for f in "${pmds[@]}"; do
		[ -d "$f" ] || cp -P "$f" "$stage$PMD_DIR/"
	done
	for f in "${libs[@]}"; do
		[ -d "$f" ] || cp -P "$f" "$stage/usr/lib/$MULTIARCH/"
	done
	# Only the files and the directories already in the base (same mode),
	# so unpacking this changes nothing else.
	(cd "$stage" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet) |
		gzip -1 > "$GUEST_DIR/pmd.cpio.gz"
	cat "$base" "$GUEST_DIR/pmd.cpio.gz" > "$out.tmp"
	mv "$out.tmp" "$out"
	echo "$GUEST_PMD_BUILD" > "$GUEST_DIR/pmd.from"
	rm -rf "$stage" "$GUEST_DIR/pmd.cpio.gz"
}

guest_build() {
	mkdir -p "$GUEST_DIR"
	# Guests started together must not build over each other.
	exec 9> "$GUEST_DIR/.build.lock"
	flock 9
	guest_deps
	guest_kernel
	if [ ! -f "$GUEST_DIR/vmlinuz" ] ||
			[ "$VPCI_GUEST_CACHE/kernel" -nt "$GUEST_DIR/vmlinuz" ] ||
			{ [ -f "$VPCI_GUEST_CACHE/kernel/vmlinux" ] &&
			[ ! -f "$GUEST_DIR/vmlinux" ]; }; then
		cp "$VPCI_GUEST_CACHE/kernel/boot/vmlinuz-$KVER" "$GUEST_DIR/vmlinuz.tmp"
		mv "$GUEST_DIR/vmlinuz.tmp" "$GUEST_DIR/vmlinuz"
		rm -f "$GUEST_DIR/vmlinux"
		if [ -f "$VPCI_GUEST_CACHE/kernel/vmlinux" ]; then
			cp "$VPCI_GUEST_CACHE/kernel/vmlinux" "$GUEST_DIR/vmlinux.tmp"
			mv "$GUEST_DIR/vmlinux.tmp" "$GUEST_DIR/vmlinux"
		fi
	fi
	guest_base
	guest_initrd
	flock -u 9
	exec 9>&-
}

guest_run() {
	local timeout=120 smp=1 mem=1024 name=guest script="" append="" bg=0
	while [ $# -gt 0 ]; do
		case "$1" in
		--timeout) timeout=$2; shift 2 ;;
		--smp) smp=$2; shift 2 ;;
		--mem) mem=$2; shift 2 ;;
		--name) name=$2; shift 2 ;;
		--script) script=$2; shift 2 ;;
		--append) append=$2; shift 2 ;;
		--background) bg=1; shift ;;
		--) shift; break ;;
		*) usage ;;
		esac
	done
	[ -n "$script" ] || usage
	[ -r "$script" ] || vpci_die "cannot read $script"
	guest_build

	# The script travels as a third archive appended to a private copy of
	# the image: nothing shared changes, so guests can run side by side.
	local tmp log=$GUEST_DIR/$name.log
	tmp=$(mktemp -d "$GUEST_DIR/run-$name.XXXXXX")
	mkdir "$tmp/root"
	cp "$script" "$tmp/root/guest-script"
	chmod 755 "$tmp/root/guest-script"
	(cd "$tmp/root" && echo guest-script | cpio -o -H newc -R 0:0 --quiet) |
		gzip -1 > "$tmp/script.cpio.gz"
	cat "$GUEST_DIR/initrd.gz" "$tmp/script.cpio.gz" > "$tmp/initrd"

	# -nic none: no default e1000 to show up among the guest's network
	# devices. stdin is /dev/null: -nographic would otherwise put a
	# terminal into raw mode and read the monitor escape from it.
	local kernel=$GUEST_DIR/vmlinux
	[ -f "$kernel" ] || kernel=$GUEST_DIR/vmlinuz
	local qemu=(qemu-system-x86_64 -accel tcg -cpu max -m "$mem" -smp "$smp"
		-nographic -no-reboot -nic none
		-kernel "$kernel" -initrd "$tmp/initrd"
		-append "console=ttyS0 quiet panic=-1 $append" "$@")

	# Emptied here, not by qemu's redirection, so that a reader started
	# next never sees the previous run's log.
	: > "$log"
	if [ "$bg" = 1 ]; then
		"${qemu[@]}" < /dev/null >> "$log" 2>&1 &
		local qpid=$!
		# A watchdog outlives us: it enforces the timeout and removes
		# the private image once qemu is gone. It must not hold our
		# stdout, or "$(guest.sh run --background ...)" would wait.
		(
			set +e
			end=$((SECONDS + timeout))
			while kill -0 "$qpid" 2> /dev/null; do
				if [ "$SECONDS" -ge "$end" ]; then
					kill "$qpid" 2> /dev/null
					sleep 2
					kill -KILL "$qpid" 2> /dev/null
					echo "guest.sh: timed out after $timeout s, qemu killed" >> "$log"
					break
				fi
				sleep 1
			done
			rm -rf "$tmp"
		) < /dev/null > /dev/null 2>&1 &
		echo "$qpid"
		return 0
	fi

	"${qemu[@]}" < /dev/null >> "$log" 2>&1 &
	# Globals: the trap runs after this function's locals are gone.
	QPID=$!
	TMP=$tmp
	trap 'kill "$QPID" 2> /dev/null || true; rm -rf "$TMP"' EXIT
	local qpid=$QPID tpid rc
	trap 'exit 130' INT TERM
	# The console is copied to stdout from the log, so both see the same.
	tail -n +1 -s 0.2 -f --pid="$qpid" "$log" &
	tpid=$!
	local end=$((SECONDS + timeout)) timed_out=0
	while kill -0 "$qpid" 2> /dev/null; do
		if [ "$SECONDS" -ge "$end" ]; then
			timed_out=1
			# qemu exits at once on SIGTERM; KILL if it hangs anyway.
			kill "$qpid" 2> /dev/null
			for _ in $(seq 50); do
				kill -0 "$qpid" 2> /dev/null || break
				sleep 0.1
			done
			kill -KILL "$qpid" 2> /dev/null || true
			break
		fi
		sleep 0.2
	done
	local qrc=0
	wait "$qpid" 2> /dev/null || qrc=$?
	# A qemu that crashes after the guest's result (at exit, say) would
	# otherwise go unnoticed: the log and stderr say so.
	if [ "$qrc" != 0 ] && [ "$timed_out" = 0 ]; then
		echo "guest.sh: qemu exited with status $qrc" >> "$log"
	fi
	wait "$tpid" 2> /dev/null || true
	trap - EXIT INT TERM
	rm -rf "$tmp"
	if [ "$timed_out" = 1 ]; then
		vpci_log "guest $name: timed out after $timeout s"
		return 124
	fi
	# The console ends lines with CR LF, and the firmware's terminal
	# resets may share the line when the script printed nothing.
	rc=$(tr -d '\r' < "$log" | sed -n 's/.*GUEST-RESULT: \([0-9]\{1,3\}\)$/\1/p' | tail -n1)
	if [ -z "$rc" ]; then
		vpci_log "guest $name: qemu ended without a GUEST-RESULT line (see $log)"
		return 125
	fi
	[ "$qrc" = 0 ] || vpci_log "guest $name: WARNING: qemu exited with status $qrc after the guest's result (see $log)"
	return "$rc"
}

case "${1:-}" in
build) guest_build ;;
run) shift; guest_run "$@" ;;
*) usage ;;
esac
