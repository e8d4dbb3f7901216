#!/bin/bash
# Build gmvm's Linux guest kernel (vmlinux and bzImage) from Debian's
# linux-source-6.12: `make tinyconfig` + images/linux/gmvm.config, with the
# patches in images/linux/patches/ applied.
#
# Usage: images/build-linux.sh [--cached-only]
#
# Prints, on stdout, shell assignments naming the results:
#   GMVM_VMLINUX=/var/cache/gmvm-images/linux/<key>/vmlinux
#   GMVM_BZIMAGE=/var/cache/gmvm-images/linux/<key>/bzImage
# Everything else goes to stderr. Builds only when no build of the same
# inputs is cached (see images/README.md); --cached-only never builds and
# exits 3 when the images are not there.
#
# Environment: GMVM_IMAGE_CACHE (default /var/cache/gmvm-images),
# GMVM_JOBS (make -j, default: number of CPUs).

. "$(dirname "$0")/lib.sh"

img_parse_args "$@"

SRC_PKG=linux-source-6.12
LINUX_DIR=$GMVM_IMAGES_DIR/linux
FRAGMENT=$LINUX_DIR/gmvm.config
mapfile -t PATCHES < <(find "$LINUX_DIR/patches" -maxdepth 1 -name '*.patch' \
	2>/dev/null | LC_ALL=C sort)

if ! $cached_only; then
	# Kernel build: compiler, make, bc (timeconst), bison/flex (Kconfig),
	# libelf (objtool), lz4 (bzImage payload), xz (the source tarball).
	img_need_packages "$SRC_PKG" build-essential bc bison flex libelf-dev \
		lz4 xz-utils patch
fi
dpkg-query -W "$SRC_PKG" >/dev/null 2>&1 || { $cached_only && exit 3; }

inputs=(
	"$(img_file_line "$GMVM_IMAGES_DIR/build-linux.sh")"
	"$(img_file_line "$GMVM_IMAGES_DIR/lib.sh")"
	"$(img_file_line "$FRAGMENT")"
	"pkg $SRC_PKG $(img_pkg_version "$SRC_PKG")"
	"gcc $(gcc -dumpfullversion 2>/dev/null || echo none)"
	"ld $(ld --version 2>/dev/null | head -n1)"
)
for p in "${PATCHES[@]}"; do
	inputs+=("$(img_file_line "$p")")
done
KEY=$(img_key "${inputs[@]}")
OUT=$GMVM_IMAGE_CACHE/linux/$KEY

report() {
	echo "GMVM_VMLINUX=$OUT/vmlinux"
	echo "GMVM_BZIMAGE=$OUT/bzImage"
}

if [ -f "$OUT/vmlinux" ] && [ -f "$OUT/bzImage" ]; then
	$cached_only || img_use linux "$KEY"
	report
	exit 0
fi
$cached_only && exit 3

img_lock linux
if [ -f "$OUT/vmlinux" ] && [ -f "$OUT/bzImage" ]; then # built meanwhile
	img_use linux "$KEY"
	report
	exit 0
fi

# The source is unpacked once per package version into work/, and the
# object tree (O=) is kept there too, so a changed option or patch rebuilds
# in seconds to minutes instead of a full build.
WORK=$GMVM_IMAGE_CACHE/work
SRC=$WORK/$SRC_PKG-$(img_pkg_version "$SRC_PKG")
OBJ=$WORK/linux-obj
APPLIED=$SRC/.gmvm-applied # copies of the patches applied to $SRC
mkdir -p "$WORK"

unpack_source() {
	img_log "unpacking /usr/src/$SRC_PKG.tar.xz into $SRC"
	# Trees of other package versions, and objects built from them, go.
	rm -rf "$WORK/$SRC_PKG"-* "$OBJ"
	mkdir -p "$SRC.tmp"
	tar -xJf "/usr/src/$SRC_PKG.tar.xz" -C "$SRC.tmp" --strip-components=1
	mkdir "$SRC.tmp/.gmvm-applied"
	mv "$SRC.tmp" "$SRC"
}

