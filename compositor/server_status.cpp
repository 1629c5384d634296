// The Server's status snapshot for phyllomectl status: guests and their displays' frame
// counters, outputs, the overlay's rows, timings, memory (frame buffers counted once) and the
// libvirt agent's.
#include <algorithm>

#include "compositor/output.hpp"
#include "compositor/process_stats.hpp"
#include "compositor/guest_identity.hpp"
#include "compositor/server.hpp"

namespace phyllome::compositor {

StatusSnapshot Server::status() const {
    StatusSnapshot s;
    s.libvirt = inventory_->status();
    s.jobs = inventory_->jobs();
    if (usb_) {
        s.usb = usb_->list();
        s.usb_problem = usb_->problem();
    }
    s.view = !stage_->shown().empty() ? "guest" : front_window() ? "window" : "overlay";
    if (!stage_->shown().empty())
        s.guest = stage_->shown();
    for (XdgView* w : windows_->mapped())
        s.windows.push_back({w->id(), w->label(), w->app_id(), stage_->window_number(*w), w == front_window()});
    const auto numbers = number_guests(inventory_->guests());
    for (const auto& g : inventory_->guests()) {
        GuestStatus gs;
        gs.info = g;
        gs.colour = guest_colour(g);
        for (const auto& n : numbers)
            if (n.name == g.name)
                gs.number = n.number;
        fill_display_status(gs);
        s.guests.push_back(std::move(gs));
    }
    for (const auto& m : stage_->displays().manual()) {
        GuestStatus gs;
        gs.info.name = m.name;
        gs.info.state = guestview::GuestState::Running;
        gs.info.graphics = guestview::GraphicsSupport::DbusP2P;
        gs.info.graphics_note = m.address;
        gs.colour = colour_from_name(m.name);
        fill_display_status(gs);
        s.guests.push_back(std::move(gs));
    }
    for (const auto& o : outputs_) {
        wlr_box box = o->layout_box();
        s.outputs.push_back({o->wlr()->name, o->wlr()->width, o->wlr()->height, o->wlr()->scale, box.x, box.y,
                             o->scanning_out(), o->scanout_commits(),
                             std::string(config::to_string(static_cast<config::Transform>(o->wlr()->transform))),
                             o->wlr()->enabled});
        if (const GuestView* shown = stage_->shown_view())
            if (auto head = shown->head_on(*o)) {
                s.outputs.back().guest = shown->guest();
                s.outputs.back().head = head;
            }
    }
    s.selected = overlay_model_.selection();
    if (!outputs_.empty()) {
        wlr_box box = outputs_.front()->layout_box();
        for (auto r : outputs_.front()->overlay_hits().rows) {
            r.x += box.x;
            r.y += box.y;
            s.overlay_rows.push_back(r);
        }
        for (auto t : outputs_.front()->overlay_hits().thumbnails) {
            t.rect.x += box.x;
            t.rect.y += box.y;
            s.overlay_thumbnails.push_back(std::move(t));
        }
        for (auto b : outputs_.front()->overlay_hits().job_bars) {
            b.bar.x += box.x;
            b.bar.y += box.y;
            s.overlay_job_bars.push_back(b);
        }
        for (auto u : outputs_.front()->overlay_hits().usb_rows) {
            u.rect.x += box.x;
            u.rect.y += box.y;
            s.overlay_usb_rows.push_back(std::move(u));
        }
    }
    s.thumbnails_shown = thumbnails_->shown();
    s.thumbnail_refreshes = thumbnails_->refreshes();
    s.overlay_notice = overlay_model_.notice();
    if (const NewGuestCard* card = overlay_model_.card())
        s.new_guest = *card;
    if (const GuestCard* card = overlay_model_.guest_card())
        s.guest_card = *card;
    s.config_path = config_.path;
    for (const auto& d : config_.diagnostics)
        s.config_problems.push_back(d.to_string());
    s.first_frame_ms = first_frame_ms_;
    s.first_frame_at_ms = first_frame_at_ms_;
    s.last_switch_ms = stage_->last_switch_ms();
    s.scheduling = scheduling_;
    s.host = host_readiness_->summary();
    s.audio = sound_->status();
    if (kiosk_) {
        s.kiosk_guest = kiosk_->guest();
        s.kiosk_message = kiosk_->message(session::KioskPolicy::Clock::now());
    }
    fill_lock_status(s);
    s.keyboard_locks = seat_->host_locks();
    fill_clipboard_status(s);
    s.rss_kb = resident_kb();
    const ResidentParts parts = resident_parts();
    s.rss_anon_kb = parts.anon_kb;
    s.rss_file_kb = parts.file_kb;
    s.rss_shmem_kb = parts.shmem_kb;
    s.frame_buffers_kb = static_cast<long>(frame_buffer_bytes() / 1024);
    s.cpu_ms = process_cpu_ms();
    if (const pid_t agent = inventory_->agent_pid(); agent > 0) {
        const ResidentParts agent_parts = resident_parts(agent);
        s.agent_pid = agent;
        s.agent_rss_kb = agent_parts.total_kb;
        s.agent_rss_anon_kb = agent_parts.anon_kb;
        s.agent_rss_file_kb = agent_parts.file_kb;
    }
    return s;
}

void Server::fill_display_status(GuestStatus& gs) const {
    const auto& displays = stage_->displays();
    const auto st = displays.status(gs.info.name);
    using guestview::DisplayState;
    gs.display = st.state == DisplayState::Connected    ? "connected"
                 : st.state == DisplayState::Connecting ? "connecting"
                 : st.state == DisplayState::Error      ? "error"
                                                        : "none";
    gs.display_error = st.error;
    const auto* conn = stage_->displays().connection(gs.info.name);
    const auto consoles = displays.graphic_consoles(gs.info.name);
    if (!conn || consoles.empty())
        return;
    for (std::uint32_t id : consoles) {
        const auto stats = conn->stats(id);
        gs.frames += stats.frames_received;
        gs.copies += stats.copies;
        gs.bytes_copied += stats.bytes_copied;
        gs.refused += stats.refused;
    }
    if (const GuestView* view = stage_->view(gs.info.name)) {
        const auto& lat = view->present_latency();
        gs.frames_presented = view->frames_presented();
        gs.present_p50_ms = lat.percentile(50);
        gs.present_p99_ms = lat.percentile(99);
    }
    if (const auto* console = conn->console(consoles.front()))
        gs.leds = lock_keys_from_leds(console->keyboard_modifiers);
    if (auto frame = conn->current_frame(consoles.front())) {
        using guestview::FrameStorage;
        gs.scanout = ScanoutStatus{static_cast<int>(frame->width()), static_cast<int>(frame->height()),
                                   frame->storage() == FrameStorage::SharedMemory ? "map"
                                   : frame->storage() == FrameStorage::Dmabuf     ? "dmabuf"
                                                                                  : "copy"};
    }
}

std::size_t Server::frame_buffer_bytes() const {
    std::size_t bytes = 0;
    for (const auto& o : outputs_)
        bytes += o->picture_bytes();
    // A frame can be both guestview's current one and on screen: count each once.
    std::vector<const guestview::Frame*> frames;
    stage_->collect_frames(frames);
    std::sort(frames.begin(), frames.end());
    frames.erase(std::unique(frames.begin(), frames.end()), frames.end());
    for (const auto* f : frames)
        if (f->storage() != guestview::FrameStorage::Dmabuf)
            bytes += f->size_bytes();
    return bytes;
}

} // namespace phyllome::compositor
