#!/bin/sh
# Every buffer enters the wlroots scene through scene_buffer_util.cpp, which refuses a buffer the
# renderer cannot sample: the scene would skip it silently (issue 12: wlroots 0.15 aborted), and
# the user must see a message instead. Run from the source tree's compositor/ directory.
set -eu
dir=${1:?usage: scene_buffer_entry_test.sh COMPOSITOR_DIR}
found=$(grep -nE 'wlr_scene_buffer_(create|set_buffer)' "$dir"/*.cpp "$dir"/*.hpp | grep -v "^$dir/scene_buffer_util.cpp:" || true)
if [ -n "$found" ]; then
    echo "buffers put in the scene outside compositor/scene_buffer_util.cpp:" >&2
    echo "$found" >&2
    exit 1
fi
grep -q 'wlr_scene_buffer_create' "$dir/scene_buffer_util.cpp" || { echo "scene_buffer_adopt no longer makes the node" >&2; exit 1; }
grep -q 'wlr_scene_buffer_set_buffer' "$dir/scene_buffer_util.cpp" || { echo "scene_buffer_replace no longer sets the buffer" >&2; exit 1; }
echo "ok: every buffer enters the scene through scene_buffer_util.cpp"
