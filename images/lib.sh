# shellcheck shell=bash
# Helpers shared by images/build-*.sh (sourced, not run).
#
# Every image is stored in a cache directory outside the source tree,
#   ${GMVM_IMAGE_CACHE:-/var/cache/gmvm-images}/<kind>/<key>/
# where <key> is a hash of everything the image is built from (the build
# script, this file, its own inputs, the versions of the Debian packages it
# is made of). A directory appears there complete or not at all (it is
# built beside and renamed into place), so a key that exists is a finished
# build. <kind>/current points at the key used last.

set -euo pipefail

GMVM_IMAGES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GMVM_IMAGE_CACHE=${GMVM_IMAGE_CACHE:-/var/cache/gmvm-images}

img_log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

# img_parse_args "$@": a build script's arguments, nothing or
# --cached-only (never build; exit 3 when the image is not cached), into
# cached_only; anything else is a usage error (exit 2).
# shellcheck disable=SC2034 # cached_only is read by the build scripts
img_parse_args() {
	cached_only=false
	case "${1:-}" in
	'') ;;
	--cached-only) cached_only=true ;;
	*) echo "usage: $0 [--cached-only]" >&2; exit 2 ;;
	esac
}
img_die() { img_log "error: $*"; exit 1; }

# Run a command as root (directly, or through sudo).
img_as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		img_die "need root (or sudo) to run: $*"
	fi
}

# img_need_packages PKG...: install, with apt-get, the packages that are not
# installed yet; does nothing (and needs no network) when all are there.
img_need_packages() {
	local missing=() p
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$'; then
			missing+=("$p")
		fi
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	img_log "installing ${missing[*]}"
	img_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
	img_as_root env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

# img_pkg_version PKG: the installed version of a Debian package.
img_pkg_version() {
	dpkg-query -W -f='${Version}' "$1"
}

# img_key LINE...: a short hash of the given lines (input descriptions).
# Callers pass "file NAME HASH" lines (img_file_line) and "pkg NAME VERSION"
# lines, so the key changes when, and only when, an input does.
img_key() {
	printf '%s\n' "$@" | sha256sum | cut -c1-16
}

# img_file_line PATH: "file <path relative to images/> <sha256>".
img_file_line() {
	local rel=${1#"$GMVM_IMAGES_DIR"/}
	printf 'file %s %s' "$rel" "$(sha256sum <"$1" | cut -d' ' -f1)"
}

# img_lock KIND: take an exclusive lock for building KIND (held until the
# script exits), so that concurrent runs wait for each other instead of
# building the same thing twice.
img_lock() {
	mkdir -p "$GMVM_IMAGE_CACHE/$1"
	exec 9>"$GMVM_IMAGE_CACHE/$1/.lock"
	if ! flock -n 9; then
		img_log "waiting for another build of $1"
		flock 9
	fi
}

# img_publish KIND KEY TMPDIR: move a finished build into place as
# KIND/KEY and point KIND/current at it.
img_publish() {
	local dir=$GMVM_IMAGE_CACHE/$1
	rm -rf "${dir:?}/$2"
	mv "$3" "$dir/$2"
	ln -sfn "$2" "$dir/current.tmp"
	mv -T "$dir/current.tmp" "$dir/current"
}

# img_use KIND KEY: point KIND/current at an existing build.
img_use() {
	local dir=$GMVM_IMAGE_CACHE/$1
	if [ "$(readlink "$dir/current" 2>/dev/null)" != "$2" ]; then
		ln -sfn "$2" "$dir/current.tmp"
		mv -T "$dir/current.tmp" "$dir/current"
	fi
}
