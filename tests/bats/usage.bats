#!/usr/bin/env bats
# Bad usage of the command line: exit status 2 and a message naming the
# problem. These are found before /dev/kvm is opened, so they need no KVM.

load helpers

@test "run without --kernel: status 2, says --kernel is required" {
	run --separate-stderr gmvm run
	assert_bad_usage '--kernel is required'
}

@test "run --kernel without a value: status 2, names the option" {
	run --separate-stderr gmvm run --kernel
	assert_bad_usage "'--kernel'" 'needs a value'
}

@test "--memory 0: status 2, says it must not be 0" {
	run --separate-stderr gmvm_run --memory 0
	assert_bad_usage '--memory' 'must not be 0'
}

@test "--memory 1P: status 2, names the unknown suffix" {
	run --separate-stderr gmvm_run --memory 1P
	assert_bad_usage '--memory' "'1P'" 'suffix'
}

@test "--memory 12Q: status 2, names the unknown suffix" {
	run --separate-stderr gmvm_run --memory 12Q
	assert_bad_usage '--memory' "'12Q'" 'suffix'
}

@test "--memory 16777216T (2^64 bytes): status 2, too large" {
	run --separate-stderr gmvm_run --memory 16777216T
	assert_bad_usage '--memory' 'too large'
}

@test "--memory with a 20-digit number: status 2, too large" {
	run --separate-stderr gmvm_run --memory 99999999999999999999
	assert_bad_usage '--memory' 'too large'
}

@test "--memory -1: status 2, not a number" {
	run --separate-stderr gmvm_run --memory -1
	assert_bad_usage '--memory' "'-1'" 'not a number'
}

@test "--memory 1M: status 2, below the 2 MiB minimum" {
	run --separate-stderr gmvm_run --memory 1M
	assert_bad_usage '--memory' 'minimum'
}

@test "--memory 4097K: status 2, not a multiple of 4 KiB" {
	run --separate-stderr gmvm_run --memory 4097K
	assert_bad_usage '--memory' '4 KiB'
}

@test "--cpus 0: status 2, out of range 1 to 64" {
	run --separate-stderr gmvm_run --cpus 0
	assert_bad_usage '--cpus' 'out of range' '1 to 64'
}

@test "--cpus 65: status 2, out of range 1 to 64" {
	run --separate-stderr gmvm_run --cpus 65
	assert_bad_usage '--cpus' '65' 'out of range'
}

@test "--cpus abc: status 2, not a number" {
	run --separate-stderr gmvm_run --cpus abc
	assert_bad_usage '--cpus' "'abc'" 'not a'
}

@test "--cpus 4x: status 2, not a whole number" {
	run --separate-stderr gmvm_run --cpus 4x
	assert_bad_usage '--cpus' "'4x'"
}

@test "--memory-backend tmpfs: status 2, names the backend and the choices" {
	run --separate-stderr gmvm_run --memory-backend tmpfs
	assert_bad_usage '--memory-backend' "'tmpfs'" 'gmem, memfd or anon'
}

@test "--console pty: status 2, names the mode and the choices" {
	run --separate-stderr gmvm_run --console pty
	assert_bad_usage '--console' 'unknown mode' "'pty'" 'serial' 'none'
}

@test "an unknown option: status 2, names it" {
	run --separate-stderr gmvm_run --frobnicate
	assert_bad_usage 'unknown option' "'--frobnicate'"
}

@test "a stray positional argument: status 2, names it" {
	run --separate-stderr gmvm_run extra-arg
	assert_bad_usage 'unexpected argument' "'extra-arg'"
}

@test "an unknown subcommand: status 2, names it" {
	run --separate-stderr gmvm frobnicate
	assert_bad_usage 'unknown command' "'frobnicate'"
}

@test "no subcommand at all: status 2 and the usage" {
	run gmvm
	assert_failure 2
	assert_output --partial 'Usage: gmvm COMMAND'
}

@test "gmvm --help: status 0, lists the commands on stdout" {
	run --separate-stderr gmvm --help
	assert_success
	assert_line --regexp '^Usage: gmvm COMMAND'
	assert_line --regexp '^ +run +'
	assert_line --regexp '^ +caps +'
}

@test "gmvm run --help: status 0, documents every option" {
	run --separate-stderr gmvm run --help
	assert_success
	local opt
	for opt in --kernel --initrd --cmdline --cpus --memory --memory-backend \
		--console --boot-timer --verbose --quiet; do
		assert_output --partial -- "$opt"
	done
}

@test "gmvm --version: status 0, prints the version" {
	run --separate-stderr gmvm --version
	assert_success
	assert_output --regexp '^gmvm [0-9]+\.[0-9]+'
}

@test "the gmvm users run (scripts/build's) has no test hooks; the test build has" {
	run --separate-stderr "$GMVM" --version
	assert_success
	refute_output --partial 'test hooks'
	# A hook would make a thread break its filter: nothing happens here.
	GMVM_SECCOMP_TEST=vcpu run --separate-stderr gmvm run --kernel "$TESTGUEST" --cmdline hello
	assert_success
	require_file "$GMVM_HOOKED"
	run "$GMVM_HOOKED" --version
	assert_output --partial '(with test hooks)'
}

# options_of CMD: the long options `gmvm CMD --help` lists, one per line.
options_of() {
	"$GMVM" "$1" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u
}

@test "every option of run and restore's --help is in the man page and the README" {
	local src=$BATS_TEST_DIRNAME/../.. cmd opt missing=
	for cmd in run restore; do
		for opt in $(options_of "$cmd"); do
			grep -qF -- "${opt//-/\\-}" "$src/doc/gmvm.1" ||
				missing+=" man:$cmd:$opt"
			grep -qF -- "$opt" "$src/README.md" ||
				missing+=" README:$cmd:$opt"
		done
	done
	[ -z "$missing" ] || fail "not documented:$missing"
}
