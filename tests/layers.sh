#!/bin/sh
# Folders are layers, and a layer only looks down: every #include "X.h" of a
# file in one of them must name a header of its own folder or of a folder
# listed before it. One line per include that looks up; status 1 if any.
#
#   lib      helpers that know nothing of VMs
#   memory   guest RAM, userfaultfd, the memory file
#   boot     kernel images, boot structures, ACPI tables
#   devices  the devices, their buses, virtio
#   vmm      the VM core
#   cmd      the command-line programs
#
# TAP output, one test per folder, for make check.
set -u
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
layers="lib memory boot devices vmm cmd"

rank() {
	i=0
	for l in $layers; do
		[ "$l" = "$1" ] && { echo $i; return; }
		i=$((i + 1))
	done
	echo -1
}

# Which layer holds the header named $1 (none: a generated or system one).
home_of() {
	for l in $layers; do
		[ -f "$top/$l/$1" ] && { echo "$l"; return; }
	done
}

n=0 failed=0
echo "1..$(echo $layers | wc -w)"
for layer in $layers; do
	n=$((n + 1))
	own=$(rank "$layer")
	bad=
	for f in "$top/$layer"/*.[ch]; do
		for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
			home=$(home_of "$h")
			[ -n "$home" ] || continue
			if [ "$(rank "$home")" -gt "$own" ]; then
				bad="$bad
# $layer/${f##*/} includes $home/$h: $layer/ must not look up at $home/"
			fi
		done
	done
	if [ -n "$bad" ]; then
		echo "not ok $n - $layer/ includes only its own and lower layers' headers$bad"
		failed=1
	else
		echo "ok $n - $layer/ includes only its own and lower layers' headers"
	fi
done
exit $failed
