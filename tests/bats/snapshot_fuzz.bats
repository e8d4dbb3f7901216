#!/usr/bin/env bats
# 1000 randomly damaged snapshots (tests/tools/snapshot_mutate.c; the loop and
# what counts as clean are in tests/tools/snapshot-fuzz.sh): every one is
# refused with a message, or restored, never a crash or a hang. Most damage
# keeps the checksum valid so that the parsers behind it are what is tested.
# SNAPSHOT_FUZZ_COUNT changes the number (per test); a failure prints the
# seed, to replay with snapshot_mutate.
#
# Then the other classes of damage snapshot-fuzz.sh knows, each a few
# seconds: snapshot files of other kinds, a memory file that changes while a
# restore uses it, damaged working sets, hostile recorded disk paths and taps.

load helpers

COUNT=${SNAPSHOT_FUZZ_COUNT:-500}
# A working set's format is small: fewer cases cover it (at least 50).
WS_COUNT=$((COUNT / 5 < 50 ? 50 : COUNT / 5))

setup() {
	require_kvm
	require_file "$TOOLS/snapshot_mutate"
}

# base_snapshot DIR ARGS...: the test guest's snapshot, taken mid-run.
base_snapshot() {
	local dir=$1
	shift
	run timeout 60 "$GMVM" run --kernel "$TESTGUEST" --snapshot-on-request "$dir" \
		--then stop "$@" </dev/null
	assert_success
	[ -f "$dir/vmstate" ] || fail "no snapshot in $dir: $output"
}

fuzz() {
	run "$BATS_TEST_DIRNAME/../tools/snapshot-fuzz.sh" "$GMVM" \
		"$TOOLS/snapshot_mutate" "$1" "$COUNT" "$2"
	echo "$output"
	assert_success
	assert_output --partial "$COUNT damaged snapshots: $COUNT clean"
}

@test "damaged snapshots of a 1-vCPU guest with a disk: all handled cleanly" {
	truncate -s 1M "$BATS_TEST_TMPDIR/disk"
	base_snapshot "$BATS_TEST_TMPDIR/s" --disk "$BATS_TEST_TMPDIR/disk" \
		--cmdline "touch=4M blk snapshot hello"
	fuzz "$BATS_TEST_TMPDIR/s" 1
}

@test "damaged snapshots of a 2-vCPU guest with virtio rng, console, balloon: all handled cleanly" {
	base_snapshot "$BATS_TEST_TMPDIR/s" --cpus 2 --rng --balloon --console virtio \
		--cmdline "touch=4M rng snapshot hvc=x"
	fuzz "$BATS_TEST_TMPDIR/s" 100001
}

# fuzz_class CLASS ARG...: snapshot-fuzz.sh --class CLASS; every case clean.
fuzz_class() {
	local class=$1 n c
	shift
	run "$BATS_TEST_DIRNAME/../tools/snapshot-fuzz.sh" --class "$class" "$GMVM" \
		"$TOOLS/snapshot_mutate" "$@"
	echo "$output"
	assert_success
	[[ "$output" =~ snapshot-fuzz:\ ([0-9]+)\ damaged\ snapshots:\ ([0-9]+)\ clean ]] ||
		fail "no summary line"
	n=${BASH_REMATCH[1]} c=${BASH_REMATCH[2]}
	((n > 0)) || fail "no case was tried"
	assert_equal "$c" "$n"
	assert_output --partial ", 0 not clean"
}

@test "snapshot files that are FIFOs, directories, links, devices, sockets or empty: status 2 naming the file and its kind, at once" {
	require_command socat
	base_snapshot "$BATS_TEST_TMPDIR/s" --cmdline "touch=4M snapshot verify"
	fuzz_class kinds "$BATS_TEST_TMPDIR/s"
}

@test "a memory file truncated, overwritten, renamed over or punched during lazy and eager restores: an error or the guest's own verdict, never a signal or a hang" {
	require_command fallocate util-linux
	require_command jq
	# The restored guest waits for a byte on its serial port, then
	# verifies its 32 MiB: the damage lands before or while it reads.
	base_snapshot "$BATS_TEST_TMPDIR/s" --cmdline "touch=32M snapshot echo=1 verify"
	fuzz_class changing "$BATS_TEST_TMPDIR/s"
}

@test "damaged working sets used with --prefetch: refused naming the file, or restored" {
	require_command jq
	base_snapshot "$BATS_TEST_TMPDIR/s" --cmdline "touch=4M snapshot verify"
	fuzz_class workingset "$BATS_TEST_TMPDIR/s" "$WS_COUNT" 1
}

@test "hostile recorded disk paths and taps: never opened without --recorded-resources; with it refused unless a regular file, never a hang" {
	require_file "$TOOLS/vmstate_edit"
	require_command strace
	require_command unshare util-linux
	truncate -s 1M "$BATS_TEST_TMPDIR/disk"
	base_snapshot "$BATS_TEST_TMPDIR/s" --disk "$BATS_TEST_TMPDIR/disk" \
		--cmdline "touch=4M blk snapshot hello"
	fuzz_class paths "$BATS_TEST_TMPDIR/s" "$BATS_TEST_TMPDIR/disk"
}
