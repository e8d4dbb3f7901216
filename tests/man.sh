#!/bin/sh
# The man page's device options come from the devices themselves
# (device_option.man): doc/gmvm.1 must be what doc/mkman makes of
# doc/gmvm.1.in now. TAP; `make man` writes it again.
set -u
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
mkman=${MKMAN:-doc/mkman}
echo "1..1"
if "$mkman" "$top/doc/gmvm.1.in" | cmp -s - "$top/doc/gmvm.1"; then
	echo "ok 1 - doc/gmvm.1 is doc/gmvm.1.in with the devices' man entries"
else
	echo "not ok 1 - doc/gmvm.1 is stale: run make man"
	"$mkman" "$top/doc/gmvm.1.in" | diff "$top/doc/gmvm.1" - | sed 's/^/# /' | head -20
	exit 1
fi
