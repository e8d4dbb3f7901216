#!/usr/bin/env bats
# Slow tests (make check-linux): the images/ Linux, snapshotted at an
# interactive point and restored every way this host offers. Linux proves
# what the test guest cannot: its kvmclock, steal time and PV EOI pages are
# pinned by KVM when the MSRs are restored, its drivers hold rings, its
# timekeeping must survive the time the snapshot sat.
#
# setup_file boots twice (acpi discovery, 256 MiB, a copy of the test disk,
# virtio-rng, -balloon, -net on a tap in a network namespace made here, the
# virtio console on hvc0) to the shell /init ends in:
#   S1  1 vCPU, a VM Generation ID (--vmgenid), virtio-vsock with
#       /bin/gmvm-vsock's echo server on port 5000 and its agent connected
#       to the host's port 7000 (socat at the socket's path _7000); /init
#       asks for the snapshot itself (port 0x4f0 through /dev/port:
#       gmvm_snapshot=1), gmvm stops once it is written. Its restores get
#       a socket path of their own (--vsock uds=);
#   S2  2 vCPUs; snapshotted through the control socket, then stopped.
# Each test restores one (or two at once), then drives the guest on its
# console and from outside: a shell command answered, the wall clock within
# 1 s of the host's and uptime past the snapshot's, a file written to the
# disk (read back on the host with debugfs), a ping from the namespace, 16
# bytes of /dev/hwrng, a balloon inflated to 1024 pages, and `poweroff -f`
# (ACPI S5) ending gmvm with status 0.
#
# Environment as for linux.bats (make check-linux sets it).

load ../bats/helpers
load ../bats/snapshot_helpers
load linux_helpers

GUEST_IP=10.78.0.2
HOST_IP=10.78.0.1
TAP=gmvmrs0
CMDLINE="console=hvc0 $LINUX_CMDLINE"
CMDLINE+=" ip=$GUEST_IP::$HOST_IP:255.255.255.0::eth0:off gmvm_end=shell"
# What a restored session may take, from exec to its power-off.
SESSION_TIMEOUT=180

# make_ns FILE: a network namespace with $TAP at $HOST_IP; its name in FILE.
make_ns() {
	local ns=gmvm-lxrs-$$-$RANDOM
	ip netns add "$ns" || return 1
	echo "$ns" >"$1"
	ip -n "$ns" tuntap add dev "$TAP" mode tap &&
		ip -n "$ns" addr add "$HOST_IP/24" dev "$TAP" &&
		ip -n "$ns" link set "$TAP" up
}

# boot NAME CPUS RUN-ARGS... : boot the Linux guest to its shell in the
# namespace, stdin from NAME.in (a FIFO the caller holds open).
boot() {
	local name=$1 cpus=$2 d=$BATS_FILE_TMPDIR
	shift 2
	cp "$GMVM_ROOTFS" "$d/$name.ext4"
	ip netns exec "$(cat "$d/ns")" timeout --kill-after=10 "$BOOT_TIMEOUT" \
		"$GMVM" run --kernel "$GMVM_VMLINUX" --initrd "$GMVM_INITRAMFS" \
		--memory 256M --cpus "$cpus" --discovery acpi --disk "$d/$name.ext4" --rng \
		--balloon --net "tap=$TAP" --console virtio "$@" \
		<"$d/$name.in" >"$d/$name.out" 2>"$d/$name.err" 3>&- &
	echo $! >"$d/$name.pid"
}

# wait_file_line FILE PATTERN SECONDS: FILE gets a line matching PATTERN.
wait_file_line() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

