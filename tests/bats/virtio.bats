#!/usr/bin/env bats
# virtio-mmio devices driven by the test guest's polling driver.

load helpers

setup() {
	require_kvm
}

@test "virtio-rng: two reads of 64 bytes, non-zero and different" {
	run gmvm_run --rng --cmdline rng
	assert_success
	assert_line 'rng: read 64 and 64 bytes, not all zero, different'
	assert_line 'testguest: ok'
}

@test "without --rng there is no virtio-rng device" {
	run gmvm_run --cmdline rng
	assert_failure 1
	assert_line 'rng: no virtio-rng device'
}

@test "the command line names each virtio device for the guest (--discovery cmdline)" {
	run gmvm_run --rng --cmdline hello
	assert_success
	assert_line --partial 'command line "hello virtio_mmio.device=4K@0xc0001000:5"'
}

@test "--discovery acpi leaves the command line alone" {
	run gmvm_run --rng --discovery acpi --cmdline hello
	assert_success
	assert_line --partial 'command line "hello"'
}

@test "--discovery takes cmdline, acpi or both" {
	run --separate-stderr gmvm_run --discovery dns
	assert_bad_usage "--discovery: unknown mode 'dns'"
}

@test "a virtio-rng guest snapshots and restores, and its driver carries on" {
	run gmvm_run --rng --snapshot-on-request "$BATS_TEST_TMPDIR/s" --then stop \
		--cmdline "rng snapshot rng"
	assert_success
	for b in gmem anon; do
		run gmvm restore --snapshot "$BATS_TEST_TMPDIR/s" --memory-backend "$b"
		assert_success
		assert_line 'snapshot: resumed'
		assert_line 'rng: read 64 and 64 bytes, not all zero, different'
		assert_line 'testguest: ok'
	done
}
