#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/uffd.sh: how fast lazily restored memory comes in, and how fast a
# snapshot goes out.
#
#   1. the raw UFFDIO_COPY rate of this host (bench/uffd_copy_rate.c, built
#      here with cc -O2): a thread faulting the pages of an anonymous and of
#      a memfd mapping registered for MISSING faults, another serving them
#      with UFFDIO_COPY, B pages per fault;
#   2. gmvm's fault-service rate: a 1 GiB-touched snapshot restored lazily
#      with --no-background, its guest re-checking every touched page
#      (verify), for --fault-around 1, 4, 16, 64 and 256; pages copied over
#      the time the faults added (the run minus the same guest's run after
#      an eager restore), against the raw rate at the same batch size;
#   3. the snapshot write rate of 'gmvm run --snapshot-on-request' with 256
#      MiB and 1 GiB touched: data written (du of the sparse memory file)
#      over the time it took;
#   4. whether gmvm meets its goal (fault service >= 80 % of raw).
#
# What the host cannot run (gmvm caps --json: no userfaultfd, a backend
# userfaultfd cannot register) is left out, with a line saying why.
#
# Usage: bench/uffd.sh [-n RUNS] [-s SIZE] [-m SIZE] [--fault-around LIST]
#                      [--batches LIST] [--snapshot-sizes LIST] [-d DIR]
#                      [--strict] [BUILD_DIR]
# See bench/README.md. Needs bash, a C compiler, jq, coreutils and awk:
# what scripts/install-deps installs.

# shellcheck disable=SC2317 # functions called from traps and indirectly
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh" || exit 2

usage() {
	cat <<EOF
Usage: $prog [OPTION]... [BUILD_DIR]
Measure the raw userfaultfd copy rate, gmvm's lazy-restore fault service
and its snapshot write rate.

  -n, --runs N              runs per configuration (default \$BENCH_RUNS or 5;
                            at least 3)
  -s, --size SIZE           memory the guest touches for the fault-service runs,
                            and the microbenchmark's mapping (default 1G)
  -m, --memory SIZE         guest RAM (default 2G)
      --fault-around LIST   gmvm --fault-around values (default 1,4,16,64,256)
      --batches LIST        microbenchmark pages per UFFDIO_COPY (default: the
                            --fault-around list, so each has a raw match)
      --snapshot-sizes LIST touched sizes for the snapshot write rate
                            (default 256M,1G)
  -d, --dir DIR             where snapshots and the microbenchmark go (default
                            \$TMPDIR or /tmp)
      --strict              exit with status 3 when a goal is missed
  -h, --help                show this help
EOF
	usage_end "Other environment: CC (C compiler, default cc), GMVM_BACKEND (backend the
snapshots are taken with, default: gmvm's default), GMVM (the gmvm to run
instead of BUILD_DIR/gmvm, e.g. a wrapper). What this host cannot run (from
gmvm caps --json) is left out, with a line saying why."
}

runs=${BENCH_RUNS:-5}
size=1G
memory=2G
fa_arg=1,4,16,64,256
batches_arg=
snap_sizes_arg=256M,1G
workdir=${TMPDIR:-/tmp}
declare -A options=(
	[-n]=runs [--runs]=runs
	[-s]=size [--size]=size
	[-m]=memory [--memory]=memory
	[--fault-around]=fa_arg
	[--batches]=batches_arg
	[--snapshot-sizes]=snap_sizes_arg
	[-d]=workdir [--dir]=workdir
)
parse_args "$@"
check_runs 3

