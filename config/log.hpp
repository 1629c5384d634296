// Levelled logging to stderr, shared by every part of the shell.
#pragma once

#include <fmt/format.h>
#include <string_view>

#include "config/config.hpp"

namespace phyllome::log {

void set_level(config::LogLevel level);
config::LogLevel level();
bool enabled(config::LogLevel level);
void write(config::LogLevel level, std::string_view message);

template <typename... Args>
void error(fmt::format_string<Args...> format, Args&&... args) {
    write(config::LogLevel::Error, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(config::LogLevel::Warning))
        write(config::LogLevel::Warning, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(config::LogLevel::Info))
        write(config::LogLevel::Info, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(config::LogLevel::Debug))
        write(config::LogLevel::Debug, fmt::format(format, std::forward<Args>(args)...));
}

} // namespace phyllome::log
