#include "guestview/agent_protocol.hpp"

#include <type_traits>

namespace phyllome::guestview::agent {
namespace {

// Message types on the wire; requests and replies have their own ranges so a frame sent the
// wrong way is rejected.
enum class Type : std::uint8_t {
    Action = 1,
    Graphics = 2,
    Screenshot = 3,
    Identity = 4,
    Adopt = 5,
    Create = 6,
    Plan = 7,
    State = 64,
    ActionDone = 65,
    GraphicsDone = 66,
    ScreenshotDone = 67,
    Done = 68,
    PlanDone = 69,
};

class Writer {
public:
    explicit Writer(std::string& out, Type type) : out_(out), start_(out.size()) {
        u32(0); // the length, filled in by finish()
        u8(static_cast<std::uint8_t>(type));
    }
    ~Writer() {
        const std::size_t length = out_.size() - start_ - frame_header_size;
        for (std::size_t i = 0; i < 4; ++i)
            out_[start_ + i] = static_cast<char>((length >> (8 * i)) & 0xff);
    }
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void u32(std::uint32_t v) {
        for (int i = 0; i < 4; ++i)
            out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
    void i32(std::int32_t v) { u32(static_cast<std::uint32_t>(v)); }
    void i64(std::int64_t v) {
        u32(static_cast<std::uint32_t>(static_cast<std::uint64_t>(v) & 0xffffffffu));
        u32(static_cast<std::uint32_t>(static_cast<std::uint64_t>(v) >> 32));
    }
    void boolean(bool v) { u8(v ? 1 : 0); }
    void str(std::string_view s) {
        u32(static_cast<std::uint32_t>(s.size()));
        out_.append(s);
    }
    template <typename T>
    void opt(const std::optional<T>& v) {
        boolean(v.has_value());
        if (v) {
            if constexpr (std::is_same_v<T, int>)
                i32(*v);
            else
                u32(*v);
        }
    }

private:
    std::string& out_;
    std::size_t start_;
};

// Reads fields in order; any short read or bad value sets failed and yields zeros from then on.
class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}

    bool failed() const { return failed_; }
    bool done() const { return !failed_ && in_.empty(); }

    std::uint8_t u8() {
        if (!take(1))
            return 0;
        return static_cast<std::uint8_t>(last_[0]);
    }
    std::uint32_t u32() {
        if (!take(4))
            return 0;
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i)
            v |= static_cast<std::uint32_t>(static_cast<unsigned char>(last_[i])) << (8 * i);
        return v;
    }
    std::int32_t i32() { return static_cast<std::int32_t>(u32()); }
    std::int64_t i64() {
        const std::uint64_t low = u32();
        const std::uint64_t high = u32();
        return static_cast<std::int64_t>(low | (high << 32));
    }
    bool boolean() {
        const std::uint8_t v = u8();
        if (v > 1)
            failed_ = true;
        return v == 1;
    }
    std::string str() {
        const std::uint32_t n = u32();
        if (!take(n))
            return {};
        return std::string{last_};
    }
    template <typename T>
    std::optional<T> opt() {
        if (!boolean())
            return std::nullopt;
        if constexpr (std::is_same_v<T, int>)
            return i32();
        else
            return u32();
    }
    // An enum value, checked against its last member.
    template <typename E>
    E enumeration(E last) {
        const std::uint8_t v = u8();
        if (v > static_cast<std::uint8_t>(last))
            failed_ = true;
        return static_cast<E>(v);
    }

private:
    bool take(std::size_t n) {
        if (failed_ || in_.size() < n) {
            failed_ = true;
            return false;
        }
        last_ = in_.substr(0, n);
        in_.remove_prefix(n);
        return true;
    }

    std::string_view in_;
    std::string_view last_;
    bool failed_ = false;
};

void write_guest(Writer& w, const GuestInfo& g) {
    w.str(g.name);
    w.str(g.uuid);
    w.u8(static_cast<std::uint8_t>(g.state));
    w.str(g.state_reason);
    w.u8(static_cast<std::uint8_t>(g.graphics));
    w.i32(g.dbus_graphics_index);
    w.str(g.graphics_note);
    w.opt(g.slot);
    w.opt(g.colour);
    w.i32(g.domain_id);
    w.boolean(g.installer_attached);
}

GuestInfo read_guest(Reader& r) {
    GuestInfo g;
    g.name = r.str();
    g.uuid = r.str();
    g.state = r.enumeration(GuestState::Unknown);
    g.state_reason = r.str();
    g.graphics = r.enumeration(GraphicsSupport::None);
    g.dbus_graphics_index = r.i32();
    g.graphics_note = r.str();
    g.slot = r.opt<int>();
    g.colour = r.opt<std::uint32_t>();
    g.domain_id = r.i32();
    g.installer_attached = r.boolean();
    return g;
}

