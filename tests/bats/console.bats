#!/usr/bin/env bats
# The serial console: guest input from stdin, --console none, and the
# terminal handling (raw mode, Ctrl-A escapes, settings restored).

load helpers

setup() {
	require_kvm
}

# pipe_to_guest DELAY INPUT [ARG]...: gmvm run of the test guest with ARGs,
# INPUT written to its stdin (a pipe) after DELAY seconds.
pipe_to_guest() {
	local delay=$1 input=$2
	shift 2
	{ sleep "$delay"; printf '%s' "$input"; } | GMVM_STDIN=/dev/stdin gmvm_run "$@"
}

@test "echo=5: bytes piped on stdin reach the guest and come back" {
	run pipe_to_guest 0 abcde --cmdline echo=5
	assert_success
	assert_line 'echo: got "abcde"'
	assert_line 'testguest: ok'
}

@test "echo=N: piped input is passed through byte for byte, newline included" {
	run pipe_to_guest 0 $'x y\nz' --cmdline echo=5
	assert_success
	assert_output --partial $'echo: got "x y\nz"'
}

@test "echo=5: stdin redirected from a regular file reaches the guest" {
	printf 'abcde' >"$BATS_TEST_TMPDIR/input"
	GMVM_TIMEOUT=10 GMVM_STDIN="$BATS_TEST_TMPDIR/input" run gmvm_run --cmdline echo=5
	assert_success
	assert_line 'echo: got "abcde"'
	assert_line 'testguest: ok'
}

@test "echo=N: input that arrives late is still read" {
	run pipe_to_guest 0.5 hello --cmdline echo=5
	assert_success
	assert_line 'echo: got "hello"'
}

@test "--console none: nothing of the guest on stdout, its status still comes back" {
	run --separate-stderr gmvm_run --console none --cmdline "hello exit=7"
	assert_failure 7
	assert_output ''
	assert_equal "$stderr" ''
}

@test "--console none: a failing workload's status 1 still comes back, silently" {
	run --separate-stderr gmvm_run --console none --cmdline "hello touch=1G"
	assert_failure 1
	assert_output ''
}

# On a pseudo-terminal (script(1)): see run_on_pty in helpers.bash.
pty_gmvm() {
	printf 'timeout --foreground 20 %q run --kernel %q' "$GMVM" "$TESTGUEST"
}

@test "terminal: Ctrl-A x ends a spinning guest with status 0" {
	require_command script "util-linux"
	local dir=$BATS_TEST_TMPDIR
	run_on_pty "$dir" "$(pty_gmvm) --cmdline spin" '\001x'
	[ -e "$dir/status" ] || fail "gmvm did not end: $(cat "$dir/out")"
	assert_equal "$(<"$dir/status")" 0
	run cat "$dir/out"
	assert_output --partial 'spin: running until stopped'
}

@test "terminal: settings are restored after Ctrl-A x" {
	require_command script "util-linux"
	local dir=$BATS_TEST_TMPDIR
	run_on_pty "$dir" "$(pty_gmvm) --cmdline spin" '\001x'
	[ -e "$dir/status" ] || fail "gmvm did not end: $(cat "$dir/out")"
	assert_equal "$(<"$dir/status")" 0
	grep -q 'spin: running until stopped' "$dir/out" || fail "the guest did not run: $(cat "$dir/out")"
	assert_equal "$(<"$dir/stty.after")" "$(<"$dir/stty.before")"
}

@test "terminal: settings are restored after the guest exits with a status" {
	require_command script "util-linux"
	local dir=$BATS_TEST_TMPDIR
	run_on_pty "$dir" "$(pty_gmvm) --cmdline 'hello exit=7'"
	[ -e "$dir/status" ] || fail "gmvm did not end: $(cat "$dir/out")"
	assert_equal "$(<"$dir/status")" 7
	assert_equal "$(<"$dir/stty.after")" "$(<"$dir/stty.before")"
}

@test "terminal: settings are restored after a triple fault" {
	require_command script "util-linux"
	local dir=$BATS_TEST_TMPDIR
	run_on_pty "$dir" "$(pty_gmvm) --cmdline triplefault"
	[ -e "$dir/status" ] || fail "gmvm did not end: $(cat "$dir/out")"
	assert_equal "$(<"$dir/status")" 1
	assert_equal "$(<"$dir/stty.after")" "$(<"$dir/stty.before")"
	run cat "$dir/out"
	assert_output --partial 'triple fault'
}

@test "terminal: settings are restored after SIGTERM" {
	require_command script "util-linux"
	local dir=$BATS_TEST_TMPDIR
	# The signal comes from inside the session, once the guest spins.
	run_on_pty "$dir" "$(pty_gmvm) --cmdline spin </dev/tty & pid=\$!; sleep 1; kill -TERM \$pid; wait \$pid"
	[ -e "$dir/status" ] || fail "gmvm did not end: $(cat "$dir/out")"
	assert_equal "$(<"$dir/status")" 143
	assert_equal "$(<"$dir/stty.after")" "$(<"$dir/stty.before")"
}

@test "terminal: Ctrl-A Ctrl-A sends one Ctrl-A to the guest" {
	require_command script "util-linux"
	local dir=$BATS_TEST_TMPDIR
	run_on_pty "$dir" "$(pty_gmvm) --cmdline echo=2" '\001\001' 'z'
	[ -e "$dir/status" ] || fail "gmvm did not end: $(cat "$dir/out")"
	assert_equal "$(<"$dir/status")" 0
	run cat "$dir/out"
	assert_output --partial $'echo: got "\001z"'
}

@test "terminal: Ctrl-C goes to the guest, not to gmvm" {
	require_command script "util-linux"
	local dir=$BATS_TEST_TMPDIR
	run_on_pty "$dir" "$(pty_gmvm) --cmdline echo=1" '\003'
	[ -e "$dir/status" ] || fail "gmvm did not end: $(cat "$dir/out")"
	assert_equal "$(<"$dir/status")" 0
	run cat "$dir/out"
	assert_output --partial $'echo: got "\003"'
}
