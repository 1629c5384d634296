#include "guestview/agent_protocol.hpp"

#include <type_traits>

#include "guestview/agent_wire.hpp"

namespace phyllome::guestview::agent {
namespace {

using namespace wire;

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
    w.u32(static_cast<std::uint32_t>(g.snapshots.size()));
    for (const SnapshotEntry& snap : g.snapshots) {
        w.str(snap.name);
        w.i64(snap.created);
        w.boolean(snap.with_memory);
        w.boolean(snap.current);
    }
    write_guest_usb(w, g);
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
    // Each snapshot takes at least 4 + 8 + 2 bytes: a count beyond the body fails before allocating.
    const std::uint32_t snapshots = r.u32();
    if (snapshots > r.remaining() / 14) {
        r.str(); // fails the reader
        return g;
    }
    for (std::uint32_t i = 0; i < snapshots && !r.failed(); ++i) {
        SnapshotEntry snap;
        snap.name = r.str();
        snap.created = r.i64();
        snap.with_memory = r.boolean();
        snap.current = r.boolean();
        g.snapshots.push_back(std::move(snap));
    }
    read_guest_usb(r, g);
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
constexpr std::size_t min_guest_size = 4 * 4 + 2 + 4 + 2 + 4 + 1 + 4 + min_guest_usb_size;

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
            } else if constexpr (std::is_same_v<M, PlanRequest>) {
                Writer w(out, Type::Plan);
                w.u32(m.id);
                write_spec(w, m.spec);
            } else if constexpr (std::is_same_v<M, UsbDeviceRequest> || std::is_same_v<M, UsbChoicesRequest>) {
                write_usb_message(out, m);
            } else {
                write_job_message(out, m);
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
            } else if constexpr (std::is_same_v<M, JobStartedReply> || std::is_same_v<M, JobsUpdate>) {
                write_job_message(out, m);
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
    case Type::JobStart:
    case Type::JobCancel:
        return read_job_request(r, static_cast<Type>(body[0]));
    case Type::UsbDevice:
    case Type::UsbChoices:
        return read_usb_request(r, static_cast<Type>(body[0]));
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
    case Type::JobStarted:
    case Type::Jobs:
        return read_job_reply(r, static_cast<Type>(body[0]), body.size());
    default:
        return std::nullopt;
    }
}

} // namespace phyllome::guestview::agent
