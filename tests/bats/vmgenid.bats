#!/usr/bin/env bats
# --vmgenid: the VM Generation ID's 16 bytes where the ACPI tables say, new
# at every boot and every restore, kept in the snapshot (gmvm inspect). The
# test guest reads them (its vmgenid workload); the ACPI event that tells a
# guest they changed is checked with Linux (tests/linux/restore.bats) and in
# the tables by tests/unit/test_acpi_iasl.sh.

load helpers

setup() {
	require_kvm
}

# id_of OUTPUT: the identifier the test guest printed last.
id_of() {
	sed -n 's/^vmgenid: \([0-9a-f]\{32\}\)$/\1/p' <<<"$1" | tail -n 1
}

@test "--vmgenid: the guest reads 16 random bytes, new at every boot" {
	run --separate-stderr gmvm_run --cmdline vmgenid --vmgenid --discovery acpi
	assert_success
	local a b
	a=$(id_of "$output")
	[ -n "$a" ] && [ "$a" != 00000000000000000000000000000000 ] || fail "id: '$a'"
	run --separate-stderr gmvm_run --cmdline vmgenid --vmgenid --discovery both
	assert_success
	b=$(id_of "$output")
	[ -n "$b" ] && [ "$a" != "$b" ] || fail "two boots, one id: $a"
}

@test "without --vmgenid the guest finds no identifier there" {
	run --separate-stderr gmvm_run --cmdline vmgenid --discovery acpi
	assert_success
	assert_equal "$(id_of "$output")" 00000000000000000000000000000000
}

@test "--vmgenid with --discovery cmdline is refused, status 2: only ACPI describes it" {
	run --separate-stderr gmvm_run --cmdline vmgenid --vmgenid
	assert_failure 2
	[[ "$stderr" == *"--vmgenid: the guest finds a VM Generation ID through ACPI"* ]] ||
		fail "$stderr"
}

@test "--vmgenid: a snapshot keeps the guest's identifier (inspect shows it); each restore gives a new one" {
	local s=$BATS_TEST_TMPDIR/s snap first mode ids=
	run --separate-stderr gmvm_run --cmdline "vmgenid snapshot vmgenid" --vmgenid \
		--discovery acpi --snapshot-on-request "$s" --then stop
	assert_success
	snap=$(id_of "$output")
	run gmvm inspect "$s"
	assert_success
	assert_line "  VM Generation ID: $snap (a restore gives the guest a new one)"
	for mode in eager lazy lazy; do
		[ "$mode" = eager ] || offers "$(default_backend)" lazy-missing ||
			offers "$(default_backend)" lazy-minor || continue
		run --separate-stderr gmvm restore --snapshot "$s" --restore "$mode"
		assert_success
		first=$(id_of "$output")
		[ -n "$first" ] && [ "$first" != "$snap" ] || fail "$mode restore kept $snap"
		[[ " $ids " != *" $first "* ]] || fail "$mode restore gave $first again"
		ids="$ids $first"
	done
}

@test "--vmgenid: a snapshot whose identifier is not 16 bytes is refused, status 2" {
	require_file "$TOOLS/vmstate_edit"
	local s=$BATS_TEST_TMPDIR/s
	gmvm_run --cmdline "snapshot" --vmgenid --discovery acpi \
		--snapshot-on-request "$s" --then stop >/dev/null 2>&1 || fail "no snapshot"
	"$TOOLS/vmstate_edit" "$s/vmstate" set-str /devices/vmgenid id short ||
		fail "vmstate_edit"
	run --separate-stderr gmvm restore --snapshot "$s"
	assert_failure 2
	[[ "$stderr" == *'node vmgenid: property "id" has 6 bytes, expected 16'* ]] || fail "$stderr"
}
