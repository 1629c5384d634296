#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>

#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

#include "guestview/inventory.hpp"
#include "guestview/libvirt_socket_watch.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview {
namespace {

using testing::SocketFile;
using testing::TempDir;

// Sets or unsets an environment variable for one test, restoring it afterwards.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name))
            old_ = old;
        value ? setenv(name, value, 1) : unsetenv(name);
    }
    ~ScopedEnv() { old_ ? setenv(name_, old_->c_str(), 1) : unsetenv(name_); }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

class ChooseLibvirtUri : public ::testing::Test {
protected:
    std::string choose(std::string_view cli, std::string_view config) const {
        return choose_libvirt_uri(cli, config, "/state", run_dir.path().string());
    }
    TempDir run_dir;
};

TEST_F(ChooseLibvirtUri, CommandLineWins) {
    SocketFile daemon{run_dir.path() / "libvirt" / "libvirt-sock"};
    EXPECT_EQ(choose("test:///default", "qemu:///session"), "test:///default");
}

TEST_F(ChooseLibvirtUri, ThenTheConfig) {
    SocketFile daemon{run_dir.path() / "libvirt" / "libvirt-sock"};
    EXPECT_EQ(choose("", "qemu:///session"), "qemu:///session");
}

TEST_F(ChooseLibvirtUri, ThenTheSystemLibvirtd) {
    SocketFile daemon{run_dir.path() / "libvirt" / "libvirt-sock"};
    EXPECT_EQ(choose("", ""), "qemu:///system");
}

TEST_F(ChooseLibvirtUri, ThenTheSystemVirtqemud) {
    SocketFile daemon{run_dir.path() / "libvirt" / "virtqemud-sock"};
    EXPECT_EQ(choose("", ""), "qemu:///system");
}

TEST_F(ChooseLibvirtUri, ElseAnEmbeddedDriverInTheStateHome) {
    EXPECT_EQ(choose("", ""), "qemu:///embed?root=/state/phyllome/libvirt");
}

TEST_F(ChooseLibvirtUri, AFileThatIsNoSocketDoesNotCount) {
    std::filesystem::create_directories(run_dir.path() / "libvirt");
    std::ofstream{run_dir.path() / "libvirt" / "libvirt-sock"} << "stale";
    EXPECT_EQ(choose("", ""), "qemu:///embed?root=/state/phyllome/libvirt");
}

TEST_F(ChooseLibvirtUri, EmbedRootIsEscaped) {
    EXPECT_EQ(choose_libvirt_uri("", "", "/home/a b&c", run_dir.path().string()),
              "qemu:///embed?root=/home/a%20b%26c/phyllome/libvirt");
}

TEST(DefaultStateHome, XdgStateHomeFirst) {
    ScopedEnv xdg{"XDG_STATE_HOME", "/xdg/state"};
    ScopedEnv home{"HOME", "/home/user"};
    EXPECT_EQ(default_state_home(), "/xdg/state");
}

TEST(DefaultStateHome, ElseHome) {
    ScopedEnv xdg{"XDG_STATE_HOME", nullptr};
    ScopedEnv home{"HOME", "/home/user"};
    EXPECT_EQ(default_state_home(), "/home/user/.local/state");
}

TEST(DefaultStateHome, RelativeXdgStateHomeIsIgnored) {
    ScopedEnv xdg{"XDG_STATE_HOME", "relative/state"};
    ScopedEnv home{"HOME", "/home/user"};
    EXPECT_EQ(default_state_home(), "/home/user/.local/state");
}

// Which directory the shell watches to reconnect the moment a local daemon is back.
TEST(LibvirtSocketDirectory, LocalDaemonsHaveOneRemoteAndInProcessDriversNone) {
    EXPECT_EQ(libvirt_socket_directory("qemu:///system", true), "/run/libvirt");
    EXPECT_EQ(libvirt_socket_directory("qemu+unix:///system", false), "/run/libvirt");
    EXPECT_EQ(libvirt_socket_directory("test+unix:///default?socket=/tmp/d/libvirt-sock", true), "/tmp/d");
    EXPECT_EQ(libvirt_socket_directory("qemu:///system?socket=/tmp/a%20b/virtqemud-sock", true), "/tmp/a b");
    EXPECT_EQ(libvirt_socket_directory("test+unix:///default", true), "/run/libvirt");
    EXPECT_EQ(libvirt_socket_directory("test:///default", true), "");
    EXPECT_EQ(libvirt_socket_directory("qemu:///embed?root=/tmp/x", false), "");
    EXPECT_EQ(libvirt_socket_directory("qemu+ssh://host/system", true), "");
    EXPECT_EQ(libvirt_socket_directory("qemu+tcp://host/system", true), "");
    EXPECT_EQ(libvirt_socket_directory("qemu://host/system", true), "");
    EXPECT_EQ(libvirt_socket_directory("not a uri", true), "");
    const char* before = std::getenv("XDG_RUNTIME_DIR");
    const std::optional<std::string> saved = before ? std::optional<std::string>(before) : std::nullopt;
    setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
    EXPECT_EQ(libvirt_socket_directory("qemu:///session", false), "/run/user/1000/libvirt");
    EXPECT_EQ(libvirt_socket_directory("test+unix:///default", false), "/run/user/1000/libvirt");
    if (saved)
        setenv("XDG_RUNTIME_DIR", saved->c_str(), 1);
    else
        unsetenv("XDG_RUNTIME_DIR");
}

} // namespace
} // namespace phyllome::guestview
