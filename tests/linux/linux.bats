#!/usr/bin/env bats
# Slow tests (make check-linux, never make check): the Linux guest that
# images/ builds from Debian packages boots under gmvm, and the host sees
# what it did. A boot costs ~25-35 s of emulated kernel code on kvm-pvm
# hosts, so setup_file makes three, one after the other, and the tests check
# what they left behind:
#
#   A  vmlinux + initramfs, devices from the command line (gmvm's default):
#      a copy of the test disk (mounted on /mnt), virtio-rng, virtio-net on
#      a tap in a network namespace made here, and the virtio console with
#      console=hvc0: the kernel's console and /init's markers come out of it
#      on gmvm's stdout. The kernel configures eth0 itself (ip=...). While
#      /init waits (gmvm_wait), the namespace pings the guest, then a line
#      typed on the console lets /init go on; it reboots and gmvm exits 0.
#      It also has virtio-vsock (--vsock), /bin/gmvm-vsock's echo server on
#      port 5000 and its agent, which connects to the host's port 7000 (a
#      socat echo server at the socket's path _7000): while /init waits,
#      socat reaches the echo server with CONNECT 5000 (1 MiB, and a
#      "urandom" request).
#   B  vmlinux with its devices from ACPI (--discovery acpi: LNRO0005 in
#      gmvm's DSDT, nothing on the command line), a copy of the test disk
#      as the root file system (no initramfs), virtio-rng, the serial
#      console; /init writes to the root and powers off (ACPI S5), gmvm
#      exits 0.
#   C  the bzImage (its LZ4 payload decompressed by emulated code: ~15 s
#      more) with the initramfs, --discovery both (ACPI tables and the
#      command line: a kernel with ACPI takes the tables), virtio-rng, no
#      disk; /init reboots.
#
# Each line of gmvm's stdout is stamped as it arrives with the seconds since
# gmvm was started; the last test prints the times to each marker as TAP
# comments, with the time gmvm's boot timer logged (/init writes to its
# window through /dev/mem once /proc, /sys and /dev are mounted).
#
# Environment: what make check gives Bats (GMVM, TESTGUEST, ...), and
# GMVM_VMLINUX, GMVM_BZIMAGE, GMVM_INITRAMFS, GMVM_ROOTFS from
# images/build-all.sh (make check-linux sets them). GMVM_LINUX_TIMEOUT: seconds one boot may take
# (default 400; a loaded 2-core host has taken 100).

load ../bats/helpers
load linux_helpers

GUEST_IP=10.77.0.2
HOST_IP=10.77.0.1
TAP=gmvmlx0
CMDLINE=$LINUX_CMDLINE
# gmvm's boot-timer window (--boot-timer): /init writes to it through
# /dev/mem once user space is up, and gmvm logs the time.
CMDLINE+=" gmvm_boot_timer=0xc0000000"

# stamp START_US OUT TIMES: copy stdin's lines to OUT, and to TIMES with the
# seconds since START_US (microseconds, $EPOCHREALTIME without its dot) in
# front. Built-ins only: a line is stamped when it arrives.
stamp() {
	local start=$1 line us
	while IFS= read -r line || [ -n "$line" ]; do
		us=$((${EPOCHREALTIME/./} - start))
		line=${line%$'\r'}
		printf '%s\n' "$line" >>"$2"
		printf '%d.%02d %s\n' $((us / 1000000)) $((us / 10000 % 100)) "$line" >>"$3"
	done
}

# boot_start NAME ARG...: `gmvm run ARG...` in the background, under
# timeout, in the namespace $BOOT_NS if set, stdin from $BOOT_STDIN (default
# /dev/null). Leaves in $BATS_FILE_TMPDIR: NAME.out (stdout), NAME.times
# (stdout stamped), NAME.err (stderr), NAME.pid (timeout's, for
# teardown_file), and at the end NAME.end (seconds to gmvm's exit) and
# NAME.status (its exit status). BOOT_PID: the job's pid.
boot_start() {
	local name=$1 d=$BATS_FILE_TMPDIR
	local -a pre=()
	shift
	[ -z "${BOOT_NS:-}" ] || pre=(ip netns exec "$BOOT_NS")
	: >"$d/$name.out"
	: >"$d/$name.times"
	(
		start=${EPOCHREALTIME/./}
		{
			"${pre[@]}" timeout --kill-after=10 "$BOOT_TIMEOUT" "$GMVM" run "$@" \
				<"${BOOT_STDIN:-/dev/null}" 2>"$d/$name.err" &
			echo $! >"$d/$name.pid"
			status=0
			wait $! || status=$?
			echo $status >"$d/$name.status.tmp"
		} | stamp "$start" "$d/$name.out" "$d/$name.times"
		us=$((${EPOCHREALTIME/./} - start))
		printf '%d.%02d\n' $((us / 1000000)) $((us / 10000 % 100)) >"$d/$name.end"
		mv "$d/$name.status.tmp" "$d/$name.status"
	) 3>&- 8>&- &
	BOOT_PID=$!
}

