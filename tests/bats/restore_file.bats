#!/usr/bin/env bats
# gmvm restore --restore file: guest RAM a private copy-on-write mapping of
# the snapshot's memory file. Clones share what they only read, never see
# each other's writes and never write the file; the file changing under
# them (truncated, written, replaced) leaves them whole; refusals; auto's
# choice where userfaultfd is missing; a snapshot of a clone; --prefetch.

load helpers
load snapshot_helpers

setup() {
	require_kvm
	S=$BATS_TEST_TMPDIR/s
	# Where the snapshots are made is where caps must have found leases.
	local caps
	caps=$(TMPDIR=$BATS_TEST_TMPDIR "$GMVM" caps --json) || fail "gmvm caps failed"
	jq -e .restore_file.available <<<"$caps" >/dev/null ||
		skip "no file restore here: $(jq -r .restore_file.reason <<<"$caps")"
}

teardown() {
	stop_bg_pids
}

# clone NAME [ARG]...: a file restore of $S in the background, its output
# in NAME.out/.err and its exit status in NAME.status.
clone() {
	local name=$1
	shift
	(
		status=0
		gmvm restore --snapshot "$S" --restore file "$@" \
			>"$BATS_TEST_TMPDIR/$name.out" 2>"$BATS_TEST_TMPDIR/$name.err" || status=$?
		echo "$status" >"$BATS_TEST_TMPDIR/$name.status"
	) &
	BG_PIDS="${BG_PIDS:-} $!"
}

# clone_ok NAME PASSES: clone NAME exited 0 having verified PASSES times.
clone_ok() {
	local name=$1 f=$BATS_TEST_TMPDIR/$1
	for ((i = 0; i < 600; i++)); do
		[ -e "$f.status" ] && break
		sleep 0.1
	done
	[ -e "$f.status" ] || fail "clone $name did not end"
	[ "$(cat "$f.status")" = 0 ] ||
		fail "clone $name exited $(cat "$f.status"): $(cat "$f.err") $(tail -3 "$f.out")"
	run cat "$f.out"
	assert_resumed_ok "$2"
}

# shrink_memory_file: what a careless user does, from a process that
# waits for the leases (no O_NONBLOCK, unlike truncate(1)).
shrink_memory_file() {
	python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
os.ftruncate(fd, 0)
os.write(fd, b"overwritten" * 1000)
os.close(fd)' "$S/memory"
}

@test "--restore file: the guest carries on from the snapshot; stats say file" {
	make_snapshot "$S"
	run restore --snapshot "$S" --restore file --stats "$BATS_TEST_TMPDIR/st.json"
	assert_resumed_ok 3
	assert_equal "$(jq -r .restore.strategy "$BATS_TEST_TMPDIR/st.json")" file
	assert_equal "$(jq -r .restore.reason "$BATS_TEST_TMPDIR/st.json")" "--restore file"
	assert_equal "$(jq -r .memory_backend "$BATS_TEST_TMPDIR/st.json")" snapshot-file
}

@test "10 clones at once, each rewriting every page it touched: all verify, none sees another's writes, the memory file is never written" {
	make_snapshot "$S" --cmdline "touch=64M snapshot churn=8 verify=2"
	local before after i blocks
	before=$(sha256sum <"$S/memory")
	blocks=$(stat -c %b "$S/memory")
	for i in $(seq 1 10); do
		clone "c$i"
	done
	for i in $(seq 1 10); do
		clone_ok "c$i" 2
		assert_line 'churn: 8 rounds, consistent'
	done
	after=$(sha256sum <"$S/memory")
	assert_equal "$after" "$before"
	# Still as sparse: no block allocated in it, holes included.
	assert_equal "$(stat -c %b "$S/memory")" "$blocks"
}

@test "the memory file truncated and overwritten while clones run: each copies its RAM out first and goes on whole" {
	make_snapshot "$S" --cmdline "touch=64M snapshot verify=60"
	clone a
	clone b
	clone c
	sleep 1
	run shrink_memory_file
	assert_success
	clone_ok a 60
	clone_ok b 60
	clone_ok c 60
	grep -q "the memory file $S/memory is about to be written or truncated: copying" \
		"$BATS_TEST_TMPDIR/a.err" || fail "clone a was not told: $(cat "$BATS_TEST_TMPDIR/a.err")"
	[ "$(stat -c %s "$S/memory")" = 11000 ] || fail "the file was not overwritten"
}

@test "a clone the lease does not protect (test hook) fails with an error naming the shrunk file; one it protects goes on" {
	make_snapshot "$S" --cmdline "touch=64M snapshot verify=60"
	(
		status=0
		GMVM_TEST_FILE_NO_LEASE=1 timeout 60 "$GMVM_HOOKED" restore --snapshot "$S" \
			--restore file >"$BATS_TEST_TMPDIR/bare.out" 2>"$BATS_TEST_TMPDIR/bare.err" ||
			status=$?
		echo "$status" >"$BATS_TEST_TMPDIR/bare.status"
	) &
	BG_PIDS="$!"
	clone kept
	sleep 1
	run shrink_memory_file
	assert_success
	clone_ok kept 60
	for ((i = 0; i < 300; i++)); do
		[ -e "$BATS_TEST_TMPDIR/bare.status" ] && break
		sleep 0.1
	done
	assert_equal "$(cat "$BATS_TEST_TMPDIR/bare.status")" 1
	grep -qE "the memory file $S/memory is [0-9]+ bytes now, shorter than guest RAM's 134217728: it was truncated while the guest ran" \
		"$BATS_TEST_TMPDIR/bare.err" || fail "no clear error: $(cat "$BATS_TEST_TMPDIR/bare.err")"
}

