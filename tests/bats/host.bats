#!/usr/bin/env bats
# What the host offers: hosts without guest_memfd, KVM_SET_USER_MEMORY_REGION2,
# minor faults or userfaultfd (faked with tests/tools/hide_host, whose
# seccomp filter answers for the kernel), a host without /dev/kvm (faked in
# a mount namespace), a user without access to /dev/kvm.

load helpers
load snapshot_helpers

# require_root_unshare: skip unless we can make a private mount namespace.
require_root_unshare() {
	[ "$(id -u)" = 0 ] || skip "needs root to mount over /dev in a private mount namespace"
	require_command unshare "util-linux"
	unshare -m true 2>/dev/null || skip "unshare -m does not work here (no CAP_SYS_ADMIN?)"
}

# gmvm_without_dev_kvm [ARG]...: gmvm in a mount namespace whose /dev is an
# empty tmpfs.
# shellcheck disable=SC2016	# the single-quoted script expands in sh
gmvm_without_dev_kvm() {
	timeout --kill-after=10 "$GMVM_TIMEOUT" unshare -m sh -c \
		'mount -t tmpfs tmpfs /dev && exec "$@"' sh "$GMVM" "$@" </dev/null
}

# gmvm_with_dev_kvm_from FILE [ARG]...: gmvm in a mount namespace where FILE
# is bind-mounted over /dev/kvm.
# shellcheck disable=SC2016
gmvm_with_dev_kvm_from() {
	local file=$1
	shift
	timeout --kill-after=10 "$GMVM_TIMEOUT" unshare -m sh -c \
		'mount --bind "$1" /dev/kvm && shift && exec "$@"' sh "$file" "$GMVM" "$@" </dev/null
}

@test "no guest_memfd: --memory-backend gmem is refused with status 2, saying what would work" {
	require_kvm
	run --separate-stderr gmvm_without_gmem run --kernel "$TESTGUEST" --memory-backend gmem
	assert_bad_usage '--memory-backend gmem' 'does not offer' 'memfd or anon would work'
}

@test "no guest_memfd: the default backend is memfd, silently, and the guest runs" {
	require_kvm
	run --separate-stderr gmvm_without_gmem run --kernel "$TESTGUEST" --cmdline "hello touch=32M"
	assert_success
	assert_line --partial 'Hello from the gmvm test guest: PVH boot'
	assert_line --regexp '^touch: 32 MiB, 0 bad words'
	assert_line 'testguest: ok'
	assert_equal "$stderr" ''
}

@test "no guest_memfd: -v and --stats say memfd was picked, and why" {
	require_kvm
	local stats=$BATS_TEST_TMPDIR/stats.json
	run --separate-stderr gmvm_without_gmem run -v --kernel "$TESTGUEST" --cmdline hello \
		--stats "$stats"
	assert_success
	[[ "$stderr" == *"gmvm: guest RAM on memfd (default: this host does not offer guest_memfd: "* ]] ||
		fail "no line saying memfd was picked and why: $stderr"
	assert_equal "$(jq -r .memory_backend "$stats")" memfd
	[[ "$(jq -r .memory_backend_reason "$stats")" == "default: this host does not offer guest_memfd: "* ]] ||
		fail "no reason in the stats: $(cat "$stats")"
}

@test "no guest_memfd (EINVAL, an older kernel): the default backend still falls back to memfd" {
	require_kvm
	require_file "$HIDE_HOST"
	run --separate-stderr timeout 60 "$HIDE_HOST" --deny-ioctl 0xc040aed4:EINVAL -- \
		"$GMVM" run -v --kernel "$TESTGUEST" --cmdline "exit=5"
	assert_failure 5
	[[ "$stderr" == *"guest RAM on memfd (default: this host does not offer guest_memfd: "*"EINVAL"* ]] ||
	[[ "$stderr" == *"guest RAM on memfd (default: this host does not offer guest_memfd: "*"Invalid argument"* ]] ||
	[[ "$stderr" == *"guest RAM on memfd (default: this host does not offer guest_memfd: KVM offers guest_memfd flags"* ]] ||
		fail "no fallback to memfd on stderr: $stderr"
}

@test "no guest_memfd: a snapshot taken on gmem restores on memfd, silently" {
	require_kvm
	require_offer gmem boot
	make_snapshot "$BATS_TEST_TMPDIR/s" --memory-backend gmem --cmdline "touch=16M snapshot verify"
	run --separate-stderr gmvm_without_gmem restore --snapshot "$BATS_TEST_TMPDIR/s" \
		--stats "$BATS_TEST_TMPDIR/stats.json"
	assert_success
	assert_line --regexp '^verify: pass 1: 0 bad words'
	assert_line 'testguest: ok'
	[[ "$stderr" != *warning* ]] || fail "a warning on stderr: $stderr"
	assert_equal "$(jq -r .memory_backend "$BATS_TEST_TMPDIR/stats.json")" memfd
	[[ "$(jq -r .memory_backend_reason "$BATS_TEST_TMPDIR/stats.json")" == "the snapshot's backend gmem, replaced: this host does not offer guest_memfd: "* ]] ||
		fail "no reason in the stats: $(cat "$BATS_TEST_TMPDIR/stats.json")"
}

@test "no guest_memfd: an explicit memfd backend runs without a warning" {
	require_kvm
	run --separate-stderr gmvm_without_gmem run --kernel "$TESTGUEST" --memory-backend memfd --cmdline hello
	assert_success
	assert_line 'testguest: ok'
	assert_equal "$stderr" ''
}

