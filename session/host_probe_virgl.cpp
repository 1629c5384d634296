// Can virglrenderer initialise on the render node? That is what QEMU does for a guest with
// <video><model type='virtio'><acceleration accel3d='yes'/></model></video>, so trying it is
// the only honest answer. It runs in a child process: GL drivers may abort or leave global
// state behind, and virglrenderer may only be initialised once per process. The child loads
// virglrenderer itself: the shell never renders with it, and linking it would map it and libva
// into every session.
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <fmt/format.h>
// virglrenderer.h has no extern "C" of its own.
extern "C" {
#include <virgl/virglrenderer.h>
}

#include "session/host_probes.hpp"

namespace phyllome::session::probes {
namespace {

constexpr int probe_timeout_ms = 10000;
int g_render_fd = -1;

int get_drm_fd(void*) { return ::fcntl(g_render_fd, F_DUPFD_CLOEXEC, 0); } // virgl owns (closes) it
void write_fence(void*, uint32_t) {}

// In the child: stderr goes to the pipe, so virglrenderer's own complaints become the reason.
[[noreturn]] void child(const std::string& node) {
    g_render_fd = ::open(node.c_str(), O_RDWR | O_CLOEXEC);
    if (g_render_fd < 0) {
        std::fprintf(stderr, "\ncannot open %s: %s\n", node.c_str(), std::strerror(errno));
        ::_exit(1);
    }
    void* lib = ::dlopen("libvirglrenderer.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        std::fprintf(stderr, "\ncannot load virglrenderer: %s\n", ::dlerror());
        ::_exit(1);
    }
    auto init = reinterpret_cast<decltype(&virgl_renderer_init)>(::dlsym(lib, "virgl_renderer_init"));
    auto cap_set = reinterpret_cast<decltype(&virgl_renderer_get_cap_set)>(::dlsym(lib, "virgl_renderer_get_cap_set"));
    auto cleanup = reinterpret_cast<decltype(&virgl_renderer_cleanup)>(::dlsym(lib, "virgl_renderer_cleanup"));
    if (!init || !cap_set || !cleanup) {
        std::fprintf(stderr, "\nvirglrenderer lacks virgl_renderer_init, _get_cap_set or _cleanup\n");
        ::_exit(1);
    }
    virgl_renderer_callbacks cb{};
    cb.version = 2;
    cb.write_fence = write_fence;
    cb.get_drm_fd = get_drm_fd;
    // EGL on GBM over our fd: the same winsys QEMU's virtio-gpu-gl uses with a render node.
    if (int err = init(nullptr, VIRGL_RENDERER_USE_EGL, &cb); err != 0) {
        std::fprintf(stderr, "\nvirgl_renderer_init failed (%s)\n", std::strerror(err < 0 ? -err : err));
        ::_exit(1);
    }
    uint32_t max_version = 0, max_size = 0;
    cap_set(2 /* VIRGL2 */, &max_version, &max_size);
    std::fprintf(stderr, "\nvirglrenderer initialised on %s (capset virgl2 v%u)\n", node.c_str(), max_version);
    cleanup(nullptr);
    ::_exit(0);
}

std::string last_line(const std::string& text) {
    std::size_t end = text.find_last_not_of("\n ");
    if (end == std::string::npos)
        return {};
    std::size_t start = text.rfind('\n', end);
    return text.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

CheckItem result(CheckStatus status, std::string detail, std::string action = {}, std::string brief = {}) {
    return {"virgl", "3D acceleration (virglrenderer)", status, std::move(detail), std::move(action), std::move(brief)};
}

} // namespace

CheckItem virgl(const std::string& node) {
    if (node.empty())
        return result(CheckStatus::Missing, "no DRM render node to initialise virglrenderer on",
                      "see the render node above; guests get 2D graphics meanwhile", "no render node");
    struct stat st {};
    if (::stat(node.c_str(), &st) != 0 || !S_ISCHR(st.st_mode))
        return result(CheckStatus::Missing, fmt::format("{} is not a device, virglrenderer cannot use it", node),
                      "reload the GPU's kernel driver", "not a device");
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return result(CheckStatus::Warning, fmt::format("cannot test: pipe: {}", std::strerror(errno)));
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return result(CheckStatus::Warning, fmt::format("cannot test: fork: {}", std::strerror(errno)));
    }
    if (pid == 0) {
        ::dup2(fds[1], STDERR_FILENO);
        child(node);
    }
    ::close(fds[1]);
    std::string output;
    char buf[4096];
    pollfd p{fds[0], POLLIN, 0};
    bool timed_out = false;
    for (;;) {
        const int r = ::poll(&p, 1, probe_timeout_ms);
        if (r == 0) {
            timed_out = true;
            ::kill(pid, SIGKILL); // our own child, stuck in a driver
            break;
        }
        if (r < 0 && errno == EINTR)
            continue;
        const ssize_t n = r > 0 ? ::read(fds[0], buf, sizeof buf) : -1;
        if (n <= 0)
            break;
        output.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const std::string line = last_line(output);
    if (timed_out)
        return result(CheckStatus::Missing, fmt::format("virglrenderer did not initialise on {} within {} s", node,
                                                        probe_timeout_ms / 1000),
                      "check the GPU's Mesa driver (eglinfo), then try again", "virgl hangs");
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return result(CheckStatus::Ok, line);
    const std::string why = WIFSIGNALED(status) ? fmt::format("virglrenderer crashed (signal {}) on {}", WTERMSIG(status), node)
                                                : (line.empty() ? std::string("virglrenderer failed") : line);
    return result(CheckStatus::Missing, why,
                  "install the GPU's Mesa EGL/GBM driver (libegl-mesa0, libgbm1); guests get 2D graphics meanwhile",
                  "virgl fails");
}

} // namespace phyllome::session::probes
