// An in-process compositor core for tests (wayfire's headless-core-harness is the model): the
// real WlrCore on the headless backend with the pixman renderer, the real Seat, GuestStage,
// Outputs and Host+key bindings, wired as the server wires them, with libvirt's test driver as
// the inventory. No child process, no control socket, no libvirt agent: routing and switching
// tests drive it by injecting keys and dispatching its loop, on which fake QEMU displays live too.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "compositor/guest_stage.hpp"
#include "compositor/host_windows.hpp"
#include "compositor/identity_banner.hpp"
#include "compositor/output.hpp"
#include "compositor/seat.hpp"
#include "compositor/wlr_core.hpp"
#include "config/config.hpp"
#include "guestview/inventory.hpp"

namespace phyllome::test {

class CompositorHarness : private compositor::InputTarget,
                          private compositor::StageHost,
                          private compositor::OutputHost {
public:
    // Needs WLR_BACKENDS=headless and WLR_RENDERER=pixman (the test environment sets them); makes
    // a runtime directory of its own when XDG_RUNTIME_DIR is unset.
    explicit CompositorHarness(config::Config config = {});
    ~CompositorHarness() override;

    wl_event_loop* loop() const { return core_.loop(); }
    compositor::GuestStage& stage() { return *stage_; }
    compositor::Seat& seat() { return *seat_; }
    const std::list<std::unique_ptr<compositor::Output>>& outputs() const { return outputs_; }

    // Dispatches the loop until `done` or the deadline; true if `done` held.
    bool dispatch_until(const std::function<bool()>& done, std::chrono::milliseconds deadline);
    void dispatch(std::chrono::milliseconds budget);

    // A key of a keyboard plugged into the headless backend (evdev code).
    void key(std::uint32_t evdev, bool pressed);
    void tap(std::uint32_t evdev) {
        key(evdev, true);
        key(evdev, false);
    }
    // Host key (Right Ctrl by default) held around `evdev`.
    void host_chord(std::uint32_t evdev);

    // What reached the overlay side while no guest was shown.
    const std::vector<xkb_keysym_t>& overlay_keys() const { return overlay_keys_; }
    const std::vector<std::string>& notices() const { return notices_; }
    bool overlay_up() const { return overlay_up_; }
    // Ctrl+Alt+Fn switches VTs (true: the server's default outside a locked kiosk).
    void allow_vt_switch(bool allowed) { vt_switch_allowed_ = allowed; }
    // A host application's window is at the front (and takes the keys).
    bool host_window_shown() const { return windows_ && windows_->front(); }
    compositor::HostWindows& windows() { return *windows_; }
    // The overlay layer is drawn (the overlay is at the front).
    bool overlay_drawn() const { return core_.overlay_layer()->node.enabled; }

private:
    // InputTarget
    wlr_surface* host_window() const override { return host_window_shown() ? windows_->front()->surface() : nullptr; }
    compositor::GuestInput* shown_guest_input() override { return stage_ ? stage_->shown_input() : nullptr; }
    bool host_binding(xkb_keysym_t sym) override;
    void overlay_key(xkb_keysym_t sym, std::uint32_t) override { overlay_keys_.push_back(sym); }
    void overlay_click(double, double) override {}
    bool vt_switch_allowed() const override { return vt_switch_allowed_; }
    // StageHost
    void overlay_shown(bool shown) override;
    void overlay_changed() override {}
    void notice(std::string text, bool) override { notices_.push_back(std::move(text)); }
    bool kiosk(std::string&) const override { return false; }
    void guest_frame(const std::string&, bool) override {}
    void present_now() override;
    void memory_may_be_free() override {}
    // OutputHost
    void output_destroyed(compositor::Output& output) override;
    void output_mode_changed(compositor::Output&) override {}
    void output_presented(compositor::Output& output, bool) override;

    std::string runtime_dir_;
    config::Config config_;
    compositor::WlrCore core_;
    std::list<std::unique_ptr<compositor::Output>> outputs_;
    std::unique_ptr<compositor::Seat> seat_;
    std::unique_ptr<compositor::HostWindows> windows_;
    std::unique_ptr<compositor::IdentityBanner> banner_;
    std::unique_ptr<guestview::Inventory> inventory_;
    std::unique_ptr<compositor::GuestStage> stage_;
    // A keyboard of our own, announced as the backend's (wlroots' headless backend has none).
    struct TestKeyboard {
        wlr_keyboard keyboard{};
        TestKeyboard();
        ~TestKeyboard();
    };
    std::unique_ptr<TestKeyboard> keyboard_;
    std::uint32_t time_msec_ = 0;
    std::vector<xkb_keysym_t> overlay_keys_;
    std::vector<std::string> notices_;
    bool overlay_up_ = true;
    bool vt_switch_allowed_ = true;
    compositor::Listener<wlr_output> new_output_;
};

} // namespace phyllome::test