setup_file() {
	require_kvm
	require_linux_images || return 1
	local d=$BATS_FILE_TMPDIR
	[ "$(id -u)" = 0 ] || skip "needs root for a network namespace and a tap"
	make_ns "$d/ns" || return 1
	make_ns "$d/ns2" || return 1

	# S1: /init asks for the snapshot; gmvm writes it and stops.
	mkfifo "$d/s1boot.in"
	exec 9<>"$d/s1boot.in"
	socat "UNIX-LISTEN:$d/s1boot.vsock_7000,fork" EXEC:cat &
	echo $! >"$d/s1socat.pid"
	boot s1boot 1 --vmgenid --vsock "cid=3,uds=$d/s1boot.vsock" \
		--snapshot-on-request "$d/s1" --then stop \
		--cmdline "$CMDLINE gmvm_vsock=5000 gmvm_vsock_agent=7000 gmvm_snapshot=1"
	wait "$(cat "$d/s1boot.pid")" && echo 0 >"$d/s1boot.status" || echo $? >"$d/s1boot.status"
	kill "$(cat "$d/s1socat.pid")" 2>/dev/null
	rm "$d/s1socat.pid"
	exec 9>&-
	sed -n 's/^gmvm-init: asking for a snapshot at uptime \([0-9.]*\).*$/\1/p' \
		"$d/s1boot.out" >"$d/s1.uptime"

	# S2: 2 vCPUs, snapshotted through the control socket at the shell.
	mkfifo "$d/s2boot.in"
	exec 9<>"$d/s2boot.in"
	boot s2boot 2 --control "$d/s2.ctl" --cmdline "$CMDLINE"
	if wait_file_line "$d/s2boot.out" 'starting a shell' "$BOOT_TIMEOUT"; then
		echo 'read -r up _ </proc/uptime; echo snapshot-uptime=$up' >&9
		wait_file_line "$d/s2boot.out" '^snapshot-uptime=' 60 &&
			"$GMVM" snapshot --control "$d/s2.ctl" "$d/s2" >"$d/s2.snapshot" 2>&1
		"$GMVM" stop --control "$d/s2.ctl" >/dev/null 2>&1
	fi
	wait "$(cat "$d/s2boot.pid")" && echo 0 >"$d/s2boot.status" || echo $? >"$d/s2boot.status"
	exec 9>&-
	tr -d '\r' <"$d/s2boot.out" | sed -n 's/^snapshot-uptime=//p' >"$d/s2.uptime"
	return 0
}

