# shellcheck shell=sh
# Sourced (POSIX sh) by the scripts that boot a guest: where OVMF (x86_64 UEFI firmware) is.
# Debian 12's ovmf ships the 2 MB pair (OVMF_CODE.fd + OVMF_VARS.fd) and the 4 MiB pair
# (OVMF_CODE_4M.fd + OVMF_VARS_4M.fd), Debian 13's only the 4 MiB one. An image needs the
# variable store built with it, so a pair is picked whole, 4 MiB first (the C++ tests' twin is
# tests/firmware/ovmf.cpp). PHYLLOME_OVMF_DIR replaces /usr/share/OVMF.
#
# A domain defined in libvirt should not name these files at all (<os firmware='efi'> lets
# libvirt pick and keep an NVRAM); a QEMU started directly loads CODE read-only as pflash unit 0
# and a writable copy of VARS as unit 1.

# Prints "CODE VARS" of the pair to use; fails (printing nothing) when no complete pair is there.
phyllome_ovmf_pair() {
  _phyllome_ovmf=${PHYLLOME_OVMF_DIR:-/usr/share/OVMF}
  for _phyllome_size in _4M ""; do
    if [ -f "$_phyllome_ovmf/OVMF_CODE$_phyllome_size.fd" ] && [ -f "$_phyllome_ovmf/OVMF_VARS$_phyllome_size.fd" ]; then
      echo "$_phyllome_ovmf/OVMF_CODE$_phyllome_size.fd $_phyllome_ovmf/OVMF_VARS$_phyllome_size.fd"
      return 0
    fi
  done
  return 1
}
