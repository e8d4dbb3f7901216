# shellcheck shell=bash
# SPDX-License-Identifier: MIT
#
# bench/lib-qemu.sh: QEMU's side of bench/restore.sh, sourced by it after
# bench/lib.sh: QEMU microvm with the test guest driven over QMP (a small
# client on a coprocess), the guest saved to a migration stream while it
# runs, and restored from it, timed from exec to QMP's RESUME event. Two
# paths: file (the whole stream, -incoming "exec:cat FILE") and shared
# (RAM in a shared file, $shmfile, with the x-ignore-shared capability:
# only device state in the stream).
#
# Uses the script's qemu, guest, memory, tmp and shmfile, and lib.sh's
# tick, timed, show_err and bgpid (the QEMU running, killed on exit). A
# path that does not work sets qemu_why[PATH] and gets no numbers.

# qemu_why and the qmp_* results are read by restore.sh.
# shellcheck disable=SC2034,SC2154

qmp_timeout=120		# seconds QEMU may take to answer on QMP
declare -A qemu_why	# why a QEMU path gave no numbers

# qemu_probe: QEMU microvm must run the test guest with KVM (exit=5 comes
# back as (5 << 1) | 1 = 11); when it does not, both paths get qemu_why.
qemu_probe() {
	local msg why
	# shellcheck disable=SC2054 # the commas are QEMU's, inside one argument
	timed "$qemu" -M microvm -enable-kvm -cpu qemu64 -m 128M -nodefaults \
		-no-user-config -display none -serial none -kernel "$guest" \
		-append exit=5 -device isa-debug-exit,iobase=0xf4,iosize=4
	if [ "$rc" -ne 11 ] || ! qemu_stderr_ok "$tmp/err"; then
		echo "$prog: WARNING: QEMU microvm with -enable-kvm does not run the test guest here (exit status $rc, expected 11); no QEMU rows:" >&2
		show_err
		msg=$(grep -v 'warning:' "$tmp/err" | tr '\n' ' ')
		why="QEMU microvm with KVM does not run the test guest here (exit status $rc, expected 11): ${msg:-it printed nothing}"
		qemu_why[file]=$why
		qemu_why[shared]=$why
	fi
}

# qmp_start COMMAND...: QEMU as a coprocess, QMP on its stdin/stdout,
# stderr in $tmp/qemu.err. Sets qpid; reads the greeting.
qmp_start() {
	resume_us=
	coproc QMP { exec "$@" 2>"$tmp/qemu.err"; }
	qpid=$QMP_PID
	bgpid=$qpid
	qin=${QMP[1]}
	qout=${QMP[0]}
	qmp_line || return 1
	case $qmp_last in
	'{"QMP"'*) ;;
	*) qmp_why="no QMP greeting; QEMU said: $qmp_last"; return 1 ;;
	esac
}

