#!/usr/bin/env bats
# QEMU boots the same test guest: it is a standard PVH kernel, and its
# debug-port exit works under QEMU's isa-debug-exit ((N << 1) | 1).

load helpers

# qemu_boot CMDLINE: the test guest under QEMU (TCG, microvm), serial on
# stdout.
qemu_boot() {
	timeout --kill-after=10 60 qemu-system-x86_64 -M microvm -accel tcg -m 128M \
		-nodefaults -no-user-config -nographic -serial stdio \
		-kernel "$TESTGUEST" -append "$1" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 </dev/null
}

# qemu_boot_virtio ACCEL CMDLINE [QEMU-ARG]...: the same with virtio-mmio
# devices. ACPI off: only then does microvm name its transports on the
# command line (virtio_mmio.device=512@0xfeb00000+...). force-legacy=false:
# QEMU's transports are legacy (version 1) unless told, the guest's driver
# wants version 2.
qemu_boot_virtio() {
	local accel=$1 cmdline=$2
	shift 2
	# shellcheck disable=SC2086 # ACCEL is one or two words
	timeout --kill-after=10 60 qemu-system-x86_64 -M microvm,acpi=off $accel \
		-cpu qemu64 -m 128M -nodefaults -no-user-config -nographic -serial stdio \
		-kernel "$TESTGUEST" -append "$cmdline" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-global virtio-mmio.force-legacy=false "$@" </dev/null
}

setup() {
	require_command qemu-system-x86_64 qemu-system-x86
}

@test "QEMU boots the test guest through PVH and it says hello (status (0<<1)|1 = 1)" {
	run qemu_boot hello
	assert_failure 1
	assert_line --partial 'Hello from the gmvm test guest: PVH boot, 127 MiB RAM'
	assert_line --partial 'command line "hello"'
	assert_line 'testguest: ok'
}

@test "QEMU: the guest's exit=7 becomes QEMU status (7<<1)|1 = 15" {
	run qemu_boot "hello exit=7"
	assert_failure 15
	assert_line --partial 'Hello from the gmvm test guest: PVH boot'
	refute_line 'testguest: ok'
}

@test "QEMU: the guest touches RAM with the same checksum as under gmvm" {
	require_kvm
	run qemu_boot "seed=3 touch=32M"
	assert_failure 1
	local qemu_sum
	qemu_sum=$(checksum_of "$output")
	[ -n "$qemu_sum" ] || fail "no checksum under QEMU: $output"
	run gmvm_run --cmdline "seed=3 touch=32M"
	assert_success
	assert_equal "$(checksum_of "$output")" "$qemu_sum"
}

@test "QEMU: the guest finds virtio-blk and virtio-rng through virtio_mmio.device= and drives them" {
	local disk=$BATS_TEST_TMPDIR/disk.img
	truncate -s 1M "$disk"
	run qemu_boot_virtio "-accel tcg" "hello blk rng" \
		-drive "id=d0,file=$disk,format=raw,if=none" -device virtio-blk-device,drive=d0 \
		-device virtio-rng-device
	assert_failure 1
	assert_line --regexp 'command line "hello blk rng virtio_mmio.device=512@0xfeb00[0-9a-f]{3}:[0-9]+ virtio_mmio.device=512@0xfeb00[0-9a-f]{3}:[0-9]+"$'
	assert_line 'blk: 128 sectors read back right'
	assert_line 'rng: read 64 and 64 bytes, not all zero, different'
	assert_line 'testguest: ok'
	# What the guest wrote is in the file: sector 8 starts "gmvm sector 8".
	assert_equal "$(dd if="$disk" bs=512 skip=8 count=1 status=none | head -n 1)" "gmvm sector 8"
}

@test "QEMU: legacy virtio-mmio transports are named and skipped, not driven" {
	run timeout --kill-after=10 60 qemu-system-x86_64 -M microvm,acpi=off -accel tcg \
		-m 128M -nodefaults -no-user-config -nographic -serial stdio \
		-kernel "$TESTGUEST" -append rng -device isa-debug-exit,iobase=0xf4,iosize=4 \
		-device virtio-rng-device </dev/null
	assert_failure 3
	assert_line --regexp '^virtio: device 4 at 0xfeb00[0-9a-f]{3} is not version 2 \(legacy\?\): skipped$'
	assert_line 'rng: no virtio-rng device'
}

@test "QEMU: blkbench keeps 16 requests in flight and reads every block back (KVM)" {
	require_kvm
	local disk=$BATS_TEST_TMPDIR/disk.img
	truncate -s 64M "$disk"
	run qemu_boot_virtio -enable-kvm "blkbench=rand4k-write,16,1" \
		-drive "id=d0,file=$disk,format=raw,if=none" -device virtio-blk-device,drive=d0
	assert_failure 1
	assert_line --regexp '^blkbench: rand4k-write depth 16: [1-9][0-9]* requests, [0-9]+ bytes in [0-9]+ us: [1-9][0-9]* ops/s, [0-9]+\.[0-9] MB/s$'
	assert_line --regexp '^blkbench: read back [1-9][0-9]* written blocks of 16384: every sector right$'
	assert_line 'testguest: ok'
}
