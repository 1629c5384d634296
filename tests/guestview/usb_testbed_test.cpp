// UsbTestbed across processes, as the integration tests use it: a child started with the
// testbed's child_environment() lists the devices the parent added and gets its uevents.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/guestview/udev_event_sender.hpp"
#include "tests/guestview/usb_testbed.hpp"

extern char** environ;

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;

// The helper program with pipes on its stdin and stdout; closing stdin ends it.
class WatchPrinter {
public:
    WatchPrinter(const std::string& program, const std::vector<std::string>& extra_environment) {
        int to_child[2], from_child[2];
        if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0)
            throw std::runtime_error("pipe failed");
        std::vector<std::string> environment;
        for (char** entry = environ; *entry; ++entry) {
            std::string_view text(*entry);
            bool replaced = false;
            for (const std::string& extra : extra_environment)
                replaced |= text.substr(0, text.find('=')) == std::string_view(extra).substr(0, extra.find('='));
            if (!replaced)
                environment.emplace_back(text);
        }
        environment.insert(environment.end(), extra_environment.begin(), extra_environment.end());
        std::vector<char*> envp;
        for (std::string& entry : environment)
            envp.push_back(entry.data());
        envp.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, to_child[0], STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&actions, from_child[1], STDOUT_FILENO);
        std::string argv0 = program;
        char* argv[] = {argv0.data(), nullptr};
        int error = posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv, envp.data());
        posix_spawn_file_actions_destroy(&actions);
        close(to_child[0]);
        close(from_child[1]);
        stdin_ = to_child[1];
        stdout_ = from_child[0];
        if (error != 0)
            throw std::runtime_error(std::string("cannot start ") + program + ": " + std::strerror(error));
    }
    ~WatchPrinter() {
        close(stdin_);
        int status = 0;
        waitpid(pid_, &status, 0);
        close(stdout_);
    }
    WatchPrinter(const WatchPrinter&) = delete;
    WatchPrinter& operator=(const WatchPrinter&) = delete;

    // The next line, or nullopt when none came within `timeout` (or the child ended).
    std::optional<std::string> next_line(std::chrono::milliseconds timeout = 5000ms) {
        const auto end = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (std::size_t newline = buffer_.find('\n'); newline != std::string::npos) {
                std::string line = buffer_.substr(0, newline);
                buffer_.erase(0, newline + 1);
                return line;
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
            if (left.count() <= 0)
                return std::nullopt;
            pollfd fd{.fd = stdout_, .events = POLLIN, .revents = 0};
            if (poll(&fd, 1, static_cast<int>(left.count())) <= 0)
                continue;
            char chunk[512];
            ssize_t got = read(stdout_, chunk, sizeof chunk);
            if (got <= 0)
                return std::nullopt;
            buffer_.append(chunk, static_cast<std::size_t>(got));
        }
    }

private:
    pid_t pid_ = -1;
    int stdin_ = -1;
    int stdout_ = -1;
    std::string buffer_;
};

TEST(UsbTestbedTest, AChildProcessSeesTheDevicesAndGetsTheUevents) {
    if (!UsbTestbed::preload_available())
        GTEST_SKIP() << "umockdev's preload (libumockdev-preload.so.0) is not installed";
    // As in the integration tests: this process keeps the real /sys, only the child has the preload.
    EXPECT_FALSE(UsbTestbed::preload_loaded());
    const char* program = std::getenv("PHYLLOME_USB_WATCH_PRINT");
    ASSERT_NE(program, nullptr) << "meson sets PHYLLOME_USB_WATCH_PRINT to the helper program";

    UsbTestbed testbed;
    testbed.add_quietly({.vendor = 0x046d, .product = 0xc52b, .vendor_name = "Logitech, Inc.",
                         .product_name = "Unifying Receiver", .interfaces = ":030101:030102:", .sysname = "1-2"});
    WatchPrinter child(program, testbed.child_environment());
    EXPECT_EQ(child.next_line(), "present 1-2 046d:c52b Logitech Unifying Receiver");
    ASSERT_EQ(child.next_line(), "ready");

    std::string disk = testbed.add({.vendor_name = "SanDisk Corp.", .product_name = "Ultra", .sysname = "2-1"});
    EXPECT_EQ(child.next_line(), "added 2-1 0781:5581 SanDisk Ultra");
    testbed.remove(disk);
    EXPECT_EQ(child.next_line(), "removed 2-1 0781:5581 SanDisk Ultra");
    // A hub is not listed: the next line is the device after it.
    testbed.add({.device_class = "09", .sysname = "3-1"});
    testbed.add({.vendor = 0x1050, .product = 0x0407, .interfaces = ":030000:", .sysname = "3-1.2"});
    EXPECT_EQ(child.next_line(), "added 3-1.2 1050:0407 USB device 1050:0407");
}

TEST(UsbTestbedTest, TheChildEnvironmentNamesThePreloadAndTheTestbed) {
    UsbTestbed testbed;
    std::vector<std::string> environment = testbed.child_environment();
    ASSERT_EQ(environment.size(), 3u);
    EXPECT_TRUE(environment[2].starts_with("ASAN_OPTIONS=")) << environment[2];
    EXPECT_TRUE(environment[2].ends_with("verify_asan_link_order=0")) << environment[2];
    EXPECT_EQ(environment[0], "LD_PRELOAD=libumockdev-preload.so.0");
    EXPECT_EQ(environment[1], "UMOCKDEV_DIR=" + testbed.dir());
    EXPECT_EQ(access(testbed.dir().c_str(), F_OK), 0);
}

TEST(UsbTestbedTest, HashesAsLibudevDoes) {
    // libudev's monitor filters compare these; the watcher tests' events pass them.
    EXPECT_EQ(udev_string_hash(""), 0u);
    EXPECT_NE(udev_string_hash("usb"), udev_string_hash("usb_device"));
    EXPECT_EQ(udev_string_hash("usb"), udev_string_hash(std::string("usb")));
}

TEST(UsbTestbedTest, AnEventWithNoMonitorReachesNone) {
    UsbTestbed testbed;
    std::string syspath = testbed.add_quietly({.sysname = "1-1"});
    EXPECT_EQ(send_udev_event(testbed.dir(), syspath, "change", 1), 0);
    EXPECT_THROW(send_udev_event(testbed.dir(), "/sys/devices/9-9", "add", 2), std::runtime_error);
}

} // namespace
} // namespace phyllome::test
