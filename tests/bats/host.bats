#!/usr/bin/env bats
# What the host offers: a host without guest_memfd (faked with deny_ioctl,
# a seccomp filter refusing KVM_CREATE_GUEST_MEMFD), a host without
# /dev/kvm (faked in a mount namespace), a user without access to /dev/kvm.

load helpers

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

@test "no guest_memfd: the default backend falls back to memfd with a warning, and the guest runs" {
	require_kvm
	run --separate-stderr gmvm_without_gmem run --kernel "$TESTGUEST" --cmdline "hello touch=32M"
	assert_success
	assert_line --partial 'Hello from the gmvm test guest: PVH boot'
	assert_line --regexp '^touch: 32 MiB, 0 bad words'
	assert_line 'testguest: ok'
	local warning
	warning=$(grep '^gmvm: warning: ' <<<"$stderr") || fail "no warning on stderr: $stderr"
	[[ "$warning" == *guest_memfd* && "$warning" == *memfd* ]] ||
		fail "the warning does not name guest_memfd and memfd: $warning"
	[[ "$warning" == *"RAM is on memfd"* ]] || fail "the warning does not say RAM is on memfd: $warning"
}

@test "no guest_memfd (EINVAL, an older kernel): the default backend still falls back to memfd" {
	require_kvm
	require_file "$DENY_IOCTL"
	run --separate-stderr timeout 60 "$DENY_IOCTL" "$KVM_CREATE_GUEST_MEMFD:EINVAL" -- \
		"$GMVM" run --kernel "$TESTGUEST" --cmdline "exit=5"
	assert_failure 5
	[[ "$stderr" == *"gmvm: warning: "*"guest_memfd"*"memfd"* ]] ||
		fail "no fallback warning on stderr: $stderr"
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
	assert_line --regexp '^gmem +unavailable: .*KVM_CREATE_GUEST_MEMFD'
	assert_line --regexp '^memfd +MISSING'
	assert_line 'default backend: memfd'
}

@test "no guest_memfd: gmvm caps --json has gmem unusable with a reason" {
	require_kvm
	run --separate-stderr gmvm_without_gmem caps --json
	assert_success
	assert_equal "$(jq -r '.backends.gmem.usable' <<<"$output")" false
	assert_equal "$(jq -r '.backends.gmem.reason | type' <<<"$output")" string
	assert_equal "$(jq -r '.backends.memfd.usable' <<<"$output")" true
	assert_equal "$(jq -r '.default_backend' <<<"$output")" memfd
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