# wait_for_marker NAME PATTERN: wait until NAME.out has a line matching the
# extended regexp PATTERN (status 0), or gmvm has ended (status 1).
wait_for_marker() {
	local d=$BATS_FILE_TMPDIR
	while :; do
		grep -qE "$2" "$d/$1.out" && return 0
		[ -e "$d/$1.status" ] && return 1
		sleep 0.2
	done
}

# Why this host cannot give boot A a tap in a network namespace (status 0
# and the reason), or status 1 when it can.
net_unavailable() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "needs root to create a network namespace and a tap"
	elif ! command -v ip >/dev/null 2>&1; then
		echo "ip (iproute2) is not installed"
	elif ! command -v busybox >/dev/null 2>&1; then
		echo "busybox (busybox-static, which images/ installs) is not installed: it pings"
	elif [ ! -c /dev/net/tun ]; then
		echo "no /dev/net/tun: this host has no tun/tap driver"
	else
		return 1
	fi
}

boot_a() {
	local d=$BATS_FILE_TMPDIR ns= out ip=
	local -a net=()
	cp "$GMVM_ROOTFS" "$d/a.ext4"
	if out=$(net_unavailable); then
		echo "$out" >"$d/net.skip"
	else
		ns=gmvm-linux-$$-$RANDOM
		if out=$(ip netns add "$ns" 2>&1); then
			echo "$ns" >"$d/ns"
			ip -n "$ns" tuntap add dev "$TAP" mode tap
			ip -n "$ns" addr add "$HOST_IP/24" dev "$TAP"
			ip -n "$ns" link set "$TAP" up
			net=(--net "tap=$TAP")
			ip="ip=$GUEST_IP::$HOST_IP:255.255.255.0::eth0:off"
		else
			echo "ip netns does not work here: $out" >"$d/net.skip"
			ns=
		fi
	fi
	# gmvm's console input: a FIFO held open here (fd 8), so that gmvm
	# never sees its end.
	mkfifo "$d/a.in"
	exec 8<>"$d/a.in"
	echo "a-$$-$RANDOM" >"$d/a.token"
	# The agent's host side: an echo server where guest port 7000 leads.
	socat "UNIX-LISTEN:$d/a.vsock_7000,fork" EXEC:cat &
	echo $! >"$d/socat.pid"
	BOOT_NS=$ns BOOT_STDIN=$d/a.in boot_start a -v --boot-timer \
		--kernel "$GMVM_VMLINUX" --initrd "$GMVM_INITRAMFS" --memory 64M \
		--disk "$d/a.ext4" --rng "${net[@]}" --console virtio \
		--vsock "cid=3,uds=$d/a.vsock" \
		--cmdline "console=hvc0 $CMDLINE $ip gmvm_token=$(cat "$d/a.token") gmvm_vsock=5000 gmvm_vsock_agent=7000 gmvm_wait=120"
	if wait_for_marker a '^gmvm-init: waiting' && [ -n "$ns" ]; then
		# A failed ping is for its test to report, not setup_file.
		local status=0
		ip netns exec "$ns" busybox ping -c 3 -w 30 "$GUEST_IP" >"$d/ping" 2>&1 ||
			status=$?
		echo $status >"$d/ping.status"
	fi
	if wait_for_marker a '^gmvm-vsock: vsock: listening on port 5000$'; then
		# Firecracker's way in, with socat: CONNECT, then the bytes.
		head -c 1048576 /dev/urandom >"$d/vsock.in"
		{ printf 'CONNECT 5000\n'; cat "$d/vsock.in"; } |
			timeout 120 socat -t 60 - "UNIX-CONNECT:$d/a.vsock" >"$d/vsock.out" 2>&1
		echo $? >"$d/vsock.status"
		printf 'CONNECT 5000\nurandom\n' |
			timeout 60 socat -t 30 - "UNIX-CONNECT:$d/a.vsock" >"$d/vsock.rand" 2>&1
	fi
	echo go >&8
	wait "$BOOT_PID" || true
	exec 8>&-
}

