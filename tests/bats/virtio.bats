#!/usr/bin/env bats
# virtio-mmio devices driven by the test guest's polling driver.

load helpers

setup() {
	require_kvm
}

@test "virtio-rng: two reads of 64 bytes, non-zero and different" {
	run gmvm_run --rng --cmdline rng
	assert_success
	assert_line 'rng: read 64 and 64 bytes, not all zero, different'
	assert_line 'testguest: ok'
}

@test "without --rng there is no virtio-rng device" {
	run gmvm_run --cmdline rng
	assert_failure 1
	assert_line 'rng: no virtio-rng device'
}

@test "the command line names each virtio device for the guest (--discovery cmdline)" {
	run gmvm_run --rng --cmdline hello
	assert_success
	assert_line --partial 'command line "hello virtio_mmio.device=4K@0xc0001000:5"'
}

@test "--discovery acpi leaves the command line alone" {
	run gmvm_run --rng --discovery acpi --cmdline hello
	assert_success
	assert_line --partial 'command line "hello"'
}

@test "--discovery takes cmdline, acpi or both" {
	run --separate-stderr gmvm_run --discovery dns
	assert_bad_usage "--discovery: unknown mode 'dns'"
}

@test "a virtio-rng guest snapshots and restores, and its driver carries on" {
	run gmvm_run --rng --snapshot-on-request "$BATS_TEST_TMPDIR/s" --then stop \
		--cmdline "rng snapshot rng"
	assert_success
	# Eagerly, and lazily where the host can (auto: eager where not).
	for how in "--restore eager" "--memory-backend anon"; do
		# shellcheck disable=SC2086
		run gmvm restore --snapshot "$BATS_TEST_TMPDIR/s" $how
		assert_success
		assert_line 'snapshot: resumed'
		assert_line 'rng: read 64 and 64 bytes, not all zero, different'
		assert_line 'testguest: ok'
	done
}

# new_disk NAME SIZE: a sparse image in the test's directory.
new_disk() {
	truncate -s "$2" "$BATS_TEST_TMPDIR/$1"
	echo "$BATS_TEST_TMPDIR/$1"
}

@test "virtio-blk: the guest writes, flushes and reads back; the data is in the file" {
	local disk
	disk=$(new_disk disk.img 16M)
	run gmvm_run --disk "$disk" --cmdline blk
	assert_success
	assert_line 'blk: 32768 sectors'
	assert_line 'blk: wrote 128 sectors, flushed, id "gmvm-disk0"'
	assert_line 'blk: 128 sectors read back right'
	assert_equal "$(dd if="$disk" bs=512 skip=8 count=1 status=none | head -1)" 'gmvm sector 8'
	assert_equal "$(dd if="$disk" bs=512 skip=135 count=1 status=none | head -1)" 'gmvm sector 135'
	# Nothing beyond what the guest wrote.
	assert_equal "$(dd if="$disk" bs=512 skip=136 count=1 status=none | tr -d '\0' | wc -c)" 0
}

@test "virtio-blk: blkbench keeps requests in flight, checks every sector read, reads the disk back" {
	local disk
	disk=$(new_disk disk.img 64M)
	run gmvm_run --disk "$disk" --cmdline "blkbench=rand4k-read,16,1 blkbench=seq1m-write,4,1"
	assert_success
	assert_line --regexp '^blkbench: rand4k-read depth 16: [1-9][0-9]* requests, [0-9]+ bytes in [0-9]+ us: [1-9][0-9]* ops/s, [0-9]+\.[0-9] MB/s$'
	assert_line --regexp '^blkbench: [1-9][0-9]* sectors read, every one with its tag$'
	assert_line --regexp '^blkbench: seq1m-write depth 4: [1-9][0-9]* requests, '
	assert_equal "$(grep -c '^blkbench: read back [1-9][0-9]* written blocks of 16384: every sector right$' <<<"$output")" 2
	assert_line 'testguest: ok'
}

