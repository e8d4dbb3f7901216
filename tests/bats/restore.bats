#!/usr/bin/env bats
# Restoring snapshots: every backend the host supports, lazy and eager, across
# backends, twice from one snapshot, several vCPUs, lazily booted guests,
# working sets, an external page-fault handler, and what the stats say.

load helpers
load snapshot_helpers

setup_file() {
	[ -e /dev/kvm ] || return 0
	# One snapshot of 256 MiB touched for the tests that only read it.
	SNAP="$BATS_FILE_TMPDIR/snap"
	export SNAP
	timeout 120 "$GMVM" run --kernel "$TESTGUEST" --memory 512M \
		--snapshot-on-request "$SNAP" --then stop \
		--cmdline "touch=256M snapshot verify=3" </dev/null >/dev/null 2>&1 || true
}

setup() {
	require_kvm
	[ -f "$SNAP/vmstate" ] || fail "setup_file could not make the shared snapshot"
}

# restores_ok BACKEND MODE STRATEGY: restore $SNAP on BACKEND with --restore
# MODE; the guest verifies 3 times, and the stats name STRATEGY. Skips,
# saying why, where the host offers no STRATEGY on BACKEND.
restores_ok() {
	require_offer "$1" "$3"
	run restore --snapshot "$SNAP" --memory-backend "$1" --restore "$2" \
		--stats "$BATS_TEST_TMPDIR/stats.json"
	assert_resumed_ok 3
	assert_equal "$(jq_stats "$BATS_TEST_TMPDIR/stats.json" .restore.strategy)" "$3"
}

@test "the shared snapshot restored eagerly into gmem" {
	restores_ok gmem eager eager
}

@test "the shared snapshot restored eagerly into memfd" {
	restores_ok memfd eager eager
}

@test "the shared snapshot restored eagerly into anon" {
	restores_ok anon eager eager
}

@test "the shared snapshot restored lazily into memfd (uffd MISSING)" {
	restores_ok memfd lazy lazy-missing
}

@test "the shared snapshot restored lazily into anon (uffd MISSING)" {
	restores_ok anon lazy lazy-missing
}

@test "lazy restore into memfd with minor faults (fill the file, UFFDIO_CONTINUE)" {
	require_offer memfd lazy-minor
	run restore --snapshot "$SNAP" --memory-backend memfd --uffd-mode minor \
		--stats "$BATS_TEST_TMPDIR/stats.json"
	assert_resumed_ok 3
	assert_equal "$(jq_stats "$BATS_TEST_TMPDIR/stats.json" .restore.strategy)" lazy-minor
	(($(jq_stats "$BATS_TEST_TMPDIR/stats.json" .uffd.pages_copied) +
	  $(jq_stats "$BATS_TEST_TMPDIR/stats.json" .uffd.pages_continued) > 0)) ||
		fail "no page came through the uffd handler"
}

@test "lazy restore without background filling: faults serve every page touched" {
	require_offer anon lazy-missing
	run restore --snapshot "$SNAP" --memory-backend anon --no-background \
		--stats "$BATS_TEST_TMPDIR/stats.json"
	assert_resumed_ok 3
	local copied
	copied=$(jq_stats "$BATS_TEST_TMPDIR/stats.json" .uffd.pages_copied)
	# 256 MiB of pattern is 65536 pages, all of them read by verify.
	((copied >= 65536)) || fail "only $copied pages copied"
	assert_equal "$(jq_stats "$BATS_TEST_TMPDIR/stats.json" .uffd.pages_background)" 0
	(($(jq_stats "$BATS_TEST_TMPDIR/stats.json" .uffd.faults) > 0))
}

@test "the same snapshot restores twice, with the same checksums" {
	run restore --snapshot "$SNAP" --memory-backend anon
	assert_resumed_ok 3
	local first=$output
	run restore --snapshot "$SNAP" --memory-backend memfd
	assert_resumed_ok 3
	assert_equal "$(grep '^verify' <<<"$output")" "$(grep '^verify' <<<"$first")"
}

@test "--restore auto says what it picked for the snapshot's backend, and why" {
	local want
	want=$(jq -r ".backends.$(default_backend).restore_auto" <<<"$(host_caps)")
	run --separate-stderr restore --snapshot "$SNAP"
	assert_success
	[[ "$stderr" == *"restore: $want (auto: "?*")"* ]] ||
		fail "no line saying auto picked $want, and why: $stderr"
}

@test "--restore auto on anon picks lazy and the stats say why" {
	require_offer anon lazy-missing
	run --separate-stderr restore --snapshot "$SNAP" --memory-backend anon \
		--stats "$BATS_TEST_TMPDIR/stats.json"
	assert_success
	[[ "$stderr" == *"restore: lazy-missing (auto: userfaultfd MISSING registration works on anon memory)"* ]] ||
		fail "no line saying what auto picked: $stderr"
	assert_equal "$(jq_stats "$BATS_TEST_TMPDIR/stats.json" .restore.reason)" \
		"auto: userfaultfd MISSING registration works on anon memory"
	local latency
	latency=$(jq_stats "$BATS_TEST_TMPDIR/stats.json" .restore.latency_us)
	((latency > 0 && latency < 10000000)) || fail "restore latency $latency us"
}

