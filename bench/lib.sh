# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# bench/lib.sh: what the benchmark scripts (bench/*.sh) share, sourced by
# each of them first thing: the command line, finding the build tree and the
# tools, the timer, running and checking commands, medians, the header lines
# about the host, and the goals.
#
# Sourcing it sets the shell options the scripts rely on, prog and src, and
# the defaults of the shared options; everything else is a function the
# script calls. The script defines usage (for --help) and, before
# parse_args, the table of its own options.

# Variables set here are the scripts' to use, and the scripts' (runs, tmp,
# options, usage) are used here.
# shellcheck disable=SC2034,SC2154,SC2317

set -u
set -o pipefail
export LC_ALL=C

prog=${0##*/}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

strict=0	# --strict: a missed goal makes the exit status 3
build=		# BUILD_DIR operand, then the build tree's absolute path
qemu=${QEMU:-qemu-system-x86_64}

# ------------------------------------------------------------ command line

# die TEXT: print an error and exit with $DIE_STATUS (default 1).
die() {
	echo "$prog: error: $*" >&2
	exit "${DIE_STATUS:-1}"
}

# usage_die TEXT: a bad command line; exit with status 2.
usage_die() {
	echo "$prog: $*" >&2
	echo "Try '$prog --help'." >&2
	exit 2
}

# parse_args ARGS...: the command line. The script's options come from its
# associative array options: option -> variable it sets from the next
# argument (or from --option=VALUE), or "variable=value" for an option that
# takes no value. --strict, -h/--help, -- and the BUILD_DIR operand are
# handled here.
parse_args() {
	local var
	while [ $# -gt 0 ]; do
		case $1 in
		--strict) strict=1; shift ;;
		-h | --help) usage; exit 0 ;;
		--) shift; break ;;
		--*=*)
			var=${options[${1%%=*}]:-}
			case $var in
			'' | *=*) usage_die "unknown option '$1'" ;;
			esac
			printf -v "$var" '%s' "${1#*=}"
			shift
			;;
		-*)
			var=${options[$1]:-}
			case $var in
			'') usage_die "unknown option '$1'" ;;
			*=*)
				printf -v "${var%%=*}" '%s' "${var#*=}"
				shift
				;;
			*)
				[ $# -ge 2 ] || usage_die "$1 needs a value"
				printf -v "$var" '%s' "$2"
				shift 2
				;;
			esac
			;;
		*)
			[ -z "$build" ] || usage_die "more than one build directory given"
			build=$1
			shift
			;;
		esac
	done
	if [ $# -gt 0 ]; then
		if [ -n "$build" ] || [ $# -ne 1 ]; then
			usage_die "too many arguments"
		fi
		build=$1
	fi
}

# check_runs MIN: --runs must be a number, at least MIN.
check_runs() {
	case $runs in
	'' | *[!0-9]*) usage_die "--runs: '$runs' is not a number" ;;
	esac
	[ "$runs" -ge "$1" ] || usage_die "--runs: need at least $1 runs, got $runs"
}

# bytes SIZE: a size with an M or G suffix, in bytes (empty when malformed).
bytes() {
	case $1 in
	[1-9]*M) [[ ${1%M} =~ ^[0-9]+$ ]] && echo $((${1%M} << 20)) ;;
	[1-9]*G) [[ ${1%G} =~ ^[0-9]+$ ]] && echo $((${1%G} << 30)) ;;
	esac
}

# usage_end ENVIRONMENT [EXIT_STATUS]: the end of --help: what BUILD_DIR
# is, the ENVIRONMENT paragraph, and EXIT_STATUS (default: the usual exit
# statuses).
usage_end() {
	cat <<EOF

BUILD_DIR is a gmvm build tree holding gmvm and tests/guest/testguest.elf.
Default: \$GMVM_BUILD_DIR, else ./build, else $src/build, else /tmp/b.
$1

${2:-Exit status: 0 measured (goals met or not, unless --strict); 1 a run failed
or gave the wrong exit status; 2 bad usage or missing programs/files;
3 with --strict, a goal was missed.}
EOF
}

# ------------------------------------------------------------------ set-up

