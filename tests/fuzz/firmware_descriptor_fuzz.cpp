// session::parse_firmware_descriptor on arbitrary text: the host check reads every
// /usr/share/qemu/firmware/*.json and /etc/qemu/firmware/*.json with it, files a package or an
// administrator wrote. The checks: no crash or sanitizer finding (deep nesting included), a
// refusal says why and where, the same text always gives the same answer, and Windows 11's
// firmware is only ever UEFI for x86_64 with both Secure Boot features.
#include <string>
#include <string_view>

#include "session/firmware_descriptor.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace phyllome::session;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string error;
    const auto d = parse_firmware_descriptor(text, error);
    if (!d) {
        FUZZ_CHECK(!error.empty());
        const auto at = error.rfind(" at byte ");
        FUZZ_CHECK(at != std::string::npos || error == "not a JSON object");
        if (at != std::string::npos)
            FUZZ_CHECK(std::stoull(error.substr(at + 9)) <= size);
        return 0;
    }
    if (d->windows_secure_boot())
        FUZZ_CHECK(d->x86_64_uefi() && d->has("secure-boot") && d->has("enrolled-keys"));
    if (d->x86_64_uefi()) {
        bool uefi = false, x86_64 = false;
        for (const std::string& t : d->interface_types)
            uefi = uefi || t == "uefi";
        for (const std::string& a : d->architectures)
            x86_64 = x86_64 || a == "x86_64";
        FUZZ_CHECK(uefi && x86_64);
    }
    std::string again_error;
    const auto again = parse_firmware_descriptor(text, again_error);
    FUZZ_CHECK(again && again->features == d->features && again->executable == d->executable &&
               again->description == d->description && again->architectures == d->architectures);
    return 0;
}
