#!/usr/bin/env bats
# Damaged snapshots and options that do not fit: each a clear message and exit
# status 2 with nothing run; a memory file that breaks during a lazy restore:
# status 1, never a hang.

load helpers
load snapshot_helpers

setup_file() {
	[ -e /dev/kvm ] || return 0
	GOOD="$BATS_FILE_TMPDIR/good"
	export GOOD
	timeout 60 "$GMVM" run --kernel "$TESTGUEST" --snapshot-on-request "$GOOD" \
		--then stop --cmdline "touch=16M snapshot verify" </dev/null >/dev/null 2>&1 || true
}

setup() {
	require_kvm
	[ -f "$GOOD/vmstate" ] || fail "setup_file could not make a snapshot"
	cp -r "$GOOD" "$BATS_TEST_TMPDIR/s"
	S="$BATS_TEST_TMPDIR/s"
}

# refused TEXT...: gmvm restore of $S exits 2, runs nothing, says TEXT.
refused() {
	run --separate-stderr restore --snapshot "$S" "${RESTORE_ARGS[@]}"
	assert_bad_usage "$@"
}

@test "a truncated vmstate is refused" {
	truncate -s 1000 "$S/vmstate"
	refused "$S/vmstate" 'not a valid device tree'
}

@test "a vmstate with one bit flipped fails its checksum" {
	local size off
	size=$(file_size "$S/vmstate")
	off=$((size - 2000))
	# Flip one bit inside the property data near the end (the cpu state).
	printf "$(printf '\\%03o' $(( $(od -An -tu1 -j$off -N1 "$S/vmstate") ^ 4 )))" |
		dd of="$S/vmstate" bs=1 seek=$off conv=notrunc status=none
	refused "$S/vmstate" 'checksum mismatch' 'damaged'
}

@test "a vmstate of another format version is refused" {
	require_command dtc device-tree-compiler
	dtc -I dtb -O dts -o "$BATS_TEST_TMPDIR/v.dts" "$S/vmstate" 2>/dev/null
	sed -i 's/version = <0x01>;/version = <0x02>;/' "$BATS_TEST_TMPDIR/v.dts"
	dtc -I dts -O dtb -o "$S/vmstate" "$BATS_TEST_TMPDIR/v.dts" 2>/dev/null
	refused "$S/vmstate" 'format version 2' 'version 1'
}

@test "a file that is not a vmstate at all is refused" {
	head -c 5000 /dev/urandom >"$S/vmstate"
	refused "$S/vmstate"
}

@test "a memory file shorter than its regions is refused" {
	truncate -s $((64 << 20)) "$S/memory"
	refused "$S/memory" 'shorter than the 134217728 bytes of its regions'
}

@test "a missing vmstate is refused" {
	rm "$S/vmstate"
	refused "$S/vmstate" 'No such file'
}

@test "a missing memory file is refused" {
	rm "$S/memory"
	refused "$S/memory" 'No such file'
}

@test "a snapshot directory that does not exist is refused" {
	S="$BATS_TEST_TMPDIR/nowhere"
	refused "$S" 'No such file'
}

@test "snapshot files that are FIFOs, links, directories or devices: status 2 naming the kind, no hang" {
	local f
	for f in vmstate memory; do
		rm "$S/$f"
		mkfifo "$S/$f"
		refused "$S/$f" 'is a FIFO, not a regular file'
		run --separate-stderr gmvm inspect "$S"
		assert_bad_usage "$S/$f" 'is a FIFO, not a regular file'
		rm "$S/$f"
		ln -s "$GOOD/$f" "$S/$f"
		refused "$S/$f" 'is a symbolic link, not a regular file'
		rm "$S/$f"
		mkdir "$S/$f"
		refused "$S/$f" 'is a directory, not a regular file'
		rmdir "$S/$f"
		ln /dev/null "$S/$f" 2>/dev/null || mknod "$S/$f" c 1 3
		refused "$S/$f" 'is a character device, not a regular file'
		rm "$S/$f"
		cp "$GOOD/$f" "$S/$f"
	done
	mkfifo "$S/workingset"
	RESTORE_ARGS=(--memory-backend anon --prefetch)
	refused "$S/workingset" 'is a FIFO, not a regular file'
}

@test "--record-working-set never follows a link planted where it writes" {
	require_offer anon lazy-missing
	echo precious >"$BATS_TEST_TMPDIR/victim"
	# gmvm keeps the shell's pid (exec): the temporary name is known.
	# shellcheck disable=SC2016
	run timeout --kill-after=10 60 sh -c 'ln -s "$1" "$2/workingset.partial-$$" &&
		ln -s "$1" "$2/workingset" &&
		exec "$3" restore --snapshot "$2" --memory-backend anon --record-working-set' \
		sh "$BATS_TEST_TMPDIR/victim" "$S" "$GMVM" </dev/null
	assert_success
	assert_line 'testguest: ok'
	assert_equal "$(cat "$BATS_TEST_TMPDIR/victim")" precious
	[ -f "$S/workingset" ] && [ ! -L "$S/workingset" ] || fail "no working set of its own written"
	assert_equal "$(find "$S" -name 'workingset.partial-*')" ''
}

@test "a vmstate of an old device-tree version is refused before libfdt's full check (which crashed on it)" {
	# Found by fuzz_vmstate: libfdt 1.6 dereferences NULL in
	# fdt_check_full() on this version-4 tree. The corpus file is the
	# fuzz input: a flag byte, then the vmstate.
	tail -c +2 "$BATS_TEST_DIRNAME/../fuzz/corpus/vmstate/regress-fdt-version-4" >"$S/vmstate"
	refused "$S/vmstate" 'device tree version 4' 'not 17 (16) as gmvm writes'
	run --separate-stderr gmvm inspect "$S"
	assert_bad_usage "$S/vmstate" 'device tree version 4'
}

