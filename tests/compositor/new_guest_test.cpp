#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "compositor/new_guest.hpp"

namespace phyllome::compositor {
namespace {

TEST(NewGuest, NameComesFromTheInstallerAndIsMadeUnique) {
    std::set<std::string> taken;
    auto is_taken = [&](const std::string& n) { return taken.count(n) > 0; };
    EXPECT_EQ(guest_name_for_installer("/home/u/Downloads/debian-12.5.0-amd64-netinst.iso", is_taken),
              "debian-12.5.0-amd64-netinst");
    taken = {"Win11_23H2", "Win11_23H2-2"};
    EXPECT_EQ(guest_name_for_installer("/isos/Win11_23H2.iso", is_taken), "Win11_23H2-3");
    // Characters libvirt names cannot hold become '-', and a name never starts with '.' or '-'.
    EXPECT_EQ(guest_name_for_installer("/isos/..my distro (live).iso", is_taken), "my-distro--live-");
    EXPECT_EQ(guest_name_for_installer("/isos/....iso", is_taken), "guest");
    EXPECT_LE(guest_name_for_installer("/isos/" + std::string(200, 'a') + ".iso", is_taken).size(), 56u);
}

TEST(NewGuest, DisksGoBesideTheSystemImagesOrIntoTheUsersData) {
    EXPECT_EQ(default_disk_dir("qemu:///system"), "/var/lib/libvirt/images");
    setenv("XDG_DATA_HOME", "/data/home", 1);
    EXPECT_EQ(default_disk_dir("qemu:///session"), "/data/home/phyllome/images");
    unsetenv("XDG_DATA_HOME");
    setenv("HOME", "/home/u", 1);
    EXPECT_EQ(default_disk_dir("qemu:///embed?root=/x"), "/home/u/.local/share/phyllome/images");
}

} // namespace
} // namespace phyllome::compositor
