#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/boot.sh: gmvm against QEMU microvm, side by side, on the test guest.
#
#   1. boot-to-exit time (exec -> process exit) at 128 MiB and 4 GiB of RAM;
#   2. peak RSS (VmHWM) of the monitor process with an idle 128 MiB guest,
#      for every gmvm memory backend and for QEMU, with a breakdown of where
#      the resident pages are (from /proc/PID/smaps);
#   3. whether gmvm meets its goals.
#
# What the host cannot run (gmvm caps --json: a backend it lacks, such as
# gmem without guest_memfd, or lazy restore without userfaultfd) is left
# out, with a line saying why, and so are the goals that depend only on it.
#
# Usage: bench/boot.sh [-n RUNS] [-w SECONDS] [--with-tcg] [--async-teardown]
#                      [--strict] [BUILD_DIR]
# See bench/README.md. Needs bash; uses only what scripts/install-deps
# installs (QEMU, procps, coreutils, mawk or gawk, jq).

# shellcheck disable=SC2317 # functions called from traps and indirectly
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh" || exit 2

usage() {
	cat <<EOF
Usage: $prog [OPTION]... [BUILD_DIR]
Benchmark gmvm against QEMU microvm with the test guest.

  -n, --runs N        timed runs per configuration (default \$BENCH_RUNS or 20;
                      at least 10)
  -w, --wait SECONDS  how long the idle guest runs before its RSS is read
                      (default \$BENCH_RSS_WAIT or 1)
      --with-tcg      also time QEMU with -accel tcg (extra rows)
      --async-teardown
                      also time gmvm --async-teardown against QEMU
                      -async-teardown (extra rows)
      --strict        exit with status 3 when a goal is missed
  -h, --help          show this help
EOF
	usage_end "Other environment: QEMU (QEMU binary, default qemu-system-x86_64),
GMVM_BACKEND (backend for the boot-time runs, default: gmvm's default),
GMVM (the gmvm to run instead of BUILD_DIR/gmvm, e.g. a wrapper).
What this host cannot run (from gmvm caps --json) is left out, with a line
saying why."
}

runs=${BENCH_RUNS:-20}
wait_s=${BENCH_RSS_WAIT:-1}
with_tcg=0
with_async=0
declare -A options=(
	[-n]=runs [--runs]=runs
	[-w]=wait_s [--wait]=wait_s
	[--with-tcg]=with_tcg=1
	[--async-teardown]=with_async=1
)
parse_args "$@"
check_runs 10
case $wait_s in
'' | *[!0-9.]* | *.*.*) usage_die "--wait: '$wait_s' is not a number of seconds" ;;
esac

# ---------------------------------------------------------------- set-up

DIE_STATUS=2
find_build
need_qemu
need_tools awk sort sed jq
init_timer
DIE_STATUS=1

make_tmp "${TMPDIR:-/tmp}" gmvm-bench

# ---------------------------------------------------------------- commands

qemu_accel=(-enable-kvm)
qemu_accel_label=KVM

# gmvm_cmd SIZE CMDLINE [BACKEND] -> CMD
gmvm_cmd() {
	CMD=("$gmvm" run --kernel "$guest" --cmdline "$2" --memory "$1")
	if [ -n "${3:-}" ]; then
		CMD+=(--memory-backend "$3")
	fi
}
# qemu_cmd SIZE CMDLINE ACCEL... -> CMD
qemu_cmd() {
	local size=$1 cmdline=$2
	shift 2
	# shellcheck disable=SC2054 # the commas are QEMU's, inside one argument
	CMD=("$qemu" -M microvm "$@" -cpu qemu64 -m "$size"
		-nodefaults -no-user-config -nographic -serial none
		-kernel "$guest" -append "$cmdline"
		-device isa-debug-exit,iobase=0xf4,iosize=4)
}

# -------------------------------------------------------------- probes

gmvm_info
read_caps
qemu_version=$("$qemu" --version 2>/dev/null | head -n 1)
boot_backend=${GMVM_BACKEND:-}

