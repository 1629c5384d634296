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
    "libvirt=ok:test:///default" "qemu_dbus=missing:cannot run" ready=false

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
