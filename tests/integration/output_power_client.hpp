// A Wayland client in the test process driving one output's zwlr_output_power_v1 (DPMS): no
// Debian package has a tool that speaks it (wlopm is not packaged) or its XML. Every call waits
// for a round trip, so the shell has handled the request and sent its answer when it returns.
#pragma once

#include <string>

struct wl_display;
struct wl_registry;
struct wl_proxy;

namespace phyllome::test {

class OutputPowerClient {
public:
    // Binds the shell's power manager and the wl_output called `output` (wl_output's name event).
    OutputPowerClient(const std::string& wayland_socket, const std::string& output);
    ~OutputPowerClient();
    OutputPowerClient(const OutputPowerClient&) = delete;
    OutputPowerClient& operator=(const OutputPowerClient&) = delete;

    // False when the shell has no power manager, or no such output.
    bool ok() const { return power_ != nullptr; }
    void set_mode(bool on);
    // The mode the shell last reported: 1 on, 0 off, -1 none yet.
    int mode() const { return mode_; }
    bool failed() const { return failed_; }

    // For the listeners.
    void on_output_name(wl_proxy* output, const char* name);
    void on_mode(int mode) { mode_ = mode; }
    void on_failed() { failed_ = true; }
    void on_global(wl_registry* registry, unsigned name, const char* interface, unsigned version);

private:
    std::string wanted_;
    wl_display* display_ = nullptr;
    wl_registry* registry_ = nullptr;
    wl_proxy* manager_ = nullptr;
    wl_proxy* output_ = nullptr; // the wanted one, once its name came
    wl_proxy* outputs_[8] = {};  // every wl_output bound, to learn their names
    unsigned bound_ = 0;
    wl_proxy* power_ = nullptr;
    int mode_ = -1;
    bool failed_ = false;
};

} // namespace phyllome::test
