#!/usr/bin/env bats
# --async-teardown: a helper process that shares gmvm's memory holds the VM
# until gmvm has exited, then drops it (vmm/teardown.c).

load helpers
load snapshot_helpers

setup() {
	require_kvm
}

teardown() {
	stop_background_gmvm
}

# helper_of PID: the teardown helper started by gmvm PID, if any.
helper_of() {
	pgrep -P "$1" -x gmvm-teardown || true
}

# kinds_of_fds PID: what each open descriptor of PID is, one per line
# (anon_inode:kvm-vm, pipe:[N] as "pipe", ...).
kinds_of_fds() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		readlink "$fd" | sed 's/^pipe:.*/pipe/'
	done | sort
}

# running_helpers: the pids of gmvm-teardown processes that are not zombies.
running_helpers() {
	ps -o pid=,stat= -C gmvm-teardown | awk '$2 !~ /^Z/ { print $1 }' | sort
}

@test "--async-teardown: the guest's exit status is gmvm's, and its helper does not outlive it" {
	local before new i
	before=$(running_helpers)
	# To files, not a pipe: a helper that kept gmvm's stdout would hang a
	# reader of the pipe instead of failing the test.
	local status=0
	gmvm_run --async-teardown --cmdline "hello exit=7" >"$BATS_TEST_TMPDIR/out" \
		2>"$BATS_TEST_TMPDIR/err" || status=$?
	assert_equal "$status" 7
	run cat "$BATS_TEST_TMPDIR/out"
	assert_line --partial 'Hello from the gmvm test guest'
	# The helper sees gmvm gone, drops the VM and exits (a zombie until
	# something reaps it has done its work).
	for ((i = 0; i < 50; i++)); do
		new=$(comm -13 <(echo "$before") <(running_helpers))
		[ -z "$new" ] && break
		sleep 0.1
	done
	[ -z "$new" ] || fail "gmvm-teardown $new still runs after gmvm exited"
}

@test "--async-teardown: while the guest runs, the helper holds only the VM and its lifeline, in seccomp strict mode" {
	gmvm_background "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" run \
		--async-teardown --kernel "$TESTGUEST" --cmdline spin
	wait_for_line "$BATS_TEST_TMPDIR/out" '^spin: running'
	local pid helper status fds
	pid=$(gmvm_pid)
	helper=$(helper_of "$pid")
	[ -n "$helper" ] || fail "gmvm $pid has no gmvm-teardown child"
	status=$(awk '/^Seccomp:/ { print $2 }' /proc/"$helper"/status)
	fds=$(kinds_of_fds "$helper")
	kill "$GMVM_PID"
	wait "$GMVM_PID" || true
	assert_equal "$status" 1
	assert_equal "$fds" "anon_inode:kvm-vm
pipe"
	# Once gmvm is gone the helper ends too (a zombie until reaped).
	local i
	for ((i = 0; i < 50; i++)); do
		[ ! -e /proc/"$helper" ] && break
		[ "$(awk '/^State:/ { print $2 }' /proc/"$helper"/status 2>/dev/null)" = Z ] && break
		sleep 0.1
	done
	[ ! -e /proc/"$helper" ] ||
		[ "$(awk '/^State:/ { print $2 }' /proc/"$helper"/status 2>/dev/null)" = Z ] ||
		fail "helper $helper still runs after gmvm exited"
}

@test "without --async-teardown there is no helper" {
	gmvm_background "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" run \
		--kernel "$TESTGUEST" --cmdline spin
	wait_for_line "$BATS_TEST_TMPDIR/out" '^spin: running'
	local pid helper
	pid=$(gmvm_pid)
	helper=$(helper_of "$pid")
	kill "$GMVM_PID"
	wait "$GMVM_PID" || true
	assert_equal "$helper" ""
}

@test "restore --async-teardown, lazy and eager: the restored guest checks its memory and ends" {
	make_snapshot "$BATS_TEST_TMPDIR/s" --cmdline "touch=16M snapshot verify=2"
	local how
	for how in "--memory-backend memfd --restore lazy" "--restore eager"; do
		local status=0
		# shellcheck disable=SC2086 # two options in one string
		restore --snapshot "$BATS_TEST_TMPDIR/s" $how --async-teardown \
			>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || status=$?
		assert_equal "$status" 0
		run cat "$BATS_TEST_TMPDIR/out"
		assert_line --regexp '^verify: pass 2: 0 bad words, checksum 0x[0-9a-f]+$'
		assert_line 'testguest: ok'
	done
}

@test "a restore that fails before its VM exists closes no descriptor it did not open (fd 0 stays)" {
	require_command strace
	run strace_gmvm "$BATS_TEST_TMPDIR/trace" close restore \
		--snapshot "$BATS_TEST_TMPDIR/none"
	assert_failure 2
	# It used to close fd 0 seven times, each "not open" field being 0.
	run grep -c '^[0-9]* *close(0)' "$BATS_TEST_TMPDIR/trace"
	assert_output 0
}
