# shellcheck shell=bash
# Sourced by build-initramfs.sh and build-rootfs.sh: the tree both images
# hold, Debian's static busybox with images/guest/init and fstab.
BUSYBOX_INIT=$GMVM_IMAGES_DIR/guest/init
BUSYBOX_FSTAB=$GMVM_IMAGES_DIR/guest/fstab

# busybox_tree ROOT INIT_PATH: fill the directory ROOT; /init goes to
# ROOT/INIT_PATH.
busybox_tree() {
	local root=$1 a
	mkdir -p "$root"/{bin,sbin,dev,etc,proc,sys,mnt,tmp,root}
	install -m 0644 "$BUSYBOX_FSTAB" "$root/etc/fstab"
	install -m 0755 /bin/busybox "$root/bin/busybox"
	install -m 0755 "$BUSYBOX_INIT" "$root/$2"
	# Only the names the scripts call by path: the shell runs every other
	# applet itself (busybox is built with FEATURE_SH_STANDALONE), and
	# each entry costs unpacking time at boot.
	for a in sh mount umount mkdir ip sync cat ls; do
		ln -s busybox "$root/bin/$a"
	done
	for a in reboot poweroff; do
		ln -s ../bin/busybox "$root/sbin/$a"
	done
}

# busybox_tree_fix_times ROOT: fixed times, so that the same inputs give
# the same bytes.
busybox_tree_fix_times() {
	find "$1" -exec touch -h -d @1700000000 {} +
}
