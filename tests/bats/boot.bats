#!/usr/bin/env bats
# Booting the test guest: boot protocols, memory backends, vCPUs, RAM sizes
# and layout, initrd.

load helpers

setup() {
	require_kvm
}

# boots_with_backend NAME: the test guest boots on RAM from backend NAME,
# says hello and checks a pattern over 64 MiB.
boots_with_backend() {
	run gmvm_run --memory-backend "$1" --cmdline "hello touch=64M"
	assert_success
	assert_line --partial 'Hello from the gmvm test guest: PVH boot, 127 MiB RAM'
	assert_line --regexp '^touch: 64 MiB, 0 bad words, checksum 0x[0-9a-f]+$'
	assert_line 'testguest: ok'
}

@test "the test guest boots with the default backend and says hello" {
	run gmvm_run
	assert_success
	assert_line 'Hello from the gmvm test guest: PVH boot, 127 MiB RAM in 2 ranges, command line ""'
	assert_line 'testguest: ok'
}

@test "the guest sees the command line given with --cmdline" {
	run gmvm_run --cmdline "hello  foo.bar=1 hello"
	assert_success
	assert_line --partial 'command line "hello  foo.bar=1 hello"'
	assert_equal "$(grep -c '^Hello from' <<<"$output")" 2
}

@test "a successful run prints nothing on stderr" {
	run --separate-stderr gmvm_run --cmdline hello
	assert_success
	assert_line 'testguest: ok'
	assert_equal "$stderr" ''
}

@test "-v names the kernel's format and entry point on stderr" {
	run --separate-stderr gmvm_run -v --cmdline hello
	assert_success
	[[ "$stderr" == *"gmvm: kernel $TESTGUEST: ELF with PVH note, entry 0x"* ]] ||
		fail "no kernel line on stderr: $stderr"
}

@test "-v -v says which backend holds guest RAM" {
	run --separate-stderr gmvm_run -v -v --memory-backend anon --cmdline hello
	assert_success
	[[ "$stderr" == *"guest RAM: 128 MiB on anon"* ]] ||
		fail "no guest RAM line naming anon on stderr: $stderr"
}

@test "the test guest boots on gmem (guest_memfd) RAM" {
	require_offer gmem boot
	boots_with_backend gmem
}

@test "-v says which backend the default picked, and why" {
	run --separate-stderr gmvm_run -v --cmdline hello
	assert_success
	local want
	want=$(default_backend)
	if [ "$want" = gmem ]; then
		[[ "$stderr" == *"gmvm: guest RAM on gmem (default: this host offers guest_memfd)"* ]] ||
			fail "no line saying gmem was picked: $stderr"
	else
		[[ "$stderr" == *"gmvm: guest RAM on memfd (default: this host does not offer guest_memfd: "* ]] ||
			fail "no line saying memfd was picked and why: $stderr"
	fi
}

@test "--stats names the backend and why it was picked" {
	local stats=$BATS_TEST_TMPDIR/stats.json
	run gmvm_run --cmdline hello --stats "$stats"
	assert_success
	assert_equal "$(jq -r .memory_backend "$stats")" "$(default_backend)"
	[[ "$(jq -r .memory_backend_reason "$stats")" == default:* ]] ||
		fail "no default: reason in $(cat "$stats")"
	run gmvm_run --cmdline hello --memory-backend anon --stats "$stats"
	assert_success
	assert_equal "$(jq -r .memory_backend "$stats")" anon
	assert_equal "$(jq -r .memory_backend_reason "$stats")" --memory-backend
}

@test "the test guest boots on memfd RAM" {
	boots_with_backend memfd
}

@test "the test guest boots on anonymous RAM" {
	boots_with_backend anon
}

@test "an ELF without a PVH note boots through the 64-bit protocol" {
	require_file "$TESTGUEST_NOPVH"
	run gmvm_run_kernel "$TESTGUEST_NOPVH" --cmdline hello
	assert_success
	assert_line 'Hello from the gmvm test guest: 64-bit Linux boot, 127 MiB RAM in 2 ranges, command line "hello"'
	assert_line 'testguest: ok'
}

