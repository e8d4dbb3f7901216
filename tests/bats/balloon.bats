#!/usr/bin/env bats
# virtio-balloon (--balloon): inflated and reported pages go back to the
# host, read as zeros afterwards, stay gone in snapshots and lazy restores;
# the target is set through the control socket.

load helpers
load snapshot_helpers

setup() {
	require_kvm
}

teardown() {
	stop_background_gmvm
}

# assert_balloon_ok N: the balloon workload gave N pages and got zeros back.
assert_balloon_ok() {
	assert_success
	assert_line "balloon: deflated $1 pages, $1 read back as zeros"
	assert_line "balloon: reported $1 pages as free, $1 read back as zeros"
	assert_line 'testguest: ok'
}

@test "balloon: inflated and reported pages read back as zeros, on every backend" {
	local b stats=$BATS_TEST_TMPDIR/stats.json
	for b in $(backends_offering boot); do
		run gmvm_run --balloon --memory-backend "$b" --stats "$stats" \
			--cmdline "balloon=8192"
		assert_balloon_ok 8192
		assert_line --regexp '^balloon: inflated 8192 pages at \[0x[0-9a-f]+, 0x[0-9a-f]+\), target 0$'
		assert_equal "$(jq_stats "$stats" .balloon.pages_inflated)" 8192
		assert_equal "$(jq_stats "$stats" .balloon.pages_deflated)" 8192
		assert_equal "$(jq_stats "$stats" .balloon.pages_reported)" 8192
		assert_equal "$(jq_stats "$stats" .balloon.pages_given_back)" 16384
		assert_equal "$(jq_stats "$stats" .balloon.actual_pages)" 0
		assert_equal "$(jq_stats "$stats" .balloon.ignored)" 0
	done
}

@test "without --balloon there is no virtio-balloon device, and no balloon stats" {
	run gmvm_run --stats "$BATS_TEST_TMPDIR/stats.json" --cmdline "balloon=16"
	assert_failure 1
	assert_line 'balloon: no virtio-balloon device'
	assert_equal "$(jq -r .balloon "$BATS_TEST_TMPDIR/stats.json")" null
}

@test "balloon: a bad page count is refused by the guest" {
	run gmvm_run --balloon --cmdline "balloon=16,fill"
	assert_failure 4
	assert_line --partial 'balloon: needs a page count'
}

# snapshot_kib DIR: the data (not the size) of DIR/memory in KiB.
snapshot_kib() {
	du -k "$1/memory" | cut -f1
}

@test "inflating gives memory back: a snapshot after it has 32 MiB less data (memfd, anon)" {
	local b before after
	for b in memfd anon; do
		make_snapshot "$BATS_TEST_TMPDIR/before-$b" --balloon --memory-backend "$b" \
			--cmdline "touch=64M snapshot"
		make_snapshot "$BATS_TEST_TMPDIR/after-$b" --balloon --memory-backend "$b" \
			--cmdline "touch=64M balloon=8192 snapshot"
		before=$(snapshot_kib "$BATS_TEST_TMPDIR/before-$b")
		after=$(snapshot_kib "$BATS_TEST_TMPDIR/after-$b")
		((before >= 64 * 1024)) || fail "$b: only $before KiB before inflating"
		((before - after >= 31 * 1024)) ||
			fail "$b: $before KiB of data before inflating 32 MiB, $after KiB after"
	done
}

@test "a lazy restore knows inflated pages are gone: it never fills them from the snapshot" {
	local b stats=$BATS_TEST_TMPDIR/stats.json
	# The top 16 MiB that touch wrote are in the snapshot; the restored
	# guest inflates them without touching them first (nofill), deflates
	# them and must read zeros, not the pattern still in the memory file.
	local backends
	backends=$(backends_offering lazy-missing | grep -v gmem) ||
		skip "$(offer_missing anon lazy-missing)"
	make_snapshot "$BATS_TEST_TMPDIR/s" --balloon \
		--cmdline "touch=64M snapshot balloon=4096,nofill"
	for b in $backends; do
		run restore --snapshot "$BATS_TEST_TMPDIR/s" --memory-backend "$b" \
			--restore lazy --no-background --stats "$stats"
		assert_balloon_ok 4096
		assert_line 'snapshot: resumed'
		assert_line --partial 'balloon: inflated 4096 pages at'
		assert_line --partial 'as they were'
		assert_equal "$(jq_stats "$stats" .restore.strategy)" lazy-missing
		(($(jq_stats "$stats" .uffd.pages_removed) >= 4096)) ||
			fail "$b: pages_removed is $(jq_stats "$stats" .uffd.pages_removed)"
		assert_equal "$(jq_stats "$stats" .uffd.pages_background)" 0
		assert_equal "$(jq_stats "$stats" .balloon.pages_given_back)" 8192
	done
}