@test "blkbench and netbench refuse bad arguments with status 4" {
	local disk
	disk=$(new_disk disk.img 64M)
	for arg in rand8k-read,16,1 rand4k-read,0,1 rand4k-read,22,1 rand4k-read,16,0 seq1m-read,16; do
		run gmvm_run --disk "$disk" --cmdline "blkbench=$arg"
		assert_failure 4
	done
	for arg in 10.0.2.15,10.0.2.2 10.0.2.15,10.0.2.2,x; do
		run gmvm_run --cmdline "netbench=$arg"
		assert_failure 4
	done
	# A disk smaller than DEPTH MiB cannot hold DEPTH 1 MiB requests apart.
	disk=$(new_disk small.img 8M)
	run gmvm_run --disk "$disk" --cmdline "blkbench=seq1m-write,16,1"
	assert_failure 1
	assert_line 'blkbench: a disk of 16384 sectors is too small: needs 16 MiB'
}

@test "virtio-blk: a read-only disk refuses writes, and the file is untouched" {
	local disk
	disk=$(new_disk ro.img 1M)
	run gmvm_run --disk "$disk,ro" --cmdline blk
	assert_failure 1
	assert_line 'blk: write failed, status 1'
	assert_equal "$(tr -d '\0' <"$disk" | wc -c)" 0
}

@test "virtio-blk: a disk in use by another gmvm is refused with status 2" {
	local disk
	disk=$(new_disk busy.img 1M)
	gmvm_background "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" run \
		--kernel "$TESTGUEST" --disk "$disk" --cmdline spin
	wait_for_line "$BATS_TEST_TMPDIR/out" '^spin: running'
	run --separate-stderr gmvm_run --disk "$disk" --cmdline hello
	kill "$GMVM_PID"
	wait "$GMVM_PID" || true
	assert_failure 2
	[[ "$stderr" == *"disk $disk: in use by another process"* ]] || fail "stderr: $stderr"
}

@test "virtio-blk: bad disk options and files are refused with status 2" {
	run --separate-stderr gmvm_run --disk "$BATS_TEST_TMPDIR/none.img"
	assert_bad_usage "disk $BATS_TEST_TMPDIR/none.img: No such file"
	run --separate-stderr gmvm_run --disk "$BATS_TEST_TMPDIR,rw"
	assert_bad_usage "disk $BATS_TEST_TMPDIR: is a directory, not a regular file or a block device"
	run --separate-stderr gmvm_run --disk /dev/null
	assert_bad_usage 'disk /dev/null: is a character device, not a regular file or a block device'
	# Read-only, a FIFO without a writer would block the open: no hang.
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	for opt in ro rw; do
		run --separate-stderr timeout 20 "$GMVM" run --kernel "$TESTGUEST" \
			--disk "$BATS_TEST_TMPDIR/fifo,$opt" --cmdline hello
		assert_bad_usage "disk $BATS_TEST_TMPDIR/fifo: is a FIFO, not a regular file or a block device"
	done
	run --separate-stderr gmvm_run --disk "x.img,fast"
	assert_bad_usage "--disk x.img,fast: 'fast' is not an option of a disk"
	: >"$BATS_TEST_TMPDIR/empty.img"
	run --separate-stderr gmvm_run --disk "$BATS_TEST_TMPDIR/empty.img"
	assert_bad_usage 'smaller than one 512-byte sector'
}

# blk_snapshot NAME: a 4 MiB disk NAME, written by the guest before it asks
# for a snapshot in $BATS_TEST_TMPDIR/s (gmvm stops); after the snapshot
# it checks what it wrote and writes again. Prints the disk's path.
blk_snapshot() {
	local disk
	disk=$(new_disk "$1" 4M)
	gmvm_run --disk "$disk" --snapshot-on-request "$BATS_TEST_TMPDIR/s" \
		--then stop --cmdline "blk=64 snapshot blkcheck=64 blk=32" >/dev/null ||
		fail "could not snapshot a guest with disk $disk"
	echo "$disk"
}