teardown_file() {
	local d=$BATS_FILE_TMPDIR f
	for f in "$d"/*.pid; do
		[ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	pkill -f "uffd_ext_handler $d/" 2>/dev/null || true
	pkill -f "restore --snapshot $d/" 2>/dev/null || true
	for f in ns ns2; do
		[ ! -e "$d/$f" ] || ip netns del "$(cat "$d/$f")" || true
	done
}

setup() {
	D=$BATS_FILE_TMPDIR
}

teardown() {
	# A session a failed test left running, and its socat.
	pkill -f "restore --snapshot $D/" 2>/dev/null || true
	pkill -f "UNIX-LISTEN:$D/" 2>/dev/null || true
}

# require_snapshot S1|S2: the snapshot setup_file made, or why there is none.
require_snapshot() {
	local s=${1,,}
	[ -f "$D/$s/vmstate" ] ||
		fail "no snapshot $1 (its boot ended with status $(cat "$D/${s}boot.status" 2>/dev/null)): $(tail -5 "$D/${s}boot.err" 2>/dev/null) $(tail -5 "$D/${s}boot.out" 2>/dev/null)"
}

# --- A restored session: gmvm restore in a namespace, its console a FIFO
# held open here, commands sent as lines that end by echoing a marker.

# session_start NAME SNAPSHOT NSFILE [RESTORE ARG]...: restore SNAPSHOT onto
# a fresh copy of the test disk (NAME.ext4) and the tap in NSFILE's namespace.
session_start() {
	local name=$1 snap=$2 ns
	ns=$(cat "$D/$3")
	shift 3
	# Each clone's host sockets at a path of its own.
	if "$GMVM" inspect "$snap" | grep -q '^    vsock: '; then
		set -- --vsock "uds=$D/$name.vsock" "$@"
	fi
	cp "$GMVM_ROOTFS" "$D/$name.ext4"
	rm -f "$D/$name.in" "$D/$name.status"
	mkfifo "$D/$name.in"
	exec {fd}<>"$D/$name.in"
	eval "FD_${name//-/_}=$fd"
	echo 0 >"$D/$name.n"
	echo "$snap" >"$D/$name.snap"
	date +%s.%N >"$D/$name.start"
	(
		status=0
		ip netns exec "$ns" timeout --kill-after=10 "$SESSION_TIMEOUT" "$GMVM" restore \
			--snapshot "$snap" --disk "$D/$name.ext4" --net "tap=$TAP" \
			--control "$D/$name.ctl" --stats "$D/$name.stats" -v "$@" \
			<"$D/$name.in" >"$D/$name.out" 2>"$D/$name.err" 3>&- || status=$?
		echo "$status" >"$D/$name.status"
	) &
}

# session_cmd NAME LINE: type LINE on the guest's console and wait (60 s)
# until it has run; its output is then in NAME.out.
session_cmd() {
	local name=$1 n fdvar=FD_${1//-/_}
	n=$(($(cat "$D/$name.n") + 1))
	echo "$n" >"$D/$name.n"
	printf '%s; echo @done-%d@\n' "$2" "$n" >&"${!fdvar}"
	wait_file_line "$D/$name.out" "^@done-$n@" 60 ||
		fail "session $name: no answer to '$2' in 60 s: $(tail -c 2000 "$D/$name.out" | tr -d '\r'); stderr: $(cat "$D/$name.err")"
}

# session_value NAME KEY: the value of the last "KEY=VALUE" line of NAME.out.
session_value() {
	tr -d '\r' <"$D/$1.out" | sed -n "s/^$2=//p" | tail -n 1
}

# drive NAME NSFILE: every check on the restored guest of session NAME, but
# the end; the first answer's time in NAME.first (seconds since exec).
drive() {
	local name=$1 ns before after guest up snap_up rng i pages
	ns=$(cat "$D/$2")
	session_cmd "$name" 'echo answer=$((6*7))'
	echo "$(date +%s.%N) - $(cat "$D/$name.start")" | bc >"$D/$name.first"
	assert_equal "$(session_value "$name" answer)" 42

	# The clocks went on by the time the snapshot sat.
	before=$(date +%s)
	session_cmd "$name" 'echo guestdate=$(date +%s); read -r up _ </proc/uptime; echo uptime=$up'
	after=$(date +%s)
	guest=$(session_value "$name" guestdate)
	((guest >= before - 1 && guest <= after + 1)) ||
		fail "session $name: the guest's clock says $guest, the host's $before..$after"
	up=$(session_value "$name" uptime)
	snap_up=$(cat "$(cat "$D/$name.snap").uptime")
	[ -n "$snap_up" ] || fail "no uptime recorded for the snapshot of session $name"
	(($(echo "$up > $snap_up" | bc))) ||
		fail "session $name: uptime $up is not past the snapshot's $snap_up"

	session_cmd "$name" "mount -t ext4 /dev/vda /mnt && echo $name >/mnt/restored && umount /mnt && echo disk=written"
	assert_equal "$(session_value "$name" disk)" written

	run ip netns exec "$ns" busybox ping -c 3 -w 20 "$GUEST_IP"
	assert_success
	assert_line --partial '3 packets received'

	session_cmd "$name" 'echo rng=$(dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -An -tx1 | tr -d " \n")'
	rng=$(session_value "$name" rng)
	[[ "$rng" =~ ^[0-9a-f]{32}$ && "$rng" != 00000000000000000000000000000000 ]] ||
		fail "session $name: 16 bytes of /dev/hwrng read as '$rng'"

	run "$GMVM" balloon --control "$D/$name.ctl" 1024
	assert_success
	# The guest's balloon worker runs in its emulated kernel: give it time.
	local start=$SECONDS
	for ((i = 0; i < 900; i++)); do
		pages=$("$GMVM" stats --control "$D/$name.ctl" | jq -r .stats.balloon.actual_pages)
		[ "$pages" = 1024 ] && break
		sleep 0.1
	done
	[ "$pages" = 1024 ] || fail "session $name: the balloon holds $pages of 1024 pages after $((SECONDS - start)) s: $("$GMVM" stats --control "$D/$name.ctl" | jq -c .stats.balloon); console: $(tail -c 1500 "$D/$name.out" | tr -d '\r')"
	echo "# $name: balloon of 1024 pages inflated in $((SECONDS - start)) s" >&3
}

# session_end NAME: power the guest off; gmvm must exit 0 by itself.
session_end() {
	local name=$1 fdvar=FD_${1//-/_} i fd
	fd=${!fdvar}
	printf 'poweroff -f\n' >&"$fd"
	for ((i = 0; i < 600; i++)); do
		[ -e "$D/$name.status" ] && break
		sleep 0.1
	done
	exec {fd}>&-
	[ -e "$D/$name.status" ] || fail "session $name: gmvm did not end after poweroff"
	assert_equal "$(cat "$D/$name.status")" 0
	grep -q 'the guest powered off (ACPI S5)' "$D/$name.err" ||
		fail "session $name: no power-off on stderr: $(cat "$D/$name.err")"
	run debugfs -R 'cat /restored' "$D/$name.ext4"
	assert_success
	assert_line "$name"
}

# restores_and_works NAME SNAPSHOT STRATEGY [RESTORE ARG]...: the whole
# session, and the stats name STRATEGY.
restores_and_works() {
	local name=$1 snap=$2 strategy=$3
	shift 3
	session_start "$name" "$snap" ns "$@"
	drive "$name" ns
	session_end "$name"
	assert_equal "$(jq -r .restore.strategy "$D/$name.stats")" "$strategy"
	echo "# $name: first answer $(cat "$D/$name.first") s after exec, restore latency $(jq -r .restore.latency_us "$D/$name.stats") us" >&3
}

@test "S1 (1 vCPU) was asked for by the guest itself, through port 0x4f0" {
	require_snapshot S1
	assert_equal "$(cat "$D/s1boot.status")" 0
	run tr -d '\r' <"$D/s1boot.out"
	assert_line --regexp '^gmvm-init: asking for a snapshot at uptime [0-9.]+$'
	refute_line --partial 'after the snapshot request'
}

@test "S2 (2 vCPUs) was taken through the control socket" {
	require_snapshot S2
	run tr -d '\r' <"$D/s2boot.out"
	assert_line --regexp '^gmvm-init: cpus: 2, online 0-1$'
}

@test "S1 restores lazily on memfd (missing faults)" {
	require_snapshot S1
	require_offer memfd lazy-missing
	restores_and_works s1-memfd-missing "$D/s1" lazy-missing --memory-backend memfd --restore lazy --uffd-mode missing
}

@test "S1 restores lazily on memfd (minor faults)" {
	require_snapshot S1
	require_offer memfd lazy-minor
	restores_and_works s1-memfd-minor "$D/s1" lazy-minor --memory-backend memfd --restore lazy --uffd-mode minor
}

@test "S1 restores lazily on anon" {
	require_snapshot S1
	require_offer anon lazy-missing
	restores_and_works s1-anon "$D/s1" lazy-missing --memory-backend anon --restore lazy
}

@test "S1 records its working set, then restores with --prefetch" {
	require_snapshot S1
	require_offer memfd lazy-missing
	cp -r "$D/s1" "$D/s1ws"
	cp "$D/s1.uptime" "$D/s1ws.uptime"
	restores_and_works s1-record "$D/s1ws" lazy-missing --memory-backend memfd --record-working-set
	[ -s "$D/s1ws/workingset" ] || fail "no working set recorded"
	restores_and_works s1-prefetch "$D/s1ws" lazy-missing --memory-backend memfd --prefetch
	(($(jq -r .uffd.pages_prefetched "$D/s1-prefetch.stats") > 0)) ||
		fail "nothing prefetched: $(cat "$D/s1-prefetch.stats")"
}

@test "S1 restores through an external page-fault handler" {
	require_snapshot S1
	require_offer anon lazy-missing
	require_file "$TOOLS/uffd_ext_handler"
	"$TOOLS/uffd_ext_handler" "$D/uffd.sock" "$D/s1/memory" >"$D/handler.out" 2>&1 &
	local handler=$! i
	for ((i = 0; i < 50; i++)); do [ -S "$D/uffd.sock" ] && break; sleep 0.1; done
	restores_and_works s1-external "$D/s1" lazy-external --memory-backend anon --uffd-socket "$D/uffd.sock"
	wait "$handler" || fail "the handler failed: $(cat "$D/handler.out")"
}

@test "S1 restores eagerly on every backend this host offers" {
	require_snapshot S1
	local b
	for b in $(backends_offering boot); do
		restores_and_works "s1-eager-$b" "$D/s1" eager --memory-backend "$b" --restore eager
	done
}

@test "S1 restores as a private mapping of its memory file (--restore file), twice at once, and the file is not written" {
	require_snapshot S1
	local before
	before=$(sha256sum <"$D/s1/memory")
	session_start s1-file-a "$D/s1" ns --restore file
	session_start s1-file-b "$D/s1" ns2 --restore file
	drive s1-file-a ns
	drive s1-file-b ns2
	session_end s1-file-a
	session_end s1-file-b
	assert_equal "$(jq -r .restore.strategy "$D/s1-file-a.stats")" file
	assert_equal "$(sha256sum <"$D/s1/memory")" "$before"
}

@test "S1 restores three times in a row" {
	require_snapshot S1
	local i
	for i in 1 2 3; do
		restores_and_works "s1-again-$i" "$D/s1" "$(jq -r ".backends.$(default_backend).restore_auto" <<<"$(host_caps)")"
	done
}

@test "S1's vsock: the restored agent is reset and reconnects through the clone's own socket; the listener answers socat's CONNECT 5000" {
	require_snapshot S1
	grep -q '^gmvm-vsock: agent: connection 1 echoed' "$D/s1boot.out" ||
		fail "S1's agent never connected: $(grep -a vsock "$D/s1boot.out")"
	socat "UNIX-LISTEN:$D/s1-vsock.vsock_7000,fork" EXEC:cat &
	local socat=$!
	session_start s1-vsock "$D/s1" ns
	wait_file_line "$D/s1-vsock.out" '^gmvm-vsock: agent: connection 2 echoed' 60 ||
		fail "the agent did not reconnect: $(tr -d '\r' <"$D/s1-vsock.out" | grep -a vsock)"
	run grep -a '^gmvm-vsock: agent: connection 1 ended' "$D/s1-vsock.out"
	assert_success
	run bash -c "printf 'CONNECT 5000\nhello from the host\n' | timeout 60 socat -t 30 - 'UNIX-CONNECT:$D/s1-vsock.vsock'"
	assert_success
	assert_line --index 0 --regexp '^OK [0-9]+$'
	assert_line --index 1 'hello from the host'
	session_cmd s1-vsock "mount -t ext4 /dev/vda /mnt && echo s1-vsock >/mnt/restored && umount /mnt && echo disk=written"
	session_end s1-vsock
	kill "$socat"
	assert_equal "$(jq -r .vsock.connections_from_host "$D/s1-vsock.stats")" 1
}

# VM_FORK: what Linux's random driver logs when the vmgenid driver hands it
# a new identifier (add_vmfork_randomness), and the command that counts it
# (after a second: the ACPI event runs _EVT in a thread) and reads 16 bytes
# of /dev/urandom.
VM_FORK='crng reseeded due to virtual machine fork'
FORK_CMD="sleep 1; echo forks=\$(dmesg | grep -c '$VM_FORK'); echo urandom=\$(dd if=/dev/urandom bs=16 count=1 2>/dev/null | od -An -tx1 | tr -d ' \\n')"

@test "two clones of S1 at once, each on its own disk and tap; each reseeds its RNG from a new VM Generation ID, and they read different bytes" {
	require_snapshot S1
	local a b
	session_start clone-a "$D/s1" ns
	session_start clone-b "$D/s1" ns2
	session_cmd clone-a "$FORK_CMD"
	session_cmd clone-b "$FORK_CMD"
	# The ACPI event reached the vmgenid driver: the RNG was reseeded.
	assert_equal "$(session_value clone-a forks)" 1
	assert_equal "$(session_value clone-b forks)" 1
	a=$(session_value clone-a urandom)
	b=$(session_value clone-b urandom)
	[[ "$a" =~ ^[0-9a-f]{32}$ && "$b" =~ ^[0-9a-f]{32}$ ]] || fail "urandom read as '$a' and '$b'"
	[ "$a" != "$b" ] || fail "two clones of one snapshot read the same /dev/urandom bytes: $a"
	drive clone-a ns
	drive clone-b ns2
	session_end clone-a
	session_end clone-b
}

@test "S2, booted without --vmgenid: a restore does not reseed the RNG as a VM fork" {
	require_snapshot S2
	session_start s2-novmgenid "$D/s2" ns
	session_cmd s2-novmgenid "$FORK_CMD"
	assert_equal "$(session_value s2-novmgenid forks)" 0
	session_cmd s2-novmgenid "mount -t ext4 /dev/vda /mnt && echo s2-novmgenid >/mnt/restored && umount /mnt && echo disk=written"
	session_end s2-novmgenid
}

@test "S2 (2 vCPUs) restores lazily on memfd (missing faults)" {
	require_snapshot S2
	require_offer memfd lazy-missing
	restores_and_works s2-memfd-missing "$D/s2" lazy-missing --memory-backend memfd --restore lazy --uffd-mode missing
}

@test "S2 (2 vCPUs) restores lazily on memfd (minor faults)" {
	require_snapshot S2
	require_offer memfd lazy-minor
	restores_and_works s2-memfd-minor "$D/s2" lazy-minor --memory-backend memfd --restore lazy --uffd-mode minor
}

@test "S2 (2 vCPUs) restores lazily on anon" {
	require_snapshot S2
	require_offer anon lazy-missing
	restores_and_works s2-anon "$D/s2" lazy-missing --memory-backend anon --restore lazy
}

@test "S2 (2 vCPUs) restores eagerly on every backend this host offers" {
	require_snapshot S2
	local b
	for b in $(backends_offering boot); do
		restores_and_works "s2-eager-$b" "$D/s2" eager --memory-backend "$b" --restore eager
	done
}
