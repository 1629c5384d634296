// KVM, nested virtualisation, IOMMU and the DRM render node: all read from /dev and /sys.
#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "session/host_probes.hpp"

namespace phyllome::session::probes {
namespace {

namespace fs = std::filesystem;

CheckItem item(std::string id, std::string title, CheckStatus status, std::string detail,
               std::string action = {}, std::string brief = {}) {
    return {std::move(id), std::move(title), status, std::move(detail), std::move(action), std::move(brief)};
}

// Closes on every path out; the probes return early a lot.
struct Fd {
    int fd;
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd >= 0)
            ::close(fd);
    }
};

std::vector<std::string> entries(const fs::path& dir, std::string_view prefix = {}) {
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (std::string name = it->path().filename(); name.starts_with(prefix))
            names.push_back(std::move(name));
    std::sort(names.begin(), names.end());
    return names;
}

std::string first_line(const fs::path& file) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);
    return line;
}

} // namespace

std::vector<CheckItem> kvm(const std::string& sysroot) {
    const std::string path = sysroot + "/dev/kvm";
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return {item("kvm", "KVM", CheckStatus::Missing, fmt::format("{} does not exist", path),
                     "enable VT-x/AMD-V in the firmware and load kvm_intel or kvm_amd; guests run "
                     "without it, emulated (TCG), many times slower",
                     "no /dev/kvm"),
                item("kvm_usable", "KVM usable", CheckStatus::Missing, "no KVM device to open",
                     "see KVM above", "no /dev/kvm")};
    std::vector<CheckItem> out{item("kvm", "KVM", CheckStatus::Ok, fmt::format("{} exists", path))};
    if (!S_ISCHR(st.st_mode)) {
        out.push_back(item("kvm_usable", "KVM usable", CheckStatus::Warning,
                           fmt::format("{} is not a character device, cannot ask it for its API version", path),
                           "recreate it: mknod /dev/kvm c 10 232, or reload the kvm module", "not a device"));
        return out;
    }
    Fd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (fd.fd < 0) {
        const int err = errno;
        out.push_back(item("kvm_usable", "KVM usable", CheckStatus::Missing,
                           fmt::format("cannot open {}: {}", path, std::strerror(err)),
                           err == EACCES ? "add your user to the kvm group (usermod -aG kvm USER), then log in again"
                                         : "check the kernel log (journalctl -k) for KVM errors",
                           err == EACCES ? "no permission" : "cannot open"));
        return out;
    }
    const int version = ::ioctl(fd.fd, KVM_GET_API_VERSION, 0);
    if (version != KVM_API_VERSION)
        out.push_back(item("kvm_usable", "KVM usable", CheckStatus::Missing,
                           fmt::format("KVM_GET_API_VERSION returned {} (expected {})", version, KVM_API_VERSION),
                           "the kernel's KVM is unusable here; check journalctl -k", "bad API version"));
    else
        out.push_back(item("kvm_usable", "KVM usable", CheckStatus::Ok,
                           fmt::format("{} opens read-write, API version {}", path, version)));
    return out;
}

CheckItem nested(const std::string& sysroot) {
    for (const char* module : {"kvm_intel", "kvm_amd"}) {
        const fs::path file = fs::path(sysroot + "/sys/module") / module / "parameters" / "nested";
        std::error_code ec;
        if (!fs::exists(file, ec))
            continue;
        const std::string value = first_line(file);
        if (value == "Y" || value == "1")
            return item("nested", "Nested virtualisation", CheckStatus::Ok, fmt::format("{} nested={}", module, value));
        return item("nested", "Nested virtualisation", CheckStatus::Warning,
                    fmt::format("{} nested={}: guests cannot run their own VMs (WSL2, Hyper-V)", module, value),
                    fmt::format("echo 'options {} nested=1' > /etc/modprobe.d/kvm-nested.conf, then reload {}",
                                module, module),
                    "off");
    }
    return item("nested", "Nested virtualisation", CheckStatus::Warning,
                "neither kvm_intel nor kvm_amd is loaded, so nesting is unknown",
                "load kvm_intel or kvm_amd (only needed for guests that run their own VMs)", "unknown");
}

CheckItem iommu(const std::string& sysroot) {
    const auto groups = entries(sysroot + "/sys/kernel/iommu_groups");
    const auto units = entries(sysroot + "/sys/class/iommu");
    std::string unit_list;
    for (const auto& u : units)
        unit_list += (unit_list.empty() ? "" : ", ") + u;
    if (groups.empty())
        return item("iommu", "IOMMU", CheckStatus::Warning,
                    units.empty() ? std::string("no IOMMU groups and no IOMMU in /sys/class/iommu: device passthrough is off")
                                  : fmt::format("IOMMU {} present but no groups: device passthrough is off", unit_list),
                    "enable VT-d/AMD-Vi in the firmware and boot with intel_iommu=on (Intel) or amd_iommu=on "
                    "(AMD) and iommu=pt; only needed to pass devices (a GPU, USB controller) to guests",
                    "no groups");
    return item("iommu", "IOMMU", CheckStatus::Ok,
                fmt::format("{} IOMMU group{}{}", groups.size(), groups.size() == 1 ? "" : "s",
                            unit_list.empty() ? "" : fmt::format(" ({})", unit_list)));
}

CheckItem render_node(const std::string& sysroot, std::string& node) {
    const fs::path dri = sysroot + "/dev/dri";
    std::error_code ec;
    if (!fs::is_directory(dri, ec))
        return item("render_node", "DRM render node", CheckStatus::Missing,
                    fmt::format("{} does not exist: no GPU driver is loaded (or no GPU is passed to this container)",
                                dri.string()),
                    "install and load the GPU's kernel driver (i915, amdgpu, nouveau, virtio_gpu); guests "
                    "still run with 2D graphics",
                    "no render node");
    const auto nodes = entries(dri, "renderD");
    if (nodes.empty())
        return item("render_node", "DRM render node", CheckStatus::Missing,
                    fmt::format("{} has no renderD* node: the GPU driver offers no rendering", dri.string()),
                    "use a GPU whose kernel driver has render nodes; guests still run with 2D graphics",
                    "no render node");
    node = (dri / nodes.front()).string();
    if (::access(node.c_str(), R_OK | W_OK) != 0)
        return item("render_node", "DRM render node", CheckStatus::Warning,
                    fmt::format("{} exists but you may not open it: {}", node, std::strerror(errno)),
                    "add your user to the render group (usermod -aG render USER), then log in again",
                    "no permission");
    return item("render_node", "DRM render node", CheckStatus::Ok, fmt::format("{}", node));
}

} // namespace phyllome::session::probes
