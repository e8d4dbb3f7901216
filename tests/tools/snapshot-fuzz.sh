#!/bin/bash
# snapshot-fuzz.sh [--class CLASS] GMVM MUTATE SNAPSHOT [ARG]...
#
# Restore damaged copies of SNAPSHOT and check that gmvm handles every one
# cleanly: it ends by itself, never by a signal, without a sanitizer report,
# within the time limit, with the outcome the class allows. CLASS is what is
# damaged (MUTATE is snapshot_mutate):
#
#   vmstate COUNT [FIRST_SEED] (the default): COUNT copies, each damaged by
#     MUTATE with its own seed. Clean is: status 0 (the damage was harmless,
#     e.g. another register value), an error status and a "gmvm:" message,
#     or still running a (confused) guest after the time limit and stopping
#     cleanly when asked to (SIGTERM). Restores alternate between lazy
#     (memfd, uffd) and eager. Replay one case: MUTATE SNAPSHOT OUT SEED.
#   kinds: vmstate, memory and workingset each replaced by a FIFO nobody
#     writes, a directory, symbolic links (to a good copy, dangling, to
#     /dev/zero, a loop), the character devices /dev/zero and /dev/null, a
#     UNIX socket, an empty file. Clean is: status 2 and a message naming
#     the file and its kind, within the time limit.
#   changing: SNAPSHOT's guest, once resumed, waits for a byte on its serial
#     port and then verifies its memory (echo=1 verify). The memory file is
#     truncated (to 0, to half), overwritten with random bytes, replaced by
#     a rename or emptied by punched holes while lazy restores (missing and
#     minor faults) and eager ones run it. Clean is: a "gmvm: error:"
#     message with status 1 or 2, or the guest ending by itself (its verify
#     may see the damage, except after restore --verify), or (counted) a
#     guest still running that stops on SIGTERM.
#   workingset COUNT [FIRST_SEED]: COUNT copies with a damaged workingset
#     (MUTATE --workingset), restored with --prefetch. Clean is: status 2
#     and a message naming the working set, or, where MUTATE says the file
#     is still valid (duplicates, any order), the guest restored (0).
#   paths DISK: SNAPSHOT was taken with one disk, DISK; its recorded host
#     resources (disk0-path, disk0-readonly, net0-tap) are set to hostile
#     values (vmstate_edit, beside MUTATE: the checksum stays valid).
#     Without --recorded-resources a restore must open none of them
#     (strace proves it): status 2 without --disk, restored with a good
#     --disk; `gmvm inspect` opens none either. With --recorded-resources:
#     status 2 naming the path unless it is a regular file (a link to one
#     is followed, as for --disk), never a hang. Taps are tried in a new
#     network namespace only. gmvm's messages must not carry the values'
#     control characters raw.
#
# The classes that need a working set record one on a copy of SNAPSHOT.
# Every class prints one line per unclean case, then
#   snapshot-fuzz: N damaged snapshots: C clean (R refused, A restored, H left running), B not clean
# and exits 1 if B > 0. SNAPSHOT_FUZZ_TIMEOUT: seconds per restore (5).
set -u

class=vmstate
if [ "${1:-}" = --class ]; then
	class=$2
	shift 2
