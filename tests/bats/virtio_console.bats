#!/usr/bin/env bats
# virtio-console (--console virtio): guest output through transmitq, input
# from stdin through receiveq, flow control, terminal escapes, snapshots.
# The test guest never prints what goes through hvc on the UART, so text on
# stdout came through the device.

load helpers

setup() {
	require_kvm
}

teardown() {
	stop_background_gmvm
}

# pipe_to_guest DELAY INPUT [ARG]...: gmvm run of the test guest with ARGs,
# INPUT written to its stdin (a pipe) after DELAY seconds.
pipe_to_guest() {
	local delay=$1 input=$2
	shift 2
	{ sleep "$delay"; printf '%s' "$input"; } | GMVM_STDIN=/dev/stdin gmvm_run "$@"
}

@test "hvc=TEXT: the text arrives on stdout through transmitq" {
	run gmvm_run --console virtio --cmdline "hvc=hello-through-hvc"
	assert_success
	assert_line 'hello-through-hvc'
	assert_line 'hvc: wrote 18 bytes through transmitq'
	assert_line 'testguest: ok'
}

@test "without --console virtio there is no virtio-console device" {
	run gmvm_run --cmdline "hvc=hello-through-hvc"
	assert_failure 1
	assert_line 'hvc: no virtio-console device'
	refute_line 'hello-through-hvc'
}

@test "hvcecho=5: bytes piped on stdin reach the guest through receiveq" {
	run pipe_to_guest 0 abcde --console virtio --cmdline hvcecho=5
	assert_success
	assert_line 'hvcecho: waiting for 5 bytes'
	assert_line 'abcde'
	assert_line 'hvcecho: echoed 5 bytes'
	assert_line 'testguest: ok'
}

@test "hvcecho: input is passed through byte for byte, newline included" {
	run pipe_to_guest 0 $'x y\nz' --console virtio --cmdline hvcecho=5
	assert_success
	assert_output --partial $'x y\nz\nhvcecho: echoed 5 bytes'
}

@test "hvcecho: input that arrives late is still read" {
	run pipe_to_guest 0.5 hello --console virtio --cmdline hvcecho=5
	assert_success
	assert_line 'hello'
}

@test "hvcecho: stdin redirected from a regular file reaches the guest" {
	printf 'abcde' >"$BATS_TEST_TMPDIR/input"
	GMVM_STDIN="$BATS_TEST_TMPDIR/input" run gmvm_run --console virtio --cmdline hvcecho=5
	assert_success
	assert_line 'abcde'
}

# big_input FILE: 4000 a, 4000 b and 1000 c into FILE.
big_input() {
	{
		head -c 4000 /dev/zero | tr '\0' a
		head -c 4000 /dev/zero | tr '\0' b
		head -c 1000 /dev/zero | tr '\0' c
	} >"$1"
}

# assert_big_echo: the three hvcecho lines of big_input, in order.
assert_big_echo() {
	assert_success
	assert_line "$(head -c 4000 /dev/zero | tr '\0' a)"
	assert_line "$(head -c 4000 /dev/zero | tr '\0' b)"
	assert_line "$(head -c 1000 /dev/zero | tr '\0' c)"
	assert_line 'testguest: ok'
}

@test "hvcecho: more input than the device holds, from a file, comes through in order" {
	# 9000 bytes before the driver posts a buffer: the device holds 4096,
	# the rest stays in the file until buffers come back.
	big_input "$BATS_TEST_TMPDIR/input"
	GMVM_STDIN="$BATS_TEST_TMPDIR/input" run gmvm_run --console virtio \
		--cmdline "hvcecho=4000 hvcecho=4000 hvcecho=1000"
	assert_big_echo
}

@test "hvcecho: more input than the device holds, from a pipe, comes through in order" {
	# The same through a pipe: the console keeps what the device refuses
	# and stops reading until buffers come back. The pipe stays open
	# until gmvm is done.
	big_input "$BATS_TEST_TMPDIR/input"
	mkfifo "$BATS_TEST_TMPDIR/in"
	GMVM_STDIN="$BATS_TEST_TMPDIR/in" gmvm_background "$BATS_TEST_TMPDIR/out" \
		"$BATS_TEST_TMPDIR/err" run --kernel "$TESTGUEST" --console virtio \
		--cmdline "hvcecho=4000 hvcecho=4000 hvcecho=1000"
	exec 7>"$BATS_TEST_TMPDIR/in"	# not 3: bats owns it
	cat "$BATS_TEST_TMPDIR/input" >&7
	local status=0
	wait "$GMVM_PID" || status=$?
	exec 7>&-
	run cat "$BATS_TEST_TMPDIR/out"
	((status == 0)) || fail "gmvm exited with $status: $output $(cat "$BATS_TEST_TMPDIR/err")"
	assert_big_echo
}

