#!/bin/bash
# Build (or find in the cache) every image of gmvm's Linux test guest.
#
# Usage: images/build-all.sh [--cached-only]
# Prints on stdout, ready for `eval`:
#   GMVM_VMLINUX=...  GMVM_BZIMAGE=...  GMVM_INITRAMFS=...  GMVM_ROOTFS=...
# With --cached-only nothing is built or installed, and the exit status is 3
# when any image is missing.

set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
case "${1:-}" in
'' | --cached-only) ;;
*) echo "usage: $0 [--cached-only]" >&2; exit 2 ;;
esac

"$here/build-initramfs.sh" "$@"
"$here/build-rootfs.sh" "$@"
"$here/build-linux.sh" "$@"
