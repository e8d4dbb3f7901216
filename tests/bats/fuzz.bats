#!/usr/bin/env bats
# gmvm fuzz: the snapshot taken where the guest first asks for an input,
# runs and what they report (--replay), resets that put everything back
# (--count, and the test hooks' check after every reset), AFL++'s
# forkserver protocol against tests/tools/afl_fake, and what is refused.
# The guest is the test guest's fuzz workload (tests/guest/fuzz.c).
#
# FUZZ_CHECK_RUNS sets how many runs the state check makes (default 10000).

load helpers

CHECK_RUNS=${FUZZ_CHECK_RUNS:-10000}

setup_file() {
	[ -c /dev/kvm ] || return 0
	local d=$BATS_FILE_TMPDIR
	# The planted bug's target, and the one with the harness's inputs.
	timeout 60 "$GMVM" fuzz --snapshot "$d/target" -q -- --kernel "$TESTGUEST" \
		--cmdline fuzz --memory 32M >"$d/target.log" 2>&1
	timeout 60 "$GMVM" fuzz --snapshot "$d/harness" -q -- --kernel "$TESTGUEST" \
		--cmdline fuzz=harness --memory 16M >"$d/harness.log" 2>&1
	mkdir -p "$d/in"
	printf 'hello' >"$d/in/plain"
	printf 'GMVMS\004abcd' >"$d/in/sum"
	# The record parser's bug: a name longer than its 16-byte field.
	printf 'GMVMN\040%s' "$(printf 'A%.0s' $(seq 40))" >"$d/in/overrun"
	for c in N A T L S X E F H; do printf '!%s' "$c" >"$d/in/$c"; done
	printf '!P\020\000' >"$d/in/P16"
}

setup() {
	require_kvm
	D=$BATS_FILE_TMPDIR
	[ -d "$D/target" ] || fail "the fuzz snapshot was not made: $(cat "$D/target.log")"
	[ -d "$D/harness" ] || fail "the harness snapshot was not made: $(cat "$D/harness.log")"
}

# inputs NAME...: a directory holding those inputs, for --count.
inputs() {
	local dir
	dir=$(mktemp -d "$BATS_TEST_TMPDIR/inputs.XXXXXX")
	for n in "$@"; do cp "$D/in/$n" "$dir/"; done
	printf '%s\n' "$dir"
}

@test "fuzz -- RUN-OPTIONS: the snapshot is taken where the guest first asks for an input, and says so" {
	run gmvm inspect "$D/target"
	assert_success
	assert_line --partial 'taken for gmvm fuzz: input buffer of 1048576 bytes at 0x400000, 65536-byte coverage map'
	run gmvm inspect "$D/harness"
	assert_line --partial 'taken for gmvm fuzz: input buffer of 1048576 bytes at 0x400000'
}

@test "fuzz --replay: an input the parser takes ends ok, status 0" {
	run --separate-stderr gmvm fuzz --snapshot "$D/target" --replay "$D/in/plain"
	assert_success
	assert_line --regexp '^ok: the guest finished in [0-9.]+ us$'
}

@test "fuzz --replay: the planted overrun is a crash the guest reports, status 1" {
	run --separate-stderr gmvm fuzz --snapshot "$D/target" --replay "$D/in/overrun"
	assert_failure 1
	assert_line 'crash: the guest reported a crash, code 0xb0f'
}

@test "fuzz --replay: an exception, a triple fault and a guest ending the VM are crashes" {
	run --separate-stderr gmvm fuzz --snapshot "$D/harness" --replay "$D/in/X"
	assert_failure 1
	assert_line 'crash: the guest ended the VM (exit status 3)'
	assert_line --partial 'testguest: exception 14'
	run --separate-stderr gmvm fuzz --snapshot "$D/harness" --replay "$D/in/F"
	assert_failure 1
	assert_line --regexp '^crash: triple fault \(KVM_EXIT_SHUTDOWN\) at rip 0x[0-9a-f]+$'
	run --separate-stderr gmvm fuzz --snapshot "$D/harness" --replay "$D/in/E"
	assert_failure 1
	assert_line 'crash: the guest ended the VM (exit status 5)'
}

