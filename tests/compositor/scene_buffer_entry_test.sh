#!/bin/sh
# Every buffer enters the wlroots scene through scene_buffer_adopt, which makes its texture
# before any rendering: a wlr_scene_buffer_create anywhere else can bring back the abort in
# wlr_texture_from_buffer (issue 12). Run from the source tree's compositor/ directory.
set -eu
dir=${1:?usage: scene_buffer_entry_test.sh COMPOSITOR_DIR}
found=$(grep -n 'wlr_scene_buffer_create' "$dir"/*.cpp "$dir"/*.hpp | grep -v "^$dir/scene_buffer_util.cpp:" || true)
if [ -n "$found" ]; then
    echo "scene buffers made outside scene_buffer_adopt (compositor/scene_buffer_util.hpp):" >&2
    echo "$found" >&2
    exit 1
fi
grep -q 'wlr_scene_buffer_create' "$dir/scene_buffer_util.cpp" || { echo "scene_buffer_adopt no longer makes the node" >&2; exit 1; }
echo "ok: every scene buffer is made by scene_buffer_adopt"