# The boot-time rows of gmvm need its backend for them to boot here (gmvm's
# default always does; GMVM_BACKEND may name one the host does not offer).
boot_gmvm=1
boot_left_out=
if ! offers "${boot_backend:-$default_backend}" boot; then
	boot_gmvm=0
	boot_left_out=$(left_out "gmvm boot-time rows (backend ${boot_backend:-$default_backend})" \
		"$(why_not "${boot_backend:-$default_backend}" boot)")
fi

# gmvm must run the test guest at all (with the default backend when the
# boot-time rows are left out: the RSS rows still need gmvm).
gmvm_cmd 128M exit=5 "$([ "$boot_gmvm" -eq 0 ] || echo "$boot_backend")"
probe_gmvm "${CMD[@]}"

# QEMU: try KVM by running it; under QEMU exit=5 gives (5 << 1) | 1 = 11.
qemu_cmd 128M exit=5 "${qemu_accel[@]}"
timed "${CMD[@]}"
if [ "$rc" -ne 11 ] || ! qemu_stderr_ok "$tmp/err"; then
	echo "$prog: WARNING: QEMU microvm with -enable-kvm does not work here (exit status $rc, expected 11):" >&2
	show_err
	echo "$prog: WARNING: falling back to QEMU with -accel tcg; its rows are labelled (TCG)" >&2
	cp "$tmp/err" "$tmp/kvm-probe.err"
	qemu_accel=(-accel tcg)
	qemu_accel_label=TCG
	with_tcg=0
	qemu_cmd 128M exit=5 "${qemu_accel[@]}"
	timed "${CMD[@]}"
	if [ "$rc" -ne 11 ] || ! qemu_stderr_ok "$tmp/err"; then
		echo "$prog: error: QEMU microvm does not run the test guest with TCG either (exit status $rc, expected 11)" >&2
		echo "  command: ${CMD[*]}" >&2
		show_err
		exit 1
	fi
fi

# ------------------------------------------------------ boot-to-exit time

sizes=(128M 4G)
configs=()
for s in "${sizes[@]}"; do
	[ "$boot_gmvm" -eq 0 ] || configs+=("gmvm:$s")
	configs+=("qemu:$s")
	[ "$with_tcg" -eq 0 ] || configs+=("tcg:$s")
	if [ "$with_async" -eq 1 ]; then
		[ "$boot_gmvm" -eq 0 ] || configs+=("gmvm-async:$s")
		configs+=("qemu-async:$s")
	fi
done

# config_cmd CONFIG -> CMD, expect, label
config_cmd() {
	local kind=${1%%:*} size=${1#*:}
	case $kind in
	gmvm)
		gmvm_cmd "$size" exit=0 "$boot_backend"
		expect=0
		label="gmvm $size"
		;;
	qemu)
		qemu_cmd "$size" exit=0 "${qemu_accel[@]}"
		expect=1
		label="QEMU $size"
		[ "$qemu_accel_label" = KVM ] || label="QEMU $size (TCG)"
		;;
	tcg)
		qemu_cmd "$size" exit=0 -accel tcg
		expect=1
		label="QEMU $size (TCG)"
		;;
	gmvm-async)
		gmvm_cmd "$size" exit=0 "$boot_backend"
		CMD+=(--async-teardown)
		expect=0
		label="gmvm $size async"
		;;
	qemu-async)
		qemu_cmd "$size" exit=0 "${qemu_accel[@]}" -async-teardown
		expect=1
		label="QEMU $size async"
		;;
	esac
}

# run_config CONFIG ITERATION: one run, checked; appends us to $tmp/CONFIG.
run_config() {
	config_cmd "$1"
	timed "${CMD[@]}"
	if [ "$rc" -ne "$expect" ]; then
		fail "$label, run $2: exit status $rc, expected $expect"
	elif [ "${1%%:*}" != gmvm ] && [ "${1%%:*}" != gmvm-async ] &&
		! qemu_stderr_ok "$tmp/err"; then
		fail "$label, run $2: exit status $rc as expected, but QEMU reported an error"
	fi
	[ "$2" = warm-up ] || echo "$us" >>"$tmp/$1"
}