@test "fuzz --replay: a guest that never says done is stopped at --timeout and called a hang" {
	SECONDS=0
	run --separate-stderr gmvm fuzz --snapshot "$D/harness" --replay "$D/in/H" --timeout 300
	assert_failure 1
	assert_line 'hang: still running after 300 ms'
	[ "$SECONDS" -lt 10 ] || fail "took $SECONDS s"
}

@test "fuzz --count: a counter the target increments reads 1 in each of 1000 runs" {
	run --separate-stderr gmvm fuzz --snapshot "$D/harness" --count 1000 --inputs "$(inputs N)"
	assert_success
	assert_line 'ok 1000, crashes 0, hangs 0'
	assert_line --regexp '^runs 1000 in [0-9.]+ s: [0-9]+ execs/s$'
	assert_line --regexp '^reset us: p50 [0-9.]+, p90 [0-9.]+, p99 [0-9.]+, max [0-9.]+$'
}

@test "fuzz --count: a guest that rewrites every page of its canvas finds it whole again each run" {
	run --separate-stderr gmvm fuzz --snapshot "$D/harness" --count 6 --inputs "$(inputs A)"
	assert_success
	assert_line 'ok 6, crashes 0, hangs 0'
	# 8 MiB of canvas: at least 2048 pages put back per run.
	local max
	max=$(sed -n 's/^dirty pages per run: mean [0-9.]*, max \([0-9]*\)$/\1/p' <<<"$output")
	[ "${max:-0}" -ge 2048 ] || fail "max dirty pages ${max:-none}"
}

@test "fuzz --count: crashes, hangs and ok runs mixed, each reset; the next input runs from the snapshot" {
	run --separate-stderr gmvm fuzz --snapshot "$D/harness" --count 30 --timeout 200 \
		--inputs "$(inputs N X F E H P16)"
	assert_success
	assert_line 'ok 10, crashes 15, hangs 5'
}

@test "fuzz: vCPU, local APIC, devices and every page of RAM read back as the snapshot's after each of $CHECK_RUNS resets" {
	require_file "$GMVM_HOOKED"
	run --separate-stderr env GMVM_TEST_FUZZ_CHECK=1 timeout 600 "$GMVM_HOOKED" fuzz \
		--snapshot "$D/harness" --count "$CHECK_RUNS" --inputs "$(inputs N L S P16)"
	assert_success
	assert_line "ok $CHECK_RUNS, crashes 0, hangs 0"
	assert_line "device state reset after $((CHECK_RUNS / 4)) runs"
}

@test "fuzz: the state check fails when a reset leaves out RAM, the local APIC or the devices" {
	require_file "$GMVM_HOOKED"
	for part in memory lapic devices; do
		run --separate-stderr env GMVM_TEST_FUZZ_CHECK=1 GMVM_TEST_FUZZ_BREAK=$part \
			timeout 60 "$GMVM_HOOKED" fuzz --snapshot "$D/harness" --count 8 \
			--inputs "$(inputs N L S P16)"
		assert_failure 1
		[[ "$stderr" == *"check: "*"differs from the snapshot's after a reset"* ]] ||
			fail "$part: $stderr"
	done
}

@test "fuzz: the TSC comes back to the snapshot's each run, where the host lets it be set" {
	sleep 2.5	# the snapshot is older than KVM's one-second TSC matching
	run --separate-stderr gmvm fuzz --snapshot "$D/harness" --count 3 -v --inputs "$(inputs T)"
	assert_success
	if [[ "$stderr" == *"does not set the guest's TSC back"* ]]; then
		assert_line 'ok 0, crashes 3, hangs 0'
		skip "this host does not set a guest's TSC (kvm-pvm: user mode reads the host's)"
	fi
	assert_line 'ok 3, crashes 0, hangs 0'
}

@test "fuzz: resets with the dirty tracking gmvm caps says it would use" {
	local want
	want=$(jq -r .fuzz.dirty_tracking <<<"$(host_caps)")
	run --separate-stderr gmvm fuzz --snapshot "$D/harness" --count 10 -v --inputs "$(inputs N)"
	assert_success
	[[ "$stderr" == *"resets from $want"* ]] || fail "caps says $want: $stderr"
}

