# Helpers for the snapshot and restore tests (load after helpers).

# make_snapshot DIR [RUN ARG]...: boot the test guest with the run options
# given (default: 128 MiB, "touch=64M snapshot verify=3") and let it ask
# for a snapshot into DIR; gmvm stops right after writing it.
make_snapshot() {
	local dir=$1
	shift
	(($# > 0)) || set -- --cmdline "touch=64M snapshot verify=3"
	gmvm run --kernel "$TESTGUEST" --snapshot-on-request "$dir" --then stop "$@" ||
		fail "could not make a snapshot in $dir (status $?)"
	[ -f "$dir/vmstate" ] && [ -f "$dir/memory" ] ||
		fail "no vmstate and memory in $dir"
}

# restore [ARG]...: gmvm restore with a time limit.
restore() {
	gmvm restore "$@"
}

# assert_resumed_ok PASSES: the restored guest carried on after its snapshot
# request, verified the pattern PASSES times and exited 0.
assert_resumed_ok() {
	assert_success
	assert_line 'snapshot: resumed'
	for ((p = 1; p <= $1; p++)); do
		assert_line --regexp "^verify: pass $p: 0 bad words, checksum 0x[0-9a-f]+\$"
	done
	refute_line --partial '(differs)'
	assert_line 'testguest: ok'
}

# jq_stats FILE FILTER: a value from a --stats file.
jq_stats() {
	jq -er "$2" "$1" || fail "no $2 in $1: $(cat "$1")"
}
