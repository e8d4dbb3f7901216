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

setup() {
	require_command qemu-system-x86_64 "QEMU cross-checks are skipped"
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
