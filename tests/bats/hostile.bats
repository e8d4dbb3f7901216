#!/usr/bin/env bats
# Hostile guests: the test guest's hostile=KIND[,DEVICE] workload
# (tests/guest/hostile.c) breaks the virtio rules on purpose, against each
# device (virtio-net where a tap can be made): broken chains, buffers and
# rings outside RAM, bad queue sizes, early and malformed notifications,
# odd register and config accesses; and it floods ports. The guest checks
# what the virtio 1.2 spec says it should observe (NEEDS_RESET, the request
# unused, an error status, a register unchanged), resets the device, and
# checks that it serves a normal request again. Every test asserts that gmvm stayed up and the guest
# powered off cleanly (status 0 after "testguest: ok"), and that stderr
# holds exactly the one line the attack earns (none where the spec
# answers it without an error).

load helpers

TAP=gmvmtap0
# The long-chain attacks talk to the namespace: the addresses
# tests/guest/hostile_device.c names (the guest's MAC is set with mac=).
GUEST_IP=10.0.2.15
HOST_IP=10.0.2.2
GUEST_MAC=52:54:00:12:34:56
HOST_MAC=02:00:00:00:00:02

setup() {
	require_kvm
}

# Background commands start as `ip netns exec NS CMD &`: ip execs CMD, so
# $! is CMD's pid (as in net.bats).
teardown() {
	stop_bg_pids
	if [ -n "${NS_MADE:-}" ]; then
		ip netns del "$NS"
	fi
}

# net_namespace: a network namespace of the test's own with the tap TAP
# up in it, as in net.bats: the guest's frames reach nobody else. Made
# once per test.
net_namespace() {
	local out
	[ -z "${NS_MADE:-}" ] || return 0
	require_command ip "iproute2"
	[ "$(id -u)" -eq 0 ] || skip "needs root to create a network namespace and a tap"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun: this host has no tun/tap driver"
	NS=gmvm-hostile-$$-$BATS_TEST_NUMBER
	out=$(ip netns add "$NS" 2>&1) || skip "ip netns does not work here: $out"
	NS_MADE=1
	ip -n "$NS" tuntap add dev "$TAP" mode tap
	ip -n "$NS" link set "$TAP" up
}

# net_host: the namespace's end of the link, for the attacks that send
# to it or have it send: HOST_IP and HOST_MAC on the tap, and GUEST_MAC a
# permanent neighbour of GUEST_IP (the hostile guest answers no ARP).
net_host() {
	net_namespace
	ip -n "$NS" link set "$TAP" address "$HOST_MAC"
	ip -n "$NS" addr add "$HOST_IP/24" dev "$TAP"
	ip -n "$NS" neigh replace "$GUEST_IP" lladdr "$GUEST_MAC" dev "$TAP" nud permanent
}

# icmp_in_echos: the echo requests the namespace's kernel has received.
icmp_in_echos() {
	# shellcheck disable=SC2016	# awk's fields, not the shell's
	ip netns exec "$NS" awk '$1 == "Icmp:" {
		if (!col) { for (i = 2; i <= NF; i++) if ($i == "InEchos") col = i }
		else print $col
	}' /proc/net/snmp
}

# gmvm_run_in_ns [ARG]...: gmvm_run inside the test's namespace.
gmvm_run_in_ns() {
	ip netns exec "$NS" timeout --kill-after=10 "$GMVM_TIMEOUT" "$GMVM" run \
		--kernel "$TESTGUEST" "$@" <"${GMVM_STDIN:-/dev/null}"
}

# attack KIND DEV [ARG]...: gmvm runs hostile=KIND,DEV with the device DEV
# (rng, blk on a fresh 1 MiB disk, console, balloon, net on a tap, with
# the MAC $NET_MAC if set), $MEMORY of RAM (128M: the messages name
# addresses past its end) and the ARGs.
attack() {
	local args=() run_it=gmvm_run

	KIND=$1 DEV=$2
	shift 2
	case $DEV in
	rng) args=(--rng) ;;
	blk)
		DISK=$BATS_TEST_TMPDIR/disk.img
		truncate -s 1M "$DISK"
		args=(--disk "$DISK")
		;;
	console) args=(--console virtio) ;;
	balloon) args=(--balloon) ;;
	vsock) args=(--vsock "cid=3,uds=$BATS_TEST_TMPDIR/v.sock") ;;
	net)
		net_namespace
		args=(--net "tap=$TAP${NET_MAC:+,mac=$NET_MAC}")
		run_it=gmvm_run_in_ns
		;;
	esac
	run --separate-stderr "$run_it" --memory "${MEMORY:-128M}" "${args[@]}" \
		"$@" --cmdline "hostile=$KIND,$DEV"
}