echo "gmvm boot benchmark"
echo "  host:   $(host_desc)"
echo "  gmvm:   $gmvm ($gmvm_version), backend for boot runs: ${boot_backend:-$default_backend}"
echo "  QEMU:   $qemu_version, microvm, accel $qemu_accel_label"
echo "  guest:  $guest"
echo "  timer:  $timer; $runs runs per configuration, interleaved, after 1 warm-up run each"
print_load
echo

printf 'timing'
for c in "${configs[@]}"; do
	run_config "$c" warm-up
done
for i in $(seq 1 "$runs"); do
	for c in "${configs[@]}"; do
		run_config "$c" "$i"
	done
	printf '.'
done
time_floor
echo " done"
echo

declare -A med
echo "Boot to exit (exec -> process exit), milliseconds, $runs runs each"
printf '  %-22s %9s %9s %9s %11s\n' configuration median min max QEMU/gmvm
for c in "${configs[@]}"; do
	config_cmd "$c"
	read -r m lo hi < <(stats "$tmp/$c")
	med[$c]=$m
	ratio=
	# QEMU rows against gmvm's at the same size (async against async).
	case ${c%%:*} in
	qemu | tcg) ref=gmvm ;;
	qemu-async) ref="gmvm-async" ;;
	*) ref= ;;
	esac
	if [ -n "$ref" ] && [ -n "${med[$ref:${c#*:}]:-}" ]; then
		ratio=$(awk -v q="$m" -v g="${med[$ref:${c#*:}]}" 'BEGIN { printf "%.2fx", q / g }')
	fi
	printf '  %-22s %9s %9s %9s %11s\n' "$label" "$(ms "$m")" "$(ms "$lo")" "$(ms "$hi")" "$ratio"
done
read -r m lo hi < <(stats "$tmp/floor")
printf '  %-22s %9s %9s %9s\n' "(/bin/true: floor)" "$(ms "$m")" "$(ms "$lo")" "$(ms "$hi")"
echo "  exit statuses checked on every run: gmvm 0, QEMU 1 ((0 << 1) | 1)"
[ -z "$boot_left_out" ] || echo "$boot_left_out"
echo

# ------------------------------------------------------------ idle RSS

