#!/bin/sh
# The Debian 13 build root scripts, without making a root: install-deps picks the package list
# for each VERSION_CODENAME; build-root reads the Debian archive from apt sources (deb822 and
# one-line); in-root's plan (mounts, environment, working directory, arguments) for a fake root,
# its errors, and on a Debian 13 host its direct run with the exit status kept.
. "$(dirname "$0")/lib.sh"
: "${PHYLLOME_SOURCE_ROOT:?run through meson test}"
scripts="$PHYLLOME_SOURCE_ROOT/scripts"
command -v bash >/dev/null || skip "bash missing"

os_release() { # FILE CODENAME
    printf 'PRETTY_NAME="Debian GNU/Linux"\nID=debian\nVERSION_CODENAME=%s\n' "$2" >"$1"
}
os_release "$work/bookworm" bookworm
os_release "$work/trixie" trixie
printf 'ID=debian\nVERSION_CODENAME="forky"\n' >"$work/forky"

# -- install-deps --list
has() { printf '%s\n' "$1" | grep -qx "$2"; }
# Debian 12 builds nothing itself: it needs only what makes the Debian 13 root.
list=$(PHYLLOME_OS_RELEASE="$work/bookworm" bash "$scripts/install-deps" --list) || fail "bookworm: no list"
[ "$list" = mmdebstrap ] || fail "bookworm list is not just mmdebstrap: $list"
echo "ok: bookworm list"

list=$(PHYLLOME_OS_RELEASE="$work/trixie" bash "$scripts/install-deps" --list) || fail "trixie: no list"
for p in libwlroots-0.18-dev libclang-rt-19-dev qemu-system-modules-opengl qemu-system-x86 ovmf meson grim; do
    has "$list" "$p" || fail "trixie list lacks $p"
done
for p in libwlroots-dev libclang-rt-14-dev; do
    ! has "$list" "$p" || fail "trixie list has Debian 12's $p"
done
echo "ok: trixie list"

if out=$(PHYLLOME_OS_RELEASE="$work/forky" bash "$scripts/install-deps" --list 2>&1); then
    fail "an unknown release got a list: $out"
fi
printf '%s' "$out" | grep -q "no package list for 'forky'" || fail "unknown release message: $out"
echo "ok: unknown release refused"

# -- build-root: the archive comes from the machine's apt sources
apt="$work/apt"
mkdir -p "$apt/sources.list.d"
cat >"$apt/sources.list.d/debian.sources" <<'SRC'
Types: deb-src
URIs: http://src.example/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://archive.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# a comment
URIs: http://security.example/debian-security
Suites: bookworm-security
Components: main
SRC
printf 'deb [arch=amd64] https://other.example/apt nodistro main\n' >"$apt/sources.list.d/other.list"
printf 'deb http://ignored.example/debian bookworm main\n' >"$apt/sources.list.d/off.list.disabled"
out=$(PHYLLOME_OS_RELEASE="$work/bookworm" PHYLLOME_APT_ETC="$apt" bash "$scripts/build-root" --print-sources) ||
    fail "--print-sources failed"
want="deb http://archive.example/debian trixie main
deb http://archive.example/debian trixie-updates main
deb http://security.example/debian-security trixie-security main"
[ "$out" = "$want" ] || fail "deb822 sources gave: $out"
echo "ok: archive from deb822 sources"

