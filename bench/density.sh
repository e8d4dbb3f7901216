#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/density.sh: many clones of one snapshot at once. One snapshot of the
# test guest (256 MiB, 64 MiB touched; after the snapshot each clone
# rewrites 4 MiB of it and halts, idle) is restored N times concurrently,
# for N in --clones (default 1 10 50), with each restore strategy this host
# offers (lazy, eager, file), and while all N are alive:
#
#   - restores per second: N over the time from the first exec to the last
#     clone's first line after the snapshot ("snapshot: resumed");
#   - restore latency (exec to the first KVM_RUN, from --stats) and time to
#     first response (exec to that line), p50 and p99 over the clones;
#   - memory: the sum of the clones' PSS (shared pages counted once in
#     all), and each clone's private memory (Private_Clean + Private_Dirty
#     of /proc/PID/smaps_rollup), against the snapshot's data (what the
#     guest had touched) and what each clone wrote (4 MiB).
#
# Then the same for the images/ Linux at its shell (256 MiB, snapshotted
# by /init through port 0x4f0): the first response is the shell's answer
# to a command typed on the console, and the clones idle at the prompt.
#
# Beside them, QEMU microvm restoring the test guest (touched 64 MiB, then
# halted) from one migration stream, N at once (-incoming "exec:cat
# FILE"): restores per second to "running" on QMP, and the same memory
# figures. QEMU's x-ignore-shared path needs RAM in a shared file that
# concurrent clones would write into together: it has no row here.
#
# Goals: >= 100 test-guest restores per second; with --restore file, each
# test-guest clone's private memory <= what it wrote + 2 MiB; 50 Linux
# clones alive at once within 2 GiB of host memory (their PSS sum).
#
# Usage: bench/density.sh [--clones "1 10 50"] [--no-linux] [--strict] [BUILD_DIR]

# shellcheck disable=SC2317 # functions called from traps and indirectly
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh" || exit 2

usage() {
	cat <<EOF
Usage: $prog [OPTION]... [BUILD_DIR]
Restore N clones of one test-guest snapshot at once, for each restore
strategy: restores per second, latency, first response, PSS and private
memory.

      --clones "N..."  how many clones at once (default "1 10 50"; 1 to 200)
      --no-linux       only the test guest (the Linux rows need images/)
      --no-qemu        no QEMU rows
      --strict         exit with status 3 when a goal is missed
  -h, --help           show this help
EOF
	usage_end ""
}

clones_list="1 10 50"
with_linux=1
declare -A options=(
	[--clones]=clones_list
	[--no-linux]=with_linux=0
	[--no-qemu]=with_qemu=0
)
with_qemu=1
parse_args "$@"
for n in $clones_list; do
	case $n in
	'' | *[!0-9]* | 0*) usage_die "--clones: '$n' is not a number from 1" ;;
	esac
	[ "$n" -le 200 ] || usage_die "--clones: at most 200 at once, got $n"
done

DIE_STATUS=2
find_build
need_tools awk sort sed
init_timer
DIE_STATUS=1
make_tmp "${TMPDIR:-/tmp}" gmvm-density
read_caps

WRITTEN_KIB=4096
snap=$tmp/snap-tg
"$gmvm" run --kernel "$guest" --memory 256M --snapshot-on-request "$snap" --then stop \
	--cmdline "touch=64M snapshot touch=4M halt" </dev/null >"$tmp/boot.out" 2>"$tmp/err" ||
	fail "the snapshot could not be made"
data_kib=$(du -k "$snap/memory" | cut -f1)

# Which strategies this host has (lazy: userfaultfd on memfd).
strategies=()
if offers memfd lazy-missing; then
	strategies+=(lazy)
else
	left_out_once "lazy rows" "$(why_not memfd lazy-missing)"
fi
strategies+=(eager)
if jq -e .restore_file.available <<<"$caps_json" >/dev/null 2>&1; then
	strategies+=(file)
else
	left_out_once "file rows" "$(jq -r .restore_file.reason <<<"$caps_json")"
