// parse_mode: "WxH" or "WxH@Hz", as users copy them from wlr-randr or a monitor's manual.
#include "config/config.hpp"

#include <cctype>
#include <charconv>

namespace phyllome::config {
namespace {

// Beyond any real display; the limits also keep the arithmetic far from int overflow.
constexpr int max_dimension = 32767;
constexpr int max_refresh_hz = 1000;

bool all_digits(std::string_view text) {
    for (char c : text)
        if (!std::isdigit(static_cast<unsigned char>(c)))
            return false;
    return true;
}

std::optional<int> parse_dimension(std::string_view digits) {
    // Digits only: from_chars alone would accept a leading '-'.
    if (digits.empty() || !all_digits(digits))
        return std::nullopt;
    int value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc() || value < 1 || value > max_dimension)
        return std::nullopt;
    return value;
}

// "59.94" -> 59940; extra decimals (wlr-randr prints "60.000000") round to the nearest mHz.
std::optional<int> parse_refresh_mhz(std::string_view text) {
    std::size_t dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
    // The digit limit keeps the arithmetic below far from overflow.
    constexpr std::size_t max_whole_digits = 4;
    if (whole.empty() || whole.size() > max_whole_digits || !all_digits(whole))
        return std::nullopt;
    if (dot != std::string_view::npos && (fraction.empty() || !all_digits(fraction)))
        return std::nullopt;

    int mhz = 0;
    std::from_chars(whole.data(), whole.data() + whole.size(), mhz);
    mhz *= 1000;
    constexpr std::size_t mhz_digits = 3;
    int place = 100;
    for (std::size_t i = 0; i < fraction.size() && i < mhz_digits; ++i, place /= 10)
        mhz += (fraction[i] - '0') * place;
    if (fraction.size() > mhz_digits && fraction[mhz_digits] >= '5')
        ++mhz;
    if (mhz < 1 || mhz > max_refresh_hz * 1000)
        return std::nullopt;
    return mhz;
}

} // namespace

std::optional<Mode> parse_mode(std::string_view text) {
    std::size_t cross = text.find('x');
    if (cross == std::string_view::npos)
        return std::nullopt;
    std::size_t at = text.find('@', cross);
    std::string_view height_text =
        at == std::string_view::npos ? text.substr(cross + 1) : text.substr(cross + 1, at - cross - 1);
    std::optional<int> width = parse_dimension(text.substr(0, cross));
    std::optional<int> height = parse_dimension(height_text);
    if (!width || !height)
        return std::nullopt;
    Mode mode{.width = *width, .height = *height};
    if (at != std::string_view::npos) {
        std::optional<int> mhz = parse_refresh_mhz(text.substr(at + 1));
        if (!mhz)
            return std::nullopt;
        mode.refresh_mhz = *mhz;
    }
    return mode;
}

} // namespace phyllome::config