@test "a bzImage boots through the 64-bit protocol" {
	require_file "$TESTGUEST_BZIMAGE"
	run gmvm_run_kernel "$TESTGUEST_BZIMAGE" --cmdline hello
	assert_success
	assert_line 'Hello from the gmvm test guest: 64-bit Linux boot, 127 MiB RAM in 2 ranges, command line "hello"'
	assert_line 'testguest: ok'
}

@test "--cpus 1: the one CPU of the MP table reports" {
	run gmvm_run --cpus 1 --cmdline smp=1
	assert_success
	assert_line 'smp: 1 CPUs reported'
	assert_line 'testguest: ok'
}

@test "--cpus 2: both CPUs of the MP table report" {
	run gmvm_run --cpus 2 --cmdline smp=2
	assert_success
	assert_line 'smp: 2 CPUs reported'
	assert_equal "$(grep -c '^smp: cpu [0-9]*: apic id' <<<"$output")" 2
	assert_line 'testguest: ok'
}

@test "--cpus 4: all four CPUs of the MP table report" {
	run gmvm_run --cpus 4 --cmdline smp=4
	assert_success
	assert_line 'smp: 4 CPUs reported'
	assert_equal "$(grep -c '^smp: cpu [0-9]*: apic id' <<<"$output")" 4
	assert_line 'testguest: ok'
}

@test "--cpus 32: all 32 CPUs of the MP table report" {
	run gmvm_run --cpus 32 --cmdline smp=32
	assert_success
	assert_line 'smp: 32 CPUs reported'
	assert_equal "$(grep -c '^smp: cpu [0-9]*: apic id' <<<"$output")" 32
	assert_line 'testguest: ok'
}

@test "--cpus 64 (the maximum): the guest boots" {
	run gmvm_run --cpus 64 --cmdline hello
	assert_success
	assert_line --partial 'Hello from the gmvm test guest: PVH boot'
	assert_line 'testguest: ok'
}

@test "--cpus 4 on a bzImage boot: all four CPUs report" {
	require_file "$TESTGUEST_BZIMAGE"
	run gmvm_run_kernel "$TESTGUEST_BZIMAGE" --cpus 4 --cmdline smp=4
	assert_success
	assert_line 'smp: 4 CPUs reported'
	assert_line 'testguest: ok'
}

@test "--memory 128M: the guest touches and checksums 120 MiB" {
	run gmvm_run --memory 128M --cmdline "hello touch=120M"
	assert_success
	assert_line --partial 'PVH boot, 127 MiB RAM in 2 ranges'
	assert_line 'touch: [0x800000, 0x8000000)'
	assert_line --regexp '^touch: 120 MiB, 0 bad words, checksum 0x[0-9a-f]+$'
	assert_line 'testguest: ok'
}

@test "--memory 128M: touching more than the guest has fails the workload" {
	run gmvm_run --memory 128M --cmdline "touch=1G"
	assert_failure 1
	assert_line --regexp '^touch: only [0-9]+ MiB of RAM above 0x[0-9a-f]+, asked for 1024 MiB$'
	assert_line 'testguest: touch failed'
}

@test "--memory 4G: RAM above 4 GiB is touched with 0 bad words" {
	run gmvm_run --memory 4G --cmdline "hello touch=256M"
	assert_success
	assert_line --partial 'PVH boot, 4095 MiB RAM in 3 ranges'
	assert_line --regexp '^touch: 256 MiB, 0 bad words, checksum 0x[0-9a-f]+$'
	local range start end
	range=$(sed -n 's/^touch: \[\(0x[0-9a-f]*\), \(0x[0-9a-f]*\))$/\1 \2/p' <<<"$output")
	[ -n "$range" ] || fail "no 'touch: [start, end)' line in: $output"
	read -r start end <<<"$range"
	# 3 GiB below the MMIO gap, the 4th GiB from 4 GiB up: RAM ends at 5 GiB.
	(( start >= 0x100000000 )) || fail "touched range starts at $start, below 4 GiB"
	assert_equal "$end" 0x140000000
	assert_equal "$(( end - start ))" "$(( 256 << 20 ))"
	assert_line 'testguest: ok'
}