@test "fuzz --dirty-tracking: each way this host offers resets a run's pages" {
	local how offered
	offered=$(jq -r '.backends.memfd.dirty_tracking_offered[]' <<<"$(host_caps)")
	[ -n "$offered" ] || skip "this host offers no dirty tracking on memfd memory"
	for how in $offered; do
		run --separate-stderr gmvm fuzz --snapshot "$D/harness" --count 200 -v \
			--dirty-tracking "$how" --inputs "$(inputs N P16 A)"
		assert_success
		assert_line 'ok 200, crashes 0, hangs 0'
		[[ "$stderr" == *"resets from $how"* ]] || fail "$how: $stderr"
	done
}

# KVM_GET_DIRTY_LOG, as hide_host takes it: _IOW(KVMIO, 0x42, struct kvm_dirty_log).
KVM_GET_DIRTY_LOG=0x4010ae42

@test "fuzz: without KVM's dirty log, userfaultfd WP_ASYNC where it works; without either, refused with status 2" {
	require_file "$HIDE_HOST"
	run --separate-stderr timeout 60 "$HIDE_HOST" --deny-ioctl "$KVM_GET_DIRTY_LOG:EINVAL" -- \
		"$GMVM" fuzz --snapshot "$D/harness" --count 100 -v --inputs "$(inputs N P16)"
	if jq -e '.backends.memfd.dirty_tracking_offered | index("uffd-wp-async")' \
		<<<"$(host_caps)" >/dev/null; then
		assert_success
		assert_line 'ok 100, crashes 0, hangs 0'
		[[ "$stderr" == *"resets from uffd-wp-async"* ]] || fail "$stderr"
	else
		assert_failure 2
	fi
	run --separate-stderr timeout 60 "$HIDE_HOST" --hide uffd --deny-ioctl "$KVM_GET_DIRTY_LOG:EINVAL" -- \
		"$GMVM" fuzz --snapshot "$D/harness" --replay "$D/in/N"
	assert_failure 2
	[[ "$stderr" == *"gmvm fuzz cannot track the pages a run writes on memfd memory here"* ]] ||
		fail "$stderr"
}

@test "fuzz under AFL++'s protocol: hello with the map size and shared-memory inputs, a status per run, coverage in AFL++'s map" {
	require_file "$TOOLS/afl_fake"
	run --separate-stderr timeout 60 "$TOOLS/afl_fake" "$D/in/plain" "$D/in/overrun" \
		"$D/in/sum" -- "$GMVM" fuzz --snapshot "$D/target"
	assert_success
	assert_line 'hello 0xc101ffff map 65536 shm yes'
	assert_line --regexp '^run 1: status 0 pid [0-9]+ map [1-9][0-9]*$'
	assert_line --regexp '^run 2: status 6 pid [0-9]+ map [1-9][0-9]*$'
	assert_line --regexp '^run 3: status 0 pid [0-9]+ map [1-9][0-9]*$'
	assert_line 'target exit 0'
	# Following more edges sets more of the map.
	local plain overrun
	plain=$(sed -n 's/^run 1: .* map //p' <<<"$output")
	overrun=$(sed -n 's/^run 2: .* map //p' <<<"$output")
	[ "$overrun" -gt "$plain" ] || fail "map: $plain then $overrun"
}

@test "fuzz under AFL++'s protocol without shared-memory inputs: each input read from stdin" {
	run --separate-stderr timeout 60 "$TOOLS/afl_fake" --no-shm "$D/in/overrun" \
		"$D/in/plain" -- "$GMVM" fuzz --snapshot "$D/target"
	assert_success
	assert_line 'hello 0xc001ffff map 65536 shm no'
	assert_line --regexp '^run 1: status 6 '
	assert_line --regexp '^run 2: status 0 '
}

