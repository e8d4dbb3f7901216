#!/usr/bin/env bats
# The control socket: JSON lines, the client commands, and bad requests.

load helpers

setup() {
	require_kvm
	SOCK="$BATS_TEST_TMPDIR/ctl"
	OUT="$BATS_TEST_TMPDIR/out"
	gmvm_background "$OUT" "$BATS_TEST_TMPDIR/err" run --kernel "$TESTGUEST" \
		--control "$SOCK" --cmdline "touch=16M spin"
	wait_for_line "$OUT" '^spin: running'
}

teardown() {
	stop_background_gmvm
}

# request LINE: send one raw request line, print the reply line.
request() {
	require_command socat
	printf '%s\n' "$1" | timeout 10 socat - UNIX-CONNECT:"$SOCK"
}

@test "status reports a running VM" {
	run gmvm status --control "$SOCK"
	assert_success
	assert_equal "$(jq -r .state <<<"$output")" running
	assert_equal "$(jq -r .vcpus <<<"$output")" 1
	assert_equal "$(jq -r .memory_bytes <<<"$output")" $((128 << 20))
}

@test "pause and resume are idempotent and say the state" {
	for i in 1 2; do
		run gmvm pause --control "$SOCK"
		assert_success
		assert_equal "$(jq -r .state <<<"$output")" paused
	done
	run gmvm status --control "$SOCK"
	assert_equal "$(jq -r .state <<<"$output")" paused
	for i in 1 2; do
		run gmvm resume --control "$SOCK"
		assert_success
		assert_equal "$(jq -r .state <<<"$output")" running
	done
}

@test "a paused guest does not run" {
	run gmvm pause --control "$SOCK"
	assert_success
	# The VM stays up, paused, until resumed and stopped.
	sleep 0.5
	kill -0 "$GMVM_PID"
	run gmvm stop --control "$SOCK"
	assert_success
	wait "$GMVM_PID"
}

@test "snapshot writes a directory; --pause-after leaves the VM paused" {
	run gmvm snapshot --control "$SOCK" "$BATS_TEST_TMPDIR/s"
	assert_success
	assert_equal "$(jq -r .state <<<"$output")" running
	[ -f "$BATS_TEST_TMPDIR/s/vmstate" ]
	run gmvm snapshot --control "$SOCK" --pause-after "$BATS_TEST_TMPDIR/s2"
	assert_success
	assert_equal "$(jq -r .state <<<"$output")" paused
}

@test "snapshot into an existing directory is refused over the socket" {
	mkdir "$BATS_TEST_TMPDIR/s"
	run --separate-stderr gmvm snapshot --control "$SOCK" "$BATS_TEST_TMPDIR/s"
	assert_failure 1
	[[ "$stderr" == *"snapshot directory $BATS_TEST_TMPDIR/s already exists"* ]] ||
		fail "stderr: $stderr"
	run gmvm status --control "$SOCK"
	assert_equal "$(jq -r .state <<<"$output")" running
}

@test "a relative snapshot directory is made absolute by the client" {
	cd "$BATS_TEST_TMPDIR"
	run gmvm snapshot --control "$SOCK" rel
	assert_success
	assert_equal "$(jq -r .dir <<<"$output")" "$BATS_TEST_TMPDIR/rel"
	[ -f "$BATS_TEST_TMPDIR/rel/vmstate" ]
}

@test "stats answers with the VM's statistics" {
	run gmvm stats --control "$SOCK"
	assert_success
	assert_equal "$(jq -r .stats.state <<<"$output")" running
	(($(jq -r .stats.uptime_ms <<<"$output") > 0))
}

@test "stop ends gmvm with status 0 and removes the socket" {
	run gmvm stop --control "$SOCK"
	assert_success
	wait "$GMVM_PID"
	[ ! -e "$SOCK" ]
}

@test "bad requests get an error reply and the connection stays usable" {
	run request 'not json'
	assert_equal "$(jq -r .ok <<<"$output")" false
	[[ "$(jq -r .error <<<"$output")" == "not JSON: not json" ]]
	run request '{"cmd": "fly"}'
	[[ "$(jq -r .error <<<"$output")" == 'unknown request "fly"'* ]]
	run request '[1, 2]'
	[[ "$(jq -r .error <<<"$output")" == *'"cmd" string'* ]]
	run request '{"cmd": "snapshot", "dir": "relative"}'
	[[ "$(jq -r .error <<<"$output")" == *'absolute path'* ]]
	run request '{"cmd": "snapshot", "dir": 7}'
	[[ "$(jq -r .error <<<"$output")" == *'"dir", a string'* ]]
	run request "{\"cmd\": \"$(head -c 5000 /dev/zero | tr '\0' a)\"}"
	[[ "$(jq -r .error <<<"$output")" == *'longer than 4096 bytes'* ]]
	run request '{"cmd": "status"}'
	assert_equal "$(jq -r .ok <<<"$output")" true
}

@test "the socket is the owner's only (mode 0600)" {
	assert_equal "$(stat -c %a "$SOCK")" 600
}

@test "idle clients never lock the owner out: the idlest gives way, logged at most once a second" {
	require_command socat
	local i pids=() start=$SECONDS lines
	# More idle connections than there are slots, each held open.
	for ((i = 0; i < 24; i++)); do
		timeout 30 socat -u EXEC:'sleep 30' UNIX-CONNECT:"$SOCK" 2>/dev/null 3>&- &
		pids+=($!)
	done
	sleep 1
	run gmvm status --control "$SOCK"
	assert_success
	assert_equal "$(jq -r .state <<<"$output")" running
	run gmvm stop --control "$SOCK"
	assert_success
	kill "${pids[@]}" 2>/dev/null || true
	wait "$GMVM_PID" || fail "gmvm failed: $(cat "$BATS_TEST_TMPDIR/err")"
	GMVM_PID=
	lines=$(grep -c 'idle connection(s) closed to let new ones in' "$BATS_TEST_TMPDIR/err")
	((lines >= 1 && lines <= 1 + SECONDS - start)) ||
		fail "$lines eviction lines in $((SECONDS - start)) s: $(cat "$BATS_TEST_TMPDIR/err")"
}

@test "a second gmvm cannot take over a live control socket" {
	run --separate-stderr gmvm_run --control "$SOCK" --cmdline hello
	assert_bad_usage "--control $SOCK" 'another process is serving it'
}

@test "the client says so when nothing listens" {
	run --separate-stderr gmvm status --control "$BATS_TEST_TMPDIR/none"
	assert_failure 1
	[[ "$stderr" == *"--control $BATS_TEST_TMPDIR/none"* ]] || fail "stderr: $stderr"
}

@test "client usage errors" {
	run --separate-stderr gmvm pause
	assert_bad_usage '--control SOCK is required'
	run --separate-stderr gmvm snapshot --control "$SOCK"
	assert_bad_usage 'the snapshot directory is required'
}
