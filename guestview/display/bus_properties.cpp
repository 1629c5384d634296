#include "guestview/display/bus_properties.hpp"

#include <string_view>

namespace phyllome::guestview::detail {
namespace {

template <typename T, char Type>
int read_array(sd_bus_message* message, PropertyValue& out) {
    std::vector<T> values;
    int r = sd_bus_message_enter_container(message, SD_BUS_TYPE_ARRAY, std::string(1, Type).c_str());
    if (r < 0)
        return r;
    for (;;) {
        if constexpr (std::is_same_v<T, std::string>) {
            const char* value = nullptr;
            r = sd_bus_message_read_basic(message, Type, &value);
            if (r > 0)
                values.emplace_back(value);
        } else {
            T value{};
            r = sd_bus_message_read_basic(message, Type, &value);
            if (r > 0)
                values.push_back(value);
        }
        if (r < 0)
            return r;
        if (r == 0)
            break;
    }
    out = std::move(values);
    return sd_bus_message_exit_container(message);
}

int read_variant(sd_bus_message* message, PropertyValue& out) {
    char type = 0;
    const char* contents = nullptr;
    int r = sd_bus_message_peek_type(message, &type, &contents);
    if (r <= 0)
        return r < 0 ? r : -EBADMSG;
    const std::string_view signature = contents ? contents : "";
    if (signature != "u" && signature != "i" && signature != "b" && signature != "s" && signature != "au" &&
        signature != "as")
        return sd_bus_message_skip(message, "v");
    r = sd_bus_message_enter_container(message, SD_BUS_TYPE_VARIANT, contents);
    if (r < 0)
        return r;
    if (signature == "u") {
        std::uint32_t value = 0;
        r = sd_bus_message_read_basic(message, 'u', &value);
        out = value;
    } else if (signature == "i") {
        std::int32_t value = 0;
        r = sd_bus_message_read_basic(message, 'i', &value);
        out = value;
    } else if (signature == "b") {
        int value = 0;
        r = sd_bus_message_read_basic(message, 'b', &value);
        out = value != 0;
    } else if (signature == "s") {
        const char* value = nullptr;
        r = sd_bus_message_read_basic(message, 's', &value);
        if (r > 0)
            out = std::string(value);
    } else if (signature == "au") {
        r = read_array<std::uint32_t, 'u'>(message, out);
    } else {
        r = read_array<std::string, 's'>(message, out);
    }
    if (r < 0)
        return r;
    return sd_bus_message_exit_container(message);
}

} // namespace

int read_property_dict(sd_bus_message* message, PropertyMap& out) {
    int r = sd_bus_message_enter_container(message, SD_BUS_TYPE_ARRAY, "{sv}");
    if (r < 0)
        return r;
    while ((r = sd_bus_message_enter_container(message, SD_BUS_TYPE_DICT_ENTRY, "sv")) > 0) {
        const char* name = nullptr;
        r = sd_bus_message_read_basic(message, 's', &name);
        if (r < 0)
            return r;
        PropertyValue value;
        r = read_variant(message, value);
        if (r < 0)
            return r;
        out[name] = std::move(value);
        r = sd_bus_message_exit_container(message);
        if (r < 0)
            return r;
    }
    if (r < 0)
        return r;
    return sd_bus_message_exit_container(message);
}

} // namespace phyllome::guestview::detail
