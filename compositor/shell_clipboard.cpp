#include "compositor/shell_clipboard.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "config/log.hpp"
#include "guestview/display/clipboard_types.hpp"
#include "guestview/owned_fd.hpp"

namespace phyllome::compositor {
namespace {

// What host applications ask for; every one gets the same UTF-8 text.
constexpr std::array<const char*, 5> offered_mimes = {"text/plain;charset=utf-8", "text/plain", "UTF8_STRING",
                                                      "TEXT", "STRING"};

bool set_nonblocking(int fd) {
    const int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

// The text type a host application's selection offers, in order of preference; null: none.
const char* text_mime_of(wlr_data_source* source) {
    auto* mimes = static_cast<char**>(source->mime_types.data);
    const std::size_t count = source->mime_types.size / sizeof(char*);
    for (std::string_view wanted : {"text/plain;charset=utf-8", "UTF8_STRING", "text/plain"})
        for (std::size_t i = 0; i < count; ++i)
            if (mimes[i] && wanted == mimes[i])
                return mimes[i];
    return nullptr;
}

} // namespace

// Our data source: wlroots owns it (it destroys the previous selection when another is set).
struct ShellClipboard::Source {
    wlr_data_source base;
    ShellClipboard* owner;
};

// One paste into a host application: the text, written as the reader takes it.
class ShellClipboard::Writer {
public:
    Writer(ShellClipboard& owner, wl_event_loop* loop, int fd, std::shared_ptr<const std::string> text)
        : owner_(owner), fd_(fd), text_(std::move(text)) {
        if (!set_nonblocking(fd)) {
            log::warn("clipboard: paste pipe: {}", std::strerror(errno));
            return;
        }
        fd_source_.reset(wl_event_loop_add_fd(loop, fd, WL_EVENT_WRITABLE, on_writable, this));
        timer_.reset(wl_event_loop_add_timer(loop, on_timeout, this));
        wl_event_source_timer_update(timer_.get(), transfer_timeout_ms);
    }
    bool started() const { return fd_source_ != nullptr; }

private:
    static int on_writable(int, std::uint32_t mask, void* data) {
        auto* self = static_cast<Writer*>(data);
        while (self->written_ < self->text_->size()) {
            const ssize_t n = ::write(self->fd_.get(), self->text_->data() + self->written_,
                                      self->text_->size() - self->written_);
            if (n > 0) {
                self->written_ += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && errno == EAGAIN && !(mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)))
                return 0; // the reader is slow: wait for room
            log::debug("clipboard: a paste reader went away after {} bytes", self->written_);
            break;
        }
        self->owner_.writer_done(self); // destroys self
        return 0;
    }
    static int on_timeout(void* data) {
        auto* self = static_cast<Writer*>(data);
        log::warn("clipboard: a host application stopped reading a paste; given up after {} bytes", self->written_);
        self->owner_.writer_done(self);
        return 0;
    }

    ShellClipboard& owner_;
    guestview::OwnedFd fd_;
    std::shared_ptr<const std::string> text_;
    std::size_t written_ = 0;
    guestview::EventSourcePtr fd_source_;
    guestview::EventSourcePtr timer_;
};

// One read of a host application's selection, capped and timed.
class ShellClipboard::Reader {
public:
    Reader(ShellClipboard& owner, wl_event_loop* loop, int fd, std::size_t max_bytes,
           std::function<void(ClipboardText)> done)
        : owner_(owner), fd_(fd), max_bytes_(max_bytes), done_(std::move(done)) {
        fd_source_.reset(wl_event_loop_add_fd(loop, fd, WL_EVENT_READABLE, on_readable, this));
        timer_.reset(wl_event_loop_add_timer(loop, on_timeout, this));
        wl_event_source_timer_update(timer_.get(), transfer_timeout_ms);
    }
    std::function<void(ClipboardText)> take_done() { return std::move(done_); }

private:
    static int on_readable(int, std::uint32_t, void* data) {
        auto* self = static_cast<Reader*>(data);
        std::array<char, 16384> chunk;
        for (;;) {
            const ssize_t n = ::read(self->fd_.get(), chunk.data(), chunk.size());
            if (n > 0) {
                self->text_.append(chunk.data(), static_cast<std::size_t>(n));
                if (self->text_.size() > self->max_bytes_)
                    return self->finish({false, {}, "host",
                                         fmt::format("the host clipboard is too large (over {} bytes)", self->max_bytes_)});
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && errno == EAGAIN)
                return 0;
            if (n < 0)
                return self->finish({false, {}, "host", fmt::format("reading the host clipboard: {}", std::strerror(errno))});
            break; // end of file: the application wrote everything
        }
        if (self->text_.empty())
            return self->finish({false, {}, "host", "the host clipboard is empty"});
        if (!guestview::is_clipboard_text(self->text_))
            return self->finish({false, {}, "host", "the host clipboard is not UTF-8 text"});
        return self->finish({true, std::move(self->text_), "host", {}});
    }
    static int on_timeout(void* data) {
        return static_cast<Reader*>(data)->finish({false, {}, "host", "the host application did not hand over its clipboard"});
    }
    int finish(ClipboardText result) {
        owner_.reader_done(this, std::move(result)); // destroys this
        return 0;
    }

