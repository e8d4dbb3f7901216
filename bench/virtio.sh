#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# bench/virtio.sh: virtio-blk and virtio-net throughput, gmvm against QEMU
# microvm, side by side, with the test guest's own polling driver:
#
#   1. virtio-blk: 4 KiB random reads and writes, 1 MiB sequential reads
#      and writes, at queue depth 16 and 1 (blkbench=MODE,DEPTH,SECONDS):
#      ops/s and MB/s, every sector read checked, the disk read back at the
#      end of every run;
#   2. virtio-net: 60-byte UDP frames sent to a tap in a network namespace
#      made for the run (netbench=GIP,HIP,SECONDS): packets/s, every frame
#      counted again on the tap (rx_packets);
#   3. whether gmvm meets its goal: at least QEMU's figure on every row.
#
# Usage: bench/virtio.sh [-n RUNS] [-t SECONDS] [--no-net] [--strict] [BUILD_DIR]
# See bench/README.md. Needs bash, QEMU, coreutils, awk, and for the network
# part root and iproute2: what scripts/install-deps installs.

# shellcheck disable=SC2317 # functions called from traps and indirectly
# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "$0")/lib.sh" || exit 2

usage() {
	cat <<EOF
Usage: $prog [OPTION]... [BUILD_DIR]
Measure virtio-blk and virtio-net throughput, gmvm against QEMU microvm,
with the test guest's driver.

  -n, --runs N         runs per configuration (default \$BENCH_RUNS or 3;
                       at least 1)
  -t, --seconds S      length of each measured phase (default \$BENCH_SECONDS
                       or 2; 1 to 60)
      --no-net         skip the network part (it needs root and iproute2)
      --strict         exit with status 3 when a goal is missed
  -h, --help           show this help
EOF
	usage_end "Other environment: QEMU (QEMU binary, default qemu-system-x86_64),
BENCH_DISK_DIR (tmpfs directory for the disk image, default /dev/shm)."
}

runs=${BENCH_RUNS:-3}
seconds=${BENCH_SECONDS:-2}
with_net=1
declare -A options=(
	[-n]=runs [--runs]=runs
	[-t]=seconds [--seconds]=seconds
	[--no-net]=with_net=0
)
parse_args "$@"
check_runs 1
case $seconds in
'' | *[!0-9]* | 0*) usage_die "--seconds: '$seconds' is not a whole number of seconds from 1" ;;
esac
[ "$seconds" -le 60 ] || usage_die "--seconds: at most 60, got $seconds"

# ---------------------------------------------------------------- set-up

DIE_STATUS=2
find_build
need_qemu
need_tools awk sort sed timeout dd
init_timer
disk_dir=${BENCH_DISK_DIR:-/dev/shm}
if [ ! -d "$disk_dir" ] || [ ! -w "$disk_dir" ]; then
	die "$disk_dir: not a writable directory (set BENCH_DISK_DIR)"
fi
DISK_MIB=128
[ "$(avail_kib "$disk_dir")" -gt $((DISK_MIB * 1024 + 1024)) ] ||
	die "$disk_dir: no room for a $DISK_MIB MiB disk image"
DIE_STATUS=1

make_tmp "${TMPDIR:-/tmp}" gmvm-vbench
disk=$(mktemp "$disk_dir/gmvm-vbench.XXXXXX.img") || die "mktemp in $disk_dir failed"
cleanup_files+=("$disk")
# Every block allocated up front: no run pays for tmpfs allocating pages.
dd if=/dev/zero of="$disk" bs=1M count="$DISK_MIB" status=none || die "cannot write $disk"

GUEST_IP=10.0.2.15
HOST_IP=10.0.2.2
TAP=vbtap0
GUEST_MAC=52:54:00:12:34:56
MEMORY=128M
netns=
net_why=