# classify PID EXE KERNEL RAMBYTES: "category kB" lines from smaps (Rss),
# plus "pss kB".
classify() {
	awk -v exe="$2" -v kern="$3" -v ram="$4" '
	function hex(s,   i, c, n) {
		n = 0
		for (i = 1; i <= length(s); i++) {
			c = index("0123456789abcdef", substr(s, i, 1)) - 1
			n = n * 16 + c
		}
		return n
	}
	/^[0-9a-f]+-[0-9a-f]+ / {
		split($1, r, "-")
		size = hex(r[2]) - hex(r[1])
		path = ""
		for (i = 6; i <= NF; i++) path = path (i > 6 ? " " : "") $i
		if (path == exe) cat = "binary"
		else if (path ~ /\/libc[.-][^\/]*so/) cat = "libc"
		else if (path ~ /\/ld-linux[^\/]*\.so/) cat = "ld.so"
		else if (path ~ /\.so(\.[0-9.]+)?$/) cat = "other_libs"
		else if (path ~ /kvm-gmem/ || path ~ /^\/memfd:/ || (path == "" && size == ram)) cat = "guest_ram"
		else if (path == kern) cat = "kernel_file"
		else if (path == "[heap]") cat = "heap"
		else if (path == "[stack]") cat = "stack"
		else if (path == "") cat = "other_anon"
		else if (path ~ /^\[/ || path ~ /^anon_inode:/) cat = "kernel_maps"
		else cat = "other_files"
		next
	}
	$1 == "Rss:" { kb[cat] += $2 }
	$1 == "Pss:" { pss += $2 }
	END {
		for (c in kb) print c, kb[c]
		print "pss", pss
	}' "/proc/$1/smaps"
}

cats=(binary libc ld.so other_libs guest_ram kernel_file heap stack other_anon kernel_maps other_files)
declare -A catname=(
	[binary]="monitor binary"
	[libc]="libc.so.6"
	[ld.so]="ld-linux.so (loader)"
	[other_libs]="other shared libs"
	[guest_ram]="guest RAM (mapped)"
	[kernel_file]="guest kernel file"
	[heap]="[heap]"
	[stack]="main [stack]"
	[other_anon]="other anon (thr. stacks, .bss)"
	[kernel_maps]="kvm_run, vdso"
	[other_files]="other files"
)
declare -A rss
rss_cols=()
rss_fail=0
ram_bytes=$((128 * 1024 * 1024))

# measure_rss KEY LABEL EXPECTED_STATUS COMMAND...
measure_rss() {
	local key=$1 label=$2 expect_st=$3 exe comm st k v
	shift 3
	rss_cols+=("$key")
	rss[$key,label]=$label
	"$@" </dev/null >/dev/null 2>"$tmp/err" &
	bgpid=$!
	sleep "$wait_s"
	if ! kill -0 "$bgpid" 2>/dev/null; then
		wait "$bgpid"
		st=$?
		bgpid=
		echo "$prog: $label: the idle guest exited early with status $st:" >&2
		show_err
		rss[$key,note]="n/a: exited with $st"
		rss_fail=1
		return
	fi
	exe=$(readlink "/proc/$bgpid/exe")
	comm=$(cat "/proc/$bgpid/comm")
	case $exe in
	"$gmvm" | "$gmvm_exe" | */qemu-system-*) ;;
	*) die "$label: pid $bgpid is '$comm' ($exe), not the monitor; cannot read its RSS" ;;
	esac
	while read -r k v _; do
		case $k in
		VmHWM: | VmRSS: | RssAnon: | RssFile: | RssShmem: | Threads:) rss[$key,${k%:}]=$v ;;
		esac
	done <"/proc/$bgpid/status"
	while read -r k v; do
		rss[$key,$k]=$v
	done < <(classify "$bgpid" "$exe" "$guest" "$ram_bytes")
	kill -TERM "$bgpid"
	for _ in $(seq 50); do
		kill -0 "$bgpid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$bgpid" 2>/dev/null; then
		echo "$prog: $label: still running 5 s after SIGTERM; killing it" >&2
		kill -KILL "$bgpid"
		rss_fail=1
	fi
	wait "$bgpid"
	st=$?
	bgpid=
	if [ "$st" -ne "$expect_st" ]; then
		echo "$prog: $label: exited with $st after SIGTERM, expected $expect_st:" >&2
		show_err
		rss_fail=1
	fi
}

# A backend the host does not offer (gmvm caps) is left out, not run.
rss_left_out=()
echo "measuring idle RSS (guest cmdline 'spin', 128 MiB, read after ${wait_s} s)..."
for b in gmem memfd anon; do
	if ! offers "$b" boot; then
		rss[$b,left_out]=$(why_not "$b" boot)
		rss_left_out+=("$(left_out "gmvm $b column" "${rss[$b,left_out]}")")
		continue
	fi
	gmvm_cmd 128M spin "$b"
	measure_rss "$b" "gmvm $b" 143 "${CMD[@]}"
done
qemu_cmd 128M spin "${qemu_accel[@]}"
measure_rss qemu "QEMU ($qemu_accel_label)" 0 "${CMD[@]}"
echo

kib() {
	printf '%s' "${1:-0}"
}
mib() {
	[ -n "${1:-}" ] || { printf '%s' '-'; return; }
	awk -v k="$1" 'BEGIN { printf "%.2f", k / 1024 }'
}

echo "Peak RSS of the monitor process, idle 128 MiB guest (KiB unless marked)"
printf '  %-32s' ""
for c in "${rss_cols[@]}"; do printf ' %12s' "${rss[$c,label]}"; done
echo
row() { # row TITLE FIELD [FORMAT-FUNCTION]
	local c f=${3:-kib}
	printf '  %-32s' "$1"
	for c in "${rss_cols[@]}"; do
		if [ -n "${rss[$c,note]:-}" ]; then
			printf ' %12s' "n/a"
		else
			printf ' %12s' "$($f "${rss[$c,$2]:-}")"
		fi
	done
	echo
}
row "VmHWM (peak RSS), MiB" VmHWM mib
row "VmHWM (peak RSS)" VmHWM
row "VmRSS (now)" VmRSS
row "  RssAnon" RssAnon
row "  RssFile" RssFile
row "  RssShmem" RssShmem
row "Pss (shared pages split)" pss
row "threads" Threads
echo "  breakdown of VmRSS by mapping (smaps Rss):"
for k in "${cats[@]}"; do
	row "    ${catname[$k]}" "$k"
