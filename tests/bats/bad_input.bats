#!/usr/bin/env bats
# Bad input files and sizes: exit status 2 and a message naming the file or
# option and what is wrong with it.

load helpers

# make_elf_variant NAME OFFSET BYTES: a copy of the test guest with BYTES
# (a printf format) written at OFFSET; prints its path.
make_elf_variant() {
	local file="$BATS_TEST_TMPDIR/$1"
	cp "$TESTGUEST" "$file"
	# shellcheck disable=SC2059
	printf "$3" | dd of="$file" bs=1 seek="$2" conv=notrunc status=none
	printf '%s\n' "$file"
}

@test "a missing kernel file: status 2, names the file" {
	local kernel="$BATS_TEST_TMPDIR/no-such-vmlinux"
	run --separate-stderr gmvm run --kernel "$kernel"
	assert_bad_usage "$kernel" 'No such file'
}

@test "a directory as the kernel: status 2, says it is a directory" {
	run --separate-stderr gmvm run --kernel "$BATS_TEST_TMPDIR"
	assert_bad_usage "kernel $BATS_TEST_TMPDIR" 'directory'
}

# A FIFO, a device, a socket: refused at once, never waited on (gmvm()'s
# time limit would turn a hang into status 124).
@test "a FIFO, a character device or a socket as the kernel: status 2, says why" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	run --separate-stderr gmvm run --kernel "$BATS_TEST_TMPDIR/fifo"
	assert_bad_usage "kernel $BATS_TEST_TMPDIR/fifo" 'is a FIFO, not a regular file'
	run --separate-stderr gmvm run --kernel /dev/null
	assert_bad_usage 'kernel /dev/null' 'is a character device, not a regular file'
	require_command socat
	timeout 20 socat UNIX-LISTEN:"$BATS_TEST_TMPDIR/sock" /dev/null 3>&- &
	local listener=$! i
	for ((i = 0; i < 50; i++)); do [ -S "$BATS_TEST_TMPDIR/sock" ] && break; sleep 0.1; done
	run --separate-stderr gmvm run --kernel "$BATS_TEST_TMPDIR/sock"
	kill "$listener" 2>/dev/null || true
	assert_bad_usage "kernel $BATS_TEST_TMPDIR/sock" 'is a socket, not a regular file'
}

@test "a FIFO as the initrd or the --stats file: status 2, nothing written, no hang" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	run --separate-stderr gmvm_run --initrd "$BATS_TEST_TMPDIR/fifo"
	assert_bad_usage "initrd $BATS_TEST_TMPDIR/fifo" 'is a FIFO, not a regular file'
	run --separate-stderr gmvm_run --cmdline hello --stats "$BATS_TEST_TMPDIR/fifo"
	assert_bad_usage "--stats $BATS_TEST_TMPDIR/fifo" 'is a FIFO, not a regular file'
	run --separate-stderr gmvm_run --cmdline hello --stats "$BATS_TEST_TMPDIR"
	assert_bad_usage "--stats $BATS_TEST_TMPDIR" 'directory'
}

@test "an empty kernel file: status 2, says it is empty" {
	: >"$BATS_TEST_TMPDIR/empty"
	run --separate-stderr gmvm run --kernel "$BATS_TEST_TMPDIR/empty"
	assert_bad_usage "$BATS_TEST_TMPDIR/empty" 'empty'
}

@test "a kernel of garbage bytes: status 2, not a kernel" {
	require_kvm
	head -c 8192 /dev/urandom >"$BATS_TEST_TMPDIR/garbage"
	# Make sure the random bytes do not start like an ELF file.
	printf 'JUNK' | dd of="$BATS_TEST_TMPDIR/garbage" conv=notrunc status=none
	run --separate-stderr gmvm run --kernel "$BATS_TEST_TMPDIR/garbage"
	assert_bad_usage "$BATS_TEST_TMPDIR/garbage" 'neither an ELF file nor a bzImage'
}