# qmp_line: the next line from QMP into qmp_last; events are noted.
qmp_line() {
	local r
	if read -r -t "$qmp_timeout" -u "$qout" qmp_last; then
		case $qmp_last in
		*'"event": "RESUME"'*)
			if [[ $qmp_last =~ \"seconds\":\ *([0-9]+),\ *\"microseconds\":\ *([0-9]+) ]]; then
				resume_us=$((10#${BASH_REMATCH[1]} * 1000000 + 10#${BASH_REMATCH[2]}))
			fi
			;;
		esac
		return 0
	fi
	r=$?
	if [ "$r" -gt 128 ]; then
		qmp_why="QEMU did not answer on QMP within $qmp_timeout s"
	else
		wait "$qpid" 2>/dev/null
		r=$?
		bgpid=
		qmp_why="QEMU exited with status $r: $(grep -v 'warning:' "$tmp/qemu.err" | tr '\n' ' ' | sed 's/ *$//')"
	fi
	return 1
}

# qmp JSON: run a command; its reply in qmp_last. 1 on an error reply (the
# reason in qmp_why), on a timeout or when QEMU went away.
qmp() {
	if ! { printf '%s\n' "$1" >&"$qin"; } 2>/dev/null; then
		qmp_line
		return 1
	fi
	while qmp_line; do
		case $qmp_last in
		'{"return"'*) return 0 ;;
		'{"error"'*)
			qmp_why="QMP $(printf '%s' "$1" | sed 's/.*"execute": *"\([^"]*\)".*/\1/') failed: $(printf '%s' "$qmp_last" | sed 's/.*"desc": *"\([^"]*\)".*/\1/')"
			return 1
			;;
		esac
	done
	return 1
}

# qmp_stop: quit QEMU (or kill it) and reap it; sets qrc.
qmp_stop() {
	if [ -n "$bgpid" ] && kill -0 "$qpid" 2>/dev/null; then
		qmp '{"execute": "quit"}' >/dev/null 2>&1 || kill -KILL "$qpid" 2>/dev/null
	fi
	wait "$qpid" 2>/dev/null
	qrc=$?
	bgpid=
}

# qemu_spin_cmd PATH SIZE SERIAL [EXTRA...] -> CMD: microvm with the test guest
# spinning after touching SIZE; PATH shared puts RAM in $shmfile.
qemu_spin_cmd() {
	local path=$1 size=$2 serial=$3
	shift 3
	# shellcheck disable=SC2054 # the commas are QEMU's, inside one argument
	CMD=("$qemu" -M microvm -enable-kvm -cpu qemu64 -m "$memory"
		-nodefaults -no-user-config -display none -monitor none -qmp stdio
		-serial "file:$serial" -kernel "$guest" -append "touch=$size spin"
		-device isa-debug-exit,iobase=0xf4,iosize=4)
	if [ "$path" = shared ]; then
		CMD+=(-object "memory-backend-file,id=mem,size=$memory,mem-path=$shmfile,share=on"
			-machine memory-backend=mem)
	fi
	CMD+=("$@")
}

# qemu_save PATH SIZE: boot QEMU, let the guest touch SIZE, migrate it
# (running) to $tmp/qemu-PATH.mig. 1 with qemu_why set when it fails.
qemu_save() {
	local path=$1 size=$2 serial=$tmp/qemu-save.serial mig=$tmp/qemu-$1.mig n=0
	qmp_why=
	rm -f "$serial" "$mig"
	[ "$path" != shared ] || rm -f "$shmfile"
	qemu_spin_cmd "$path" "$size" "$serial"
	if ! qmp_start "${CMD[@]}" || ! qmp '{"execute": "qmp_capabilities"}'; then
		qemu_why[$path]="starting QEMU: $qmp_why"
		qmp_stop
		return 1
	fi
	# The guest prints this once the touch is done and checked.
	until grep -q 'spin: running' "$serial" 2>/dev/null; do
		if ! kill -0 "$qpid" 2>/dev/null || [ $((n += 1)) -gt 6000 ]; then
			qemu_why[$path]="the guest did not reach 'spin' in 600 s; its console: $(tr '\n' ' ' <"$serial" 2>/dev/null)"
			qmp_stop
			return 1
		fi
		sleep 0.1
	done
	if ! grep -q ' 0 bad words' "$serial"; then
		qemu_why[$path]="the guest's touch failed under QEMU: $(tr '\n' ' ' <"$serial")"
		qmp_stop
		return 1
	fi
	# Migrating a running guest: the destination then starts by itself
	# (a guest stopped first would come back paused). The guest only
	# spins, so the one pass is all there is. No bandwidth cap.
	if { [ "$path" != shared ] || qmp '{"execute": "migrate-set-capabilities", "arguments": {"capabilities": [{"capability": "x-ignore-shared", "state": true}]}}'; } &&
		qmp '{"execute": "migrate-set-parameters", "arguments": {"max-bandwidth": 1099511627776}}' &&
		qmp "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"exec:cat > $mig\"}}"; then
		while sleep 0.1; do
			qmp '{"execute": "query-migrate"}' || break
			case $qmp_last in
			*'"status": "completed"'*) qmp_why= ; break ;;
			*'"status": "failed"'*)
				qmp_why="migration failed: $(printf '%s' "$qmp_last" | sed -n 's/.*"error-desc": *"\([^"]*\)".*/\1/p')"
				break
				;;
			esac
		done
	fi
	if [ -n "${qmp_why:-}" ]; then
		qemu_why[$path]="saving: $qmp_why"
		qmp_stop
		return 1
	fi
	qmp_stop
	if [ "$qrc" -ne 0 ] || ! qemu_stderr_ok "$tmp/qemu.err" || [ ! -s "$mig" ]; then
		qemu_why[$path]="saving: QEMU exited with $qrc: $(grep -v 'warning:' "$tmp/qemu.err" | tr '\n' ' ')"
		return 1
	fi
	return 0
}

# qemu_restore PATH SIZE ITERATION: one timed restore; exec -> RESUME.
qemu_restore() {
	local path=$1 size=$2 iter=$3 mig=$tmp/qemu-$1.mig t0 tg late=0
	qmp_why=
	if [ "$path" = shared ]; then
		# QEMU 7.2 cannot set x-ignore-shared on the command line (no
		# migration.x-ignore-shared property), so the destination waits
		# for it on QMP: -incoming defer, then migrate-incoming.
		qemu_spin_cmd shared "$size" "$tmp/qemu-restore.serial" -incoming defer
	else
		qemu_spin_cmd file "$size" "$tmp/qemu-restore.serial" -incoming "exec:cat $mig"
	fi
	tick
	t0=$_t
	if qmp_start "${CMD[@]}"; then
		tick
		tg=$_t
		if qmp '{"execute": "qmp_capabilities"}' &&
			{ [ "$path" != shared ] ||
				{ qmp '{"execute": "migrate-set-capabilities", "arguments": {"capabilities": [{"capability": "x-ignore-shared", "state": true}]}}' &&
					qmp "{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"exec:cat $mig\"}}"; }; } &&
			qmp '{"execute": "query-status"}'; then
			# Events are only sent once capabilities are negotiated: a
			# migration that was over by then shows as running here.
			case $qmp_last in
			*'"status": "running"'*)
				if [ -z "$resume_us" ]; then
					tick
					resume_us=$_t
					late=1
				fi
				;;
			esac
			while [ -z "$resume_us" ] && qmp_line; do :; done
			if [ -n "$resume_us" ] && qmp '{"execute": "query-status"}'; then
				case $qmp_last in
				*'"status": "running"'*) ;;
				*) qmp_why="after RESUME the VM is not running: $qmp_last" ;;
				esac
			fi
		fi
	fi
	[ -n "$resume_us" ] || qmp_why=${qmp_why:-no RESUME event}
	qmp_stop
	if [ -z "$qmp_why" ] && { [ "$qrc" -ne 0 ] || ! qemu_stderr_ok "$tmp/qemu.err"; }; then
		qmp_why="QEMU exited with $qrc: $(grep -v 'warning:' "$tmp/qemu.err" | tr '\n' ' ')"
	fi
	if [ -n "$qmp_why" ]; then
		qemu_why[$path]="restoring: $qmp_why"
		return 1
	fi
	[ "$iter" = warm-up ] && return 0
	echo $((resume_us - t0)) >>"$tmp/res/$size.qemu-$path.lat"
	echo $((tg - t0)) >>"$tmp/res/$size.qemu-$path.greet"
	[ "$late" -eq 0 ] || echo 1 >>"$tmp/res/$size.qemu-$path.late"
	return 0
}
