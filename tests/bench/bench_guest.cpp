#include "bench_guest.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string_view>
#include <thread>

#include <fmt/format.h>

#include "shell_process.hpp"

namespace phyllome::bench {

namespace {

std::string read_file(const std::string& path, std::uint64_t from = 0) {
    std::ifstream f(path, std::ios::binary);
    if (!f)
        return {};
    f.seekg(static_cast<std::streamoff>(from));
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::string cmdline(const BenchGuestSpec& s) {
    // Unknown name=value kernel parameters reach the guest's /init as environment variables.
    return fmt::format("console=ttyS0 quiet fbanim_fps={} fbanim_band={} fbanim_seconds={}{}{}{}", s.fps, s.band_rows,
                       s.seconds, s.keys_witness ? " phyllome_keys=1" : "",
                       s.mode.empty() ? "" : " phyllome_mode=" + s.mode,
                       s.kernel_args.empty() ? "" : " " + s.kernel_args);
}

// The machine XML with direct kernel boot (firmware, UEFI too, loads the kernel before any boot
// device) and the serial console in a file; empty when it lacks </os> or </devices>.
std::string with_kernel(const BenchGuestSpec& s, const std::string& serial_path) {
    std::string xml = s.machine_xml;
    const auto os_end = xml.find("</os>");
    if (os_end == std::string::npos)
        return {};
    xml.insert(os_end, fmt::format("  <kernel>{0}/vmlinuz</kernel>\n    <initrd>{0}/initrd.gz</initrd>\n"
                                    "    <cmdline>{1}</cmdline>\n  ",
                                    s.kernel_dir, cmdline(s)));
    const auto devices_end = xml.rfind("</devices>");
    if (devices_end == std::string::npos)
        return {};
    xml.insert(devices_end, fmt::format("  <serial type='file'><source path='{}'/></serial>\n  ", serial_path));
    return xml;
}

std::string domain_xml(const BenchGuestSpec& s, const std::string& serial_path) {
    if (!s.machine_xml.empty())
        return with_kernel(s, serial_path);
    return fmt::format(R"(<domain type='{}'>
  <name>{}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{}/vmlinuz</kernel>
    <initrd>{}/initrd.gz</initrd>
    <cmdline>{}</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'><source path='{}'/></serial>
    {}
    <video><model type='virtio' heads='{}' primary='yes'><resolution x='1280' y='800'/></model></video>
    <memballoon model='none'/>
  </devices>
</domain>
)",
                       s.use_kvm ? "kvm" : "qemu", s.name, s.kernel_dir, s.kernel_dir, cmdline(s),
                       serial_path,
                       s.graphics == BenchGuestSpec::Graphics::Dbus
                           ? "<graphics type='dbus' p2p='yes'/>"
                           : "<graphics type='spice' autoport='yes' listen='127.0.0.1'/>",
                       s.heads);
}

} // namespace

std::string kernel_boot_xml(const BenchGuestSpec& spec, const std::string& serial_path) {
    return with_kernel(spec, serial_path);
}

BenchGuest::BenchGuest(BenchGuestSpec spec)
    : spec_(std::move(spec)), serial_path_(spec_.embed_root + "/" + spec_.name + ".serial.log") {}

BenchGuest::~BenchGuest() {
    if (defined_)
        virsh(fmt::format("destroy {0}; undefine --nvram {0}", spec_.name), std::chrono::seconds(120));
}

std::string BenchGuest::virsh(const std::string& commands, std::chrono::seconds timeout) const {
    const auto r = phyllome::test::run_command({"virsh", "-q", "-c", uri(), commands}, {}, timeout);
    return r.exit_code == 0 ? std::string() : r.out + r.err;
}

std::string BenchGuest::definition_xml() const { return domain_xml(spec_, serial_path_); }

std::string BenchGuest::start() {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(spec_.embed_root + "/etc", ec);
    // No virtlogd beside an embedded driver; as root, QEMU stays root (as the shell's own
    // embedded root does), so it may open the kernel and initramfs in the cache.
    const std::string conf = spec_.embed_root + "/etc/qemu.conf";
    if (!fs::exists(conf, ec))
        std::ofstream(conf) << "stdio_handler = \"file\"\n" << (geteuid() == 0 ? "user = \"root\"\ngroup = \"root\"\n" : "");
    const std::string xml = domain_xml(spec_, serial_path_);
    if (xml.empty())
        return "the machine XML has no </os> or </devices>";
    const std::string xml_path = spec_.embed_root + "/" + spec_.name + ".xml";
    std::ofstream(xml_path) << xml;
    // Leftovers of an interrupted run go first (errors ignored: usually there are none).
    virsh(fmt::format("destroy {0}; undefine --nvram {0}", spec_.name), std::chrono::seconds(300));
    fs::remove(serial_path_, ec);
    if (auto err = virsh("define " + xml_path, std::chrono::seconds(300)); !err.empty())
        return "virsh define: " + err;
    defined_ = true;
    if (auto err = virsh("start " + spec_.name, std::chrono::seconds(300)); !err.empty())
        return "virsh start: " + err;
    return {};
}

bool BenchGuest::wait_booted(std::chrono::milliseconds deadline) const {
    return phyllome::test::wait_until(
        [&] { return read_file(serial_path_).find("framebuffer ready") != std::string::npos; }, deadline);
}

bool BenchGuest::wait_animating(std::uint64_t mark, std::chrono::milliseconds deadline) const {
    return phyllome::test::wait_until(
        [&] { return read_file(serial_path_, mark).find("frames/s") != std::string::npos; }, deadline);
}

bool BenchGuest::wait_holding(std::chrono::milliseconds deadline) const {
    return phyllome::test::wait_until(
        [&] { return read_file(serial_path_).find("holding the last frame") != std::string::npos; }, deadline);
}

std::optional<std::string> serial_report(std::string_view text, std::string_view prefix) {
    const auto at = text.find(prefix);
    const auto end = at == std::string_view::npos ? at : text.find('\n', at);
    if (end == std::string_view::npos)
        return std::nullopt;
    std::string report{text.substr(at + prefix.size(), end - at - prefix.size())};
    if (!report.empty() && report.back() == '\r')
        report.pop_back();
    return report;
}

std::optional<std::string> BenchGuest::wait_report(std::string_view prefix, std::uint64_t mark,
                                                  std::chrono::milliseconds deadline) const {
    std::optional<std::string> report;
    phyllome::test::wait_until(
        [&] {
            report = serial_report(read_file(serial_path_, mark), prefix);
            return report.has_value();
        },
        deadline);
    return report;
}

std::optional<std::string> BenchGuest::wait_tpm_report(std::chrono::milliseconds deadline) const {
    return wait_report(tpm_report_prefix, 0, deadline);
}

pid_t BenchGuest::qemu_pid() const {
    const std::string pid = read_file(spec_.embed_root + "/run/qemu/" + spec_.name + ".pid");
    return pid.empty() ? -1 : static_cast<pid_t>(std::stol(pid));
}

std::optional<int> BenchGuest::spice_port() const {
    const auto r = phyllome::test::run_command({"virsh", "-q", "-c", uri(), "domdisplay --type spice " + spec_.name},
                                               {}, std::chrono::seconds(60));
    std::smatch m;
    static const std::regex re(R"(spice://[^:]+:([0-9]+))");
    if (r.exit_code != 0 || !std::regex_search(r.out, m, re))
        return std::nullopt;
    return std::stoi(m[1]);
}

std::uint64_t BenchGuest::serial_mark() const {
    std::error_code ec;
    const auto size = std::filesystem::file_size(serial_path_, ec);
    return ec ? 0 : size;
}

std::optional<double> BenchGuest::mean_fps_since(std::uint64_t mark) const {
    const std::string text = read_file(serial_path_, mark);
    static const std::regex re(R"(fb_animator: ([0-9.]+) frames/s)");
    double sum = 0;
    int n = 0;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) {
        sum += std::stod((*it)[1]);
        ++n;
    }
    if (n == 0)
        return std::nullopt;
    return sum / n;
}

std::string BenchGuest::serial_tail() const {
    const std::string text = read_file(serial_path_);
    return text.size() > 600 ? text.substr(text.size() - 600) : text;
}

} // namespace phyllome::bench
