#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/<target>/: a few valid inputs per target.

The byte layouts mirror the readers in frame_assembly_fuzz.cpp and listener_messages_fuzz.cpp
(fuzz_input.hpp: little-endian, read front to back). Run it again after changing those."""
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(CORPUS, target, name), "wb") as f:
        f.write(bytes(data))


# ---- frame_assembly: opcode, then operands (see Harness::run) ----
SCANOUT, UPDATE, SCANOUT_MAP, UPDATE_MAP, SCANOUT_DMABUF, UPDATE_DMABUF, DISABLE, HOLD = range(8)


def small(n):  # dimension(): kind 6, then u8 % 64 + 1
    return [6, n - 1]


def at(n):  # coordinate(): kind 5, then u8 % 64
    return [5, n]


def extent(n):  # size_of_rect(): kind 4, then u8 % 64 + 1
    return [4, n - 1]


def fa_scanout(w, h, fmt=0, pad=None, seed=1):
    stride = [0] if pad is None else [1, pad]  # stride_for(): exact row, or row + u8
    return [SCANOUT, fmt] + small(w) + small(h) + stride + [3, seed]  # payload: exactly needed


def fa_update(x, y, w, h, seed=9):
    # same format as the surface (u8 % 8 != 0), exact stride, exact payload
    return [UPDATE] + at(x) + at(y) + extent(w) + extent(h) + [1, 0, 3, seed]


def fa_scanout_map(w, h, fmt=0, seed=5):
    # offset: u8 % 4 != 0 then u16 % 4096 = 0; seed; fd kind 4 (memfd) sized exactly
    return [SCANOUT_MAP, fmt] + small(w) + small(h) + [0, 1, 0, 0, seed, 4, 3]


def fa_damage(op, x, y, w, h):
    return [op] + at(x) + at(y) + extent(w) + extent(h)


def fa_scanout_dmabuf(w, h, fmt=0):
    # exact stride, modifier u8 odd -> 0, y0_top flag, fd kind 4 (memfd) sized exactly
    return [SCANOUT_DMABUF, fmt] + small(w) + small(h) + [0, 1, 0, 4, 3]


def frame_assembly():
    write("frame_assembly", "scanout_update", fa_scanout(8, 8) + fa_update(2, 3, 4, 4) + fa_update(6, 6, 8, 8))
    write("frame_assembly", "padded_formats",
          fa_scanout(7, 5, fmt=4, pad=12) + fa_update(0, 0, 7, 5) + fa_scanout(3, 9, fmt=10, pad=3)
          + [HOLD, 0] + fa_update(1, 1, 1, 1) + fa_scanout(4, 4, fmt=8))
    write("frame_assembly", "hold_and_rescan",
          fa_scanout(16, 4) + [HOLD, 0] + fa_update(0, 0, 2, 2) + [HOLD, 1] + fa_scanout(16, 4, seed=2)
          + fa_update(1, 1, 2, 2) + [HOLD, 0])
    write("frame_assembly", "map_and_damage",
          fa_scanout_map(12, 12) + fa_damage(UPDATE_MAP, 1, 1, 3, 3) + fa_update(4, 4, 4, 4) + [DISABLE]
          + fa_damage(UPDATE_MAP, 0, 0, 1, 1))
    write("frame_assembly", "dmabuf",
          fa_scanout_dmabuf(32, 16) + fa_damage(UPDATE_DMABUF, 2, 2, 60, 60) + fa_update(0, 0, 1, 1) + [DISABLE])


# ---- listener_messages: target, mode, then one value per argument (see Harness::call) ----
T = {name: i for i, name in enumerate([
    "Scanout", "Update", "ScanoutDMABUF", "UpdateDMABUF", "Disable", "MouseSet", "CursorDefine", "ScanoutMap",
    "UpdateMap", "Get", "GetAll", "Set", "Introspect", "Ping", "NoSuchMethod", "ScanoutMapOnBase", "ScanoutOnMap",
    "UpdateAnyInterface", "NestedPath", "RootIntrospect", "ScanoutDMABUF2"])}
CANONICAL, NO_REPLY, KEEP_SAMPLING = 4, 0x10, 0x20


def num(n):  # integer(): kind 11, then u8 % 64 + 1
    return [11, n - 1]


def times4(n):  # kind 10: 4 * (u8 % 64 + 1)
    return [10, n - 1]


ZERO, ONE = [0], [1]
PIXMAN = [8, 0]  # kind 8: a known pixman code
FOURCC = [9, 0]  # kind 9: a known fourcc


def sized(fd_kind=0, seed=1):  # ay or h: size_mode 0 (exactly what the other arguments need)
    return [0, 0, 0, fd_kind, seed]


def items(*values):  # au: a count, then one integer() per item
    return [len(values)] + [v for value in values for v in value]


def fds(count, fd_kind=4, seed=1):  # ah: a count, then sized() for every fd
    return [count] + sized(fd_kind, seed)


def text(index):  # ascii(): pick < 200 -> one of the known strings
    return [index]


def call(target, *args, mode=CANONICAL, mutation=()):
    out = [T[target], mode] + list(mutation)
    for a in args:
        out += a
    return out


def listener_messages():
    scanout = call("Scanout", num(8), num(8), times4(8), PIXMAN, sized())
    update = call("Update", num(2), num(3), num(4), num(4), times4(4), PIXMAN, sized(seed=7))
    write("listener_messages", "scanout_update", scanout + update + call("MouseSet", num(3), num(4), ONE))
    write("listener_messages", "scanout_map",
          call("ScanoutMap", sized(fd_kind=4, seed=3), ZERO, num(16), num(16), times4(16), PIXMAN)
          + call("UpdateMap", num(1), num(1), num(8), num(8)) + call("Disable", mode=CANONICAL | NO_REPLY))
    dmabuf = call("ScanoutDMABUF", sized(fd_kind=4), num(32), num(32), times4(32), FOURCC, ZERO, ONE)
    write("listener_messages", "dmabuf",
          dmabuf + call("UpdateDMABUF", ZERO, ZERO, num(8), num(8), mode=CANONICAL | KEEP_SAMPLING)
          + [0] + call("UpdateDMABUF", num(1), num(1), num(4), num(4), mode=CANONICAL | KEEP_SAMPLING)
          + [1] + call("UpdateDMABUF", num(2), num(2), num(2), num(2)))
    # 32x32 visible at +2+3 of a 40x40 single-plane buffer, then a two-plane one (a modifier other
    # than linear, kind 3: u32 read from the input).
    dmabuf2 = call("ScanoutDMABUF2", fds(1), num(2), num(3), num(32), num(32), items(ZERO), items(times4(40)),
                   ONE, FOURCC, num(40), num(40), ZERO, ZERO)
    two_planes = call("ScanoutDMABUF2", fds(2), ZERO, ZERO, num(16), num(16), items(ZERO, num(8)),
                      items(times4(16), num(4)), num(2), FOURCC, num(16), num(16), [3, 7, 0, 0, 0], ONE)
    write("listener_messages", "dmabuf2",
          dmabuf2 + call("UpdateDMABUF", num(1), num(1), num(4), num(4)) + two_planes)
    write("listener_messages", "cursor",
          call("CursorDefine", num(32), num(32), num(4), num(4), sized(seed=2)) + call("MouseSet", num(5), num(6), ONE))
    write("listener_messages", "properties",
          call("Get", text(0), text(2)) + call("GetAll", text(1)) + call("Set", text(0), text(2), text(3))
          + call("Introspect") + call("NoSuchMethod", num(1)) + call("RootIntrospect"))
    write("listener_messages", "wrong_signature",
          scanout
          # mode 0: the 4th argument's type becomes token 15 (a variant)
          + call("Update", ZERO, ZERO, ZERO, text(0), ZERO, ZERO, sized(), mode=0, mutation=(3, 15))
          + call("ScanoutMapOnBase", sized(fd_kind=4), ZERO, num(4), num(4), times4(4), PIXMAN))


# ---- config_parser: TOML text ----
def config_parser():
    shutil.copy(os.path.join(HERE, "..", "..", "config", "shell.toml"), os.path.join(CORPUS, "config_parser", "example"))
    write("config_parser", "minimal", '[general]\nlog_level = "debug"\n')
    write("config_parser", "outputs_apps", """[output.HEADLESS-1]
