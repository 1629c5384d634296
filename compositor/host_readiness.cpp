#include "compositor/host_readiness.hpp"

#include "config/log.hpp"

namespace phyllome::compositor {

HostReadiness::HostReadiness(wl_event_loop* loop, std::function<void()> changed)
    : changed_(std::move(changed)), mailbox_(loop) {}

void HostReadiness::start(std::string libvirt_uri) {
    if (check_.joinable())
        return;
    session::HostCheckOptions opts;
    opts.libvirt_uri = std::move(libvirt_uri);
    opts.probe_libvirt = false;
    opts.register_event_loop = false;
    check_ = std::jthread([this, opts] {
        session::HostReport report = session::check_host(opts);
        const auto* virgl = report.find("virgl");
        const bool has_virgl = virgl && virgl->status == session::CheckStatus::Ok;
        mailbox_.post([this, report = std::move(report), has_virgl]() mutable {
            report_ = std::move(report);
            has_virgl_ = has_virgl;
            update_summary();
            changed_();
        });
    });
}

HostReadiness::~HostReadiness() {
    if (check_.joinable())
        check_.join();
}

void HostReadiness::libvirt_changed(const guestview::ConnectionStatus& status) {
    libvirt_ = status;
    update_summary();
}

void HostReadiness::update_summary() {
    if (!report_)
        return;
    for (auto& item : report_->items)
        if (item.id == "libvirt") {
            const bool up = libvirt_.state == guestview::ConnectionState::Connected;
            const bool connecting = libvirt_.state == guestview::ConnectionState::Connecting;
            item.status = up ? session::CheckStatus::Ok : session::CheckStatus::Missing;
            item.detail = up ? "connected" : connecting ? "connecting" : libvirt_.error;
            item.brief = up ? "" : connecting ? "connecting" : "unreachable";
        }
    std::string summary = session::summary_line(*report_);
    if (summary != summary_) // the check's result, then libvirt's changes (the agent answers later)
        log::info("{}", summary);
    summary_ = std::move(summary);
}

} // namespace phyllome::compositor
