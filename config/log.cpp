#include "config/log.hpp"

#include <atomic>
#include <cstdio>
#include <ctime>

namespace phyllome::log {
namespace {
// Read from guestview worker threads too, hence atomic; written once at start and on reload.
std::atomic<config::LogLevel> current_level{config::LogLevel::Info};

const char* tag(config::LogLevel level) {
    switch (level) {
    case config::LogLevel::Error: return "error";
    case config::LogLevel::Warning: return "warning";
    case config::LogLevel::Info: return "info";
    case config::LogLevel::Debug: return "debug";
    }
    return "?";
}
} // namespace

void set_level(config::LogLevel level) { current_level.store(level, std::memory_order_relaxed); }
config::LogLevel level() { return current_level.load(std::memory_order_relaxed); }
bool enabled(config::LogLevel l) { return static_cast<int>(l) <= static_cast<int>(level()); }

void write(config::LogLevel l, std::string_view message) {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    std::fprintf(stderr, "[%5ld.%03ld] phyllome %s: %.*s\n", static_cast<long>(ts.tv_sec),
                 ts.tv_nsec / 1000000, tag(l), static_cast<int>(message.size()), message.data());
}

} // namespace phyllome::log
