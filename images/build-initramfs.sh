#!/bin/bash
# Build the initramfs of gmvm's Linux test guest: an uncompressed newc cpio
# with Debian's static busybox, images/guest/init as /init, and
# /bin/gmvm-vsock (images/guest/gmvm-vsock.c, static against musl: 34 KB,
# where glibc's would be 680 KB to unpack at every boot).
#
# Uncompressed on purpose: the kernel would decompress a gzip archive with
# emulated CPL0 code on kvm-pvm hosts (+78 s measured).
#
# Usage: images/build-initramfs.sh [--cached-only]
# Prints GMVM_INITRAMFS=<path> on stdout. Cached like the kernel (see
# images/README.md); --cached-only never builds and exits 3 when the image
# is not there.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/busybox-tree.sh"

img_parse_args "$@"

VSOCK_HELPER=$GMVM_IMAGES_DIR/guest/gmvm-vsock.c

$cached_only || img_need_packages busybox-static cpio musl-tools
for p in busybox-static musl-tools; do
	dpkg-query -W "$p" >/dev/null 2>&1 || { $cached_only && exit 3; }
done

KEY=$(img_key \
	"$(img_file_line "$GMVM_IMAGES_DIR/build-initramfs.sh")" \
	"$(img_file_line "$GMVM_IMAGES_DIR/lib.sh")" \
	"$(img_file_line "$GMVM_IMAGES_DIR/busybox-tree.sh")" \
	"$(img_file_line "$BUSYBOX_INIT")" \
	"$(img_file_line "$BUSYBOX_FSTAB")" \
	"$(img_file_line "$VSOCK_HELPER")" \
	"pkg busybox-static $(img_pkg_version busybox-static)" \
	"pkg musl-tools $(img_pkg_version musl-tools)")
OUT=$GMVM_IMAGE_CACHE/initramfs/$KEY

if [ ! -f "$OUT/initramfs.cpio" ]; then
	$cached_only && exit 3
	img_lock initramfs
fi
if [ ! -f "$OUT/initramfs.cpio" ]; then
	TMP=$(mktemp -d "$GMVM_IMAGE_CACHE/initramfs/.build.XXXXXX")
	trap 'rm -rf "$TMP"' EXIT
	root=$TMP/root
	busybox_tree "$root" init
	musl-gcc -static -Os -s -Wall -Wextra -Werror -o "$root/bin/gmvm-vsock" \
		"$VSOCK_HELPER" || img_die "cannot build $VSOCK_HELPER"
	# The console the kernel opens for /init (the kernel's built-in
	# initramfs has one too; this one makes the archive self-contained).
	if [ "$(id -u)" = 0 ]; then
		mknod -m 0600 "$root/dev/console" c 5 1
	fi
	busybox_tree_fix_times "$root"
	(cd "$root" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
		cpio --null --create --format=newc --owner=0:0 --reproducible \
			--quiet) >"$TMP/initramfs.cpio"
	rm -rf "$root"
	trap - EXIT
	chmod 0755 "$TMP"
	img_publish initramfs "$KEY" "$TMP"
	img_log "built $OUT/initramfs.cpio ($(stat -c %s "$OUT/initramfs.cpio") bytes)"
else
	$cached_only || img_use initramfs "$KEY"
fi
echo "GMVM_INITRAMFS=$OUT/initramfs.cpio"
