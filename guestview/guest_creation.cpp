// Making a new guest on the worker thread: its disk with qemu-img (encrypted with a libvirt
// secret when the connection keeps secrets, disk_secret.hpp) and its definition.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <libvirt/libvirt.h>

#include "guestview/disk_secret.hpp"
#include "guestview/domain_model.hpp"
#include "guestview/guest_plan.hpp"
#include "guestview/libvirt_handles.hpp"

namespace phyllome::guestview {
namespace {

// Runs a program without a shell; returns its stderr as the error when it fails.
std::string run(const std::vector<std::string>& argv) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) < 0)
        return std::string{"pipe: "} + std::strerror(errno);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    std::vector<char*> args;
    for (const std::string& arg : argv)
        args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    std::string output;
    char buffer[512];
    for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof buffer)) != 0;)
        if (n > 0)
            output.append(buffer, static_cast<std::size_t>(n));
        else if (errno != EINTR)
            break;
    close(pipe_fds[0]);
    if (spawned != 0)
        return fmt::format("cannot run {}: {}", argv[0], std::strerror(spawned));
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return {};
    while (!output.empty() && output.back() == '\n')
        output.pop_back();
    return fmt::format("{} failed: {}", argv[0], output.empty() ? "no message" : output);
}

// qemu-img reads the passphrase from a file, never from its command line where ps shows it.
std::string make_disk(const GuestSpec& spec, const std::string& passphrase) {
    const std::string path = phyllome_disk_path(spec);
    std::vector<std::string> argv{"qemu-img", "create", "-q", "-f", "qcow2"};
    std::string key_file;
    if (!passphrase.empty()) {
        key_file = (std::filesystem::temp_directory_path() / "phyllome-key-XXXXXX").string();
        const int fd = mkstemp(key_file.data()); // mode 0600
        if (fd < 0)
            return std::string{"cannot write the disk key: "} + std::strerror(errno);
        const bool written = write(fd, passphrase.data(), passphrase.size()) == static_cast<ssize_t>(passphrase.size());
        close(fd);
        if (!written) {
            unlink(key_file.c_str());
            return "cannot write the disk key";
        }
        argv.insert(argv.end(), {"--object", "secret,id=key0,file=" + key_file, "-o",
                                 "encrypt.format=luks,encrypt.key-secret=key0"});
    }
    argv.insert(argv.end(), {path, fmt::format("{}G", spec.disk_size_gb)});
    std::string error = run(argv);
    if (!key_file.empty())
        unlink(key_file.c_str());
    if (error.find("cannot run") == 0)
        error += " (qemu-img comes with Debian's qemu-utils)";
    return error;
}

} // namespace

CreateOutcome create_guest(virConnectPtr connection, const GuestPlan& plan, virConnectPtr secrets) {
    CreateOutcome outcome;
    if (!plan.problem.empty()) {
        outcome.message = plan.problem;
        return outcome;
    }
    GuestSpec spec = plan.spec;
    if (DomainPtr existing{virDomainLookupByName(connection, spec.name.c_str())}) {
        outcome.message = fmt::format("a guest named '{}' exists already", spec.name);
        return outcome;
    }
    virResetLastError();

    DiskSecret key;
    if (spec.encrypt_disk) {
        key = define_disk_secret(secrets != nullptr ? secrets : connection, spec);
        if (!key.error.empty()) {
            outcome.message = std::move(key.error);
            return outcome;
        }
        outcome.message = std::move(key.note);
    }
    auto forget_secret = [&key] {
        if (key.secret)
            virSecretUndefine(key.secret.get());
    };

    if (std::string error = make_disk(spec, key.passphrase); !error.empty()) {
        forget_secret();
        std::error_code ignored;
        std::filesystem::remove(phyllome_disk_path(spec), ignored);
        outcome.message = std::move(error);
        return outcome;
    }

    DomainPtr domain{virDomainDefineXMLFlags(
        connection, phyllome_domain_xml(spec, plan.model, plan.host, plan.os).c_str(), VIR_DOMAIN_DEFINE_VALIDATE)};
    if (!domain) {
        outcome.message = "cannot define the guest: " + last_libvirt_error();
        forget_secret();
        std::error_code ignored;
        std::filesystem::remove(phyllome_disk_path(spec), ignored);
        return outcome;
    }
    outcome.ok = true;
    // Whether the disk is encrypted comes after what the guest is: never silently off.
    const std::string disk = key.secret               ? std::string{"encrypted disk"}
                             : outcome.message.empty() ? std::string{"the disk is not encrypted"}
                                                       : outcome.message;
    outcome.message = plan.summary() + "; " + disk;
    return outcome;
}

} // namespace phyllome::guestview