void write_spec(Writer& w, const GuestSpec& s) {
    w.str(s.name);
    w.str(s.iso_path);
    w.str(s.os_id);
    w.i32(s.disk_size_gb);
    w.i32(s.memory_mb);
    w.i32(s.cpus);
    w.boolean(s.accel3d);
    w.str(s.disk_dir);
    w.boolean(s.encrypt_disk);
    w.str(s.secret_uuid);
    w.boolean(s.allow_kvm);
    w.i32(s.heads);
}

GuestSpec read_spec(Reader& r) {
    GuestSpec s;
    s.name = r.str();
    s.iso_path = r.str();
    s.os_id = r.str();
    s.disk_size_gb = r.i32();
    s.memory_mb = r.i32();
    s.cpus = r.i32();
    s.accel3d = r.boolean();
    s.disk_dir = r.str();
    s.encrypt_disk = r.boolean();
    s.secret_uuid = r.str();
    s.allow_kvm = r.boolean();
    s.heads = r.i32();
    return s;
}

void write_strings(Writer& w, const std::vector<std::string>& list) {
    w.u32(static_cast<std::uint32_t>(list.size()));
    for (const std::string& s : list)
        w.str(s);
}

// A count is bounded by what the body can hold (4 bytes a string) before anything is allocated.
std::vector<std::string> read_strings(Reader& r, std::size_t body_size) {
    const std::uint32_t count = r.u32();
    std::vector<std::string> list;
    if (r.failed() || count > body_size / 4) {
        r.str(); // fails the reader: a count larger than the frame
        return list;
    }
    for (std::uint32_t i = 0; i < count && !r.failed(); ++i)
        list.push_back(r.str());
    return list;
}

// Each guest takes at least this many bytes, which bounds a count before allocating for it.
constexpr std::size_t min_guest_size = 4 * 4 + 2 + 4 + 2 + 4 + 1;

template <typename T>
std::optional<T> finished(Reader& r, T value) {
    if (!r.done())
        return std::nullopt;
    return value;
}

} // namespace

bool CreateRequest::operator==(const CreateRequest& o) const {
    return id == o.id && spec == o.spec;
}

bool StateUpdate::operator==(const StateUpdate& o) const {
    return status.state == o.status.state && status.uri == o.status.uri && status.error == o.status.error &&
           status.retry_in == o.status.retry_in && guests == o.guests;
}

bool ActionReply::operator==(const ActionReply& o) const {
    return id == o.id && result.action == o.result.action && result.guest == o.result.guest &&
           result.ok == o.result.ok && result.error == o.result.error && result.note == o.result.note;
}

void encode(const Request& message, std::string& out) {
    std::visit(
        [&out](const auto& m) {
            using M = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<M, ActionRequest>) {
                Writer w(out, Type::Action);
                w.u32(m.id);
                w.u8(static_cast<std::uint8_t>(m.action));
                w.str(m.guest);
            } else if constexpr (std::is_same_v<M, GraphicsRequest>) {
                Writer w(out, Type::Graphics);
                w.u32(m.id);
                w.str(m.guest);
                w.i32(m.graphics_index);
            } else if constexpr (std::is_same_v<M, ScreenshotRequest>) {
                Writer w(out, Type::Screenshot);
                w.u32(m.id);
                w.str(m.guest);
                w.u32(m.screen);
            } else if constexpr (std::is_same_v<M, IdentityRequest>) {
                Writer w(out, Type::Identity);
                w.u32(m.id);
                w.str(m.guest);
                w.opt(m.slot);
                w.opt(m.colour);
            } else if constexpr (std::is_same_v<M, AdoptRequest>) {
                Writer w(out, Type::Adopt);
                w.u32(m.id);
                w.str(m.guest);
            } else if constexpr (std::is_same_v<M, CreateRequest>) {
                Writer w(out, Type::Create);
                w.u32(m.id);
                write_spec(w, m.spec);
            } else {
                static_assert(std::is_same_v<M, PlanRequest>);
                Writer w(out, Type::Plan);
                w.u32(m.id);
                write_spec(w, m.spec);
            }
        },
        message);
}

void encode(const Reply& message, std::string& out) {
    std::visit(
        [&out](const auto& m) {
            using M = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<M, StateUpdate>) {
                Writer w(out, Type::State);
                w.u8(static_cast<std::uint8_t>(m.status.state));
                w.str(m.status.uri);
                w.str(m.status.error);
                w.i64(m.status.retry_in.count());
                w.u32(static_cast<std::uint32_t>(m.guests.size()));
                for (const GuestInfo& g : m.guests)
                    write_guest(w, g);
            } else if constexpr (std::is_same_v<M, ActionReply>) {
                Writer w(out, Type::ActionDone);
                w.u32(m.id);
                w.u8(static_cast<std::uint8_t>(m.result.action));
                w.str(m.result.guest);
                w.boolean(m.result.ok);
                w.str(m.result.error);
                w.str(m.result.note);
            } else if constexpr (std::is_same_v<M, GraphicsReply>) {
                Writer w(out, Type::GraphicsDone);
                w.u32(m.id);
                w.boolean(m.has_fd);
                w.str(m.error);
            } else if constexpr (std::is_same_v<M, ScreenshotReply>) {
                Writer w(out, Type::ScreenshotDone);
                w.u32(m.id);
                w.str(m.image);
                w.str(m.mime);
                w.str(m.error);
            } else if constexpr (std::is_same_v<M, DoneReply>) {
                Writer w(out, Type::Done);
                w.u32(m.id);
                w.boolean(m.ok);
                w.str(m.message);
            } else {
                static_assert(std::is_same_v<M, PlanReply>);
                Writer w(out, Type::PlanDone);
                w.u32(m.id);
                const PlanView& v = m.plan;
                w.str(v.problem);
                w.str(v.os_name);
                w.str(v.os_id);
                for (int n : {v.memory_mb, v.cpus, v.disk_gb, v.min_memory_mb, v.min_disk_gb, v.free_disk_gb})
                    w.i32(n);
                write_strings(w, v.features);
                write_strings(w, v.notes);
            }
        },
        message);
}

