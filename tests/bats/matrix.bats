#!/usr/bin/env bats
# The host matrix: for every memory backend, what `gmvm caps` says this host
# offers works (boot, snapshot, --lazy-load, each restore mode), and what it
# says the host lacks is refused with status 2 and a message naming what is
# missing and what would work. make check runs this file as the host is and
# once per hidden feature set (tests/bats/hostpass/), so each machine proves
# every row both ways.

load helpers
load snapshot_helpers

setup_file() {
	[ -e /dev/kvm ] || return 0
	# One small snapshot per usable backend, taken once.
	local b
	for b in gmem memfd anon; do
		timeout 60 "$GMVM" run --kernel "$TESTGUEST" --memory-backend "$b" \
			--snapshot-on-request "$BATS_FILE_TMPDIR/snap-$b" --then stop \
			--cmdline "touch=16M snapshot verify" </dev/null >/dev/null 2>&1 || true
	done
}

setup() {
	require_kvm
}

# boot_case BACKEND: boots, or is refused naming guest_memfd.
boot_case() {
	if offers "$1" boot; then
		run gmvm_run --memory-backend "$1" --cmdline "touch=16M"
		assert_success
		assert_line --regexp '^touch: 16 MiB, 0 bad words'
		[ -f "$BATS_FILE_TMPDIR/snap-$1/vmstate" ] ||
			fail "$1 boots, but setup_file could not snapshot it"
	else
		run --separate-stderr gmvm_run --memory-backend "$1"
		assert_bad_usage "--memory-backend $1" 'does not offer' 'memfd or anon would work'
		[ ! -e "$BATS_FILE_TMPDIR/snap-$1" ] || fail "a snapshot of $1 RAM was made"
	fi
}

# lazy_load_case BACKEND
lazy_load_case() {
	require_offer "$1" boot
	if offers "$1" lazy-load; then
		run gmvm_run --memory-backend "$1" --lazy-load --cmdline "hello touch=16M" \
			--stats "$BATS_TEST_TMPDIR/stats.json"
		assert_success
		assert_line 'testguest: ok'
		(($(jq_stats "$BATS_TEST_TMPDIR/stats.json" .uffd.pages_copied) > 0)) ||
			fail "nothing came through the uffd thread"
	else
		run --separate-stderr gmvm_run --memory-backend "$1" --lazy-load
		assert_bad_usage '--lazy-load is not possible'
		if caps_jq .userfaultfd.available; then
			assert_bad_usage '--lazy-load is not possible' '--memory-backend memfd or anon'
		else
			assert_bad_usage '--lazy-load is not possible' 'userfaultfd' 'boot without --lazy-load'
		fi
	fi
}

# restore_case BACKEND MODE: MODE is eager, lazy-missing or lazy-minor; the
# snapshot taken on the default backend restores onto BACKEND that way, or
# is refused saying what would work.
restore_case() {
	local backend=$1 mode=$2 snap
	local args=(--memory-backend "$backend")
	require_offer "$backend" boot
	snap=$BATS_FILE_TMPDIR/snap-$(default_backend)
	case $mode in
	eager) args+=(--restore eager) ;;
	lazy-missing) args+=(--restore lazy --uffd-mode missing) ;;
	lazy-minor) args+=(--restore lazy --uffd-mode minor) ;;
	esac
	if offers "$backend" "$mode"; then
		run restore --snapshot "$snap" "${args[@]}" --stats "$BATS_TEST_TMPDIR/stats.json"
		assert_resumed_ok 1
		assert_equal "$(jq_stats "$BATS_TEST_TMPDIR/stats.json" .restore.strategy)" "$mode"
		assert_equal "$(jq_stats "$BATS_TEST_TMPDIR/stats.json" .memory_backend)" "$backend"
	else
		run --separate-stderr restore --snapshot "$snap" "${args[@]}"
		assert_bad_usage 'a lazy restore is not possible' '--restore eager works'
	fi
}

# auto_case BACKEND: --restore auto picks what caps calls its restore.
auto_case() {
	require_offer "$1" boot
	local want
	want=$(jq -r ".backends.$1.restore" <<<"$(host_caps)")
	run restore --snapshot "$BATS_FILE_TMPDIR/snap-$(default_backend)" --memory-backend "$1" \
		--stats "$BATS_TEST_TMPDIR/stats.json"
	assert_resumed_ok 1
	assert_equal "$(jq_stats "$BATS_TEST_TMPDIR/stats.json" .restore.strategy)" "$want"
}

@test "gmem: boots and snapshots, or is refused naming guest_memfd" { boot_case gmem; }
@test "memfd: boots and snapshots" { boot_case memfd; }
@test "anon: boots and snapshots" { boot_case anon; }

@test "gmem: --lazy-load works or is refused" { lazy_load_case gmem; }
@test "memfd: --lazy-load works or is refused" { lazy_load_case memfd; }
@test "anon: --lazy-load works or is refused" { lazy_load_case anon; }

@test "gmem: eager restore" { restore_case gmem eager; }
@test "memfd: eager restore" { restore_case memfd eager; }
@test "anon: eager restore" { restore_case anon eager; }
@test "gmem: lazy restore with missing faults works or is refused" { restore_case gmem lazy-missing; }
@test "memfd: lazy restore with missing faults works or is refused" { restore_case memfd lazy-missing; }
@test "anon: lazy restore with missing faults works or is refused" { restore_case anon lazy-missing; }
@test "gmem: lazy restore with minor faults works or is refused" { restore_case gmem lazy-minor; }
@test "memfd: lazy restore with minor faults works or is refused" { restore_case memfd lazy-minor; }
@test "anon: lazy restore with minor faults is refused (no page cache)" { restore_case anon lazy-minor; }

@test "gmem: --restore auto picks what caps says" { auto_case gmem; }
@test "memfd: --restore auto picks what caps says" { auto_case memfd; }
@test "anon: --restore auto picks what caps says" { auto_case anon; }

@test "a snapshot of each backend restores with no backend named" {
	local b
	for b in $(backends_offering boot); do
		run restore --snapshot "$BATS_FILE_TMPDIR/snap-$b" --stats "$BATS_TEST_TMPDIR/stats.json"
		assert_resumed_ok 1
	done
}

@test "a run's stderr is empty whatever the host lacks" {
	run --separate-stderr gmvm_run --cmdline hello
	assert_success
	assert_equal "$stderr" ''
}