boot_b() {
	local d=$BATS_FILE_TMPDIR
	cp "$GMVM_ROOTFS" "$d/b.ext4"
	echo "b-$$-$RANDOM" >"$d/b.token"
	boot_start b -v --discovery acpi --boot-timer \
		--kernel "$GMVM_VMLINUX" --memory 64M --disk "$d/b.ext4" --rng \
		--console serial \
		--cmdline "console=ttyS0 $CMDLINE root=/dev/vda rw init=/sbin/init gmvm_token=$(cat "$d/b.token") gmvm_end=poweroff"
	wait "$BOOT_PID" || true
}

boot_c() {
	boot_start c -v --discovery both --boot-timer \
		--kernel "$GMVM_BZIMAGE" --initrd "$GMVM_INITRAMFS" --memory 64M --rng \
		--console serial --cmdline "console=ttyS0 $CMDLINE gmvm_disk=none"
	wait "$BOOT_PID" || true
}

setup_file() {
	require_kvm
	require_linux_images || return 1
	boot_a
	boot_b
	boot_c
}

# Whatever ended setup_file early, no gmvm outlives the tests (timeout
# passes the signal on), and the namespace goes.
teardown_file() {
	local d=$BATS_FILE_TMPDIR b
	for b in a b c; do
		[ -e "$d/$b.status" ] || [ ! -e "$d/$b.pid" ] ||
			kill "$(cat "$d/$b.pid")" 2>/dev/null || true
	done
	[ ! -e "$d/ns" ] || ip netns del "$(cat "$d/ns")" || true
	[ ! -e "$d/socat.pid" ] || kill "$(cat "$d/socat.pid")" 2>/dev/null || true
}

setup() {
	D=$BATS_FILE_TMPDIR
}

# output_of NAME: `run` over boot NAME's stdout, so that assertions show it.
output_of() {
	run cat "$D/$1.out"
}

# assert_exit NAME STATUS: boot NAME's gmvm exited with STATUS.
assert_exit() {
	[ -e "$D/$1.status" ] || fail "gmvm of boot $1 did not end"
	[ "$(cat "$D/$1.status")" = "$2" ] ||
		fail "gmvm of boot $1 exited with $(cat "$D/$1.status"), not $2; stderr: $(cat "$D/$1.err")
stdout: $(cat "$D/$1.out")"
}

# assert_disk_written NAME: the guest of boot NAME wrote its token on its disk.
assert_disk_written() {
	run debugfs -R 'cat /gmvm-guest-wrote' "$D/$1.ext4"
	assert_success
	assert_line 'gmvm-guest-wrote-this'
	assert_line "token: $(cat "$D/$1.token")"
	assert_line 'marker: gmvm test rootfs v1'
}

@test "Linux A (vmlinux, initramfs, command-line discovery): /init runs and finds blk, net, console and rng on virtio-mmio" {
	output_of a
	assert_line 'gmvm-init: started'
	assert_line --regexp '^gmvm-init: mounted /proc /sys /dev '
	assert_line --regexp '^gmvm-init: cmdline: .* virtio_mmio\.device=4K@0xc0001000:5'
	local id
	for id in 0x0001 0x0002 0x0003 0x0004; do
		assert_line --regexp "^gmvm-init: virtio: virtio[0-9]+ device $id on virtio-mmio\.[0-9]+\$"
	done
	refute_line --partial 'on LNRO0005'
}

@test "Linux A: the kernel's console is hvc0 (console=hvc0): a printk line comes out of the virtio console" {
	output_of a
	assert_line 'gmvm-init: console: hvc0'
	refute_line 'gmvm-init: console: ttyS0'
	# Printed by the kernel (its timestamp in front), not by /init.
	assert_line --regexp '^\[ *[0-9]+\.[0-9]+\] gmvm-init: printk: kernel console$'
	assert_line 'gmvm-init: hvc0: written'
}

