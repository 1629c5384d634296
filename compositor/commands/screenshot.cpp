#include <cstdint>
#include <cstdio>

#include <fmt/format.h>

#include "compositor/commands/commands.hpp"

namespace phyllome::compositor::commands {

// The guest's own screen as libvirt's screendump sees it; head=N: its head N (libvirt's screen
// N: the heads of its first video device, the virtio-gpu of the guests the shell makes).
void screenshot(const control::Request& r, CommandTarget& target, Reply reply) {
    std::uint32_t head = 0;
    if (auto it = r.options.find("head"); it != r.options.end()) {
        char tail = 0;
        if (std::sscanf(it->second.c_str(), "%u%c", &head, &tail) != 1) {
            reply(false, fmt::format("--head takes a head number, not '{}'\n", it->second));
            return;
        }
        if (std::string problem = target.head_problem(r.guest, head); !problem.empty()) {
            reply(false, fmt::format("cannot take a screenshot of {}: {}\n", r.guest, problem));
            return;
        }
    }
    target.inventory().screenshot(r.guest, head,
                                  [reply = std::move(reply), guest = r.guest](std::string image, std::string mime,
                                                                              std::string error) {
                                      if (error.empty())
                                          reply(true, mime + "\n" + image);
                                      else
                                          reply(false, fmt::format("cannot take a screenshot of {}: {}\n", guest, error));
                                  });
}

} // namespace phyllome::compositor::commands