# The network namespace: made here, deleted on exit (after lib.sh's
# cleanup, which this wraps).
net_setup() {
	local out
	[ "$with_net" -eq 1 ] || { net_why="--no-net"; return 1; }
	[ "$(id -u)" -eq 0 ] || { net_why="needs root (a network namespace and a tap)"; return 1; }
	command -v ip >/dev/null 2>&1 || { net_why="ip (iproute2) not found"; return 1; }
	[ -c /dev/net/tun ] || { net_why="no /dev/net/tun"; return 1; }
	netns=gmvm-vbench-$$
	out=$(ip netns add "$netns" 2>&1) || { net_why="ip netns add: $out"; netns=; return 1; }
	if ! { ip -n "$netns" tuntap add dev "$TAP" mode tap &&
		ip -n "$netns" addr add "$HOST_IP/24" dev "$TAP" &&
		ip -n "$netns" link set "$TAP" up; }; then
		net_why="cannot set up tap $TAP in $netns"
		return 1
	fi
}
net_cleanup() {
	[ -z "$netns" ] || ip netns del "$netns" 2>/dev/null
	cleanup
}
trap net_cleanup EXIT

# tap_rx: frames the tap has received from the monitor (the guest's).
tap_rx() {
	ip netns exec "$netns" cat "/sys/class/net/$TAP/statistics/rx_packets"
}

# ---------------------------------------------------------------- commands

qemu_accel=(-enable-kvm)
qemu_accel_label=KVM

# gmvm_cmd CMDLINE DEVICE-OPTIONS... -> CMD
gmvm_cmd() {
	local cmdline=$1
	shift
	CMD=("$gmvm" run --kernel "$guest" --memory "$MEMORY" --cmdline "$cmdline" "$@")
}

# qemu_cmd CMDLINE DEVICE-OPTIONS... -> CMD. acpi=off: only then does
# microvm add virtio_mmio.device= to the command line (with ACPI it lists
# the transports in its DSDT instead). force-legacy=false: QEMU's
# virtio-mmio is legacy (version 1) by default; gmvm's, and the test
# guest's driver, are version 2.
qemu_cmd() {
	local cmdline=$1
	shift
	# shellcheck disable=SC2054 # the commas are QEMU's, inside one argument
	CMD=("$qemu" -M microvm,acpi=off "${qemu_accel[@]}" -cpu qemu64 -m "$MEMORY"
		-nodefaults -no-user-config -nographic -serial stdio
		-kernel "$guest" -append "$cmdline"
		-device isa-debug-exit,iobase=0xf4,iosize=4
		-global virtio-mmio.force-legacy=false "$@")
}

# run_vm OUT COMMAND...: COMMAND with stdin on /dev/null, stdout in OUT and
# stderr in $tmp/err, under a time limit; sets rc and us (exec -> exit).
run_vm() {
	local out=$1
	shift
	tick
	local t0=$_t
	timeout --kill-after=5 $((seconds + 120)) "$@" </dev/null >"$out" 2>"$tmp/err"
	rc=$?
	tick
	us=$((_t - t0))
}

# -------------------------------------------------------------- probes

gmvm_info
qemu_version=$("$qemu" --version 2>/dev/null | head -n 1)

gmvm_cmd exit=5
probe_gmvm "${CMD[@]}"

# QEMU: KVM if it works (exit=5 comes back as (5 << 1) | 1 = 11), else TCG.
qemu_cmd exit=5
run_vm "$tmp/out" "${CMD[@]}"
if [ "$rc" -ne 11 ] || ! qemu_stderr_ok "$tmp/err"; then
	echo "$prog: WARNING: QEMU microvm with -enable-kvm does not work here (exit status $rc, expected 11):" >&2
	show_err
	echo "$prog: WARNING: falling back to QEMU with -accel tcg; its columns are labelled (TCG)" >&2
	qemu_accel=(-accel tcg)
	qemu_accel_label=TCG
	qemu_cmd exit=5
	run_vm "$tmp/out" "${CMD[@]}"
	if [ "$rc" -ne 11 ] || ! qemu_stderr_ok "$tmp/err"; then
		fail "QEMU microvm does not run the test guest with TCG either (exit status $rc, expected 11)"
	fi
fi
net_setup || netns=

# ------------------------------------------------------------ the runs

# shellcheck disable=SC2054 # MODE,DEPTH: one element each
blk_loads=(rand4k-read,16 rand4k-write,16 seq1m-read,16 seq1m-write,16
	rand4k-read,1 rand4k-write,1 seq1m-read,1 seq1m-write,1)
loads=("${blk_loads[@]}")
[ -z "$netns" ] || loads+=(net)
mkdir "$tmp/res"

