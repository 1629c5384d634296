// Issue 14: a Linux guest booted with the machine model a new Linux guest gets sees a TPM 2.0
// (/dev/tpm0 over CRB, emulated by swtpm); the same model on a host where libvirt cannot run
// swtpm gives it none. The guest is the benchmark's (scripts/build-bench-guest: Debian's kernel,
// whose /init reports the TPM on the serial console), booted directly into the real model's XML
// (q35, UEFI through OVMF, virtio devices) with a blank disk and a stand-in installer CD-ROM.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "embedded_guest.hpp"
#include "guestview/os_info.hpp"
#include "linux_model_guest.hpp"
#include "linux_test_guest.hpp"
#include "shell_process.hpp"
#include "tests/bench/bench_guest.hpp"
#include "tests/firmware/ovmf.hpp"

namespace phyllome::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace gv = phyllome::guestview;

class LinuxTpm : public ::testing::Test {
protected:
    void SetUp() override {
        if (const std::string why = ovmf_missing_reason(); !why.empty())
            GTEST_SKIP() << why;
        std::string error;
        db_ = gv::OsDatabase::load(error);
        if (!db_)
            GTEST_SKIP() << error;
        if (const std::string why = linux_test_guest_missing(kernel_dir_, {"virsh", "qemu-img"}); !why.empty())
            GTEST_SKIP() << why;
        // Its own embedded root: the map path test's guest may be running in another checkout.
        root_ = embed_root() + "-linux-tpm";
        fs::create_directories(root_ + "/disks");
    }

    void TearDown() override {
        guest_.reset(); // first: QEMU holds the disk
        if (!root_.empty()) {
            std::error_code ec;
            fs::remove_all(root_ + "/disks", ec);
        }
    }

    // The real model for Debian 12 on a TCG host with or without swtpm, its disk and installer
    // made, booted; returns the guest's TPM report (nullopt when none came).
    std::optional<std::string> boot_linux_model(bool host_tpm) {
        LinuxModelGuest guest = linux_model_guest(*db_, host_tpm ? "phyllome-linux-tpm" : "phyllome-linux-no-tpm",
                                                  kernel_dir_, root_, root_ + "/disks", host_tpm);
        EXPECT_EQ(guest.error, "");
        if (!guest.error.empty())
            return std::nullopt;
        EXPECT_EQ(guest.model.tpm, host_tpm) << "a Linux guest gets a TPM exactly when the host can emulate one";
        EXPECT_EQ(guest.boot.machine_xml.find("<tpm model='tpm-crb'>") != std::string::npos, host_tpm)
            << guest.boot.machine_xml;
        guest_.emplace(guest.boot);
        const std::string error = guest_->start();
        EXPECT_TRUE(error.empty()) << error;
        if (!error.empty())
            return std::nullopt;
        // OVMF under TCG takes its time before the kernel runs.
        return guest_->wait_tpm_report(240s);
    }

    std::unique_ptr<gv::OsDatabase> db_;
    std::string kernel_dir_, root_;
    std::optional<bench::BenchGuest> guest_; // destroyed and undefined with its NVRAM and TPM state
};

TEST_F(LinuxTpm, ALinuxGuestOfTheLinuxModelSeesTpm0) {
    if (!have_program("swtpm") || !have_program("swtpm_setup"))
        GTEST_SKIP() << "swtpm is missing (Debian: swtpm, swtpm-tools)";
    const auto report = boot_linux_model(true);
    ASSERT_TRUE(report.has_value()) << (guest_ ? guest_->serial_tail() : "");
    EXPECT_TRUE(report->starts_with("/dev/tpm0 present")) << *report;
    EXPECT_NE(report->find("TPM 2,"), std::string::npos) << "the model asks for TPM 2.0: " << *report;
    EXPECT_NE(report->find("/dev/tpmrm0 present"), std::string::npos) << *report;
}

// The control: the same guest and model without swtpm has no TPM, so the report above comes
// from the model's <tpm>, not from the kernel or firmware alone.
TEST_F(LinuxTpm, WithoutSwtpmTheModelHasNoTpmAndTheGuestSeesNone) {
    const auto report = boot_linux_model(false);
    ASSERT_TRUE(report.has_value()) << (guest_ ? guest_->serial_tail() : "");
    EXPECT_EQ(*report, "none");
}

} // namespace
} // namespace phyllome::test