fi
gmvm=$1 mutate=$2 snap=$3
shift 3
work=$(mktemp -d "${TMPDIR:-/tmp}/gmvm-snapfuzz.XXXXXX")
bg=
cleanup() {
	[ -z "$bg" ] || kill "$bg" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
limit=${SNAPSHOT_FUZZ_TIMEOUT:-5}

total=0 clean=0 accepted=0 refused=0 hung=0 bad=0
declare -A kinds

# judge STATUS: how gmvm ended, from its exit status and $work/err: sets
# outcome to refused, restored or running, or verdict to why that is not
# clean at all.
judge() {
	local status=$1
	outcome='' verdict=''
	if grep -qE 'Sanitizer|runtime error:' "$work/err"; then
		verdict="sanitizer report"
	elif ((status == 124)); then
		outcome=running	# the guest spins; SIGTERM stopped gmvm
	elif ((status == 137)); then
		verdict="did not stop on SIGTERM"
	elif ((status >= 128)); then
		verdict="killed by signal $((status - 128))"
	elif ((status == 0)); then
		outcome=restored
	elif grep -q '^gmvm: ' "$work/err"; then
		outcome=refused
	else
		verdict="status $status without a message"
	fi
}

# error_has TEXT...: some "gmvm: error:" line on $work/err has every TEXT.
error_has() {
	local line text ok
	while IFS= read -r line; do
		[[ "$line" == "gmvm: error: "* ]] || continue
		ok=1
		for text in "$@"; do
			[[ "$line" == *"$text"* ]] || ok=
		done
		[ -n "$ok" ] && return 0
	done <"$work/err"
	return 1
}

# expect STATUS OUTCOME... [-- TEXT...]: after judge, gmvm must have ended
# with one of the OUTCOMEs, a refusal with exit status STATUS (any: -) and
# a "gmvm: error:" line with every TEXT. Sets verdict otherwise.
expect() {
	local want_status=$1 ok=''
	shift
	while (($# > 0)) && [ "$1" != -- ]; do
		[ "$outcome" = "$1" ] && ok=1
		shift
	done
	(($# > 0)) && shift
	[ -n "$verdict" ] && return
	if [ -z "$ok" ] && [ "$outcome" = running ]; then
		verdict="hung: still running after $limit s (SIGTERM stopped it)"
	elif [ -z "$ok" ] && [ "$outcome" = restored ]; then
		verdict="accepted (status 0), not what this case allows"
	elif [ -z "$ok" ]; then
		verdict="$outcome (status $status), not what this case allows"
	elif [ "$outcome" = refused ]; then
		if [ "$want_status" != - ] && ((status != want_status)); then
			verdict="refused with status $status, not $want_status"
		elif ! error_has "$@"; then
			verdict="no 'gmvm: error:' line with: $(printf "'%s' " "$@")"
		fi
	fi
}

# tally CASE [WHAT]: count the case judged last; print it when it was
# not clean: "CASE: verdict[: WHAT]" and gmvm's output (escapes made
# visible: not for the terminal reading the log).
tally() {
	local msg
	total=$((total + 1))
	if [ -n "$verdict" ]; then
		bad=$((bad + 1))
		printf '%s: %s%s\n  %s\n' "$1" "$verdict" "${2:+: $2}" \
			"$(cat "$work/err" "$work/out" 2>/dev/null | head -c 2000 | cat -v)"
		return
	fi
	clean=$((clean + 1))
	case $outcome in
	running) hung=$((hung + 1)) ;;
	restored) accepted=$((accepted + 1)) ;;
	refused)
		refused=$((refused + 1))
		msg=$(grep -m1 '^gmvm: ' "$work/err" | sed -E "s|$work/s|SNAP|g; s/\b(0x[0-9a-f]+|[0-9]+)\b/N/g" | cut -c1-90)
		kinds[$msg]=$((${kinds[$msg]:-0} + 1))
		;;
	esac
}

# run_gmvm ARG...: gmvm with the time limit, stdin /dev/null, output in
# $work/out and $work/err; sets status.
run_gmvm() {
	status=0
	timeout -k 5 "$limit" "$gmvm" "$@" </dev/null >"$work/out" 2>"$work/err" || status=$?
}

# offers BACKEND WHAT: whether gmvm caps says this host offers WHAT (eager,
# lazy-missing, lazy-minor) on BACKEND.
offers() {
	[ -f "$work/caps.json" ] || "$gmvm" caps --json >"$work/caps.json" 2>/dev/null
	jq -e ".backends.$1.offers.restore | index(\"$2\") != null" "$work/caps.json" >/dev/null
}

# with_workingset: $base, a copy of SNAPSHOT with a working set recorded
# by a lazy restore of its own (one is needed to damage and replace).
with_workingset() {
	base=$work/base
	cp -r --sparse=always "$snap" "$base"
	[ -f "$base/workingset" ] && return
	run_gmvm restore --snapshot "$base" --restore lazy --memory-backend memfd \
		--record-working-set --console none
	[ -f "$base/workingset" ] || {
		echo "snapshot-fuzz: no working set recorded from $snap (status $status): $(cat "$work/err")" >&2
		exit 1
	}
}

# --- vmstate: random damage by MUTATE ---
class_vmstate() {
	local count=$1 seed=${2:-1} dir=$work/s what i mode
	for ((i = 0; i < count; i++, seed++)); do
		rm -rf "$dir"
		what=$("$mutate" "$snap" "$dir" "$seed") || {
			echo "seed $seed: snapshot_mutate failed" >&2
			exit 1
		}
		if ((seed % 2)); then
			mode=(--restore lazy --memory-backend memfd)
		else
			mode=(--restore eager)
		fi
		run_gmvm restore --snapshot "$dir" "${mode[@]}" --recorded-resources --console none
		judge "$status"
		tally "seed $seed (${mode[*]})" "$what"
	done
}

# --- kinds: each file replaced by something that is not a regular file ---

# make_kind FILE KIND: replace FILE (a copy of $base's) by a KIND; fails
# when this host cannot make one (mknod needs CAP_MKNOD and a mount
# without nodev). Sets why to the words gmvm's message must have.
make_kind() {
	local f=$1 name=${1##*/}
	rm -rf "$f"
	why="is a symbolic link, not a regular file"
	case $2 in
	fifo) mkfifo "$f"; why="is a FIFO, not a regular file" ;;
	directory) mkdir "$f"; why="is a directory, not a regular file" ;;
	# A dangling or looping link is there too: refused as a link, not
	# taken as no working set (access() follows links; gmvm no longer asks it).
	link-to-copy) ln -s "$work/$name.copy" "$f" ;;
	dangling-link) ln -s "$work/gone" "$f" ;;
	link-to-dev-zero) ln -s /dev/zero "$f" ;;
	link-loop) ln -s "$name" "$f" ;;	# itself: ELOOP
	dev-zero | dev-null)
		# gmvm looks (stat) before it opens: a device is refused unopened.
		mknod "$f" c 1 "$([ "$2" = dev-zero ] && echo 5 || echo 3)" 2>/dev/null &&
			: <"$f" 2>/dev/null || return 1
		why="is a character device, not a regular file"
		;;
	socket) ln "$work/socket" "$f"; why="is a socket, not a regular file" ;;
	empty)
		: >"$f"
		case $name in
		vmstate) why="size 0 is not that of a vmstate" ;;
		memory) why="0 bytes, shorter than" ;;
		workingset) why="not a gmvm working set file" ;;
		esac
		;;
	esac
}

