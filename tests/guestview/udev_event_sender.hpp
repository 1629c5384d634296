// Sends a udev event, as udevd would after processing a kernel uevent, to every udev monitor
// opened under a umockdev testbed (umockdev's preload turns each monitor's netlink socket into a
// unix socket named event<N> in the testbed's root). Unlike umockdev_testbed_uevent() it reads
// the device from the testbed's files directly, so the sending process needs no preload: tests
// that run libvirt or QEMU keep the real /sys, and only the shell under test gets the fake one.
#pragma once

#include <cstdint>
#include <string>

namespace phyllome::test {

// `syspath` as umockdev returns it ("/sys/devices/1-1"); the message carries ACTION, DEVPATH,
// SUBSYSTEM, SEQNUM and every property of the device's uevent file. Returns how many monitors
// it reached; throws when the device's files cannot be read.
int send_udev_event(const std::string& testbed_root, const std::string& syspath, const std::string& action,
                    std::uint64_t seqnum);

// libudev's hash of a subsystem or devtype (MurmurHash2, seed 0), which its monitors' socket
// filters compare.
std::uint32_t udev_string_hash(const std::string& text);

} // namespace phyllome::test
