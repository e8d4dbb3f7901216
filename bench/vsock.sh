#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/vsock.sh: virtio-vsock against virtio-net over a tap, with the same
# Linux guest (images/) in the same run. The guest runs /bin/gmvm-vsock's
# echo server on vsock port 5000 and on TCP port 5001 (gmvm_vsock=,
# gmvm_tcp=); the host's side is tests/tools/vsock_peer, through gmvm's
# hybrid-vsock socket (CONNECT 5000) and through the tap in a network
# namespace made for the run:
#
#   1. throughput: one stream, sent for SECONDS while the echo is read
#      back: MB/s of what came back;
#   2. latency: 1-byte round trips (write one byte, read it back): p50 and
#      p99 in microseconds;
#   3. the goals: vsock's stream at least the tap's TCP stream, its round
#      trip at most the tap's.
#
# A third row, not a goal: the same through vsock to the test guest's
# polling echo server (vsock=listen, at CPL3, no guest kernel): what gmvm's
# side costs, the floor under the Linux rows.
#
# Usage: bench/vsock.sh [-n RUNS] [-t SECONDS] [-c COUNT] [--strict] [BUILD_DIR]
# Needs root (a network namespace and a tap), iproute2, and the images/
# Linux (images/build-all.sh builds it, or finds it in its cache).

# shellcheck disable=SC2317 # functions called from traps and indirectly
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh" || exit 2

usage() {
	cat <<EOF
Usage: $prog [OPTION]... [BUILD_DIR]
Measure virtio-vsock against virtio-net over a tap: one stream's MB/s and
1-byte round trips, with the images/ Linux guest's echo servers.

  -n, --runs N         runs per measurement (default \$BENCH_RUNS or 3)
  -t, --seconds S      length of each stream (default \$BENCH_SECONDS or 3;
                       1 to 60)
  -c, --count N        round trips per latency run (default 2000)
      --strict         exit with status 3 when a goal is missed
  -h, --help           show this help
EOF
	usage_end "The Linux images come from images/build-all.sh (which may build them)."
}

runs=${BENCH_RUNS:-3}
seconds=${BENCH_SECONDS:-3}
count=2000
declare -A options=(
	[-n]=runs [--runs]=runs
	[-t]=seconds [--seconds]=seconds
	[-c]=count [--count]=count
)
parse_args "$@"
check_runs 1
case $seconds in
'' | *[!0-9]* | 0*) usage_die "--seconds: '$seconds' is not a whole number of seconds from 1" ;;
esac
[ "$seconds" -le 60 ] || usage_die "--seconds: at most 60, got $seconds"
case $count in
'' | *[!0-9]* | 0*) usage_die "--count: '$count' is not a whole number from 1" ;;
esac

DIE_STATUS=2
find_build
need_tools awk sort sed timeout ip
peer=$build/tests/tools/vsock_peer
[ -x "$peer" ] || die "$peer: not found (run make check in '$build', which builds it)"
[ "$(id -u)" -eq 0 ] || die "needs root: the tap lives in a network namespace made for the run"
[ -c /dev/net/tun ] || die "no /dev/net/tun: no tap to compare with"
images=$("$src/images/build-all.sh") || die "images/build-all.sh failed"
eval "$images"
DIE_STATUS=1

make_tmp "${TMPDIR:-/tmp}" gmvm-vsbench
load_line=$(print_load)
GUEST_IP=10.79.0.2
HOST_IP=10.79.0.1
TAP=vsbtap0
netns=gmvm-vsbench-$$
uds=$tmp/v.sock

net_cleanup() {
	[ -z "${fifo_fd:-}" ] || exec {fifo_fd}>&-
	ip netns del "$netns" 2>/dev/null
	cleanup
}
trap net_cleanup EXIT
ip netns add "$netns" || die "ip netns add failed"
if ! { ip -n "$netns" tuntap add dev "$TAP" mode tap &&
	ip -n "$netns" addr add "$HOST_IP/24" dev "$TAP" &&
	ip -n "$netns" link set "$TAP" up; }; then
	die "cannot set up tap $TAP in $netns"
fi

# The guest: both echo servers, then it waits for a line on its console.
cmdline="console=ttyS0 panic=-1 reboot=k tsc=reliable no_timer_check noxsave"
cmdline+=" clearcpuid=smap,popcnt,erms,fsrm noreplace-smp rodata=off"
cmdline+=" percpu_alloc=page quiet gmvm_disk=none"
cmdline+=" ip=$GUEST_IP::$HOST_IP:255.255.255.0::eth0:off"
cmdline+=" gmvm_vsock=5000 gmvm_tcp=5001 gmvm_wait=3600"
mkfifo "$tmp/in"
exec {fifo_fd}<>"$tmp/in"
ip netns exec "$netns" timeout 3700 "$gmvm" run --kernel "$GMVM_VMLINUX" \
	--initrd "$GMVM_INITRAMFS" --memory 256M --console serial \
	--net "tap=$TAP" --vsock "cid=3,uds=$uds" --cmdline "$cmdline" \
	<"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