class_kinds() {
	local dir=$work/s f kind mode notmade=
	local -a modes
	with_workingset
	for f in vmstate memory workingset; do
		cp --sparse=always "$base/$f" "$work/$f.copy"
	done
	# A socket file stays when its listener is gone; hard links to it
	# are sockets too.
	timeout 0.3 socat "UNIX-LISTEN:$work/socket,unlink-close=0" /dev/null
	[ -S "$work/socket" ] || {
		echo "snapshot-fuzz: socat made no socket" >&2
		exit 1
	}
	for f in vmstate memory workingset; do
		if [ $f = workingset ]; then
			# Read only for --prefetch, and checked by inspect.
			modes=("restore --restore lazy --memory-backend memfd --prefetch" inspect)
			offers memfd lazy-minor && modes+=("${modes[0]} --uffd-mode minor")
		else
			modes=("restore --restore eager" "restore --restore lazy --memory-backend memfd" inspect)
		fi
		for kind in fifo directory link-to-copy dangling-link link-to-dev-zero link-loop \
			dev-zero dev-null socket empty; do
			for mode in "${modes[@]}"; do
				rm -rf "$dir"
				cp -r --sparse=always "$base" "$dir"
				make_kind "$dir/$f" "$kind" || {
					notmade="$notmade $kind"
					continue
				}
				if [ "$mode" = inspect ]; then
					run_gmvm inspect "$dir"
				else
					# shellcheck disable=SC2086	# mode is words
					run_gmvm $mode --snapshot "$dir" --console none
				fi
				judge "$status"
				expect 2 refused -- "$dir/$f: " "$why"
				tally "$f as $kind ($mode)"
			done
		done
	done
	[ -z "$notmade" ] || echo "snapshot-fuzz: not made on this host:$(tr ' ' '\n' <<<"$notmade" | sort -u | tr '\n' ' ')"
}