@test "the same seed and size give the same checksum under every backend" {
	local backend sum sums=()
	for backend in $(backends_offering boot); do
		run gmvm_run --memory-backend "$backend" --cmdline "seed=42 touch=32M"
		assert_success
		sum=$(checksum_of "$output")
		[ -n "$sum" ] || fail "$backend: no checksum in: $output"
		sums+=("$sum")
	done
	((${#sums[@]} >= 2)) || fail "fewer than two backends here: $(backends_offering boot)"
	for sum in "${sums[@]}"; do
		assert_equal "$sum" "${sums[0]}"
	done
}

@test "a different seed gives a different checksum" {
	run gmvm_run --cmdline "seed=1 touch=32M"
	assert_success
	local one
	one=$(checksum_of "$output")
	[ -n "$one" ] || fail "no checksum in: $output"
	run gmvm_run --cmdline "seed=2 touch=32M"
	assert_success
	local two
	two=$(checksum_of "$output")
	[ -n "$two" ] || fail "no checksum in: $output"
	[ "$one" != "$two" ] || fail "seeds 1 and 2 both gave checksum $one"
}

# boots_with_initrd KERNEL [ARG]...: KERNEL gets a random initrd of an odd
# size and the guest reports its size and first and last 16 bytes.
boots_with_initrd() {
	local kernel=$1 initrd="$BATS_TEST_TMPDIR/initrd.img"
	shift
	head -c 300007 /dev/urandom >"$initrd"
	run gmvm_run_kernel "$kernel" --initrd "$initrd" --cmdline initrd "$@"
	assert_success
	assert_line --regexp "^initrd: 300007 bytes at 0x[0-9a-f]+, first $(hex_head "$initrd" 16) last $(hex_tail "$initrd" 16)\$"
	assert_line 'testguest: ok'
}

@test "initrd: a PVH boot sees the initrd's size and bytes" {
	boots_with_initrd "$TESTGUEST"
}

@test "initrd: a bzImage boot sees the initrd's size and bytes" {
	require_file "$TESTGUEST_BZIMAGE"
	boots_with_initrd "$TESTGUEST_BZIMAGE"
}

@test "initrd: a 64-bit ELF boot sees the initrd's size and bytes" {
	require_file "$TESTGUEST_NOPVH"
	boots_with_initrd "$TESTGUEST_NOPVH"
}

@test "initrd: a 5-byte initrd is seen whole" {
	local initrd="$BATS_TEST_TMPDIR/tiny.img"
	printf 'gmvm!' >"$initrd"
	run gmvm_run --initrd "$initrd" --cmdline initrd
	assert_success
	assert_line --regexp '^initrd: 5 bytes at 0x[0-9a-f]+, first 676d766d21 last 676d766d21$'
}

@test "initrd: with --memory 4G it is placed page-aligned below 3 GiB" {
	local initrd="$BATS_TEST_TMPDIR/initrd.img"
	head -c 300007 /dev/urandom >"$initrd"
	run gmvm_run --memory 4G --initrd "$initrd" --cmdline initrd
	assert_success
	local addr
	addr=$(sed -n 's/^initrd: 300007 bytes at \(0x[0-9a-f]*\),.*/\1/p' <<<"$output")
	[ -n "$addr" ] || fail "no initrd line in: $output"
	(( addr % 4096 == 0 )) || fail "initrd at $addr is not page-aligned"
	(( addr + 300007 <= 0xc0000000 )) || fail "initrd at $addr runs past 3 GiB"
	(( addr >= 0x80000000 )) || fail "initrd at $addr is not at the top of RAM below 3 GiB"
}

@test "without --initrd the initrd workload finds none and fails" {
	run gmvm_run --cmdline initrd
	assert_failure 1
	assert_line 'initrd: none'
	assert_line 'testguest: initrd failed'
}
