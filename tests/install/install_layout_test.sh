#!/bin/sh
# `meson install` lays out exactly the session's files: a file more or less fails.
# Args: PREFIX SYSCONFDIR (both absolute, from meson).
. "$(dirname "$0")/lib.sh"
prefix=$1
sysconfdir=$2
install_tree

cat >"$work/expected" <<EOT
$prefix/bin/phyllome-session
$prefix/bin/phyllome-shell
$prefix/bin/phyllomectl
$prefix/libexec/phyllome-libvirt-agent
$prefix/lib/systemd/system/phyllome-kiosk@.service
$prefix/lib/systemd/user/phyllome-shell.service
$prefix/share/doc/phyllome-shell/examples/greetd-config.toml
$prefix/share/doc/phyllome-shell/examples/shell.toml
$prefix/share/man/man1/phyllome-shell.1
$prefix/share/man/man1/phyllomectl.1
$prefix/share/man/man5/phyllome-shell.5
$prefix/share/wayland-sessions/phyllome.desktop
$sysconfdir/pam.d/phyllome-kiosk
EOT
sort -o "$work/expected" "$work/expected"
(cd "$dest" && find . -type f -o -type l) | sed 's|^\.||' | sort >"$work/actual"
diff -u "$work/expected" "$work/actual" || fail "installed files differ from the expected list (- expected, + installed)"

for exe in phyllome-session phyllome-shell phyllomectl; do
    [ -x "$dest$prefix/bin/$exe" ] || fail "$exe is not executable"
done
[ -x "$dest$prefix/libexec/phyllome-libvirt-agent" ] || fail "the libvirt agent is not executable"
# The launcher is POSIX sh: dash must parse it, and it must exec the installed shell.
sh -n "$dest$prefix/bin/phyllome-session" || fail "phyllome-session does not parse"
grep -q "^SHELL_BIN='$prefix/bin/phyllome-shell'" "$dest$prefix/bin/phyllome-session" ||
    fail "phyllome-session does not run $prefix/bin/phyllome-shell"
grep -q "^Exec=$prefix/bin/phyllome-session$" "$dest$prefix/share/wayland-sessions/phyllome.desktop" ||
    fail "the desktop entry does not Exec the launcher"
grep -rIq "@[A-Z_][A-Z_]*@" "$dest" && fail "an unsubstituted @VAR@ is left in an installed file"
echo "ok: $(wc -l <"$work/actual") files, exactly as expected"