# survived: the guest's checks passed, the device served a normal request
# after its reset, and the guest powered off with status 0.
survived() {
	assert_success
	assert_line "hostile: $KIND on $DEV: ok"
	assert_line 'testguest: ok'
	if [ "$DEV" = console ]; then
		# Went through transmitq after the reset: the device works.
		assert_line 'hostile: this line went through virtio-console, after the attack'
	fi
}

# stderr_is LINE / stderr_like PATTERN: stderr is exactly LINE (one line,
# or none when LINE is empty), or one line matching the bash PATTERN.
stderr_is() {
	[ "$stderr" = "$1" ] || fail "want stderr to be exactly '$1'
stderr: $stderr"
}

stderr_like() {
	# shellcheck disable=SC2053	# $1 is a pattern
	[[ "$stderr" != *$'\n'* && "$stderr" == $1 ]] ||
		fail "want exactly one line on stderr like '$1'
stderr: $stderr"
}

# refused KIND DEV WHY: NEEDS_RESET, logged once with WHY.
refused() {
	attack "$1" "$2"
	survived
	stderr_is "gmvm: warning: virtio-$2@0: $3; the device needs a reset"
}

refused_like() {
	attack "$1" "$2"
	survived
	stderr_like "gmvm: warning: virtio-$2@0: $3; the device needs a reset"
}

# ignored KIND DEV WHAT: the access changed nothing, logged once with WHAT.
ignored() {
	attack "$1" "$2"
	survived
	stderr_is "gmvm: warning: virtio-$2@0: guest $3 ignored (logged once)"
}

# input_abc [ARG]...: gmvm_run with "abc" on its stdin (a pipe).
input_abc() {
	printf abc | GMVM_STDIN=/dev/stdin gmvm_run "$@"
}

# served KIND DEV: the guest's checks passed, and nothing was logged.
served() {
	attack "$1" "$2"
	survived
	stderr_is ''
}

# --- Broken descriptor chains: NEEDS_RESET, the request unused, nothing served
# until a reset.

@test "loop: virtio-rng, a descriptor loop" {
	refused loop rng 'chain from descriptor 0 loops or exceeds the queue size'
}

@test "loop: virtio-blk, a descriptor loop" {
	refused loop blk 'chain from descriptor 0 loops or exceeds the queue size'
}

@test "loop: virtio-console, a descriptor loop" {
	refused loop console 'chain from descriptor 0 loops or exceeds the queue size'
}

@test "loop: virtio-balloon, a descriptor loop" {
	refused loop balloon 'chain from descriptor 0 loops or exceeds the queue size'
}

@test "longchain: virtio-rng, a chain as long as the queue is served, one going on past it refused" {
	refused longchain rng 'chain from descriptor 0 loops or exceeds the queue size'
}

@test "longchain: virtio-blk, a chain as long as the queue is served, one going on past it refused" {
	refused longchain blk 'chain from descriptor 0 loops or exceeds the queue size'
}

@test "longchain: virtio-console, a chain as long as the queue is served, one going on past it refused" {
	refused longchain console 'chain from descriptor 0 loops or exceeds the queue size'
}

@test "longchain: virtio-balloon, a chain as long as the queue is served, one going on past it refused" {
	refused longchain balloon 'chain from descriptor 0 loops or exceeds the queue size'
}

@test "badnext: virtio-rng, a next index past the queue" {
	refused badnext rng "descriptor 64 is past the queue's 64"
}

@test "badnext: virtio-blk, a next index past the queue" {
	refused badnext blk "descriptor 64 is past the queue's 64"
}

@test "badnext: virtio-console, a next index past the queue" {
	refused badnext console "descriptor 64 is past the queue's 64"
}

@test "badnext: virtio-balloon, a next index past the queue" {
	refused badnext balloon "descriptor 64 is past the queue's 64"
}

@test "badhead: virtio-rng, a head index past the queue" {
	refused badhead rng "descriptor 32768 is past the queue's 64"
}

@test "badhead: virtio-blk, a head index past the queue" {
	refused badhead blk "descriptor 32768 is past the queue's 64"
}

@test "badhead: virtio-console, a head index past the queue" {
	refused badhead console "descriptor 32768 is past the queue's 64"
}

@test "badhead: virtio-balloon, a head index past the queue" {
	refused badhead balloon "descriptor 32768 is past the queue's 64"
}

@test "availjump: virtio-rng, an available index more than a queue ahead" {
	refused availjump rng 'available index jumped from 0 to 65 in a queue of 64'
}

@test "availjump: virtio-blk, an available index more than a queue ahead" {
	refused availjump blk 'available index jumped from 0 to 65 in a queue of 64'
}

@test "availjump: virtio-console, an available index more than a queue ahead" {
	refused availjump console 'available index jumped from 0 to 65 in a queue of 64'
}