@test "a 1-vCPU and a 4-vCPU guest restore, lazily and eagerly" {
	for cpus in 1 4; do
		rm -rf "$BATS_TEST_TMPDIR/s"
		make_snapshot "$BATS_TEST_TMPDIR/s" --cpus "$cpus" \
			--cmdline "smp=$cpus touch=32M snapshot verify=3"
		for b in $(backends_offering boot); do
			run restore --snapshot "$BATS_TEST_TMPDIR/s" --memory-backend "$b"
			assert_resumed_ok 3
		done
	done
}

@test "a snapshot taken mid-loop through the control socket restores under every backend" {
	local sock="$BATS_TEST_TMPDIR/ctl" out="$BATS_TEST_TMPDIR/out"
	gmvm_background "$out" "$BATS_TEST_TMPDIR/err" run --kernel "$TESTGUEST" --cpus 2 \
		--control "$sock" --cmdline "touch=64M churn=30000 verify"
	wait_for_line "$out" '^churn: round'
	run gmvm snapshot --control "$sock" "$BATS_TEST_TMPDIR/s"
	assert_success
	wait "$GMVM_PID" || fail "the original guest failed: $(cat "$out")"
	grep -q '^churn: 30000 rounds, consistent' "$out"
	for b in $(backends_offering boot); do
		run restore --snapshot "$BATS_TEST_TMPDIR/s" --memory-backend "$b"
		assert_success
		assert_line 'churn: 30000 rounds, consistent'
		assert_line --regexp '^verify: pass 1: 0 bad words'
		assert_line 'testguest: ok'
	done
}

@test "a lazily booted guest (--lazy-load) runs from its files" {
	local backends
	backends=$(backends_offering lazy-load)
	[ -n "$backends" ] || skip "$(offer_missing memfd lazy-load)"
	head -c $((8 << 20)) /dev/urandom >"$BATS_TEST_TMPDIR/initrd"
	for b in $backends; do
		run gmvm_run --lazy-load --memory-backend "$b" --initrd "$BATS_TEST_TMPDIR/initrd" \
			--cmdline "hello initrd touch=16M" --stats "$BATS_TEST_TMPDIR/stats.json"
		assert_success
		assert_line "initrd: 8388608 bytes at $(grep -o '0x[0-9a-f]*' <<<"$(grep '^initrd' <<<"$output")" | head -1), first $(hex_head "$BATS_TEST_TMPDIR/initrd" 16) last $(hex_tail "$BATS_TEST_TMPDIR/initrd" 16)"
		assert_line 'testguest: ok'
		# The 8 MiB initrd came through the uffd thread, not a copy.
		(($(jq_stats "$BATS_TEST_TMPDIR/stats.json" .uffd.pages_copied) >= 2047)) ||
			fail "the initrd was not served lazily: $(cat "$BATS_TEST_TMPDIR/stats.json")"
	done
}

@test "prefetching a recorded working set takes at least 5x fewer faults" {
	require_offer anon lazy-missing
	cp -r "$SNAP" "$BATS_TEST_TMPDIR/s"
	run restore --snapshot "$BATS_TEST_TMPDIR/s" --memory-backend anon \
		--record-working-set --stats "$BATS_TEST_TMPDIR/rec.json"
	assert_resumed_ok 3
	[ -f "$BATS_TEST_TMPDIR/s/workingset" ] || fail "no working set written"
	run gmvm inspect "$BATS_TEST_TMPDIR/s"
	assert_line --regexp '^  working set: [0-9]+ pages'
	run restore --snapshot "$BATS_TEST_TMPDIR/s" --memory-backend anon --prefetch \
		--stats "$BATS_TEST_TMPDIR/pre.json"
	assert_resumed_ok 3
	local recorded prefetched
	recorded=$(jq_stats "$BATS_TEST_TMPDIR/rec.json" .uffd.faults)
	prefetched=$(jq_stats "$BATS_TEST_TMPDIR/pre.json" .uffd.faults)
	((recorded >= 5 * prefetched && recorded > 100)) ||
		fail "faults: $recorded recorded, $prefetched with --prefetch"
	(($(jq_stats "$BATS_TEST_TMPDIR/pre.json" .uffd.pages_prefetched) > 0))
}

