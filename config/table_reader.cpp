#include "config/table_reader.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace phyllome::config::detail {
namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> previous(b.size() + 1);
    std::vector<std::size_t> current(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        previous[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
        }
        std::swap(previous, current);
    }
    return previous[b.size()];
}

// The known key a typo most likely meant, if any is close enough to be worth suggesting.
std::optional<std::string> closest_known(std::string_view unknown,
                                         const std::set<std::string, std::less<>>& known) {
    constexpr std::size_t max_typo_distance = 2;
    std::optional<std::string> best;
    std::size_t best_distance = max_typo_distance + 1;
    for (const std::string& candidate : known) {
        std::size_t distance = edit_distance(unknown, candidate);
        if (distance < best_distance) {
            best = candidate;
            best_distance = distance;
        }
    }
    return best;
}

} // namespace

TableReader::TableReader(const toml::table& table, std::string path, DiagnosticSink& sink)
    : table_(table), path_(std::move(path)), sink_(sink) {}

const toml::node* TableReader::take(std::string_view key) {
    known_.emplace(key);
    return table_.get(key);
}

const toml::table* TableReader::take_table(std::string_view key) {
    const toml::node* node = take(key);
    if (!node)
        return nullptr;
    if (const toml::table* table = node->as_table())
        return table;
    sink_.error(node->source(), key_path(key),
                fmt::format("must be a table, written as [{}], got {}", key_path(key), describe(*node)));
    return nullptr;
}

std::string TableReader::key_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
}

void TableReader::report_missing(std::string_view key, std::string_view what) {
    sink_.error(table_.source(), key_path(key), fmt::format("missing; {}", what));
}

void TableReader::report_conflict(std::string_view key, std::string message) {
    const toml::node* node = take(key);
    sink_.error(node ? node->source() : table_.source(), key_path(key), std::move(message));
}

void TableReader::report_invalid(std::string_view key, const toml::node& node,
                                 std::string_view expectation) {
    sink_.error(node.source(), key_path(key), fmt::format("{}, got {}", expectation, describe(node)));
}

void TableReader::warn_unknown_keys() const {
    for (auto&& [key, node] : table_) {
        if (known_.contains(key.str()))
            continue;
        std::string message = node.is_table() ? "unknown table, ignored" : "unknown key, ignored";
        if (std::optional<std::string> suggestion = closest_known(key.str(), known_))
            message += fmt::format(" (did you mean \"{}\"?)", *suggestion);
        sink_.warning(key.source(), key_path(key.str()), std::move(message));
    }
}

} // namespace phyllome::config::detail