@test "availjump: virtio-balloon, an available index more than a queue ahead" {
	refused availjump balloon 'available index jumped from 0 to 65 in a queue of 64'
}

@test "oob: virtio-rng, a buffer past the end of RAM" {
	refused oob rng 'buffer [0x8001000, +0x10) is not inside guest RAM'
}

@test "oob: virtio-blk, a buffer past the end of RAM" {
	refused oob blk 'buffer [0x8001000, +0x10) is not inside guest RAM'
}

@test "oob: virtio-console, a buffer past the end of RAM" {
	refused oob console 'buffer [0x8001000, +0x10) is not inside guest RAM'
}

@test "oob: virtio-balloon, a buffer past the end of RAM" {
	refused oob balloon 'buffer [0x8001000, +0x10) is not inside guest RAM'
}

@test "straddle: virtio-rng, a buffer across the end of RAM" {
	refused straddle rng 'buffer [0x7fffff8, +0x10) is not inside guest RAM'
}

@test "straddle: virtio-blk, a buffer across the end of RAM" {
	refused straddle blk 'buffer [0x7fffff8, +0x10) is not inside guest RAM'
}

@test "straddle: virtio-console, a buffer across the end of RAM" {
	refused straddle console 'buffer [0x7fffff8, +0x10) is not inside guest RAM'
}

@test "straddle: virtio-balloon, a buffer across the end of RAM" {
	refused straddle balloon 'buffer [0x7fffff8, +0x10) is not inside guest RAM'
}

@test "overflow: virtio-rng, a buffer whose address + length wraps past 2^64" {
	refused overflow rng 'buffer [0xfffffffffffff000, +0x2000) is not inside guest RAM'
}

@test "overflow: virtio-blk, a buffer whose address + length wraps past 2^64" {
	refused overflow blk 'buffer [0xfffffffffffff000, +0x2000) is not inside guest RAM'
}

@test "overflow: virtio-console, a buffer whose address + length wraps past 2^64" {
	refused overflow console 'buffer [0xfffffffffffff000, +0x2000) is not inside guest RAM'
}

@test "overflow: virtio-balloon, a buffer whose address + length wraps past 2^64" {
	refused overflow balloon 'buffer [0xfffffffffffff000, +0x2000) is not inside guest RAM'
}

@test "toolong: virtio-rng, buffers inside RAM, more than 4 GiB together" {
	refused toolong rng 'request longer than 4 GiB'
}

@test "toolong: virtio-blk, buffers inside RAM, more than 4 GiB together" {
	refused toolong blk 'request longer than 4 GiB'
}

@test "toolong: virtio-console, buffers inside RAM, more than 4 GiB together" {
	refused toolong console 'request longer than 4 GiB'
}

@test "toolong: virtio-balloon, buffers inside RAM, more than 4 GiB together" {
	refused toolong balloon 'request longer than 4 GiB'
}

# --- Indirect descriptors.

@test "nestedindirect: virtio-rng, an indirect table inside an indirect table" {
	refused nestedindirect rng 'indirect table inside an indirect table'
}

@test "nestedindirect: virtio-blk, an indirect table inside an indirect table" {
	refused nestedindirect blk 'indirect table inside an indirect table'
}

@test "nestedindirect: virtio-console, an indirect table inside an indirect table" {
	refused nestedindirect console 'indirect table inside an indirect table'
}

@test "nestedindirect: virtio-balloon, an indirect table inside an indirect table" {
	refused nestedindirect balloon 'indirect table inside an indirect table'
}

@test "indirectnoneg: virtio-rng, an indirect descriptor without VIRTIO_F_INDIRECT_DESC" {
	refused indirectnoneg rng 'indirect descriptor, not negotiated'
}

@test "indirectnoneg: virtio-blk, an indirect descriptor without VIRTIO_F_INDIRECT_DESC" {
	refused indirectnoneg blk 'indirect descriptor, not negotiated'
}

@test "indirectnoneg: virtio-console, an indirect descriptor without VIRTIO_F_INDIRECT_DESC" {
	refused indirectnoneg console 'indirect descriptor, not negotiated'
}

@test "indirectnoneg: virtio-balloon, an indirect descriptor without VIRTIO_F_INDIRECT_DESC" {
	refused indirectnoneg balloon 'indirect descriptor, not negotiated'
}

@test "indirectnext: virtio-rng, an indirect descriptor with NEXT" {
	refused indirectnext rng 'indirect descriptor inside a chain'
}

@test "indirectnext: virtio-blk, an indirect descriptor with NEXT" {
	refused indirectnext blk 'indirect descriptor inside a chain'
}

@test "indirectnext: virtio-console, an indirect descriptor with NEXT" {
	refused indirectnext console 'indirect descriptor inside a chain'
}

