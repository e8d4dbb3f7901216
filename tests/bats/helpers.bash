# Shared helpers of the gmvm Bats suite. Each .bats file does
#   load helpers
# and gets bats-support, bats-assert and the functions below.
#
# The environment comes from AM_TESTS_ENVIRONMENT (Makefile.am): GMVM,
# TESTGUEST, TESTGUEST_NOPVH, TESTGUEST_BZIMAGE, TOOLS. HIDE_HOST defaults to
# the hide_host shim built in TOOLS.

BATS_LIB_DIR=${BATS_LIB_DIR:-/usr/lib/bats}
load "$BATS_LIB_DIR/bats-support/load.bash"
load "$BATS_LIB_DIR/bats-assert/load.bash"
bats_require_minimum_version 1.5.0	# run --separate-stderr

: "${GMVM:?GMVM is not set: run the suite through make check}"
: "${TESTGUEST:?TESTGUEST is not set: run the suite through make check}"
: "${TESTGUEST_NOPVH:=$(dirname "$TESTGUEST")/testguest-nopvh.elf}"
: "${TESTGUEST_BZIMAGE:=$(dirname "$TESTGUEST")/testguest.bzImage}"
: "${HIDE_HOST:=${TOOLS:-$(dirname "$GMVM")/tests/tools}/hide_host}"

# Seconds any one gmvm run may take before the test fails as hung.
GMVM_TIMEOUT=${GMVM_TIMEOUT:-60}

# Skip the test unless this host has a usable /dev/kvm.
require_kvm() {
	if [ ! -e /dev/kvm ]; then
		skip "no /dev/kvm: this host offers no KVM"
	elif [ ! -c /dev/kvm ]; then
		skip "no /dev/kvm: /dev/kvm is not a character device"
	elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		skip "no /dev/kvm: /dev/kvm is not readable and writable by $(id -un)"
	fi
}

# Fail the test unless COMMAND is installed: every command the tests use
# comes from a package scripts/install-deps installs (PACKAGE, default the
# command's own name), so a missing one is a broken setup, never a skip.
require_command() {
	command -v "$1" >/dev/null 2>&1 ||
		fail "$1 is not installed: run scripts/install-deps (Debian package ${2:-$1})"
}

# Fail the test unless FILE exists (a missing build output is an error,
# never a skip).
require_file() {
	[ -f "$1" ] || fail "$1 is missing: build it first (make check builds it)"
}

# gmvm [ARG]...: gmvm with a time limit, so that a hung VM fails the test
# (status 124) instead of hanging the suite. Its stdin is $GMVM_STDIN, by
# default /dev/null (never the terminal make check may run on).
gmvm() {
	timeout --kill-after=10 "$GMVM_TIMEOUT" "$GMVM" "$@" <"${GMVM_STDIN:-/dev/null}"
}

# gmvm_background OUT ERR [ARG]...: start gmvm (under timeout) in the
# background, stdout to OUT and stderr to ERR. GMVM_PID is timeout's pid
# (which passes TERM, INT and HUP on to gmvm): `wait "$GMVM_PID"` gives
# gmvm's exit status. gmvm_pid gives gmvm's own pid, to signal it alone.
gmvm_background() {
	local out=$1 err=$2
	shift 2
	timeout --kill-after=10 "$GMVM_TIMEOUT" "$GMVM" "$@" \
		<"${GMVM_STDIN:-/dev/null}" >"$out" 2>"$err" &
	GMVM_PID=$!
}

# stop_background_gmvm: end the gmvm gmvm_background started, if any (a
# test's teardown: one that failed half-way leaves it running).
stop_background_gmvm() {
	if [ -n "${GMVM_PID:-}" ]; then
		kill "$GMVM_PID" 2>/dev/null || true
		wait "$GMVM_PID" 2>/dev/null || true
	fi
}

