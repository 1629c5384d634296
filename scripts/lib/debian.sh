# shellcheck shell=bash
# Shared by scripts/install-deps, scripts/build-root and scripts/in-root (sourced, not run):
# which Debian release this is, where the Debian 13 build root lives, and which Debian archive
# the machine's apt sources name.
#
# Overrides (the tests use them; nobody else needs to):
#   PHYLLOME_OS_RELEASE   the os-release file to read (default /etc/os-release)
#   PHYLLOME_ROOT         the build root's directory (default: see phyllome_root_dir)
#   PHYLLOME_APT_ETC      where the apt sources are read from (default /etc/apt)
#   PHYLLOME_DEBIAN_MIRROR  the Debian archive to use, when the apt sources name none

# The release the root holds, and the one whose hosts need no root.
PHYLLOME_ROOT_SUITE=trixie

phyllome_die() { echo "phyllome: $*" >&2; exit 1; }

# VERSION_CODENAME of the os-release file, e.g. bookworm or trixie ("" when it has none).
phyllome_codename() {
  local f=${PHYLLOME_OS_RELEASE:-/etc/os-release}
  [ -r "$f" ] || phyllome_die "cannot read $f to tell which Debian this is"
  sed -n 's/^VERSION_CODENAME=//p' "$f" | tr -d "\"'" | head -n 1
}

# Where the root is cached: /var/cache/phyllome when root, else $XDG_CACHE_HOME/phyllome.
phyllome_cache_dir() {
  if [ "$(id -u)" -eq 0 ]; then
    echo /var/cache/phyllome
  else
    echo "${XDG_CACHE_HOME:-$HOME/.cache}/phyllome"
  fi
}

phyllome_root_dir() {
  if [ -n "${PHYLLOME_ROOT:-}" ]; then
    echo "$PHYLLOME_ROOT"
  else
    echo "$(phyllome_cache_dir)/debian-$PHYLLOME_ROOT_SUITE"
  fi
}

# The Debian archive and the security archive the machine's apt sources use for its own
# release (deb822 *.sources and one-line *.list files), as "main URI" and "security URI"
# lines. The security line is left out when the sources name none.
phyllome_apt_archives() {
  local etc=${PHYLLOME_APT_ETC:-/etc/apt} codename=$1 files=()
  [ -f "$etc/sources.list" ] && files+=("$etc/sources.list")
  local f
  for f in "$etc"/sources.list.d/*.list "$etc"/sources.list.d/*.sources; do
    [ -f "$f" ] && files+=("$f")
  done
  [ ${#files[@]} -gt 0 ] || return 0
  awk -v want="$codename" '
    function emit(uris, suites,   u, s, nu, ns, i, j, us, ss) {
      nu = split(uris, us, /[ \t]+/); ns = split(suites, ss, /[ \t]+/)
      for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) {
        if (us[i] == "") continue
        if (ss[j] == want && !main) main = us[i]
        if (ss[j] == want "-security" && !sec) sec = us[i]
      }
    }
    function flush() { if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no") emit(uris, suites); types = uris = suites = ""; enabled = "" }
    FILENAME ~ /\.sources$/ {
      if ($0 ~ /^[ \t]*$/) { flush(); next }
      if ($0 ~ /^#/) next
      line = $0; key = tolower(line); sub(/:.*/, "", key); val = line; sub(/^[^:]*:[ \t]*/, "", val)
      if (key == "types") types = val
      else if (key == "uris") uris = val
      else if (key == "suites") suites = val
      else if (key == "enabled") enabled = tolower(val)
      next
    }
    FNR == 1 { flush() }
    {
      sub(/#.*/, "")
      if ($1 != "deb") next
      i = 2
      if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
      emit($i, $(i + 1))
    }
    END { flush(); if (main) print "main " main; if (sec) print "security " sec }
  ' "${files[@]}"
}

# The sources lines for the root, from the host's archives (or PHYLLOME_DEBIAN_MIRROR).
phyllome_root_sources() {
  local codename=$1 suite=$PHYLLOME_ROOT_SUITE main="" sec="" kind uri
  while read -r kind uri; do
    case $kind in
      main) main=$uri ;;
      security) sec=$uri ;;
    esac
  done < <(phyllome_apt_archives "$codename")
  [ -z "${PHYLLOME_DEBIAN_MIRROR:-}" ] || main=$PHYLLOME_DEBIAN_MIRROR
  [ -n "$main" ] || phyllome_die "no Debian archive for '$codename' found in ${PHYLLOME_APT_ETC:-/etc/apt}/sources.list{,.d/*.list,.d/*.sources}; set PHYLLOME_DEBIAN_MIRROR=URL to the Debian archive to use"
  echo "deb $main $suite main"
  echo "deb $main $suite-updates main"
  [ -z "$sec" ] || echo "deb $sec $suite-security main"
}

# phyllome_on_platform SCRIPT [ARG...]: returns when this is Debian 13 (natively, or inside the
# build root); on a Debian 12 machine it makes or updates the build root (scripts/build-root)
# and runs SCRIPT with its arguments inside it instead, exiting with its status. Every script
# that builds, tests, benchmarks or runs the shell calls it first: the project builds on
# wlroots 0.18, which Debian 12 does not have.
phyllome_on_platform() {
  [ "$(phyllome_codename)" = "$PHYLLOME_ROOT_SUITE" ] && return 0
  local lib
  lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  echo "phyllome: Debian 12 here: building and running inside the Debian 13 build root" >&2
  "$lib/../build-root" >/dev/null || exit 1
  exec "$lib/../in-root" "$@"
}