@test "indirectnext: virtio-balloon, an indirect descriptor with NEXT" {
	refused indirectnext balloon 'indirect descriptor inside a chain'
}

@test "indirectloop: virtio-rng, a loop inside an indirect table" {
	refused indirectloop rng 'indirect chain loops'
}

@test "indirectloop: virtio-blk, a loop inside an indirect table" {
	refused indirectloop blk 'indirect chain loops'
}

@test "indirectloop: virtio-console, a loop inside an indirect table" {
	refused indirectloop console 'indirect chain loops'
}

@test "indirectloop: virtio-balloon, a loop inside an indirect table" {
	refused indirectloop balloon 'indirect chain loops'
}

@test "indirectlen: virtio-rng, an indirect table of 40 bytes" {
	refused indirectlen rng 'indirect table of 40 bytes'
}

@test "indirectlen: virtio-blk, an indirect table of 40 bytes" {
	refused indirectlen blk 'indirect table of 40 bytes'
}

@test "indirectlen: virtio-console, an indirect table of 40 bytes" {
	refused indirectlen console 'indirect table of 40 bytes'
}

@test "indirectlen: virtio-balloon, an indirect table of 40 bytes" {
	refused indirectlen balloon 'indirect table of 40 bytes'
}

@test "mixedindirect: virtio-rng, direct descriptors ending in an indirect table are served (2.7.5.3.2)" {
	served mixedindirect rng
}

@test "mixedindirect: virtio-blk, direct descriptors ending in an indirect table are served (2.7.5.3.2)" {
	served mixedindirect blk
}

@test "mixedindirect: virtio-console, direct descriptors ending in an indirect table are served (2.7.5.3.2)" {
	served mixedindirect console
}

@test "mixedindirect: virtio-balloon, direct descriptors ending in an indirect table are served (2.7.5.3.2)" {
	served mixedindirect balloon
}

# --- Queue setup: the queue is not made ready, NEEDS_RESET.

@test "qsize: virtio-rng, a queue size that is not a power of two" {
	refused qsize rng 'queue size 48 is not a power of two up to 1024'
}

@test "qsize: virtio-blk, a queue size that is not a power of two" {
	refused qsize blk 'queue size 48 is not a power of two up to 1024'
}

@test "qsize: virtio-console, a queue size that is not a power of two" {
	refused qsize console 'queue size 48 is not a power of two up to 1024'
}

@test "qsize: virtio-balloon, a queue size that is not a power of two" {
	refused qsize balloon 'queue size 48 is not a power of two up to 1024'
}

@test "qsize0: virtio-rng, a queue size of 0" {
	refused qsize0 rng 'queue size 0 is not a power of two up to 1024'
}

@test "qsize0: virtio-blk, a queue size of 0" {
	refused qsize0 blk 'queue size 0 is not a power of two up to 1024'
}

@test "qsize0: virtio-console, a queue size of 0" {
	refused qsize0 console 'queue size 0 is not a power of two up to 1024'
}

@test "qsize0: virtio-balloon, a queue size of 0" {
	refused qsize0 balloon 'queue size 0 is not a power of two up to 1024'
}

@test "qsizemax: virtio-rng, a queue size above QueueNumMax" {
	refused qsizemax rng 'queue size 512 is above the maximum 256'
}

@test "qsizemax: virtio-blk, a queue size above QueueNumMax" {
	refused qsizemax blk 'queue size 512 is above the maximum 256'
}

@test "qsizemax: virtio-console, a queue size above QueueNumMax" {
	refused qsizemax console 'queue size 512 is above the maximum 256'
}

@test "qsizemax: virtio-balloon, a queue size above QueueNumMax" {
	refused qsizemax balloon 'queue size 512 is above the maximum 256'
}

@test "qsizewrap: virtio-rng, a queue size of 65600, 64 in its low 16 bits" {
	refused qsizewrap rng 'queue size 65600 is above the maximum 256'
}

@test "qsizewrap: virtio-blk, a queue size of 65600, 64 in its low 16 bits" {
	refused qsizewrap blk 'queue size 65600 is above the maximum 256'
}

@test "qsizewrap: virtio-console, a queue size of 65600, 64 in its low 16 bits" {
	refused qsizewrap console 'queue size 65600 is above the maximum 256'
}

@test "qsizewrap: virtio-balloon, a queue size of 65600, 64 in its low 16 bits" {
	refused qsizewrap balloon 'queue size 65600 is above the maximum 256'
}

@test "misaligned: virtio-rng, a misaligned descriptor ring" {
	refused_like misaligned rng 'queue rings at 0x*8/0x*/0x* are misaligned'
}

@test "misaligned: virtio-blk, a misaligned descriptor ring" {
	refused_like misaligned blk 'queue rings at 0x*8/0x*/0x* are misaligned'
}

