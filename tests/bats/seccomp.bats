#!/usr/bin/env bats
# Per-thread seccomp filters: every thread has one, each kind dies on a call
# outside its allowlist (SIGSYS, with a message), and the modes.

load helpers
load snapshot_helpers

setup() {
	require_kvm
}

# gmvm_hooked [ARG]...: the test build of gmvm (tests/gmvm-test-hooks),
# whose GMVM_SECCOMP_TEST makes a thread break its own filter.
gmvm_hooked() {
	require_file "$GMVM_HOOKED"
	timeout --kill-after=10 "$GMVM_TIMEOUT" "$GMVM_HOOKED" "$@" </dev/null
}

# seccomp_of PID: the Seccomp mode of each of its threads, one per line.
seccomp_of() {
	for t in /proc/"$1"/task/*; do
		awk '/^Seccomp:/ { print $2 }' "$t/status"
	done
}

@test "every thread of a running gmvm has a filter (mode 2)" {
	gmvm_background "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" run \
		--kernel "$TESTGUEST" --cpus 2 --cmdline spin
	wait_for_line "$BATS_TEST_TMPDIR/out" '^spin: running'
	sleep 0.2
	local pid
	pid=$(pgrep -P "$GMVM_PID" gmvm)
	run seccomp_of "$pid"
	kill "$GMVM_PID"
	wait "$GMVM_PID" || true
	assert_equal "$(sort -u <<<"$output")" 2
	# main and two vCPUs (and KVM's own kernel thread, which reads 2 too).
	(($(wc -l <<<"$output") >= 3))
}

@test "a lazy restore's uffd thread and fault watchdog have filters too" {
	require_offer anon lazy-missing
	make_snapshot "$BATS_TEST_TMPDIR/s" --cmdline "touch=16M snapshot spin"
	gmvm_background "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" restore \
		--snapshot "$BATS_TEST_TMPDIR/s" --memory-backend anon
	wait_for_line "$BATS_TEST_TMPDIR/out" '^spin: running'
	local pid names
	pid=$(pgrep -P "$GMVM_PID" gmvm)
	names=$(cat /proc/"$pid"/task/*/comm)
	run seccomp_of "$pid"
	kill "$GMVM_PID"
	wait "$GMVM_PID" || true
	grep -qx uffd <<<"$names" || fail "no uffd thread among: $names"
	grep -qx uffd-watch <<<"$names" || fail "no fault watchdog thread among: $names"
	assert_equal "$(sort -u <<<"$output")" 2
}

# dies_by_sigsys KIND [GMVM ARG]...: with the test hook, the KIND thread
# makes a forbidden call; gmvm dies of SIGSYS and says who called what.
dies_by_sigsys() {
	local kind=$1
	shift
	GMVM_SECCOMP_TEST=$kind run --separate-stderr gmvm_hooked "$@"
	assert_equal "$status" $((128 + 31))
	[[ "$stderr" == *"gmvm: error: seccomp: the $kind thread called uname, which its filter forbids"* ]] ||
		fail "no message naming the $kind thread and uname: $stderr"
}

@test "a vCPU thread that breaks its filter kills gmvm by SIGSYS, saying so" {
	dies_by_sigsys vcpu run --kernel "$TESTGUEST" --cmdline hello
}

@test "the main thread that breaks its filter kills gmvm by SIGSYS, saying so" {
	dies_by_sigsys main run --kernel "$TESTGUEST" --cmdline spin
}

@test "a device's calls are allowed on its own fd only: preadv on another fd than the disk's kills gmvm" {
	truncate -s 1M "$BATS_TEST_TMPDIR/disk"
	# The disk reads and writes with preadv/pwritev (blk), on its fd.
	run gmvm_run --disk "$BATS_TEST_TMPDIR/disk" --cmdline "blk=8"
	assert_success
	GMVM_SECCOMP_TEST=main-preadv run --separate-stderr gmvm_hooked run --kernel "$TESTGUEST" \
		--disk "$BATS_TEST_TMPDIR/disk" --cmdline spin
	assert_equal "$status" $((128 + 31))
	[[ "$stderr" == *"gmvm: error: seccomp: the main thread called preadv, which its filter forbids"* ]] ||
		fail "no message naming the main thread and preadv: $stderr"
}

@test "the uffd thread that breaks its filter kills gmvm by SIGSYS, saying so" {
	require_offer anon lazy-missing
	make_snapshot "$BATS_TEST_TMPDIR/s" --cmdline "touch=16M snapshot verify"
	dies_by_sigsys uffd restore --snapshot "$BATS_TEST_TMPDIR/s" --memory-backend anon
}

@test "the fault watchdog thread that breaks its filter kills gmvm by SIGSYS, saying so" {
	require_offer anon lazy-missing
	make_snapshot "$BATS_TEST_TMPDIR/s" --cmdline "touch=16M snapshot verify"
	dies_by_sigsys watch restore --snapshot "$BATS_TEST_TMPDIR/s" --memory-backend anon
}

@test "--seccomp log lets a forbidden call through" {
	GMVM_SECCOMP_TEST=vcpu run gmvm_hooked run --kernel "$TESTGUEST" --seccomp log --cmdline hello
	assert_success
	assert_line 'testguest: ok'
}

@test "--seccomp off installs no filter" {
	gmvm_background "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" run \
		--kernel "$TESTGUEST" --seccomp off --cmdline spin
	wait_for_line "$BATS_TEST_TMPDIR/out" '^spin: running'
	local pid
	pid=$(pgrep -P "$GMVM_PID" gmvm)
	run seccomp_of "$pid"
	kill "$GMVM_PID"
	wait "$GMVM_PID" || true
	assert_equal "$(sort -u <<<"$output" | head -1)" 0
}

@test "--seccomp takes kill, log or off" {
	run --separate-stderr gmvm_run --seccomp strict
	assert_bad_usage "--seccomp: unknown mode 'strict'"
}