@test "Linux A: virtio-rng is the current hw_random source" {
	output_of a
	assert_line --regexp '^gmvm-init: hw_random: virtio_rng\.[0-9]+$'
}

@test "Linux A: the guest mounts the virtio-blk disk and what it wrote is in the image" {
	output_of a
	assert_line --regexp '^gmvm-init: block: vda [0-9]+ sectors$'
	assert_line --regexp '^gmvm-init: disk: /dev/vda mounted on /mnt '
	assert_line --regexp '^gmvm-init: disk: wrote /mnt/gmvm-guest-wrote and synced '
	assert_disk_written a
}

@test "Linux A: the guest configured eth0 in the kernel (ip=) and answers pings from the tap's namespace over virtio-net" {
	[ ! -e "$D/net.skip" ] || skip "$(cat "$D/net.skip")"
	output_of a
	assert_line --regexp '^gmvm-init: net: eth0 ([0-9a-f]{2}:){5}[0-9a-f]{2} up$'
	assert_line "gmvm-init: net: eth0 inet $GUEST_IP/24"
	[ -e "$D/ping.status" ] || fail "no ping: /init never waited for it"
	run cat "$D/ping"
	assert_line --regexp '^3 packets transmitted, 3 packets received, 0% packet loss$'
	[ "$(cat "$D/ping.status")" = 0 ] || fail "ping exited with $(cat "$D/ping.status")"
}

@test "Linux A: socat - UNIX-CONNECT with CONNECT 5000 reaches the guest's AF_VSOCK listener; 1 MiB comes back whole" {
	output_of a
	assert_line --regexp '^gmvm-init: virtio: virtio[0-9]+ device 0x0013 on virtio-mmio\.[0-9]+$'
	[ -e "$D/vsock.status" ] || fail "no vsock check: the guest's listener never said it was up"
	assert_equal "$(cat "$D/vsock.status")" 0
	run head -n 1 "$D/vsock.out"
	assert_output --regexp '^OK [0-9]+$'
	tail -c +$(($(head -n 1 "$D/vsock.out" | wc -c) + 1)) "$D/vsock.out" | cmp - "$D/vsock.in" ||
		fail "the echo differs from the 1 MiB sent ($(stat -c %s "$D/vsock.out") bytes back)"
	run cat "$D/vsock.rand"
	assert_line --index 0 --regexp '^OK [0-9]+$'
	assert_line --index 1 --regexp '^[0-9a-f]{32}$'
}

@test "Linux A: the guest's agent connects to the host's port 7000 through PATH_7000" {
	output_of a
	assert_line 'gmvm-vsock: agent: connection 1 echoed'
}

@test "Linux A: the guest reboots (reboot=k, i8042) and gmvm exits 0" {
	output_of a
	assert_line --regexp '^gmvm-init: wait over '
	assert_line --regexp '^gmvm-init: done; rebooting '
	assert_exit a 0
	run cat "$D/a.err"
	assert_line 'gmvm: guest reset through the i8042 controller'
}

@test "Linux B (vmlinux, --discovery acpi): the kernel finds blk, rng and COM1 through ACPI (LNRO0005), none on the command line" {
	output_of b
	assert_line 'gmvm-init: started'
	assert_line --regexp '^gmvm-init: cmdline: '
	refute_line --regexp '^gmvm-init: cmdline: .*virtio_mmio\.device='
	assert_line --regexp '^gmvm-init: virtio: virtio[0-9]+ device 0x0002 on LNRO0005:[0-9a-f]+$'
	assert_line --regexp '^gmvm-init: virtio: virtio[0-9]+ device 0x0004 on LNRO0005:[0-9a-f]+$'
	refute_line --partial 'on virtio-mmio.'
	assert_line --regexp '^gmvm-init: hw_random: virtio_rng\.[0-9]+$'
	# The serial console: the 8250 driver took COM1 (from the DSDT).
	assert_line 'gmvm-init: console: ttyS0'
}

@test "Linux B: the root file system is the virtio-blk disk, and the guest's write is in the image" {
	output_of b
	assert_line --regexp '^gmvm-init: disk: /dev/vda mounted on / '
	assert_line 'gmvm-init: disk: marker: gmvm test rootfs v1'
	assert_line --regexp '^gmvm-init: disk: wrote //gmvm-guest-wrote and synced '
	assert_disk_written b
}

