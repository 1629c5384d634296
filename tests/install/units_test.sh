#!/bin/sh
# systemd-analyze verify accepts both units, with no complaint at all. verify insists that
# ExecStart= binaries exist, so the units are checked as copies pointing into the DESTDIR.
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || skip "systemd-analyze missing (apt install systemd)"
prefix=$1
install_tree
mkdir -p "$work/user" "$work/system" "$work/runtime"
chmod 700 "$work/runtime"
sed "s|$prefix/bin/|$dest$prefix/bin/|g" "$dest$prefix/lib/systemd/user/phyllome-shell.service" \
    >"$work/user/phyllome-shell.service"
sed "s|$prefix/bin/|$dest$prefix/bin/|g" "$dest$prefix/lib/systemd/system/phyllome-kiosk@.service" \
    >"$work/system/phyllome-kiosk@.service"

verify() {
    what=$1
    shift
    if ! out=$("$@" 2>&1); then
        case $out in
        *"Failed to initialize manager"* | *"Failed to lookup RuntimeDirectory"*)
            skip "systemd-analyze cannot run here ($what): $out" ;;
        esac
        fail "systemd-analyze verify $what: $out"
    fi
    [ -z "$out" ] || fail "systemd-analyze verify $what complains: $out"
    echo "ok: $what"
}

# The user unit as the user manager would load it (graphical-session.target is a user target).
verify "user unit" env XDG_RUNTIME_DIR="$work/runtime" \
    systemd-analyze --user verify --man=no "$work/user/phyllome-shell.service"
# The template, and an instance as `systemctl enable phyllome-kiosk@win11.service` makes.
verify "kiosk template" systemd-analyze verify --man=no "$work/system/phyllome-kiosk@.service"
verify "kiosk instance" env SYSTEMD_UNIT_PATH="$work/system:" \
    systemd-analyze verify --man=no phyllome-kiosk@win11.service

# The unit facts the brief asks for, which verify cannot judge.
u="$work/user/phyllome-shell.service"
for line in BindsTo=graphical-session.target Before=graphical-session.target PartOf=graphical-session.target Type=simple; do
    grep -qx "$line" "$u" || fail "user unit lacks $line"
done
k="$work/system/phyllome-kiosk@.service"
for line in PAMName=phyllome-kiosk TTYPath=/dev/tty1 StandardInput=tty-fail User=phyllome-kiosk \
    "ExecStart=$dest$prefix/bin/phyllome-shell --kiosk %I"; do
    grep -qx "$line" "$k" || fail "kiosk unit lacks $line"
done
grep -q 'pam_systemd.so' "$(find "$dest" -path '*/pam.d/phyllome-kiosk')" || fail "PAM file opens no logind session"