done
for c in "${rss_cols[@]}"; do
	[ -z "${rss[$c,note]:-}" ] || echo "  ${rss[$c,label]}: ${rss[$c,note]}"
done
[ ${#rss_left_out[@]} -eq 0 ] || printf '%s\n' "${rss_left_out[@]}"
echo

# ----------------------------------------------------------------- goals

echo "Goals"
# Without gmvm's boot-time rows, the goals about them are left out.
why=
[ "$boot_gmvm" -eq 1 ] || why=$(why_not "${boot_backend:-$default_backend}" boot)
for s in "${sizes[@]}"; do
	if [ "$boot_gmvm" -eq 0 ]; then
		goal_left_out "boot time $s: gmvm <= 1/10 of QEMU ($qemu_accel_label)" "$why"
		continue
	fi
	g=${med[gmvm:$s]} q=${med[qemu:$s]}
	v=$(awk -v g="$g" -v q="$q" 'BEGIN { print (g * 10 <= q) ? "PASS" : "FAIL" }')
	goal "$v" "$(printf 'boot time %s: gmvm %s ms <= 1/10 of QEMU (%s) %s ms, i.e. <= %s ms (QEMU/gmvm = %s)' \
		"$s" "$(ms "$g")" "$qemu_accel_label" "$(ms "$q")" "$(ms $((q / 10)))" \
		"$(awk -v q="$q" -v g="$g" 'BEGIN { printf "%.2fx", q / g }')")"
done
if [ "$boot_gmvm" -eq 0 ]; then
	goal_left_out "flat in RAM size: gmvm ${sizes[1]} median within +-20% of ${sizes[0]}" "$why"
else
	g1=${med[gmvm:${sizes[0]}]} g2=${med[gmvm:${sizes[1]}]}
	q1=${med[qemu:${sizes[0]}]} q2=${med[qemu:${sizes[1]}]}
	v=$(awk -v a="$g1" -v b="$g2" 'BEGIN { d = (b - a) / a; if (d < 0) d = -d; print (d <= 0.20) ? "PASS" : "FAIL" }')
	goal "$v" "$(awk -v a="$g1" -v b="$g2" -v qa="$q1" -v qb="$q2" -v s1="${sizes[0]}" -v s2="${sizes[1]}" 'BEGIN {
		printf "flat in RAM size: gmvm %s median %+.1f%% vs %s (limit +-20%%); QEMU: %+.1f%%",
			s2, (b - a) * 100 / a, s1, (qb - qa) * 100 / qa }')"
fi
# The goal is about gmvm's default backend, which the host always offers.
d=$default_backend
hwm=${rss[$d,VmHWM]:-}
if [ -n "${rss[$d,left_out]:-}" ]; then
	goal_left_out "peak RSS: gmvm ($d, idle 128 MiB guest) <= 2 MiB" "${rss[$d,left_out]}"
elif [ -z "$hwm" ]; then
	goal FAIL "peak RSS: not measured (gmvm $d did not run)"
else
	v=FAIL
	[ "$hwm" -le 2048 ] && v=PASS
	others=
	for b in gmem memfd anon; do
		[ "$b" != "$d" ] || continue
		if [ -n "${rss[$b,left_out]:-}" ]; then
			others="$others, $b left out"
		else
			others="$others, $b $(mib "${rss[$b,VmHWM]:-}")"
		fi
	done
	goal "$v" "peak RSS: gmvm ($d, idle 128 MiB guest) $hwm KiB = $(mib "$hwm") MiB <= 2 MiB (other backends, MiB:${others#,})"
fi
echo

if [ "$rss_fail" -ne 0 ]; then
	echo "$prog: some RSS measurements failed (see above)" >&2
	exit 1
fi
goals_exit
