// config::parse on arbitrary text (the function load() uses for a file's contents), and
// parse_mode on the same bytes. The checks: no crash or sanitizer finding, every value in a
// parsed Config is within the range its rule documents, and a syntax error leaves the
// defaults.
#include <cmath>
#include <string_view>

#include "config/config.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace phyllome::config {
namespace {

bool keysym_name(const std::string& name, bool may_be_empty) {
    if (name.empty())
        return may_be_empty;
    for (char c : name)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    return true;
}

void check_mode(const Mode& mode) {
    FUZZ_CHECK(mode.width >= 1 && mode.width <= 32767);
    FUZZ_CHECK(mode.height >= 1 && mode.height <= 32767);
    FUZZ_CHECK(mode.refresh_mhz >= 0 && mode.refresh_mhz <= 1000 * 1000);
}

void check(const LoadResult& result) {
    const Config& c = result.config;
    for (const Diagnostic& d : result.diagnostics) {
        FUZZ_CHECK(d.line >= 0 && d.column >= 0);
        FUZZ_CHECK(!d.message.empty());
        FUZZ_CHECK(!d.to_string().empty());
    }
    for (const auto& [name, output] : c.outputs) {
        FUZZ_CHECK(output.scale >= 0.25 && output.scale <= 8.0);
        if (output.mode)
            check_mode(*output.mode);
    }
    FUZZ_CHECK(c.keyboard.repeat_rate >= 0 && c.keyboard.repeat_rate <= 1000);
    FUZZ_CHECK(c.keyboard.repeat_delay >= 1 && c.keyboard.repeat_delay <= 10000);
    FUZZ_CHECK(c.pointer.acceleration >= -1.0 && c.pointer.acceleration <= 1.0);
    FUZZ_CHECK(c.pointer.accel_profile == "adaptive" || c.pointer.accel_profile == "flat");
    FUZZ_CHECK(!c.overlay.font.empty());
    FUZZ_CHECK(c.overlay.font_size >= 6 && c.overlay.font_size <= 96);
    for (std::uint32_t colour : {c.overlay.background, c.overlay.foreground, c.overlay.accent, c.overlay.error})
        FUZZ_CHECK(colour <= 0xffffff);
    for (const std::string* key : {&c.hotkeys.host_key, &c.hotkeys.overlay, &c.hotkeys.next, &c.hotkeys.previous,
                                   &c.hotkeys.ctrl_alt_delete})
        FUZZ_CHECK(keysym_name(*key, false));
    FUZZ_CHECK(keysym_name(c.kiosk.admin_key, true));
    FUZZ_CHECK(c.kiosk.restart_delay_ms >= 100 && c.kiosk.restart_delay_ms <= 3'600'000);
    FUZZ_CHECK(c.kiosk.restart_delay_max_ms >= c.kiosk.restart_delay_ms);
    FUZZ_CHECK(c.identity.banner_ms >= 0 && c.identity.banner_ms <= 10'000);
    FUZZ_CHECK(c.identity.edge_width >= 1 && c.identity.edge_width <= 32);
    for (const App& app : c.apps)
        FUZZ_CHECK(!app.name.empty() && !app.command.empty());
    FUZZ_CHECK(to_string(c.log_level).size() > 0);
    FUZZ_CHECK(to_string(c.kiosk.on_guest_exit).size() > 0);
}

} // namespace
} // namespace phyllome::config

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace phyllome::config;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const LoadResult result = parse(text, "fuzz.toml");
    check(result);
    // A syntax error means none of the file applies.
    if (result.diagnostics.size() == 1 && result.diagnostics[0].key.empty() &&
        result.diagnostics[0].message.starts_with("not valid TOML"))
        FUZZ_CHECK(result.config == Config{});

    if (std::optional<Mode> mode = parse_mode(text)) {
        check_mode(*mode);
        FUZZ_CHECK(text.find('x') != std::string_view::npos);
    }
    return 0;
}