@test "virtio-blk: data written before a snapshot reads back after restore, lazily and eagerly" {
	local disk
	disk=$(blk_snapshot snap.img)
	# Eagerly on the disk named again, and lazily where the host can
	# (auto: eager where not) on the disk the snapshot recorded.
	for how in "--restore eager --disk $disk" "--memory-backend anon --recorded-resources"; do
		# shellcheck disable=SC2086
		run gmvm restore --snapshot "$BATS_TEST_TMPDIR/s" $how
		assert_success
		assert_line 'blk: 64 sectors read back right'
		assert_line 'blk: 32 sectors read back right'
		assert_line 'testguest: ok'
	done
}

@test "virtio-blk: two clones of one snapshot at once, each on its own copy of the disk" {
	local disk
	disk=$(blk_snapshot clone.img)
	cp --sparse=always "$disk" "$BATS_TEST_TMPDIR/a.img"
	cp --sparse=always "$disk" "$BATS_TEST_TMPDIR/b.img"
	local before a_before b_before
	before=$(stat -c %y "$disk")
	a_before=$(stat -c %y "$BATS_TEST_TMPDIR/a.img")
	b_before=$(stat -c %y "$BATS_TEST_TMPDIR/b.img")
	# The same recorded disk twice would be refused: it is locked.
	gmvm restore --snapshot "$BATS_TEST_TMPDIR/s" --disk "$BATS_TEST_TMPDIR/a.img" \
		>"$BATS_TEST_TMPDIR/a.out" 2>&1 &
	local a=$!
	run gmvm restore --snapshot "$BATS_TEST_TMPDIR/s" --disk "$BATS_TEST_TMPDIR/b.img"
	wait "$a" || fail "the first clone failed: $(cat "$BATS_TEST_TMPDIR/a.out")"
	assert_success
	assert_line 'blk: 32 sectors read back right'
	grep -qx 'blk: 32 sectors read back right' "$BATS_TEST_TMPDIR/a.out"
	# Each wrote its own copy (blk=32 writes what it wrote before: the
	# times tell); the snapshot's disk is as it was left.
	cmp -s "$BATS_TEST_TMPDIR/a.img" "$BATS_TEST_TMPDIR/b.img" ||
		fail "the clones' disks differ"
	[ "$(stat -c %y "$BATS_TEST_TMPDIR/a.img")" != "$a_before" ] || fail "clone a did not write its disk"
	[ "$(stat -c %y "$BATS_TEST_TMPDIR/b.img")" != "$b_before" ] || fail "clone b did not write its disk"
	assert_equal "$(stat -c %y "$disk")" "$before"
}

@test "virtio-blk: a restore's disks must match the snapshot's in number, size and ro" {
	local disk
	disk=$(blk_snapshot m.img)
	run --separate-stderr gmvm restore --snapshot "$BATS_TEST_TMPDIR/s"
	assert_bad_usage 'the snapshot has 1 virtio-blk disk(s)' "the first was $disk" \
		'0 --disk given' '--recorded-resources'
	run --separate-stderr gmvm restore --snapshot "$BATS_TEST_TMPDIR/s" --disk "$disk" --disk "$disk"
	assert_bad_usage 'the snapshot has 1 virtio-blk disk(s)' '2 --disk given'
	run --separate-stderr gmvm restore --snapshot "$BATS_TEST_TMPDIR/s" --disk "$disk,ro"
	assert_bad_usage "--disk $disk: read-only, but the snapshot's disk 1 was read-write"
	truncate -s 8M "$BATS_TEST_TMPDIR/big.img"
	run --separate-stderr gmvm restore --snapshot "$BATS_TEST_TMPDIR/s" --disk "$BATS_TEST_TMPDIR/big.img"
	assert_bad_usage "disk $BATS_TEST_TMPDIR/big.img has 8388608 bytes, the snapshot's had 4194304"
	run --separate-stderr gmvm restore --snapshot "$BATS_TEST_TMPDIR/s" --recorded-resources --disk "$disk"
	assert_bad_usage '--recorded-resources' '--disk does not go with it'
}

