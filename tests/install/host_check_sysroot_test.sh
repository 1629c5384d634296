#!/bin/sh
# `phyllome-shell --check --sysroot DIR` against fake /dev, /sys and /usr trees: every case is
# reported, and the exit status follows libvirt and QEMU alone.
. "$(dirname "$0")/lib.sh"
shell=$1
here=$(dirname "$0")
export XDG_STATE_HOME="$work/state" XDG_CONFIG_HOME="$work/config"
unreachable='qemu+unix:///system?socket=/nonexistent/libvirt-sock'

# check NAME ROOT URI WANT_RC ASSERTIONS...
check() {
    name=$1 root=$2 uri=$3 want=$4
    shift 4
    set +e
    "$shell" --check --json --sysroot "$root" --libvirt-uri "$uri" >"$work/$name.json" 2>"$work/$name.err"
    rc=$?
    set -e
    [ "$rc" -eq "$want" ] || { cat "$work/$name.json" "$work/$name.err" >&2; fail "$name: exit $rc, expected $want"; }
    python3 "$here/check_json.py" "$work/$name.json" "$@" || { cat "$work/$name.json" >&2; fail "$name"; }
    echo "ok: $name"
}

# Nothing at all: no KVM, no IOMMU groups, no render node, no QEMU.
empty="$work/empty"
mkdir -p "$empty/sys/kernel/iommu_groups"
check empty "$empty" test:///default 1 \
    "kvm=missing:/dev/kvm does not exist" "kvm_usable=missing" "nested=warning:neither" \
    "iommu=warning:no IOMMU groups" "render_node=missing:does not exist" "virgl=missing:no DRM render node" \
    "libvirt=ok:test:///default" "qemu_dbus=missing:cannot run" \
    "osinfo_db=warning:no operating systems" "swtpm=warning:no swtpm" \
    "secure_boot=warning:no x86_64 UEFI firmware" "virtio_win=warning:no virtio-win" ready=false

# A fuller host: /dev/kvm (a plain file here), nesting on, 2 IOMMU groups, QEMU's module,
# /dev/dri without a render node. libvirt answers, so guests can run: exit 0.
full="$work/full"
mkdir -p "$full/dev/dri" "$full/sys/kernel/iommu_groups/0" "$full/sys/kernel/iommu_groups/1" \
    "$full/sys/class/iommu/dmar0" "$full/sys/module/kvm_intel/parameters" "$full/usr/lib/x86_64-linux-gnu/qemu"
: >"$full/dev/kvm"
echo Y >"$full/sys/module/kvm_intel/parameters/nested"
: >"$full/usr/lib/x86_64-linux-gnu/qemu/ui-dbus.so"
: >"$full/dev/dri/card0"
check full "$full" test:///default 0 \
    "kvm=ok" "kvm_usable=warning:not a character device" "nested=ok:kvm_intel nested=Y" \
    "iommu=ok:2 IOMMU groups (dmar0)" "render_node=missing:no renderD" "virgl=missing:no DRM render node" \
    "qemu_dbus=ok:ui-dbus.so" ready=true

# The same host with libvirt unreachable: guests cannot run, whatever else is there.
check unreachable "$full" "$unreachable" 1 "libvirt=missing:cannot connect" ready=false

# A render node that is not a device: found, but virglrenderer is not tried on it.
: >"$full/dev/dri/renderD128"
echo 0 >"$full/sys/module/kvm_intel/parameters/nested"
check render "$full" test:///default 0 \
    "render_node=ok:/dev/dri/renderD128" "virgl=missing:not a device" "nested=warning:nested=0"

# A character device that is no GPU (/dev/null): the child loads virglrenderer, whose
# initialisation fails, and that failure is the reason given.
rm "$full/dev/dri/renderD128"
ln -s /dev/null "$full/dev/dri/renderD128"
check not-a-gpu "$full" test:///default 0 "render_node=ok:/dev/dri/renderD128" "virgl=missing:virgl_renderer_init failed"
rm "$full/dev/dri/renderD128"
: >"$full/dev/dri/renderD128"