@test "misaligned: virtio-console, a misaligned descriptor ring" {
	refused_like misaligned console 'queue rings at 0x*8/0x*/0x* are misaligned'
}

@test "misaligned: virtio-balloon, a misaligned descriptor ring" {
	refused_like misaligned balloon 'queue rings at 0x*8/0x*/0x* are misaligned'
}

@test "oobring: virtio-rng, an available ring outside RAM" {
	refused_like oobring rng 'a queue ring at 0x*/0xc0100000/0x* is not inside guest RAM'
}

@test "oobring: virtio-blk, an available ring outside RAM" {
	refused_like oobring blk 'a queue ring at 0x*/0xc0100000/0x* is not inside guest RAM'
}

@test "oobring: virtio-console, an available ring outside RAM" {
	refused_like oobring console 'a queue ring at 0x*/0xc0100000/0x* is not inside guest RAM'
}

@test "oobring: virtio-balloon, an available ring outside RAM" {
	refused_like oobring balloon 'a queue ring at 0x*/0xc0100000/0x* is not inside guest RAM'
}

@test "straddlering: virtio-rng, a used ring across the end of RAM" {
	refused_like straddlering rng 'a queue ring at 0x*/0x*/0x7ffff00 is not inside guest RAM'
}

@test "straddlering: virtio-blk, a used ring across the end of RAM" {
	refused_like straddlering blk 'a queue ring at 0x*/0x*/0x7ffff00 is not inside guest RAM'
}

@test "straddlering: virtio-console, a used ring across the end of RAM" {
	refused_like straddlering console 'a queue ring at 0x*/0x*/0x7ffff00 is not inside guest RAM'
}

@test "straddlering: virtio-balloon, a used ring across the end of RAM" {
	refused_like straddlering balloon 'a queue ring at 0x*/0x*/0x7ffff00 is not inside guest RAM'
}

# --- Notifications and registers: ignored, logged once per device.

@test "earlynotify: virtio-rng, a request notified before DRIVER_OK waits for DRIVER_OK" {
	ignored earlynotify rng 'queue notification before DRIVER_OK at offset 0x50 (4 bytes)'
}

@test "earlynotify: virtio-blk, a request notified before DRIVER_OK waits for DRIVER_OK" {
	ignored earlynotify blk 'queue notification before DRIVER_OK at offset 0x50 (4 bytes)'
}

@test "earlynotify: virtio-console, a request notified before DRIVER_OK waits for DRIVER_OK" {
	ignored earlynotify console 'queue notification before DRIVER_OK at offset 0x50 (4 bytes)'
}

@test "earlynotify: virtio-balloon, a request notified before DRIVER_OK waits for DRIVER_OK" {
	ignored earlynotify balloon 'queue notification before DRIVER_OK at offset 0x50 (4 bytes)'
}

@test "badnotify: virtio-rng, notifications of no queue, or of the wrong width" {
	ignored badnotify rng 'notification of a queue that does not exist at offset 0x50 (4 bytes)'
}

@test "badnotify: virtio-blk, notifications of no queue, or of the wrong width" {
	ignored badnotify blk 'notification of a queue that does not exist at offset 0x50 (4 bytes)'
}

@test "badnotify: virtio-console, notifications of no queue, or of the wrong width" {
	ignored badnotify console 'notification of a queue that does not exist at offset 0x50 (4 bytes)'
}

@test "badnotify: virtio-balloon, notifications of no queue, or of the wrong width" {
	ignored badnotify balloon 'notification of a queue that does not exist at offset 0x50 (4 bytes)'
}

@test "oddmmio: virtio-rng, 1-, 2-, 8-byte, unaligned and window-crossing register accesses" {
	ignored oddmmio rng 'register write of the wrong size at offset 0x70 (1 bytes)'
}

@test "oddmmio: virtio-blk, 1-, 2-, 8-byte, unaligned and window-crossing register accesses" {
	ignored oddmmio blk 'register write of the wrong size at offset 0x70 (1 bytes)'
}

@test "oddmmio: virtio-console, 1-, 2-, 8-byte, unaligned and window-crossing register accesses" {
	ignored oddmmio console 'register write of the wrong size at offset 0x70 (1 bytes)'
}

@test "oddmmio: virtio-balloon, 1-, 2-, 8-byte, unaligned and window-crossing register accesses" {
	ignored oddmmio balloon 'register write of the wrong size at offset 0x70 (1 bytes)'
}

@test "latesetup: virtio-rng, queue setup while ready, features after FEATURES_OK" {
	ignored latesetup rng 'queue setup while ready at offset 0x44 (4 bytes)'
}

@test "latesetup: virtio-blk, queue setup while ready, features after FEATURES_OK" {
	ignored latesetup blk 'queue setup while ready at offset 0x44 (4 bytes)'
}

