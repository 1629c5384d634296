#!/bin/sh
# phyllome-session with a stand-in shell and stand-in systemctl / dbus-update-activation-environment:
# it sets the desktop names, imports WAYLAND_DISPLAY (learnt from the shell's control socket)
# into both, removes it again afterwards, and passes the shell's exit status on.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 missing"
prefix=$1
install_tree
mkdir -p "$work/bin" "$work/runtime"
chmod 700 "$work/runtime"
log="$work/calls.log"
: >"$log"

# A socket of another session already there must not be taken for ours.
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$work/runtime/phyllome-shell.wayland-0.sock"

cat >"$work/bin/systemctl" <<EOT
#!/bin/sh
echo "systemctl \$* WAYLAND_DISPLAY=\${WAYLAND_DISPLAY:-} XDG_CURRENT_DESKTOP=\${XDG_CURRENT_DESKTOP:-}" >>"$log"
EOT
cat >"$work/bin/dbus-update-activation-environment" <<EOT
#!/bin/sh
echo "dbus-update-activation-environment \$* WAYLAND_DISPLAY=\${WAYLAND_DISPLAY:-}" >>"$log"
EOT
# The stand-in shell: opens its control socket like the real one, waits to be imported, exits 3.
cat >"$work/bin/fake-shell" <<EOT
#!/bin/sh
echo "shell \$* XDG_CURRENT_DESKTOP=\$XDG_CURRENT_DESKTOP XDG_SESSION_TYPE=\$XDG_SESSION_TYPE" >>"$log"
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "\$XDG_RUNTIME_DIR/phyllome-shell.wayland-7.sock"
for i in \$(seq 50); do grep -q 'import-environment WAYLAND_DISPLAY' "$log" && exit 3; sleep 0.1; done
exit 4
EOT
chmod +x "$work/bin/"*
sed "s|^SHELL_BIN=.*|SHELL_BIN='$work/bin/fake-shell'|" "$dest$prefix/bin/phyllome-session" >"$work/launcher"

set +e
env -u WAYLAND_DISPLAY PATH="$work/bin:$PATH" XDG_RUNTIME_DIR="$work/runtime" DBUS_SESSION_BUS_ADDRESS=unix:path=/dev/null \
    sh "$work/launcher" --debug
rc=$?
set -e
cat "$log"
[ "$rc" -eq 3 ] || fail "the launcher exited $rc, the shell 3"
grep -q '^shell --debug XDG_CURRENT_DESKTOP=Phyllome XDG_SESSION_TYPE=wayland$' "$log" ||
    fail "the shell did not get its arguments and the session environment"
grep -q '^systemctl --user import-environment WAYLAND_DISPLAY PHYLLOME_SOCKET .* WAYLAND_DISPLAY=wayland-7 ' "$log" ||
    fail "WAYLAND_DISPLAY=wayland-7 was not imported into the systemd user manager"
grep -q '^dbus-update-activation-environment --systemd WAYLAND_DISPLAY PHYLLOME_SOCKET .* WAYLAND_DISPLAY=wayland-7$' "$log" ||
    fail "WAYLAND_DISPLAY was not imported into the D-Bus activation environment"
grep -q '^systemctl --user unset-environment WAYLAND_DISPLAY PHYLLOME_SOCKET' "$log" ||
    fail "WAYLAND_DISPLAY was not removed from the user manager after the session"
echo "ok: imports and exit status"
