// parse(): maps the TOML document onto Config, one reader per section.
#include <algorithm>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "config/config.hpp"
#include "config/table_reader.hpp"
#include "config/usb_section.hpp"

namespace phyllome::config {
namespace {

using detail::DiagnosticSink;
using detail::TableReader;
namespace rules = detail::rules;

void read_general(TableReader& reader, Config& config) {
    reader.read("libvirt_uri", config.libvirt_uri, rules::string());
    reader.read("log_level", config.log_level, rules::log_level());
}

void read_output(TableReader& reader, OutputConfig& output) {
    reader.read("enabled", output.enabled, rules::boolean());
    if (std::optional<Mode> mode = reader.get("mode", rules::mode()))
        output.mode = mode;
    if (std::optional<std::pair<int, int>> position = reader.get("position", rules::position()))
        output.position = position;
    reader.read("scale", output.scale, rules::number_in(0.25, 8.0));
    reader.read("transform", output.transform, rules::transform());
}

void read_keyboard(TableReader& reader, KeyboardConfig& keyboard) {
    reader.read("layout", keyboard.layout, rules::string());
    reader.read("variant", keyboard.variant, rules::string());
    reader.read("options", keyboard.options, rules::string());
    reader.read("model", keyboard.model, rules::string());
    reader.read("repeat_rate", keyboard.repeat_rate, rules::integer_in(0, 1000));
    reader.read("repeat_delay", keyboard.repeat_delay, rules::integer_in(1, 10000));
}

void read_pointer(TableReader& reader, PointerConfig& pointer) {
    reader.read("tap_to_click", pointer.tap_to_click, rules::boolean());
    reader.read("natural_scroll", pointer.natural_scroll, rules::boolean());
    reader.read("left_handed", pointer.left_handed, rules::boolean());
    reader.read("acceleration", pointer.acceleration, rules::number_in(-1.0, 1.0));
    reader.read("accel_profile", pointer.accel_profile, rules::one_of({"adaptive", "flat"}));
}

void read_security(TableReader& reader, SecurityConfig& security) {
    reader.read("allow_screencopy", security.allow_screencopy, rules::boolean());
    reader.read("allow_virtual_input", security.allow_virtual_input, rules::boolean());
    reader.read("allow_data_control", security.allow_data_control, rules::boolean());
}

// [input] allow_virtual_input, from before [security]: still obeyed, with a warning to move it.
void read_input(TableReader& reader, SecurityConfig& security, DiagnosticSink& sink) {
    if (const toml::node* node = reader.take("allow_virtual_input")) {
        if (std::optional<bool> value = rules::boolean().convert(*node)) {
            security.allow_virtual_input = *value;
            sink.warning(node->source(), "input.allow_virtual_input",
                         "has moved to [security] allow_virtual_input; obeyed here for now");
        } else {
            sink.error(node->source(), "input.allow_virtual_input", "must be true or false");
        }
    }
}

void read_overlay(TableReader& reader, OverlayConfig& overlay) {
    reader.read("font", overlay.font, rules::non_empty_string());
    reader.read("font_size", overlay.font_size, rules::integer_in(6, 96));
    reader.read("background", overlay.background, rules::colour());
    reader.read("foreground", overlay.foreground, rules::colour());
    reader.read("accent", overlay.accent, rules::colour());
    reader.read("error", overlay.error, rules::colour());
}

void read_hotkeys(TableReader& reader, HotkeyConfig& hotkeys) {
    reader.read("host_key", hotkeys.host_key, rules::keysym_name());
    reader.read("overlay", hotkeys.overlay, rules::keysym_name());
    reader.read("next", hotkeys.next, rules::keysym_name());
    reader.read("previous", hotkeys.previous, rules::keysym_name());
    reader.read("ctrl_alt_delete", hotkeys.ctrl_alt_delete, rules::keysym_name());
    reader.read("copy", hotkeys.copy, rules::optional_keysym_name());
    reader.read("paste", hotkeys.paste, rules::optional_keysym_name());
}

void read_kiosk(TableReader& reader, KioskConfig& kiosk) {
    constexpr int min_delay_ms = 100;
    constexpr int max_delay_ms = 3'600'000; // an hour
    reader.read("guest", kiosk.guest, rules::string());
    reader.read("on_guest_exit", kiosk.on_guest_exit, rules::guest_exit_policy());
    reader.read("admin_key", kiosk.admin_key, rules::optional_keysym_name());
    reader.read("restart_delay_ms", kiosk.restart_delay_ms, rules::integer_in(min_delay_ms, max_delay_ms));
    if (std::optional<int> cap = reader.get("restart_delay_max_ms", rules::integer_in(min_delay_ms, max_delay_ms))) {
        if (*cap >= kiosk.restart_delay_ms)
            kiosk.restart_delay_max_ms = *cap;
        else
            reader.report_conflict("restart_delay_max_ms",
                                   fmt::format("must be at least restart_delay_ms ({}), got {}",
                                               kiosk.restart_delay_ms, *cap));
    }
    // A first delay above the (default) cap just never grows, rather than shrinking.
    kiosk.restart_delay_max_ms = std::max(kiosk.restart_delay_max_ms, kiosk.restart_delay_ms);
}

void read_identity(TableReader& reader, IdentityConfig& identity) {
    reader.read("banner", identity.banner, rules::boolean());
    reader.read("banner_ms", identity.banner_ms, rules::integer_in(0, 10'000));
    reader.read("edge", identity.edge, rules::boolean());
    reader.read("edge_width", identity.edge_width, rules::integer_in(1, 32));
}

void read_clipboard(TableReader& reader, ClipboardConfig& clipboard) {
    // Up to 16 MiB: sd-bus takes arrays up to 64 MiB, and a paste is held in memory twice.
    reader.read("max_bytes", clipboard.max_bytes, rules::integer_in(1, 16 << 20));
}

void read_backup(TableReader& reader, JobsConfig& jobs) {
    reader.read("directory", jobs.backup_directory, rules::string());
}

void read_lock(TableReader& reader, LockConfig& lock) {
    reader.read("command", lock.command, rules::non_empty_string());
    reader.read("key", lock.key, rules::optional_keysym_name());
    if (std::optional<int> timeout = reader.get("idle_timeout_s", rules::integer_in(0, 86'400)))
        lock.idle_timeout_s = timeout;
}

void read_audio(TableReader& reader, AudioConfig& audio) {
    reader.read("hidden", audio.hidden, rules::one_of({"mute", "play"}));
    reader.read("mic_key", audio.mic_key, rules::optional_keysym_name());
}

// Runs `read_section` on [name] when present, then reports the keys it did not ask about.
template <typename ReadSection>
void with_section(TableReader& root, std::string_view name, DiagnosticSink& sink, ReadSection read_section) {
    if (const toml::table* table = root.take_table(name)) {
        TableReader reader{*table, std::string(name), sink};
        read_section(reader);
        reader.warn_unknown_keys();
    }
}

// [output.NAME] tables, one per output.
void read_outputs(const toml::table& outputs, DiagnosticSink& sink,
                  std::map<std::string, OutputConfig>& result) {
    for (auto&& [name, node] : outputs) {
        std::string path = fmt::format("output.{}", name.str());
        const toml::table* table = node.as_table();
        if (!table) {
            sink.error(node.source(), path,
                       fmt::format("must be a table, written as [{}], got {}", path, detail::describe(node)));
            continue;
        }
        TableReader reader{*table, path, sink};
        OutputConfig output;
        read_output(reader, output);
        reader.warn_unknown_keys();
        result.emplace(name.str(), output);
    }
}

// One [[app]] entry; an entry without a usable name and command is dropped, since the overlay
// could neither label nor launch it.
std::optional<App> read_app(TableReader& reader) {
    App app;
    bool usable = true;
    for (auto [key, field] : {std::pair{"name", &app.name}, std::pair{"command", &app.command}}) {
        if (!reader.take(key)) {
            reader.report_missing(key, "every [[app]] needs a name and a command");
            usable = false;
        } else if (std::optional<std::string> value = reader.get(key, rules::non_empty_string())) {
            *field = std::move(*value);
        } else {
            usable = false;
        }
    }
    reader.warn_unknown_keys();
    return usable ? std::optional{app} : std::nullopt;
}

void read_apps(const toml::node& node, DiagnosticSink& sink, std::vector<App>& result) {
    const toml::array* entries = node.as_array();
    if (!entries) {
        sink.error(node.source(), "app",
                   fmt::format("must be a list of [[app]] tables, got {}", detail::describe(node)));
        return;
    }
    for (std::size_t index = 0; index < entries->size(); ++index) {
        const toml::node& entry = *entries->get(index);
        // Zero-based, like the [[app]] entries' order in the file.
        std::string path = fmt::format("app[{}]", index);
        if (const toml::table* table = entry.as_table()) {
            TableReader reader{*table, path, sink};
            if (std::optional<App> app = read_app(reader))
                result.push_back(std::move(*app));
        } else {
            sink.error(entry.source(), path, fmt::format("must be a table, got {}", detail::describe(entry)));
        }
    }
}

Diagnostic syntax_error(const toml::parse_error& error, std::string_view source) {
    return Diagnostic{
        .severity = Diagnostic::Severity::Error,
        .source = std::string(source),
        .line = static_cast<int>(error.source().begin.line),
        .column = static_cast<int>(error.source().begin.column),
        .key = {},
        .message = fmt::format("not valid TOML, so none of the file applies: {}", error.description()),
    };
}

} // namespace

LoadResult parse(std::string_view text, std::string_view source) {
    LoadResult result;
    toml::table document;
    try {
        document = toml::parse(text, source);
    } catch (const toml::parse_error& error) {
        result.diagnostics.push_back(syntax_error(error, source));
        return result;
    }

    Config& config = result.config;
    DiagnosticSink sink{std::string(source), result.diagnostics};
    TableReader root{document, "", sink};
    with_section(root, "general", sink, [&](TableReader& section) { read_general(section, config); });
    if (const toml::table* outputs = root.take_table("output"))
        read_outputs(*outputs, sink, config.outputs);
    with_section(root, "keyboard", sink, [&](TableReader& section) { read_keyboard(section, config.keyboard); });
    with_section(root, "pointer", sink, [&](TableReader& section) { read_pointer(section, config.pointer); });
    with_section(root, "input", sink, [&](TableReader& section) { read_input(section, config.security, sink); });
    with_section(root, "security", sink, [&](TableReader& section) { read_security(section, config.security); });
    with_section(root, "overlay", sink, [&](TableReader& section) { read_overlay(section, config.overlay); });
    with_section(root, "hotkeys", sink, [&](TableReader& section) { read_hotkeys(section, config.hotkeys); });
    with_section(root, "kiosk", sink, [&](TableReader& section) { read_kiosk(section, config.kiosk); });
    with_section(root, "identity", sink, [&](TableReader& section) { read_identity(section, config.identity); });
    with_section(root, "lock", sink, [&](TableReader& section) { read_lock(section, config.lock); });
    with_section(root, "audio", sink, [&](TableReader& section) { read_audio(section, config.audio); });
    with_section(root, "clipboard", sink, [&](TableReader& section) { read_clipboard(section, config.clipboard); });
    with_section(root, "backup", sink, [&](TableReader& section) { read_backup(section, config.jobs); });
    with_section(root, "move", sink, [&](TableReader& section) {
        section.read("destinations", config.jobs.move_destinations, rules::uri_list());
    });
    with_section(root, "usb", sink, [&](TableReader& section) { detail::read_usb(section, sink, config.usb); });
    if (const toml::node* apps = root.take("app"))
        read_apps(*apps, sink, config.apps);
    root.warn_unknown_keys();

    // toml++ hands keys back sorted by name; file order reads better.
    std::stable_sort(result.diagnostics.begin(), result.diagnostics.end(),
                     [](const Diagnostic& a, const Diagnostic& b) {
                         return std::pair{a.line, a.column} < std::pair{b.line, b.column};
                     });
    return result;
}

} // namespace phyllome::config
