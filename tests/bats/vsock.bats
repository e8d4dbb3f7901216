#!/usr/bin/env bats
# --vsock cid=N,uds=PATH: virtio-vsock with Firecracker's hybrid-vsock host
# side. The test guest's vsock= workloads (tests/guest/virtio_vsock.c) are
# one end, tests/tools/vsock_peer the other: connections both ways, bytes
# checked one by one, flow control that keeps every buffer bounded, the
# connection cap, snapshots, and bad options. Linux's side is in
# tests/linux/linux.bats and restore.bats; hostile packets in hostile.bats.

load helpers
load snapshot_helpers

setup() {
	require_kvm
	require_file "$TOOLS/vsock_peer"
	UDS=$BATS_TEST_TMPDIR/v.sock
	PEER=$TOOLS/vsock_peer
	BG_PIDS=
}

teardown() {
	stop_background_gmvm
	stop_bg_pids
}

# guest_start CMDLINE [ARG]...: the test guest in the background with a
# vsock device at $UDS; waits until gmvm listens there.
guest_start() {
	local cmdline=$1
	shift
	gmvm_background "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" run \
		--kernel "$TESTGUEST" --vsock "cid=3,uds=$UDS" --cmdline "$cmdline" \
		--stats "$BATS_TEST_TMPDIR/stats.json" "$@"
	for ((i = 0; i < 100; i++)); do
		[ -S "$UDS" ] && return 0
		sleep 0.1
	done
	fail "gmvm did not listen on $UDS: $(cat "$BATS_TEST_TMPDIR/err")"
}

# guest_wait: gmvm's exit status must be 0; its output in $output.
guest_wait() {
	local status=0
	wait "$GMVM_PID" || status=$?
	GMVM_PID=
	output=$(cat "$BATS_TEST_TMPDIR/out")
	mapfile -t lines <<<"$output"
	[ "$status" -eq 0 ] ||
		fail "gmvm exited $status: $output $(cat "$BATS_TEST_TMPDIR/err")"
}

stat_of() {
	jq_stats "$BATS_TEST_TMPDIR/stats.json" ".vsock.$1"
}

# serve_at PATH N [noread]: vsock_peer serve in the background.
serve_at() {
	"$PEER" serve "$@" >"$BATS_TEST_TMPDIR/serve.out" &
	BG_PIDS="$BG_PIDS $!"
	for ((i = 0; i < 50; i++)); do
		[ -S "$1" ] && return 0
		sleep 0.1
	done
	fail "vsock_peer did not listen on $1"
}

@test "host to guest: CONNECT 5000 gets OK, 64 MiB go through one connection and come back byte for byte" {
	guest_start "vsock=listen,5000,1"
	run timeout 120 "$PEER" echo "$UDS" 5000 1 $((64 << 20))
	assert_success
	assert_line --regexp '^echo: 1 connections, 67108864 bytes each, echoed with 0 wrong bytes'
	guest_wait
	assert_line 'vsock: device up, guest CID 3'
	assert_line 'vsock: 1 connections served'
	assert_equal "$(stat_of connections_from_host)" 1
	assert_equal "$(stat_of bytes_to_guest)" $((64 << 20))
	assert_equal "$(stat_of bytes_from_guest)" $((64 << 20))
	assert_equal "$(stat_of connections)" 0
	# gmvm removes its socket when it ends.
	[ ! -e "$UDS" ] || fail "$UDS is still there"
}

@test "100 connections at once, each echoed whole" {
	guest_start "vsock=listen,5000,100"
	run timeout 120 "$PEER" echo "$UDS" 5000 100 200000
	assert_success
	assert_line --regexp '^echo: 100 connections, 200000 bytes each, echoed with 0 wrong bytes'
	guest_wait
	assert_line 'vsock: 100 connections served'
	assert_equal "$(stat_of connections_from_host)" 100
}

@test "guest to host: CID 2 port P reaches PATH_P; a port nobody listens on is refused" {
	serve_at "${UDS}_6000" 1
	run --separate-stderr gmvm_run --vsock "cid=3,uds=$UDS" \
		--cmdline "vsock=connect,6000,4000000 vsock=refused,6001" \
		--stats "$BATS_TEST_TMPDIR/stats.json"
	assert_success
	assert_line 'vsock: connect 6000: 4000000 bytes sent, 4000000 echoed, 0 wrong'
	assert_line 'vsock: connect to port 6001: refused'
	assert_line 'testguest: ok'
	assert_equal "$(stat_of connections_from_guest)" 1
	assert_equal "$(stat_of refused)" 1
	wait_for_line "$BATS_TEST_TMPDIR/serve.out" '^serve: connection 1: 4000000 bytes echoed$'
}

