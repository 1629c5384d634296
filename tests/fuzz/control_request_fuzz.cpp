// The control socket's request parser and the percent-encoding of values. The checks:
// a request that parses formats back to a line that parses to the same request; values
// survive encode then decode; decode_value is the strict percent-decoding (a '%' followed
// by exactly two hex digits), and an encoded value holds no space, '=' or control byte.
#include <string>
#include <string_view>
#include <variant>

#include "compositor/control_protocol.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace phyllome::compositor::control {
namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// The reference: "%XY" with two hex digits is one byte, anything else is itself.
std::string reference_decode(std::string_view value) {
    std::string out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '%' && i + 2 < value.size() && hex_digit(value[i + 1]) >= 0 && hex_digit(value[i + 2]) >= 0) {
            out += static_cast<char>(hex_digit(value[i + 1]) * 16 + hex_digit(value[i + 2]));
            i += 2;
        } else {
            out += value[i];
        }
    }
    return out;
}

bool same(const Request& a, const Request& b) {
    return a.verb == b.verb && a.guest == b.guest && a.slot == b.slot && a.colour == b.colour && a.options == b.options &&
           a.width == b.width && a.height == b.height && a.output == b.output;
}

} // namespace
} // namespace phyllome::compositor::control

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace phyllome::compositor::control;
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    auto parsed = parse_request(text);
    if (const auto* error = std::get_if<std::string>(&parsed)) {
        FUZZ_CHECK(!error->empty());
    } else {
        const Request& request = std::get<Request>(parsed);
        const std::string line = format_request(request);
        FUZZ_CHECK(!line.empty() && line.back() == '\n');
        // Encoding may make a Create line longer than the limit; otherwise it must round-trip.
        if (line.size() <= max_request) {
            auto again = parse_request(line);
            FUZZ_CHECK(std::holds_alternative<Request>(again));
            FUZZ_CHECK(same(std::get<Request>(again), request));
            FUZZ_CHECK(format_request(std::get<Request>(again)) == line);
        }
    }

    const std::string encoded = encode_value(text);
    for (char c : encoded)
        FUZZ_CHECK(static_cast<unsigned char>(c) > ' ' && c != '=' && static_cast<unsigned char>(c) < 0x7f);
    FUZZ_CHECK(decode_value(encoded) == text);
    FUZZ_CHECK(decode_value(text) == reference_decode(text));
    return 0;
}