@test "gmvm inspect refuses a damaged snapshot" {
	truncate -s 100 "$S/vmstate"
	run --separate-stderr gmvm inspect "$S"
	assert_bad_usage "$S/vmstate"
}

@test "--prefetch without a recorded working set is refused" {
	RESTORE_ARGS=(--memory-backend anon --prefetch)
	refused "$S/workingset does not exist" '--record-working-set'
}

@test "a damaged working set is refused" {
	printf 'GMVMWS01garbage' >"$S/workingset"
	RESTORE_ARGS=(--memory-backend anon --prefetch)
	refused "working set $S/workingset"
}

@test "--prefetch with --restore eager contradicts itself" {
	RESTORE_ARGS=(--restore eager --prefetch)
	refused '--prefetch needs a lazy restore'
}

@test "an explicit lazy restore the host cannot honour is refused, saying what works" {
	local b mode found=
	for b in $(backends_offering boot); do
		for mode in lazy-missing lazy-minor; do
			offers "$b" "$mode" || {
				found="$b ${mode#lazy-}"
				break 2
			}
		done
	done
	[ -n "$found" ] || skip "this host offers every lazy restore on every backend"
	RESTORE_ARGS=(--restore lazy --memory-backend "${found% *}" --uffd-mode "${found#* }")
	refused 'a lazy restore is not possible' '--restore eager works'
}

@test "minor faults on anonymous memory are refused" {
	RESTORE_ARGS=(--memory-backend anon --uffd-mode minor)
	if caps_jq .userfaultfd.available; then
		refused 'a lazy restore is not possible' 'MINOR'
	else
		refused 'a lazy restore is not possible' 'userfaultfd'
	fi
}

@test "restore options: unknown mode, backend and fault-around values" {
	RESTORE_ARGS=(--restore sometimes)
	refused "--restore: unknown mode 'sometimes'"
	RESTORE_ARGS=(--memory-backend disk)
	refused "--memory-backend: unknown backend 'disk'"
	RESTORE_ARGS=(--fault-around 3)
	refused '--fault-around: 3 is not a power of two'
	RESTORE_ARGS=(--fault-around 1024)
	refused '--fault-around'
}

@test "restore without --snapshot is bad usage" {
	run --separate-stderr gmvm restore
	assert_bad_usage '--snapshot is required'
}

# restore_waiting [RESTORE ARG]...: a snapshot in $S of a guest that waits
# for a byte on its serial port before it reads its memory, restored in the
# background; the byte goes to fd 7 (not 3: bats owns it).
restore_waiting() {
	rm -rf "$S"
	make_snapshot "$S" --cmdline "touch=32M snapshot echo=1 verify"
	mkfifo "$BATS_TEST_TMPDIR/in"
	GMVM_STDIN="$BATS_TEST_TMPDIR/in" gmvm_background "$BATS_TEST_TMPDIR/out" \
		"$BATS_TEST_TMPDIR/err" restore --snapshot "$S" "$@"
	exec 7>"$BATS_TEST_TMPDIR/in"
}

@test "a memory file that breaks during a lazy restore: status 1 and a message, no hang" {
	require_offer anon lazy-missing
	# The restored guest waits for a byte on its serial port before it
	# reads its memory; the file is emptied before that byte is sent.
	restore_waiting --memory-backend anon --no-background
	wait_for_line "$BATS_TEST_TMPDIR/out" '^echo: waiting'
	truncate -s 0 "$S/memory"
	printf x >&7
	local status=0
	wait "$GMVM_PID" || status=$?
	exec 7>&-
	assert_equal "$status" 1
	grep -q 'lazy restore: UFFDIO_COPY of guest page' "$BATS_TEST_TMPDIR/err" ||
		fail "no message about the memory file: $(cat "$BATS_TEST_TMPDIR/err")"
	grep -q 'cannot be read' "$BATS_TEST_TMPDIR/err"
}

@test "a memory file that shrinks under a minor-fault restore: status 1 and a message, no SIGBUS, no partial snapshot" {
	require_offer memfd lazy-minor
	# Minor mode copies the snapshot's pages into RAM's file as the guest
	# waits; a snapshot of it asks for all of them at once.
	restore_waiting --memory-backend memfd --uffd-mode minor --no-background \
		--control "$BATS_TEST_TMPDIR/ctl"
	wait_for_line "$BATS_TEST_TMPDIR/out" '^echo: waiting'
	truncate -s 0 "$S/memory"
	run gmvm snapshot --control "$BATS_TEST_TMPDIR/ctl" "$BATS_TEST_TMPDIR/s2"
	assert_failure
	local status=0
	wait "$GMVM_PID" || status=$?
	exec 7>&-
	assert_equal "$status" 1
	grep -q "lazy restore: copying guest pages .* failed: .*(their source file cannot be read)" \
		"$BATS_TEST_TMPDIR/err" ||
		fail "no message about the memory file: $(cat "$BATS_TEST_TMPDIR/err")"
	[ ! -e "$BATS_TEST_TMPDIR/s2" ] || fail "a snapshot was written"
	assert_equal "$(find "$BATS_TEST_TMPDIR" -maxdepth 1 -name 's2.partial-*')" ''
}