fi

# pct FILE P: the P-th percentile (nearest rank) of FILE's numbers.
pct() {
	sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END {
		if (!NR) { print "-"; exit }
		i = int((p * NR + 99) / 100); if (i < 1) i = 1; print v[i] }'
}

# The timer of each clone: bench/first_response.c (exec to the line).
bin=$tmp/first_response
cc=${CC:-cc}
need_tools "$cc" pgrep
"$cc" -O2 -Wall -Wextra -o "$bin" "$src/bench/first_response.c" 2>"$tmp/err" ||
	fail "building bench/first_response.c failed"

# run_clones GUEST STRATEGY N: N clones of GUEST's snapshot ($tmp/snap-GUEST)
# at once, with its LINE, MARKER and IDLE (the line it idles after); results
# in $tmp/r-GUEST-STRATEGY-N.*
run_clones() {
	local guest=$1 strategy=$2 n=$3 i pid t0 got r
	local frpids=() pids=() starts=()
	r=$tmp/r-$guest-$strategy-$n
	: >"$r.first"
	: >"$r.latency"
	: >"$r.private"
	rm -f "$tmp"/c*.out "$tmp"/c*.json
	tick
	t0=$_t
	for ((i = 0; i < n; i++)); do
		tick
		starts+=($((_t - t0)))
		"$bin" -t 300 -w 600 -o "$tmp/c$i.out" "${line[$guest]}" "${marker[$guest]}" -- \
			"$gmvm" restore --snapshot "$tmp/snap-$guest" --restore "$strategy" \
			--stats "$tmp/c$i.json" </dev/null >"$tmp/c$i.fr" 2>"$tmp/c$i.err" &
		frpids+=($!)
	done
	# One look at all of them per round: cheap, so it does not slow them.
	while :; do
		got=$(grep -l "${idle[$guest]}" "$tmp"/c*.out 2>/dev/null | wc -l)
		[ "$got" -lt "$n" ] || break
		tick
		[ $((_t - t0)) -lt 300000000 ] ||
			die "$guest, $strategy: $((n - got)) of $n clones did not answer in 300 s"
		sleep 0.01
	done
	# Everyone alive and idle: memory, in KiB.
	local pss=0 p
	for pid in "${frpids[@]}"; do
		pids+=("$(pgrep -P "$pid")") || die "a clone ($strategy) is gone"
	done
	for pid in "${pids[@]}"; do
		p=$(awk '/^Pss:/ { pss = $2 } /^Private_(Clean|Dirty):/ { priv += $2 }
			END { print pss, priv }' "/proc/$pid/smaps_rollup")
		pss=$((pss + ${p% *}))
		echo "${p#* }" >>"$r.private"
	done
	echo "$pss" >"$r.pss"
	kill -TERM "${pids[@]}"
	for pid in "${frpids[@]}"; do
		wait "$pid" 2>/dev/null
	done
	local last=0 first
	for ((i = 0; i < n; i++)); do
		first=$(sed -n 's/^first_response_us=\([0-9]*\) .*/\1/p' "$tmp/c$i.fr")
		[ -n "$first" ] || die "clone $i ($strategy): no first response: $(cat "$tmp/c$i.fr")"
		echo "$first" >>"$r.first"
		[ $((starts[i] + first)) -le "$last" ] || last=$((starts[i] + first))
		jq -r .restore.latency_us "$tmp/c$i.json" >>"$r.latency" ||
			die "clone $i ($strategy) wrote no stats: $(cat "$tmp/c$i.err")"
		got=$(jq -r .restore.strategy "$tmp/c$i.json")
		[ "$got" = "$strategy" ] || { [ "$strategy" = lazy ] && [ "${got#lazy}" != "$got" ]; } ||
			die "clone $i restored with $got, not $strategy"
	done
	echo "$last" >"$r.all"
}

declare -A line marker idle
line[tg]=""
marker[tg]="snapshot: resumed"
idle[tg]="^halt: idle"
guests=(tg)

# The images/ Linux at its shell, 256 MiB, snapshotted by /init itself.
if [ "$with_linux" -eq 0 ]; then
	left_out_once "Linux rows" "--no-linux"
elif ! images=$("$src/images/build-all.sh" --cached-only 2>/dev/null); then
	left_out_once "Linux rows" "no images/ Linux in the cache (run images/build-all.sh)"
else
	eval "$images"
	lcmd="console=ttyS0 panic=-1 reboot=k tsc=reliable no_timer_check noxsave"
	lcmd+=" clearcpuid=smap,popcnt,erms,fsrm noreplace-smp rodata=off percpu_alloc=page"
	lcmd+=" quiet gmvm_disk=none gmvm_snapshot=1 gmvm_end=shell"
	"$gmvm" run --kernel "$GMVM_VMLINUX" --initrd "$GMVM_INITRAMFS" --memory 256M \
		--console serial --snapshot-on-request "$tmp/snap-lx" --then stop \
		--cmdline "$lcmd" </dev/null >"$tmp/lxboot.out" 2>"$tmp/err" ||
		fail "the Linux snapshot could not be made"
	line[lx]=$'echo answer=$((6*7))\n'
	marker[lx]="answer=42"
	idle[lx]="^answer=42"
	guests+=(lx)
fi

for g in "${guests[@]}"; do
	for s in "${strategies[@]}"; do
		for n in $clones_list; do
			run_clones "$g" "$s" "$n"
		done
	done
done

# --- QEMU: the test guest from one migration stream, N at once -------------

# qemu_status SOCK: QEMU's run state on its QMP socket, or nothing.
qemu_status() {
	printf '%s\n%s\n' '{"execute": "qmp_capabilities"}' '{"execute": "query-status"}' |
		timeout 5 socat -t 0.1 - "UNIX-CONNECT:$1" 2>/dev/null |
		sed -n 's/.*"status": *"\([a-z-]*\)".*/\1/p' | tail -n 1
}

# qemu_cmd SERIAL QMP-SOCKET [RAM-FILE] -> CMD; with RAM-FILE, guest RAM is
# that file, shared (x-ignore-shared leaves it out of the stream).
qemu_cmd() {
	# shellcheck disable=SC2054 # the commas are QEMU's, inside one argument
	CMD=("$qemu" -M microvm -enable-kvm -cpu qemu64 -m 256M -nodefaults
		-no-user-config -display none -monitor none -serial "file:$1"
		-qmp "unix:$2,server=on,wait=off" -kernel "$guest"
		-append "touch=64M halt" -device isa-debug-exit,iobase=0xf4,iosize=4)
	if [ -n "${3:-}" ]; then
		CMD+=(-object "memory-backend-file,id=mem,size=256M,mem-path=$3,share=on"
			-machine memory-backend=mem)
	fi
}

# qmp_send SOCKET JSON...: send QMP commands (after qmp_capabilities).
qmp_send() {
	local sock=$1
	shift
	printf '%s\n' '{"execute": "qmp_capabilities"}' "$@" |
		timeout 10 socat -t 0.5 - "UNIX-CONNECT:$sock"
}

XIS='{"execute": "migrate-set-capabilities", "arguments": {"capabilities": [{"capability": "x-ignore-shared", "state": true}]}}'

# qemu_save KIND: boot, let the guest touch and halt, migrate it to
# $tmp/qemu-KIND.mig (KIND shared: RAM in $shmram, left out of the stream).
qemu_save() {
	local kind=$1 mig=$tmp/qemu-$1.mig ram='' cmds=()
	[ "$kind" != shared ] || ram=$shmram
	qemu_cmd "$tmp/qsave.serial" "$tmp/qsave.sock" "$ram"
	rm -f "$tmp/qsave.serial" "$tmp/qsave.sock"
	"${CMD[@]}" </dev/null >/dev/null 2>"$tmp/qemu.err" &
	qpid=$!
	bgpid=$qpid
	for ((i = 0; i < 600; i++)); do
		grep -q "halt: idle" "$tmp/qsave.serial" 2>/dev/null && break
		sleep 0.1
	done
	[ "$kind" != shared ] || cmds+=("$XIS")
	cmds+=("{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"exec:cat > $mig\"}}")
	if grep -q "halt: idle" "$tmp/qsave.serial" 2>/dev/null &&
		qmp_send "$tmp/qsave.sock" "${cmds[@]}" >/dev/null; then
		for ((i = 0; i < 600; i++)); do
			[ "$(qemu_status "$tmp/qsave.sock")" = postmigrate ] && break
			sleep 0.1
		done
	fi
	kill "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	bgpid=
	[ -s "$mig" ]
}

qemu_rows=0
qemu_shared=0
if [ "$with_qemu" -eq 0 ]; then
	left_out_once "QEMU rows" "--no-qemu"
elif ! command -v "$qemu" >/dev/null 2>&1 || ! command -v socat >/dev/null 2>&1; then
	left_out_once "QEMU rows" "$qemu or socat not found (scripts/install-deps installs both)"
else
	shmram=/dev/shm/gmvm-density-$$.ram
	cleanup_files+=("$shmram")
	if qemu_save file; then
		qemu_rows=1
	else
		left_out_once "QEMU rows" "QEMU could not save the test guest: $(tr '\n' ' ' <"$tmp/qemu.err")"
	fi
	if [ "$qemu_rows" -eq 1 ] && qemu_save shared; then
		qemu_shared=1
	elif [ "$qemu_rows" -eq 1 ]; then
		left_out_once "QEMU x-ignore-shared rows" "QEMU could not save with x-ignore-shared: $(tr '\n' ' ' <"$tmp/qemu.err")"
	fi
fi

# run_qemu KIND N: N QEMUs restoring $tmp/qemu-KIND.mig at once, each
# (shared) from its own copy of the RAM file, made as part of its restore
# since the clones would otherwise write into one RAM; results in
# $tmp/r-qemu-KIND-N.*
run_qemu() {
	local kind=$1 n=$2 i t0 pids=() done_at st p pss=0 r mig=$tmp/qemu-$1.mig
	r=$tmp/r-qemu-$kind-$n
	: >"$r.private"
	rm -f "$tmp"/q*.sock "$tmp"/q*.t
	tick
	t0=$_t
	for ((i = 0; i < n; i++)); do
		if [ "$kind" = shared ]; then
			cp --sparse=always "$shmram" "$shmram.$i"
			cleanup_files+=("$shmram.$i")
			qemu_cmd "$tmp/q$i.serial" "$tmp/q$i.sock" "$shmram.$i"
			"${CMD[@]}" -incoming defer </dev/null >/dev/null 2>"$tmp/q$i.err" &
		else
			qemu_cmd "$tmp/q$i.serial" "$tmp/q$i.sock"
			"${CMD[@]}" -incoming "exec:cat $mig" </dev/null >/dev/null 2>"$tmp/q$i.err" &
		fi
		pids+=($!)
	done
	if [ "$kind" = shared ]; then
		for ((i = 0; i < n; i++)); do
			for ((k = 0; k < 100; k++)); do
				[ -S "$tmp/q$i.sock" ] && break
				sleep 0.02
			done
			qmp_send "$tmp/q$i.sock" "$XIS" \
				"{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"exec:cat $mig\"}}" >/dev/null &
		done
	fi
	bgpid="${pids[*]}"
	# One poller per clone, every 50 ms: each time is up to that late.
	local pollers=()
	for ((i = 0; i < n; i++)); do
		(
			until [ "$(qemu_status "$tmp/q$i.sock")" = running ]; do
				kill -0 "${pids[i]}" 2>/dev/null || exit 1
				sleep 0.05
			done
			tick
			echo $((_t - t0)) >"$tmp/q$i.t"
		) &
		pollers+=($!)
	done
	for ((i = 0; i < n; i++)); do
		wait "${pollers[i]}" || die "QEMU clone $i of $n ended: $(cat "$tmp/q$i.err")"
	done
	done_at=0
	: >"$r.first"
	for ((i = 0; i < n; i++)); do
		st=$(cat "$tmp/q$i.t")
		echo "$st" >>"$r.first"
		[ "$st" -le "$done_at" ] || done_at=$st
	done
	echo "$done_at" >"$r.all"
	local j=0 copy
	for i in "${pids[@]}"; do
		# A shared RAM file's pages count whether mapped or not: its
		# copy's size in place of what of it is mapped.
		copy=0
		[ "$kind" != shared ] || copy=$(du -k "$shmram.$j" | cut -f1)
		p=$(awk -v copy="$copy" '/^Pss:/ { pss = $2 } /^Pss_Shmem:/ { shm = $2 }
			/^Private_(Clean|Dirty):/ { priv += $2 }
			END { if (copy) { pss += copy - shm; priv += copy - shm }
			      print pss, priv }' "/proc/$i/smaps_rollup")
		pss=$((pss + ${p% *}))
		echo "${p#* }" >>"$r.private"
		j=$((j + 1))
	done
	echo "$pss" >"$r.pss"
	kill "${pids[@]}" 2>/dev/null
	for i in "${pids[@]}"; do
		wait "$i" 2>/dev/null
	done
	bgpid=
	[ "$kind" != shared ] || for ((i = 0; i < n; i++)); do rm -f "$shmram.$i"; done
}

if [ "$qemu_rows" -eq 1 ]; then
	for n in $clones_list; do
		run_qemu file "$n"
		[ "$qemu_shared" -eq 0 ] || run_qemu shared "$n"
	done
fi

declare -A gname=([tg]="test guest" [lx]="Linux")
echo "bench/density.sh: clones of one snapshot (256 MiB RAM) restored at once"
echo "  host:   $(host_desc)"
print_load
echo "  gmvm:   $gmvm_exe"
echo "  test guest: $((data_kib / 1024)) MiB of data; each clone rewrites $((WRITTEN_KIB / 1024)) MiB, then halts"
[ ! -e "$tmp/snap-lx/memory" ] ||
	echo "  Linux: $(($(du -k "$tmp/snap-lx/memory" | cut -f1) / 1024)) MiB of data; each clone answers a command at its shell and waits there"
echo
printf '  %-10s %-6s %4s %10s %18s %18s %10s %16s\n' guest strategy N "restores/s" \
	"latency p50/p99" "first resp p50/p99" "PSS sum" "private p50/max"
printf '  %-10s %-6s %4s %10s %18s %18s %10s %16s\n' "" "" "" "" "(ms)" "(ms)" "(MiB)" "(MiB)"
file_private_max=0
declare -A min_rate	# strategy -> its lowest rate with 10 or more at once
linux_pss_50=
for g in "${guests[@]}"; do
for s in "${strategies[@]}"; do
	for n in $clones_list; do
		r=$tmp/r-$g-$s-$n
		rate=$(awk -v n="$n" -v us="$(cat "$r.all")" 'BEGIN { printf "%.0f", n * 1e6 / us }')
		printf '  %-10s %-6s %4s %10s %18s %18s %10s %16s\n' "${gname[$g]}" "$s" "$n" "$rate" \
			"$(ms "$(pct "$r.latency" 50)")/$(ms "$(pct "$r.latency" 99)")" \
			"$(ms "$(pct "$r.first" 50)")/$(ms "$(pct "$r.first" 99)")" \
			"$(($(cat "$r.pss") / 1024))" \
			"$(awk -v k="$(pct "$r.private" 50)" 'BEGIN { printf "%.1f", k / 1024 }')/$(awk -v k="$(pct "$r.private" 100)" 'BEGIN { printf "%.1f", k / 1024 }')"
		if [ "$g" = tg ] && [ "$n" -ge 10 ] &&
			{ [ -z "${min_rate[$s]:-}" ] || [ "$rate" -lt "${min_rate[$s]}" ]; }; then
			min_rate[$s]=$rate
		fi
		if [ "$g" = tg ] && [ "$s" = file ]; then
			p=$(pct "$r.private" 100)
			[ "$p" -le "$file_private_max" ] || file_private_max=$p
		fi
		if [ "$g" = lx ] && [ "$n" = 50 ]; then
			p=$(cat "$r.pss")
			if [ -z "$linux_pss_50" ] || [ "$p" -lt "${linux_pss_50% *}" ]; then
				linux_pss_50="$p $s"
			fi
		fi
	done
done
done
qrows=()
[ "$qemu_rows" -eq 0 ] || qrows+=(file)
[ "$qemu_shared" -eq 0 ] || qrows+=(shared)
for kind in ${qrows[@]+"${qrows[@]}"}; do
	for n in $clones_list; do
		r=$tmp/r-qemu-$kind-$n
		printf '  %-10s %-6s %4s %10s %18s %18s %10s %16s\n' "test guest" "Q-$kind" "$n" \
			"$(awk -v n="$n" -v us="$(cat "$r.all")" 'BEGIN { printf "%.0f", n * 1e6 / us }')" \
			"-" "$(ms "$(pct "$r.first" 50)")/$(ms "$(pct "$r.first" 99)")" "$(($(cat "$r.pss") / 1024))" \
			"$(awk -v k="$(pct "$r.private" 50)" 'BEGIN { printf "%.1f", k / 1024 }')/$(awk -v k="$(pct "$r.private" 100)" 'BEGIN { printf "%.1f", k / 1024 }')"
	done
done
if [ "$qemu_rows" -eq 1 ]; then
	echo "  (Q-file: $("$qemu" --version | head -n 1), -incoming from one migration stream;"
	echo "   Q-shared: RAM in a shared file, each clone's own sparse copy of it made first, the stream"
	echo "   without it (x-ignore-shared); first response: \"running\" on QMP, polled every 50 ms)"
fi
for line in ${left_out_lines[@]+"${left_out_lines[@]}"}; do
	echo "$line"
done
echo
echo "Goals:"
best=
for s in "${!min_rate[@]}"; do
	[ -n "$best" ] && [ "${min_rate[$s]}" -le "${min_rate[$best]}" ] || best=$s
done
if [ -n "$best" ]; then
	rates=
	for s in "${strategies[@]}"; do
		[ -z "${min_rate[$s]:-}" ] || rates+="${rates:+, }$s ${min_rate[$s]}"
	done
	if [ "${min_rate[$best]}" -ge 100 ]; then
		goal PASS ">= 100 restores/s with 10 or more at once, the best strategy's: $best ($rates)"
	else
		goal FAIL ">= 100 restores/s with 10 or more at once, the best strategy's: $best ($rates)"
	fi
else
	goal_left_out ">= 100 restores/s" "no N of 10 or more in --clones"
fi
if [[ " ${strategies[*]} " == *" file "* ]]; then
	want=$((WRITTEN_KIB + 2048))
	if [ "$file_private_max" -le "$want" ]; then
		goal PASS "--restore file: private memory per clone <= written + 2 MiB: at most $((file_private_max / 1024)) MiB"
	else
		goal FAIL "--restore file: private memory per clone <= written + 2 MiB ($((want / 1024)) MiB): $((file_private_max / 1024)) MiB"
	fi
else
	goal_left_out "--restore file's private memory" "no file restore here"
fi
if [ -n "$linux_pss_50" ]; then
	if [ "${linux_pss_50% *}" -le $((2048 * 1024)) ]; then
		goal PASS "50 Linux clones of 256 MiB alive within 2 GiB: $((${linux_pss_50% *} / 1024)) MiB (${linux_pss_50#* })"
	else
		goal FAIL "50 Linux clones of 256 MiB alive within 2 GiB: $((${linux_pss_50% *} / 1024)) MiB at best (${linux_pss_50#* })"
	fi
else
	goal_left_out "50 Linux clones within 2 GiB" "no Linux rows with N=50"
fi
goals_exit
