// find_ovmf picks a complete code + vars pair, 4 MiB first, in a directory laid out as Debian 12's
// (both pairs), Debian 13's (4 MiB only) or an older one (2 MB only); the pflash copy is writable.
#include "tests/firmware/ovmf.hpp"

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace phyllome::test {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

class Ovmf : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "phyllome-ovmf-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir = tmpl;
    }
    void TearDown() override { fs::remove_all(dir); }
    void put(const std::string& name, const std::string& content = "x") { std::ofstream(dir / name) << content; }

    fs::path dir;
};

TEST_F(Ovmf, PrefersTheFourMiBPairWhenBothAreThere) { // Debian 12
    for (auto name : {"OVMF_CODE.fd", "OVMF_VARS.fd", "OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd"})
        put(name);
    auto found = find_ovmf(dir);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->code, (dir / "OVMF_CODE_4M.fd").string());
    EXPECT_EQ(found->vars, (dir / "OVMF_VARS_4M.fd").string());
}

TEST_F(Ovmf, TakesTheFourMiBPairAlone) { // Debian 13
    put("OVMF_CODE_4M.fd");
    put("OVMF_VARS_4M.fd");
    put("OVMF_CODE_4M.secboot.fd");
    auto found = find_ovmf(dir);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->code, (dir / "OVMF_CODE_4M.fd").string());
}

TEST_F(Ovmf, FallsBackToTheTwoMBPair) {
    put("OVMF_CODE.fd");
    put("OVMF_VARS.fd");
    auto found = find_ovmf(dir);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->code, (dir / "OVMF_CODE.fd").string());
    EXPECT_EQ(found->vars, (dir / "OVMF_VARS.fd").string());
}

TEST_F(Ovmf, NeverMixesSizes) {
    put("OVMF_CODE_4M.fd"); // its vars are missing: the 2 MB pair, not 4 MiB code with 2 MB vars
    put("OVMF_CODE.fd");
    put("OVMF_VARS.fd");
    auto found = find_ovmf(dir);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->code, (dir / "OVMF_CODE.fd").string());
    EXPECT_EQ(found->vars, (dir / "OVMF_VARS.fd").string());
}

TEST_F(Ovmf, FindsNothingWithoutACompletePair) {
    EXPECT_FALSE(find_ovmf(dir));
    put("OVMF_CODE_4M.fd");
    put("OVMF_VARS.fd");
    EXPECT_FALSE(find_ovmf(dir));
    EXPECT_FALSE(find_ovmf((dir / "absent").string()));
}

TEST_F(Ovmf, TheEnvironmentPointsElsewhereAndTheReasonNamesTheDirectory) {
    ASSERT_EQ(::setenv("PHYLLOME_OVMF_DIR", dir.c_str(), 1), 0);
    EXPECT_EQ(ovmf_dir(), dir.string());
    EXPECT_THAT(ovmf_missing_reason(), ::testing::HasSubstr(dir.string()));
    put("OVMF_CODE_4M.fd");
    put("OVMF_VARS_4M.fd");
    EXPECT_EQ(ovmf_missing_reason(), "");
    ::unsetenv("PHYLLOME_OVMF_DIR");
}

TEST_F(Ovmf, PflashLoadsTheCodeReadOnlyAndAWritableCopyOfTheVars) {
    put("OVMF_CODE_4M.fd");
    put("OVMF_VARS_4M.fd", "pristine variables");
    fs::permissions(dir / "OVMF_VARS_4M.fd", fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    const OvmfFirmware firmware = *find_ovmf(dir);
    const std::string copy = (dir / "vars.fd").string();
    put("vars.fd", "left over by an earlier run");

    EXPECT_THAT(ovmf_pflash_args(firmware, copy),
                ElementsAre("-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + firmware.code, "-drive",
                            "if=pflash,format=raw,unit=1,file=" + copy));
    std::string content;
    std::getline(std::ifstream(copy), content);
    EXPECT_EQ(content, "pristine variables");
    EXPECT_NE(fs::status(copy).permissions() & fs::perms::owner_write, fs::perms::none);
    // The packaged store stays untouched.
    EXPECT_EQ(fs::status(firmware.vars).permissions() & fs::perms::owner_write, fs::perms::none);
    EXPECT_THROW(ovmf_pflash_args(firmware, (dir / "absent" / "vars.fd").string()), std::runtime_error);
}

TEST(OvmfXml, LetsLibvirtPickUefiWithoutSecureBoot) {
    const std::string os = efi_os_xml();
    EXPECT_THAT(os, ::testing::HasSubstr("<os firmware='efi'>"));
    EXPECT_THAT(os, ::testing::HasSubstr("<feature enabled='no' name='secure-boot'/>"));
    EXPECT_THAT(os, ::testing::Not(::testing::HasSubstr("<loader")));
}

TEST(OvmfHost, ThisMachineHasFirmwareWhenQemuTestsRunHere) {
    // Not a skip: on a machine with ovmf installed the real-guest tests depend on this.
    if (!fs::exists("/usr/share/OVMF"))
        GTEST_SKIP() << "ovmf is not installed";
    auto found = find_ovmf("/usr/share/OVMF");
    ASSERT_TRUE(found) << "ovmf is installed but no complete pair was found";
    EXPECT_TRUE(fs::exists(found->code));
    EXPECT_TRUE(fs::exists(found->vars));
}

} // namespace
} // namespace phyllome::test
