// The animated test guest of the real-stream benchmark: the kernel and initramfs that
// scripts/build-bench-guest assembles, run by an embedded libvirt (TCG, direct kernel boot,
// virtio GPU at 1280x800) with either a D-Bus p2p display or a SPICE server. (libvirt 9 and
// QEMU 7.2 accept both on one guest, but then the guest's drawing stalls whenever the D-Bus
// display has no listener, even with a SPICE client attached: so one boot per transport.)
// The guest's program reports the frame rate it reaches on the serial console, which goes to
// a file we read.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace phyllome::bench {

struct BenchGuestSpec {
    std::string kernel_dir;    // holds vmlinuz and initrd.gz
    std::string embed_root;    // the embedded libvirt's root
    std::string name = "phyllome-bench-anim";
    int fps = 50;              // fb_animator's target rate
    int band_rows = 32;        // rows per write() (each write is one fbdev damage)
    int seconds = 0;           // > 0: stop animating after this long and hold the last frame
    bool use_kvm = false;      // TCG: KVM inside this VM did not boot the kernel
    int heads = 1;             // virtio-gpu heads
    std::string mode;          // phyllome_mode: "heads" runs heads_painter instead of the animation
    enum class Graphics { Dbus, Spice } graphics = Graphics::Dbus;
    // A domain XML to boot instead of the benchmark's own, e.g. the machine model a new guest
    // gets (guestview/domain_model.hpp): the kernel, initramfs and serial console are added to
    // it; its own graphics and domain type stay (`graphics` and `use_kvm` do not apply). Its
    // NVRAM and TPM state go with it on undefine.
    std::string machine_xml;
    // Runs the guest's keyboard witness (tests/bench/guest/key_reporter.c): LEDs, VT switches and
    // Ctrl+Alt+Del reported on the serial console.
    bool keys_witness = false;
    // More kernel parameters for the guest's /init, e.g. "phyllome_disk=1 phyllome_disk_mark=a".
    std::string kernel_args;
    // Another libvirt than the embedded one in embed_root (e.g. a test's system daemon).
    std::string uri;
};

// `spec.machine_xml` with the test guest's kernel, initramfs and command line and the serial
// console in `serial_path`, for a caller that defines the guest itself; empty when the XML lacks
// </os> or </devices>.
std::string kernel_boot_xml(const BenchGuestSpec& spec, const std::string& serial_path);

// The rest of the first whole line of `text` (a serial console's output) that holds `prefix`,
// or nullopt while there is none (or it is still being written).
std::optional<std::string> serial_report(std::string_view text, std::string_view prefix);

// The test guest's /init reports its TPM on this line: "/dev/tpm0 present (TPM 2, ...)" or "none".
inline constexpr std::string_view tpm_report_prefix = "phyllome-guest: tpm ";

class BenchGuest {
public:
    explicit BenchGuest(BenchGuestSpec spec);
    ~BenchGuest(); // destroys and undefines the guest
    BenchGuest(const BenchGuest&) = delete;
    BenchGuest& operator=(const BenchGuest&) = delete;

    // Defines and starts the guest; empty on success, else what went wrong.
    std::string start();
    // Waits until the guest's /init found the framebuffer (the animation starts next).
    bool wait_booted(std::chrono::milliseconds deadline) const;
    // Waits until fb_animator reports a rate after `mark` (it is drawing).
    bool wait_animating(std::uint64_t mark, std::chrono::milliseconds deadline) const;
    // With `seconds`: waits until the animation stopped and the last frame stays.
    bool wait_holding(std::chrono::milliseconds deadline) const;
    // Waits for the /init's TPM report and returns it ("/dev/tpm0 present (TPM 2, ...)" or
    // "none"); nullopt when none came.
    std::optional<std::string> wait_tpm_report(std::chrono::milliseconds deadline) const;
    // Waits for the first serial line after `mark` that holds `prefix` and returns the rest of it.
    std::optional<std::string> wait_report(std::string_view prefix, std::uint64_t mark,
                                           std::chrono::milliseconds deadline) const;

    // The domain XML start() defines, for a test that defines and starts it through its own
    // connection (an embedded root is one process's: virsh cannot share it).
    std::string definition_xml() const;
    const std::string& serial_path() const { return serial_path_; }
    std::string uri() const { return spec_.uri.empty() ? "qemu:///embed?root=" + spec_.embed_root : spec_.uri; }
    const std::string& name() const { return spec_.name; }
    pid_t qemu_pid() const;
    std::optional<int> spice_port() const;
    // The serial log's size now: a mark for mean_fps_since and wait_report.
    std::uint64_t serial_mark() const;
    // Mean of the rates fb_animator reported after `mark`; nullopt when none.
    std::optional<double> mean_fps_since(std::uint64_t mark) const;
    std::string serial_tail() const;

private:
    std::string virsh(const std::string& commands, std::chrono::seconds timeout) const;
    BenchGuestSpec spec_;
    std::string serial_path_;
    bool defined_ = false;
};

} // namespace phyllome::bench