@test "no guest_memfd: gmvm caps says gmem is unavailable and the default is memfd" {
	require_kvm
	run --separate-stderr gmvm_without_gmem caps
	assert_success
	assert_line --regexp '^gmem +unavailable: .*guest_memfd'
	assert_line --regexp '^  KVM_CAP_GUEST_MEMFD +0$'
	assert_line --regexp '^memfd +MISSING'
	assert_line --regexp '^default backend: memfd \(this host does not offer guest_memfd: '
}

@test "no guest_memfd: gmvm caps --json has gmem unusable with a reason" {
	require_kvm
	run --separate-stderr gmvm_without_gmem caps --json
	assert_success
	assert_equal "$(jq -r '.backends.gmem.usable' <<<"$output")" false
	assert_equal "$(jq -r '.backends.gmem.reason | type' <<<"$output")" string
	assert_equal "$(jq -r '.backends.gmem.offers.boot' <<<"$output")" false
	assert_equal "$(jq -r '.backends.memfd.usable' <<<"$output")" true
	assert_equal "$(jq -r '.default_backend' <<<"$output")" memfd
}

@test "no KVM_SET_USER_MEMORY_REGION2 (Linux 6.1): caps shows it, gmem is unavailable, memfd boots" {
	require_kvm
	run --separate-stderr gmvm_hiding memory2 caps --json
	assert_success
	assert_equal "$(jq -r '.kvm.capabilities.KVM_CAP_USER_MEMORY2' <<<"$output")" 0
	assert_equal "$(jq -r '.backends.gmem.usable' <<<"$output")" false
	if offers gmem boot; then
		# guest_memfd itself is still there: the reason is the ioctl.
		[[ "$(jq -r .backends.gmem.reason <<<"$output")" == *KVM_SET_USER_MEMORY_REGION2* ]] ||
			fail "the reason does not name KVM_SET_USER_MEMORY_REGION2: $output"
	fi
	run --separate-stderr gmvm_hiding linux-6.1 run --kernel "$TESTGUEST" --cmdline "touch=16M"
	assert_success
	assert_line 'testguest: ok'
	assert_equal "$stderr" ''
}

@test "no minor faults: caps shows MINOR refused on memfd and no lazy-minor restore" {
	require_kvm
	run --separate-stderr gmvm_hiding uffd-minor caps --json
	assert_success
	assert_equal "$(jq -r '.userfaultfd.features / 1024 | floor % 2' <<<"$output")" 0
	assert_equal "$(jq -r '.backends.memfd.uffd.minor.registered' <<<"$output")" false
	assert_equal "$(jq -r '.backends.memfd.offers.restore | index("lazy-minor")' <<<"$output")" null
}

@test "no userfaultfd: caps says why, and every usable backend restores eagerly only" {
	require_kvm
	run --separate-stderr gmvm_hiding uffd caps --json
	assert_success
	assert_equal "$(jq -r '.userfaultfd.available' <<<"$output")" false
	[[ "$(jq -r '.userfaultfd.reason' <<<"$output")" == *"userfaultfd"* ]] ||
		fail "the reason does not name userfaultfd: $(jq -c .userfaultfd <<<"$output")"
	assert_equal "$(jq -c '[.backends[] | select(.usable) | .offers.restore] | unique' <<<"$output")" '[["eager"]]'
	assert_equal "$(jq -c '[.backends[] | select(.usable) | .restore] | unique' <<<"$output")" '["eager"]'
}

@test "no /dev/kvm: gmvm run exits 1 with a message naming /dev/kvm" {
	require_root_unshare
	run --separate-stderr gmvm_without_dev_kvm run --kernel "$TESTGUEST"
	assert_error 1 '/dev/kvm' 'does not exist'
}

@test "no /dev/kvm: gmvm caps says KVM is unavailable and falls back to memfd" {
	require_root_unshare
	run --separate-stderr gmvm_without_dev_kvm caps --json
	assert_success
	assert_equal "$(jq -r '.kvm.available' <<<"$output")" false
	[[ "$(jq -r '.kvm.reason' <<<"$output")" == *"/dev/kvm"* ]] ||
		fail "the reason does not name /dev/kvm: $(jq -c .kvm <<<"$output")"
	assert_equal "$(jq -r '.backends.gmem.usable' <<<"$output")" false
	assert_equal "$(jq -r '.default_backend' <<<"$output")" memfd
}

@test "a /dev/kvm that is not KVM: gmvm run exits 1 naming /dev/kvm, without a bogus API version" {
	require_root_unshare
	require_kvm
	run --separate-stderr gmvm_with_dev_kvm_from /dev/null run --kernel "$TESTGUEST"
	assert_error 1 '/dev/kvm'
	[[ "$stderr" != *"version -1"* ]] ||
		fail "the message reports the ioctl's -1 as an API version: $stderr"
}

@test "/dev/kvm not accessible to the user: gmvm run exits 1 saying permission denied" {
	require_kvm
	[ "$(id -u)" = 0 ] || skip "needs root to switch to an unprivileged user"
	require_command setpriv "util-linux"
	local nobody=65534
	[ "$(stat -c %a /dev/kvm)" != 666 ] || skip "/dev/kvm is open to everyone here"
	setpriv --reuid=$nobody --regid=$nobody --clear-groups test -x "$GMVM" -a -r "$TESTGUEST" ||
		skip "user $nobody cannot reach $GMVM or $TESTGUEST"
	run --separate-stderr timeout 60 setpriv --reuid=$nobody --regid=$nobody --clear-groups \
		"$GMVM" run --kernel "$TESTGUEST"
	assert_error 1 '/dev/kvm' 'permission denied'
}