@test "hvcecho: more input than the device holds, from a pipe closed at once, comes through" {
	# The writer is gone before the guest has taken most of it: the
	# hang-up must not cost the bytes still waiting in the pipe.
	big_input "$BATS_TEST_TMPDIR/input"
	run bash -c 'cat "$1" | timeout 60 "$GMVM" run --kernel "$TESTGUEST" \
		--console virtio --cmdline "hvcecho=4000 hvcecho=4000 hvcecho=1000"' \
		_ "$BATS_TEST_TMPDIR/input"
	assert_success
	assert_big_echo
}

@test "--console virtio: the UART takes no input" {
	# echo=1 reads COM1: it never gets the byte and waits until killed.
	GMVM_TIMEOUT=3 run pipe_to_guest 0 x --console virtio --cmdline echo=1
	assert_failure 124
	assert_line 'echo: waiting for 1 bytes'
	refute_output --partial 'echo: got "x'
}

@test "--console virtio: the UART's output is still shown" {
	run gmvm_run --console virtio --cmdline hello
	assert_success
	assert_line --partial 'Hello from the gmvm test guest'
}

@test "input held back by virtio-console is in the snapshot and reaches the restored guest" {
	printf 'abcde' >"$BATS_TEST_TMPDIR/input"
	# The input is read at once; the guest posts no buffer before the
	# snapshot, so the device still holds it then.
	GMVM_STDIN="$BATS_TEST_TMPDIR/input" run gmvm_run --console virtio \
		--snapshot-on-request "$BATS_TEST_TMPDIR/s" --then stop \
		--cmdline "hvc=before touch=16M snapshot hvcecho=5"
	assert_success
	refute_line 'abcde'
	# Eagerly, and lazily where the host can (auto: eager where not).
	for how in "--restore eager" "--memory-backend anon"; do
		# shellcheck disable=SC2086
		run gmvm restore --snapshot "$BATS_TEST_TMPDIR/s" $how
		assert_success
		assert_line 'snapshot: resumed'
		assert_line 'abcde'
		assert_line 'hvcecho: echoed 5 bytes'
		assert_line 'testguest: ok'
	done
}

@test "restore: the console routing is the snapshot's unless told, and never a device it lacks" {
	# A serial-console snapshot: no virtio-console device to route to.
	run gmvm_run --snapshot-on-request "$BATS_TEST_TMPDIR/s" --then stop \
		--cmdline "hello snapshot hello"
	assert_success
	run gmvm restore --snapshot "$BATS_TEST_TMPDIR/s" --console virtio
	assert_failure 2
	assert_output --partial 'virtio-console'
	run gmvm restore --snapshot "$BATS_TEST_TMPDIR/s" --console none
	assert_success
	refute_output --partial 'testguest: ok'
	run gmvm restore --snapshot "$BATS_TEST_TMPDIR/s"
	assert_success
	assert_line 'testguest: ok'
}

# On a pseudo-terminal (script(1)): see run_on_pty in helpers.bash.
pty_gmvm() {
	printf 'timeout --foreground 20 %q run --kernel %q --console virtio' "$GMVM" "$TESTGUEST"
}

@test "terminal: Ctrl-A x ends a guest waiting on virtio-console with status 0" {
	require_command script "util-linux"
	local dir=$BATS_TEST_TMPDIR
	run_on_pty "$dir" "$(pty_gmvm) --cmdline hvcecho=5" '\001x'
	[ -e "$dir/status" ] || fail "gmvm did not end: $(cat "$dir/out")"
	assert_equal "$(<"$dir/status")" 0
	assert_equal "$(<"$dir/stty.after")" "$(<"$dir/stty.before")"
}

@test "terminal: Ctrl-A Ctrl-A sends one Ctrl-A through virtio-console" {
	require_command script "util-linux"
	local dir=$BATS_TEST_TMPDIR
	run_on_pty "$dir" "$(pty_gmvm) --cmdline hvcecho=2" '\001\001' 'z'
	[ -e "$dir/status" ] || fail "gmvm did not end: $(cat "$dir/out")"
	assert_equal "$(<"$dir/status")" 0
	run cat "$dir/out"
	assert_output --partial $'\001z'
	assert_output --partial 'hvcecho: echoed 2 bytes'
}
