// Shared by the tests of the shell's disk secrets: a real libvirt secret driver (the embeddable
// secret:///embed, with its own root) beside a domain driver that keeps no secrets, a blocking
// libvirt call run off the loop, and qemu-img's view of a disk.
#pragma once

#include <cstdio>
#include <functional>
#include <future>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <libvirt/libvirt.h>

#include "guestview/disk_secret.hpp"
#include "guestview/libvirt_handles.hpp"
#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview::testing {

// Runs a blocking libvirt call on its own thread while `loop` (the libvirt event bridge's) is
// dispatched: the embedded drivers may wait on events the loop delivers.
template <typename Result>
Result run_blocking(wl_event_loop* loop, std::function<Result()> call,
                    std::chrono::milliseconds timeout = std::chrono::seconds{60}) {
    std::future<Result> result = std::async(std::launch::async, std::move(call));
    const bool done = pump_until(
        loop, [&] { return result.wait_for(std::chrono::seconds{0}) == std::future_status::ready; }, timeout);
    if (!done)
        ADD_FAILURE() << "the libvirt call did not finish in time";
    return result.get(); // waits: the thread must not outlive what it uses
}

// qemu-img info --output=json of `path` ("" when qemu-img fails).
inline std::string qemu_img_info(const std::string& path) {
    std::unique_ptr<FILE, int (*)(FILE*)> pipe{popen(("qemu-img info --output=json -U '" + path + "'").c_str(), "r"),
                                               pclose};
    std::string out;
    char buffer[4096];
    for (std::size_t n; pipe && (n = std::fread(buffer, 1, sizeof buffer, pipe.get())) > 0;)
        out.append(buffer, n);
    return out;
}

inline bool qemu_img_available() { return std::system("command -v qemu-img > /dev/null") == 0; }

using guestview::secret_uuid;

} // namespace phyllome::guestview::testing