@test "Linux B: the guest powers off through ACPI (S5) and gmvm exits 0" {
	output_of b
	assert_line --regexp '^gmvm-init: done; powering off '
	assert_exit b 0
	run cat "$D/b.err"
	assert_line 'gmvm: the guest powered off (ACPI S5)'
}

@test "Linux C (bzImage, --discovery both): gmvm loads the bzImage, /init runs, rng comes from ACPI, and the reboot ends gmvm with 0" {
	run cat "$D/c.err"
	assert_line --regexp "^gmvm: kernel $GMVM_BZIMAGE: bzImage"
	output_of c
	assert_line 'gmvm-init: started'
	assert_line --regexp '^gmvm-init: cmdline: .* virtio_mmio\.device=4K@0xc0001000:5'
	assert_line --regexp '^gmvm-init: virtio: virtio[0-9]+ device 0x0004 on LNRO0005:[0-9a-f]+$'
	assert_line --regexp '^gmvm-init: hw_random: virtio_rng\.[0-9]+$'
	assert_line 'gmvm-init: disk: no none'
	assert_line --regexp '^gmvm-init: done; rebooting '
	assert_exit c 0
}

@test "Linux A, B, C: /init reaches gmvm's boot timer (--boot-timer) through /dev/mem, and gmvm logs the time" {
	local b
	for b in a b c; do
		output_of $b
		assert_line --regexp '^gmvm-init: boot-timer written '
		run cat "$D/$b.err"
		assert_line --regexp '^gmvm: boot-timer: guest booted [0-9]+\.[0-9]{3} ms after gmvm started$'
	done
}

# boot_timer_of NAME: the seconds boot NAME's boot timer logged, or "-".
boot_timer_of() {
	local ms
	ms=$(sed -n 's/^gmvm: boot-timer: guest booted \([0-9]*\)\..* ms after gmvm started$/\1/p' \
		"$D/$1.err" | head -n1)
	[ -n "$ms" ] && printf '%d.%02d\n' $((ms / 1000)) $((ms / 10 % 100)) || echo -
}

# times NAME PATTERN: the seconds to boot NAME's first line matching PATTERN
# (an extended regexp), or "-".
times_of() {
	local t
	t=$(grep -m1 -E "^[0-9.]+ $2" "$D/$1.times" | cut -d' ' -f1)
	echo "${t:--}"
}

@test "Linux boot times to each marker (seconds since gmvm started, as the host saw each line)" {
	local row name pattern b
	for b in a b c; do
		[ -e "$D/$b.end" ] || fail "boot ${b^^} did not end"
	done
	{
		echo "# Linux boot times: seconds from gmvm's start to each line on its stdout"
		printf '# %-32s %7s %7s %7s\n' marker A B C
		for row in \
			"/init started|gmvm-init: started" \
			"/proc /sys /dev mounted|gmvm-init: mounted" \
			"boot-timer written|gmvm-init: boot-timer" \
			"devices listed (hw_random)|gmvm-init: hw_random" \
			"disk mounted|gmvm-init: disk: .* mounted" \
			"disk written and synced|gmvm-init: disk: wrote" \
			"A: waiting for the ping|gmvm-init: waiting" \
			"A: pinged, line typed|gmvm-init: wait over" \
			"done (reboot / poweroff)|gmvm-init: done"; do
			name=${row%%|*}
			pattern=${row#*|}
			printf '# %-32s %7s %7s %7s\n' "$name" "$(times_of a "$pattern")" \
				"$(times_of b "$pattern")" "$(times_of c "$pattern")"
		done
		printf '# %-32s %7s %7s %7s\n' "boot timer (gmvm's log)" "$(boot_timer_of a)" \
			"$(boot_timer_of b)" "$(boot_timer_of c)"
		printf '# %-32s %7s %7s %7s\n' "gmvm exited" "$(cat "$D/a.end")" \
			"$(cat "$D/b.end")" "$(cat "$D/c.end")"
		echo "# A: vmlinux, initramfs, disk on /mnt, rng, net, virtio console; cmdline discovery"
		echo "# B: vmlinux, disk as root, rng, serial console; ACPI discovery"
		echo "# C: bzImage, initramfs, rng, serial console; ACPI and cmdline discovery"
	} >&3
}