@test "an ELF truncated inside its program headers: status 2, says so" {
	require_kvm
	head -c 100 "$TESTGUEST" >"$BATS_TEST_TMPDIR/trunc.elf"
	run --separate-stderr gmvm run --kernel "$BATS_TEST_TMPDIR/trunc.elf"
	assert_bad_usage "$BATS_TEST_TMPDIR/trunc.elf" 'program headers' 'past the end'
}

@test "an ELF truncated inside a segment: status 2, says truncated" {
	require_kvm
	head -c 5000 "$TESTGUEST" >"$BATS_TEST_TMPDIR/trunc.elf"
	run --separate-stderr gmvm run --kernel "$BATS_TEST_TMPDIR/trunc.elf"
	assert_bad_usage "$BATS_TEST_TMPDIR/trunc.elf" 'truncated'
}

@test "a 32-bit ELF: status 2, not a 64-bit ELF" {
	require_kvm
	local kernel
	kernel=$(make_elf_variant elf32 4 '\001')	# EI_CLASS = ELFCLASS32
	run --separate-stderr gmvm run --kernel "$kernel"
	assert_bad_usage "$kernel" 'not a 64-bit ELF'
}

@test "an aarch64 ELF: status 2, not x86-64" {
	require_kvm
	local kernel
	kernel=$(make_elf_variant aarch64 18 '\267\000')	# e_machine = EM_AARCH64
	run --separate-stderr gmvm run --kernel "$kernel"
	assert_bad_usage "$kernel" 'machine' 'not x86-64'
}

@test "a big-endian ELF: status 2, not little-endian" {
	require_kvm
	local kernel
	kernel=$(make_elf_variant msb 5 '\002')	# EI_DATA = ELFDATA2MSB
	run --separate-stderr gmvm run --kernel "$kernel"
	assert_bad_usage "$kernel" 'little-endian'
}

