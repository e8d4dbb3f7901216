#!/bin/bash
# Build the test disk of gmvm's Linux guest: a small ext4 image made with
# `mke2fs -d` from a directory tree holding a marker file, Debian's static
# busybox and images/guest/init as /sbin/init (so it also boots as the root
# file system: root=/dev/vda rw init=/sbin/init, no initramfs).
#
# The guest writes /gmvm-guest-wrote into it: tests copy the cached image
# and give the guest the copy.
#
# Usage: images/build-rootfs.sh [--cached-only]
# Prints GMVM_ROOTFS=<path> on stdout. Cached like the kernel (see
# images/README.md); --cached-only never builds and exits 3 when the image
# is not there.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/busybox-tree.sh"

img_parse_args "$@"

# What /gmvm-rootfs-marker holds; the guest prints it and copies it into
# /gmvm-guest-wrote.
MARKER="gmvm test rootfs v1"
SIZE=16M

$cached_only || img_need_packages busybox-static e2fsprogs
dpkg-query -W busybox-static e2fsprogs >/dev/null 2>&1 || { $cached_only && exit 3; }

KEY=$(img_key \
	"$(img_file_line "$GMVM_IMAGES_DIR/build-rootfs.sh")" \
	"$(img_file_line "$GMVM_IMAGES_DIR/lib.sh")" \
	"$(img_file_line "$GMVM_IMAGES_DIR/busybox-tree.sh")" \
	"$(img_file_line "$BUSYBOX_INIT")" \
	"$(img_file_line "$BUSYBOX_FSTAB")" \
	"pkg busybox-static $(img_pkg_version busybox-static)" \
	"pkg e2fsprogs $(img_pkg_version e2fsprogs)")
OUT=$GMVM_IMAGE_CACHE/rootfs/$KEY

if [ ! -f "$OUT/rootfs.ext4" ]; then
	$cached_only && exit 3
	img_lock rootfs
fi
if [ ! -f "$OUT/rootfs.ext4" ]; then
	TMP=$(mktemp -d "$GMVM_IMAGE_CACHE/rootfs/.build.XXXXXX")
	trap 'rm -rf "$TMP"' EXIT
	root=$TMP/root
	busybox_tree "$root" sbin/init
	echo "$MARKER" >"$root/gmvm-rootfs-marker"
	busybox_tree_fix_times "$root"
	# A fixed UUID, hash seed and time make the image reproducible.
	# lazy_itable_init=0 and lazy_journal_init=0: everything is initialised
	# now, so the guest's first mount starts no background zeroing thread.
	# No metadata checksums: each one is a software crc32c over a block,
	# computed by emulated CPL0 code on kvm-pvm hosts.
	E2FSPROGS_FAKE_TIME=1700000000 mke2fs -q -F -t ext4 -b 4096 \
		-L gmvm-rootfs -U 6d766d67-0000-4000-8000-000000000001 \
		-O ^metadata_csum \
		-E root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0,nodiscard,hash_seed=6d766d67-0000-4000-8000-000000000002 \
		-d "$root" "$TMP/rootfs.ext4" "$SIZE" >&2
	# mke2fs -d copies each file's ctime, which touch cannot set: fixed
	# afterwards, so that the same inputs give the same bytes.
	(cd "$root" && find . | sed -e 's|^\.$|/|' -e 's|^\./|/|') |
		while read -r path; do
			echo "set_inode_field $path ctime @1700000000"
		done | debugfs -w -f - "$TMP/rootfs.ext4" >/dev/null
	rm -rf "$root"
	trap - EXIT
	chmod 0755 "$TMP"
	img_publish rootfs "$KEY" "$TMP"
	img_log "built $OUT/rootfs.ext4 ($SIZE)"
else
	$cached_only || img_use rootfs "$KEY"
fi
echo "GMVM_ROOTFS=$OUT/rootfs.ext4"
