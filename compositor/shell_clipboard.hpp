// The shell's own clipboard: the text the user last took with Host+C (from a guest) or that a
// host application put on the Wayland selection, and where it came from. Guests never see it
// unless the user offers it with Host+V (server_clipboard.cpp); host applications share it as
// the seat's selection (wl_data_device), which the shell owns with its own data source after a
// Host+C. Pastes are written without blocking the compositor: each is a non-blocking pipe
// served from the event loop, given up after a while if its reader stops reading.
#pragma once

#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <string>

#include "compositor/listener.hpp"
#include "compositor/wlr.hpp"
#include "guestview/event_source.hpp"

namespace phyllome::compositor {

struct ClipboardText {
    bool ok = false;
    std::string text;
    std::string source; // a guest's name, or "host" for a host application's selection
    std::string error;  // !ok: in the user's words
};

class ShellClipboard {
public:
    ShellClipboard(wl_display* display, wlr_seat* seat);
    ~ShellClipboard();
    ShellClipboard(const ShellClipboard&) = delete;
    ShellClipboard& operator=(const ShellClipboard&) = delete;

    // Holds `text` from `source` and publishes it as the seat's selection.
    void set(std::string text, std::string source);
    // What to offer a guest: a host application's selection if one holds it (read without
    // blocking, at most `max_bytes`), else what the shell holds. `done` runs once, maybe at once.
    void current(std::size_t max_bytes, std::function<void(ClipboardText)> done);

    bool empty() const { return !text_ || text_->empty(); }
    std::size_t characters() const;
    std::size_t bytes() const { return text_ ? text_->size() : 0; }
    const std::string& source() const { return source_; }
    // A host application, not the shell, owns the seat's selection now.
    bool host_selection() const;
    std::size_t pastes_in_flight() const { return writers_.size(); }

    // A paste or a read that stalls this long is given up.
    static constexpr int transfer_timeout_ms = 5000;

    struct Source;
    class Writer;
    class Reader;

private:
    void paste_into(int fd);
    void source_gone(Source* source);
    void writer_done(Writer* writer);
    void reader_done(Reader* reader, ClipboardText result);

    wl_display* display_;
    wlr_seat* seat_;
    std::shared_ptr<const std::string> text_;
    std::string source_;
    Source* published_ = nullptr; // ours while it is the seat's selection; wlroots owns it
    std::list<std::unique_ptr<Writer>> writers_;
    std::list<std::unique_ptr<Reader>> readers_;
    Listener<wlr_seat_request_set_selection_event> request_set_selection_;
};

} // namespace phyllome::compositor