@test "fuzz under AFL++'s protocol with @@ (--input FILE): each input read from the file afl-fuzz makes again" {
	local f=$BATS_TEST_TMPDIR/cur_input
	run --separate-stderr timeout 60 "$TOOLS/afl_fake" --file "$f" "$D/in/overrun" \
		"$D/in/plain" "$D/in/overrun" -- "$GMVM" fuzz --snapshot "$D/target" --input "$f"
	assert_success
	assert_line 'hello 0xc001ffff map 65536 shm no'
	assert_line --regexp '^run 1: status 6 '
	assert_line --regexp '^run 2: status 0 '
	assert_line --regexp '^run 3: status 6 '
}

@test "fuzz under AFL++'s protocol: a run AFL++ times out is killed through the pid it was given; the next one runs" {
	run --separate-stderr timeout 60 "$TOOLS/afl_fake" --kill-after 300 "$D/in/H" \
		"$D/in/N" "$D/in/X" "$D/in/H" "$D/in/N" -- "$GMVM" fuzz --snapshot "$D/harness" \
		--timeout 100
	assert_success
	assert_line --regexp '^run 1: timeout status 9 pid [0-9]+ '
	assert_line --regexp '^run 2: status 0 '
	assert_line --regexp '^run 3: status 11 '
	assert_line --regexp '^run 4: timeout status 9 '
	assert_line --regexp '^run 5: status 0 '
	# A new helper after each kill: never gmvm's own pid.
	local p1 p2
	p1=$(sed -n 's/^run 1: .* pid \([0-9]*\) .*/\1/p' <<<"$output")
	p2=$(sed -n 's/^run 2: .* pid \([0-9]*\) .*/\1/p' <<<"$output")
	[ "$p1" != "$p2" ] || fail "the killed helper's pid $p1 was given again"
}

@test "fuzz under AFL++'s protocol: AFL++'s timeout shorter than gmvm's stops the run as soon" {
	SECONDS=0
	run --separate-stderr timeout 60 "$TOOLS/afl_fake" --kill-after 200 "$D/in/H" "$D/in/N" \
		-- "$GMVM" fuzz --snapshot "$D/harness" --timeout 20000
	assert_success
	assert_line --regexp '^run 1: timeout status 9 '
	assert_line --regexp '^run 2: status 0 '
	[ "$SECONDS" -lt 10 ] || fail "took $SECONDS s: the run went on to gmvm's own timeout"
}

@test "fuzz under AFL++'s protocol: SIGTERM while gmvm waits for AFL++'s kill ends it, helper and all" {
	local out=$BATS_TEST_TMPDIR/out pid
	timeout 60 "$TOOLS/afl_fake" --kill-after 60000 "$D/in/H" -- "$GMVM" fuzz \
		--snapshot "$D/harness" --timeout 100 >"$out" 2>&1 &
	for ((i = 0; i < 100; i++)); do
		pid=$(pgrep -o -f "^$GMVM fuzz --snapshot $D/harness --timeout 100") && break
		sleep 0.1
	done
	[ -n "$pid" ] || fail "gmvm fuzz did not start: $(cat "$out")"
	sleep 1	# past gmvm's own timeout: it now waits for AFL++'s kill
	kill -TERM "$pid"
	wait
	grep -q 'stopping the VM on signal Terminated' "$out" || fail "$(cat "$out")"
	! pgrep -f "^$GMVM fuzz --snapshot $D/harness --timeout 100" >/dev/null ||
		fail "gmvm or its helper is still running"
}

@test "fuzz: refused with status 2, saying why" {
	run --separate-stderr gmvm fuzz --snapshot "$D/target"
	assert_failure 2
	[[ "$stderr" == *"nothing to do: run it under afl-fuzz"* ]] || fail "$stderr"
	run --separate-stderr gmvm fuzz --snapshot "$D/target" -- --kernel "$TESTGUEST" --cmdline fuzz
	assert_failure 2
	[[ "$stderr" == *"--snapshot $D/target: already exists"* ]] || fail "$stderr"
	run --separate-stderr gmvm fuzz --snapshot "$BATS_TEST_TMPDIR/new" -- --kernel "$TESTGUEST" \
		--cmdline fuzz --snapshot-on-request "$BATS_TEST_TMPDIR/other"
	assert_failure 2
	[[ "$stderr" == *"gmvm fuzz takes the snapshot itself"* ]] || fail "$stderr"
	run --separate-stderr gmvm fuzz --snapshot "$D/target" --count 5
	assert_failure 2
	[[ "$stderr" == *"--count needs --inputs DIR"* ]] || fail "$stderr"
	run --separate-stderr gmvm fuzz --snapshot "$D/target" --replay "$D/in/plain" --timeout 0
	assert_failure 2
	run --separate-stderr gmvm fuzz --snapshot "$D/target" --replay "$D/in/plain" --memory-backend gmem
	assert_failure 2
	[[ "$stderr" == *"not one gmvm fuzz can use"* ]] || fail "$stderr"
}