@test "latesetup: virtio-console, queue setup while ready, features after FEATURES_OK" {
	ignored latesetup console 'queue setup while ready at offset 0x44 (4 bytes)'
}

@test "latesetup: virtio-balloon, queue setup while ready, features after FEATURES_OK" {
	ignored latesetup balloon 'queue setup while ready at offset 0x44 (4 bytes)'
}

@test "queuestop: virtio-rng, a queue stopped with QueueReady 0 serves nothing, set up again it does (4.2.2.2)" {
	served queuestop rng
}

@test "queuestop: virtio-blk, a queue stopped with QueueReady 0 serves nothing, set up again it does (4.2.2.2)" {
	served queuestop blk
}

@test "queuestop: virtio-console, a queue stopped with QueueReady 0 serves nothing, set up again it does (4.2.2.2)" {
	served queuestop console
}

@test "queuestop: virtio-balloon, a queue stopped with QueueReady 0 serves nothing, set up again it does (4.2.2.2)" {
	served queuestop balloon
}

@test "badfeatures: virtio-rng, features not offered, or without VERSION_1" {
	served badfeatures rng
}

@test "badfeatures: virtio-blk, features not offered, or without VERSION_1" {
	served badfeatures blk
}

@test "badfeatures: virtio-console, features not offered, or without VERSION_1" {
	served badfeatures console
}

@test "badfeatures: virtio-balloon, features not offered, or without VERSION_1" {
	served badfeatures balloon
}

@test "configwrite: virtio-rng, config writes past its end, across its end, to read-only fields" {
	ignored configwrite rng 'config write out of range or read-only at offset 0x300 (4 bytes)'
}

@test "configwrite: virtio-blk, config writes past its end, across its end, to read-only fields" {
	ignored configwrite blk 'config write out of range or read-only at offset 0x300 (4 bytes)'
}

@test "configwrite: virtio-console, config writes past its end, across its end, to read-only fields" {
	ignored configwrite console 'config write out of range or read-only at offset 0x300 (4 bytes)'
}

@test "configwrite: virtio-balloon, config writes past its end, across its end, to read-only fields" {
	ignored configwrite balloon 'config write out of range or read-only at offset 0x300 (4 bytes)'
}

# --- Across the MMIO gap: RAM goes on at 4 GiB, host memory right after
# the first 3 GiB; a buffer across the gap is still not RAM.

@test "straddle: virtio-rng, a buffer across the 3-4 GiB gap" {
	MEMORY=3200M attack straddle rng
	survived
	assert_line 'hostile: a buffer [0xbffffff8, +16) across the MMIO gap'
	stderr_is 'gmvm: warning: virtio-rng@0: buffer [0xbffffff8, +0x10) is not inside guest RAM; the device needs a reset'
}

@test "straddle: virtio-blk, a buffer across the 3-4 GiB gap" {
	MEMORY=3200M attack straddle blk
	survived
	assert_line 'hostile: a buffer [0xbffffff8, +16) across the MMIO gap'
	stderr_is 'gmvm: warning: virtio-blk@0: buffer [0xbffffff8, +0x10) is not inside guest RAM; the device needs a reset'
}

# --- A snapshot between QueueNum and QueueReady: the restored device holds
# the size the driver wrote, all 32 bits, and refuses it just the same.

# snapshot_then_restore DEV: the guest writes QueueNum 65600, snapshots
# (gmvm stops), and is restored; run's results are the restore's.
snapshot_then_restore() {
	local snap=$BATS_TEST_TMPDIR/s
	attack snapqsize "$1" --snapshot-on-request "$snap" --then stop
	assert_success
	assert_line 'hostile: QueueNum written, snapshot'
	refute_line 'hostile: resumed'
	run --separate-stderr gmvm restore --snapshot "$snap" --recorded-resources
	survived
	assert_line 'hostile: resumed'
	# The restore says how it restored; one warning, the refusal.
	assert_equal "$(grep '^gmvm: warning: ' <<<"$stderr")" \
		"gmvm: warning: virtio-$1@0: queue size 65600 is above the maximum 256; the device needs a reset"
}

@test "snapqsize: virtio-rng, a queue size of 65600 snapshotted before QueueReady, refused after the restore" {
	snapshot_then_restore rng
}

@test "snapqsize: virtio-blk, a queue size of 65600 snapshotted before QueueReady, refused after the restore" {
	snapshot_then_restore blk
}

# --- Each device's own rules.

