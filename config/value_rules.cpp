#include "config/value_rules.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include <fmt/format.h>

namespace phyllome::config::detail {
namespace {

std::optional<std::string> string_of(const toml::node& node) {
    if (const auto* text = node.as_string())
        return text->get();
    return std::nullopt;
}

std::optional<std::int64_t> integer_of(const toml::node& node) {
    if (const auto* number = node.as_integer())
        return number->get();
    return std::nullopt;
}

std::optional<int> int_of(const toml::node& node) {
    std::optional<std::int64_t> value = integer_of(node);
    if (!value || *value < std::numeric_limits<int>::min() || *value > std::numeric_limits<int>::max())
        return std::nullopt;
    return static_cast<int>(*value);
}

std::string quoted_list(const std::vector<std::string>& choices) {
    std::string list;
    for (std::size_t i = 0; i < choices.size(); ++i) {
        if (i > 0)
            list += i + 1 == choices.size() ? " or " : ", ";
        list += fmt::format("\"{}\"", choices[i]);
    }
    return list;
}

bool is_keysym_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

} // namespace

namespace rules {

Rule<bool> boolean() {
    return {[](const toml::node& node) -> std::optional<bool> {
                if (const auto* flag = node.as_boolean())
                    return flag->get();
                return std::nullopt;
            },
            "must be true or false"};
}

Rule<std::string> string() { return {string_of, "must be a string"}; }

Rule<std::string> non_empty_string() {
    return {[](const toml::node& node) -> std::optional<std::string> {
                std::optional<std::string> text = string_of(node);
                if (!text || text->empty())
                    return std::nullopt;
                return text;
            },
            "must be a non-empty string"};
}

Rule<std::vector<std::string>> uri_list() {
    return {[](const toml::node& node) -> std::optional<std::vector<std::string>> {
                const toml::array* array = node.as_array();
                if (array == nullptr)
                    return std::nullopt;
                std::vector<std::string> uris;
                for (const toml::node& entry : *array) {
                    std::optional<std::string> text = string_of(entry);
                    if (!text || text->find("://") == std::string::npos)
                        return std::nullopt;
                    uris.push_back(std::move(*text));
                }
                return uris;
            },
            "must be a list of libvirt URIs, like [\"qemu+ssh://desk/system\"]"};
}

Rule<std::string> one_of(std::vector<std::string> choices) {
    std::string expectation = "must be one of " + quoted_list(choices);
    return {[choices = std::move(choices)](const toml::node& node) -> std::optional<std::string> {
                std::optional<std::string> text = string_of(node);
                if (!text || std::find(choices.begin(), choices.end(), *text) == choices.end())
                    return std::nullopt;
                return text;
            },
            std::move(expectation)};
}

Rule<int> integer_in(int min, int max) {
    return {[min, max](const toml::node& node) -> std::optional<int> {
                std::optional<int> value = int_of(node);
                if (!value || *value < min || *value > max)
                    return std::nullopt;
                return value;
            },
            fmt::format("must be an integer from {} to {}", min, max)};
}

Rule<double> number_in(double min, double max) {
    return {[min, max](const toml::node& node) -> std::optional<double> {
                std::optional<double> value;
                if (const auto* number = node.as_floating_point())
                    value = number->get();
                else if (std::optional<std::int64_t> integer = integer_of(node))
                    value = static_cast<double>(*integer);
                // Written so that NaN fails the check too.
                if (!value || !(*value >= min && *value <= max))
                    return std::nullopt;
                return value;
            },
            fmt::format("must be a number from {} to {}", min, max)};
}

Rule<LogLevel> log_level() {
    return {[](const toml::node& node) -> std::optional<LogLevel> {
                std::optional<std::string> text = string_of(node);
                for (LogLevel level : {LogLevel::Error, LogLevel::Warning, LogLevel::Info, LogLevel::Debug})
                    if (text && *text == to_string(level))
                        return level;
                return std::nullopt;
            },
            "must be one of \"error\", \"warning\", \"info\" or \"debug\""};
}

Rule<Mode> mode() {
    return {[](const toml::node& node) -> std::optional<Mode> {
                std::optional<std::string> text = string_of(node);
                return text ? parse_mode(*text) : std::nullopt;
            },
            "expected a mode like \"1920x1080\" or \"1920x1080@60\""};
}

Rule<std::pair<int, int>> position() {
    return {[](const toml::node& node) -> std::optional<std::pair<int, int>> {
                const toml::array* pair = node.as_array();
                if (!pair || pair->size() != 2)
                    return std::nullopt;
                std::optional<int> x = int_of(*pair->get(0));
                std::optional<int> y = int_of(*pair->get(1));
                if (!x || !y)
                    return std::nullopt;
                return std::pair{*x, *y};
            },
            "must be an array of two integers [x, y]"};
}

Rule<std::uint32_t> colour() {
    return {[](const toml::node& node) -> std::optional<std::uint32_t> {
                std::optional<std::string> text = string_of(node);
                constexpr std::size_t hash_and_six_digits = 7;
                if (!text || text->size() != hash_and_six_digits || (*text)[0] != '#')
                    return std::nullopt;
                std::uint32_t rgb = 0;
                const char* digits_end = text->data() + text->size();
                auto [end, error] = std::from_chars(text->data() + 1, digits_end, rgb, 16);
                if (error != std::errc() || end != digits_end)
                    return std::nullopt;
                return rgb;
            },
            "must be a colour like \"#4f9dde\""};
}

Rule<std::string> keysym_name() {
    return {[](const toml::node& node) -> std::optional<std::string> {
                std::optional<std::string> text = string_of(node);
                if (!text || text->empty() || !std::all_of(text->begin(), text->end(), is_keysym_char))
                    return std::nullopt;
                return text;
            },
            "must be an xkb keysym name such as \"Control_R\" (letters, digits and '_')"};
}

Rule<std::string> optional_keysym_name() {
    Rule<std::string> named = keysym_name();
    return {[convert = named.convert](const toml::node& node) -> std::optional<std::string> {
                if (const auto* text = node.as_string(); text && text->get().empty())
                    return std::string();
                return convert(node);
            },
            "must be an xkb keysym name such as \"Escape\" (letters, digits and '_'), or \"\" for none"};
}

Rule<GuestExitPolicy> guest_exit_policy() {
    return {[](const toml::node& node) -> std::optional<GuestExitPolicy> {
                std::optional<std::string> text = string_of(node);
                for (GuestExitPolicy policy : {GuestExitPolicy::Restart, GuestExitPolicy::Overlay, GuestExitPolicy::Exit})
                    if (text && *text == to_string(policy))
                        return policy;
                return std::nullopt;
            },
            "must be one of \"restart\" (start the guest again), \"overlay\" (show the overlay) "
            "or \"exit\" (end the session)"};
}

Rule<Transform> transform() {
    return {[](const toml::node& node) -> std::optional<Transform> {
                std::optional<std::string> text = string_of(node);
                for (int i = 0; i <= static_cast<int>(Transform::Flipped270); ++i)
                    if (text && *text == to_string(static_cast<Transform>(i)))
                        return static_cast<Transform>(i);
                return std::nullopt;
            },
            "must be one of \"normal\", \"90\", \"180\", \"270\", \"flipped\", \"flipped-90\", "
            "\"flipped-180\" or \"flipped-270\" (degrees counter-clockwise)"};
}

} // namespace rules

std::string describe(const toml::node& node) {
    constexpr std::size_t max_shown_chars = 40;
    switch (node.type()) {
    case toml::node_type::string: {
        const std::string& text = node.as_string()->get();
        if (text.size() > max_shown_chars)
            return fmt::format("\"{}...\"", text.substr(0, max_shown_chars));
        return fmt::format("\"{}\"", text);
    }
    case toml::node_type::integer: return fmt::format("{}", node.as_integer()->get());
    case toml::node_type::floating_point: return fmt::format("{}", node.as_floating_point()->get());
    case toml::node_type::boolean: return node.as_boolean()->get() ? "true" : "false";
    case toml::node_type::array: {
        std::size_t count = node.as_array()->size();
        if (count == 0)
            return "an empty array";
        return fmt::format("an array of {} value{}", count, count == 1 ? "" : "s");
    }
    case toml::node_type::table: return "a table";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
    }
    return "nothing";
}

} // namespace phyllome::config::detail