# find_build [COMMAND...]: the build tree (the BUILD_DIR operand, else
# $GMVM_BUILD_DIR, ./build, $src/build, /tmp/b) into build, and its gmvm and
# test guest into gmvm and guest; dies when they are missing, or when that
# gmvm lacks a COMMAND. $GMVM, when set, is run instead of the build tree's
# gmvm: a wrapper that execs it, for instance under tests/tools/hide_host to
# see what the scripts do on a host without some feature; gmvm_exe stays the
# build tree's binary, which a running monitor's /proc/PID/exe names.
find_build() {
	local d c build_arg=$build
	if [ -z "$build" ]; then
		for d in "${GMVM_BUILD_DIR:-}" ./build "$src/build" /tmp/b; do
			[ -n "$d" ] && [ -x "$d/gmvm" ] && { build=$d; break; }
		done
		[ -n "$build" ] || die "no gmvm build found (tried \$GMVM_BUILD_DIR, ./build, $src/build, /tmp/b);
  build one with scripts/build, or pass the build directory as an argument"
	fi
	build=$(cd "$build" 2>/dev/null && pwd) || die "build directory '${build_arg:-$build}' does not exist"
	gmvm_exe=$build/gmvm
	gmvm=${GMVM:-$gmvm_exe}
	guest=$build/tests/guest/testguest.elf
	[ -x "$gmvm_exe" ] || die "$gmvm_exe: not found or not executable (is '$build' a gmvm build tree?)"
	[ -x "$gmvm" ] || die "\$GMVM: '$gmvm' is not an executable file"
	[ -f "$guest" ] || die "$guest: not found (run make in '$build')"
	for c; do
		"$gmvm" "$c" --help >/dev/null 2>&1 || die "$gmvm has no '$c' command: too old a build?"
	done
}

# need_tools TOOL...: die unless every TOOL is on PATH.
need_tools() {
	local t
	for t; do
		command -v "$t" >/dev/null 2>&1 || die "'$t' not found; run scripts/install-deps"
	done
}

# need_qemu: die unless $qemu is on PATH (suggesting --no-qemu when the
# script has that option).
need_qemu() {
	command -v "$qemu" >/dev/null 2>&1 ||
		die "$qemu not found; install it with scripts/install-deps (Debian package qemu-system-x86)${options[--no-qemu]:+, or use --no-qemu}"
}

# avail_kib DIR: free space in DIR's file system, KiB.
avail_kib() { df -Pk "$1" | awk 'NR == 2 { print $4 }'; }

# fstype DIR: the type of DIR's file system.
fstype() { stat -f -c %T "$1" 2>/dev/null || echo unknown; }

# init_timer: defines tick (the time in microseconds into _t) and timer (its
# description): bash 5's $EPOCHREALTIME (no fork), else date +%s%N. Both
# read CLOCK_REALTIME, the clock of QMP's event timestamps.
init_timer() {
	if [ -n "${EPOCHREALTIME:-}" ]; then
		timer="bash \$EPOCHREALTIME (us)"
		tick() { _t=${EPOCHREALTIME/[.,]/}; }
	else
		case $(date +%s%N) in
		*[!0-9]* | '') die "no precise timer: needs bash >= 5 or GNU date +%s%N" ;;
		esac
		timer="date +%s%N (adds one fork+exec of date per stamp)"
		tick() { _t=$(($(date +%s%N) / 1000)); }
	fi
}

bgpid=		# a monitor running in the background, killed on exit
cleanup_files=()	# files removed on exit, besides $tmp

