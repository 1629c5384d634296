#include <cstdio>

#include <fmt/format.h>

#include "compositor/commands/commands.hpp"

namespace phyllome::compositor::commands {

// create NAME [iso=PATH] [os=ID] [disk-size=GB] [memory=MB] [cpus=N] [tcg]; an unset size is the OS's
// recommendation.
void create(const control::Request& r, CommandTarget& target, Reply reply) {
    guestview::GuestSpec spec = target.new_guest_spec(r.guest);
    auto number = [&](const char* key, int& out) {
        auto it = r.options.find(key);
        return it == r.options.end() || std::sscanf(it->second.c_str(), "%d", &out) == 1;
    };
    if (!number("disk-size", spec.disk_size_gb) || !number("memory", spec.memory_mb) || !number("cpus", spec.cpus)) {
        reply(false, "disk-size, memory and cpus take whole numbers\n");
        return;
    }
    if (auto iso = r.options.find("iso"); iso != r.options.end())
        spec.iso_path = iso->second;
    if (auto os = r.options.find("os"); os != r.options.end())
        spec.os_id = os->second;
    spec.allow_kvm = !r.options.count("tcg");
    target.inventory().create(std::move(spec), [reply = std::move(reply), guest = r.guest](bool ok, std::string message) {
        reply(ok, ok ? fmt::format("{}: created{}{}\n", guest, message.empty() ? "" : "; ", message)
                     : fmt::format("{}: cannot create: {}\n", guest, message));
    });
}

} // namespace phyllome::compositor::commands
