// Reading a shared mapping (a guest's memfd or dmabuf) past the end of its file raises SIGBUS,
// so a display peer that shrinks the file after handing it over could end the session. Inside
// a guarded range such a read yields zeros instead: the SIGBUS handler maps anonymous memory
// over the whole range and the read resumes (what libwayland does for clients' shm pools).
// Faults anywhere else keep their default action.
#pragma once

#include <cstddef>

namespace phyllome::guestview {

class GuardedRange {
public:
    GuardedRange() = default;
    // Guards [address, address + length) until destroyed; installs the handler once. With every
    // slot taken (hundreds of live mappings) the range stays unguarded, and says so in the log.
    GuardedRange(const void* address, std::size_t length);
    ~GuardedRange();
    GuardedRange(GuardedRange&& other) noexcept;
    GuardedRange& operator=(GuardedRange&& other) noexcept;
    GuardedRange(const GuardedRange&) = delete;
    GuardedRange& operator=(const GuardedRange&) = delete;

    bool guarded() const { return slot_ >= 0; }
    // A read faulted in it: the range now reads as zeros.
    bool faulted() const;

private:
    int slot_ = -1;
};

} // namespace phyllome::guestview