rm -r "$apt/sources.list.d"
printf '# old style\ndeb [signed-by=/k.gpg] http://list.example/debian bookworm main contrib\n' >"$apt/sources.list"
out=$(PHYLLOME_OS_RELEASE="$work/bookworm" PHYLLOME_APT_ETC="$apt" bash "$scripts/build-root" --print-sources)
[ "$out" = "deb http://list.example/debian trixie main
deb http://list.example/debian trixie-updates main" ] || fail "sources.list gave: $out"
echo "ok: archive from sources.list"

: >"$apt/sources.list"
if out=$(PHYLLOME_OS_RELEASE="$work/bookworm" PHYLLOME_APT_ETC="$apt" bash "$scripts/build-root" --print-sources 2>&1); then
    fail "no archive, yet: $out"
fi
printf '%s' "$out" | grep -q PHYLLOME_DEBIAN_MIRROR || fail "no-archive message: $out"
echo "ok: no archive named"

out=$(PHYLLOME_OS_RELEASE="$work/trixie" PHYLLOME_ROOT="$work/nowhere" bash "$scripts/build-root" 2>&1) ||
    fail "build-root on a Debian 13 host failed: $out"
printf '%s' "$out" | grep -q "no build root needed" || fail "Debian 13 host: $out"
[ ! -e "$work/nowhere" ] || fail "a root was made on a Debian 13 host"
echo "ok: build-root does nothing on Debian 13"

# -- in-root on a Debian 12 host with a fake root: the plan, not the run
root="$work/root"
mkdir -p "$root/usr/bin" "$root/etc"
: >"$root/usr/bin/env"
chmod +x "$root/usr/bin/env"
runtime=$(mktemp -d /var/tmp/phyllome-runtime.XXXXXX)
unbound=$(mktemp -d /var/tmp/phyllome-cwd.XXXXXX)
trap 'rm -rf "$work" "$runtime" "$unbound"' EXIT
cd "$PHYLLOME_SOURCE_ROOT"
plan=$(env PHYLLOME_OS_RELEASE="$work/bookworm" PHYLLOME_ROOT="$root" PHYLLOME_IN_ROOT_DRY_RUN=1 \
    XDG_RUNTIME_DIR="$runtime" WLR_BACKENDS=headless ASAN_OPTIONS=detect_leaks=1 CI=true \
    WAYLAND_DISPLAY=wayland-9 SECRET_TOKEN=nope LANG=xx_XX.UTF-8 \
    bash "$scripts/in-root" printf '%s\n' "two words" 'a$b') || fail "in-root dry run failed"
expect() { printf '%s\n' "$plan" | grep -qxF -- "$1" || { printf '%s\n' "$plan" >&2; fail "plan lacks: $1"; }; }
src=$(cd "$PHYLLOME_SOURCE_ROOT" && pwd -P)
expect "bind $root $root"
expect "mount proc $root/proc"
expect "bind /dev $root/dev"
expect "bind /sys $root/sys"
case $src/ in
    /tmp/*) expect "bind /tmp $root/tmp" ;; # the source tree comes in with /tmp
    *) expect "bind $src $root$src" ;;
esac
expect "bind /etc/resolv.conf $root/etc/resolv.conf"
expect "pivot_root $root"
expect "env WLR_BACKENDS=headless"
expect "env ASAN_OPTIONS=detect_leaks=1"
expect "env CI=true"
expect "env WAYLAND_DISPLAY=wayland-9"
expect "env XDG_RUNTIME_DIR=$runtime"
expect "env PHYLLOME_ROOT=$root"
expect "env LANG=C.UTF-8"
expect "cwd $src"
expect "run printf %s\\\\n two\\ words a\\\$b"
expect "bind /tmp $root/tmp"
expect "bind $runtime $root$runtime"
! printf '%s\n' "$plan" | grep -q SECRET_TOKEN || fail "an unlisted variable reached the root"
! printf '%s\n' "$plan" | grep -q xx_XX || fail "the host's LANG reached the root"
echo "ok: in-root plan"

# A working directory that is neither bound nor in the root is refused with what to do.
if out=$(cd "$unbound" && PHYLLOME_OS_RELEASE="$work/bookworm" PHYLLOME_ROOT="$root" \
    PHYLLOME_IN_ROOT_DRY_RUN=1 bash "$scripts/in-root" true 2>&1); then
    fail "an unbound working directory was accepted: $out"
fi
printf '%s' "$out" | grep -q PHYLLOME_ROOT_BINDS || fail "unbound cwd message: $out"
echo "ok: unbound working directory refused"

# No root yet: say to make it.
if out=$(PHYLLOME_OS_RELEASE="$work/bookworm" PHYLLOME_ROOT="$work/missing" bash "$scripts/in-root" true 2>&1); then
    fail "in-root ran without a root"
fi
printf '%s' "$out" | grep -q "scripts/build-root" || fail "missing root message: $out"
echo "ok: missing root"

# No command: a usage error.
set +e
PHYLLOME_OS_RELEASE="$work/bookworm" PHYLLOME_ROOT="$root" bash "$scripts/in-root" 2>/dev/null
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "in-root without a command exited $rc, not 2"
echo "ok: usage"

# -- in-root on a Debian 13 host: runs the command itself, environment untouched, status kept
set +e
out=$(PHYLLOME_OS_RELEASE="$work/trixie" PHYLLOME_ROOT="$work/missing" SECRET_TOKEN=kept \
    bash "$scripts/in-root" sh -c 'echo "$SECRET_TOKEN $1"; exit 7' sh "two words")
rc=$?
set -e
[ "$rc" -eq 7 ] || fail "native run exited $rc, not 7"
[ "$out" = "kept two words" ] || fail "native run printed: $out"
echo "ok: native on Debian 13"
