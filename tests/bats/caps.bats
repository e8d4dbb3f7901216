#!/usr/bin/env bats
# gmvm caps: what the host offers, as text and as JSON.

load helpers

setup() {
	require_kvm
}

@test "caps: names KVM's API version, each backend and the default backend" {
	run --separate-stderr gmvm caps
	assert_success
	assert_line --regexp '^KVM: /dev/kvm, API version 12,'
	assert_line --regexp '^gmem '
	assert_line --regexp '^memfd '
	assert_line --regexp '^anon '
	assert_line --regexp '^default backend: (gmem|memfd) \(this host (offers|does not offer) guest_memfd.*\)$'
}

@test "caps: each backend gets a restore strategy, or says why it is unavailable" {
	run gmvm caps
	assert_success
	local backend
	for backend in gmem memfd anon; do
		if offers "$backend" boot; then
			assert_line --regexp "^$backend .*restore: (eager|lazy-missing|lazy-minor)( \\(file with no --memory-backend\\))?\$"
		else
			assert_line --regexp "^$backend +unavailable: .+"
		fi
	done
}

@test "caps: the table of what each backend offers agrees with --json" {
	run gmvm caps
	assert_success
	local backend row want what
	for backend in gmem memfd anon; do
		want="$backend"
		for what in boot lazy-load eager lazy-missing lazy-minor; do
			offers "$backend" "$what" && want+=" yes" || want+=" no"
		done
		row=$(grep -E "^$backend +(yes|no) " <<<"$output" | tr -s ' ') ||
			fail "no row for $backend in: $output"
		assert_equal "$row" "$want"
	done
}

@test "caps: this host offers gmem, so it is the default backend" {
	require_offer gmem boot
	run gmvm caps
	assert_success
	assert_line 'default backend: gmem (this host offers guest_memfd)'
}

@test "caps: without guest_memfd the default is memfd, and caps says why" {
	offers gmem boot && skip "this host offers guest_memfd (the shim-hidden case is in host.bats)"
	run gmvm caps
	assert_success
	assert_line --regexp '^default backend: memfd \(this host does not offer guest_memfd: .+\)$'
	run gmvm caps --json
	[[ "$(jq -r .default_backend_reason <<<"$output")" == "this host does not offer guest_memfd: "* ]] ||
		fail "no default_backend_reason: $output"
}

@test "caps --json: valid JSON with the documented fields" {
	run --separate-stderr gmvm caps --json
	assert_success
	jq -e . <<<"$output" >/dev/null || fail "not valid JSON: $output"
	assert_equal "$(jq -r '.kvm.api_version' <<<"$output")" 12
	assert_equal "$(jq -r '.kvm.available' <<<"$output")" true
	assert_equal "$(jq -r '.backends.gmem.usable | type' <<<"$output")" boolean
	assert_equal "$(jq -r '.backends.memfd.usable' <<<"$output")" true
	assert_equal "$(jq -r '.backends.anon.usable' <<<"$output")" true
	assert_equal "$(jq -r '.backends.memfd.restore | type' <<<"$output")" string
	jq -e '.default_backend | IN("gmem", "memfd", "anon")' <<<"$output" >/dev/null ||
		fail "bad default_backend: $(jq -c .default_backend <<<"$output")"
}

@test "caps --json: agrees with the text output on the default backend" {
	run gmvm caps --json
	assert_success
	local json_default
	json_default=$(jq -r .default_backend <<<"$output")
	run gmvm caps
	assert_success
	assert_line --regexp "^default backend: $json_default \\("
}

@test "caps --json: each backend's restore strategy matches the text output" {
	run gmvm caps --json
	assert_success
	local json=$output backend restore
	run gmvm caps
	assert_success
	for backend in gmem memfd anon; do
		restore=$(jq -r ".backends.$backend.restore" <<<"$json")
		if [ "$restore" = unavailable ]; then
			assert_line --regexp "^$backend +unavailable: "
		else
			assert_line --regexp "^$backend .*restore: $restore( \\(file with no --memory-backend\\))?\$"
		fi
	done
}

@test "caps: an unknown option is bad usage (status 2)" {
	run --separate-stderr gmvm caps --bogus
	assert_failure 2
	[[ "$stderr" == *"gmvm: error: "*"'--bogus'"* ]] || fail "stderr does not name the option: $stderr"
}

@test "caps: dirty page tracking per backend, KVM's dirty log where a memory slot can have it, agreeing with --json" {
	run gmvm caps --json
	assert_success
	local json=$output backend want
	run gmvm caps
	assert_success
	assert_line 'dirty page tracking (gmvm fuzz resets only what a run wrote):'
	for backend in gmem memfd anon; do
		want=$(jq -r ".backends.$backend.dirty_tracking" <<<"$json")
		[[ "$want" =~ ^(kvm-dirty-log|uffd-wp-async|none)$ ]] ||
			fail "$backend: dirty_tracking '$want'"
		if offers "$backend" boot; then
			assert_line --regexp "^$backend +$want +\(kvm-dirty-log: .+; uffd-wp-async: .+\)\$"
		else
			assert_equal "$want" none
			assert_line --regexp "^$backend +none \(backend unavailable\)\$"
		fi
	done
	# memfd and anonymous memory are ordinary memory slots: KVM logs them.
	for backend in memfd anon; do
		assert_equal "$(jq -r ".backends.$backend.dirty_tracking" <<<"$json")" kvm-dirty-log
	done
	# gmvm fuzz's pick: memfd memory, and its tracking.
	assert_equal "$(jq -r .fuzz.backend <<<"$json")" memfd
	assert_equal "$(jq -r .fuzz.dirty_tracking <<<"$json")" \
		"$(jq -r .backends.memfd.dirty_tracking <<<"$json")"
	assert_line "gmvm fuzz: memfd memory, $(jq -r .fuzz.dirty_tracking <<<"$json")"
	# Every way offered is one the backend's pick can be.
	for backend in memfd anon; do
		jq -e --arg b "$backend" '.backends[$b].dirty_tracking as $t
			| .backends[$b].dirty_tracking_offered | index($t)' <<<"$json" >/dev/null ||
			fail "$backend: its dirty_tracking is not among those offered"
	done
}