# stop_bg_pids: kill and reap the background commands a test listed in
# BG_PIDS (a teardown's: one that failed half-way leaves them running).
stop_bg_pids() {
	local pid
	for pid in ${BG_PIDS:-}; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

# gmvm_pid: the pid of the gmvm started by gmvm_background.
gmvm_pid() {
	local pid
	pid=$(pgrep -P "$GMVM_PID") || fail "gmvm (child of timeout $GMVM_PID) is not running"
	printf '%s\n' "$pid"
}

# wait_for_line FILE PATTERN: wait up to 10 s until FILE has a line matching
# the extended regexp PATTERN; fails the test otherwise.
wait_for_line() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "no line matching '$2' in $1 after 10 s: $(cat "$1" 2>/dev/null)"
}

# gmvm_run [ARG]...: `gmvm run` of the test guest (PVH ELF) with extra
# options. Use with bats' `run`:   run gmvm_run --cmdline hello
gmvm_run() {
	gmvm run --kernel "$TESTGUEST" "$@"
}

# gmvm_run_kernel KERNEL [ARG]...: `gmvm run` of another kernel image.
gmvm_run_kernel() {
	local kernel=$1
	shift
	gmvm run --kernel "$kernel" "$@"
}

# gmvm_hiding FEATURES [ARG]...: gmvm under hide_host, which makes it see a
# host without FEATURES (gmem, memory2, uffd-minor, uffd; comma-separated).
gmvm_hiding() {
	local features=$1
	shift
	require_file "$HIDE_HOST"
	timeout --kill-after=10 "$GMVM_TIMEOUT" \
		"$HIDE_HOST" --hide "$features" -- "$GMVM" "$@" <"${GMVM_STDIN:-/dev/null}"
}

# gmvm_without_gmem [ARG]...: gmvm on a host without guest_memfd.
gmvm_without_gmem() {
	gmvm_hiding gmem "$@"
}

# --- What the host offers ---
# Tests follow `gmvm caps --json`, read once per .bats file. Under make
# check's per-feature passes $GMVM runs under hide_host (tests/bats/run-bats),
# so caps and every run see the same reduced host.

# host_caps: the JSON of `gmvm caps --json`.
host_caps() {
	local f=${BATS_FILE_TMPDIR:?}/host-caps.json
	if [ ! -s "$f" ]; then
		"$GMVM" caps --json >"$f.new" 2>/dev/null || fail "gmvm caps --json failed"
		mv "$f.new" "$f"
	fi
	cat "$f"
}

# caps_jq FILTER: jq -e FILTER on host_caps; its status says whether the
# answer is true (neither false nor null).
caps_jq() {
	jq -e "$1" <<<"$(host_caps)" >/dev/null
}

# offers BACKEND WHAT: whether this host offers WHAT on BACKEND: boot (run,
# snapshot, eager restore), lazy-load, lazy-missing or lazy-minor.
offers() {
	case $2 in
	boot) caps_jq ".backends.$1.offers.boot" ;;
	lazy-load) caps_jq ".backends.$1.offers.lazy_load" ;;
	eager | lazy-missing | lazy-minor)
		caps_jq ".backends.$1.offers.restore | index(\"$2\") != null" ;;
	*) fail "offers: unknown feature '$2'" ;;
	esac
}

# offer_missing BACKEND WHAT: what the host lacks for it, in words.
offer_missing() {
	local uffd
	uffd=$(jq -r 'if .userfaultfd.available then "" else " (\(.userfaultfd.reason))" end' <<<"$(host_caps)")
	[ "$1" = gmem ] && ! offers gmem boot && {
		echo "this host does not offer guest_memfd"
		return
	}
	case $2 in
	boot | eager) echo "this host cannot back guest RAM with $1" ;;
	lazy-load | lazy-missing) echo "this host cannot register $1 memory for userfaultfd MISSING faults$uffd" ;;
	lazy-minor) echo "this host has no userfaultfd MINOR faults on $1 memory$uffd" ;;
	esac
}

# require_offer BACKEND WHAT...: skip the test, naming what is missing,
# unless this host offers every WHAT on BACKEND.
require_offer() {
	local backend=$1 what
	shift
	for what in "$@"; do
		offers "$backend" "$what" || skip "$(offer_missing "$backend" "$what")"
	done
}

