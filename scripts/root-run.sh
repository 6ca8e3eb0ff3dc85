#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run a command inside a build root (scripts/build-root.sh) with chroot: the
# repository and $OUT are bind-mounted at their own paths, with the host's
# /dev and a /proc; everything is unmounted on exit.
#   scripts/root-run.sh <root> <command>...
set -euo pipefail
root=${1:?usage: root-run.sh <root> <command>...}
shift
top=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$top/out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
[ -e "$root/.complete" ] || { echo "root-run.sh: $root is not a complete build root" >&2; exit 1; }
mounted=()
undo() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}"; done
}
trap undo EXIT
bind() {
	mkdir -p "$root$1"
	mount --bind "$1" "$root$1"
	mounted+=("$root$1")
}
bind /dev
mount -t proc proc "$root/proc"
mounted+=("$root/proc")
bind "$top"
[ "${OUT#"$top"/}" != "$OUT" ] || bind "$OUT"
chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C OUT="$OUT" "$@"
