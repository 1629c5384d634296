#!/bin/sh
# The scripts' shared helpers, with no real build or firmware: scripts/lib/meson.sh sets a build
# directory up with werror on and turns it on in one set up without it (and leaves one that has
# it alone, and sets one up again that another meson, on the other side of the build root,
# made); scripts/lib/firmware.sh picks a whole OVMF pair, 4 MiB first, in Debian 12's, 13's
# and older layouts.
. "$(dirname "$0")/lib.sh"
: "${PHYLLOME_SOURCE_ROOT:?run through meson test}"
. "$PHYLLOME_SOURCE_ROOT/scripts/lib/meson.sh"
. "$PHYLLOME_SOURCE_ROOT/scripts/lib/firmware.sh"
command -v python3 >/dev/null || skip "python3 missing"

# -- meson.sh, with a meson in PATH that records how it was called
mkdir -p "$work/bin"
printf '#!/bin/sh\n[ "$1" = --version ] && { echo 1.7.0; exit 0; }\necho "$*" >>"%s/meson.calls"\n' "$work" >"$work/bin/meson"
chmod +x "$work/bin/meson"
PATH="$work/bin:$PATH"
calls() { cat "$work/meson.calls" 2>/dev/null; rm -f "$work/meson.calls"; }
options() { # DIR WERROR [MESON VERSION]: a set-up build dir as meson leaves it
    mkdir -p "$1/meson-info"
    : >"$1/build.ninja"
    printf '{"meson_version": {"full": "%s"}}\n' "${3:-1.7.0}" >"$1/meson-info/meson-info.json"
    printf '[{"name": "buildtype", "value": "debug"}, {"name": "werror", "value": %s}]\n' "$2" \
        >"$1/meson-info/intro-buildoptions.json"
}

phyllome_meson_setup "$work/new" -Dbuildtype=debug || fail "setup failed"
[ "$(calls)" = "setup $work/new -Dwerror=true -Dbuildtype=debug" ] || fail "new dir not set up with werror"
echo "ok: a new build dir gets werror"

options "$work/lax" false
! phyllome_meson_werror_on "$work/lax" || fail "werror=false read as on"
phyllome_meson_setup "$work/lax" -Dbuildtype=debug || fail "configure failed"
[ "$(calls)" = "configure $work/lax -Dwerror=true" ] || fail "existing dir without werror not switched"
echo "ok: a build dir without werror is switched"

options "$work/strict" true
phyllome_meson_werror_on "$work/strict" || fail "werror=true read as off"
phyllome_meson_setup "$work/strict" || fail "strict dir failed"
[ -z "$(calls)" ] || fail "a build dir with werror was reconfigured"
echo "ok: a build dir with werror is left alone"

options "$work/other" true 1.0.1
phyllome_meson_setup "$work/other" -Dbuildtype=debug || fail "other-meson dir failed"
[ "$(calls)" = "setup --wipe $work/other -Dwerror=true -Dbuildtype=debug" ] || fail "a dir another meson made was not set up again"
echo "ok: a build dir made by another meson is set up again"

# -- firmware.sh
ovmf() { # DIR FILE...: a fake /usr/share/OVMF
    d=$1; shift
    mkdir -p "$d"
    for f in "$@"; do : >"$d/$f"; done
}
ovmf "$work/deb12" OVMF_CODE.fd OVMF_VARS.fd OVMF_CODE_4M.fd OVMF_VARS_4M.fd OVMF_CODE_4M.secboot.fd
ovmf "$work/deb13" OVMF_CODE_4M.fd OVMF_VARS_4M.fd OVMF_CODE_4M.secboot.fd
ovmf "$work/old" OVMF_CODE.fd OVMF_VARS.fd OVMF_CODE_4M.fd # 4 MiB code without its vars
ovmf "$work/none" OVMF_CODE_4M.fd OVMF_VARS.fd

pair=$(PHYLLOME_OVMF_DIR="$work/deb12" phyllome_ovmf_pair) || fail "deb12: none found"
[ "$pair" = "$work/deb12/OVMF_CODE_4M.fd $work/deb12/OVMF_VARS_4M.fd" ] || fail "deb12: $pair"
pair=$(PHYLLOME_OVMF_DIR="$work/deb13" phyllome_ovmf_pair) || fail "deb13: none found"
[ "$pair" = "$work/deb13/OVMF_CODE_4M.fd $work/deb13/OVMF_VARS_4M.fd" ] || fail "deb13: $pair"
pair=$(PHYLLOME_OVMF_DIR="$work/old" phyllome_ovmf_pair) || fail "old: none found"
[ "$pair" = "$work/old/OVMF_CODE.fd $work/old/OVMF_VARS.fd" ] || fail "old: $pair"
if pair=$(PHYLLOME_OVMF_DIR="$work/none" phyllome_ovmf_pair); then fail "mixed sizes taken: $pair"; fi
[ -z "$pair" ] || fail "printed a pair on failure: $pair"
echo "ok: OVMF pairs"