# backends_offering WHAT: the backends that offer WHAT here, one per line.
backends_offering() {
	local b
	for b in gmem memfd anon; do
		offers "$b" "$1" && echo "$b"
	done
	return 0
}

# default_backend: the backend gmvm picks when none is named.
default_backend() {
	jq -r .default_backend <<<"$(host_caps)"
}

# hex_head FILE N / hex_tail FILE N: the first/last N bytes of FILE as
# lowercase hex without separators, like the test guest prints them.
hex_head() {
	head -c "$2" "$1" | od -An -v -tx1 | tr -d ' \n'
}

hex_tail() {
	tail -c "$2" "$1" | od -An -v -tx1 | tr -d ' \n'
}

# file_size FILE: its size in bytes.
file_size() {
	stat -c %s "$1"
}

# checksum_of OUTPUT: the checksum from the touch workload's summary line.
checksum_of() {
	sed -n 's/^touch: .* bad words, checksum \(0x[0-9a-f]*\)$/\1/p' <<<"$1"
}

# run_on_pty DIR COMMAND INPUT...: run COMMAND (a shell command line) on a
# pseudo-terminal with script(1). The terminal settings are saved in
# DIR/stty.before and DIR/stty.after (stty -g, around COMMAND), COMMAND's
# exit status in DIR/status, and everything written to the terminal in
# DIR/out. Once the terminal shows "spin: running" or "echo: waiting" (the
# guest waits for input), the INPUT strings are typed, one printf format
# each, 0.2 s apart. Returns when COMMAND has finished or 30 s have passed.
# shellcheck disable=SC2094	# DIR/out is written by script, polled by the typist
run_on_pty() {
	local dir=$1 cmd=$2 i
	shift 2
	local script_cmd="stty -g > '$dir/stty.before'; $cmd; echo \$? > '$dir/status.tmp'; stty -g > '$dir/stty.after'; mv '$dir/status.tmp' '$dir/status'"

	rm -f "$dir/status" "$dir/out"
	{
		for ((i = 0; i < 100 && $# > 0; i++)); do
			grep -qE 'spin: running|echo: waiting' "$dir/out" 2>/dev/null && break
			[ -e "$dir/status" ] && break
			sleep 0.1
		done
		(($# == 0)) || sleep 0.2
		for input in "$@"; do
			# shellcheck disable=SC2059
			printf "$input"
			sleep 0.2
		done
		# Keep the terminal's input open until the command is done: an
		# end of file would reach the guest as a Ctrl-D.
		for ((i = 0; i < 300; i++)); do
			[ -e "$dir/status" ] && break
			sleep 0.1
		done
	} | timeout --kill-after=5 40 script -qec "$script_cmd" /dev/null >"$dir/out" 2>&1
}

# assert_error STATUS TEXT...: after `run --separate-stderr`, gmvm exited
# with STATUS, printed nothing on stdout, and its stderr has a
# "gmvm: error: " line containing every TEXT (the message must name the
# problem).
assert_error() {
	local want=$1 text line found=
	shift
	assert_failure "$want"
	assert_output ''
	while IFS= read -r line; do
		[[ "$line" == "gmvm: error: "* ]] || continue
		found=$line
		for text in "$@"; do
			[[ "$line" == *"$text"* ]] || found=
		done
		[ -n "$found" ] && return 0
	done <<<"$stderr"
	fail "no 'gmvm: error:' line on stderr containing all of: $(printf "'%s' " "$@")
stderr: $stderr"
}

# assert_bad_usage TEXT...: exit status 2 with an error naming TEXT.
assert_bad_usage() {
	assert_error 2 "$@"
}

# strace_gmvm FILE CALLS ARG...: gmvm ARG... under strace -f, the system
# calls CALLS (strace -e trace=) written to FILE. LeakSanitizer cannot work
# under ptrace: its leak check is off for this run (sanitizer builds).
strace_gmvm() {
	local file=$1 calls=$2
	shift 2
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -e trace="$calls" -o "$file" "$GMVM" "$@"
}