# QEMU with the D-Bus display built in (no module): only `-display help` says so.
builtin="$work/builtin"
mkdir -p "$builtin/usr/bin"
printf '#!/bin/sh\nprintf "Available display backend types:\\nnone\\ngtk\\ndbus\\n"\n' >"$builtin/usr/bin/qemu-system-x86_64"
chmod +x "$builtin/usr/bin/qemu-system-x86_64"
check builtin "$builtin" test:///default 0 "qemu_dbus=ok:lists dbus" "iommu=warning" ready=true
printf '#!/bin/sh\nprintf "Available display backend types:\\nnone\\ngtk\\n"\n' >"$builtin/usr/bin/qemu-system-x86_64"
check no-dbus "$builtin" test:///default 1 "qemu_dbus=missing:does not list dbus" ready=false
# Debian 13's QEMU without its module package: the fix names that package.
grep -q 'qemu-system-modules-opengl' "$work/no-dbus.json" || { cat "$work/no-dbus.json" >&2; fail "no-dbus: the fix does not name qemu-system-modules-opengl"; }

# The text report carries the one-line summary the overlay shows.
"$shell" --check --sysroot "$full" --libvirt-uri test:///default >"$work/full.txt" 2>/dev/null ||
    fail "text report exit status differs from the JSON one"
grep -qx 'Host ready: libvirt ✓, QEMU D-Bus ✓, KVM ✗ (not a device), IOMMU ✓, 3D ✗ (not a device)' "$work/full.txt" ||
    { cat "$work/full.txt" >&2; fail "summary line"; }
echo "ok: summary line"

# What new guests' machine models need: osinfo-db, swtpm, OVMF's Secure Boot build with
# Microsoft's keys (a QEMU firmware descriptor naming it), virtio-win. Missing, each is a warning
# that names the package; guests still run, so the exit status stays 0.
models="$work/models"
mkdir -p "$models/usr/lib/x86_64-linux-gnu/qemu" "$models/usr/bin" "$models/usr/share/qemu/firmware" \
    "$models/usr/share/OVMF" "$models/usr/share/virtio-win"
: >"$models/usr/lib/x86_64-linux-gnu/qemu/ui-dbus.so"
check no-models "$models" test:///default 0 "osinfo_db=warning:no operating systems" "swtpm=warning:no swtpm" \
    "secure_boot=warning:Windows 11 guests cannot be created" "virtio_win=warning:SATA disk and e1000e" ready=true
for f in osinfo_db swtpm secure_boot virtio_win; do
    python3 -c 'import json,sys; c={x["id"]:x for x in json.load(open(sys.argv[1]))["checks"]}; sys.exit(0 if sys.argv[2] in c[sys.argv[3]]["action"] else 1)' \
        "$work/no-models.json" "$(case $f in osinfo_db) echo osinfo-db;; swtpm) echo swtpm-tools;; secure_boot) echo ovmf;; virtio_win) echo virtio-win;; esac)" "$f" ||
        { cat "$work/no-models.json" >&2; fail "no-models: $f does not name its package"; }
done

mkdir -p "$models/usr/share/osinfo/os/microsoft.com" "$models/usr/share/osinfo/os/debian.org"
echo 20250619 >"$models/usr/share/osinfo/VERSION"
: >"$models/usr/share/osinfo/os/debian.org/debian-13.xml"
check old-osinfo "$models" test:///default 0 "osinfo_db=warning:20250619 in" "osinfo_db=warning:no readable Windows 11 entry"
cat >"$models/usr/share/osinfo/os/microsoft.com/win-11.xml" <<'XML'
<libosinfo version="0">
  <os id="http://microsoft.com/win/11">
    <short-id>win11</short-id>
  </os>
