// Reads the keys of one TOML table into config fields, reporting bad values and unknown keys.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "config/diagnostic_sink.hpp"
#include "config/value_rules.hpp"

namespace phyllome::config::detail {

// Every key the reader is asked about counts as known, whether present or not, so the keys
// left over at the end are exactly the unknown ones; no second list of names to keep in sync.
class TableReader {
public:
    // `path` is the dotted name of the table ("keyboard", "app[1]"); empty for the root.
    TableReader(const toml::table& table, std::string path, DiagnosticSink& sink);

    // The converted value of `key`; nullopt when absent or invalid (invalid is reported).
    template <typename T>
    std::optional<T> get(std::string_view key, const Rule<T>& rule) {
        const toml::node* node = take(key);
        if (!node)
            return std::nullopt;
        std::optional<T> value = rule.convert(*node);
        if (!value)
            report_invalid(key, *node, rule.expectation);
        return value;
    }

    // Overwrites `target` only with a valid value, so a bad one keeps the default.
    template <typename T>
    void read(std::string_view key, T& target, const Rule<T>& rule) {
        if (std::optional<T> value = get(key, rule))
            target = std::move(*value);
    }

    // The raw value of `key`, marking it known; nullptr when absent.
    const toml::node* take(std::string_view key);
    // Like take(), but reports and returns nullptr when the value is not a table.
    const toml::table* take_table(std::string_view key);

    std::string key_path(std::string_view key) const;
    // Reports a required key that is absent, at the table's own position.
    void report_missing(std::string_view key, std::string_view what);
    // Reports a value that is fine alone but not together with others, at the value (or at the
    // table when the key is absent).
    void report_conflict(std::string_view key, std::string message);
    void warn_unknown_keys() const;

private:
    void report_invalid(std::string_view key, const toml::node& node, std::string_view expectation);

    const toml::table& table_;
    std::string path_;
    DiagnosticSink& sink_;
    std::set<std::string, std::less<>> known_;
};

} // namespace phyllome::config::detail
