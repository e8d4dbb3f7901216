#!/usr/bin/env bats
# gmvm fuzz driven by the real afl-fuzz (Debian's afl++): it must find the
# test guest's planted bug (tests/guest/fuzz_target.c) and save it, and
# gmvm fuzz --replay must reproduce it. `make check-afl`, not make check:
# the search takes seconds to a minute or two.

load ../bats/helpers

setup() {
	require_kvm
	require_command afl-fuzz afl++
}

@test "afl-fuzz -i SEEDS -o OUT -- gmvm fuzz --snapshot DIR finds the planted overrun; --replay reproduces it" {
	local d=$BATS_TEST_TMPDIR crash
	timeout 60 "$GMVM" fuzz --snapshot "$d/snap" -q -- --kernel "$TESTGUEST" \
		--cmdline fuzz --memory 32M
	mkdir "$d/seeds"
	printf 'hello' >"$d/seeds/hello"
	# Stop at the first crash, or after 180 s without one.
	run env AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_BENCH_UNTIL_CRASH=1 \
		AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 \
		timeout 240 afl-fuzz -V 180 -i "$d/seeds" -o "$d/out" -- \
		"$GMVM" fuzz --snapshot "$d/snap"
	assert_success
	grep -E '^(execs_done|execs_per_sec|stability|saved_crashes|run_time) ' \
		"$d/out/default/fuzzer_stats" >&3
	crash=$(find "$d/out/default/crashes" -name 'id:*' | head -n 1)
	[ -n "$crash" ] || fail "afl-fuzz saved no crash: $(tail -n 5 <<<"$output")"
	run --separate-stderr "$GMVM" fuzz --snapshot "$d/snap" --replay "$crash"
	assert_failure 1
	assert_line "crash: the guest reported a crash, code 0xb0f"
}
