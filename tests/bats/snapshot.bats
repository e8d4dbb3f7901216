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
	assert_line "snapshot $BATS_TEST_TMPDIR/s: format 1 revision 3, checksum good"
	assert_line "  2 vCPU(s), 128 MiB of RAM on $(default_backend)"
	assert_line "  devices asked for: none beyond the fixed ones"
	assert_line --regexp '^  vCPU 1: rip 0x[0-9a-f]+$'
	assert_line --partial 'devices with state: serial i8042'
}

# msr_reads CPUS: the KVM_GET_MSRS calls a CPUS-vCPU snapshot makes.
msr_reads() {
	strace_gmvm "$BATS_TEST_TMPDIR/trace.$1" ioctl run \
		--kernel "$TESTGUEST" --cpus "$1" --snapshot-on-request "$BATS_TEST_TMPDIR/s$1" \
		--then stop --cmdline "snapshot" </dev/null >/dev/null 2>&1 ||
		fail "snapshot of $1 vCPUs under strace failed"
	grep -c 'KVM_GET_MSRS' "$BATS_TEST_TMPDIR/trace.$1"
}

@test "the MSRs a snapshot saves are probed once per VM, not once per vCPU" {
	require_command strace
	local one two
	one=$(msr_reads 1)
	two=$(msr_reads 2)
	# A second vCPU adds its one bulk read; probing again would add dozens.
	assert_equal "$((two - one))" 1
	assert_equal "$(grep -c KVM_GET_MSR_INDEX_LIST "$BATS_TEST_TMPDIR/trace.2")" 1
}

@test "--snapshot-on-request into an existing directory is refused up front, status 2" {
	mkdir "$BATS_TEST_TMPDIR/s"
	run --separate-stderr gmvm_run --snapshot-on-request "$BATS_TEST_TMPDIR/s" \
		--then continue --cmdline "snapshot"
	assert_bad_usage "--snapshot-on-request $BATS_TEST_TMPDIR/s: already exists"
	assert_equal "$(ls -A "$BATS_TEST_TMPDIR/s")" ''
	assert_equal "$(ls -d "$BATS_TEST_TMPDIR"/s.partial* 2>/dev/null)" ''
}

@test "--snapshot-on-request whose parent does not exist is refused up front, status 2" {
	run --separate-stderr gmvm_run --snapshot-on-request "$BATS_TEST_TMPDIR/no/s" \
		--cmdline "hello snapshot"
	assert_bad_usage "--snapshot-on-request $BATS_TEST_TMPDIR/no/s" "$BATS_TEST_TMPDIR/no is not a directory"
}

@test "a snapshot is never half-written: a directory made after start is refused at snapshot time" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	GMVM_STDIN="$BATS_TEST_TMPDIR/in" gmvm_background "$BATS_TEST_TMPDIR/out" \
		"$BATS_TEST_TMPDIR/err" run --kernel "$TESTGUEST" \
		--snapshot-on-request "$BATS_TEST_TMPDIR/s" --then continue --cmdline "echo=1 snapshot"
	exec 7>"$BATS_TEST_TMPDIR/in"	# not 3: bats owns it
	wait_for_line "$BATS_TEST_TMPDIR/out" '^echo: waiting'
	mkdir "$BATS_TEST_TMPDIR/s"
	printf x >&7
	local status=0
	wait "$GMVM_PID" || status=$?
	exec 7>&-
	assert_equal "$status" 1
	grep -q "snapshot directory $BATS_TEST_TMPDIR/s already exists" "$BATS_TEST_TMPDIR/err" ||
		fail "no message naming the directory: $(cat "$BATS_TEST_TMPDIR/err")"
	assert_equal "$(ls -A "$BATS_TEST_TMPDIR/s")" ''
	assert_equal "$(ls -d "$BATS_TEST_TMPDIR"/s.partial* 2>/dev/null)" ''
}

@test "gmvm inspect names the host resources a snapshot records, and counts only RAM's data" {
	truncate -s 1M "$BATS_TEST_TMPDIR/disk"
	make_snapshot "$BATS_TEST_TMPDIR/s" --disk "$BATS_TEST_TMPDIR/disk,ro" --cmdline "touch=4M snapshot"
	# Holes over all of RAM, data past its end: no data of RAM's.
	local size
	size=$(file_size "$BATS_TEST_TMPDIR/s/memory")
	truncate -s 0 "$BATS_TEST_TMPDIR/s/memory"
	truncate -s "$size" "$BATS_TEST_TMPDIR/s/memory"
	printf data >>"$BATS_TEST_TMPDIR/s/memory"
	run gmvm inspect "$BATS_TEST_TMPDIR/s"
	assert_success
	assert_line '  host resources recorded (a restore opens them only with --recorded-resources):'
	assert_line "    disk 1: $BATS_TEST_TMPDIR/disk (read-only)"
	assert_line "  devices asked for: virtio-blk"
	assert_line "  memory file: $((size + 4)) bytes, 0 MiB of data, a checksum per region"
}

@test "a --stats file that cannot be written: the error, and no success" {
	[ "$(id -u)" = 0 ] || skip "needs root to mount a full file system"
	mkdir "$BATS_TEST_TMPDIR/full"
	mount -t tmpfs -o size=4k tmpfs "$BATS_TEST_TMPDIR/full" || skip "cannot mount a tmpfs here"
	head -c 4096 /dev/zero >"$BATS_TEST_TMPDIR/full/filler" 2>/dev/null || true
	run --separate-stderr gmvm_run --cmdline hello --stats "$BATS_TEST_TMPDIR/full/stats.json"
	umount "$BATS_TEST_TMPDIR/full"
	assert_failure 1
	assert_line 'testguest: ok'
	[[ "$stderr" == *"gmvm: error: "*"stats.json"* ]] || fail "no error naming the file: $stderr"
}

@test "--then without --snapshot-on-request is bad usage" {
	run --separate-stderr gmvm_run --then stop
	assert_bad_usage '--then needs --snapshot-on-request'
}

@test "--then takes only stop or continue" {
	run --separate-stderr gmvm_run --snapshot-on-request "$BATS_TEST_TMPDIR/s" --then later
	assert_bad_usage "--then: unknown action 'later'"
}
