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

# What new guests need, as this machine has it; missing, a warning that fails nothing.
if command -v swtpm >/dev/null && command -v swtpm_setup >/dev/null; then want_tpm=ok; else want_tpm=warning; fi
python3 "$here/check_json.py" "$work/report.json" "swtpm=$want_tpm" || fail "swtpm reported wrongly"
if [ -f /usr/share/osinfo/os/microsoft.com/win-11.xml ]; then want_db=ok; else want_db=warning; fi
python3 "$here/check_json.py" "$work/report.json" "osinfo_db=$want_db" || fail "osinfo-db reported wrongly"
# Debian's ovmf: the descriptor of its Secure Boot build with Microsoft's keys.
if [ -f /usr/share/qemu/firmware/40-edk2-x86_64-secure-enrolled.json ] && [ -f /usr/share/OVMF/OVMF_CODE_4M.ms.fd ]; then
    python3 "$here/check_json.py" "$work/report.json" "secure_boot=ok:OVMF_CODE_4M.ms.fd" ||
        fail "Debian's Secure Boot firmware with Microsoft's keys is not found"
fi
grep -q 'virtio-win drivers' "$work/report.txt" || fail "virtio-win is not reported"

ready=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); c={x["id"]:x["status"] for x in r["checks"]}; print("true" if c["libvirt"]=="ok" and c["qemu_dbus"]=="ok" else "false")' "$work/report.json")
python3 "$here/check_json.py" "$work/report.json" "ready=$ready" || fail "ready disagrees with libvirt and QEMU"
if [ "$ready" = true ]; then want=0; else want=1; fi
[ "$rc" -eq "$want" ] || fail "--check exited $rc, documented $want for ready=$ready"

# Wrong use is a usage error, not a report.
set +e
"$shell" --json >/dev/null 2>&1
[ $? -eq 2 ] || fail "--json without --check is not a usage error"
echo "ok: exit $rc, ready=$ready"