# cleanup: on exit, kill $bgpid if it still runs and remove $tmp and
# cleanup_files.
cleanup() {
	if [ -n "$bgpid" ] && kill -0 "$bgpid" 2>/dev/null; then
		kill -KILL "$bgpid" 2>/dev/null
		wait "$bgpid" 2>/dev/null
	fi
	rm -rf "$tmp"
	[ ${#cleanup_files[@]} -eq 0 ] || rm -f "${cleanup_files[@]}"
}

# make_tmp DIR NAME: a new directory DIR/NAME.XXXXXX into tmp, cleaned up
# on exit, also on SIGINT and SIGTERM.
make_tmp() {
	tmp=$(mktemp -d "$1/$2.XXXXXX") || die "mktemp in $1 failed"
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# ------------------------------------------------------- running commands

# timed COMMAND...: run it with stdin/stdout on /dev/null and stderr in
# $tmp/err. Sets rc (exit status) and us (wall time from just before the
# fork to just after the wait, in microseconds).
timed() {
	tick
	local t0=$_t
	"$@" </dev/null >/dev/null 2>"$tmp/err"
	rc=$?
	tick
	us=$((_t - t0))
}

# show_err: the last command's stderr ($tmp/err), indented, on stderr.
show_err() {
	if [ -s "$tmp/err" ]; then
		sed 's/^/    | /' "$tmp/err" >&2
	else
		echo "    (nothing on stderr)" >&2
	fi
}

# fail TEXT [LINE...]: a run went wrong: show TEXT, the LINEs, the command
# (CMD) and its stderr, and exit with status 1.
fail() {
	echo >&2
	echo "$prog: FAILED: $1" >&2
	shift
	[ $# -eq 0 ] || printf '  %s\n' "$@" >&2
	echo "  command: ${CMD[*]}" >&2
	show_err
	exit 1
}

# qemu_stderr_ok FILE: QEMU warns about CPUID bits the host lacks on every
# run; any other line on its stderr is an error, even when the exit status
# looks right (a QEMU that fails to start also exits with 1).
qemu_stderr_ok() {
	! grep -v -e 'warning:' -e '^[[:space:]]*$' "$1" >/dev/null 2>&1
}

# gmvm_info: gmvm_version and default_backend, from gmvm itself.
gmvm_info() {
	gmvm_version=$("$gmvm" --version 2>/dev/null | head -n 1)
	default_backend=$("$gmvm" caps 2>/dev/null | sed -n 's/^default backend: *//p' | head -n 1)
	[ -n "$default_backend" ] || default_backend=default
}

# ------------------------------------------------ what the host offers

# What the host offers gmvm (backends, restore strategies, userfaultfd) is
# decided from gmvm caps --json, read once: a script leaves out what the host
# cannot run, with one line saying why, rather than trying it and failing.
caps_json=

# read_caps: gmvm caps --json into caps_json, and gmvm's default backend
# into default_backend (its name alone: call it after gmvm_info, which takes
# the whole text line, reason and all). Needs jq. Dies (status 1) when gmvm
# cannot say: too old a build has no .offers.
read_caps() {
	caps_json=$("$gmvm" caps --json 2>/dev/null) ||
		die "'$gmvm caps --json' failed; cannot tell what this host offers"
	jq -e '.backends.memfd.offers.restore | type == "array"' <<<"$caps_json" >/dev/null 2>&1 ||
		die "'$gmvm caps --json' says nothing of what each backend offers (.backends.*.offers): too old a build?"
	default_backend=$(jq -r '.default_backend // "default"' <<<"$caps_json")
}

# caps_true EXPR [JQ-ARG...]: true when the jq expression EXPR (with
# JQ-ARGs such as --arg b memfd) is true of caps_json. (The $names in the
# single-quoted jq expressions below and in the scripts are jq's.)
caps_true() {
	local expr=$1
	shift
	jq -e "$@" "$expr" <<<"$caps_json" >/dev/null
}

# offers BACKEND WHAT: true when the host offers gmvm BACKEND memory for
# WHAT: boot, snapshot, lazy_load, or a restore strategy (eager,
# lazy-missing, lazy-minor).
# shellcheck disable=SC2016 # jq's $b and $w
offers() {
	case $2 in
	boot | snapshot | lazy_load)
		caps_true '.backends[$b].offers[$w] == true' --arg b "$1" --arg w "$2" ;;
	*)
		caps_true 'any(.backends[$b].offers.restore[]?; . == $w)' --arg b "$1" --arg w "$2" ;;
	esac
}

# why_not BACKEND WHAT: why the host does not offer BACKEND for WHAT (as
# for offers), with gmvm's own reason in parentheses: for a left-out line.
why_not() {
	jq -r --arg b "$1" --arg w "$2" '
		.backends[$b] as $k
		| if $k == null then "gmvm has no memory backend \($b)"
		  elif ($k.usable | not) then
			(if $b == "gmem" then "this host does not offer guest_memfd"
			 else "this host cannot use \($b) memory" end)
			+ " (\($k.reason // "no reason given"))"
		  elif ($w | startswith("lazy")) and (.userfaultfd.available | not) then
			"this host does not offer userfaultfd (\(.userfaultfd.reason // "no reason given"))"
		  elif $w == "lazy-minor" then
			"this host has no userfaultfd minor faults on \($b) memory (\($k.uffd.minor.error // "not registered"))"
		  elif $w == "lazy-missing" or $w == "lazy_load" then
			"userfaultfd cannot register \($b) memory here (\($k.uffd.missing.error // "not registered"))"
		  else "gmvm does not offer \($w) with \($b) memory here" end' <<<"$caps_json"
}

# left_out WHAT REASON: the one line saying WHAT ("gmem rows") is left out
# because the host cannot run it, and why (indented as a table's notes).
left_out() {
	echo "  $1 left out: $2"
}

left_out_lines=()	# left_out_once's lines, for the script's header

# left_out_once WHAT REASON: left_out's line into left_out_lines, unless it
# is there already (rows left out for one reason make one line).
left_out_once() {
	local line l
	line=$(left_out "$1" "$2")
	for l in ${left_out_lines[@]+"${left_out_lines[@]}"}; do
		[ "$l" != "$line" ] || return 0
	done
	left_out_lines+=("$line")
}

# probe_gmvm COMMAND...: COMMAND runs the test guest with exit=5; it must
# come back as exit status 5 (KVM works, the guest ran), else exit 1.
probe_gmvm() {
	timed "$@"
	[ "$rc" -ne 5 ] || return 0
	echo "$prog: error: gmvm cannot run the test guest here: 'gmvm run ... --cmdline exit=5' exited with $rc, expected 5" >&2
	echo "  command: $*" >&2
	show_err
	[ -e /dev/kvm ] || echo "  /dev/kvm does not exist: gmvm needs KVM" >&2
	exit 1
}

# time_floor: $runs timings of a process that does nothing, the same way as
# the runs, into $tmp/floor: the floor under every other number.
time_floor() {
	local i
	: >"$tmp/floor"
	for i in $(seq 1 "$runs"); do
		timed /bin/true
		echo "$us" >>"$tmp/floor"
	done
}

# ------------------------------------------------------------- statistics

# stats FILE -> "median min max" (integers; "- - -" when FILE is empty)
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 }
		END {
			if (!NR) { print "- - -"; exit }
			if (NR % 2) med = v[(NR + 1) / 2]
			else med = (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%d %d %d\n", med, v[1], v[NR]
		}'
}

# median FILE -> the median of its numbers
median() { stats "$1" | cut -d' ' -f1; }

# ms US -> milliseconds with 2 decimals (- stays -)
ms() {
	case $1 in
	'' | -) printf '%s' - ;;
	*) awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }' ;;
	esac
}

