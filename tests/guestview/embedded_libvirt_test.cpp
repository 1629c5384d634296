#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "guestview/embedded_libvirt.hpp"
#include "guestview/inventory.hpp"

namespace phyllome::guestview {
namespace {

TEST(EmbeddedLibvirt, FindsTheRootOfEmbedUrisOnly) {
    EXPECT_EQ(embedded_root("qemu:///embed?root=/var/lib/x"), "/var/lib/x");
    EXPECT_EQ(embedded_root("qemu:///embed?root=/home/a%20b/state"), "/home/a b/state");
    EXPECT_EQ(embedded_root("qemu:///embed?foo=1&root=/r"), "/r");
    EXPECT_FALSE(embedded_root("qemu:///system").has_value());
    EXPECT_FALSE(embedded_root("test:///default").has_value());
    // choose_libvirt_uri's encoding decodes back to the same directory.
    const std::string uri = choose_libvirt_uri("", "", "/tmp/with space/ü", "/nonexistent-run");
    EXPECT_EQ(embedded_root(uri), "/tmp/with space/ü/phyllome/libvirt");
}

TEST(EmbeddedLibvirt, WritesAQemuConfWithoutVirtlogdOnceAndKeepsTheUsersOwn) {
    namespace fs = std::filesystem;
    char tmpl[] = "/tmp/phyllome-embed-XXXXXX";
    const fs::path dir = mkdtemp(tmpl);
    const std::string uri = "qemu:///embed?root=" + (dir / "root").string();
    EXPECT_EQ(prepare_embedded_root(uri), "");
    std::ifstream in(dir / "root/etc/qemu.conf");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(text.find("stdio_handler = \"file\""), std::string::npos);
    EXPECT_EQ(text.find("user = \"root\"") != std::string::npos, geteuid() == 0)
        << "QEMU runs as the user of the embedded driver";

    std::ofstream(dir / "root/etc/qemu.conf") << "# mine\n";
    EXPECT_EQ(prepare_embedded_root(uri), "");
    std::ifstream again(dir / "root/etc/qemu.conf");
    std::string kept((std::istreambuf_iterator<char>(again)), {});
    EXPECT_EQ(kept, "# mine\n");

    EXPECT_EQ(prepare_embedded_root("test:///default"), "");
    EXPECT_NE(prepare_embedded_root("qemu:///embed?root=/proc/forbidden"), "");
    fs::remove_all(dir);
}

} // namespace
} // namespace phyllome::guestview
