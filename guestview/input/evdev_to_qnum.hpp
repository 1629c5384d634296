// Linux evdev keycode (what libinput/wlroots report, no +8) -> QEMU "qnum", the number
// org.qemu.Display1.Keyboard.Press/Release take: XT/AT set-1 scancodes with the 0xE0
// prefix folded into bit 7. The table is generated from keycodemapdb by scripts/gen-keymap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace phyllome::guestview {

// nullopt when keycodemapdb has no set-1 code for the key.
std::optional<std::uint32_t> evdev_to_qnum(std::uint32_t evdev_keycode);

// One past the highest evdev keycode in the table.
std::size_t evdev_to_qnum_table_size();

} // namespace phyllome::guestview
