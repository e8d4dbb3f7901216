#!/usr/bin/env bats
# --boot-timer: the time from gmvm's start to the guest's write of 123 to the
# boot-timer window, on stderr.

load helpers

setup() {
	require_kvm
}

@test "--boot-timer: the boottimer workload gets a 'guest booted ... ms' line on stderr" {
	run --separate-stderr gmvm_run --boot-timer --cmdline "hello boottimer"
	assert_success
	assert_line 'testguest: ok'
	refute_line --partial 'boot-timer'
	[[ "$stderr" =~ (^|$'\n')"gmvm: boot-timer: guest booted "[0-9]+(\.[0-9]+)?" ms" ]] ||
		fail "no boot-timer line on stderr: $stderr"
}

@test "--boot-timer: the time reported is plausible (under the run's wall time)" {
	local start end ms
	start=$(date +%s%N)
	run --separate-stderr gmvm_run --boot-timer --cmdline boottimer
	end=$(date +%s%N)
	assert_success
	ms=$(sed -n 's/.*boot-timer: guest booted \([0-9]*\)\(\.[0-9]*\)\{0,1\} ms.*/\1/p' <<<"$stderr")
	[ -n "$ms" ] || fail "no boot-timer line on stderr: $stderr"
	(( ms <= (end - start) / 1000000 )) ||
		fail "boot-timer says $ms ms, the whole run took $(( (end - start) / 1000000 )) ms"
}

@test "without --boot-timer the guest's write to the window prints nothing" {
	run --separate-stderr gmvm_run --cmdline "hello boottimer"
	assert_success
	assert_line 'testguest: ok'
	refute_output --partial 'boot-timer'
	[[ "$stderr" != *"boot-timer"* ]] || fail "boot-timer line without --boot-timer: $stderr"
}

@test "--boot-timer without the boottimer workload prints no boot-timer line" {
	run --separate-stderr gmvm_run --boot-timer --cmdline hello
	assert_success
	assert_line 'testguest: ok'
	[[ "$stderr" != *"guest booted"* ]] || fail "boot-timer line without the guest's write: $stderr"
}

@test "--boot-timer: a guest writing 123 100000 times gets one line a second, not 100000" {
	run --separate-stderr gmvm_run --boot-timer --cmdline "boottimer=100000"
	assert_success
	local lines
	lines=$(grep -c 'boot-timer: guest booted' <<<"$stderr")
	# One at the first write, then at most one per second of the run.
	((lines >= 1 && lines <= 1 + SECONDS)) ||
		fail "$lines boot-timer lines in $SECONDS s: $stderr"
}