# -------------------------------------------------------------- reporting

# host_desc: "kernel, CPU model, N CPUs", for the header.
host_desc() {
	local cpu
	cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)
	printf '%s' "$(uname -sr), ${cpu:-unknown CPU}, $(nproc) CPUs"
}

# print_load: the header's load line, and a warning when other VMs run
# (they skew the timings).
print_load() {
	local busy
	echo "  load:   $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
	busy=$(ps -e -o pid=,comm= 2>/dev/null | awk '$2 ~ /^(gmvm|qemu-system-x86)/ { n++ } END { print n + 0 }')
	if [ "${busy:-0}" -gt 0 ]; then
		echo "  WARNING: $busy other gmvm/QEMU process(es) running; timings will be noisy"
	fi
}

missed=0	# set by goal FAIL

# goal PASS|FAIL TEXT: one line of the goals.
goal() {
	printf '  [%s] %s\n' "$1" "$2"
	[ "$1" = PASS ] || missed=1
}

# goal_left_out TEXT REASON: a goal whose rows were all left out (the host
# cannot run them): neither met nor missed.
goal_left_out() {
	printf '  [LEFT OUT] %s: %s\n' "$1" "$2"
}

# goals_exit: the end: say so when a goal was missed; exit with 3 for that
# with --strict, else 0.
goals_exit() {
	if [ "$missed" -ne 0 ]; then
		echo "Some goals were missed (see bench/README.md for how to read this)."
		[ "$strict" -eq 0 ] || exit 3
	fi
	exit 0
}