std::optional<std::size_t> frame_length(std::string_view buffer) {
    if (buffer.size() < frame_header_size)
        return std::nullopt;
    Reader r(buffer.substr(0, frame_header_size));
    return r.u32();
}

std::optional<Request> decode_request(std::string_view body) {
    Reader r(body);
    switch (static_cast<Type>(r.u8())) {
    case Type::Action: {
        ActionRequest m;
        m.id = r.u32();
        m.action = r.enumeration(Action::Eject);
        m.guest = r.str();
        return finished<Request>(r, std::move(m));
    }
    case Type::Graphics: {
        GraphicsRequest m;
        m.id = r.u32();
        m.guest = r.str();
        m.graphics_index = r.i32();
        return finished<Request>(r, std::move(m));
    }
    case Type::Screenshot: {
        ScreenshotRequest m;
        m.id = r.u32();
        m.guest = r.str();
        m.screen = r.u32();
        return finished<Request>(r, std::move(m));
    }
    case Type::Identity: {
        IdentityRequest m;
        m.id = r.u32();
        m.guest = r.str();
        m.slot = r.opt<int>();
        m.colour = r.opt<std::uint32_t>();
        return finished<Request>(r, std::move(m));
    }
    case Type::Adopt: {
        AdoptRequest m;
        m.id = r.u32();
        m.guest = r.str();
        return finished<Request>(r, std::move(m));
    }
    case Type::Create: {
        CreateRequest m;
        m.id = r.u32();
        m.spec = read_spec(r);
        return finished<Request>(r, std::move(m));
    }
    case Type::Plan: {
        PlanRequest m;
        m.id = r.u32();
        m.spec = read_spec(r);
        return finished<Request>(r, std::move(m));
    }
    default:
        return std::nullopt;
    }
}

std::optional<Reply> decode_reply(std::string_view body) {
    Reader r(body);
    switch (static_cast<Type>(r.u8())) {
    case Type::State: {
        StateUpdate m;
        m.status.state = r.enumeration(ConnectionState::Failed);
        m.status.uri = r.str();
        m.status.error = r.str();
        m.status.retry_in = std::chrono::milliseconds{r.i64()};
        const std::uint32_t count = r.u32();
        if (r.failed() || count > body.size() / min_guest_size)
            return std::nullopt;
        m.guests.reserve(count);
        for (std::uint32_t i = 0; i < count && !r.failed(); ++i)
            m.guests.push_back(read_guest(r));
        return finished<Reply>(r, std::move(m));
    }
    case Type::ActionDone: {
        ActionReply m;
        m.id = r.u32();
        m.result.action = r.enumeration(Action::Eject);
        m.result.guest = r.str();
        m.result.ok = r.boolean();
        m.result.error = r.str();
        m.result.note = r.str();
        return finished<Reply>(r, std::move(m));
    }
    case Type::GraphicsDone: {
        GraphicsReply m;
        m.id = r.u32();
        m.has_fd = r.boolean();
        m.error = r.str();
        return finished<Reply>(r, std::move(m));
    }
    case Type::ScreenshotDone: {
        ScreenshotReply m;
        m.id = r.u32();
        m.image = r.str();
        m.mime = r.str();
        m.error = r.str();
        return finished<Reply>(r, std::move(m));
    }
    case Type::Done: {
        DoneReply m;
        m.id = r.u32();
        m.ok = r.boolean();
        m.message = r.str();
        return finished<Reply>(r, std::move(m));
    }
    case Type::PlanDone: {
        PlanReply m;
        m.id = r.u32();
        PlanView& v = m.plan;
        v.problem = r.str();
        v.os_name = r.str();
        v.os_id = r.str();
        for (int* n : {&v.memory_mb, &v.cpus, &v.disk_gb, &v.min_memory_mb, &v.min_disk_gb, &v.free_disk_gb})
            *n = r.i32();
        v.features = read_strings(r, body.size());
        v.notes = read_strings(r, body.size());
        return finished<Reply>(r, std::move(m));
    }
    default:
        return std::nullopt;
    }
}

} // namespace phyllome::guestview::agent
