// Collects the diagnostics of one config source, stamping them with its name and positions.
#pragma once

#include <string>
#include <vector>

#include <toml++/toml.h>

#include "config/config.hpp"

namespace phyllome::config::detail {

class DiagnosticSink {
public:
    DiagnosticSink(std::string source, std::vector<Diagnostic>& out)
        : source_(std::move(source)), out_(out) {}

    void error(const toml::source_region& where, std::string key, std::string message) {
        add(Diagnostic::Severity::Error, where, std::move(key), std::move(message));
    }
    void warning(const toml::source_region& where, std::string key, std::string message) {
        add(Diagnostic::Severity::Warning, where, std::move(key), std::move(message));
    }

private:
    void add(Diagnostic::Severity severity, const toml::source_region& where, std::string key,
             std::string message) {
        out_.push_back(Diagnostic{
            .severity = severity,
            .source = source_,
            .line = static_cast<int>(where.begin.line),
            .column = static_cast<int>(where.begin.column),
            .key = std::move(key),
            .message = std::move(message),
        });
    }

    std::string source_;
    std::vector<Diagnostic>& out_;
};

} // namespace phyllome::config::detail