# --- changing: the memory file damaged while a restore uses it ---

# damage FILE CHANGE: CHANGE the memory file FILE in place or under it.
damage() {
	local m=$1 size
	size=$(stat -c %s "$m")
	case $2 in
	truncate-0) truncate -s 0 "$m" ;;
	truncate-half) truncate -s $((size / 2)) "$m" ;;
	random) head -c "$size" /dev/urandom | dd of="$m" bs=1M conv=notrunc status=none ;;
	# A new file, half as long, renamed over it: gmvm keeps the one it
	# opened; one that opens it now must refuse it.
	rename)
		cp --sparse=always "$m" "$m.new" && truncate -s $((size / 2)) "$m.new" &&
			mv "$m.new" "$m"
		;;
	punch-holes) fallocate --punch-hole --offset 0 --length "$size" "$m" ;;
	esac
}

class_changing() {
	local dir=$work/s change mode when line seen what c=0 r
	local -a modes=() args
	# When a racing damage lands: before gmvm starts, or this many seconds
	# after. Each mode gets (change + mode) % 4, so that across the
	# changes it meets each one, the same every run.
	local timings=(before 0 0.005 0.02)
	local guest_ok=0 guest_damaged=0
	# Lazy restores waiting for their guest's byte fill nothing (no
	# background): the guest reads what the damage left. The others race
	# the damage against the restore's own copy or background fill.
	if offers memfd lazy-missing; then
		modes+=("wait:--restore lazy --memory-backend memfd --uffd-mode missing --no-background")
		modes+=("race:--restore lazy --memory-backend memfd --uffd-mode missing")
	fi
	if offers memfd lazy-minor; then
		modes+=("wait:--restore lazy --memory-backend memfd --uffd-mode minor --no-background")
		modes+=("race:--restore lazy --memory-backend memfd --uffd-mode minor")
	fi
	modes+=("race:--restore eager")
	# --verify checks the RAM it copied against the snapshot's memory
	# checksums: the guest must never run on damage.
	modes+=("verify:--restore eager --verify")
	# The guest may be gone before its byte is written: no SIGPIPE.
	trap '' PIPE
	for change in truncate-0 truncate-half random rename punch-holes; do
		r=0
		for mode in "${modes[@]}"; do
			rm -rf "$dir" "$work/in"
			cp -r --sparse=always "$snap" "$dir"
			mkfifo "$work/in"
			read -ra args <<<"${mode#*:}"
			# A fault stuck on the file ends gmvm (status 1) before the limit.
			[ "${args[1]}" = lazy ] && args+=(--fault-timeout 2)
			when="when the guest waits"
			if [ "${mode%%:*}" != wait ]; then
				when=${timings[(c + r) % ${#timings[@]}]}
				r=$((r + 1))
			fi
			[ "$when" = before ] && damage "$dir/memory" "$change"
			timeout -k 5 "$limit" "$gmvm" restore --snapshot "$dir" "${args[@]}" \
				--console serial <"$work/in" >"$work/out" 2>"$work/err" &
			bg=$!
			exec 7>"$work/in"
			case $when in
			before) ;;
			when*)
				for ((seen = 0; seen < 100; seen++)); do
					grep -aq '^echo: waiting' "$work/out" && break
					kill -0 "$bg" 2>/dev/null || break
					sleep 0.05
				done
				;;
			*) sleep "$when" ;;
			esac
			[ "$when" = before ] || damage "$dir/memory" "$change"
			printf x >&7 2>/dev/null
			status=0
			wait "$bg" || status=$?
			bg=
			exec 7>&-
			judge "$status"
			# The guest ended by itself: its last word, no gmvm error.
			# (-a: a guest on random memory prints random bytes.)
			line=$(grep -a '^testguest: ' "$work/out" | tail -n 1)
			if [ "$outcome" = refused ] && ! grep -q '^gmvm: error: ' "$work/err"; then
				if [ -n "$line" ]; then
					outcome=restored
				else
					verdict="status $status without an error message or the guest's last word"
				fi
			fi
			if [ "${mode%%:*}" = verify ]; then
				expect - refused restored
				[ -n "$verdict" ] || [ "$outcome" = refused ] || [ "$line" = "testguest: ok" ] ||
					verdict="--verify let the guest run on a damaged memory: $line"
			else
				expect - refused restored running
			fi
			if [ -z "$verdict" ] && [ "$outcome" = restored ]; then
				if [ "$line" = "testguest: ok" ]; then
					guest_ok=$((guest_ok + 1))
				else
					guest_damaged=$((guest_damaged + 1))
				fi
			fi
			case $when in
			before | when*) ;;
			*) when="${when} s after the start" ;;
			esac
			what="memory $change $when (restore ${mode#*:})"
			tally "$what"
			# What each case did: the damage lands at different points.
			[ -n "$verdict" ] || printf '  %s: %s\n' "$what" "$(if [ "$outcome" = restored ]; then
				echo "guest ended: ${line#testguest: }" | cut -c1-110 | cat -v
			else
				grep -m1 '^gmvm: error: ' "$work/err" | sed "s|$work/s|SNAP|g" | cut -c1-110
			fi)"
		done
		c=$((c + 1))
	done
	trap - PIPE
	echo "snapshot-fuzz: guests that ended by themselves: $guest_ok verified their memory," \
		"$guest_damaged saw the damage"
}