@test "blkbad: virtio-blk refuses sectors past the end, wrapping sector counts, odd lengths, short headers, unknown types" {
	attack blkbad blk
	survived
	assert_line 'hostile: bad block requests refused with an error status'
	# Each refusal is logged, one line a second at most: here the first.
	[[ "${stderr%%$'\n'*}" == "gmvm: warning: virtio-blk@0: read of sectors [18446744073709551615, +1) past the disk's 2048 sectors: answered IOERR" ]] ||
		fail "the first refusal is not logged as such: $stderr"
	local lines
	lines=$(grep -c '^gmvm: warning: virtio-blk@0: .*: answered IOERR' <<<"$stderr")
	[ "$lines" = "$(wc -l <<<"$stderr")" ] && ((lines <= 1 + SECONDS)) ||
		fail "want one IOERR line a second at most: $stderr"
	# Not a byte written.
	assert_equal "$(tr -d '\0' <"$DISK" | wc -c)" 0
}

@test "pfn: virtio-balloon skips frames outside RAM, logged once" {
	attack pfn balloon
	survived
	assert_line 'hostile: frames outside RAM skipped, the request completed'
	stderr_is 'gmvm: warning: virtio-balloon@0: frame 0x8000, outside guest RAM: ignored (logged once)'
}

@test "manypfn: virtio-balloon takes the first 1024 frames of a request of 1100, logged once" {
	attack manypfn balloon
	survived
	assert_line 'hostile: 1100 frames: the first 1024 given back, the rest left'
	stderr_is 'gmvm: warning: virtio-balloon@0: frames past the first 1024 of a request of 1100: ignored (logged once)'
}

@test "reportq: virtio-balloon, reporting_vq used without VIRTIO_BALLOON_F_REPORTING" {
	refused reportq balloon 'notification of reporting_vq, not negotiated'
}

@test "rxloop: virtio-console, a receive chain that loops, found as input comes; the input survives the reset" {
	KIND=rxloop DEV=console
	run --separate-stderr input_abc --console virtio --cmdline hostile=rxloop,console
	survived
	assert_line 'hostile: input after the reset: "abc"'
	stderr_is 'gmvm: warning: virtio-console@0: chain from descriptor 0 loops or exceeds the queue size; the device needs a reset'
}

# --- virtio-net (transmitq; longrxchain also receiveq), on a tap in a
# network namespace of each test's own: skipped where that cannot be made.

@test "loop: virtio-net, a descriptor loop" {
	refused loop net 'chain from descriptor 0 loops or exceeds the queue size'
}

@test "longchain: virtio-net, a chain as long as the queue is served, one going on past it refused" {
	refused longchain net 'chain from descriptor 0 loops or exceeds the queue size'
}

@test "badnext: virtio-net, a next index past the queue" {
	refused badnext net "descriptor 64 is past the queue's 64"
}

@test "oob: virtio-net, a buffer past the end of RAM" {
	refused oob net 'buffer [0x8001000, +0x10) is not inside guest RAM'
}

@test "straddle: virtio-net, a buffer across the end of RAM" {
	refused straddle net 'buffer [0x7fffff8, +0x10) is not inside guest RAM'
}

@test "overflow: virtio-net, a buffer whose address + length wraps past 2^64" {
	refused overflow net 'buffer [0xfffffffffffff000, +0x2000) is not inside guest RAM'
}

@test "toolong: virtio-net, buffers inside RAM, more than 4 GiB together" {
	refused toolong net 'request longer than 4 GiB'
}

@test "nestedindirect: virtio-net, an indirect table inside an indirect table" {
	refused nestedindirect net 'indirect table inside an indirect table'
}

@test "indirectnext: virtio-net, an indirect descriptor with NEXT" {
	refused indirectnext net 'indirect descriptor inside a chain'
}

@test "mixedindirect: virtio-net, direct descriptors ending in an indirect table are served (2.7.5.3.2)" {
	served mixedindirect net
}

@test "qsize: virtio-net, a queue size that is not a power of two" {
	refused qsize net 'queue size 48 is not a power of two up to 1024'
}

@test "qsizewrap: virtio-net, a queue size of 65600, 64 in its low 16 bits" {
	refused qsizewrap net 'queue size 65600 is above the maximum 256'
}

@test "misaligned: virtio-net, a misaligned descriptor ring" {
	refused_like misaligned net 'queue rings at 0x*8/0x*/0x* are misaligned'
}

@test "earlynotify: virtio-net, a request notified before DRIVER_OK waits for DRIVER_OK" {
	ignored earlynotify net 'queue notification before DRIVER_OK at offset 0x50 (4 bytes)'
}

@test "badnotify: virtio-net, notifications of no queue, or of the wrong width" {
	ignored badnotify net 'notification of a queue that does not exist at offset 0x50 (4 bytes)'
}

@test "oddmmio: virtio-net, 1-, 2-, 8-byte, unaligned and window-crossing register accesses" {
	ignored oddmmio net 'register write of the wrong size at offset 0x70 (1 bytes)'
}

