#!/bin/sh
# `phyllome-shell --check` on this very machine: the render node is reported as it is (this
# container has no /dev/dri), and the exit status follows the documented rule: 0 exactly when
# libvirt answers and QEMU has its D-Bus display.
. "$(dirname "$0")/lib.sh"
shell=$1
here=$(dirname "$0")
export XDG_STATE_HOME="$work/state" XDG_CONFIG_HOME="$work/config"

set +e
"$shell" --check --json >"$work/report.json" 2>"$work/stderr"
rc=$?
"$shell" --check >"$work/report.txt" 2>/dev/null
rc_text=$?
set -e
[ "$rc" -eq "$rc_text" ] || fail "--check exits $rc_text, --check --json $rc"
cat "$work/report.txt"

if ls /dev/dri/renderD* >/dev/null 2>&1; then
    python3 "$here/check_json.py" "$work/report.json" render_node=ok || fail "render node present but not reported"
else
    python3 "$here/check_json.py" "$work/report.json" "render_node=missing:/dev/dri" "virgl=missing:no DRM render node" ||
        fail "the missing render node is not reported"
    grep -q '3D ✗ (no render node)' "$work/report.txt" || fail "the summary does not say 3D is missing"
fi

ready=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); c={x["id"]:x["status"] for x in r["checks"]}; print("true" if c["libvirt"]=="ok" and c["qemu_dbus"]=="ok" else "false")' "$work/report.json")
python3 "$here/check_json.py" "$work/report.json" "ready=$ready" || fail "ready disagrees with libvirt and QEMU"
if [ "$ready" = true ]; then want=0; else want=1; fi
[ "$rc" -eq "$want" ] || fail "--check exited $rc, documented $want for ready=$ready"

# Wrong use is a usage error, not a report.
set +e
"$shell" --json >/dev/null 2>&1
[ $? -eq 2 ] || fail "--json without --check is not a usage error"
echo "ok: exit $rc, ready=$ready"
