#!/usr/bin/env bats
# 1000 randomly damaged snapshots (tests/tools/snapshot_mutate.c; the loop and
# what counts as clean are in tests/tools/snapshot-fuzz.sh): every one is
# refused with a message, or restored, never a crash or a hang. Most damage
# keeps the checksum valid so that the parsers behind it are what is tested.
# SNAPSHOT_FUZZ_COUNT changes the number (per test); a failure prints the
# seed, to replay with snapshot_mutate.

load helpers

COUNT=${SNAPSHOT_FUZZ_COUNT:-500}

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
