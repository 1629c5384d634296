// What DisplayConnection's clipboard calls answer (display_clipboard.hpp does the work).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace phyllome::guestview {

// The only type QEMU's D-Bus clipboard carries.
inline constexpr const char* clipboard_text_mime = "text/plain;charset=utf-8";

struct ClipboardOutcome {
    bool ok = false;
    std::string text;  // take: the guest's text (valid UTF-8, within the limit)
    std::string error; // !ok: what went wrong, in the user's words, naming the guest
};
// Runs on the loop thread, never after the DisplayConnection is destroyed.
using ClipboardDone = std::function<void(ClipboardOutcome)>;

struct ClipboardState {
    bool registered = false;     // QEMU accepted our Clipboard peer
    bool guest_has_text = false; // the guest holds a text grab (it copied something)
    bool offering = false;       // we hold a grab with text offered to the guest (Host+V)
};

} // namespace phyllome::guestview

namespace phyllome::guestview {

// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF) without NULs.
bool is_clipboard_text(std::string_view bytes);
// Code points in valid UTF-8 text: what the user calls characters.
std::size_t utf8_characters(std::string_view text);

} // namespace phyllome::guestview
