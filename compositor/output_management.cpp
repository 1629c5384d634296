#include "compositor/output_management.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "compositor/headless_outputs.hpp"
#include "compositor/output.hpp"
#include "compositor/wlr_core.hpp"
#include "config/log.hpp"

namespace phyllome::compositor {
namespace {

struct ConfigurationDestroyer {
    void operator()(wlr_output_configuration_v1* config) const { wlr_output_configuration_v1_destroy(config); }
};
// The compositor owns a configuration from its apply or test event on, and once sent it is done.
using ConfigurationPtr = std::unique_ptr<wlr_output_configuration_v1, ConfigurationDestroyer>;

// The size a head asks for: one of the output's modes, or a custom one.
std::pair<int, int> asked_size(const wlr_output_head_v1_state& head) {
    return head.mode ? std::pair{head.mode->width, head.mode->height}
                     : std::pair{head.custom_mode.width, head.custom_mode.height};
}

// "1024x768 scale 2 transform 90 at 0,0" or "off", as a head asks.
std::string describe(const wlr_output_head_v1_state& head) {
    if (!head.enabled)
        return "off";
    const auto [width, height] = asked_size(head);
    return fmt::format("{}x{} scale {} transform {} at {},{}", width, height, head.scale,
                       config::to_string(static_cast<config::Transform>(head.transform)), head.x, head.y);
}

} // namespace

struct OutputManagement::Change {
    Output* output;
    wlr_output_head_v1_state head;
    OutputState state;
};

OutputManagement::OutputManagement(wl_display* display, const std::list<std::unique_ptr<Output>>& outputs,
                                   std::function<void()> applied)
    : loop_(wl_display_get_event_loop(display)), outputs_(outputs), applied_(std::move(applied)),
      manager_(wlr_require(wlr_output_manager_v1_create(display), "wlr-output-management")) {
    apply_.connect(&manager_->events.apply, [this](wlr_output_configuration_v1* c) { on_request(c, true); });
    test_.connect(&manager_->events.test, [this](wlr_output_configuration_v1* c) { on_request(c, false); });
}

OutputManagement::~OutputManagement() = default;

void OutputManagement::outputs_changed() {
    if (idle_)
        return;
    idle_.reset(wl_event_loop_add_idle(
        loop_,
        [](void* data) {
            auto* self = static_cast<OutputManagement*>(data);
            static_cast<void>(self->idle_.release()); // libwayland frees an idle source once it ran
            self->send_current();
        },
        this));
}

void OutputManagement::send_current() {
    wlr_output_configuration_v1* config = wlr_output_configuration_v1_create();
    if (!config) {
        log::error("output management: no memory for the current configuration");
        return;
    }
    for (const auto& o : outputs_) {
        wlr_output_configuration_head_v1* head = wlr_output_configuration_head_v1_create(config, o->wlr());
        if (!head) {
            log::error("output management: no memory for output {}'s head", o->wlr()->name);
            wlr_output_configuration_v1_destroy(config);
            return;
        }
        // Enabled means placed: an output the power protocol turned off keeps its place, and its
        // head stays enabled (as in sway), so a layout tool does not take it for unplugged.
        head->state.enabled = o->in_layout();
        const wlr_box box = o->layout_box();
        head->state.x = box.x;
        head->state.y = box.y;
    }
    wlr_output_manager_v1_set_configuration(manager_, config); // takes it
}

Output* OutputManagement::find(const wlr_output* output) const {
    auto it = std::find_if(outputs_.begin(), outputs_.end(), [&](const auto& o) { return o->wlr() == output; });
    return it != outputs_.end() ? it->get() : nullptr;
}

void OutputManagement::on_request(wlr_output_configuration_v1* raw, bool apply) {
    ConfigurationPtr config(raw);
    std::list<Change> changes;
    std::string why;
    bool ok = prepare(*config, changes, why);
    const bool changed = ok && apply;
    if (changed)
        ok = commit(changes, why);
    if (ok) {
        wlr_output_configuration_v1_send_succeeded(config.get());
    } else {
        log::error("output management: a client's configuration was refused ({}): {}", apply ? "apply" : "test", why);
        wlr_output_configuration_v1_send_failed(config.get());
    }
    // Even a failed commit may have changed the outputs before it: the shell follows what is.
    if (changed) {
        applied_();
        outputs_changed();
    }
}

bool OutputManagement::prepare(wlr_output_configuration_v1& config, std::list<Change>& changes,
                               std::string& why) const {
    wlr_output_configuration_head_v1* head;
    wl_list_for_each(head, &config.heads, link) {
        const wlr_output_head_v1_state& asked = head->state;
        Output* output = find(asked.output);
        if (!output) {
            why = fmt::format("output {} is not one the shell shows on", asked.output->name);
            return false;
        }
        const auto [width, height] = asked_size(asked);
        if (asked.enabled && (width > HeadlessOutputs::max_size || height > HeadlessOutputs::max_size)) {
            why = fmt::format("output {}: {}x{} is larger than {} pixels a side", asked.output->name, width, height,
                              HeadlessOutputs::max_size);
            return false;
        }
        Change& change = changes.emplace_back(output, asked);
        wlr_output_head_v1_state_apply(&asked, &change.state.state);
        if (!wlr_output_test_state(output->wlr(), &change.state.state)) {
            why = fmt::format("output {} cannot take {}", asked.output->name, describe(asked));
            return false;
        }
    }
    return true;
}

bool OutputManagement::commit(std::list<Change>& changes, std::string& why) {
    changes.sort([](const Change& a, const Change& b) { return !a.head.enabled && b.head.enabled; });
    for (Change& change : changes) {
        wlr_output* output = change.output->wlr();
        if (!wlr_output_commit_state(output, &change.state.state)) {
            why = fmt::format("output {} refused {} after accepting it in a test", output->name, describe(change.head));
            return false;
        }
        if (change.head.enabled)
            change.output->place(std::pair{change.head.x, change.head.y});
        else
            change.output->leave_layout();
        log::info("output {}: {} (asked by a client)", output->name,
                  change.head.enabled ? change.output->describe() : "off");
    }
    return true;
}

} // namespace phyllome::compositor
