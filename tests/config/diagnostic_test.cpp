// Diagnostic::to_string() and LoadResult::has_errors().
#include <gtest/gtest.h>

#include "config/config.hpp"

namespace phyllome::config {
namespace {

Diagnostic make(Diagnostic::Severity severity, std::string source, int line, int column, std::string key,
                std::string message) {
    return Diagnostic{severity, std::move(source), line, column, std::move(key), std::move(message)};
}

constexpr auto error = Diagnostic::Severity::Error;
constexpr auto warning = Diagnostic::Severity::Warning;

TEST(DiagnosticText, FullForm) {
    EXPECT_EQ(make(error, "shell.toml", 3, 15, "keyboard.repeat_rate", "must be an integer").to_string(),
              "shell.toml:3:15: error: keyboard.repeat_rate: must be an integer");
}

TEST(DiagnosticText, WarningSeverity) {
    EXPECT_EQ(make(warning, "shell.toml", 7, 1, "pointer.speed", "unknown key, ignored").to_string(),
              "shell.toml:7:1: warning: pointer.speed: unknown key, ignored");
}

TEST(DiagnosticText, OmitsEmptyParts) {
    EXPECT_EQ(make(error, "shell.toml", 2, 0, "", "bad").to_string(), "shell.toml:2: error: bad");
    EXPECT_EQ(make(error, "/etc/phyllome/shell.toml", 0, 0, "", "cannot read").to_string(),
              "/etc/phyllome/shell.toml: error: cannot read");
    EXPECT_EQ(make(error, "shell.toml", 0, 5, "general.log_level", "bad").to_string(),
              "shell.toml: error: general.log_level: bad");
    EXPECT_EQ(make(error, "", 4, 2, "", "bad").to_string(), "4:2: error: bad");
    EXPECT_EQ(make(warning, "", 0, 0, "", "bad").to_string(), "warning: bad");
}

TEST(LoadResultErrors, OnlyErrorsCount) {
    LoadResult result;
    EXPECT_FALSE(result.has_errors());
    result.diagnostics.push_back(make(warning, "x", 1, 1, "k", "w"));
    EXPECT_FALSE(result.has_errors());
    result.diagnostics.push_back(make(error, "x", 2, 1, "k", "e"));
    EXPECT_TRUE(result.has_errors());
}

} // namespace
} // namespace phyllome::config
