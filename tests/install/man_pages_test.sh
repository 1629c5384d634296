#!/bin/sh
# The man pages render without a single groff warning, and man -l can show them.
. "$(dirname "$0")/lib.sh"
command -v groff >/dev/null || skip "groff missing (apt install groff-base)"
install_tree
pages=$(find "$dest" -path '*/share/man/man*' -type f | sort)
[ "$(echo "$pages" | wc -l)" -eq 3 ] || fail "expected 3 man pages, found: $pages"
for page in $pages; do
    warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1) || fail "groff failed on $page: $warnings"
    [ -z "$warnings" ] || fail "groff warns about $page: $warnings"
    text=$(groff -man -Tutf8 -P-c -P-b -P-u "$page" 2>/dev/null)
    echo "$text" | grep -q "NAME" || fail "$page renders without a NAME section"
    if command -v man >/dev/null; then
        MANPAGER=cat MANWIDTH=80 man -l "$page" >"$work/man.out" 2>"$work/man.err" || fail "man -l $page: $(cat "$work/man.err")"
        [ -s "$work/man.out" ] || fail "man -l $page printed nothing"
    fi
    echo "ok: $page"
done
# Every config key of the example config is documented in phyllome-shell(5).
five=$(echo "$pages" | grep 'man5/phyllome-shell.5')
keys=$(sed -n 's/^#\([a-z_]*\) = .*/\1/p' "$PHYLLOME_SOURCE_ROOT/config/shell.toml" | sort -u)
for key in $keys; do
    grep -Eq "^\.BR? $key( |$)" "$five" || fail "phyllome-shell(5) does not document the key $key"
done
echo "ok: all $(echo "$keys" | wc -l) config keys documented"
