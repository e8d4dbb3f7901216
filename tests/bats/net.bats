#!/usr/bin/env bats
# virtio-net on a tap. Each test makes its own network namespace with the
# tap and the host's address in it, and runs gmvm there: the guest's
# frames reach only that namespace's kernel, which answers its ARP and pings.

load helpers

GUEST_IP=10.0.2.15
HOST_IP=10.0.2.2
GUEST_MAC=52:54:00:12:34:56
TAP=gmvmtap0
NET="net=$GUEST_IP,$HOST_IP"

setup() {
	local out
	require_kvm
	require_command ip "iproute2"
	[ "$(id -u)" -eq 0 ] || skip "needs root to create a network namespace and a tap"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun: this host has no tun/tap driver"
	NS=gmvm-net-$$-$BATS_TEST_NUMBER-$RANDOM
	out=$(ip netns add "$NS" 2>&1) || skip "ip netns does not work here: $out"
	NS_MADE=1
	ip -n "$NS" tuntap add dev "$TAP" mode tap
	ip -n "$NS" addr add "$HOST_IP/24" dev "$TAP"
	ip -n "$NS" link set "$TAP" up
}

# Background commands start as `ip netns exec NS CMD &` (never through a
# function, which would fork a subshell): ip execs CMD, so $! is CMD's pid.
teardown() {
	stop_bg_pids
	if [ -n "${NS_MADE:-}" ]; then
		ip netns del "$NS"
	fi
}

# in_ns COMMAND...: run COMMAND in the test's namespace.
in_ns() {
	ip netns exec "$NS" "$@"
}

# gmvm_ns ARG...: gmvm (with a time limit) in the test's namespace.
gmvm_ns() {
	in_ns timeout --kill-after=10 "$GMVM_TIMEOUT" "$GMVM" "$@" <"${GMVM_STDIN:-/dev/null}"
}

tap_mac() {
	in_ns cat "/sys/class/net/$TAP/address"
}

assert_pinged() {
	assert_line "net: $HOST_IP is at $(tap_mac)"
	assert_line "net: 4 echo replies from $HOST_IP"
}

@test "virtio-net: the guest resolves the host and its pings are answered; --stats counts the frames" {
	run gmvm_ns run --kernel "$TESTGUEST" --net "tap=$TAP" --stats "$BATS_TEST_TMPDIR/stats" \
		--cmdline "$NET $NET"
	assert_success
	# 4 echo requests each time (and ARP), as many replies back.
	assert_equal "$(jq -r '.net[0] | "\(.device) \(.tap)"' "$BATS_TEST_TMPDIR/stats")" \
		"virtio-net@0 $TAP"
	jq -e '.net[0] | .tx_frames >= 8 and .rx_frames >= 8 and .tx_dropped == 0' \
		"$BATS_TEST_TMPDIR/stats" >/dev/null || fail "frame counts: $(cat "$BATS_TEST_TMPDIR/stats")"
	# No mac=: a locally administered one.
	assert_line --regexp '^net: mac 52:54(:[0-9a-f]{2}){4}$'
	assert_pinged
	assert_equal "$(grep -c '^net: 4 echo replies' <<<"$output")" 2
	assert_line 'testguest: ok'
}

@test "virtio-net: a driver reset while gmvm watches the tap leaves gmvm up (the reset comes from a vCPU thread)" {
	run gmvm_ns run --kernel "$TESTGUEST" --net "tap=$TAP" --cmdline "$NET netreset hello"
	assert_success
	assert_pinged
	assert_line 'netreset: done'
	assert_line 'testguest: ok'
}

@test "virtio-net: netbench sends UDP frames as fast as the queue takes them; the tap counts each one" {
	local before after sent
	before=$(in_ns cat "/sys/class/net/$TAP/statistics/rx_packets")
	run gmvm_ns run --kernel "$TESTGUEST" --net "tap=$TAP" \
		--cmdline "netbench=$GUEST_IP,$HOST_IP,1 $NET"
	assert_success
	assert_line --regexp '^netbench: [1-9][0-9]* frames of 60 bytes in [0-9]+ us: [1-9][0-9]* packets/s$'
	# The driver still talks afterwards.
	assert_pinged
	after=$(in_ns cat "/sys/class/net/$TAP/statistics/rx_packets")
	sent=$(sed -n 's/^netbench: \([0-9]*\) frames .*/\1/p' <<<"$output")
	[ $((after - before)) -ge "$sent" ] ||
		fail "the guest sent $sent frames, the tap received $((after - before))"
}

