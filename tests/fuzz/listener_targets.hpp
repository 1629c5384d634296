// What listener_messages_fuzz.cpp sends: the Listener methods and other calls it targets, the
// argument types it builds them from, and how it reads argument values from the input. Apart
// so that the harness file stays readable; included by that one file only.
#pragma once

#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "guestview/display/pixel_format.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace phyllome::guestview::listener_fuzz {

using fuzz::Input;

inline constexpr const char* listener_path = "/org/qemu/Display1/Listener";
inline constexpr const char* base_interface = "org.qemu.Display1.Listener";
inline constexpr const char* map_interface = "org.qemu.Display1.Listener.Unix.Map";
inline constexpr const char* dmabuf2_interface = "org.qemu.Display1.Listener.Unix.ScanoutDMABUF2";
inline constexpr std::uint8_t max_array_items = 6; // ah/au: up to one more than the 4 planes there can be

// Argument types the calls are built from: D-Bus basic types and a few containers. New ones go
// last, so that the seeds keep their meaning.
enum Token : std::uint8_t { Y, B, N, Q, I, U, X, T, D, S, O, G, H, AY, AS, V, STRUCT_II, DICT_SV, AH, AU, TokenCount };

// How the sizes of an ay or of a memfd follow from the integer arguments, for the calls that
// have a rule (so that well-formed messages are common, not just possible).
enum class Need { None, Scanout, Update, Cursor, ScanoutMap, ScanoutDmabuf2 };

struct Target {
    const char* path;
    const char* interface; // nullptr: let sd-bus find the member on any interface
    const char* member;
    std::vector<Token> signature;
    Need need = Need::None;
};

inline const std::vector<Target>& targets() {
    static const std::vector<Target> list = {
        {listener_path, base_interface, "Scanout", {U, U, U, U, AY}, Need::Scanout},
        {listener_path, base_interface, "Update", {I, I, I, I, U, U, AY}, Need::Update},
        {listener_path, base_interface, "ScanoutDMABUF", {H, U, U, U, U, T, B}},
        {listener_path, base_interface, "UpdateDMABUF", {I, I, I, I}},
        {listener_path, base_interface, "Disable", {}},
        {listener_path, base_interface, "MouseSet", {I, I, I}},
        {listener_path, base_interface, "CursorDefine", {I, I, I, I, AY}, Need::Cursor},
        {listener_path, map_interface, "ScanoutMap", {H, U, U, U, U, U}, Need::ScanoutMap},
        {listener_path, map_interface, "UpdateMap", {I, I, I, I}},
        {listener_path, "org.freedesktop.DBus.Properties", "Get", {S, S}},
        {listener_path, "org.freedesktop.DBus.Properties", "GetAll", {S}},
        {listener_path, "org.freedesktop.DBus.Properties", "Set", {S, S, V}},
        {listener_path, "org.freedesktop.DBus.Introspectable", "Introspect", {}},
        {listener_path, "org.freedesktop.DBus.Peer", "Ping", {}},
        {listener_path, base_interface, "NoSuchMethod", {I}},
        {listener_path, base_interface, "ScanoutMap", {H, U, U, U, U, U}, Need::ScanoutMap}, // wrong interface
        {listener_path, map_interface, "Scanout", {U, U, U, U, AY}, Need::Scanout},         // wrong interface
        {listener_path, nullptr, "Update", {I, I, I, I, U, U, AY}, Need::Update},
        {"/org/qemu/Display1/Listener/Nested", base_interface, "Scanout", {U, U, U, U, AY}, Need::Scanout},
        {"/", "org.freedesktop.DBus.Introspectable", "Introspect", {}},
        // Appended (the seeds address targets by index).
        {listener_path, dmabuf2_interface, "ScanoutDMABUF2", {AH, U, U, U, U, AU, AU, U, U, U, U, T, B},
         Need::ScanoutDmabuf2},
    };
    return list;
}

inline const char* const known_strings[] = {
    base_interface, map_interface, dmabuf2_interface, "Interfaces", "", "org.freedesktop.DBus.Properties", "Bogus", "x",
};

inline std::int64_t integer(Input& in) {
    auto known = known_pixel_formats();
    switch (in.u8() % 12) {
    case 0: return 0;
    case 1: return 1;
    case 2: return -1;
    case 3: return in.u32();
    case 4: return 16384;
    case 5: return 16385;
    case 6: return INT32_MIN;
    case 7: return in.u64();
    case 8: return known[in.u8() % known.size()].pixman;
    case 9: return known[in.u8() % known.size()].drm_fourcc;
    case 10: return 4 * (in.u8() % 64 + 1);
    default: return in.u8() % 64 + 1;
    }
}

inline std::string ascii(Input& in) {
    const std::uint8_t pick = in.u8();
    if (pick < 200)
        return known_strings[pick % std::size(known_strings)];
    std::string text(in.text(in.u8() % 32));
    for (char& c : text)
        c = static_cast<char>(' ' + static_cast<unsigned char>(c) % 95); // valid UTF-8
    return text;
}

// One argument before it is appended: its value, or for ay and h how to size it.
struct Arg {
    Token token = I;
    std::int64_t value = 0;
    std::uint8_t size_mode = 0;
    std::uint16_t raw_size = 0;
    std::uint8_t fd_kind = 0;
    std::uint8_t seed = 0;
    std::string text;
    std::vector<std::int64_t> items; // au values; for ah only the count matters
};

} // namespace phyllome::guestview::listener_fuzz
