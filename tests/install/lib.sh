# Shared by the install tests: fail loudly, install the current build into a fresh DESTDIR.
set -eu

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }

: "${PHYLLOME_BUILD_ROOT:?run through meson test}"
work=$(mktemp -d /tmp/phyllome-install-test.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Installs into $work/dest; the test binaries are already built by meson test.
install_tree() {
    meson install -C "$PHYLLOME_BUILD_ROOT" --destdir "$work/dest" --no-rebuild --quiet >"$work/install.log" 2>&1 ||
        { cat "$work/install.log" >&2; fail "meson install --destdir failed"; }
    dest="$work/dest"
}