@test "latesetup: virtio-net, queue setup while ready, features after FEATURES_OK" {
	ignored latesetup net 'queue setup while ready at offset 0x44 (4 bytes)'
}

@test "queuestop: virtio-net, a queue stopped with QueueReady 0 serves nothing, set up again it does (4.2.2.2)" {
	served queuestop net
}

@test "badfeatures: virtio-net, features not offered, or without VERSION_1" {
	served badfeatures net
}

@test "configwrite: virtio-net, config writes past its end, across its end, to read-only fields" {
	ignored configwrite net 'config write out of range or read-only at offset 0x300 (4 bytes)'
}

@test "txwritable: virtio-net, a frame to transmit in a device-writable buffer" {
	refused txwritable net 'a transmit chain has device-writable buffers'
}

# gmvm moves a frame with one readv()/writev() of at most IOV_MAX (1024)
# iovecs: the header's copy, one per buffer holding frame bytes and, on
# receive, an overflow byte. An indirect table makes longer chains (longer
# than the queue size, which drivers must not make); the guest's buffers are a byte each after a first holding the
# header (and a frame byte), laid out in memory in reverse.

@test "longrxchain: virtio-net, a receive chain of 1023 buffers through an indirect table needs a reset, the link stays up; 1022 are served" {
	local payload
	net_host
	# The datagram hostile_device.c expects (UDP_RECORDS records: a frame
	# of 1022 bytes), to the guest every 50 ms from before gmvm starts.
	payload=$(printf '%04d.' {0..195})
	ip netns exec "$NS" bash -c \
		"while sleep 0.05; do printf %s '$payload' >/dev/udp/$GUEST_IP/9; done" \
		>/dev/null 2>&1 3>&- &
	BG_PIDS=$!
	NET_MAC=$GUEST_MAC attack longrxchain net
	survived
	assert_line 'hostile: a receive chain of 1022 buffers: a frame of 1022 bytes arrived intact'
	assert_line 'hostile: NEEDS_RESET (status 0x4f), configuration interrupt, nothing used'
	assert_line 'hostile: a receive chain of 1023 buffers: the link is still up'
	assert_line 'hostile: after the reset, a frame arrived intact in a normal buffer'
	stderr_is 'gmvm: warning: virtio-net@0: a receive chain has more than 1022 buffers after its header; the device needs a reset'
}

@test "longtxchain: virtio-net, a frame to transmit in 1024 buffers after its header (through an indirect table) is dropped, logged once, and the device carries on; 1023 go out intact" {
	net_host
	NET_MAC=$GUEST_MAC attack longtxchain net
	survived
	assert_line 'hostile: a transmit chain of 1024 buffers, 1023 after the header: sent intact'
	assert_line 'hostile: a transmit chain of 1024 buffers, 1024 after the header: dropped, then the same frame in 2 buffers sent'
	stderr_is 'gmvm: warning: virtio-net@0: tap gmvmtap0: a transmitted frame dropped: more than 1023 buffers after its header (logged once)'
	# The namespace got echo requests 1 and 3, never the dropped 2.
	assert_equal "$(icmp_in_echos)" 2
}

# --- Ports.

@test "portflood: thousands of writes to the UART, the i8042 and ports nobody claims" {
	run --separate-stderr gmvm_run --cmdline hostile=portflood
	assert_success
	# The UART took every byte, in order: 4096 '#' then 4096 '.'.
	assert_line "$(printf '#%.0s' {1..4096})$(printf '.%.0s' {1..4096})"
	assert_line 'hostile: 8192 bytes to the UART, 2048 writes to each of 6 unclaimed ports, 1024 to the i8042'
	assert_line 'testguest: ok'
	stderr_is ''
}

# --- virtio-vsock (transmitq; vsockrxshort receiveq): the generic attacks,
# and packets that break its own rules.

@test "loop: virtio-vsock, a descriptor loop" {
	refused loop vsock 'chain from descriptor 0 loops or exceeds the queue size'
}

@test "oob: virtio-vsock, a buffer past the end of RAM" {
	refused oob vsock 'buffer [0x8001000, +0x10) is not inside guest RAM'
}

@test "indirectloop: virtio-vsock, a loop inside an indirect table" {
	refused_like indirectloop vsock '*loops*'
}

@test "vsockbad: virtio-vsock answers bad packets with RST or drops them; never gmvm, never a device reset" {
	attack vsockbad vsock
	survived
	assert_line 'hostile: vsock: 7 bad packets answered with RST, the others dropped'
	stderr_is 'gmvm: warning: virtio-vsock@0: a packet from the guest is shorter than a header: dropped (logged once)'
}

@test "vsockrxshort: virtio-vsock, a receive buffer with no room past the header" {
	refused vsockrxshort vsock 'a receive chain has device-readable buffers or no room for a header and data'
}