@test "the memory file replaced (renamed over) or removed while clones run: they hold the old one and go on" {
	make_snapshot "$S" --cmdline "touch=64M snapshot verify=40"
	clone a
	clone b
	sleep 1
	head -c 1M /dev/zero >"$BATS_TEST_TMPDIR/other"
	mv "$BATS_TEST_TMPDIR/other" "$S/memory"
	clone_ok a 40
	rm "$S/memory"
	clone_ok b 40
	! grep -q 'about to be written' "$BATS_TEST_TMPDIR/a.err" ||
		fail "a rename broke the lease: $(cat "$BATS_TEST_TMPDIR/a.err")"
}

@test "a snapshot of a file-restored VM holds the file's pages it never touched, and restores" {
	make_snapshot "$S" --cmdline "touch=64M snapshot verify=30"
	local s2=$BATS_TEST_TMPDIR/s2 ctl=$BATS_TEST_TMPDIR/ctl
	gmvm_background "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" restore \
		--snapshot "$S" --restore file --control "$ctl"
	wait_for_line "$BATS_TEST_TMPDIR/out" '^verify: pass 2:'
	run gmvm snapshot --control "$ctl" "$s2"
	assert_success
	wait "$GMVM_PID"
	GMVM_PID=
	run restore --snapshot "$s2" --restore eager --verify
	assert_success
	assert_line 'testguest: ok'
	assert_line --regexp '^verify: pass 30: 0 bad words'
	# The new file is sparse too: its data is what the guest touched
	# (64 MiB and a little), not the 128 MiB the mapping covers.
	local kib
	kib=$(du -k "$s2/memory" | cut -f1)
	((kib > 65536 && kib < 65536 + 8192)) || fail "the clone's snapshot holds $kib KiB of data"
}

@test "--restore file with a balloon: pages the guest gives up read as zeros" {
	make_snapshot "$S" --balloon --cmdline "touch=16M snapshot balloon=256"
	run restore --snapshot "$S" --restore file
	assert_success
	assert_line 'testguest: ok'
	refute_line --partial 'not zero'
}

@test "--restore file --prefetch reads the working set ahead; --verify checks RAM through the mapping" {
	make_snapshot "$S"
	require_offer memfd lazy-missing
	run restore --snapshot "$S" --memory-backend memfd --record-working-set
	assert_resumed_ok 3
	run restore --snapshot "$S" --restore file --prefetch --stats "$BATS_TEST_TMPDIR/st.json"
	assert_resumed_ok 3
	(($(jq -r .restore.pages_read_ahead "$BATS_TEST_TMPDIR/st.json") > 1000)) ||
		fail "nothing read ahead: $(cat "$BATS_TEST_TMPDIR/st.json")"
	run restore --snapshot "$S" --restore file --verify
	assert_resumed_ok 3
}

@test "auto picks file where userfaultfd is missing (and eager for an explicit backend)" {
	make_snapshot "$S"
	run gmvm_hiding uffd restore --snapshot "$S" --stats "$BATS_TEST_TMPDIR/st.json"
	assert_resumed_ok 3
	assert_equal "$(jq -r .restore.strategy "$BATS_TEST_TMPDIR/st.json")" file
	jq -r .restore.reason "$BATS_TEST_TMPDIR/st.json" | grep -q '^auto: .*; the memory file mapped privately instead$' ||
		fail "reason: $(jq -r .restore.reason "$BATS_TEST_TMPDIR/st.json")"
	run gmvm_hiding uffd restore --snapshot "$S" --memory-backend anon --stats "$BATS_TEST_TMPDIR/st.json"
	assert_resumed_ok 3
	assert_equal "$(jq -r .restore.strategy "$BATS_TEST_TMPDIR/st.json")" eager
}

@test "--restore file refuses what does not apply, and a memory file open for writing elsewhere, status 2" {
	make_snapshot "$S"
	run --separate-stderr restore --snapshot "$S" --restore file --uffd-mode minor
	assert_bad_usage '--restore file maps guest RAM from the memory file, with no userfaultfd: --uffd-mode does not apply'
	run --separate-stderr restore --snapshot "$S" --restore file --record-working-set
	assert_bad_usage '--record-working-set does not apply'
	run --separate-stderr restore --snapshot "$S" --restore file --memory-backend memfd
	assert_bad_usage '--memory-backend memfd does not apply'
	exec 7>>"$S/memory"
	run --separate-stderr restore --snapshot "$S" --restore file
	exec 7>&-
	assert_bad_usage "--restore file: $S/memory: no read lease on the memory file" 'it is open for writing'
}

@test "caps: restore file says yes or why not, the same in text and JSON" {
	run gmvm caps --json
	assert_success
	assert_equal "$(jq -r .restore_file.available <<<"$output")" true
	run gmvm caps
	assert_success
	assert_line --regexp '^restore file: yes \(a private mapping of the memory file under a read lease; tried in /'
	TMPDIR=$BATS_TEST_TMPDIR/none run gmvm caps --json
	assert_success
	assert_equal "$(jq -r .restore_file.available <<<"$output")" false
	assert_equal "$(jq -r .restore_file.reason <<<"$output")" "no file in $BATS_TEST_TMPDIR/none to try: No such file or directory"
}

