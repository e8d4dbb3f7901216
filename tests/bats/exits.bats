#!/usr/bin/env bats
# gmvm's exit status: what the guest wrote to the debug-exit port, reset,
# triple fault, signals, failed workloads.

load helpers

setup() {
	require_kvm
}

@test "exit=0: the guest's status 0 is gmvm's" {
	run --separate-stderr gmvm_run --cmdline "hello exit=0"
	assert_success
	assert_line --partial 'Hello from the gmvm test guest'
	refute_line 'testguest: ok'
	assert_equal "$stderr" ""
}

@test "exit=7: the guest's status 7 is gmvm's" {
	run --separate-stderr gmvm_run --cmdline "hello exit=7"
	assert_failure 7
	assert_line --partial 'Hello from the gmvm test guest'
	refute_line 'testguest: ok'
	assert_equal "$stderr" ""
}

@test "exit=255: the guest's status 255 is gmvm's" {
	run --separate-stderr gmvm_run --cmdline "hello exit=255"
	assert_failure 255
	assert_line --partial 'Hello from the gmvm test guest'
	refute_line 'testguest: ok'
	assert_equal "$stderr" ""
}

@test "exit=N on a bzImage boot propagates too" {
	require_file "$TESTGUEST_BZIMAGE"
	run gmvm_run_kernel "$TESTGUEST_BZIMAGE" --cmdline "hello exit=42"
	assert_failure 42
	assert_line --partial '64-bit Linux boot'
}

@test "exit=N from a 4-CPU guest propagates" {
	run gmvm_run --cpus 4 --cmdline "smp=4 exit=9"
	assert_failure 9
	assert_line 'smp: 4 CPUs reported'
}

@test "a guest reset through the i8042 exits 0" {
	run --separate-stderr gmvm_run --cmdline "hello reset"
	assert_success
	assert_line --partial 'Hello from the gmvm test guest'
	refute_line 'reset: still running after the reset command'
	refute_line 'testguest: ok'
}

@test "a triple fault exits 1 and says so on stderr" {
	run --separate-stderr gmvm_run --cmdline "hello triplefault"
	assert_failure 1
	assert_line --partial 'Hello from the gmvm test guest'
	refute_line 'triplefault: the CPU survived'
	[[ "$stderr" == *"gmvm: error: "*"triple fault"* ]] ||
		fail "stderr does not report the triple fault: $stderr"
}

@test "a failing workload gives status 1" {
	run gmvm_run --cmdline "smp=3"
	assert_failure 1
	assert_line 'smp: the MP table lists 1 CPUs, expected 3'
	assert_line 'testguest: smp failed'
}

@test "an unknown workload gives the guest's bad-command-line status 4" {
	run gmvm_run --cmdline "hello frobnicate"
	assert_failure 4
	assert_line "testguest: unknown workload 'frobnicate'"
}

# stop_spinning_guest SIGNAL CMDLINE [ARG]...: start the test guest with
# CMDLINE (ending in spin) and ARGs, send gmvm SIGNAL once the guest spins;
# sets status, output (stdout) and stderr like bats' run.
stop_spinning_guest() {
	local signal=$1 cmdline=$2 out="$BATS_TEST_TMPDIR/out" err="$BATS_TEST_TMPDIR/err"
	shift 2
	gmvm_background "$out" "$err" run --kernel "$TESTGUEST" --cmdline "$cmdline" "$@"
	wait_for_line "$out" '^spin: running'
	kill -s "$signal" "$(gmvm_pid)"
	status=0
	wait "$GMVM_PID" || status=$?
	output=$(<"$out")
	stderr=$(<"$err")
	mapfile -t lines <<<"$output"
}

@test "SIGTERM stops a spinning guest: status 143 and a message" {
	stop_spinning_guest TERM spin
	assert_equal "$status" 143
	assert_output 'spin: running until stopped'
	[[ "$stderr" == *"gmvm: "*"signal"*"Terminated"* ]] ||
		fail "stderr does not name the signal: $stderr"
}

@test "SIGINT stops a spinning guest: status 130 and a message" {
	stop_spinning_guest INT spin
	assert_equal "$status" 130
	assert_output 'spin: running until stopped'
	[[ "$stderr" == *"gmvm: "*"signal"*"Interrupt"* ]] ||
		fail "stderr does not name the signal: $stderr"
}

@test "SIGHUP stops a spinning guest: status 129" {
	stop_spinning_guest HUP spin
	assert_equal "$status" 129
	assert_output 'spin: running until stopped'
	[[ "$stderr" == *"gmvm: "*"signal"* ]] ||
		fail "stderr does not mention the signal: $stderr"
}

@test "SIGTERM stops a spinning 4-CPU guest: status 143" {
	stop_spinning_guest TERM "smp=4 spin" --cpus 4
	assert_equal "$status" 143
	assert_line 'smp: 4 CPUs reported'
	assert_line 'spin: running until stopped'
	[[ "$stderr" == *"gmvm: "*"signal"*"Terminated"* ]] ||
		fail "stderr does not name the signal: $stderr"
}

@test "int3, fwait, stac, clac and popcnt at CPL0 behave (gmvm completes what KVM cannot)" {
	run --separate-stderr gmvm_run -v --cmdline emulate
	assert_success
	assert_line 'emulate: int3 ok, fwait ok, stac ok, clac ok, popcnt ok'
	assert_line 'testguest: ok'
}
