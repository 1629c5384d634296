// The individual readiness probes behind check_host(), one file per kind of thing probed.
#pragma once

#include <string>
#include <vector>

#include "session/host_check.hpp"

namespace phyllome::session::probes {

// KVM: the device node, then whether it answers KVM_GET_API_VERSION.
std::vector<CheckItem> kvm(const std::string& sysroot);
CheckItem nested(const std::string& sysroot);
CheckItem iommu(const std::string& sysroot);
// Fills render_node with the first /dev/dri/renderD* path (under sysroot) when there is one.
CheckItem render_node(const std::string& sysroot, std::string& render_node);
// virglrenderer initialised on that node, in a child process so a driver crash stays there.
CheckItem virgl(const std::string& render_node);
CheckItem libvirt(const std::string& uri, bool register_event_loop);
CheckItem qemu_dbus(const std::string& sysroot);
// What new guests' machine models need (host_probe_models.cpp): warnings when missing.
CheckItem osinfo_db(const std::string& sysroot);
CheckItem swtpm(const std::string& sysroot);
CheckItem secure_boot(const std::string& sysroot);
CheckItem virtio_win(const std::string& sysroot);

} // namespace phyllome::session::probes