# Bring $SRC to "pristine + PATCHES": take back the patches applied last
# time (reverse order) when they differ, then apply the current ones.
# patch(1) gives every file it touches a new mtime, so make rebuilds exactly
# those files; if taking a patch back fails, start again from the tarball
# (and a fresh object tree, since unpacked files carry old mtimes).
patch_source() {
	local want have p old i
	series() { local f; for f in "$@"; do
		[ -f "$f" ] && printf '%s %s\n' "${f##*/}" "$(sha256sum <"$f" | cut -c1-64)"
	done; }
	# The glob expands in name order, the order PATCHES was applied in.
	old=("$APPLIED"/*.patch)
	[ -e "${old[0]}" ] || old=()
	want=$(series "${PATCHES[@]}")
	have=$(series "${old[@]}")
	[ "$want" = "$have" ] && return 0
	for ((i = ${#old[@]} - 1; i >= 0; i--)); do
		p=${old[i]}
		img_log "taking back ${p##*/}"
		if ! patch -d "$SRC" -p1 -R -s -f <"$p" >&2; then
			img_log "cannot take back ${p##*/}: unpacking again"
			unpack_source
			break
		fi
		rm -f "$p"
	done
	for p in "${PATCHES[@]}"; do
		img_log "applying ${p#"$GMVM_IMAGES_DIR"/}"
		patch -d "$SRC" -p1 -s -N <"$p" >&2 ||
			img_die "patch ${p##*/} does not apply to $SRC_PKG"
		cp "$p" "$APPLIED/"
	done
}

if [ ! -f "$SRC/Makefile" ] || [ ! -d "$APPLIED" ]; then
	unpack_source
fi
patch_source

JOBS=${GMVM_JOBS:-$(nproc)}
LOG=$WORK/linux-build.log
mkdir -p "$OBJ"
img_log "configuring (tinyconfig + ${FRAGMENT#"$GMVM_IMAGES_DIR"/})"
{
	make -C "$SRC" O="$OBJ" ARCH=x86_64 tinyconfig
	"$SRC/scripts/kconfig/merge_config.sh" -m -O "$OBJ" "$OBJ/.config" "$FRAGMENT"
	make -C "$SRC" O="$OBJ" ARCH=x86_64 olddefconfig
} >"$LOG" 2>&1 || { tail -n 30 "$LOG" >&2; img_die "configuration failed (log: $LOG)"; }

# Every option in the fragment must have the value asked for: Kconfig drops
# an option silently when a dependency is missing.
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF "$line" "$OBJ/.config" && continue
		sym=${line%%=*}
		;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }
		sym=${sym%% *}
		grep -q "^$sym=" "$OBJ/.config" || continue
		;;
	*) continue ;;
	esac
	img_log "config: asked for '$line', got '$(grep -E "^$sym=|^# $sym is not set" \
		"$OBJ/.config" || echo "$sym undefined")'"
	bad=1
done <"$FRAGMENT"
[ $bad = 0 ] || img_die "the fragment does not hold; fix $FRAGMENT"

img_log "building vmlinux and bzImage (make -j$JOBS; log: $LOG)"
start=$(date +%s)
make -C "$SRC" O="$OBJ" ARCH=x86_64 -j"$JOBS" vmlinux bzImage >>"$LOG" 2>&1 ||
	{ tail -n 40 "$LOG" >&2; img_die "kernel build failed (log: $LOG)"; }
img_log "built in $(( $(date +%s) - start )) s"

TMP=$(mktemp -d "$GMVM_IMAGE_CACHE/linux/.build.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
cp "$OBJ/vmlinux" "$OBJ/arch/x86/boot/bzImage" "$OBJ/System.map" "$TMP/"
cp "$OBJ/.config" "$TMP/config"
printf '%s\n' "${inputs[@]}" >"$TMP/inputs"
chmod 0755 "$TMP"
img_publish linux "$KEY" "$TMP"
trap - EXIT
report
