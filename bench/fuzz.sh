#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/fuzz.sh: how fast gmvm fuzz runs guest code, against the ordinary
# ways, in one run:
#
#   1. execs/s of afl-fuzz driving gmvm fuzz on the test guest's record
#      parser (tests/guest/fuzz_target.c), from afl-fuzz's fuzzer_stats;
#   2. execs/s of gmvm fuzz --count on the same target (no fuzzer around);
#   3. reset time p50/p99 against the pages a run dirties (1, 16, 256, 4096
#      canvas pages, the harness's !P input), from --count;
#   4. peers: (a) the same parser built natively with afl-cc and fuzzed by
#      afl-fuzz through its own forkserver (a fork per run); (b) one gmvm
#      process per input, each restoring the snapshot (gmvm fuzz --replay);
#   5. whether gmvm meets its goals.
#
# Usage: bench/fuzz.sh [-s SECONDS] [-n RUNS] [--strict] [BUILD_DIR]
# See bench/README.md. Needs bash, jq, afl++ (afl-fuzz and afl-cc; without
# them the AFL++ rows are left out, saying so) and coreutils.

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh" || exit 2

usage() {
	cat <<EOF
Usage: $prog [OPTION]... [BUILD_DIR]
Time gmvm fuzz: under afl-fuzz, alone (--count), its resets against dirty
pages, and against a native afl-fuzz target and a restore per input.

  -s, --seconds N     how long each afl-fuzz run lasts (default 20)
  -n, --runs N        gmvm fuzz --count runs per row (default 20000)
      --strict        exit with status 3 when a goal is missed
  -h, --help          show this help
EOF
	usage_end "GMVM, when set, is the gmvm run instead of BUILD_DIR's."
}

seconds=20
runs=20000
declare -A options=([-s]=seconds [--seconds]=seconds [-n]=runs [--runs]=runs)
parse_args "$@"
check_runs 100
case $seconds in '' | *[!0-9]* | 0) usage_die "--seconds: '$seconds' is not a positive number" ;; esac
find_build fuzz
need_tools jq
init_timer
make_tmp "${TMPDIR:-/tmp}" gmvm-bench-fuzz
gmvm_info

afl_ok=1 afl_why=
for t in afl-fuzz afl-cc; do
	command -v "$t" >/dev/null 2>&1 || { afl_ok=0 afl_why="$t is not installed (Debian package afl++: scripts/install-deps)"; }
done

echo "gmvm fuzz benchmark: $gmvm_version"
echo "  host:   $(host_desc)"
print_load
echo "  timer:  $timer; afl-fuzz runs of $seconds s; --count runs of $runs"
[ "$afl_ok" -eq 1 ] || left_out "AFL++ rows (gmvm under afl-fuzz, the native target)" "$afl_why"
echo

# --- the snapshots: the parser, and the harness for dirty pages
CMD=("$gmvm" fuzz --snapshot "$tmp/target" -q -- --kernel "$guest" --cmdline fuzz --memory 32M)
timed "${CMD[@]}"
[ "$rc" -eq 0 ] || fail "the target's snapshot was not made (exit $rc)"
CMD=("$gmvm" fuzz --snapshot "$tmp/harness" -q -- --kernel "$guest" --cmdline fuzz=harness --memory 32M)
timed "${CMD[@]}"
[ "$rc" -eq 0 ] || fail "the harness's snapshot was not made (exit $rc)"
mkdir "$tmp/seeds" "$tmp/inputs"
printf 'hello' >"$tmp/seeds/hello"
printf 'GMVMS\004abcd' >"$tmp/seeds/sum"
cp "$tmp/seeds/"* "$tmp/inputs/"

# count_row DIR INPUTS_DIR RUNS: gmvm fuzz --count into $tmp/count.
count_row() {
	CMD=("$gmvm" fuzz --snapshot "$1" --count "$3" --inputs "$2" -q)
	"${CMD[@]}" >"$tmp/count" 2>"$tmp/err" </dev/null || fail "gmvm fuzz --count failed"
	grep -q ", crashes 0, hangs 0\$" "$tmp/count" || fail "unexpected crashes or hangs" "$(cat "$tmp/count")"
}
count_field() { sed -n "$1" "$tmp/count"; }

# afl_row OUT_DIR TARGET...: afl-fuzz for $seconds on the seeds; execs/s.
afl_row() {
	local out=$1
	shift
	CMD=(env AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
	     AFL_NO_AFFINITY=1 afl-fuzz -V "$seconds" -i "$tmp/seeds" -o "$out" -- "$@")
	"${CMD[@]}" >"$tmp/afl.log" 2>"$tmp/err" </dev/null ||
		fail "afl-fuzz failed" "$(tail -n 5 "$tmp/afl.log")"
	sed -n 's/^execs_per_sec *: *//p' "$out/default/fuzzer_stats"
}