@test "virtio-net: the host side learns the guest's MAC given with mac=" {
	local out=$BATS_TEST_TMPDIR/out
	ip netns exec "$NS" timeout --kill-after=10 "$GMVM_TIMEOUT" "$GMVM" run \
		--kernel "$TESTGUEST" --net "tap=$TAP,mac=$GUEST_MAC" --cmdline "$NET spin" \
		</dev/null >"$out" 2>&1 3>&- &
	BG_PIDS=$!
	wait_for_line "$out" '^spin: running'
	# Its neighbour entry lives as long as the tap has a carrier: check now.
	run ip -n "$NS" neigh show dev "$TAP"
	assert_output --partial "$GUEST_IP lladdr $GUEST_MAC"
	run cat "$out"
	assert_line "net: mac $GUEST_MAC"
	assert_pinged
	# One VM per tap.
	run --separate-stderr gmvm_ns run --kernel "$TESTGUEST" --net "tap=$TAP"
	assert_bad_usage "tap $TAP: in use by another process"
}

@test "virtio-net: a missing tap, or one that is not a tap, is refused with status 2" {
	run --separate-stderr gmvm_ns run --kernel "$TESTGUEST" --net tap=nosuch0
	assert_bad_usage 'tap nosuch0: no such network device'
	run --separate-stderr gmvm_ns run --kernel "$TESTGUEST" --net tap=lo
	assert_bad_usage 'tap lo: not a tap device'
}

@test "virtio-net: a bad mac= is refused with status 2" {
	run --separate-stderr gmvm_ns run --kernel "$TESTGUEST" --net "tap=$TAP,mac=01:00:5e:00:00:01"
	assert_bad_usage 'is a multicast address'
	run --separate-stderr gmvm_ns run --kernel "$TESTGUEST" --net "tap=$TAP,mac=52:54:00:12:34"
	assert_bad_usage "'mac=52:54:00:12:34' is not tap=NAME or mac=MAC"
}

@test "virtio-net: a snapshot amid traffic restores lazily and eagerly, and the driver carries on" {
	local snap=$BATS_TEST_TMPDIR/s
	ip -n "$NS" neigh replace "$GUEST_IP" lladdr "$GUEST_MAC" dev "$TAP" nud permanent
	# Bursts of UDP datagrams for the guest (which ignores them) every 10 ms,
	# to its MAC set above: frames keep arriving from the moment a VM is on
	# the tap, also while it is paused for the snapshot.
	ip netns exec "$NS" bash -c \
		"while sleep 0.01; do for i in 1 2 3 4 5; do echo gmvm >/dev/udp/$GUEST_IP/9; done; done" \
		>/dev/null 2>&1 3>&- &
	BG_PIDS=$!
	run gmvm_ns run --kernel "$TESTGUEST" --net "tap=$TAP,mac=$GUEST_MAC" \
		--snapshot-on-request "$snap" --then stop --cmdline "$NET snapshot $NET"
	assert_success
	assert_pinged
	for how in "--restore lazy --memory-backend anon" "--restore eager"; do
		# shellcheck disable=SC2086
		run gmvm_ns restore --snapshot "$snap" --net "tap=$TAP" $how
		assert_success
		assert_line 'snapshot: resumed'
		assert_line "net: mac $GUEST_MAC"
		assert_pinged
		assert_line 'testguest: ok'
	done
	# A restore names its tap; without it there is nothing to restore onto.
	run --separate-stderr gmvm_ns restore --snapshot "$snap"
	assert_bad_usage 'the snapshot has 1 virtio-net device(s)' "the first was on tap $TAP" '0 --net given'
	run --separate-stderr gmvm_ns restore --snapshot "$snap" --net "tap=$TAP,mac=$GUEST_MAC"
	assert_bad_usage "--net tap=$TAP: a restored guest keeps the MAC it has"
	ip -n "$NS" link del "$TAP"
	run --separate-stderr gmvm_ns restore --snapshot "$snap" --recorded-resources
	assert_bad_usage "tap $TAP: no such network device"
}

@test "virtio-net: a snapshot through the control socket mid-conversation restores, and the guest carries on" {
	local out=$BATS_TEST_TMPDIR/out snap=$BATS_TEST_TMPDIR/s i cmdline=
	for ((i = 0; i < 30; i++)); do
		cmdline+=" $NET"
	done
	ip netns exec "$NS" timeout --kill-after=10 "$GMVM_TIMEOUT" "$GMVM" run \
		--kernel "$TESTGUEST" --net "tap=$TAP,mac=$GUEST_MAC" \
		--control "$BATS_TEST_TMPDIR/ctl" --cmdline "$cmdline" \
		</dev/null >"$out" 2>&1 3>&- &
	BG_PIDS=$!
	wait_for_line "$out" '^net: 4 echo replies'
	run gmvm snapshot --control "$BATS_TEST_TMPDIR/ctl" "$snap"
	assert_success
	wait "$BG_PIDS" || fail "the snapshotted VM failed: $(cat "$out")"
	BG_PIDS=
	# An echo request may have left before the snapshot and its reply gone
	# to the VM above: the restored guest sends it again.
	run gmvm_ns restore --snapshot "$snap" --net "tap=$TAP"
	assert_success
	assert_line 'testguest: ok'
}