# pow2list OPTION LIST: check a list of powers of two from 1 to 512.
pow2list() {
	local v
	IFS=, read -r -a _list <<<"$2"
	[ ${#_list[@]} -gt 0 ] || usage_die "$1: empty list"
	for v in "${_list[@]}"; do
		case $v in
		'' | *[!0-9]*) usage_die "$1: '$v' is not a number" ;;
		esac
		if [ "$v" -lt 1 ] || [ "$v" -gt 512 ] || [ $((v & (v - 1))) -ne 0 ]; then
			usage_die "$1: $v is not a power of two from 1 to 512"
		fi
	done
}
mem_bytes=$(bytes "$memory")
[ -n "$mem_bytes" ] || usage_die "--memory: '$memory' is not a size like 2G or 512M"
size_bytes=$(bytes "$size")
[ -n "$size_bytes" ] || usage_die "--size: '$size' is not a size like 1G or 256M"
[ "$size_bytes" -le $((mem_bytes - (64 << 20))) ] ||
	usage_die "--size: $size does not fit in --memory $memory (leave 64M for the guest itself)"
pow2list --fault-around "$fa_arg"
fas=("${_list[@]}")
pow2list --batches "${batches_arg:-$fa_arg}"
batches=("${_list[@]}")
IFS=, read -r -a snap_sizes <<<"$snap_sizes_arg"
[ ${#snap_sizes[@]} -gt 0 ] || usage_die "--snapshot-sizes: empty list"
for s in "${snap_sizes[@]}"; do
	b=$(bytes "$s")
	[ -n "$b" ] || usage_die "--snapshot-sizes: '$s' is not a size like 256M or 1G"
	[ "$b" -le $((mem_bytes - (64 << 20))) ] ||
		usage_die "--snapshot-sizes: $s does not fit in --memory $memory"
done

# ---------------------------------------------------------------- set-up

DIE_STATUS=2
find_build restore
cc=${CC:-cc}
command -v "$cc" >/dev/null 2>&1 || die "C compiler '$cc' not found; run scripts/install-deps (gcc)"
[ -f "$src/bench/uffd_copy_rate.c" ] || die "$src/bench/uffd_copy_rate.c: not found"
need_tools awk sort sed jq du df stat
if [ ! -d "$workdir" ] || [ ! -w "$workdir" ]; then
	die "--dir: '$workdir' is not a writable directory"
fi
largest=$size_bytes
for s in "${snap_sizes[@]}"; do
	[ "$(bytes "$s")" -le "$largest" ] || largest=$(bytes "$s")
done
need=$(((2 * largest + (256 << 20)) >> 10))
avail=$(avail_kib "$workdir")
[ "$avail" -ge "$need" ] ||
	die "$workdir has $((avail >> 10)) MiB free, needs $((need >> 10)) MiB; use --dir or smaller sizes"

init_timer
DIE_STATUS=1

make_tmp "$workdir" gmvm-uffd
mkdir "$tmp/res"

snap_backend=${GMVM_BACKEND:-}
gmvm_info
read_caps
default_fa=$("$gmvm" restore --help 2>/dev/null | grep -A2 -e '--fault-around' | grep -o 'default [0-9]*' | head -n 1 | cut -d' ' -f2)
[ -n "$default_fa" ] || default_fa=16

probe_gmvm "$gmvm" run --kernel "$guest" --memory 128M --cmdline exit=5

# What the host offers (gmvm caps, not a try): without userfaultfd there is
# no raw UFFDIO_COPY to time (table 1) and no lazy restore (table 2); a
# backend whose memory userfaultfd cannot register leaves out its rows of
# table 2; without snapshots in the backend they are taken with, tables 2
# and 3 go. One line each in the header; lazy_backends are the rows kept.
declare -A be_left_out
lazy_backends=()
with_raw=1
snap_ok=1
if ! caps_true '.userfaultfd.available == true'; then
	with_raw=0
	left_out_once "raw UFFDIO_COPY rows" "$(why_not memfd lazy-missing)"
fi
if ! offers "${snap_backend:-$default_backend}" snapshot; then
	snap_ok=0
	why="no snapshots with backend ${snap_backend:-$default_backend}: $(why_not "${snap_backend:-$default_backend}" snapshot)"
	left_out_once "gmvm rows" "$why"
fi
for be in memfd anon; do
	if [ "$snap_ok" -eq 0 ]; then
		be_left_out[$be]=$why
	elif offers "$be" lazy-missing && offers "$be" eager; then
		lazy_backends+=("$be")
	else
		be_left_out[$be]=$(why_not "$be" lazy-missing)
		if caps_true '.userfaultfd.available == true'; then
			left_out_once "gmvm $be fault-service rows" "${be_left_out[$be]}"
		else
			left_out_once "gmvm fault-service rows" "${be_left_out[$be]}"
		fi
	fi
done

echo "gmvm userfaultfd and snapshot benchmark"
echo "  host:   $(host_desc)"
echo "  gmvm:   $gmvm ($gmvm_version); default --fault-around $default_fa; snapshots taken with backend ${snap_backend:-$default_backend}"
echo "  guest:  $guest, $memory RAM"
echo "  files:  $tmp ($(fstype "$tmp"))"
echo "  timer:  $timer; $runs runs per configuration"
print_load
[ ${#left_out_lines[@]} -eq 0 ] || printf '%s\n' "${left_out_lines[@]}"
echo

# ------------------------------------------------- 1. raw UFFDIO_COPY rate

declare -A raw	# raw[mode,src,mem,batch] = median ns

# gbs BYTES NS -> GB/s; upp NS PAGES -> microseconds per page
gbs() { awk -v b="$1" -v n="$2" 'BEGIN { printf "%.2f", b / n }'; }
upp() { awk -v n="$1" -v p="$2" 'BEGIN { printf "%.2f", n / p / 1000 }'; }

# Without userfaultfd (gmvm caps) there is nothing to time here.
if [ "$with_raw" -eq 1 ]; then
	bin=$tmp/uffd_copy_rate
	CMD=("$cc" -O2 -Wall -pthread -o "$bin" "$src/bench/uffd_copy_rate.c")
	timed "${CMD[@]}"
	[ "$rc" -eq 0 ] || fail "building the microbenchmark: $cc exited with $rc"
	blist=$(
		IFS=,
		echo "${batches[*]}"
	)
	printf 'raw UFFDIO_COPY: %s mapping, batches %s, %s reps each...' "$size" "$blist" "$runs"
	CMD=("$bin" -s $((size_bytes >> 20)) -r "$runs" -b "$blist" -m "anon,memfd" -f "$tmp")
	"${CMD[@]}" >"$tmp/raw.out" 2>"$tmp/err" </dev/null
	rc=$?
	[ "$rc" -eq 0 ] || fail "the UFFDIO_COPY microbenchmark exited with $rc"
	echo " done"

	while read -r tag kv; do
		[ "$tag" = RESULT ] || continue
		unset kvs
		declare -A kvs
		for x in $kv; do
			kvs[${x%%=*}]=${x#*=}
		done
		raw[${kvs[mode]},${kvs[src]},${kvs[mem]},${kvs[batch]}]=${kvs[median_ns]}
		raw[faults,${kvs[mode]},${kvs[src]},${kvs[mem]},${kvs[batch]}]=${kvs[faults]}
	done <"$tmp/raw.out"
	raw_pages=$((size_bytes / 4096))

	echo
	echo "1. Raw UFFDIO_COPY on this host ($size, 4 KiB pages, median of $runs)"
	echo "   fault: one thread reads every page in order, another serves each fault with one"
	echo "          UFFDIO_COPY of the aligned B-page window; source resident anonymous memory"
	echo "   file:  the same, the source a file in $tmp mapped afresh (page cache, not mapped yet),"
	echo "          as gmvm maps the snapshot's memory file"
	echo "   copy:  no faults, UFFDIO_COPY alone in B-page calls (the ioctl's own rate)"
	printf '  %-6s %6s   %8s %8s %9s   %8s %8s   %8s %8s\n' memory batch "fault" "" "" "file" "" "copy" ""
	printf '  %-6s %6s   %8s %8s %9s   %8s %8s   %8s %8s\n' "" pages GB/s us/page us/fault GB/s us/page GB/s us/page
	for m in anon memfd; do
		for b in "${batches[@]}"; do
			f=${raw[fault,anon,$m,$b]:-} fl=${raw[fault,file,$m,$b]:-} c=${raw[copy,anon,$m,$b]:-}
			[ -n "$f" ] || continue
			printf '  %-6s %6s   %8s %8s %9s   %8s %8s   %8s %8s\n' "$m" "$b" \
				"$(gbs "$size_bytes" "$f")" "$(upp "$f" "$raw_pages")" \
				"$(upp "$f" "${raw[faults,fault,anon,$m,$b]}")" \
				"$(gbs "$size_bytes" "$fl")" "$(upp "$fl" "$raw_pages")" \
				"$(gbs "$size_bytes" "$c")" "$(upp "$c" "$raw_pages")"
		done
	done
	echo "  GB/s = 10^9 bytes per second; every fault run checks every page against its source"
	echo
fi

# ------------------------------------------------ 2. gmvm fault service

# The backends whose lazy restore the host offers (none without userfaultfd).
if [ ${#lazy_backends[@]} -gt 0 ]; then
	snap=$tmp/snap-verify
	CMD=("$gmvm" run --kernel "$guest" --memory "$memory" --cmdline "touch=$size snapshot verify"
		--snapshot-on-request "$snap" --then stop)
	[ -z "$snap_backend" ] || CMD+=(--memory-backend "$snap_backend")
	printf 'gmvm fault service: taking the %s snapshot...' "$size"
	timed "${CMD[@]}"
	if [ "$rc" -ne 0 ] || [ ! -f "$snap/memory" ]; then
		fail "taking the snapshot: exit status $rc, expected 0"
	fi
	echo " done"

	# restore_run MODE BACKEND FA ITERATION: one restore of the verify
	# snapshot; records the guest's run time (first KVM_RUN -> exit) and the
	# uffd counters.
	restore_run() {
		local mode=$1 be=$2 fa=$3 iter=$4 st=$tmp/stats.json key
		local strategy lat up faults copied zeroed bgp p50 p99
		CMD=("$gmvm" restore --snapshot "$snap" --restore "$mode" --memory-backend "$be" --stats "$st")
		if [ "$mode" = lazy ]; then
			CMD+=(--no-background --fault-around "$fa")
			key=$be.$fa
		else
			key=$be.eager
		fi
		rm -f "$st"
		timed "${CMD[@]}"
		[ "$rc" -eq 0 ] || fail "restore $mode $be fault-around $fa, run $iter: exit status $rc, expected 0 (0: the guest found every page intact)"
		IFS=$'\t' read -r strategy lat up faults copied zeroed bgp p50 p99 < <(jq -r '[
			.restore.strategy // "none", .restore.latency_us // "none", .uptime_ms // "none",
			.uffd.faults // 0, .uffd.pages_copied // 0, .uffd.pages_zeroed // 0,
			.uffd.pages_background // 0, .uffd.fault_latency_p50_ns // 0,
			.uffd.fault_latency_p99_ns // 0 ] | @tsv' "$st" 2>/dev/null) ||
			fail "restore $mode $be, run $iter: no readable --stats JSON"
		case $mode in
		lazy) [ "$strategy" = lazy-missing ] ;;
		*) [ "$strategy" = eager ] ;;
		esac || fail "restore $mode $be, run $iter: stats say strategy '$strategy'"
		if [ "$lat" = none ] || [ "$up" = none ]; then
			fail "restore $mode $be, run $iter: stats lack latency_us or uptime_ms"
		fi
		[ "$iter" = warm-up ] && return
		echo $((up * 1000 - lat)) >>"$tmp/res/$key.run"
		echo "$us" >>"$tmp/res/$key.wall"
		echo "$faults" >>"$tmp/res/$key.faults"
		echo "$copied" >>"$tmp/res/$key.copied"
		echo "$zeroed" >>"$tmp/res/$key.zeroed"
		echo "$bgp" >>"$tmp/res/$key.bg"
		echo "$p50" >>"$tmp/res/$key.p50"
		echo "$p99" >>"$tmp/res/$key.p99"
	}

	printf 'gmvm fault service: timing'
	for be in "${lazy_backends[@]}"; do
		restore_run eager "$be" 0 warm-up
		for fa in "${fas[@]}"; do
			restore_run lazy "$be" "$fa" warm-up
		done
	done
	for i in $(seq 1 "$runs"); do
		for be in "${lazy_backends[@]}"; do
			restore_run eager "$be" 0 "$i"
			for fa in "${fas[@]}"; do
				restore_run lazy "$be" "$fa" "$i"
			done
		done
		printf '.'
	done
	rm -rf "$snap"
	echo " done"
	echo

	touched_pages=$((size_bytes / 4096))
	declare -A rate pct best_fa
	stats_warn=
	echo "2. gmvm fault service: lazy restore of a $size-touched snapshot, --no-background, guest 'verify'"
	echo "   run:   the guest's run, first KVM_RUN -> exit (uptime_ms - latency_us from --stats)"
	echo "   stall: lazy run - eager run (the same guest with all of its memory in place): what the"
	echo "          faults cost the guest; GB/s, us/page: pages_copied over that; % of raw: that rate"
	echo "          over table 1's 'fault' rate at batch = fault-around, same memory; medians of $runs"
	echo "   handler: the uffd thread's own time per fault (.uffd.fault_latency_p50/p99_ns), and the"
	echo "          rate at p50 (pages per fault over p50)"
	printf '  %-6s %6s %9s %9s %8s %9s %7s %7s %6s   %8s %8s %8s\n' memory fault- run stall faults copied stall stall "% of" handler handler handler
	printf '  %-6s %6s %9s %9s %8s %9s %7s %7s %6s   %8s %8s %8s\n' "" around ms ms "" pages GB/s us/page raw "p50 us" "p99 us" "GB/s"
	for be in "${lazy_backends[@]}"; do
		base=$(median "$tmp/res/$be.eager.run")
		printf '  %-6s %6s %9s\n' "$be" eager "$(awk -v v="$base" 'BEGIN { printf "%.1f", v / 1000 }')"
		best='' bestrate=0
		for fa in "${fas[@]}"; do
			k=$tmp/res/$be.$fa
			run=$(median "$k.run")
			copied=$(median "$k.copied")
			faults=$(median "$k.faults")
			p50=$(median "$k.p50")
			p99=$(median "$k.p99")
			share=$((run - base))
			if [ "$copied" -lt "$touched_pages" ]; then
				stats_warn="$stats_warn
	  WARNING: $be fault-around $fa: .uffd.pages_copied is $copied, fewer than the $touched_pages pages the guest verified"
			fi
			if [ "$share" -le 0 ]; then
				r=- p=- upg=-
			else
				r=$(gbs $((copied * 4096)) $((share * 1000)))
				upg=$(awk -v s="$share" -v c="$copied" 'BEGIN { printf "%.2f", s / c }')
				rw=${raw[fault,anon,$be,$fa]:-}
				p=-
				[ -z "$rw" ] || p=$(awk -v r="$r" -v b="$size_bytes" -v n="$rw" 'BEGIN { printf "%.0f%%", r * 100 / (b / n) }')
				if awk -v r="$r" -v b="$bestrate" 'BEGIN { exit !(r > b) }'; then
					best=$fa
					bestrate=$r
				fi
			fi
			hr=-
			[ "$p50" -le 0 ] || [ "$faults" -le 0 ] ||
				hr=$(awk -v c="$copied" -v f="$faults" -v n="$p50" 'BEGIN { printf "%.2f", c / f * 4096 / n }')
			rate[$be,$fa]=$r
			pct[$be,$fa]=$p
			printf '  %-6s %6s %9s %9s %8s %9s %7s %7s %6s   %8s %8s %8s\n' "$be" "$fa" \
				"$(awk -v v="$run" 'BEGIN { printf "%.1f", v / 1000 }')" \
				"$(awk -v v="$share" 'BEGIN { printf "%.1f", v / 1000 }')" \
				"$faults" "$copied" "$r" "$upg" "$p" \
				"$(awk -v v="$p50" 'BEGIN { printf "%.1f", v / 1000 }')" \
				"$(awk -v v="$p99" 'BEGIN { printf "%.1f", v / 1000 }')" "$hr"
		done
		best_fa[$be]=${best:--}
	done
	echo "  Above 100% of raw, the handler was filling the rest of a window while the guest computed"
	echo "  (the faulting page goes first and wakes the vCPU): overlap, not a faster copy."
	[ -z "$stats_warn" ] || echo "$stats_warn"
	for be in "${lazy_backends[@]}"; do
		if [ "${best_fa[$be]}" = - ]; then
			echo "  best --fault-around, $be: none measurable (no lazy run was slower than the eager one)"
		else
			echo "  best --fault-around for this sequential guest, $be: ${best_fa[$be]} (${rate[$be,${best_fa[$be]}]} GB/s stall rate, p99 $(awk -v v="$(median "$tmp/res/$be.${best_fa[$be]}.p99")" 'BEGIN { printf "%.1f", v / 1000 }') us per fault); gmvm's default: $default_fa (${rate[$be,$default_fa]:-not measured} GB/s)"
		fi
	done
	echo
fi

# ------------------------------------------------ 3. snapshot write rate

# Snapshots in the backend they are taken with (left out when the host has none).
if [ "$snap_ok" -eq 1 ]; then
	printf 'snapshot write rate: timing'
	for s in "${snap_sizes[@]}"; do
		for i in warm-up $(seq 1 "$runs"); do
			# Without a snapshot: what the rest of the run costs.
			CMD=("$gmvm" run --kernel "$guest" --memory "$memory" --cmdline "touch=$s exit=0")
			[ -z "$snap_backend" ] || CMD+=(--memory-backend "$snap_backend")
			timed "${CMD[@]}"
			[ "$rc" -eq 0 ] || fail "$s without a snapshot, run $i: exit status $rc, expected 0"
			[ "$i" = warm-up ] || echo "$us" >>"$tmp/res/snap.$s.base"
			rm -rf "$tmp/snap-w"
			CMD=("$gmvm" run --kernel "$guest" --memory "$memory" --cmdline "touch=$s snapshot exit=0"
				--snapshot-on-request "$tmp/snap-w" --then stop -v)
			[ -z "$snap_backend" ] || CMD+=(--memory-backend "$snap_backend")
			timed "${CMD[@]}"
			if [ "$rc" -ne 0 ] || [ ! -f "$tmp/snap-w/memory" ]; then
				fail "$s snapshot, run $i: exit status $rc, expected 0 and a memory file"
			fi
			wms=$(sed -n 's/.*snapshot: [0-9]* MiB of guest memory written in \([0-9]*\) ms.*/\1/p' "$tmp/err" | head -n 1)
			data=$(du -k "$tmp/snap-w/memory" | cut -f1)
			if [ "$i" != warm-up ]; then
				echo "$us" >>"$tmp/res/snap.$s.wall"
				echo "$data" >>"$tmp/res/snap.$s.kib"
				[ -z "$wms" ] || echo "$wms" >>"$tmp/res/snap.$s.logms"
			fi
			rm -rf "$tmp/snap-w"
		done
		printf '.'
	done
	echo " done"
	echo
	echo "3. Snapshot write rate: gmvm run --snapshot-on-request DIR --then stop, medians of $runs"
	echo "   data = du of the sparse memory file; gmvm's time = its own log ('written in N ms':"
	echo "   vmstate + memory file + fsync); wall extra = the run minus the same run without a snapshot"
	printf '  %-8s %10s %12s %10s %12s %12s %10s\n' touched "data MiB" "gmvm's ms" "MB/s" "run ms" "wall extra" "MB/s"
	for s in "${snap_sizes[@]}"; do
		kib=$(median "$tmp/res/snap.$s.kib")
		wall=$(median "$tmp/res/snap.$s.wall")
		base=$(median "$tmp/res/snap.$s.base")
		extra=$((wall - base))
		logms=-
		r1=-
		if [ -s "$tmp/res/snap.$s.logms" ]; then
			logms=$(median "$tmp/res/snap.$s.logms")
			[ "$logms" -le 0 ] || r1=$(awk -v k="$kib" -v m="$logms" 'BEGIN { printf "%.0f", k * 1024 / m / 1000 }')
		fi
		r2=-
		[ "$extra" -le 0 ] || r2=$(awk -v k="$kib" -v u="$extra" 'BEGIN { printf "%.0f", k * 1024 / u }')
		printf '  %-8s %10s %12s %10s %12s %12s %10s\n' "$s" $((kib >> 10)) "$logms" "$r1" \
			"$(awk -v v="$wall" 'BEGIN { printf "%.0f", v / 1000 }')" \
			"$(awk -v v="$extra" 'BEGIN { printf "%.0f", v / 1000 }')" "$r2"
	done
	echo "  MB/s = 10^6 bytes per second; the file system is $(fstype "$tmp")"
	echo
fi

# ----------------------------------------------------------------- goals

echo "Goals"
# A backend whose lazy rows were left out has its goal left out too.
for be in memfd anon; do
	if [ -n "${be_left_out[$be]:-}" ]; then
		goal_left_out "gmvm fault service, $be, default --fault-around $default_fa: >= 80% of raw UFFDIO_COPY (batch $default_fa)" "${be_left_out[$be]}"
		continue
	fi
	r=${rate[$be,$default_fa]:-} rw=${raw[fault,anon,$be,$default_fa]:-}
	text="gmvm fault service, $be, default --fault-around $default_fa: >= 80% of raw UFFDIO_COPY (batch $default_fa)"
	if [ -z "$r" ]; then
		goal FAIL "$text: not measured (add $default_fa to --fault-around)"
	elif [ "$r" = - ]; then
		goal FAIL "$text: not measured: the lazy run was not slower than the eager one (noise; try a larger --size)"
	elif [ -z "$rw" ]; then
		goal FAIL "$text: no raw number for batch $default_fa (add it to --batches)"
	else
		rg=$(gbs "$size_bytes" "$rw")
		v=$(awk -v r="$r" -v g="$rg" 'BEGIN { print (r >= 0.8 * g) ? "PASS" : "FAIL" }')
		goal "$v" "$text: $r GB/s vs $rg GB/s = ${pct[$be,$default_fa]}"
	fi
done
echo

goals_exit