mode = "1920x1080@59.94"
position = [0, 0]
scale = 1.5

[output.DP-2]
enabled = false

[[app]]
name = "Terminal"
command = "foot"

[kiosk]
guest = "win11"
on_guest_exit = "overlay"
restart_delay_ms = 500
restart_delay_max_ms = 8000
""")
    write("config_parser", "bad_values", """[keyboard]
repeat_rate = 5000
layout = 3
[overlay]
background = "#12345g"
font_size = 1e3
[identity]
edge_width = 0
unknown = true
[pointer]
acceleration = nan
""")
    write("config_parser", "syntax_error", "[general\nlibvirt_uri = 'qemu:///system'\n")


# ---- control_request: request lines ----
def control_request():
    for name, line in {
        "status": "status\n",
        "status_json": "status --json\n",
        "start": "start win 11\n",
        "identity": "identity slot=2 colour=#4f9dde win 11\n",
        "create": "create cpus=2 disk-size=20G iso=/srv/iso/Win%2011.iso memory=4096 win11\n",
        "screenshot": "screenshot a\n",
        "adopt": "adopt old-vm\n",
        "remove": "remove old-vm\n",
        "eject": "eject win11\n",
        "output_add": "output add 1280x800\n",
        "output_remove": "output remove HEADLESS-2\n",
    }.items():
        write("control_request", name, line)


# ---- firmware_descriptor: QEMU firmware descriptors (JSON) ----
def firmware_descriptor():
    enrolled = """{
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
"""
    write("firmware_descriptor", "debian_secure_enrolled", enrolled)
    write("firmware_descriptor", "plain_memory", '{"interface-types":["uefi"],"mapping":{"device":"memory",'
          '"filename":"/usr/share/edk2/x.fd"},"targets":[{"architecture":"aarch64","machines":["virt-*"]}],'
          '"features":[],"tags":[]}')
    write("firmware_descriptor", "escapes", '{"description":"\\u00e9\\ud83d\\ude00 \\"q\\" \\n","features":[1,-2.5e3,true,false,null]}')


def main():
    if os.path.isdir(CORPUS):
        shutil.rmtree(CORPUS)
    for target in ("frame_assembly", "listener_messages", "config_parser", "control_request", "firmware_descriptor"):
        os.makedirs(os.path.join(CORPUS, target))
    frame_assembly()
    listener_messages()
    config_parser()
    control_request()
    firmware_descriptor()
    return 0


if __name__ == "__main__":
    sys.exit(main())
