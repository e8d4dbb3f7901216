#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/first-response.sh: how soon a restored guest answers.
#
# For the images/ Linux guest (snapshotted at its shell) and the test guest
# (snapshotted waiting for a byte on COM1), each at 256 MiB and 2 GiB of
# guest RAM, restored lazily (memfd, pages on first touch), with a recorded
# working set prefetched, and eagerly:
#
#   1. restore latency: exec of gmvm restore -> first KVM_RUN, from gmvm's
#      --stats .restore.latency_us;
#   2. time to first response: just before the fork+exec of gmvm restore ->
#      the guest's answer to a line written on its console at once appears
#      on gmvm's stdout (bench/first_response.c, built here with cc -O2);
#      for Linux also the answer to a second line (the guest running
#      already), to tell the restore's share from the guest's own work;
#   3. pages faulted, copied and prefetched (--stats .uffd);
#   4. whether gmvm meets its goals.
#
# What the host cannot run (gmvm caps --json: no userfaultfd for the lazy
# rows) is left out, with a line saying why; so are the Linux rows when the
# images/ are not built (--build-images builds them). There is no peer:
# QEMU cannot boot the images/ kernel on this host.
#
# Usage: bench/first-response.sh [-n RUNS] [--sizes LIST] [--no-linux]
#                                [--no-testguest] [--build-images]
#                                [--strict] [BUILD_DIR]
# See bench/README.md. Needs bash, a C compiler, jq, coreutils and awk:
# what scripts/install-deps installs.

# shellcheck disable=SC2317 # functions called from traps and indirectly
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh" || exit 2

usage() {
	cat <<EOF
Usage: $prog [OPTION]... [BUILD_DIR]
Time restores of the images/ Linux guest and of the test guest to their
first answer on the console: lazy, with a prefetched working set, eager.

  -n, --runs N        timed runs per mode and size (default \$BENCH_RUNS or 5;
                      at least 1)
      --sizes LIST    guest RAM sizes, comma-separated (default 256M,2G)
      --no-linux      leave out the images/ Linux guest
      --no-testguest  leave out the test guest
      --build-images  build the Linux images if they are not (images/build-all.sh,
                      about 6 minutes; installs Debian packages as root)
      --strict        exit with status 3 when a goal is missed
  -h, --help          show this help
EOF
	usage_end "Other environment: CC (C compiler, default cc), GMVM (the gmvm to run
instead of BUILD_DIR/gmvm, e.g. a wrapper), GMVM_LINUX_TIMEOUT (seconds a
Linux boot to its shell may take, default 400), TMPDIR (where the snapshots
go, default /tmp). What this host cannot run (from gmvm caps --json) is left
out, with a line saying why."
}

runs=${BENCH_RUNS:-5}
sizes_arg=256M,2G
with_linux=1
with_tg=1
build_images=0
workdir=${TMPDIR:-/tmp}
declare -A options=(
	[-n]=runs [--runs]=runs
	[--sizes]=sizes_arg
	[--no-linux]=with_linux=0
	[--no-testguest]=with_tg=0
	[--build-images]=build_images=1
)
parse_args "$@"
check_runs 1