# 1, 4a: afl-fuzz on gmvm and on the native build
afl_gmvm=- afl_native=-
if [ "$afl_ok" -eq 1 ]; then
	afl_gmvm=$(afl_row "$tmp/afl-gmvm" "$gmvm" fuzz --snapshot "$tmp/target")
	CMD=(afl-cc -O2 -I"$src/tests/guest" -o "$tmp/native" "$src/bench/fuzz_native.c"
	     "$src/tests/guest/fuzz_target.c")
	"${CMD[@]}" >/dev/null 2>"$tmp/err" || fail "afl-cc could not build the native target"
	afl_native=$(afl_row "$tmp/afl-native" "$tmp/native")
fi

# 2: --count
count_row "$tmp/target" "$tmp/inputs" "$runs"
count_eps=$(count_field 's/^runs .* s: \([0-9]*\) execs\/s$/\1/p')

# 3: reset time against dirty pages
declare -A reset_p50 reset_p99 reset_pages
for n in 1 16 256 4096; do
	rm -rf "$tmp/p"
	mkdir "$tmp/p"
	printf '!P%b%b' "\\$(printf '%03o' $((n & 255)))" "\\$(printf '%03o' $((n >> 8)))" >"$tmp/p/in"
	r=$runs
	[ "$n" -lt 256 ] || r=$((runs / 20 > 100 ? runs / 20 : 100))
	count_row "$tmp/harness" "$tmp/p" "$r"
	reset_p50[$n]=$(count_field 's/^reset us: p50 \([0-9.]*\),.*/\1/p')
	reset_p99[$n]=$(count_field 's/.* p99 \([0-9.]*\),.*/\1/p')
	reset_pages[$n]=$(count_field 's/^dirty pages per run: mean \([0-9.]*\),.*/\1/p')
done

# 4b: a process and a restore per input
: >"$tmp/replay"
for i in $(seq 1 20); do
	CMD=("$gmvm" fuzz --snapshot "$tmp/target" --replay "$tmp/inputs/hello" -q)
	timed "${CMD[@]}"
	[ "$rc" -eq 0 ] || fail "gmvm fuzz --replay exited with $rc"
	echo "$us" >>"$tmp/replay"
done
replay_us=$(median "$tmp/replay")
replay_eps=$(awk -v u="$replay_us" 'BEGIN { printf "%.0f", 1e6 / u }')

printf '  %-58s %12s\n' "execs/s" ""
printf '  %-58s %12s\n' "gmvm fuzz under afl-fuzz (forkserver, shared-memory inputs)" "${afl_gmvm%.*}"
printf '  %-58s %12s\n' "gmvm fuzz --count (no fuzzer)" "$count_eps"
printf '  %-58s %12s\n' "native target under afl-fuzz (a fork per run)" "${afl_native%.*}"
printf '  %-58s %12s\n' "a gmvm process restoring the snapshot per input (--replay)" "$replay_eps"
echo
printf '  %-22s %16s %10s %10s\n' "reset after !P N" "pages put back" "p50 us" "p99 us"
for n in 1 16 256 4096; do
	printf '  %-22s %16s %10s %10s\n' "N = $n" "${reset_pages[$n]}" "${reset_p50[$n]}" "${reset_p99[$n]}"
done
echo "  (pages put back: the canvas pages written, the stack and data pages the"
echo "   run wrote, and the input buffer's; gmvm's vCPU, APIC, PIT and clock"
echo "   reset is in every row)"
echo

echo "Goals:"
# ge A B: A >= B (decimals allowed)
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
if [ "$afl_ok" -eq 1 ]; then
	ge "$afl_gmvm" 10000 && s=PASS || s=FAIL
	goal $s "execs/s under afl-fuzz >= 10000: ${afl_gmvm%.*}"
	ratio=$(awk -v a="$afl_gmvm" -v b="$afl_native" 'BEGIN { printf "%.2f", a / b }')
	ge "$ratio" 1 && s=PASS || s=FAIL
	goal $s "execs/s under afl-fuzz >= the native forkserver's (1x): ${ratio}x"
else
	goal_left_out "execs/s under afl-fuzz >= 10000, and >= the native forkserver's" "$afl_why"
fi
worst=$(printf '%s\n' "${reset_p50[1]}" "${reset_p50[16]}" | sort -n | tail -n 1)
ge 20 "$worst" && s=PASS || s=FAIL
goal $s "reset p50 <= 20 us with <= 16 dirty pages: $worst us"
ratio=$(awk -v a="$count_eps" -v b="$replay_eps" 'BEGIN { printf "%.0f", a / b }')
ge "$ratio" 1000 && s=PASS || s=FAIL
goal $s "execs/s (--count) >= 1000x a restore per input: ${ratio}x"
goals_exit