# --- workingset: damaged working sets used with --prefetch ---
class_workingset() {
	local count=$1 seed=${2:-1} dir=$work/s what i
	local -a mode
	with_workingset
	for ((i = 0; i < count; i++, seed++)); do
		rm -rf "$dir"
		what=$("$mutate" --workingset "$base" "$dir" "$seed") || {
			echo "seed $seed: snapshot_mutate --workingset failed" >&2
			exit 1
		}
		mode=(--restore lazy --memory-backend memfd --prefetch)
		((seed % 2)) && offers memfd lazy-minor && mode+=(--uffd-mode minor)
		run_gmvm restore --snapshot "$dir" "${mode[@]}" --console none
		judge "$status"
		# MUTATE says whether gmvm must still accept the file.
		if [[ "$what" == *": still valid" ]]; then
			expect - restored
		else
			expect 2 refused -- "$dir/workingset"
		fi
		tally "seed $seed (${mode[*]})" "$what"
	done
}

# --- paths: hostile host resources recorded in the vmstate ---

# strace_hex STRING: STRING as strace -xx prints it, quotes included.
strace_hex() {
	printf '"%s"' "$(printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n' | sed 's/../\\x&/g')"
}

# traced WHAT ARG...: run_gmvm ARG... under strace, then check that gmvm
# opened the snapshot (the trace works) and never WHAT (sets verdict).
# LeakSanitizer cannot work under ptrace: off here, on everywhere else.
traced() {
	local what=$1
	shift
	status=0
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -s 8192 -xx -e trace=open,openat,openat2,creat -o "$work/trace" \
		timeout -k 5 "$limit" "$gmvm" "$@" </dev/null >"$work/out" 2>"$work/err" || status=$?
	judge "$status"
	grep -qF "$(strace_hex "$work/s/vmstate")" "$work/trace" ||
		verdict="strace saw no open of the vmstate: no proof"
	if grep -F "$(strace_hex "$what")" "$work/trace" >"$work/opened"; then
		verdict="opened the recorded ${what@Q}: $(head -c 300 "$work/opened")"
	fi
}

# expect_restored_unless_bad: what a restore or inspect of a snapshot whose
# recorded disk ($ro, $ctl: control characters in its path) was changed
# must do: refuse readonly 2, may refuse control characters, else succeed.
expect_restored_unless_bad() {
	if [ "$ro" = 2 ]; then
		expect 2 refused -- "disk0-readonly is 2"
	elif [ -n "$ctl" ]; then
		expect 2 restored refused
	else
		expect - restored
	fi
}