# load_cmd MONITOR LOAD -> CMD, expect. The disk: both go through the
# host's page cache, gmvm with preadv/pwritev, QEMU with cache=writeback
# (its default; cache=none is O_DIRECT, which tmpfs does not have).
load_cmd() {
	# shellcheck disable=SC2054 # the commas are QEMU's, inside one argument
	case $1:$2 in
	gmvm:net)
		gmvm_cmd "netbench=$GUEST_IP,$HOST_IP,$seconds" --net "tap=$TAP,mac=$GUEST_MAC"
		;;
	qemu:net)
		qemu_cmd "netbench=$GUEST_IP,$HOST_IP,$seconds" \
			-netdev "tap,id=n0,ifname=$TAP,script=no,downscript=no" \
			-device "virtio-net-device,netdev=n0,mac=$GUEST_MAC"
		;;
	gmvm:*)
		gmvm_cmd "blkbench=$2,$seconds" --disk "$disk"
		;;
	qemu:*)
		qemu_cmd "blkbench=$2,$seconds" \
			-drive "id=d0,file=$disk,format=raw,if=none,cache=writeback,aio=threads" \
			-device virtio-blk-device,drive=d0
		;;
	esac
	expect=0
	[ "$1" = gmvm ] || expect=1
	[ "$2" != net ] || CMD=(ip netns exec "$netns" "${CMD[@]}")
}

# check_blk OUT: the guest's blkbench lines; sets rate (ops/s) and gus.
check_blk() {
	local line
	line=$(sed -n 's/^blkbench: [a-z0-9-]* depth [0-9]*: \([0-9]*\) requests, [0-9]* bytes in \([0-9]*\) us: \([0-9]*\) ops\/s.*/\1 \2 \3/p' "$1")
	read -r _ gus rate <<<"$line"
	[ -n "${rate:-}" ] || return 1
	grep -q '^blkbench: read back [0-9]* written blocks of [0-9]*: every sector right$' "$1"
}

# check_net OUT RX: the guest's netbench line, and the tap saw every frame
# (RX, plus at most 16 more: ARP); sets rate (packets/s) and gus.
check_net() {
	local line sent
	line=$(sed -n 's/^netbench: \([0-9]*\) frames of 60 bytes in \([0-9]*\) us: \([0-9]*\) packets\/s$/\1 \2 \3/p' "$1")
	read -r sent gus rate <<<"$line"
	[ -n "${rate:-}" ] || return 1
	if [ "$2" -lt "$sent" ] || [ "$2" -gt $((sent + 16)) ]; then
		why="the guest sent $sent frames, the tap received $2"
		return 1
	fi
}

# run_load MONITOR LOAD ITERATION: one run, checked; its rate appended to
# $tmp/res/LOAD.MONITOR.
run_load() {
	local mon=$1 load=$2 out=$tmp/out rx0=0 rx1=0 label="$1 $2"
	load_cmd "$mon" "$load"
	[ "$load" != net ] || rx0=$(tap_rx)
	run_vm "$out" "${CMD[@]}"
	[ "$load" != net ] || rx1=$(tap_rx)
	why=
	if [ "$rc" -ne "$expect" ]; then
		why="exit status $rc, expected $expect"
	elif [ "$mon" = qemu ] && ! qemu_stderr_ok "$tmp/err"; then
		why="exit status $rc as expected, but QEMU reported an error"
	elif [ "$load" = net ] && ! check_net "$out" $((rx1 - rx0)); then
		why=${why:-"no netbench result"}
	elif [ "$load" != net ] && ! check_blk "$out"; then
		why="no blkbench result, or its read-back check failed"
	elif [ "$gus" -lt $((seconds * 1000000)) ] || [ "$gus" -gt $((us + us / 100)) ]; then
		# The guest's clock (TSC at kvmclock's rate) against the host's.
		why="the guest timed ${gus} us for a ${seconds} s phase, the whole run took ${us} us"
	fi
	[ -z "$why" ] || fail "$label, run $3: $why" "guest console:" "$(sed 's/^/  | /' "$out")"
	[ "$3" = warm-up ] || echo "$rate" >>"$tmp/res/$load.$mon"
}

