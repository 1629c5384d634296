// wlr-output-management-unstable-v1, what wlr-randr and kanshi speak: every output is a head
// with its modes, current mode, position, scale, transform and enablement, kept current as
// outputs come, go and change. A client's configuration is tested or applied here, one output
// state per head; an applied one takes effect as a config reload's does.
#pragma once

#include <functional>
#include <list>
#include <memory>
#include <string>

#include "compositor/listener.hpp"
#include "compositor/wlr.hpp"
#include "guestview/event_source.hpp"

namespace phyllome::compositor {

class Output;

class OutputManagement {
public:
    // `applied`: a client's configuration is on screen, the shell lays itself out again.
    OutputManagement(wl_display* display, const std::list<std::unique_ptr<Output>>& outputs,
                     std::function<void()> applied);
    ~OutputManagement();
    OutputManagement(const OutputManagement&) = delete;
    OutputManagement& operator=(const OutputManagement&) = delete;

    // Outputs came, went, moved or changed: clients hear of it once the loop is idle, once for
    // a burst of changes (an apply commits several outputs, each moving the layout).
    void outputs_changed();

private:
    struct Change;
    void send_current();
    void on_request(wlr_output_configuration_v1* config, bool apply);
    // Builds and tests one state per head; false with `why` naming the output and the cause.
    bool prepare(wlr_output_configuration_v1& config, std::list<Change>& changes, std::string& why) const;
    // Commits them, outputs going off first (they free what others may need); false with `why`.
    bool commit(std::list<Change>& changes, std::string& why);
    Output* find(const wlr_output* output) const;

    wl_event_loop* loop_;
    const std::list<std::unique_ptr<Output>>& outputs_;
    std::function<void()> applied_;
    wlr_output_manager_v1* manager_; // the display's: freed with it, after us
    guestview::EventSourcePtr idle_;  // a pending send_current()
    Listener<wlr_output_configuration_v1> apply_;
    Listener<wlr_output_configuration_v1> test_;
};

} // namespace phyllome::compositor
