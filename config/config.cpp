// The small value operations of the public config API; parsing and loading live in
// config_parse.cpp and config_load.cpp.
#include "config/config.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace phyllome::config {

std::string_view to_string(LogLevel level) {
    switch (level) {
    case LogLevel::Error: return "error";
    case LogLevel::Warning: return "warning";
    case LogLevel::Info: return "info";
    case LogLevel::Debug: return "debug";
    }
    return "unknown";
}

std::string_view to_string(GuestExitPolicy policy) {
    switch (policy) {
    case GuestExitPolicy::Restart: return "restart";
    case GuestExitPolicy::Overlay: return "overlay";
    case GuestExitPolicy::Exit: return "exit";
    }
    return "unknown";
}

std::string_view to_string(Transform transform) {
    switch (transform) {
    case Transform::Normal: return "normal";
    case Transform::Rotate90: return "90";
    case Transform::Rotate180: return "180";
    case Transform::Rotate270: return "270";
    case Transform::Flipped: return "flipped";
    case Transform::Flipped90: return "flipped-90";
    case Transform::Flipped180: return "flipped-180";
    case Transform::Flipped270: return "flipped-270";
    }
    return "unknown";
}

std::string Diagnostic::to_string() const {
    std::string text = source;
    if (line > 0) {
        text += text.empty() ? fmt::format("{}", line) : fmt::format(":{}", line);
        if (column > 0)
            text += fmt::format(":{}", column);
    }
    if (!text.empty())
        text += ": ";
    text += severity == Severity::Error ? "error: " : "warning: ";
    if (!key.empty())
        text += key + ": ";
    text += message;
    return text;
}

bool LoadResult::has_errors() const {
    return std::any_of(diagnostics.begin(), diagnostics.end(), [](const Diagnostic& diagnostic) {
        return diagnostic.severity == Diagnostic::Severity::Error;
    });
}

} // namespace phyllome::config