# expect_tap_refused TEXT: a recorded tap ($name, $ctl as above) is refused,
# naming net0-tap when too long, else TEXT unless it has control characters.
expect_tap_refused() {
	if [ "$name" = too-long ]; then
		expect 2 refused -- "net0-tap"
	elif [ -n "$ctl" ]; then
		expect 2 refused
	else
		expect 2 refused -- "$1"
	fi
}

# clean_messages VALUE: gmvm's output has none of VALUE's control bytes
# (a snapshot must not write to the user's terminal) and no line VALUE's
# newline would forge (sets verdict).
clean_messages() {
	if [[ "$1" == *$'\e'* ]] && grep -qF $'\e' "$work/err" "$work/out"; then
		verdict="${verdict:+$verdict; }a control character from the snapshot is printed raw"
	elif [[ "$1" == *$'\n'* ]] && grep -q '^gmvm: forged' "$work/err" "$work/out"; then
		verdict="${verdict:+$verdict; }a newline from the snapshot forges a message line"
	fi
}

class_paths() {
	local disk=$1 dir=$work/s size name value ro head good ctl netns='' i
	# vmstate_edit (beside MUTATE) sets a property, checksum made valid.
	local edit=${mutate%/*}/vmstate_edit
	local -a names values regulars
	size=$(stat -c %s "$disk")
	mkdir "$work/cwd" "$work/dir"
	truncate -s "$size" "$work/copy" "$work/cwd/copy.img" "$work/victim.img"
	mkfifo "$work/fifo"
	ln -s "$work/copy" "$work/link"
	ln -s "$work/nowhere" "$work/dangling"
	# name, value, whether it is a regular file (then a restore with
	# --recorded-resources may use it).
	names=(fifo dangling-link link-to-file dev-zero directory relative
		traversal traversal-to-device empty long-name long-path newline
		escapes)
	values=("$work/fifo" "$work/dangling" "$work/link" /dev/zero "$work/dir" copy.img
		../victim.img ../../../../../../../../dev/zero "" "$work/$(printf 'n%.0s' {1..4000})"
		"$work$(printf '/d%.0s' {1..2000})" "$work/new"$'\n'"gmvm: forged by the snapshot"
		"$work/"$'\e]0;title\a\e[31mred')
	regulars=(0 0 1 0 0 1 1 0 0 0 0 0 0)
	# Found here: a read-only disk that is a FIFO hung gmvm in open()
	# (open_image); newline and escapes were printed raw by restore's
	# messages and gmvm inspect, so a snapshot wrote lines and escape
	# sequences to the user's terminal (str_escape).
	for ((i = 0; i < ${#names[@]}; i++)); do
		name=${names[i]} value=${values[i]}
		for ro in 0 1 2; do
			# readonly 2 only once: it is refused before any path matters.
			[ $ro = 2 ] && [ "$name" != fifo ] && continue
			rm -rf "$dir"
			cp -r --sparse=always "$snap" "$dir"
			"$edit" "$dir/vmstate" set-str /config disk0-path "$value" &&
				"$edit" "$dir/vmstate" set-u32 /config disk0-readonly $ro || exit 1
			head=${value:0:100}
			head=${head%%[$'\n\e']*}
			# A path with control characters may also be refused as
			# such, anywhere.
			ctl=
			[ "$head" = "${value:0:100}" ] || ctl=1
			# (a) Without --recorded-resources or --disk: refused, and
			# nothing the snapshot names is opened.
			traced "$value" restore --snapshot "$dir" --console none
			if [ $ro = 2 ]; then
				expect 2 refused -- "disk0-readonly is 2"
			elif [ -n "$ctl" ]; then
				expect 2 refused
			else
				expect 2 refused -- "virtio-blk"
			fi
			clean_messages "$value"
			tally "disk0-path $name, readonly $ro, no --disk"
			# (a') With a good --disk: restored on it, the recorded
			# path never opened.
			good=$work/copy
			[ $ro = 1 ] && good=$work/copy,ro
			traced "$value" restore --snapshot "$dir" --console none --disk "$good"
			expect_restored_unless_bad
			tally "disk0-path $name, readonly $ro, --disk $good"
			# gmvm inspect shows the path and opens nothing.
			traced "$value" inspect "$dir"
			expect_restored_unless_bad
			clean_messages "$value"
			tally "disk0-path $name, readonly $ro, gmvm inspect"
			# (b) --recorded-resources: refused naming the path unless
			# it is a regular file; never a hang on the FIFOs.
			status=0
			(cd "$work/cwd" && exec timeout -k 5 "$limit" "$gmvm" restore --snapshot "$dir" \
				--console none --recorded-resources) </dev/null >"$work/out" 2>"$work/err" ||
				status=$?
			judge "$status"
			if [ $ro = 2 ]; then
				expect 2 refused -- "disk0-readonly is 2"
			elif [ -n "$ctl" ]; then
				expect 2 refused
			elif [ "${regulars[i]}" = 1 ]; then
				expect 2 refused restored -- "$head"
			else
				expect 2 refused -- "disk $head"
			fi
			clean_messages "$value"
			tally "disk0-path $name, readonly $ro, --recorded-resources"
		done
	done
	# Taps: nets=1 added with net0-tap. Without --recorded-resources no
	# tap is touched (/dev/net/tun unopened). With it, only inside a new
	# network namespace (only lo there): a name gmvm would attach to
	# must not be one of this host's.
	unshare -n true 2>/dev/null && netns=1
	names=(loopback missing empty traversal slash newline escapes too-long)
	values=(lo gmvm-notap0 "" ../x a/b $'\n'"gmvm: forged" $'\e[31mred' "$(printf 't%.0s' {1..40})")
	for ((i = 0; i < ${#names[@]}; i++)); do
		name=${names[i]} value=${values[i]}
		rm -rf "$dir"
		cp -r --sparse=always "$snap" "$dir"
		"$edit" "$dir/vmstate" set-u32 /config nets 1 &&
			"$edit" "$dir/vmstate" set-str /config net0-tap "$value" || exit 1
		head=${value%%[$'\n\e']*}
		ctl=
		[ "$head" = "$value" ] || ctl=1
		traced /dev/net/tun restore --snapshot "$dir" --console none --disk "$work/copy"
		expect_tap_refused "virtio-net"
		clean_messages "$value"
		tally "net0-tap $name, no --net"
		[ -n "$netns" ] || continue
		status=0
		timeout -k 5 "$limit" unshare -n "$gmvm" restore --snapshot "$dir" --console none \
			--recorded-resources </dev/null >"$work/out" 2>"$work/err" || status=$?
		judge "$status"
		expect_tap_refused "tap $head"
		clean_messages "$value"
		tally "net0-tap $name, --recorded-resources in a new network namespace"
	done
	[ -n "$netns" ] || echo "snapshot-fuzz: no new network namespace here (unshare -n): recorded taps not tried"
}

case $class in
vmstate) class_vmstate "$@" ;;
kinds) class_kinds ;;
changing) class_changing ;;
workingset) class_workingset "$@" ;;
paths) class_paths "$@" ;;
*)
	echo "snapshot-fuzz: unknown class '$class' (vmstate, kinds, changing, workingset, paths)" >&2
	exit 2
	;;
esac

# Nothing may outlive its case.
if pgrep -f -- "$work/" >"$work/left"; then
	bad=$((bad + 1))
	echo "gmvm processes left running: $(xargs <"$work/left")"
fi
echo "snapshot-fuzz: $total damaged snapshots: $clean clean ($refused refused," \
	"$accepted restored, $hung left running), $bad not clean"
if [ -n "${SNAPSHOT_FUZZ_VERBOSE:-}" ]; then
	for k in "${!kinds[@]}"; do
		printf '%6d %s\n' "${kinds[$k]}" "$k"
	done | sort -rn
fi
((bad == 0))