@test "ACPI tables describe every CPU and, with --discovery acpi, every virtio window" {
	local disk
	disk=$(new_disk acpi.img 1M)
	run gmvm_run --cpus 3 --rng --disk "$disk" --discovery acpi --cmdline "acpi=3,2 rng blk=8"
	assert_success
	assert_line 'acpi: RSDP at 0xe0000, 3 CPUs in the MADT, 2 virtio-mmio devices and 1 UART in the DSDT'
	assert_line 'testguest: ok'
}

@test "with --discovery cmdline there are no ACPI tables (a Linux guest then maps the ISA interrupts those devices use)" {
	run gmvm_run --rng --cmdline "noacpi rng"
	assert_success
	assert_line 'noacpi: no RSDP'
	run gmvm run --kernel "$TESTGUEST_BZIMAGE" --rng --cmdline "noacpi rng"
	assert_success
	assert_line 'noacpi: no RSDP'
	run gmvm_run --rng --discovery both --cmdline "hello acpi=1,1"
	assert_success
	assert_line --partial 'virtio_mmio.device=4K@0xc0001000:5'
}

@test "the zero page carries the RSDP too (64-bit boot protocol)" {
	run gmvm run --kernel "$TESTGUEST_BZIMAGE" --cpus 2 --discovery acpi --cmdline "acpi=2,0"
	assert_success
	assert_line --partial 'acpi: RSDP at 0xe0000, 2 CPUs in the MADT'
}

# assert_acpi_poweroff: the last run powered off through the sleep control
# register (exit 0, never back in the guest), and gmvm said so.
assert_acpi_poweroff() {
	assert_success
	assert_line 'acpipoweroff: S5 through port 0x600'
	refute_line 'acpipoweroff: still running after the S5 request'
	refute_line 'testguest: ok'
	[[ "$stderr" == *"gmvm: the guest powered off (ACPI S5)"* ]] ||
		fail "stderr does not report the power-off: $stderr"
}

@test "ACPI poweroff: SLP_TYP 5 with SLP_EN to the FADT's sleep control register ends the VM with status 0" {
	run --separate-stderr gmvm_run -v --cpus 2 --discovery acpi --cmdline "acpi=2,0 acpipoweroff"
	assert_acpi_poweroff
	[[ "$stderr" != *"warning"* ]] || fail "unexpected warning: $stderr"
	run --separate-stderr gmvm_run -v --discovery both --cmdline acpipoweroff
	assert_acpi_poweroff
}

@test "ACPI poweroff: another sleep state is ignored with one warning, and the guest goes on" {
	local warning="gmvm: warning: acpi-sleep: the guest asked for sleep state S3, which is not supported; ignored"
	run --separate-stderr gmvm_run -v --discovery acpi --cmdline "acpipoweroff=3"
	assert_line 'acpipoweroff: S3 ignored, still running'
	assert_acpi_poweroff
	[ "$(grep -c -F -x "$warning" <<<"$stderr")" -eq 1 ] ||
		fail "expected the S3 warning once: $stderr"
	run --separate-stderr gmvm_run --discovery acpi --cmdline "acpipoweroff=0"
	assert_line 'acpipoweroff: S0 ignored, still running'
	assert_success
	assert_line 'acpipoweroff: S5 through port 0x600'
}

@test "ACPI poweroff: with --discovery cmdline there are no tables to find the register in" {
	run --separate-stderr gmvm_run --cmdline acpipoweroff
	assert_failure 1
	assert_line 'acpi: no good RSDP at 0x0'
	[[ "$stderr" != *"powered off"* ]] || fail "$stderr"
}

@test "ACPI poweroff: a restored guest powers off through the register too" {
	run gmvm_run --discovery acpi --snapshot-on-request "$BATS_TEST_TMPDIR/s" \
		--then stop --cmdline "snapshot acpipoweroff"
	assert_success
	refute_line --partial 'acpipoweroff:'
	run --separate-stderr gmvm restore -v --snapshot "$BATS_TEST_TMPDIR/s"
	assert_line 'snapshot: resumed'
	assert_acpi_poweroff
}
