#!/usr/bin/env bats
# Taking snapshots: at the guest's request (port 0x4f0) and through the
# control socket; what the snapshot directory holds.

load helpers
load snapshot_helpers

setup() {
	require_kvm
}

@test "a guest-requested snapshot writes vmstate and a sparse memory file, then stops" {
	run gmvm_run --snapshot-on-request "$BATS_TEST_TMPDIR/s" --then stop \
		--cmdline "touch=64M snapshot verify"
	assert_success
	assert_line 'snapshot: requesting'
	# --then stop: the guest never got past its request.
	refute_line 'snapshot: resumed'
	refute_line --partial 'verify:'
	assert_equal "$(file_size "$BATS_TEST_TMPDIR/s/memory")" $((128 << 20))
	local data_kib
	data_kib=$(du -k "$BATS_TEST_TMPDIR/s/memory" | cut -f1)
	((data_kib >= 64 * 1024 && data_kib < 72 * 1024)) ||
		fail "memory file holds $data_kib KiB of data, expected about 64 MiB"
}

@test "--then continue: the guest goes on after its snapshot" {
	run gmvm_run --snapshot-on-request "$BATS_TEST_TMPDIR/s" --then continue \
		--cmdline "touch=16M snapshot verify"
	assert_resumed_ok 1
	[ -f "$BATS_TEST_TMPDIR/s/vmstate" ]
}

@test "a 4 GiB guest with 256 MiB touched writes about 256 MiB, not 4 GiB" {
	make_snapshot "$BATS_TEST_TMPDIR/s" --memory 4G --cmdline "touch=256M snapshot"
	assert_equal "$(file_size "$BATS_TEST_TMPDIR/s/memory")" $((4 << 30))
	local data_kib
	data_kib=$(du -k "$BATS_TEST_TMPDIR/s/memory" | cut -f1)
	((data_kib >= 256 * 1024 && data_kib < 272 * 1024)) ||
		fail "memory file holds $data_kib KiB of data, expected about 256 MiB"
}

@test "gmvm inspect describes a good snapshot" {
	make_snapshot "$BATS_TEST_TMPDIR/s" --cpus 2 --cmdline "touch=16M snapshot"
	run gmvm inspect "$BATS_TEST_TMPDIR/s"
	assert_success
	assert_line "snapshot $BATS_TEST_TMPDIR/s: format 1, checksum good"
	assert_line "  2 vCPU(s), 128 MiB of RAM on $(default_backend), boot timer off"
	assert_line --regexp '^  vCPU 1: rip 0x[0-9a-f]+$'
	assert_line --partial 'devices with state: serial i8042'
}

@test "a snapshot is never half-written: an existing directory is refused" {
	mkdir "$BATS_TEST_TMPDIR/s"
	run --separate-stderr gmvm_run --snapshot-on-request "$BATS_TEST_TMPDIR/s" \
		--then continue --cmdline "snapshot"
	assert_failure 1
	[[ "$stderr" == *"snapshot directory $BATS_TEST_TMPDIR/s already exists"* ]] ||
		fail "no message naming the directory: $stderr"
	assert_equal "$(ls -A "$BATS_TEST_TMPDIR/s")" ''
	assert_equal "$(ls -d "$BATS_TEST_TMPDIR"/s.partial* 2>/dev/null)" ''
}

@test "--then without --snapshot-on-request is bad usage" {
	run --separate-stderr gmvm_run --then stop
	assert_bad_usage '--then needs --snapshot-on-request'
}

@test "--then takes only stop or continue" {
	run --separate-stderr gmvm_run --snapshot-on-request "$BATS_TEST_TMPDIR/s" --then later
	assert_bad_usage "--then: unknown action 'later'"
}
