#!/usr/bin/env bats
# Privilege drop: once everything is open, gmvm holds no capability in any
# set, cannot gain one (no_new_privs), and with --uid/--gid/--chroot runs as
# that user inside that directory; what it writes later lands there.

load helpers

NOBODY=65534

setup() {
	require_kvm
	[ "$(id -u)" = 0 ] || skip "needs root (to drop from)"
}

# status_of PID FIELD: FIELD's value in each thread's status, one per line.
status_of() {
	for t in /proc/"$1"/task/*; do
		awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "$t/status"
	done
}

# spinning [ARG]...: start gmvm on a spinning 2-vCPU guest; PID is gmvm's.
spinning() {
	gmvm_background "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" run \
		--kernel "$TESTGUEST" --cpus 2 "$@" --cmdline spin
	wait_for_line "$BATS_TEST_TMPDIR/out" '^spin: running'
	PID=$(gmvm_pid)
}

stop_spinning() {
	kill "$PID"
	wait "$GMVM_PID" || true
}

@test "as root without options: no capability left in any set of any thread, no_new_privs" {
	spinning
	local f
	for f in CapInh CapPrm CapEff CapBnd CapAmb; do
		run status_of "$PID" "$f"
		[ "$(sort -u <<<"$output")" = 0000000000000000 ] ||
			{ stop_spinning; fail "$f: $output"; }
	done
	run status_of "$PID" NoNewPrivs
	local threads
	threads=$(ls /proc/"$PID"/task | wc -l)
	stop_spinning
	assert_equal "$(sort -u <<<"$output")" 1
	((threads >= 3)) || fail "only $threads threads"
}

@test "--uid and --gid: every thread runs as them, with no supplementary groups" {
	spinning --uid "$NOBODY" --gid "$NOBODY"
	run status_of "$PID" Uid
	local uids=$output gids groups caps
	gids=$(status_of "$PID" Gid)
	groups=$(status_of "$PID" Groups)
	caps=$(status_of "$PID" CapEff)
	stop_spinning
	assert_equal "$(sort -u <<<"$uids")" "$NOBODY $NOBODY $NOBODY $NOBODY"
	assert_equal "$(sort -u <<<"$gids")" "$NOBODY $NOBODY $NOBODY $NOBODY"
	assert_equal "$(sort -u <<<"$groups" | tr -d '[:space:]')" ""
	assert_equal "$(sort -u <<<"$caps")" 0000000000000000
}

@test "--chroot: gmvm's root is the directory" {
	mkdir "$BATS_TEST_TMPDIR/jail"
	spinning --chroot "$BATS_TEST_TMPDIR/jail" --uid "$NOBODY" --gid "$NOBODY"
	local root
	root=$(readlink /proc/"$PID"/root)
	stop_spinning
	assert_equal "$root" "$BATS_TEST_TMPDIR/jail"
}

@test "a guest runs to the end as nobody in a jail, and its snapshot lands inside the jail" {
	local jail=$BATS_TEST_TMPDIR/jail
	mkdir "$jail"
	chown "$NOBODY:$NOBODY" "$jail"
	run --separate-stderr gmvm_run --chroot "$jail" --uid "$NOBODY" --gid "$NOBODY" \
		--snapshot-on-request /snap --cmdline "touch=8M snapshot verify"
	assert_success
	assert_line 'testguest: ok'
	[ -f "$jail/snap/vmstate" ] || fail "no snapshot in the jail: $stderr"
	assert_equal "$(stat -c %u "$jail/snap/vmstate")" "$NOBODY"
}

@test "a restore in a jail records its working set into the snapshot it was given" {
	local jail=$BATS_TEST_TMPDIR/jail
	mkdir "$jail"
	run gmvm_run --snapshot-on-request "$BATS_TEST_TMPDIR/s" --then stop \
		--cmdline "touch=8M snapshot verify"
	assert_success
	chown -R "$NOBODY:$NOBODY" "$BATS_TEST_TMPDIR/s"
	run --separate-stderr gmvm restore --snapshot "$BATS_TEST_TMPDIR/s" --restore lazy \
		--memory-backend memfd --record-working-set \
		--chroot "$jail" --uid "$NOBODY" --gid "$NOBODY"
	assert_success
	assert_line 'testguest: ok'
	[ -s "$BATS_TEST_TMPDIR/s/workingset" ] || fail "no working set: $stderr"
	run gmvm restore --snapshot "$BATS_TEST_TMPDIR/s" --restore lazy \
		--memory-backend memfd --prefetch --chroot "$jail" --uid "$NOBODY"
	assert_success
	assert_line 'testguest: ok'
}

@test "without the rights to write there, a snapshot fails with a message and status 1" {
	local jail=$BATS_TEST_TMPDIR/jail
	mkdir "$jail"	# root's: nobody cannot create /snap in it
	run --separate-stderr gmvm_run --chroot "$jail" --uid "$NOBODY" --gid "$NOBODY" \
		--snapshot-on-request /snap --cmdline "touch=8M snapshot verify"
	assert_failure 1
	[[ "$stderr" == *"cannot create /snap"*"Permission denied"* ]] || fail "$stderr"
	[ ! -e "$jail/snap" ] || fail "a snapshot appeared"
}

@test "--chroot must name an existing directory by an absolute path" {
	run --separate-stderr gmvm_run --chroot "$BATS_TEST_TMPDIR/none" --cmdline hello
	assert_failure 2
	[[ "$stderr" == *"--chroot $BATS_TEST_TMPDIR/none: No such file or directory"* ]] || fail "$stderr"
	run --separate-stderr gmvm_run --chroot "$TESTGUEST" --cmdline hello
	assert_failure 2
	[[ "$stderr" == *"not a directory"* ]] || fail "$stderr"
	run --separate-stderr gmvm_run --chroot jail --cmdline hello
	assert_failure 2
	[[ "$stderr" == *"must be an absolute path"* ]] || fail "$stderr"
}

@test "--uid and --gid take numbers below 2^32-1" {
	run --separate-stderr gmvm_run --uid nobody --cmdline hello
	assert_failure 2
	[[ "$stderr" == *"--uid"*"'nobody'"* ]] || fail "$stderr"
	run --separate-stderr gmvm_run --gid 4294967295 --cmdline hello
	assert_failure 2
	[[ "$stderr" == *"--gid"* ]] || fail "$stderr"
}
