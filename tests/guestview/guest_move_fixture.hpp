// The two hosts of the move tests (guest_move_qemu_test.cpp): two private system-mode
// libvirtds (system_libvirtd.hpp), each in a network namespace of its own with its own host
// UUID, joined by a veth pair (A 10.77.0.1, B 10.77.0.2); B takes qemu+tcp and has the storage
// driver. The Linux test guest (scripts/build-bench-guest) boots on A in the shell's Linux
// machine model (q35, OVMF with NVRAM, a TPM from swtpm, its disk in /var/lib/libvirt/images,
// which is a directory of each daemon's own). Moves run on a thread inside A's network
// namespace, as a user's session on host A would.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <iterator>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

#include "guestview/domain_model.hpp"
#include "guestview/jobs/guest_move.hpp"
#include "guestview/libvirt_handles.hpp"
#include "guestview/machine_model.hpp"
#include "guestview/os_info.hpp"
#include "tests/guestview/recording_job_context.hpp"
#include "tests/guestview/system_libvirtd.hpp"

namespace phyllome::guestview::move_test {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline constexpr const char* guest_name = "phyllome-move-test";
inline constexpr const char* destination = "qemu+tcp://10.77.0.2/system";
inline constexpr const char* kernel_dir = "/var/cache/phyllome-bench/guest";
inline constexpr int disk_data_mib = 384; // random, so the copy takes seconds under TCG

inline std::string read_file(const fs::path& path) {
    std::ifstream in{path, std::ios::binary};
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A shell command's exit status and output (stdout and stderr).
inline std::pair<int, std::string> sh(const std::string& command) {
    std::string output;
    FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr)
        return {-1, "popen failed"};
    char buffer[4096];
    while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe))
        output.append(buffer, n);
    const int status = ::pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

template <typename Predicate>
inline bool poll_until(Predicate done, std::chrono::milliseconds deadline) {
    const auto until = Clock::now() + deadline;
    while (!done()) {
        if (Clock::now() > until)
            return false;
        std::this_thread::sleep_for(50ms); // polling a state that sends no event
    }
    return true;
}

// The guest's kernel and initramfs added to the machine XML, its console in a file of the
// daemon's own /var/log/libvirt (so A's and B's QEMU write to different files).
inline std::string with_kernel(std::string xml) {
    const auto os_end = xml.find("</os>");
    const auto devices_end = xml.rfind("</devices>");
    if (os_end == std::string::npos || devices_end == std::string::npos)
        return {};
    xml.insert(devices_end, fmt::format("  <serial type='file'><source path='/var/log/libvirt/qemu/{}.serial' "
                                        "append='on'/></serial>\n  ",
                                        guest_name));
    xml.insert(os_end, fmt::format("  <kernel>{0}/vmlinuz</kernel>\n    <initrd>{0}/initrd.gz</initrd>\n"
                                   "    <cmdline>console=ttyS0 quiet fbanim_fps=2 fbanim_seconds=0</cmdline>\n  ",
                                   kernel_dir));
    return xml;
}

struct Hosts {
    std::optional<testing::SystemLibvirtd> a, b;
    ConnectionPtr a_conn, b_conn;
    std::string skip, failure;
    fs::path work;        // the ISO, the disk's data; under /tmp, which both daemons see
    std::string xml;      // the guest's
};

// libvirt's default event loop, turning on a thread of its own for the whole program: the
// embedded driver needs one, and once it is registered every remote connection answers the
// daemons' keepalives through it (a loop that stood still would get them closed after 30 s).
class EventLoop {
public:
    EventLoop() {
        if (virEventRegisterDefaultImpl() < 0)
            return;
        // A timer that fires keeps the loop turning, so it notices `stop_`.
        tick_ = virEventAddTimeout(100, [](int, void*) {}, nullptr, nullptr);
        thread_ = std::thread([this] {
            while (!stop_)
                virEventRunDefaultImpl();
        });
    }
    ~EventLoop() {
        stop_ = true;
        if (thread_.joinable())
            thread_.join();
        if (tick_ >= 0)
            virEventRemoveTimeout(tick_);
    }
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

private:
    std::atomic<bool> stop_{false};
    int tick_ = -1;
    std::thread thread_;
};

inline void run_event_loop() { static EventLoop loop; }

// Starts `domain`; 0 or -1 like virDomainCreate. libvirt 11.3 gives swtpm 3 s to make its
// socket ("swtpm socket did not show up"), which a machine busy with other guests' TCG can
// miss: that failure is tried again, twice.
inline int start_domain(virDomainPtr domain) {
    for (int attempt = 0;; ++attempt) {
        if (virDomainCreate(domain) == 0)
            return 0;
        if (attempt == 2 || last_libvirt_error().find("swtpm socket did not show up") == std::string::npos)
            return -1;
        std::cerr << "swtpm was slow to start, trying again: " << last_libvirt_error() << "\n";
    }
}