bgpid=$!
for ((i = 0; i < 1200; i++)); do
	grep -q 'tcp: listening on port 5001' "$tmp/out" 2>/dev/null &&
		grep -q 'vsock: listening on port 5000' "$tmp/out" && break
	kill -0 "$bgpid" 2>/dev/null || { cat "$tmp/err" >&2; die "the guest ended before its echo servers were up"; }
	sleep 0.1
done
grep -q 'tcp: listening on port 5001' "$tmp/out" || die "the guest's echo servers did not come up in 120 s"

# measure NAME TARGET PORT COMMAND...: runs of each measurement, COMMAND
# being vsock_peer (in the namespace for the tap), TARGET its socket or
# tcp:ADDR.
measure() {
	local name=$1 target=$2 port=$3 i line
	shift 3
	: >"$tmp/$name.mbs"
	: >"$tmp/$name.p50"
	: >"$tmp/$name.p99"
	for ((i = 0; i < runs; i++)); do
		line=$("$@" stream "$target" "$port" "$seconds") || die "$name stream failed: $line"
		sed -n 's/^stream: \([0-9.]*\) MB\/s.*/\1/p' <<<"$line" |
			awk '{ printf "%d\n", $1 * 1000 }' >>"$tmp/$name.mbs"
		line=$("$@" pingpong "$target" "$port" "$count") || die "$name pingpong failed: $line"
		sed -n 's/^pingpong: .* p50 \([0-9]*\) us, p99 \([0-9]*\) us$/\1 \2/p' <<<"$line" |
			while read -r p50 p99; do
				echo "$p50" >>"$tmp/$name.p50"
				echo "$p99" >>"$tmp/$name.p99"
			done
	done
}

measure vsock "$uds" 5000 "$peer"
measure tap "tcp:$GUEST_IP" 5001 ip netns exec "$netns" "$peer"
echo go >&"$fifo_fd"
wait "$bgpid"
bgpid=

# The floor: the test guest's echo server, polling at CPL3.
tuds=$tmp/t.sock
"$gmvm" run --kernel "$guest" --vsock "cid=3,uds=$tuds" \
	--cmdline "vsock=listen,5000,$((2 * runs))" </dev/null >"$tmp/tout" 2>"$tmp/terr" &
bgpid=$!
for ((i = 0; i < 100; i++)); do
	[ -S "$tuds" ] && break
	sleep 0.1
done
measure floor "$tuds" 5000 "$peer"
wait "$bgpid" || { cat "$tmp/terr" >&2; die "the test guest's echo server failed"; }
bgpid=

mbs() { awk -v k="$(median "$1")" 'BEGIN { printf "%.1f", k / 1000 }'; }

echo "bench/vsock.sh: one Linux guest (images/), its echo servers on vsock and on TCP"
echo "  host:   $(host_desc)"
echo "$load_line"
echo "  gmvm:   $gmvm_exe"
echo "  runs:   $runs of a ${seconds}-s stream and $count 1-byte round trips each (medians)"
echo
printf '  %-28s %12s %14s %14s\n' transport "stream MB/s" "RTT p50 (us)" "RTT p99 (us)"
printf '  %-28s %12s %14s %14s\n' "virtio-vsock (hybrid UDS)" "$(mbs "$tmp/vsock.mbs")" \
	"$(median "$tmp/vsock.p50")" "$(median "$tmp/vsock.p99")"
printf '  %-28s %12s %14s %14s\n' "virtio-net (tap, TCP)" "$(mbs "$tmp/tap.mbs")" \
	"$(median "$tmp/tap.p50")" "$(median "$tmp/tap.p99")"
printf '  %-28s %12s %14s %14s\n' "vsock, test guest (floor)" "$(mbs "$tmp/floor.mbs")" \
	"$(median "$tmp/floor.p50")" "$(median "$tmp/floor.p99")"
echo
echo "Goals:"
if [ "$(median "$tmp/vsock.mbs")" -ge "$(median "$tmp/tap.mbs")" ]; then
	goal PASS "vsock stream >= the tap's TCP stream"
else
	goal FAIL "vsock stream >= the tap's TCP stream"
fi
if [ "$(median "$tmp/vsock.p50")" -le "$(median "$tmp/tap.p50")" ]; then
	goal PASS "vsock round trip (p50) <= the tap's"
else
	goal FAIL "vsock round trip (p50) <= the tap's"
fi
goals_exit
