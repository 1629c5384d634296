# shellcheck shell=sh
# Sourced (POSIX sh, so tests/bench/run can use it too) by the scripts that set up a build
# directory for development or CI: scripts/build, tests/fuzz/run, tests/bench/run.
#
# The project's default_options leave werror off, so that a packager's
# `meson setup --buildtype=release` is not broken by the next compiler's new warning. Our own
# builds stay strict: a directory the scripts set up gets -Dwerror=true, and one set up before
# (or by hand without it) is switched over, so a warning fails development and CI as before.

# phyllome_meson_setup DIR [MESON SETUP OPTIONS...]: sets DIR up once (CC/CXX from the
# environment), with werror on; an existing DIR gets werror turned on if it is off.
phyllome_meson_setup() {
  _phyllome_dir=$1
  shift
  if [ ! -f "$_phyllome_dir/build.ninja" ]; then
    meson setup "$_phyllome_dir" -Dwerror=true "$@" >/dev/null
  elif ! phyllome_meson_same_version "$_phyllome_dir"; then
    # Set up on the other side of the Debian 12 / 13 build root: its meson cannot read it.
    echo "phyllome: $_phyllome_dir was set up by another meson (another system): setting it up again" >&2
    meson setup --wipe "$_phyllome_dir" -Dwerror=true "$@" >/dev/null
  elif ! phyllome_meson_werror_on "$_phyllome_dir"; then
    echo "phyllome: turning werror on in $_phyllome_dir" >&2
    meson configure "$_phyllome_dir" -Dwerror=true >/dev/null
  fi
}

# True when DIR was set up by the meson that runs here.
phyllome_meson_same_version() {
  python3 - "$1/meson-info/meson-info.json" "$(meson --version)" <<'PY'
import json, sys
try:
    info = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit(1)
sys.exit(0 if info.get("meson_version", {}).get("full") == sys.argv[2] else 1)
PY
}

# True when DIR is configured with werror=true (read from meson's introspection file, so
# nothing is reconfigured and ninja does not regenerate when it already is).
phyllome_meson_werror_on() {
  python3 - "$1/meson-info/intro-buildoptions.json" <<'PY'
import json, sys
try:
    options = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    sys.exit(1)
sys.exit(0 if any(o["name"] == "werror" and o["value"] is True for o in options) else 1)
PY
}