    ShellClipboard& owner_;
    guestview::OwnedFd fd_;
    std::size_t max_bytes_;
    std::function<void(ClipboardText)> done_;
    std::string text_;
    guestview::EventSourcePtr fd_source_;
    guestview::EventSourcePtr timer_;
};

ShellClipboard::ShellClipboard(wl_display* display, wlr_seat* seat) : display_(display), seat_(seat) {
    // A host application's copy (wl_data_device.set_selection) becomes the seat's selection.
    request_set_selection_.connect(&seat_->events.request_set_selection, [this](wlr_seat_request_set_selection_event* e) {
        wlr_seat_set_selection(seat_, e->source, e->serial);
    });
}

ShellClipboard::~ShellClipboard() {
    request_set_selection_.disconnect();
    if (published_)
        wlr_seat_set_selection(seat_, nullptr, wl_display_next_serial(display_)); // destroys our source
}

std::size_t ShellClipboard::characters() const { return text_ ? guestview::utf8_characters(*text_) : 0; }

bool ShellClipboard::host_selection() const {
    return seat_->selection_source && seat_->selection_source != (published_ ? &published_->base : nullptr);
}

void ShellClipboard::set(std::string text, std::string source) {
    text_ = std::make_shared<const std::string>(std::move(text));
    source_ = std::move(source);
    static const wlr_data_source_impl impl = {
        .send = [](wlr_data_source* base, const char*, int32_t fd) {
            reinterpret_cast<Source*>(base)->owner->paste_into(fd);
        },
        .accept = nullptr,
        .destroy = [](wlr_data_source* base) {
            std::unique_ptr<Source> source(reinterpret_cast<Source*>(base)); // ours to free
            if (source->owner)
                source->owner->source_gone(source.get());
        },
        .dnd_drop = nullptr,
        .dnd_finish = nullptr,
        .dnd_action = nullptr,
    };
    auto ours = std::make_unique<Source>();
    wlr_data_source_init(&ours->base, &impl);
    ours->owner = this;
    for (const char* mime : offered_mimes) {
        auto** slot = static_cast<char**>(wl_array_add(&ours->base.mime_types, sizeof(char*)));
        if (slot)
            *slot = strdup(mime);
    }
    Source* raw = ours.release(); // wlroots destroys it through impl.destroy
    wlr_seat_set_selection(seat_, &raw->base, wl_display_next_serial(display_));
    published_ = raw;
}

void ShellClipboard::source_gone(Source* source) {
    if (published_ == source)
        published_ = nullptr;
}

void ShellClipboard::paste_into(int fd) {
    if (!text_) {
        ::close(fd);
        return;
    }
    auto writer = std::make_unique<Writer>(*this, wl_display_get_event_loop(display_), fd, text_);
    if (writer->started())
        writers_.push_back(std::move(writer));
}

void ShellClipboard::writer_done(Writer* writer) {
    writers_.remove_if([writer](const auto& w) { return w.get() == writer; });
}

void ShellClipboard::current(std::size_t max_bytes, std::function<void(ClipboardText)> done) {
    if (!host_selection()) {
        if (empty())
            return done({false, {}, {}, "the clipboard is empty: copy from a guest with Host+C first"});
        return done({true, *text_, source_, {}});
    }
    wlr_data_source* host = seat_->selection_source;
    const char* mime = text_mime_of(host);
    if (!mime)
        return done({false, {}, "host", "the host clipboard holds no text"});
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
        return done({false, {}, "host", fmt::format("reading the host clipboard: {}", std::strerror(errno))});
    guestview::OwnedFd write_end(fds[1]);
    readers_.push_back(std::make_unique<Reader>(*this, wl_display_get_event_loop(display_), fds[0], max_bytes,
                                                std::move(done)));
    wlr_data_source_send(host, mime, write_end.release()); // the application writes and closes it
}

void ShellClipboard::reader_done(Reader* reader, ClipboardText result) {
    std::function<void(ClipboardText)> done;
    for (auto it = readers_.begin(); it != readers_.end(); ++it)
        if (it->get() == reader) {
            done = (*it)->take_done();
            readers_.erase(it); // destroys the reader: its sources go first
            break;
        }
    if (result.ok) {
        text_ = std::make_shared<const std::string>(result.text);
        source_ = "host";
    }
    if (done)
        done(std::move(result));
}

} // namespace phyllome::compositor