@test "an eager restore of a balloon guest carries on" {
	make_snapshot "$BATS_TEST_TMPDIR/s" --balloon \
		--cmdline "touch=64M snapshot balloon=4096,nofill"
	run restore --snapshot "$BATS_TEST_TMPDIR/s" --restore eager
	assert_balloon_ok 4096
}

# request SOCK LINE: send one raw request line, print the reply line.
request() {
	require_command socat
	printf '%s\n' "$2" | timeout 10 socat - UNIX-CONNECT:"$1"
}

@test "control: the balloon target reaches the guest and survives a snapshot" {
	local sock=$BATS_TEST_TMPDIR/ctl out=$BATS_TEST_TMPDIR/out
	mkfifo "$BATS_TEST_TMPDIR/in"
	# echo=1 holds the guest until the target is set.
	GMVM_STDIN="$BATS_TEST_TMPDIR/in" gmvm_background "$out" "$BATS_TEST_TMPDIR/err" \
		run --kernel "$TESTGUEST" --balloon --control "$sock" \
		--cmdline "echo=1 balloon=16"
	exec 7>"$BATS_TEST_TMPDIR/in"	# not 3: bats owns it
	wait_for_line "$out" '^echo: waiting'
	run request "$sock" '{"cmd": "balloon", "pages": 1024}'
	assert_success
	assert_equal "$(jq -c . <<<"$output")" '{"ok":true,"pages":1024}'
	run gmvm stats --control "$sock"
	assert_equal "$(jq -r .stats.balloon.target_pages <<<"$output")" 1024
	run gmvm snapshot --control "$sock" "$BATS_TEST_TMPDIR/s"
	assert_success
	printf x >&7
	exec 7>&-
	wait "$GMVM_PID" || fail "gmvm failed: $(cat "$out" "$BATS_TEST_TMPDIR/err")"
	run cat "$out"
	assert_line --regexp '^balloon: inflated 16 pages at .*, target 1024$'
	printf x >"$BATS_TEST_TMPDIR/x"
	GMVM_STDIN="$BATS_TEST_TMPDIR/x" run restore --snapshot "$BATS_TEST_TMPDIR/s"
	assert_balloon_ok 16
	assert_line --regexp '^balloon: inflated 16 pages at .*, target 1024$'
}

@test "control: bad balloon requests get an error reply" {
	local sock=$BATS_TEST_TMPDIR/ctl
	gmvm_background "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" run \
		--kernel "$TESTGUEST" --balloon --control "$sock" --cmdline spin
	wait_for_line "$BATS_TEST_TMPDIR/out" '^spin: running'
	run request "$sock" '{"cmd": "balloon"}'
	assert_equal "$(jq -r .error <<<"$output")" 'balloon needs "pages", a number of 4 KiB pages'
	run request "$sock" '{"cmd": "balloon", "pages": -1}'
	assert_equal "$(jq -r .error <<<"$output")" '"pages" must not be negative'
	run request "$sock" '{"cmd": "balloon", "pages": 32769}'
	assert_equal "$(jq -r .error <<<"$output")" \
		"a balloon of 32769 pages is more than the guest's 32768 pages of RAM"
	run request "$sock" '{"cmd": "balloon", "pages": "many"}'
	assert_equal "$(jq -r .ok <<<"$output")" false
}

@test "control: a balloon request to a VM without a balloon is refused" {
	local sock=$BATS_TEST_TMPDIR/ctl
	gmvm_background "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" run \
		--kernel "$TESTGUEST" --control "$sock" --cmdline spin
	wait_for_line "$BATS_TEST_TMPDIR/out" '^spin: running'
	run request "$sock" '{"cmd": "balloon", "pages": 16}'
	assert_equal "$(jq -r .error <<<"$output")" 'no balloon device: start gmvm with --balloon'
}

@test "gmvm balloon --control SOCK PAGES sets the target; errors come back as status 1 or 2" {
	local sock=$BATS_TEST_TMPDIR/ctl
	gmvm_background "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" run \
		--kernel "$TESTGUEST" --balloon --control "$sock" --cmdline spin
	wait_for_line "$BATS_TEST_TMPDIR/out" '^spin: running'
	run gmvm balloon --control "$sock" 2048
	assert_success
	assert_equal "$(jq -c . <<<"$output")" '{"ok":true,"pages":2048}'
	run gmvm stats --control "$sock"
	assert_equal "$(jq -r .stats.balloon.target_pages <<<"$output")" 2048
	run --separate-stderr gmvm balloon --control "$sock" 40000
	assert_failure 1
	[[ "$stderr" == *"more than the guest's 32768 pages"* ]] || fail "$stderr"
	run --separate-stderr gmvm balloon --control "$sock" lots
	assert_failure 2
	[[ "$stderr" == *"'lots' is not a number"* ]] || fail "$stderr"
	run --separate-stderr gmvm balloon --control "$sock"
	assert_failure 2
	[[ "$stderr" == *"the number of pages is required"* ]] || fail "$stderr"
}
