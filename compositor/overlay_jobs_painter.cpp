#include "compositor/overlay_jobs_painter.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "compositor/job_status.hpp"

namespace phyllome::compositor {

using namespace paint;

double paint_jobs(cairo_t* cr, Text& text, double left, double y, int width,
                  const std::vector<guestview::JobInfo>& jobs, const config::OverlayConfig& st, OverlayHitMap& hits) {
    const Rgb bg = rgb(st.background), fg = rgb(st.foreground), accent = rgb(st.accent), err = rgb(st.error);
    const Rgb dim = mix(fg, bg, 0.4), done_colour = rgb(0x57ab5a);
    const double size = st.font_size * small_size;
    int finished_shown = 0;
    for (const guestview::JobInfo& job : jobs) {
        const bool ended = guestview::finished(job);
        if (ended && ++finished_shown > 2)
            continue;
        y += 10;
        // The title, and Cancel on the right while it runs.
        double title_right = left + width;
        if (job.state == guestview::JobState::Running) {
            const std::string label = "Cancel  X";
            auto [lw, lh] = text.measure(label, size, false);
            OverlayRect r{static_cast<int>(left + width - lw - 28), static_cast<int>(y), lw + 28, lh + 10};
            rounded_rect(cr, r.x, r.y, r.width, r.height, 6);
            set(cr, mix(bg, fg, 0.16));
            cairo_fill(cr);
            text.draw(r.x + 14, r.y + 5, label, size, fg);
            hits.buttons.push_back({r, {OverlayCommand::Kind::CancelJob, guestview::Action::Start, std::to_string(job.id)}});
            title_right = r.x - 12;
        }
        auto [tw, th] = text.draw(left, y + 4, job_title(job), size, ended ? dim : fg, !ended,
                                  static_cast<int>(title_right - left));
        (void)tw;
        y += std::max(th + 8, 30);
        // The bar: the share done, or how it ended across the whole bar.
        const OverlayRect bar{static_cast<int>(left), static_cast<int>(y), width, 8};
        rounded_rect(cr, bar.x, bar.y, bar.width, bar.height, 4);
        set(cr, mix(bg, fg, 0.12));
        cairo_fill(cr);
        double share = 0;
        Rgb colour = accent;
        switch (job.state) {
        case guestview::JobState::Done: share = 1; colour = done_colour; break;
        case guestview::JobState::Failed: share = 1; colour = err; break;
        case guestview::JobState::Cancelled: share = 0; break;
        case guestview::JobState::Running:
        case guestview::JobState::Cancelling:
            share = job.total > 0 ? std::min(1.0, static_cast<double>(job.done) / static_cast<double>(job.total)) : 0;
            break;
        }
        if (share > 0) {
            rounded_rect(cr, bar.x, bar.y, std::max(8.0, bar.width * share), bar.height, 4);
            set(cr, colour);
            cairo_fill(cr);
        }
        hits.job_bars.push_back({job.id, bar});
        y += bar.height + 6;
        auto [pw, ph] = text.draw(left, y, job_progress_text(job), size,
                                  job.state == guestview::JobState::Failed ? err : dim, false, width);
        (void)pw;
        y += ph + 4;
    }
    return y;
}

} // namespace phyllome::compositor