@test "fuzz: a guest that ends before asking for an input leaves no snapshot, status 2" {
	run --separate-stderr gmvm fuzz --snapshot "$BATS_TEST_TMPDIR/none" -- --kernel "$TESTGUEST" \
		--cmdline hello
	assert_failure 2
	[[ "$stderr" == *"before asking for an input: no snapshot in $BATS_TEST_TMPDIR/none"* ]] ||
		fail "$stderr"
	[ ! -e "$BATS_TEST_TMPDIR/none" ]
}

@test "fuzz and restore keep to their own snapshots: each refuses the other's, status 2" {
	run --separate-stderr gmvm restore --snapshot "$D/target"
	assert_failure 2
	[[ "$stderr" == *"was taken for fuzzing"* ]] || fail "$stderr"
	gmvm run --kernel "$TESTGUEST" --cmdline snapshot --memory 16M \
		--snapshot-on-request "$BATS_TEST_TMPDIR/plain" --then stop >/dev/null 2>&1
	run --separate-stderr gmvm fuzz --snapshot "$BATS_TEST_TMPDIR/plain" --replay "$D/in/plain"
	assert_failure 2
	[[ "$stderr" == *"was not taken for fuzzing"* ]] || fail "$stderr"
}

# fuzz_node_edit OP PROP [VALUE]: a copy of the target snapshot, its fuzz
# node's PROP changed (and the checksum made good) by vmstate_edit, into S.
fuzz_node_edit() {
	S=$BATS_TEST_TMPDIR/edited
	rm -rf "$S"
	cp -a "$D/target" "$S"
	"$TOOLS/vmstate_edit" "$S/vmstate" "$1" /fuzz "$2" ${3+"$3"} || fail "vmstate_edit $*"
}

@test "fuzz: a snapshot whose fuzz node puts the input or the coverage window where gmvm does not is refused, status 2, naming it" {
	require_file "$TOOLS/vmstate_edit"
	local case prop value want
	while IFS='|' read -r case prop value want; do
		fuzz_node_edit "$case" "$prop" $value
		run --separate-stderr gmvm fuzz --snapshot "$S" --replay "$D/in/plain"
		assert_failure 2
		[[ "$stderr" == *"$want"* ]] || fail "$prop $value: $stderr"
		run --separate-stderr gmvm inspect "$S"
		assert_failure 2
	done <<'EOF'
set-u64|input-gpa|0xc0000000|fuzz: the input buffer [0xc0000000, +1048576) is not inside RAM
set-u64|input-gpa|0x1ff0000|fuzz: the input buffer [0x1ff0000, +1048576) is not inside RAM
set-u64|input-size|0|is not inside RAM or larger than 64 MiB
set-u64|input-size|0x8000000|is not inside RAM or larger than 64 MiB
set-u64|input-gpa|0xfffffffffffff000|is not inside RAM
set-u32|coverage-size|100|fuzz: a coverage map of 100 bytes at 0xd0000000
set-u32|coverage-size|0x1000000|fuzz: a coverage map of 16777216 bytes
set-u64|coverage-gpa|0xc0001000|fuzz: a coverage map of 65536 bytes at 0xc0001000
del|input-size||input-size
EOF
}

@test "fuzz --replay: a FIFO is refused at once, not waited on" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	SECONDS=0
	run --separate-stderr gmvm fuzz --snapshot "$D/target" --replay "$BATS_TEST_TMPDIR/fifo"
	assert_failure 2
	[[ "$stderr" == *"not a regular file"* ]] || fail "$stderr"
	[ "$SECONDS" -lt 5 ]
}
