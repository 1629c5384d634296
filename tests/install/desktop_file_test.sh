#!/bin/sh
# The session entry display managers list must validate.
. "$(dirname "$0")/lib.sh"
command -v desktop-file-validate >/dev/null || skip "desktop-file-validate missing (apt install desktop-file-utils)"
install_tree
file=$(find "$dest" -path '*/share/wayland-sessions/phyllome.desktop')
[ -n "$file" ] || fail "phyllome.desktop not installed"
out=$(desktop-file-validate "$file" 2>&1) || fail "desktop-file-validate: $out"
[ -z "$out" ] || fail "desktop-file-validate complains: $out"
echo "ok: $file validates"