@test "an external handler serves the faults (--uffd-socket)" {
	require_offer anon lazy-missing
	local sock="$BATS_TEST_TMPDIR/uffd.sock"
	require_file "$TOOLS/uffd_ext_handler"
	"$TOOLS/uffd_ext_handler" "$sock" "$SNAP/memory" >"$BATS_TEST_TMPDIR/handler.out" 2>&1 &
	local handler=$!
	for ((i = 0; i < 50; i++)); do [ -S "$sock" ] && break; sleep 0.1; done
	run restore --snapshot "$SNAP" --memory-backend anon --uffd-socket "$sock" \
		--stats "$BATS_TEST_TMPDIR/stats.json"
	wait "$handler" || fail "the handler failed: $(cat "$BATS_TEST_TMPDIR/handler.out")"
	assert_resumed_ok 3
	assert_equal "$(jq_stats "$BATS_TEST_TMPDIR/stats.json" .restore.strategy)" lazy-external
	local served
	served=$(sed -n 's/^uffd_ext_handler: served \([0-9]*\) faults$/\1/p' "$BATS_TEST_TMPDIR/handler.out")
	((served >= 65536)) || fail "the handler served $served faults"
}

@test "an external handler that goes away ends gmvm with status 1, no hang" {
	require_offer anon lazy-missing
	local sock="$BATS_TEST_TMPDIR/uffd.sock"
	require_command socat
	# A "handler" that accepts the connection and leaves at once.
	timeout 20 socat UNIX-LISTEN:"$sock" EXEC:true 2>/dev/null &
	for ((i = 0; i < 50; i++)); do [ -S "$sock" ] && break; sleep 0.1; done
	run --separate-stderr restore --snapshot "$SNAP" --memory-backend anon \
		--uffd-socket "$sock"
	assert_failure 1
	[[ "$stderr" == *"external page-fault handler on $sock went away"* ]] ||
		fail "no message about the handler: $stderr"
}

@test "a snapshot of a lazily restored VM that has not fetched its memory yet is complete" {
	require_offer anon lazy-missing
	make_snapshot "$BATS_TEST_TMPDIR/s" --cmdline "touch=64M snapshot echo=1 verify"
	mkfifo "$BATS_TEST_TMPDIR/in"
	GMVM_STDIN="$BATS_TEST_TMPDIR/in" gmvm_background "$BATS_TEST_TMPDIR/out" \
		"$BATS_TEST_TMPDIR/err" restore --snapshot "$BATS_TEST_TMPDIR/s" \
		--memory-backend anon --no-background --control "$BATS_TEST_TMPDIR/ctl"
	exec 7>"$BATS_TEST_TMPDIR/in"	# not 3: bats owns it
	wait_for_line "$BATS_TEST_TMPDIR/out" '^echo: waiting'
	run gmvm snapshot --control "$BATS_TEST_TMPDIR/ctl" "$BATS_TEST_TMPDIR/s2"
	assert_success
	printf x >&7
	exec 7>&-
	wait "$GMVM_PID" || fail "the first restore failed: $(cat "$BATS_TEST_TMPDIR/err")"
	# The second snapshot has all the data, though the guest touched none.
	local data_kib
	data_kib=$(du -k "$BATS_TEST_TMPDIR/s2/memory" | cut -f1)
	((data_kib >= 64 * 1024)) || fail "only $data_kib KiB of data in the new snapshot"
	GMVM_STDIN=<(printf x) run restore --snapshot "$BATS_TEST_TMPDIR/s2" --memory-backend memfd
	assert_success
	assert_line --regexp '^verify: pass 1: 0 bad words'
	assert_line 'testguest: ok'
}

@test "a snapshot copied sparsely onto a file system with 1 KiB blocks restores lazily" {
	require_offer anon lazy-missing
	[ "$(id -u)" = 0 ] || skip "needs root to mount a file system image"
	local img=$BATS_TEST_TMPDIR/fs.img mnt=$BATS_TEST_TMPDIR/mnt
	truncate -s 600M "$img"
	mkfs.ext4 -q -F -b 1024 "$img" || fail "mkfs.ext4 -b 1024 failed"
	mkdir "$mnt"
	mount -o loop "$img" "$mnt" || skip "cannot loop-mount a file system image here"
	# Zero 1 KiB blocks become holes: extents end and start inside pages.
	cp -r --sparse=always "$SNAP" "$mnt/s"
	run gmvm inspect "$mnt/s"
	local inspected=$status
	run restore --snapshot "$mnt/s" --memory-backend anon --restore lazy \
		--stats "$BATS_TEST_TMPDIR/stats.json"
	umount "$mnt"
	assert_equal "$inspected" 0
	assert_resumed_ok 3
	assert_equal "$(jq_stats "$BATS_TEST_TMPDIR/stats.json" .restore.strategy)" lazy-missing
}

@test "the guest's clocks go on by the time the snapshot sat" {
	make_snapshot "$BATS_TEST_TMPDIR/s" --cmdline "touch=16M snapshot verify"
	sleep 2
	run --separate-stderr restore -v --snapshot "$BATS_TEST_TMPDIR/s" --stats "$BATS_TEST_TMPDIR/stats.json"
	assert_success
	[[ "$stderr" == *"restore: the snapshot sat "*" s; the guest's clocks go on by as much ("* ]] ||
		fail "no line saying how long the snapshot sat: $stderr"
	local age
	age=$(jq_stats "$BATS_TEST_TMPDIR/stats.json" .restore.snapshot_age_ms)
	((age >= 2000 && age < 60000)) || fail "snapshot_age_ms is $age"
}
