#!/usr/bin/env bats
# Never hang on lazily served guest RAM: a fault not served within
# --fault-timeout ends gmvm with status 1 and one message naming the guest
# address, the faulting thread and why -- whether the external handler
# (--uffd-socket) never accepts, never reads, never answers, sends garbage,
# closes the userfaultfd or shuts its socket, or the uffd thread is stuck;
# and a stop (SIGTERM, the control socket) always ends gmvm, in bounded time.

load helpers
load snapshot_helpers

setup_file() {
	[ -e /dev/kvm ] || return 0
	timeout 60 "$GMVM" run --kernel "$TESTGUEST" --snapshot-on-request "$BATS_FILE_TMPDIR/s" \
		--then stop --cmdline "touch=16M snapshot verify" </dev/null >/dev/null 2>&1 || true
}

setup() {
	require_kvm
	require_offer anon lazy-missing
	require_file "$TOOLS/uffd_ext_handler"
	[ -f "$BATS_FILE_TMPDIR/s/vmstate" ] || fail "setup_file could not make a snapshot"
	SOCK=$BATS_TEST_TMPDIR/uffd.sock
	HANDLER=
}

teardown() {
	stop_background_gmvm
	if [ -n "$HANDLER" ]; then
		kill "$HANDLER" 2>/dev/null || true
		wait "$HANDLER" 2>/dev/null || true
	fi
}

# broken_handler HOW: start uffd_ext_handler --misbehave HOW on $SOCK.
broken_handler() {
	"$TOOLS/uffd_ext_handler" --misbehave "$1" "$SOCK" "$BATS_FILE_TMPDIR/s/memory" \
		>"$BATS_TEST_TMPDIR/handler.out" 2>&1 &
	HANDLER=$!
	local i
	for ((i = 0; i < 50; i++)); do [ -S "$SOCK" ] && return 0; sleep 0.1; done
	fail "the handler did not listen on $SOCK"
}

# ends_within SECONDS: the last `run` took at most SECONDS (from $START).
ends_within() {
	local took=$((SECONDS - START))
	((took <= $1)) || fail "gmvm took $took s to end, more than $1 s"
}

# watchdog_ends_it HOW WHY: restoring against a handler that misbehaves as
# HOW ends with status 1 within a few seconds, naming the fault and WHY.
watchdog_ends_it() {
	broken_handler "$1"
	START=$SECONDS
	run --separate-stderr restore --snapshot "$BATS_FILE_TMPDIR/s" --memory-backend anon \
		--uffd-socket "$SOCK" --fault-timeout 1
	ends_within 8
	assert_error 1 'the fault on guest address 0x' '(vCPU 0)' "the external page-fault handler on $SOCK" "$2"
	[ "$(grep -c '^gmvm: error: ' <<<"$stderr")" -eq 1 ] || fail "more than one error: $stderr"
}

@test "an external handler that never accepts: status 1 naming the fault" {
	watchdog_ends_it never-accept 'does not read its faults'
}

@test "an external handler whose backlog is full: connecting gives up, status 1" {
	broken_handler full-backlog
	START=$SECONDS
	run --separate-stderr restore --snapshot "$BATS_FILE_TMPDIR/s" --memory-backend anon \
		--uffd-socket "$SOCK" --fault-timeout 1
	ends_within 8
	assert_error 1 "--uffd-socket $SOCK" 'does not accept connections'
}

@test "an external handler that reads faults but never answers: status 1 naming the fault" {
	watchdog_ends_it no-answer 'reads faults but does not answer them'
}

@test "an external handler that sends garbage and serves nothing: status 1 naming the fault" {
	watchdog_ends_it garbage 'does not read its faults'
}

@test "an external handler that closes the userfaultfd but keeps the socket: status 1" {
	watchdog_ends_it close-uffd 'does not read its faults'
}

@test "an external handler that shuts its read side and serves nothing: status 1" {
	watchdog_ends_it shut-read 'does not read its faults'
}

# stop_ends_it HOW term|control: with a long --fault-timeout, a stop ends
# gmvm within seconds though its vCPU waits on a fault nobody serves.
stop_ends_it() {
	broken_handler "$1"
	START=$SECONDS
	gmvm_background "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" restore \
		--snapshot "$BATS_FILE_TMPDIR/s" --memory-backend anon --uffd-socket "$SOCK" \
		--fault-timeout 120 --control "$BATS_TEST_TMPDIR/ctl"
	local i status=0
	for ((i = 0; i < 50; i++)); do [ -S "$BATS_TEST_TMPDIR/ctl" ] && break; sleep 0.1; done
	sleep 1
	if [ "$2" = term ]; then
		kill -TERM "$(gmvm_pid)"
	else
		run gmvm stop --control "$BATS_TEST_TMPDIR/ctl"
		assert_success
	fi
	wait "$GMVM_PID" || status=$?
	GMVM_PID=
	ends_within 10
	if [ "$2" = term ]; then
		assert_equal "$status" 143
	else
		assert_equal "$status" 1
	fi
	grep -q 'did not stop within 1000 ms: they wait on guest RAM that is not being served; guest RAM released' \
		"$BATS_TEST_TMPDIR/err" || fail "no message saying why: $(cat "$BATS_TEST_TMPDIR/err")"
}

@test "SIGTERM ends gmvm though its vCPU waits on a fault the handler never answers" {
	stop_ends_it no-answer term
}

@test "a control stop ends gmvm though its vCPU waits on a fault the handler never reads" {
	stop_ends_it never-accept control
}

@test "a uffd thread stuck serving a fault: status 1 naming the fault, no hang" {
	require_file "$GMVM_HOOKED"
	START=$SECONDS
	GMVM_UFFD_TEST=stall run --separate-stderr timeout --kill-after=5 60 "$GMVM_HOOKED" \
		restore --snapshot "$BATS_FILE_TMPDIR/s" --memory-backend anon --fault-timeout 1
	ends_within 8
	assert_error 1 'the fault on guest address 0x' '(vCPU 0)' 'the uffd thread is stuck serving it'
}

@test "--fault-timeout takes 1 to 3600 seconds" {
	run --separate-stderr restore --snapshot "$BATS_FILE_TMPDIR/s" --fault-timeout 0
	assert_bad_usage '--fault-timeout'
	run --separate-stderr restore --snapshot "$BATS_FILE_TMPDIR/s" --fault-timeout 3601
	assert_bad_usage '--fault-timeout'
}