inline Hosts& hosts() {
    static Hosts instance;
    return instance;
}

// Runs `f` on a thread in the network namespace of the process `pid`.
template <typename F>
auto in_network_of(pid_t pid, F f) {
    return std::async(std::launch::async, [pid, f = std::move(f)]() mutable {
        const int ns = ::open(fmt::format("/proc/{}/ns/net", pid).c_str(), O_RDONLY | O_CLOEXEC);
        const bool entered = ns >= 0 && ::setns(ns, CLONE_NEWNET) == 0;
        if (ns >= 0)
            ::close(ns);
        if (!entered)
            throw std::runtime_error("cannot enter host A's network namespace");
        return f();
    });
}

class GuestMoveQemu : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        Hosts& h = hosts();
        if (std::string why = testing::SystemLibvirtd::unavailable(); !why.empty()) {
            h.skip = why;
            return;
        }
        for (const char* path : {"/usr/bin/qemu-system-x86_64", "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/bin/swtpm",
                                 "/usr/bin/qemu-img", "/usr/sbin/ip", "/usr/bin/nsenter",
                                 "/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_storage.so"})
            if (!fs::exists(path)) {
                h.skip = std::string{path} + " is missing";
                return;
            }
        if (const char* src = std::getenv("PHYLLOME_SOURCE_ROOT"); src != nullptr)
            sh(std::string{src} + "/scripts/build-bench-guest --quiet");
        if (!fs::exists(fmt::format("{}/vmlinuz", kernel_dir))) {
            h.skip = std::string{"the test guest is not built: scripts/build-bench-guest (as root)"};
            return;
        }
        std::string error;
        const auto db = OsDatabase::load(error);
        const auto os = db ? db->find("debian12") : std::nullopt;
        if (!os) {
            h.skip = "osinfo-db has no debian12: " + error;
            return;
        }

        h.a.emplace(testing::SystemLibvirtd::Options{"6d6f7665-0000-4000-8000-00000000000a", true, false, false, ""});
        h.b.emplace(testing::SystemLibvirtd::Options{"6d6f7665-0000-4000-8000-00000000000b", true, true, true, "move-b"});
        for (auto* daemon : {&*h.a, &*h.b}) {
            if (const auto started = daemon->start(); started != testing::SystemLibvirtd::Started::Ok) {
                (started == testing::SystemLibvirtd::Started::DaemonFailed ? h.skip : h.failure) =
                    "a private libvirtd did not come up: " + daemon->error() + "\n" + daemon->log();
                return;
            }
        }
        // The veth pair between the two namespaces, made from A's side.
        const pid_t a = h.a->pid(), b = h.b->pid();
        for (const std::string& command :
             {fmt::format("nsenter -t {} -n ip link add mva type veth peer name mvb netns {}", a, b),
              fmt::format("nsenter -t {} -n sh -c 'ip link set lo up && ip addr add 10.77.0.1/24 dev mva && "
                          "ip link set mva up'", a),
              fmt::format("nsenter -t {} -n sh -c 'ip link set lo up && ip addr add 10.77.0.2/24 dev mvb && "
                          "ip link set mvb up'", b)})
            if (const auto [status, output] = sh(command); status != 0) {
                h.skip = "cannot make the network between the two hosts: " + command + ": " + output;
                return;
            }

        char work[] = "/tmp/phyllome-move-XXXXXX";
        h.work = ::mkdtemp(work);
        for (auto* daemon : {&*h.a, &*h.b})
            fs::create_directories(daemon->lib_dir() + "/images");
        GuestSpec spec;
        spec.name = guest_name;
        spec.iso_path = (h.work / "installer.iso").string(); // the same path on both: /tmp is shared
        spec.disk_dir = "/var/lib/libvirt/images";
        spec.encrypt_disk = false;
        spec.memory_mb = 512;
        spec.cpus = 1;
        spec.disk_size_gb = 1;
        std::ofstream(spec.iso_path, std::ios::binary) << std::string(64 * 1024, '\0');
        ModelHost model_host;
        model_host.network = GuestNetwork::User;
        model_host.kvm = false;
        model_host.tpm = true;
        h.xml = with_kernel(phyllome_domain_xml(spec, choose_model(*os, model_host), model_host, *os));

        run_event_loop();
        h.a_conn.reset(virConnectOpen(h.a->uri().c_str()));
        h.b_conn.reset(virConnectOpen(h.b->uri().c_str()));
        if (!h.a_conn || !h.b_conn)
            h.failure = "cannot connect to the daemons: " + last_libvirt_error();
    }

    static void TearDownTestSuite() {
        Hosts& h = hosts();
        h.a_conn.reset();
        h.b_conn.reset();
        h.a.reset();
        h.b.reset();
        std::error_code ec;
        if (!h.work.empty())
            fs::remove_all(h.work, ec);
    }

    void SetUp() override {
        if (!hosts().skip.empty())
            GTEST_SKIP() << hosts().skip;
        ASSERT_TRUE(hosts().failure.empty()) << hosts().failure;
    }

    void TearDown() override {
        Hosts& h = hosts();
        if (!h.skip.empty() || !h.failure.empty() || !h.a_conn || !h.b_conn)
            return;
        if (HasFailure())
            std::cerr << "A's log:\n" << h.a->log() << "\nB's log:\n" << h.b->log() << "\nA's QEMU:\n"
                      << h.a->guest_log(guest_name) << "\nB's QEMU:\n" << h.b->guest_log(guest_name);
        for (virConnectPtr connection : {h.a_conn.get(), h.b_conn.get()})
            if (DomainPtr left{virDomainLookupByName(connection, guest_name)}) {
                virDomainDestroy(left.get());
                virDomainUndefineFlags(left.get(), VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_TPM);
            }
        virResetLastError();
        for (auto* daemon : {&*h.a, &*h.b}) {
            std::error_code ec;
            fs::remove(daemon->lib_dir() + "/images/" + guest_name + ".qcow2", ec);
        }
    }

    // The disk (random data, kept as the raw original to compare with) and the guest on A,
    // booted until its /init reported the TPM.
    // `convert` adds qemu-img options (an encrypted disk), `xml` replaces the guest's.
    void boot_on_a(const std::string& convert = {}, const std::string& xml = {}) {
        Hosts& h = hosts();
        const std::string raw = (h.work / "disk.raw").string();
        const std::string disk = h.a->lib_dir() + "/images/" + guest_name + ".qcow2";
        if (!fs::exists(raw)) {
            const auto [status, output] =
                sh(fmt::format("head -c {}M /dev/urandom > {} && truncate -s 1G {}", disk_data_mib, raw, raw));
            ASSERT_EQ(status, 0) << output;
        }
        const auto [status, output] = sh(fmt::format("qemu-img convert -O qcow2 {} {} {}", convert, raw, disk));
        ASSERT_EQ(status, 0) << output;
        std::error_code ec;
        fs::remove(serial(*h.a), ec);
        const std::string& definition = xml.empty() ? h.xml : xml;
        DomainPtr domain{virDomainDefineXML(h.a_conn.get(), definition.c_str())};
        ASSERT_TRUE(domain) << last_libvirt_error() << "\n" << definition;
        ASSERT_EQ(start_domain(domain.get()), 0) << last_libvirt_error();
        // OVMF under TCG takes its time before the kernel runs.
        ASSERT_TRUE(poll_until([&] { return read_file(serial(*h.a)).find("phyllome-guest: tpm") != std::string::npos; },
                               300s))
            << read_file(serial(*h.a));
        EXPECT_THAT(read_file(serial(*h.a)), HasSubstr("tpm /dev/tpm0 present"));
    }

    static std::string serial(const testing::SystemLibvirtd& daemon) {
        return fmt::format("{}/qemu/{}.serial", fs::path(daemon.lib_dir()).parent_path().string() + "/log", guest_name);
    }

    JobOutcome move(testing::RecordingJobContext& job, const std::string& uri = destination) {
        Hosts& h = hosts();
        return in_network_of(h.a->pid(), [&] { return move_guest(h.a_conn.get(), guest_name, uri, job); }).get();
    }

    static bool runs(virConnectPtr connection) {
        DomainPtr domain{virDomainLookupByName(connection, guest_name)};
        virResetLastError();
        return domain && virDomainIsActive(domain.get()) == 1;
    }
    static int domains(virConnectPtr connection) {
        virDomainPtr* list = nullptr;
        const int n = virConnectListAllDomains(connection, &list, 0);
        for (int i = 0; i < n; ++i)
            virDomainFree(list[i]);
        std::free(list);
        return n;
    }
    static std::vector<std::string> files_in(const std::string& dir) {
        std::vector<std::string> names;
        std::error_code ec;
        for (const auto& entry : fs::recursive_directory_iterator(dir, ec))
            if (entry.is_regular_file())
                names.push_back(entry.path().string());
        return names;
    }
};

} // namespace phyllome::guestview::move_test