@test "a CONNECT to a port the guest does not listen on, a bad first line, or none at all: the socket is closed" {
	guest_start "vsock=listen,5000,1"
	run "$PEER" refused "$UDS" 5999
	assert_success
	assert_line 'refused: CONNECT 5999 closed without OK'
	run "$PEER" refused "$UDS" "abc"
	assert_success
	run "$PEER" refused "$UDS" "99999999999"
	assert_success
	# No line at all: closed within the 2 s a request may take.
	run "$PEER" hold "$UDS" 3
	assert_success
	assert_line 'hold: 3 of 3 connections kept, 0 closed at once'
	assert_line --regexp '^hold: all closed after [0-3]\.[0-9] s more$'
	# The device still works.
	run "$PEER" echo "$UDS" 5000 1 1000
	assert_success
	guest_wait
	assert_line 'testguest: ok'
}

@test "at most 256 connections: more are closed at once, the device goes on" {
	ulimit -n 4096
	guest_start "vsock=listen,5000,1"
	run "$PEER" hold "$UDS" 300
	assert_success
	assert_line 'hold: 256 of 300 connections kept, 44 closed at once'
	run "$PEER" echo "$UDS" 5000 1 1000
	assert_success
	guest_wait
	assert_equal "$(stat_of refused)" 44
}

@test "a host peer that disappears mid-stream: the guest is told, the next connection works" {
	guest_start "vsock=listen,5000,2 vsock=listen,5000,1"
	run "$PEER" vanish "$UDS" 5000 10000000
	assert_success
	run "$PEER" vanish "$UDS" 5000 100
	assert_success
	sleep 0.5
	run "$PEER" echo "$UDS" 5000 1 100000
	assert_success
	guest_wait
	assert_line 'vsock: 2 connections served'
	assert_line 'testguest: ok'
	assert_equal "$(stat_of connections)" 0
}

@test "a guest that stops reading: the host's writes stop at the guest's credit, nothing piles up in gmvm" {
	guest_start "vsock=stall,5000"
	run "$PEER" stall "$UDS" 5000
	assert_success
	local taken
	taken=$(sed -n 's/^stall: \([0-9]*\) bytes taken.*/\1/p' <<<"$output")
	# The guest's 16 KiB of credit and the UNIX socket's own buffer.
	((taken < 1048576)) || fail "the host could write $taken bytes to a guest that reads nothing"
	guest_wait
	assert_line 'vsock: stall: 16384 bytes arrived unread (credit 16384)'
	assert_line "vsock: stall: then read $taken bytes in all; the host closed it"
	assert_equal "$(stat_of buffered_peak)" 0
}

@test "a host that stops reading: gmvm buffers at most 256 KiB of the guest's bytes, then the guest has no credit" {
	serve_at "${UDS}_6000" 1 noread
	run --separate-stderr gmvm_run --vsock "cid=3,uds=$UDS" \
		--cmdline "vsock=flood,6000,50000000" --stats "$BATS_TEST_TMPDIR/stats.json"
	assert_success
	local taken
	taken=$(sed -n 's/^vsock: flood: \([0-9]*\) bytes taken, then no credit for 3 s$/\1/p' <<<"$output")
	[ -n "$taken" ] || fail "no flood line: $output"
	((taken < 1048576)) || fail "the guest could send $taken bytes to a host that reads nothing"
	local peak
	peak=$(stat_of buffered_peak)
	((peak > 0 && peak <= 262144)) || fail "gmvm buffered $peak bytes of one connection"
}

