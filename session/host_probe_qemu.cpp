// QEMU's D-Bus display: how the shell gets guest screens. Debian builds it as a module
// (ui-dbus.so); other builds have it built in, which only `-display help` tells.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "session/host_probes.hpp"

extern char** environ;

namespace phyllome::session::probes {
namespace {

namespace fs = std::filesystem;

CheckItem result(CheckStatus status, std::string detail, std::string action = {}, std::string brief = {}) {
    return {"qemu_dbus", "QEMU D-Bus display", status, std::move(detail), std::move(action), std::move(brief)};
}

// Any /usr/lib/*/qemu/ui-dbus.so, or /usr/lib/qemu/ui-dbus.so.
std::string find_module(const std::string& sysroot) {
    const fs::path lib = sysroot + "/usr/lib";
    std::error_code ec;
    if (fs::exists(lib / "qemu" / "ui-dbus.so", ec))
        return (lib / "qemu" / "ui-dbus.so").string();
    for (fs::directory_iterator it(lib, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path candidate = it->path() / "qemu" / "ui-dbus.so";
        std::error_code e2;
        if (fs::exists(candidate, e2))
            return candidate.string();
    }
    return {};
}

// Runs `QEMU -display help` and returns its output; empty with `error` set when it cannot run.
std::string display_help(const std::string& qemu, std::string& error) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        error = std::strerror(errno);
        return {};
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    char* argv[] = {const_cast<char*>(qemu.c_str()), const_cast<char*>("-display"), const_cast<char*>("help"), nullptr};
    pid_t pid = 0;
    // posix_spawnp: a bare name is looked up in PATH, a path is used as is.
    const int err = posix_spawnp(&pid, qemu.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    std::string out;
    if (err == 0) {
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
            if (n > 0)
                out.append(buf, static_cast<std::size_t>(n));
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    } else {
        error = std::strerror(err);
    }
    ::close(fds[0]);
    return out;
}

bool lists_dbus(const std::string& help) {
    for (std::size_t pos = 0; (pos = help.find("dbus", pos)) != std::string::npos; pos += 4) {
        const bool starts_line = pos == 0 || help[pos - 1] == '\n';
        const bool ends_word = pos + 4 == help.size() || help[pos + 4] == '\n' || help[pos + 4] == ' ';
        if (starts_line && ends_word)
            return true;
    }
    return false;
}

} // namespace

CheckItem qemu_dbus(const std::string& sysroot) {
    if (std::string module = find_module(sysroot); !module.empty())
        return result(CheckStatus::Ok, fmt::format("QEMU module {}", module));
    // Under a fake root only its own QEMU counts, so tests do not depend on the host's.
    const std::string qemu = sysroot.empty() ? "qemu-system-x86_64" : sysroot + "/usr/bin/qemu-system-x86_64";
    std::string error;
    const std::string help = display_help(qemu, error);
    if (!error.empty())
        return result(CheckStatus::Missing, fmt::format("no ui-dbus.so module and cannot run {}: {}", qemu, error),
                      "install QEMU 7.0 or later with its D-Bus display (Debian: qemu-system-x86, "
                      "qemu-system-modules-opengl on newer releases)",
                      "no QEMU");
    if (lists_dbus(help))
        return result(CheckStatus::Ok, fmt::format("{} -display help lists dbus (built in)", qemu));
    return result(CheckStatus::Missing, fmt::format("no ui-dbus.so module and {} -display help does not list dbus", qemu),
                  // Debian 13 ships QEMU's D-Bus display as a module in a package of its own.
                  "install qemu-system-modules-opengl (Debian 13 and later: QEMU's D-Bus display module), "
                  "or a QEMU 7.0 or later built with the D-Bus display (--enable-dbus-display)",
                  "no D-Bus display");
}

} // namespace phyllome::session::probes
