// The Linux test guest (linux_test_guest.hpp) booted in the machine model the shell gives a new
// Debian guest (q35, OVMF with its NVRAM, a TPM through swtpm when the host has it), the way the
// TPM, duplicate and backup tests boot it: one description, so they test the same guest.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "guestview/domain_model.hpp"
#include "guestview/machine_model.hpp"
#include "guestview/os_info.hpp"
#include "shell_process.hpp"
#include "tests/bench/bench_guest.hpp"

namespace phyllome::test {

struct LinuxModelGuest {
    guestview::MachineModel model;
    std::string disk;            // the guest's 1 GB qcow2 disk, made
    bench::BenchGuestSpec boot;  // machine_xml: the model's domain XML; 5 fps for 1 s, then it holds its frame
    std::string error;           // why it could not be made (then nothing else is set)
};

// Guest `name` of the model for Debian 12 on a TCG host with user networking and, when `tpm`, a
// TPM: its disk made in `disk_dir` (its first `pattern_bytes` written with 0x5a), a stand-in
// installer ISO beside that folder, booted by `kernel_dir`'s kernel in the embedded `embed_root`.
inline LinuxModelGuest linux_model_guest(const guestview::OsDatabase& db, const std::string& name,
                                         const std::string& kernel_dir, const std::string& embed_root,
                                         const std::string& disk_dir, bool tpm, std::uint64_t pattern_bytes = 0) {
    using namespace std::chrono_literals;
    namespace gv = phyllome::guestview;
    LinuxModelGuest guest;
    const auto os = db.find("debian12");
    if (!os || os->family != gv::OsFamily::Linux) {
        guest.error = "osinfo-db lacks debian12";
        return guest;
    }
    gv::ModelHost host;
    host.network = gv::GuestNetwork::User;
    host.kvm = false; // TCG: the tests' machines may have no KVM
    host.tpm = tpm;
    guest.model = gv::choose_model(*os, host);

    gv::GuestSpec spec;
    spec.name = name;
    spec.iso_path = (std::filesystem::path(disk_dir).parent_path() / "installer.iso").string();
    spec.disk_dir = disk_dir;
    spec.encrypt_disk = false;
    spec.memory_mb = 512;
    spec.cpus = 1;
    spec.disk_size_gb = 1;
    std::ofstream(spec.iso_path, std::ios::binary) << std::string(64 * 1024, '\0');
    guest.disk = gv::phyllome_disk_path(spec);
    std::error_code ec;
    std::filesystem::remove(guest.disk, ec); // a leftover of an interrupted run
    auto made = run_command({"qemu-img", "create", "-q", "-f", "qcow2", guest.disk, "1G"});
    if (made.exit_code == 0 && pattern_bytes > 0)
        made = run_command({"qemu-io", "-f", "qcow2", "-c", fmt::format("write -P 0x5a 0 {}", pattern_bytes), guest.disk},
                           {}, 300s);
    if (made.exit_code != 0) {
        guest.error = "cannot make the guest's disk: " + made.err;
        return guest;
    }

    guest.boot.kernel_dir = kernel_dir;
    guest.boot.embed_root = embed_root;
    guest.boot.name = name;
    guest.boot.fps = 5;
    guest.boot.seconds = 1; // then it only holds its frame
    guest.boot.machine_xml = gv::phyllome_domain_xml(spec, guest.model, host, *os);
    return guest;
}

} // namespace phyllome::test
