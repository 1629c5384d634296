#include "guestview/display/mapping_guard.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <utility>

#include "config/log.hpp"

namespace phyllome::guestview {
namespace {

// The one piece of process-wide state in guestview: a signal handler has no other way in. Slots
// are claimed and released with atomics, so the handler reads them without locks.
struct Slot {
    std::atomic<std::uintptr_t> start{0};
    std::atomic<std::size_t> length{0};
    std::atomic<bool> faulted{false};
};
constexpr std::size_t slot_count = 512;
std::array<Slot, slot_count> slots;
std::once_flag installed;

void on_sigbus(int sig, siginfo_t* info, void*) {
    const auto at = reinterpret_cast<std::uintptr_t>(info->si_addr);
    for (Slot& s : slots) {
        const std::uintptr_t start = s.start.load(std::memory_order_acquire);
        const std::size_t length = s.length.load(std::memory_order_acquire);
        if (start <= 1 || at < start || at - start >= length)
            continue;
        void* zeros = ::mmap(reinterpret_cast<void*>(start), length, PROT_READ, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS,
                             -1, 0);
        if (zeros == MAP_FAILED)
            break;
        if (!s.faulted.exchange(true)) {
            static constexpr char note[] =
                "phyllome warning: a guest's shared frame memory shrank while it was shown; it reads as black\n";
            [[maybe_unused]] const auto n = ::write(STDERR_FILENO, note, sizeof note - 1);
        }
        return; // the read resumes on the zero pages
    }
    // Not ours: the default action, as if no handler had been installed.
    ::signal(sig, SIG_DFL);
}

void install_handler() {
    struct sigaction action {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    if (::sigaction(SIGBUS, &action, nullptr) != 0)
        log::error("cannot install the SIGBUS handler that guards shared frame memory");
}

} // namespace

GuardedRange::GuardedRange(const void* address, std::size_t length) {
    if (!address || length == 0)
        return;
    std::call_once(installed, install_handler);
    constexpr std::uintptr_t claimed = 1; // a start no mapping has: the handler skips it
    for (std::size_t i = 0; i < slot_count; ++i) {
        std::uintptr_t expected = 0;
        if (!slots[i].start.compare_exchange_strong(expected, claimed, std::memory_order_acq_rel))
            continue;
        slots[i].length.store(length, std::memory_order_release);
        slots[i].faulted.store(false, std::memory_order_release);
        slots[i].start.store(reinterpret_cast<std::uintptr_t>(address), std::memory_order_release);
        slot_ = static_cast<int>(i);
        return;
    }
    log::warn("{} shared frame mappings are guarded already; a new one is not", slot_count);
}

GuardedRange::~GuardedRange() {
    if (slot_ >= 0)
        slots[static_cast<std::size_t>(slot_)].start.store(0, std::memory_order_release);
}

GuardedRange::GuardedRange(GuardedRange&& other) noexcept : slot_(std::exchange(other.slot_, -1)) {}

GuardedRange& GuardedRange::operator=(GuardedRange&& other) noexcept {
    if (this != &other) {
        if (slot_ >= 0)
            slots[static_cast<std::size_t>(slot_)].start.store(0, std::memory_order_release);
        slot_ = std::exchange(other.slot_, -1);
    }
    return *this;
}

bool GuardedRange::faulted() const {
    return slot_ >= 0 && slots[static_cast<std::size_t>(slot_)].faulted.load(std::memory_order_acquire);
}

} // namespace phyllome::guestview
