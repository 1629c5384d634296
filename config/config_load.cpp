// load(): finds the config file the way the XDG base directory spec says and parses it.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include "config/config.hpp"

namespace phyllome::config {
namespace {

constexpr std::string_view relative_config_path = "phyllome/shell.toml";

struct FileCloser {
    void operator()(std::FILE* file) const { std::fclose(file); }
};

// The file's text, or the reason it could not be read.
struct FileText {
    std::optional<std::string> text;
    std::string error;
};

FileText read_file(const std::string& path) {
    std::unique_ptr<std::FILE, FileCloser> file{std::fopen(path.c_str(), "rb")};
    if (!file)
        return {std::nullopt, std::strerror(errno)};
    std::string text;
    char buffer[4096];
    std::size_t count = 0;
    while ((count = std::fread(buffer, 1, sizeof buffer, file.get())) > 0)
        text.append(buffer, count);
    // fopen() succeeds on a directory; the read is what fails (EISDIR).
    if (std::ferror(file.get()))
        return {std::nullopt, std::strerror(errno)};
    return {std::move(text), {}};
}

LoadResult load_file(const std::string& path) {
    FileText file = read_file(path);
    if (!file.text) {
        LoadResult result;
        result.diagnostics.push_back(Diagnostic{
            .severity = Diagnostic::Severity::Error,
            .source = path,
            .line = 0,
            .column = 0,
            .key = {},
            .message = "cannot read the config file: " + file.error,
        });
        return result;
    }
    LoadResult result = parse(*file.text, path);
    result.path = path;
    return result;
}

std::string non_empty_env(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

// The per-user file first, so a user can override the system-wide one.
std::vector<std::filesystem::path> search_path(std::string_view sysconfdir) {
    std::vector<std::filesystem::path> candidates;
    std::filesystem::path config_home = non_empty_env("XDG_CONFIG_HOME");
    // The XDG spec says to ignore a relative XDG_CONFIG_HOME, like an unset one.
    if (!config_home.is_absolute()) {
        std::string home = non_empty_env("HOME");
        config_home = home.empty() ? std::filesystem::path() : std::filesystem::path(home) / ".config";
    }
    if (!config_home.empty())
        candidates.push_back(config_home / relative_config_path);
    if (!sysconfdir.empty())
        candidates.push_back(std::filesystem::path(sysconfdir) / relative_config_path);
    return candidates;
}

} // namespace

LoadResult load(const std::string& explicit_path, std::string_view sysconfdir) {
    if (!explicit_path.empty())
        return load_file(explicit_path);
    for (const std::filesystem::path& candidate : search_path(sysconfdir)) {
        // A file that exists but cannot be read is reported rather than skipped, so the user
        // learns why their settings are not applied.
        std::error_code error;
        if (std::filesystem::exists(candidate, error))
            return load_file(candidate.string());
    }
    return {};
}

} // namespace phyllome::config