IFS=, read -r -a sizes <<<"$sizes_arg"
[ ${#sizes[@]} -gt 0 ] || usage_die "--sizes: empty list"
declare -A size_bytes
for s in "${sizes[@]}"; do
	b=$(bytes "$s")
	[ -n "$b" ] || usage_die "--sizes: '$s' is not a size like 256M or 2G"
	# The test guest touches 64 MiB before its snapshot; Linux wants room.
	[ "$b" -ge $((128 << 20)) ] || usage_die "--sizes: $s is below 128M"
	[ $((b % (2 << 20))) -eq 0 ] || usage_die "--sizes: $s is not a multiple of 2 MiB"
	size_bytes[$s]=$b
done
[ "$with_linux" -eq 1 ] || [ "$with_tg" -eq 1 ] ||
	usage_die "--no-linux and --no-testguest leave nothing to run"
# The smallest and largest size, for the flatness goal.
smallest=${sizes[0]} biggest=${sizes[0]}
for s in "${sizes[@]}"; do
	[ "${size_bytes[$s]}" -ge "${size_bytes[$smallest]}" ] || smallest=$s
	[ "${size_bytes[$s]}" -le "${size_bytes[$biggest]}" ] || biggest=$s
done

# ---------------------------------------------------------------- set-up

DIE_STATUS=2
find_build restore snapshot
cc=${CC:-cc}
command -v "$cc" >/dev/null 2>&1 || die "C compiler '$cc' not found; run scripts/install-deps (gcc)"
[ -f "$src/bench/first_response.c" ] || die "$src/bench/first_response.c: not found"
need_tools awk sort sed jq cp du mkfifo tail tr
if [ ! -d "$workdir" ] || [ ! -w "$workdir" ]; then
	die "\$TMPDIR: '$workdir' is not a writable directory"
fi
# Two snapshots at a time (one and its working-set copy); the memory files
# are sparse, a few tens of MiB of data each.
[ "$(avail_kib "$workdir")" -ge $((512 << 10)) ] ||
	die "$workdir has $(($(avail_kib "$workdir") >> 10)) MiB free, needs 512 MiB"
boot_timeout=${GMVM_LINUX_TIMEOUT:-400}
case $boot_timeout in
'' | *[!0-9]*) die "GMVM_LINUX_TIMEOUT: '$boot_timeout' is not a number of seconds" ;;
esac

init_timer
DIE_STATUS=1
make_tmp "$workdir" gmvm-fresp
mkdir "$tmp/res"

gmvm_info
read_caps
snap_backend=$default_backend

probe_gmvm "$gmvm" run --kernel "$guest" --memory 128M --cmdline exit=5

# What the host offers (gmvm caps, not a try). The lazy and prefetch rows
# restore onto memfd with missing faults; the eager rows onto the backend
# the snapshot was taken with (gmvm's default).
modes=()
declare -A mode_why
if ! offers "$snap_backend" snapshot; then
	why="no snapshots with backend $snap_backend: $(why_not "$snap_backend" snapshot)"
	left_out_once "every row" "$why"
	mode_why[lazy]=$why mode_why[prefetch]=$why mode_why[eager]=$why
else
	if offers memfd lazy-missing; then
		modes+=(lazy prefetch)
	else
		mode_why[lazy]=$(why_not memfd lazy-missing)
		mode_why[prefetch]=${mode_why[lazy]}
		left_out_once "lazy and prefetch rows" "${mode_why[lazy]}"
	fi
	if offers "$snap_backend" eager; then
		modes+=(eager)
	else
		mode_why[eager]=$(why_not "$snap_backend" eager)
		left_out_once "eager rows" "${mode_why[eager]}"
	fi
fi

# The Linux images: built already (images/build-all.sh --cached-only), or
# built now with --build-images; else the Linux rows are left out.
linux_why=
vmlinux='' initramfs=''
if [ "$with_linux" -eq 1 ]; then
	if [ "$build_images" -eq 1 ]; then
		echo "Building the Linux images (images/build-all.sh; about 6 minutes when nothing is cached)..."
		CMD=("$src/images/build-all.sh")
		"${CMD[@]}" >"$tmp/images" 2>"$tmp/err" </dev/null ||
			fail "images/build-all.sh exited with $?"
	elif ! "$src/images/build-all.sh" --cached-only >"$tmp/images" 2>/dev/null </dev/null; then
		linux_why="the Linux images are not built: run images/build-all.sh (or give --build-images)"
	fi
	if [ -z "$linux_why" ]; then
		vmlinux=$(sed -n 's/^GMVM_VMLINUX=//p' "$tmp/images")
		initramfs=$(sed -n 's/^GMVM_INITRAMFS=//p' "$tmp/images")
		if [ ! -f "$vmlinux" ] || [ ! -f "$initramfs" ]; then
			linux_why="images/build-all.sh named no vmlinux and initramfs: run images/build-all.sh"
		fi
	fi
	[ -z "$linux_why" ] || left_out_once "Linux rows" "$linux_why"
fi

# The bench's Linux command line: tests/linux/restore.bats's without ip=
# (no network, no disk), the console on virtio-console (hvc0), a shell at
# the end of /init.
linux_cmdline="console=hvc0 panic=-1 reboot=k tsc=reliable no_timer_check noxsave clearcpuid=smap,popcnt,erms,fsrm noreplace-smp rodata=off percpu_alloc=page quiet gmvm_end=shell gmvm_disk=none"
# shellcheck disable=SC2016 # the guest's shell expands it, not this one
linux_line='echo answer-$((6*7))'
linux_marker=answer-42
# shellcheck disable=SC2016
linux_line2='echo again-$((6*7))'
linux_marker2=again-42
tg_cmdline="touch=64M snapshot echo=1"
tg_marker='got "x"'

guests=()
[ "$with_linux" -eq 0 ] || [ -n "$linux_why" ] || [ ${#modes[@]} -eq 0 ] || guests+=(linux)
[ "$with_tg" -eq 0 ] || [ ${#modes[@]} -eq 0 ] || guests+=(tg)
declare -A guest_label=([linux]="Linux (images/)" [tg]="test guest")

echo "gmvm first-response benchmark"
echo "  host:   $(host_desc)"
echo "  gmvm:   $gmvm ($gmvm_version); snapshots taken with backend $snap_backend"
if [ "$with_linux" -eq 0 ]; then
	echo "  Linux:  not run (--no-linux)"
elif [ -z "$linux_why" ]; then
	echo "  Linux:  $vmlinux"
	echo "          + ${initramfs##*/}, 1 vCPU, --console virtio, no disk, no network; at its shell"
	echo "          line sent: '$linux_line', marker '$linux_marker'; ended with SIGTERM once answered"
fi
if [ "$with_tg" -eq 0 ]; then
	echo "  test guest: not run (--no-testguest)"
else
	echo "  test guest: $guest, '$tg_cmdline' (serial console)"
	echo "          byte sent: 'x', marker '$tg_marker'; the guest then exits by itself (status 0)"
fi
echo "  sizes:  ${sizes[*]} of guest RAM; files: $tmp ($(fstype "$tmp"))"
echo "  timer:  CLOCK_MONOTONIC in bench/first_response.c; gmvm's own --stats; $runs runs per mode"
echo "          and size, interleaved, after 1 warm-up run of lazy and eager"
print_load
[ ${#left_out_lines[@]} -eq 0 ] || printf '%s\n' "${left_out_lines[@]}"
[ "$with_linux" -eq 0 ] ||
	echo "  QEMU rows left out: QEMU cannot boot the images/ kernel on this host (7.2 stops with a KVM emulation failure at the kernel's first CPL0 int3, which gmvm completes itself, vmm/x86_fixup.c); no peer to compare with"
echo

[ ${#guests[@]} -gt 0 ] || { echo "Nothing left to run."; echo; }

# ------------------------------------------------------------ the helper

bin=$tmp/first_response
if [ ${#guests[@]} -gt 0 ]; then
	CMD=("$cc" -O2 -Wall -Wextra -o "$bin" "$src/bench/first_response.c")
	timed "${CMD[@]}"
	[ "$rc" -eq 0 ] || fail "building the helper: $cc exited with $rc"
fi

# console_tail FILE: the last lines of a console, for a failure message.
console_tail() {
	echo "console (last lines of $1):"
	tail -n 8 "$1" 2>/dev/null | tr -d '\r' | sed 's/^/    | /'
}

# wait_line FILE PATTERN SECONDS: FILE gets a line matching PATTERN while
# the monitor in bgpid runs.
wait_line() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		kill -0 "$bgpid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# ------------------------------------------------------------ snapshots

# linux_snapshot SIZE DIR: boot the Linux guest with SIZE of RAM to its
# shell, snapshot it into DIR through the control socket, stop it. Sets
# boot_us (exec -> the shell's line on the console).
linux_snapshot() {
	local size=$1 dir=$2 in=$tmp/linux.in out=$tmp/linux.out ctl=$tmp/linux.ctl t0
	rm -f "$in" "$out" "$ctl"
	mkfifo "$in" || fail "mkfifo $in"
	exec 9<>"$in"
	CMD=("$gmvm" run --kernel "$vmlinux" --initrd "$initramfs" --memory "$size" --cpus 1
		--console virtio --control "$ctl" --cmdline "$linux_cmdline")
	tick
	t0=$_t
	"${CMD[@]}" <"$in" >"$out" 2>"$tmp/err" 9>&- &
	bgpid=$!
	if ! wait_line "$out" 'starting a shell' "$boot_timeout"; then
		kill -TERM "$bgpid" 2>/dev/null
		wait "$bgpid"
		rc=$?
		bgpid=
		exec 9>&-
		fail "Linux $size: no shell within $boot_timeout s (gmvm exit status $rc)" "$(console_tail "$out")"
	fi
	tick
	boot_us=$((_t - t0))
	# The shell is reading its console when it has answered this.
	# shellcheck disable=SC2016 # for the guest's shell
	printf '%s\n' 'echo ready-$((1+1))' >&9
	wait_line "$out" 'ready-2' 60 ||
		fail "Linux $size: the shell did not answer" "$(console_tail "$out")"
	"$gmvm" snapshot --control "$ctl" "$dir" >"$tmp/ctl.out" 2>&1 ||
		fail "Linux $size: gmvm snapshot --control failed: $(tr '\n' ' ' <"$tmp/ctl.out")"
	"$gmvm" stop --control "$ctl" >"$tmp/ctl.out" 2>&1 ||
		fail "Linux $size: gmvm stop --control failed: $(tr '\n' ' ' <"$tmp/ctl.out")"
	wait "$bgpid"
	rc=$?
	bgpid=
	exec 9>&-
	[ "$rc" -eq 0 ] || fail "Linux $size: gmvm exited with $rc after stop, expected 0"
	if [ ! -f "$dir/memory" ] || [ ! -f "$dir/vmstate" ]; then
		fail "Linux $size: no snapshot in $dir"
	fi
}

# tg_snapshot SIZE DIR: the test guest touches 64 MiB and asks for its
# snapshot, which gmvm writes into DIR before it stops.
tg_snapshot() {
	local size=$1 dir=$2
	CMD=("$gmvm" run --kernel "$guest" --memory "$size" --snapshot-on-request "$dir"
		--then stop --cmdline "$tg_cmdline")
	timed "${CMD[@]}"
	boot_us=$us
	if [ "$rc" -ne 0 ] || [ ! -f "$dir/memory" ]; then
		fail "test guest $size: the snapshot run exited with $rc, expected 0 and a snapshot in $dir"
	fi
}

# ------------------------------------------------------------- restores

# restore_run GUEST SIZE MODE ITERATION: one restore of GUEST's SIZE
# snapshot (snap, or its working-set copy ws), answered and ended; records
# the latency, the first response and the uffd counters. MODE record
# writes the working set (its figures go to MODE record too).
restore_run() {
	local g=$1 size=$2 mode=$3 iter=$4 d=$tmp/$1-$2 st=$tmp/stats.json
	local line marker want fr_opts first next status strategy lat faults copied pref
	case $mode in
	lazy) CMD=("$gmvm" restore --snapshot "$d/snap" --restore lazy --memory-backend memfd) ;;
	record) CMD=("$gmvm" restore --snapshot "$d/ws" --restore lazy --memory-backend memfd --record-working-set) ;;
	prefetch) CMD=("$gmvm" restore --snapshot "$d/ws" --restore lazy --memory-backend memfd --prefetch) ;;
	eager) CMD=("$gmvm" restore --snapshot "$d/snap" --restore eager) ;;
	esac
	CMD+=(--stats "$st")
	if [ "$g" = linux ]; then
		# A second line once answered, timed from its write to its
		# answer; SIGTERM at once after that: gmvm ends with 143.
		line="$linux_line"$'\n' marker=$linux_marker want=sigterm:143
		fr_opts=(-a "$linux_line2"$'\n' -m "$linux_marker2" -w 0)
	else
		# One byte, no newline; the guest echoes it and exits with 0.
		line=x marker=$tg_marker want=0 fr_opts=(-w 30)
	fi
	rm -f "$st"
	read -r first next status < <("$bin" -t 60 "${fr_opts[@]}" -o "$tmp/console" "$line" "$marker" \
		-- "${CMD[@]}" 2>"$tmp/err" </dev/null |
		sed 's/first_response_us=\([^ ]*\) next_response_us=\([^ ]*\) status=\(.*\)/\1 \2 \3/')
	first=${first:-none} next=${next:-none} status=${status:-none}
	[ "$first" != none ] ||
		fail "${guest_label[$g]} $size $mode, run $iter: no '$marker' on the console within 60 s (gmvm: $status)" "$(console_tail "$tmp/console")"
	if [ "$g" = linux ] && [ "$next" = none ]; then
		fail "${guest_label[$g]} $size $mode, run $iter: no '$linux_marker2' on the console within 60 s of the second line (gmvm: $status)" "$(console_tail "$tmp/console")"
	fi
	[ "$status" = "$want" ] ||
		fail "${guest_label[$g]} $size $mode, run $iter: gmvm ended with $status, expected $want" "$(console_tail "$tmp/console")"
	IFS=$'\t' read -r strategy lat faults copied pref < <(jq -r '[
		.restore.strategy // "none", .restore.latency_us // "none",
		.uffd.faults // "-", .uffd.pages_copied // "-", .uffd.pages_prefetched // "-"
		] | @tsv' "$st" 2>/dev/null) ||
		fail "${guest_label[$g]} $size $mode, run $iter: no readable --stats JSON"
	case $mode in
	eager) [ "$strategy" = eager ] ;;
	*) [ "$strategy" = lazy-missing ] ;;
	esac || fail "${guest_label[$g]} $size $mode, run $iter: stats say strategy '$strategy'"
	[ "$lat" != none ] || fail "${guest_label[$g]} $size $mode, run $iter: stats lack .restore.latency_us"
	if [ "$mode" = prefetch ] && [ "$pref" = 0 ]; then
		fail "${guest_label[$g]} $size prefetch, run $iter: nothing prefetched (.uffd.pages_prefetched 0)"
	fi
	[ "$iter" = warm-up ] && return
	local f=$tmp/res/$g.$size.$mode
	echo "$lat" >>"$f.lat"
	echo "$first" >>"$f.first"
	if [ "$next" != none ]; then
		echo "$next" >>"$f.next"
		echo $((first - next)) >>"$f.extra"
	fi
	if [ "$faults" != - ]; then
		echo "$faults" >>"$f.faults"
		echo "$copied" >>"$f.copied"
		echo "$pref" >>"$f.pref"
	fi
}

# time_guest GUEST SIZE: snapshot GUEST at SIZE, then time its restores.
time_guest() {
	local g=$1 size=$2 d=$tmp/$1-$2 m i kib
	mkdir "$d"
	printf '[%s %s] snapshot...' "${guest_label[$g]}" "$size"
	"${g}_snapshot" "$size" "$d/snap"
	kib=$(du -k "$d/snap/memory" | cut -f1)
	echo "$boot_us" >"$tmp/res/$g.$size.boot"
	echo "$kib" >"$tmp/res/$g.$size.kib"
	printf ' %s s to %s, %s MiB of data; timing' "$(awk -v u="$boot_us" 'BEGIN { printf "%.1f", u / 1e6 }')" \
		"$([ "$g" = linux ] && echo 'the shell' || echo 'the snapshot')" $((kib >> 10))
	for m in lazy eager; do
		case " ${modes[*]} " in *" $m "*) restore_run "$g" "$size" "$m" warm-up ;; esac
	done
	case " ${modes[*]} " in
	*" prefetch "*)
		cp -r --sparse=always "$d/snap" "$d/ws" || fail "copying the snapshot $d/snap"
		restore_run "$g" "$size" record 1
		[ -s "$d/ws/workingset" ] || fail "${guest_label[$g]} $size: no working set recorded"
		;;
	esac
	for i in $(seq 1 "$runs"); do
		for m in "${modes[@]}"; do
			restore_run "$g" "$size" "$m" "$i"
		done
		printf '.'
	done
	rm -rf "$d"
	echo " done"
}

for g in "${guests[@]}"; do
	for size in "${sizes[@]}"; do
		time_guest "$g" "$size"
	done
done
[ ${#guests[@]} -eq 0 ] || echo

# --------------------------------------------------------------- tables

declare -A med
# range FILE -> "median (min-max)" in ms
range() {
	local m lo hi
	read -r m lo hi < <(stats "$1")
	printf '%s (%s-%s)' "$(ms "$m")" "$(ms "$lo")" "$(ms "$hi")"
}
# med_or_dash FILE -> its median, or - when there is none
med_or_dash() {
	if [ -s "$1" ]; then median "$1"; else printf '%s' -; fi
}

n=0
for g in "${guests[@]}"; do
	n=$((n + 1))
	echo "$n. ${guest_label[$g]}: restore latency and first response, milliseconds, median (min-max) of $runs"
	printf '  %-9s %5s  %-22s %-26s %7s %10s %7s %8s %10s\n' mode RAM "restore latency" "first response" "next" "first-next" faults copied prefetched
	for size in "${sizes[@]}"; do
		for m in "${modes[@]}"; do
			f=$tmp/res/$g.$size.$m
			med[lat,$g,$size,$m]=$(median "$f.lat")
			med[first,$g,$size,$m]=$(median "$f.first")
			nx=- ex=-
			[ ! -s "$f.next" ] || nx=$(ms "$(median "$f.next")") ex=$(ms "$(median "$f.extra")")
			printf '  %-9s %5s  %-22s %-26s %7s %10s %7s %8s %10s\n' "$m" "$size" "$(range "$f.lat")" "$(range "$f.first")" \
				"$nx" "$ex" "$(med_or_dash "$f.faults")" "$(med_or_dash "$f.copied")" "$(med_or_dash "$f.pref")"
		done
	done
	echo "  restore latency: --stats .restore.latency_us (exec of gmvm restore -> first KVM_RUN)"
	echo "  first response:  fork+exec of gmvm restore -> the marker on its stdout (the line written at once)"
	if [ "$g" = linux ]; then
		echo "  next: median, a second line ('$linux_line2') written once the first was answered -> its answer:"
		echo "        the same work on a guest already running, all it needs in place; first-next: median"
		echo "        over the runs of first response - next, what the restore added to the first answer"
	else
		echo "  next, first-next: - (the test guest exits after its answer)"
	fi
	echo "  faults, copied, prefetched: medians of --stats .uffd.faults, .pages_copied (4 KiB pages, with"
	echo "  the background fill and the prefetch), .pages_prefetched; - for eager (no userfaultfd)"
	for size in "${sizes[@]}"; do
		f=$tmp/res/$g.$size
		line="  $size: $([ "$g" = linux ] && echo "booted to the shell" || echo "ran to its snapshot") in"
		line+=" $(awk -v u="$(cat "$f.boot")" 'BEGIN { printf "%.1f", u / 1e6 }') s; memory file $(($(cat "$f.kib") >> 10)) MiB of data"
		if [ -s "$f.record.lat" ]; then
			line+=";
        working set recorded by one lazy run (--record-working-set, no background fill):"
			line+=" $(cat "$f.record.copied") pages
        copied in $(cat "$f.record.faults") faults, latency $(ms "$(cat "$f.record.lat")") ms, first response $(ms "$(cat "$f.record.first")") ms"
		fi
		echo "$line"
	done
	echo
done

# ----------------------------------------------------------------- goals

echo "Goals"
flat_rule="$biggest median <= $smallest median x 1.5 + 1 ms"
for g in linux tg; do
	case $g in
	linux) [ "$with_linux" -eq 1 ] || continue ;;
	tg) [ "$with_tg" -eq 1 ] || continue ;;
	esac
	label=${guest_label[$g]}
	why=
	[ "$g" != linux ] || why=$linux_why
	[ -n "$why" ] || why=${mode_why[lazy]:-}
	for size in "${sizes[@]}"; do
		text="$label lazy restore latency <= 5 ms (median) at $size"
		if [ -n "$why" ]; then
			goal_left_out "$text" "$why"
			continue
		fi
		m=${med[lat,$g,$size,lazy]}
		v=FAIL
		[ "$m" -gt 5000 ] || v=PASS
		goal "$v" "$text: $(ms "$m") ms"
	done
	if [ "$smallest" != "$biggest" ]; then
		text="$label lazy restore latency flat in guest size: $flat_rule"
		if [ -n "$why" ]; then
			goal_left_out "$text" "$why"
		else
			a=${med[lat,$g,$smallest,lazy]} b=${med[lat,$g,$biggest,lazy]}
			v=$(awk -v a="$a" -v b="$b" 'BEGIN { print (b <= a * 1.5 + 1000) ? "PASS" : "FAIL" }')
			goal "$v" "$text: $(ms "$b") ms vs $(ms "$a") ms (limit $(awk -v a="$a" 'BEGIN { printf "%.2f", (a * 1.5 + 1000) / 1000 }') ms)"
		fi
	fi
	[ "$g" = linux ] || continue
	[ -n "$why" ] || why=${mode_why[eager]:-}
	for size in "${sizes[@]}"; do
		text="$label first response with --prefetch faster than eager (median) at $size"
		if [ -n "$why" ]; then
			goal_left_out "$text" "$why"
			continue
		fi
		p=${med[first,$g,$size,prefetch]} e=${med[first,$g,$size,eager]}
		v=FAIL
		[ "$p" -ge "$e" ] || v=PASS
		goal "$v" "$text: $(ms "$p") ms vs $(ms "$e") ms (first-next $(ms "$(median "$tmp/res/$g.$size.prefetch.extra")") vs $(ms "$(median "$tmp/res/$g.$size.eager.extra")") ms)"
	done
done
echo

goals_exit