@test "a shared object (ET_DYN, /bin/true): status 2, not an executable" {
	require_kvm
	local true_bin
	true_bin=$(type -P true) || skip "no true program"
	[ "$(head -c 4 "$true_bin" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] ||
		skip "$true_bin is not an ELF file"
	[ "$(od -An -tu1 -j 16 -N 1 "$true_bin" | tr -d ' ')" = 3 ] ||
		skip "$true_bin is not ET_DYN"
	run --separate-stderr gmvm run --kernel "$true_bin"
	assert_bad_usage "$true_bin" 'not an executable'
}

@test "a bzImage truncated inside its header: status 2, says truncated" {
	require_kvm
	require_file "$TESTGUEST_BZIMAGE"
	head -c 600 "$TESTGUEST_BZIMAGE" >"$BATS_TEST_TMPDIR/trunc.bzImage"
	run --separate-stderr gmvm run --kernel "$BATS_TEST_TMPDIR/trunc.bzImage"
	assert_bad_usage "$BATS_TEST_TMPDIR/trunc.bzImage" 'truncated'
}

@test "a bzImage truncated inside its setup code: status 2, says truncated" {
	require_kvm
	require_file "$TESTGUEST_BZIMAGE"
	head -c 2000 "$TESTGUEST_BZIMAGE" >"$BATS_TEST_TMPDIR/trunc.bzImage"
	run --separate-stderr gmvm run --kernel "$BATS_TEST_TMPDIR/trunc.bzImage"
	assert_bad_usage "$BATS_TEST_TMPDIR/trunc.bzImage" 'truncated'
}

@test "a bzImage with boot protocol 2.10: status 2, needs 2.12" {
	require_kvm
	require_file "$TESTGUEST_BZIMAGE"
	local kernel="$BATS_TEST_TMPDIR/old.bzImage"
	cp "$TESTGUEST_BZIMAGE" "$kernel"
	printf '\012\002' | dd of="$kernel" bs=1 seek=$((0x206)) conv=notrunc status=none
	run --separate-stderr gmvm run --kernel "$kernel"
	assert_bad_usage "$kernel" '2.10' '2.12'
}

@test "--memory 1000T: status 2, more than this host's RAM" {
	require_kvm
	run --separate-stderr gmvm_run --memory 1000T
	assert_bad_usage '--memory' "more than this host's"
}

@test "--memory just over the host's RAM: status 2, more than this host's RAM" {
	require_kvm
	local mib
	mib=$(awk '/^MemTotal:/ { print int($2 / 1024) + 1024 }' /proc/meminfo)
	run --separate-stderr gmvm_run --memory "${mib}M"
	assert_bad_usage '--memory' "more than this host's"
}

@test "a missing initrd file: status 2, names the file" {
	local initrd="$BATS_TEST_TMPDIR/no-such-initrd"
	run --separate-stderr gmvm_run --initrd "$initrd"
	assert_bad_usage "initrd $initrd" 'No such file'
}

@test "an empty initrd: status 2, says it is empty" {
	: >"$BATS_TEST_TMPDIR/empty.img"
	run --separate-stderr gmvm_run --initrd "$BATS_TEST_TMPDIR/empty.img"
	assert_bad_usage "initrd $BATS_TEST_TMPDIR/empty.img" 'empty'
}

@test "a directory as the initrd: status 2, says it is a directory" {
	run --separate-stderr gmvm_run --initrd "$BATS_TEST_TMPDIR"
	assert_bad_usage "initrd $BATS_TEST_TMPDIR" 'directory'
}

@test "a 200 MiB initrd with --memory 128M: status 2, does not fit in RAM" {
	require_kvm
	truncate -s 200M "$BATS_TEST_TMPDIR/big.img"
	run --separate-stderr gmvm_run --memory 128M --initrd "$BATS_TEST_TMPDIR/big.img"
	assert_bad_usage "$BATS_TEST_TMPDIR/big.img" 'does not fit'
}

@test "bzImage: a 4096-byte command line is over the 4095 limit: status 2" {
	require_kvm
	require_file "$TESTGUEST_BZIMAGE"
	local cmdline
	cmdline=$(printf '%4096s' '' | tr ' ' x)
	run --separate-stderr gmvm_run_kernel "$TESTGUEST_BZIMAGE" --cmdline "$cmdline"
	assert_bad_usage "$TESTGUEST_BZIMAGE" 'command line of 4096 bytes' '4095'
}

@test "bzImage: a 4095-byte command line is accepted" {
	require_kvm
	require_file "$TESTGUEST_BZIMAGE"
	local cmdline
	# 4095 bytes of kernel-style parameters, which the guest skips.
	cmdline=$(printf 'a.b=%4091s' '' | tr ' ' x)
	assert_equal "${#cmdline}" 4095
	run gmvm_run_kernel "$TESTGUEST_BZIMAGE" --cmdline "$cmdline"
	assert_success
	assert_line --partial '64-bit Linux boot'
}

@test "a device as the kernel or a disk is refused without being opened (some devices act on open)" {
	require_command strace
	mknod "$BATS_TEST_TMPDIR/dev" c 1 3
	run strace_gmvm "$BATS_TEST_TMPDIR/trace" open,openat run --kernel "$BATS_TEST_TMPDIR/dev"
	assert_failure 2
	assert_output --partial 'is a character device, not a regular file'
	run strace_gmvm "$BATS_TEST_TMPDIR/trace2" open,openat run --kernel "$TESTGUEST" \
		--disk "$BATS_TEST_TMPDIR/dev,ro"
	assert_failure 2
	assert_output --partial 'is a character device, not a regular file or a block device'
	run grep -c "\"$BATS_TEST_TMPDIR/dev\"" "$BATS_TEST_TMPDIR/trace" "$BATS_TEST_TMPDIR/trace2"
	assert_output "$BATS_TEST_TMPDIR/trace:0
$BATS_TEST_TMPDIR/trace2:0"
}