@test "snapshot with a connection open: the VM goes on with it; a restore resets it, the agent reconnects, the listener stays" {
	local snap=$BATS_TEST_TMPDIR/snap uds2=$BATS_TEST_TMPDIR/w.sock
	serve_at "${UDS}_7000" 1
	guest_start "vsock=agent,7000,7001" --snapshot-on-request "$snap"
	wait_for_line "$BATS_TEST_TMPDIR/out" '^vsock: listening on port 7001$'
	run "$PEER" echo "$UDS" 7001 1 5000
	assert_success
	guest_wait
	assert_line 'vsock: agent: connection kept'
	assert_line 'vsock: agent: exchange after the snapshot ok'
	refute_line --partial 'transport reset'

	run gmvm inspect "$snap"
	assert_success
	assert_line "    vsock: guest CID 3, host sockets at $UDS"

	serve_at "${uds2}_7000" 1
	gmvm_background "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" restore \
		--snapshot "$snap" --vsock "uds=$uds2" --stats "$BATS_TEST_TMPDIR/stats.json"
	wait_for_line "$BATS_TEST_TMPDIR/out" '^vsock: listening on port 7001$'
	run "$PEER" echo "$uds2" 7001 1 5000
	assert_success
	guest_wait
	assert_line 'vsock: transport reset: every connection is gone'
	assert_line 'vsock: agent: reconnected'
	assert_line 'vsock: agent: exchange after the snapshot ok'
	assert_line 'testguest: ok'
	assert_equal "$(stat_of cid)" 3
}

@test "restore: the snapshot's vsock needs --vsock uds=PATH (or --recorded-resources); cid= is refused" {
	local snap=$BATS_TEST_TMPDIR/snap
	make_snapshot "$snap" --vsock "cid=5,uds=$UDS" --cmdline "snapshot exit=0"
	run --separate-stderr restore --snapshot "$snap"
	assert_bad_usage "the snapshot has a virtio-vsock device (host sockets at $UDS): give --vsock uds=PATH"
	run --separate-stderr restore --snapshot "$snap" --vsock "cid=6,uds=$UDS"
	assert_bad_usage "a restored guest keeps the CID it has"
	run --separate-stderr restore --snapshot "$snap" --recorded-resources
	assert_success
	run --separate-stderr restore --snapshot "$snap" --vsock "uds=$BATS_TEST_TMPDIR/other"
	assert_success
	local plain=$BATS_TEST_TMPDIR/plain
	make_snapshot "$plain" --cmdline "snapshot exit=0"
	run --separate-stderr restore --snapshot "$plain" --vsock "uds=$UDS"
	assert_bad_usage 'the snapshot has no virtio-vsock device'
}

@test "bad --vsock options are refused, status 2, naming the problem" {
	run --separate-stderr gmvm_run --vsock "cid=2,uds=$UDS"
	assert_bad_usage '--vsock cid='
	run --separate-stderr gmvm_run --vsock "cid=3"
	assert_bad_usage 'no uds=PATH'
	run --separate-stderr gmvm_run --vsock "uds=$UDS"
	assert_bad_usage 'no cid=N'
	run --separate-stderr gmvm_run --vsock "cid=3,uds=$UDS,port=1"
	assert_bad_usage "'port=1' is not cid=N or uds=PATH"
	run --separate-stderr gmvm_run --vsock "cid=3,uds=$UDS" --vsock "cid=4,uds=$UDS.2"
	assert_bad_usage 'only one virtio-vsock device'
	run --separate-stderr gmvm_run --vsock "cid=3,uds=/tmp/$(printf 'x%.0s' {1..100})"
	assert_bad_usage 'PATH_<port> must fit'
	touch "$UDS"
	run --separate-stderr gmvm_run --vsock "cid=3,uds=$UDS"
	assert_bad_usage "--vsock uds= $UDS: exists and is not a socket"
	[ -f "$UDS" ] || fail "the file at $UDS was touched"
	run --separate-stderr gmvm_run --vsock "cid=3,uds=$BATS_TEST_TMPDIR/no/such/dir/v.sock"
	assert_bad_usage 'No such file or directory'
}

@test "a path another gmvm serves is refused; a stale socket file is taken over" {
	guest_start "vsock=listen,5000,1"
	run --separate-stderr gmvm_run --vsock "cid=4,uds=$UDS"
	assert_bad_usage 'another process is serving it'
	run "$PEER" echo "$UDS" 5000 1 10
	assert_success
	guest_wait
	# A socket file nobody serves (a gmvm that was killed leaves one).
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$UDS"
	[ -S "$UDS" ] || fail "no stale socket made"
	run --separate-stderr gmvm_run --vsock "cid=3,uds=$UDS" --cmdline "exit=0"
	assert_success
}
