// Lookups over a LoadResult's diagnostics, shared by the config tests.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace phyllome::config::test {

inline std::vector<Diagnostic> with_severity(const LoadResult& result, Diagnostic::Severity severity) {
    std::vector<Diagnostic> matching;
    std::copy_if(result.diagnostics.begin(), result.diagnostics.end(), std::back_inserter(matching),
                 [&](const Diagnostic& diagnostic) { return diagnostic.severity == severity; });
    return matching;
}

inline std::vector<Diagnostic> errors(const LoadResult& result) {
    return with_severity(result, Diagnostic::Severity::Error);
}

inline std::vector<Diagnostic> warnings(const LoadResult& result) {
    return with_severity(result, Diagnostic::Severity::Warning);
}

// All diagnostics as text, so a failing assertion shows what was actually reported.
inline std::string dump(const LoadResult& result) {
    std::string text;
    for (const Diagnostic& diagnostic : result.diagnostics)
        text += diagnostic.to_string() + "\n";
    return text;
}

} // namespace phyllome::config::test
