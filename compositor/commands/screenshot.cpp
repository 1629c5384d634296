#include <fmt/format.h>

#include "compositor/commands/commands.hpp"

namespace phyllome::compositor::commands {

// The guest's own screen as libvirt's screendump sees it.
void screenshot(const control::Request& r, CommandTarget& target, Reply reply) {
    target.inventory().screenshot(r.guest, 0,
                                  [reply = std::move(reply), guest = r.guest](std::string image, std::string mime,
                                                                              std::string error) {
                                      if (error.empty())
                                          reply(true, mime + "\n" + image);
                                      else
                                          reply(false, fmt::format("cannot take a screenshot of {}: {}\n", guest, error));
                                  });
}

} // namespace phyllome::compositor::commands
