#!/usr/bin/env bats
# The snapshot format's compatibility rule (lib/vmstate.h, README
# "Snapshot format") and the memory checksums: every memory region's
# checksum is in the vmstate (revision 1); `inspect --verify` checks the
# memory file, `restore --verify` the guest RAM an eager restore made of it.
# Tampered vmstates are re-checksummed (tests/tools/vmstate_edit), so that
# what is tested is the rule, not the CRC.

load helpers
load snapshot_helpers

setup_file() {
	[ -e /dev/kvm ] || return 0
	GOOD="$BATS_FILE_TMPDIR/good"
	export GOOD
	timeout 60 "$GMVM" run --kernel "$TESTGUEST" --snapshot-on-request "$GOOD" \
		--then stop --cmdline "touch=16M snapshot verify" </dev/null >/dev/null 2>&1 || true
}

setup() {
	require_kvm
	require_file "$TOOLS/vmstate_edit"
	[ -f "$GOOD/vmstate" ] || fail "setup_file could not make a snapshot"
	cp -r --sparse=always "$GOOD" "$BATS_TEST_TMPDIR/s"
	S="$BATS_TEST_TMPDIR/s"
}

edit() {
	"$TOOLS/vmstate_edit" "$S/vmstate" "$@" || fail "vmstate_edit $*"
}

# damage_memory OFFSET: one byte of the memory file changed, at OFFSET.
damage_memory() {
	printf 'X' | dd of="$S/memory" bs=1 seek="$1" conv=notrunc status=none
}

# A revision-0 snapshot: what gmvm wrote before revisions and checksums.
make_revision0() {
	edit del / revision
	edit del /memory/region@0 data-crc32c
}

@test "a snapshot says its format and revision; inspect --verify reads the memory file and finds it good" {
	run gmvm inspect --verify "$S"
	assert_success
	assert_line "snapshot $S: format 1 revision 3, checksum good"
	assert_line --regexp '^  memory file: [0-9]+ bytes, 16 MiB of data, a checksum per region$'
	assert_line --regexp '^  memory checksums good: 1 region\(s\), 16 MiB of data read in [0-9]+ ms$'
}

@test "one byte changed in the memory file's data: inspect --verify and restore --verify refuse it, naming the region" {
	# The guest touched the top 16 MiB of its 128 MiB.
	damage_memory $(((128 - 8) << 20))
	run gmvm inspect "$S"
	assert_success
	run --separate-stderr gmvm inspect --verify "$S"
	assert_bad_usage "snapshot $S: memory region 0 [0, +0x8000000) has checksum" 'the memory file is damaged'
	run --separate-stderr restore --snapshot "$S" --verify
	assert_bad_usage "memory region 0" 'restored with checksum' 'the memory file is damaged'
	# Nothing of the guest ran.
	[[ "$stderr" != *"restore: eager"* ]] || fail "the guest was started: $stderr"
}

@test "a byte written into a hole of the memory file is found too" {
	damage_memory $((1 << 20))
	run --separate-stderr gmvm inspect --verify "$S"
	assert_bad_usage 'memory region 0' 'the memory file is damaged'
}

@test "restore --verify: a good snapshot resumes, restored eagerly, and says so" {
	run restore --snapshot "$S" --verify -v
	assert_resumed_ok 1
	assert_line --regexp '^gmvm: --verify: memory checksums good, 16 MiB in [0-9]+ ms$'
	assert_line 'gmvm: restore: eager (auto: --verify checks all of RAM before the guest runs)'
}

@test "restore --verify with a lazy restore asked for is bad usage" {
	for how in "--restore lazy" --prefetch --record-working-set "--uffd-mode minor"; do
		# shellcheck disable=SC2086
		run --separate-stderr restore --snapshot "$S" --verify $how
		assert_bad_usage '--verify checks all of guest RAM before the guest runs' "${how%% *}"
	done
}

@test "a 4 GiB guest: two regions, each checked; damage above 4 GiB names region 1" {
	rm -rf "$S"
	make_snapshot "$S" --memory 4G --cmdline "touch=32M snapshot verify"
	run gmvm inspect --verify "$S"
	assert_success
	assert_line --regexp '^  memory checksums good: 2 region\(s\), 32 MiB of data read in [0-9]+ ms$'
	run restore --snapshot "$S" --verify
	assert_resumed_ok 1
	# touch= writes the top of RAM, which is above 4 GiB: region 1.
	damage_memory $(((4 << 30) - (1 << 20)))
	run --separate-stderr gmvm inspect --verify "$S"
	assert_bad_usage 'memory region 1 [0x100000000,' 'the memory file is damaged'
}

@test "revision 0 (before checksums): restores as before; --verify says there is nothing to check" {
	make_revision0
	run gmvm inspect "$S"
	assert_success
	assert_line "snapshot $S: format 1 revision 0, checksum good"
	assert_line --partial ', no checksums'
	run restore --snapshot "$S"
	assert_resumed_ok 1
	run --separate-stderr gmvm inspect --verify "$S"
	assert_bad_usage "snapshot $S has no memory checksums (format 1 revision 0; they came with revision 1)"
	run --separate-stderr restore --snapshot "$S" --verify
	assert_bad_usage '--verify' 'has no memory checksums'
}

@test "revision 1 (before --vmgenid): a snapshot that says nothing of it restores without one; revision 2 must say" {
	edit del /config vmgenid
	run --separate-stderr restore --snapshot "$S"
	assert_bad_usage 'node config has no property "vmgenid"'
	edit set-u32 / revision 1
	run gmvm inspect "$S"
	assert_success
	assert_line "snapshot $S: format 1 revision 1, checksum good"
	refute_line --partial 'vmgenid'
	run restore --snapshot "$S"
	assert_resumed_ok 1
}

@test "revision 2 (before --vsock): a snapshot that says nothing of it restores without one; revision 3 must say" {
	edit del /config vsock-cid
	run --separate-stderr restore --snapshot "$S"
	assert_bad_usage 'node config has no property "vsock-cid"'
	edit set-u32 / revision 2
	run restore --snapshot "$S"
	assert_resumed_ok 1
}

@test "a later revision than this gmvm reads is refused: it would drop what it does not know" {
	edit set-u32 / revision 4
	run --separate-stderr restore --snapshot "$S"
	assert_bad_usage "$S/vmstate: format 1 revision 4, written by a newer gmvm" 'reads revisions up to 3'
	run --separate-stderr gmvm inspect "$S"
	assert_bad_usage 'revision 4, written by a newer gmvm'
}

@test "a checksum on one region and not the other is refused" {
	rm -rf "$S"
	make_snapshot "$S" --memory 4G --cmdline "touch=4M snapshot"
	edit del /memory/region@1 data-crc32c
	run --separate-stderr gmvm inspect "$S"
	assert_bad_usage 'memory regions 0 and 1: one has a checksum (data-crc32c), the other none'
}

@test "a checksum that is not 4 bytes is refused" {
	edit set-str /memory/region@0 data-crc32c "not a number"
	run --separate-stderr restore --snapshot "$S"
	assert_bad_usage "$S/vmstate" 'data-crc32c'
}

@test "inspect: an unknown option is bad usage" {
	run --separate-stderr gmvm inspect --verfiy "$S"
	assert_bad_usage 'inspect: unknown option --verfiy'
}
