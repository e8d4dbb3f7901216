# Shared by the slow Linux tests (load after ../bats/helpers).

# Seconds one boot may take (GMVM_LINUX_TIMEOUT; a loaded 2-core host has
# taken 100).
BOOT_TIMEOUT=${GMVM_LINUX_TIMEOUT:-400}
# The recommended command line (images/README.md), less the console.
LINUX_CMDLINE="panic=-1 reboot=k tsc=reliable no_timer_check noxsave clearcpuid=smap,popcnt,erms,fsrm noreplace-smp rodata=off percpu_alloc=page quiet"

# require_linux_images: the images make check-linux names in the environment.
require_linux_images() {
	: "${GMVM_VMLINUX:?GMVM_VMLINUX is not set: run these tests through make check-linux}"
	: "${GMVM_INITRAMFS:?GMVM_INITRAMFS is not set: run these tests through make check-linux}"
	: "${GMVM_ROOTFS:?GMVM_ROOTFS is not set: run these tests through make check-linux}"
	: "${GMVM_BZIMAGE:?GMVM_BZIMAGE is not set: run these tests through make check-linux}"
	local f
	for f in "$GMVM" "$GMVM_VMLINUX" "$GMVM_INITRAMFS" "$GMVM_ROOTFS" "$GMVM_BZIMAGE"; do
		[ -f "$f" ] || {
			echo "$f is missing: run these tests through make check-linux" >&2
			return 1
		}
	done
}
