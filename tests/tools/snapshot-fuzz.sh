#!/bin/bash
# snapshot-fuzz.sh GMVM MUTATE SNAPSHOT COUNT [FIRST_SEED]
#
# Restore COUNT copies of SNAPSHOT, each damaged by MUTATE (snapshot_mutate)
# with its own seed, and check that gmvm handles every one cleanly:
#   - it exits by itself (no signal, no sanitizer report), with 0 (the damage
#     was harmless, e.g. another register value) or an error status and a
#     "gmvm:" message saying what was wrong, or
#   - it is still running a (confused) guest after the time limit, and stops
#     cleanly when asked to (SIGTERM).
# Restores alternate between lazy (memfd, uffd) and eager (gmem where the
# host has it). Prints one line per unclean case, a summary, and exits 1
# if there was any. Replay one case: snapshot_mutate SNAPSHOT OUT SEED.
set -u

gmvm=$1 mutate=$2 snap=$3 count=$4 seed=${5:-1}
work=$(mktemp -d "${TMPDIR:-/tmp}/gmvm-snapfuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
limit=${SNAPSHOT_FUZZ_TIMEOUT:-5}

clean=0 accepted=0 refused=0 hung=0 bad=0
declare -A kinds

for ((i = 0; i < count; i++, seed++)); do
	dir=$work/s
	rm -rf "$dir"
	what=$("$mutate" "$snap" "$dir" "$seed") || {
		echo "seed $seed: snapshot_mutate failed" >&2
		exit 1
	}
	if ((seed % 2)); then
		mode=(--restore lazy --memory-backend memfd)
	else
		mode=(--restore eager)
	fi
	status=0
	timeout -k 5 "$limit" "$gmvm" restore --snapshot "$dir" "${mode[@]}" --recorded-resources \
		--console none >/dev/null 2>"$work/err" || status=$?
	verdict=
	if grep -qE 'Sanitizer|runtime error:' "$work/err"; then
		verdict="sanitizer report"
	elif ((status == 124)); then
		hung=$((hung + 1))	# the guest spins; SIGTERM stopped gmvm
	elif ((status == 137)); then
		verdict="did not stop on SIGTERM"
	elif ((status >= 128)); then
		verdict="killed by signal $((status - 128))"
	elif ((status == 0)); then
		accepted=$((accepted + 1))
	elif grep -q '^gmvm: ' "$work/err"; then
		refused=$((refused + 1))
		msg=$(grep -m1 '^gmvm: ' "$work/err" | sed -E "s|$work/s|SNAP|g; s/\b(0x[0-9a-f]+|[0-9]+)\b/N/g" | cut -c1-90)
		kinds[$msg]=$((${kinds[$msg]:-0} + 1))
	else
		verdict="status $status without a message"
	fi
	if [ -n "$verdict" ]; then
		bad=$((bad + 1))
		printf 'seed %d (%s): %s: %s\n  %s\n' "$seed" "${mode[*]}" \
			"$verdict" "$what" "$(head -c 2000 "$work/err")"
	else
		clean=$((clean + 1))
	fi
done

echo "snapshot-fuzz: $count damaged snapshots: $clean clean ($refused refused," \
	"$accepted restored, $hung left running), $bad not clean"
if [ -n "${SNAPSHOT_FUZZ_VERBOSE:-}" ]; then
	for k in "${!kinds[@]}"; do
		printf '%6d %s\n' "${kinds[$k]}" "$k"
	done | sort -rn
fi
((bad == 0))
