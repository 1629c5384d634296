// The embedded libvirt driver (qemu:///embed?root=DIR) runs inside the shell with no daemons
// beside it; its root needs a qemu.conf that does not expect virtlogd.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace phyllome::guestview {

// The root directory of a qemu:///embed URI (percent-decoded), or nullopt for other URIs.
std::optional<std::string> embedded_root(std::string_view uri);

// Creates DIR/etc/qemu.conf for an embedded URI when it does not exist yet. A user's own file
// is never touched. Returns an error message, or an empty string on success.
std::string prepare_embedded_root(std::string_view uri);

} // namespace phyllome::guestview
