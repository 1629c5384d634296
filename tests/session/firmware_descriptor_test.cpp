// QEMU firmware descriptors as the host check reads them: Debian's real ones, the override rules
// of their directories, and text that is not a descriptor.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "session/firmware_descriptor.hpp"

namespace phyllome::session {
namespace {

namespace fs = std::filesystem;

// Debian 13's ovmf, 40-edk2-x86_64-secure-enrolled.json, verbatim.
constexpr const char* debian_enrolled = R"({
    "description": "UEFI firmware for x86_64, with Secure Boot, required SMM, SB enabled, MS certs enrolled",
    "interface-types": [
        "uefi"
    ],
    "mapping": {
        "device": "flash",
        "executable": {
            "filename": "/usr/share/OVMF/OVMF_CODE_4M.ms.fd",
            "format": "raw"
        },
        "nvram-template": {
            "filename": "/usr/share/OVMF/OVMF_VARS_4M.ms.fd",
            "format": "raw"
        }
    },
    "targets": [
        {
            "architecture": "x86_64",
            "machines": [
                "pc-q35-*"
            ]
        }
    ],
    "features": [
        "acpi-s3",
        "amd-sev",
        "enrolled-keys",
        "requires-smm",
        "secure-boot",
        "verbose-dynamic"
    ],
    "tags": [

    ]
}
)";

TEST(FirmwareDescriptor, DebiansEnrolledSecureBootBuildIsWhatWindows11Needs) {
    std::string error;
    const auto d = parse_firmware_descriptor(debian_enrolled, error);
    ASSERT_TRUE(d.has_value()) << error;
    EXPECT_EQ(d->device, "flash");
    EXPECT_EQ(d->executable, "/usr/share/OVMF/OVMF_CODE_4M.ms.fd");
    EXPECT_EQ(d->architectures, std::vector<std::string>{"x86_64"});
    EXPECT_TRUE(d->has("requires-smm"));
    EXPECT_TRUE(d->windows_secure_boot());
}

TEST(FirmwareDescriptor, SecureBootWithoutMicrosoftsKeysOrForAnotherArchitectureIsNot) {
    std::string error;
    const auto no_keys = parse_firmware_descriptor(
        R"({"interface-types":["uefi"],"targets":[{"architecture":"x86_64"}],"features":["secure-boot"]})", error);
    ASSERT_TRUE(no_keys.has_value()) << error;
    EXPECT_TRUE(no_keys->x86_64_uefi());
    EXPECT_FALSE(no_keys->windows_secure_boot());
    const auto arm = parse_firmware_descriptor(
        R"({"interface-types":["uefi"],"targets":[{"architecture":"aarch64"}],)"
        R"("features":["secure-boot","enrolled-keys"],"mapping":{"device":"memory","filename":"/fw.bin"}})",
        error);
    ASSERT_TRUE(arm.has_value()) << error;
    EXPECT_FALSE(arm->windows_secure_boot());
    EXPECT_EQ(arm->executable, "/fw.bin") << "memory-mapped firmware names its file in the mapping itself";
    const auto bios = parse_firmware_descriptor(
        R"({"interface-types":["bios"],"targets":[{"architecture":"x86_64"}],"features":["secure-boot","enrolled-keys"]})",
        error);
    ASSERT_TRUE(bios.has_value()) << error;
    EXPECT_FALSE(bios->windows_secure_boot());
}

TEST(FirmwareDescriptor, EscapesAndUnicodeAreDecoded) {
    std::string error;
    const auto d = parse_firmware_descriptor(
        R"({"description":"a \"quoted\" \u00e9\ud83d\ude00 \/ name\n","features":[1, true, null, "x"]})", error);
    ASSERT_TRUE(d.has_value()) << error;
    EXPECT_EQ(d->description, "a \"quoted\" \xc3\xa9\xf0\x9f\x98\x80 / name\n");
    EXPECT_EQ(d->features, std::vector<std::string>{"x"}) << "only strings count as features";
}

TEST(FirmwareDescriptor, TextThatIsNoDescriptorIsRefusedWithAReason) {
    for (const char* bad : {"", "[]", "{", R"({"a":})", R"({"a" 1})", R"({"a":"unterminated})", R"({"a":1,})",
                            R"({"a":[1 2]})", R"({"a":"\q"})", R"({"a":"\u12"})", "{} trailing", "{\"a\":\"\x01\"}",
                            R"({"a":nope})"}) {
        std::string error;
        EXPECT_FALSE(parse_firmware_descriptor(bad, error).has_value()) << bad;
        EXPECT_FALSE(error.empty()) << bad;
    }
    // Deep nesting is refused, not recursed into until the stack ends.
    std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
    std::string error;
    EXPECT_FALSE(parse_firmware_descriptor(deep, error).has_value());
    EXPECT_NE(error.find("nested too deep"), std::string::npos) << error;
}

TEST(FirmwareDescriptor, LaterDirectoriesOverrideByNameAndAnEmptyFileHides) {
    const fs::path root = fs::temp_directory_path() / ("phyllome-fw-test-" + std::to_string(getpid()));
    fs::remove_all(root);
    fs::create_directories(root / "usr/share/qemu/firmware");
    fs::create_directories(root / "etc/qemu/firmware");
    auto write = [&](const fs::path& p, const std::string& text) { std::ofstream(root / p) << text; };
    write("usr/share/qemu/firmware/40-enrolled.json", "{}");
    write("usr/share/qemu/firmware/60-plain.json", "{}");
    write("usr/share/qemu/firmware/README", "not a descriptor");
    write("etc/qemu/firmware/40-enrolled.json", ""); // the administrator hides it
    write("etc/qemu/firmware/50-local.json", "{}");
    write("etc/qemu/firmware/60-plain.json", "{}");
    const auto files = firmware_descriptor_files(root.string());
    fs::remove_all(root);
    EXPECT_EQ(files, (std::vector<std::string>{(root / "etc/qemu/firmware/50-local.json").string(),
                                               (root / "etc/qemu/firmware/60-plain.json").string()}));
}

} // namespace
} // namespace phyllome::session