</libosinfo>
XML
printf '#!/bin/sh\nexit 0\n' >"$models/usr/bin/swtpm"
chmod +x "$models/usr/bin/swtpm"
: >"$models/usr/share/OVMF/OVMF_CODE_4M.ms.fd"
: >"$models/usr/share/OVMF/OVMF_CODE_4M.secboot.fd"
# Debian's descriptors: Secure Boot with Microsoft's keys, and without them.
cat >"$models/usr/share/qemu/firmware/40-edk2-x86_64-secure-enrolled.json" <<'JSON'
{
    "description": "UEFI firmware for x86_64, with Secure Boot, required SMM, SB enabled, MS certs enrolled",
    "interface-types": [ "uefi" ],
    "mapping": {
        "device": "flash",
        "executable": { "filename": "/usr/share/OVMF/OVMF_CODE_4M.ms.fd", "format": "raw" },
        "nvram-template": { "filename": "/usr/share/OVMF/OVMF_VARS_4M.ms.fd", "format": "raw" }
    },
    "targets": [ { "architecture": "x86_64", "machines": [ "pc-q35-*" ] } ],
    "features": [ "acpi-s3", "amd-sev", "enrolled-keys", "requires-smm", "secure-boot", "verbose-dynamic" ],
    "tags": [ ]
}
JSON
sed -e 's/, SB enabled, MS certs enrolled//' -e 's/OVMF_CODE_4M.ms.fd/OVMF_CODE_4M.secboot.fd/' -e 's/"enrolled-keys", //' \
    "$models/usr/share/qemu/firmware/40-edk2-x86_64-secure-enrolled.json" >"$models/usr/share/qemu/firmware/50-edk2-x86_64-secure.json"
check no-swtpm-setup "$models" test:///default 0 "osinfo_db=ok:20250619" "swtpm=warning:no swtpm_setup" \
    "secure_boot=ok:OVMF_CODE_4M.ms.fd (40-edk2-x86_64-secure-enrolled.json) has Microsoft's keys" ready=true

printf '#!/bin/sh\nexit 0\n' >"$models/usr/bin/swtpm_setup"
chmod +x "$models/usr/bin/swtpm_setup"
: >"$models/usr/share/virtio-win/virtio-win-0.1.266.iso"
check models "$models" test:///default 0 "osinfo_db=ok:Windows 11 known" "swtpm=ok:/usr/bin/swtpm_setup" \
    "secure_boot=ok:has Microsoft's keys" "virtio_win=ok:virtio-win-0.1.266.iso" ready=true

# The enrolled build's image is gone (its descriptor outlived it): only Secure Boot without keys.
rm "$models/usr/share/OVMF/OVMF_CODE_4M.ms.fd"
check no-enrolled-image "$models" test:///default 0 "secure_boot=warning:none with Microsoft's keys enrolled"
: >"$models/usr/share/OVMF/OVMF_CODE_4M.ms.fd"
# An administrator's empty file of the same name in /etc hides the enrolled build from libvirt.
mkdir -p "$models/etc/qemu/firmware"
: >"$models/etc/qemu/firmware/40-edk2-x86_64-secure-enrolled.json"
check hidden-enrolled "$models" test:///default 0 "secure_boot=warning:none with Microsoft's keys enrolled"
rm "$models/etc/qemu/firmware/40-edk2-x86_64-secure-enrolled.json"
# A descriptor that is no JSON is skipped, as libvirt skips it.
echo '{ "interface-types": [ "uefi" ' >"$models/usr/share/qemu/firmware/30-broken.json"
check broken-descriptor "$models" test:///default 0 "secure_boot=ok:has Microsoft's keys"

# Without swtpm the report says what Windows 11 lacks, and the text report carries the fix.
rm "$models/usr/bin/swtpm"
"$shell" --check --sysroot "$models" --libvirt-uri test:///default >"$work/models.txt" 2>/dev/null ||
    { cat "$work/models.txt" >&2; fail "missing swtpm failed the whole check"; }
grep -q 'warning  TPM emulator (swtpm) .*Windows 11 guests cannot be created' "$work/models.txt" &&
    grep -q 'install swtpm and swtpm-tools' "$work/models.txt" ||
    { cat "$work/models.txt" >&2; fail "the text report does not say swtpm is missing and what to install"; }
echo "ok: models text report"