hostcpu=$(host_desc)
echo "gmvm virtio benchmark"
echo "  host:   $hostcpu"
echo "  gmvm:   $gmvm ($gmvm_version), backend $default_backend"
echo "  QEMU:   $qemu_version, microvm (acpi=off, virtio-mmio version 2), accel $qemu_accel_label"
echo "  guest:  $guest, $MEMORY, cmdline blkbench=MODE,DEPTH,$seconds / netbench=$GUEST_IP,$HOST_IP,$seconds"
echo "  disk:   $disk ($(fstype "$disk_dir"), $DISK_MIB MiB; QEMU cache=writeback aio=threads)"
if [ -n "$netns" ]; then
	echo "  net:    tap $TAP in namespace $netns, host $HOST_IP"
else
	echo "  net:    skipped: $net_why"
fi
echo "  runs:   $runs per configuration, interleaved, $seconds s each, after 1 s warm-ups"
print_load
echo

printf 'running'
# Warm-ups: one short run of each monitor and kind of device, not counted.
phase=$seconds
seconds=1
for l in seq1m-write,16 ${netns:+net}; do
	run_load gmvm "$l" warm-up
	run_load qemu "$l" warm-up
done
seconds=$phase
for i in $(seq 1 "$runs"); do
	for l in "${loads[@]}"; do
		run_load gmvm "$l" "$i"
		run_load qemu "$l" "$i"
		printf '.'
	done
done
echo " done"
echo

# ------------------------------------------------------------- tables

declare -A med
q=QEMU
[ "$qemu_accel_label" = KVM ] || q="QEMU (TCG)"

# mbs LOAD OPS -> MB/s (10^6 bytes) of OPS requests per second
mbs() {
	local size=4096
	case $1 in seq1m*) size=1048576 ;; esac
	awk -v n="$2" -v s="$size" 'BEGIN { printf "%.1f", n * s / 1e6 }'
}

# row LOAD LABEL UNIT: medians, min-max, MB/s (block) and gmvm/QEMU.
row() {
	local l=$1 gm gl gh qm ql qh ratio
	read -r gm gl gh < <(stats "$tmp/res/$l.gmvm")
	read -r qm ql qh < <(stats "$tmp/res/$l.qemu")
	med[$l.gmvm]=$gm
	med[$l.qemu]=$qm
	ratio=$(awk -v g="$gm" -v q="$qm" 'BEGIN { printf "%.2fx", g / q }')
	printf '  %-22s %9s %17s %9s %17s' "$2" "$gm" "$gl-$gh" "$qm" "$ql-$qh"
	if [ "$3" = ops ]; then
		printf ' %10s %10s' "$(mbs "$l" "$gm")" "$(mbs "$l" "$qm")"
	fi
	printf ' %10s\n' "$ratio"
}

echo "1. virtio-blk, ops/s (median, min-max) and MB/s (of the median), $runs runs of $seconds s"
printf '  %-22s %9s %17s %9s %17s %10s %10s %10s\n' ops/s gmvm min-max "$q" min-max \
	"gmvm MB/s" "QEMU MB/s" gmvm/QEMU
for l in "${blk_loads[@]}"; do
	row "$l" "${l%,*} depth ${l#*,}" ops
done
echo "  every sector read was checked, and the disk read back after every run"
echo
if [ -n "$netns" ]; then
	echo "2. virtio-net, 60-byte UDP frames to the tap, packets/s (median, min-max), $runs runs of $seconds s"
	printf '  %-22s %9s %17s %9s %17s %10s\n' packets/s gmvm min-max "$q" min-max gmvm/QEMU
	row net "udp tx" pkts
	echo "  every frame the guest sent was counted on the tap (rx_packets)"
else
	echo "2. virtio-net: skipped: $net_why"
fi
echo

# --------------------------------------------------------------- goals

echo "Goals"
for l in "${loads[@]}"; do
	g=${med[$l.gmvm]} qv=${med[$l.qemu]}
	v=$(awk -v g="$g" -v q="$qv" 'BEGIN { print (g >= q) ? "PASS" : "FAIL" }')
	case $l in
	net) what="net udp tx: gmvm $g packets/s >= $q $qv packets/s" ;;
	*) what="blk ${l%,*} depth ${l#*,}: gmvm $g ops/s >= $q $qv ops/s" ;;
	esac
	goal "$v" "$what ($(awk -v g="$g" -v q="$qv" 'BEGIN { printf "%.2fx", g / q }'))"
done
[ -n "$netns" ] || echo "  [SKIP] net udp tx: $net_why"
echo
goals_exit
