#include "compositor_harness.hpp"

#include <linux/input-event-codes.h>
#include <stdlib.h>

#include <stdexcept>

#include "compositor/headless_outputs.hpp"
#include "compositor/host_bindings.hpp"

namespace phyllome::test {
namespace {

// XDG_RUNTIME_DIR before WlrCore opens its Wayland socket there.
std::string ensure_runtime_dir() {
    if (const char* dir = std::getenv("XDG_RUNTIME_DIR"); dir && *dir)
        return {};
    char tmpl[] = "/tmp/phyllome-harness-XXXXXX";
    if (!mkdtemp(tmpl))
        throw std::runtime_error("cannot make a runtime directory");
    setenv("XDG_RUNTIME_DIR", tmpl, 1);
    return tmpl;
}

} // namespace

CompositorHarness::CompositorHarness(config::Config config)
    : runtime_dir_(ensure_runtime_dir()), config_(std::move(config)) {
    new_output_.connect(&core_.backend()->events.new_output, [this](wlr_output* o) {
        outputs_.push_back(std::make_unique<compositor::Output>(core_, config_, static_cast<compositor::OutputHost&>(*this), o));
        if (stage_)
            stage_->relayout();
        if (windows_)
            windows_->refit();
    });
    seat_ = std::make_unique<compositor::Seat>(
        compositor::SeatParts{core_.display(), core_.backend(), core_.session(), core_.output_layout(),
                              core_.view_layer(), nullptr},
        config_, static_cast<compositor::InputTarget&>(*this));
    windows_ = std::make_unique<compositor::HostWindows>(core_.xdg_shell(), core_.view_layer(), *seat_, outputs_);
    banner_ = std::make_unique<compositor::IdentityBanner>(
        compositor::SceneLayer{core_.osd_layer(), core_.renderer(), &config_}, core_.loop(), outputs_);
    core_.start();
    inventory_ = std::make_unique<guestview::Inventory>(
        core_.loop(), "test:///default",
        guestview::GuestInventory::Callbacks{[this] {
                                                 if (stage_)
                                                     stage_->displays().sync();
                                             },
                                             {}});
    stage_ = std::make_unique<compositor::GuestStage>(
        compositor::StageParts{core_.loop(), inventory_.get(), seat_.get(), banner_.get(), windows_.get(), &outputs_,
                               [this](const std::string& guest) {
                                   return std::make_unique<compositor::GuestView>(
                                       compositor::SceneLayer{core_.guest_layer(), core_.renderer(), &config_}, guest);
                               }},
        static_cast<compositor::StageHost&>(*this));
    if (!compositor::HeadlessOutputs(core_.backend()).backend())
        throw std::runtime_error("the harness needs WLR_BACKENDS=headless");
    keyboard_ = std::make_unique<TestKeyboard>();
    wl_signal_emit_mutable(&core_.backend()->events.new_input, &keyboard_->keyboard.base);
}

namespace {
const wlr_keyboard_impl test_keyboard_impl = {.name = "harness-keyboard", .led_update = nullptr};
} // namespace

CompositorHarness::TestKeyboard::TestKeyboard() {
    wlr_keyboard_init(&keyboard, &test_keyboard_impl, test_keyboard_impl.name);
}

CompositorHarness::TestKeyboard::~TestKeyboard() { wlr_keyboard_finish(&keyboard); }

CompositorHarness::~CompositorHarness() {
    stage_.reset();
    inventory_.reset();
    banner_.reset();
    keyboard_.reset(); // unplugged while the seat still listens
    wl_display_destroy_clients(core_.display());
    windows_.reset();
    seat_.reset();
    new_output_.disconnect();
    core_.destroy_backend();
    outputs_.clear();
    if (!runtime_dir_.empty())
        rmdir(runtime_dir_.c_str());
}

void CompositorHarness::dispatch(std::chrono::milliseconds budget) {
    const auto end = std::chrono::steady_clock::now() + budget;
    while (std::chrono::steady_clock::now() < end) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        wl_event_loop_dispatch(core_.loop(), static_cast<int>(std::max<long>(left.count(), 0)));
        wl_display_flush_clients(core_.display());
    }
}

bool CompositorHarness::dispatch_until(const std::function<bool()>& done, std::chrono::milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= end)
            return false;
        wl_event_loop_dispatch(core_.loop(), 10);
        wl_display_flush_clients(core_.display());
    }
    return true;
}

void CompositorHarness::key(std::uint32_t evdev, bool pressed) {
    wlr_keyboard_key_event event{};
    event.time_msec = ++time_msec_;
    event.keycode = evdev;
    event.update_state = true;
    event.state = pressed ? WL_KEYBOARD_KEY_STATE_PRESSED : WL_KEYBOARD_KEY_STATE_RELEASED;
    wlr_keyboard_notify_key(&keyboard_->keyboard, &event);
}

void CompositorHarness::host_chord(std::uint32_t evdev) {
    key(KEY_RIGHTCTRL, true);
    tap(evdev);
    key(KEY_RIGHTCTRL, false);
}

bool CompositorHarness::host_binding(xkb_keysym_t sym) {
    return compositor::host_binding(sym, config_, false, *stage_, [this](std::string why) {
               notices_.push_back(std::move(why));
           }) != compositor::HostBinding::None;
}

void CompositorHarness::overlay_shown(bool shown) {
    overlay_up_ = shown;
    wlr_scene_node_set_enabled(&core_.overlay_layer()->node, shown);
}

void CompositorHarness::present_now() {
    for (auto& o : outputs_)
        o->present_now();
}

void CompositorHarness::output_destroyed(compositor::Output& output) {
    if (stage_)
        stage_->forget_output(output);
    outputs_.remove_if([&](const auto& o) { return o.get() == &output; });
}

void CompositorHarness::output_presented(compositor::Output& output, bool) {
    if (stage_)
        stage_->output_presented(output);
}

} // namespace phyllome::test
