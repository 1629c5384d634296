// The animated test guest of the real-stream benchmark: the kernel and initramfs that
// scripts/build-bench-guest assembles, run by an embedded libvirt (TCG, direct kernel boot,
// virtio GPU at 1280x800) with a D-Bus p2p display and a SPICE server on the same guest.
// The guest's program reports the frame rate it reaches on the serial console, which goes to
// a file we read.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace phyllome::bench {

struct BenchGuestSpec {
    std::string kernel_dir;    // holds vmlinuz and initrd.gz
    std::string embed_root;    // the embedded libvirt's root
    std::string name = "phyllome-bench-anim";
    int fps = 50;              // fb_animator's target rate
    int band_rows = 32;        // rows per write() (each write is one fbdev damage)
    bool use_kvm = false;      // TCG unless KVM is known to work
};

class BenchGuest {
public:
    explicit BenchGuest(BenchGuestSpec spec);
    ~BenchGuest(); // destroys and undefines the guest
    BenchGuest(const BenchGuest&) = delete;
    BenchGuest& operator=(const BenchGuest&) = delete;

    // Defines and starts the guest; empty on success, else what went wrong.
    std::string start();
    // Waits until fb_animator reports its first rate (it is drawing).
    bool wait_animating(std::chrono::milliseconds deadline) const;

    std::string uri() const { return "qemu:///embed?root=" + spec_.embed_root; }
    const std::string& name() const { return spec_.name; }
    pid_t qemu_pid() const;
    std::optional<int> spice_port() const;
    // The serial log's size now: a mark for mean_fps_since.
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
