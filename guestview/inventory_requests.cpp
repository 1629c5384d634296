// Inventory's requests: each runs on the worker thread (libvirt calls that may block never run
// on the loop) and reports back on the loop through the mailbox.
#include "guestview/inventory_impl.hpp"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "config/log.hpp"
#include "guestview/domain_adoption.hpp"
#include "guestview/guest_plan.hpp"
#include "guestview/installer_eject.hpp"
#include "guestview/owned_fd.hpp"

namespace phyllome::guestview {

void Inventory::Impl::request(Action action, std::string guest) {
    if (!connection)
        return reject_later(action, std::move(guest),
                            fmt::format("not connected to libvirt ({}){}", status.uri,
                                        status.error.empty() ? "" : ": " + status.error));
    if (find_mutable(guest) == nullptr) {
        std::string error = fmt::format("there is no guest named '{}'", guest);
        return reject_later(action, std::move(guest), std::move(error));
    }
    if ((action == Action::Start || action == Action::Remove || action == Action::Eject) && job_runner.busy(guest)) {
        std::string error = fmt::format("guest '{}' has a job running: wait for it to end, or cancel it", guest);
        return reject_later(action, std::move(guest), std::move(error));
    }
    log::info("guest '{}': {} requested", guest, to_string(action));
    if (action == Action::Shutdown)
        host_shutdowns.insert(guest); // the host asked: not the installer powering off
    worker.submit(action, std::move(guest), share_connection(connection.get()));
}

std::string Inventory::Impl::unreachable(const std::string& guest) {
    if (!connection)
        return fmt::format("not connected to libvirt ({})", status.uri);
    if (find_mutable(guest) == nullptr)
        return fmt::format("there is no guest named '{}'", guest);
    return {};
}

void Inventory::Impl::open_graphics(std::string guest, int graphics_index,
                                    std::function<void(int, std::string)> done) {
    // Shared so the tasks below stay copyable for std::function; the fd closes with the last
    // reference when the result is dropped undelivered.
    struct Outcome {
        std::function<void(int, std::string)> done;
        OwnedFd fd;
        std::string error;
    };
    auto outcome = std::make_shared<Outcome>(Outcome{std::move(done), OwnedFd{}, {}});
    auto deliver = [outcome] {
        if (outcome->done)
            outcome->done(outcome->fd.release(), std::move(outcome->error));
    };
    if (outcome->error = unreachable(guest); !outcome->error.empty()) {
        mailbox.post(std::move(deliver));
        return;
    }
    std::shared_ptr<virConnect> shared{share_connection(connection.get()).release(), ConnectionCloser{}};
    worker.submit_call([this, shared, guest = std::move(guest), graphics_index, outcome,
                        deliver = std::move(deliver)]() mutable {
        if (DomainPtr domain{virDomainLookupByName(shared.get(), guest.c_str())}) {
            outcome->fd.reset(virDomainOpenGraphicsFD(domain.get(), static_cast<unsigned>(graphics_index), 0));
            if (outcome->fd.get() < 0)
                outcome->error = last_libvirt_error();
        } else {
            outcome->error = last_libvirt_error();
        }
        log::debug("guest '{}': open graphics {}: {}", guest, graphics_index,
                   outcome->fd.get() >= 0 ? "done" : "failed: " + outcome->error);
        shared.reset(); // like actions: the loop never waits on our reference
        outcome.reset();
        mailbox.post(std::move(deliver));
    });
}

void Inventory::Impl::screenshot(std::string guest, unsigned screen,
                                 std::function<void(std::string, std::string, std::string)> done) {
    struct Outcome {
        std::string image, mime, error;
    };
    auto outcome = std::make_shared<Outcome>();
    auto deliver = [outcome, done = std::move(done)] {
        if (done)
            done(std::move(outcome->image), std::move(outcome->mime), std::move(outcome->error));
    };
    if (outcome->error = unreachable(guest); !outcome->error.empty()) {
        mailbox.post(std::move(deliver));
        return;
    }
    std::shared_ptr<virConnect> shared{share_connection(connection.get()).release(), ConnectionCloser{}};
    // Blocking: QEMU writes the picture and libvirt streams it back.
    worker.submit_call([this, shared, guest = std::move(guest), screen, outcome, deliver = std::move(deliver)]() mutable {
        DomainPtr domain{virDomainLookupByName(shared.get(), guest.c_str())};
        std::unique_ptr<virStream, decltype(&virStreamFree)> stream{
            domain ? virStreamNew(shared.get(), 0) : nullptr, &virStreamFree};
        char* mime = stream ? virDomainScreenshot(domain.get(), stream.get(), screen, 0) : nullptr;
        if (mime) {
            outcome->mime = mime;
            std::free(mime);
            auto sink = [](virStreamPtr, const char* bytes, size_t n, void* opaque) -> int {
                static_cast<std::string*>(opaque)->append(bytes, n);
                return static_cast<int>(n);
            };
            if (virStreamRecvAll(stream.get(), sink, &outcome->image) < 0 || virStreamFinish(stream.get()) < 0) {
                outcome->error = last_libvirt_error();
                virStreamAbort(stream.get());
            }
        } else {
            outcome->error = last_libvirt_error();
        }
        stream.reset();
        domain.reset();
        shared.reset();
        outcome.reset();
        mailbox.post(std::move(deliver));
    });
}

void Inventory::Impl::set_identity(std::string guest, GuestIdentity identity,
                                   std::function<void(bool, std::string)> done) {
    struct Outcome {
        bool ok = false;
        std::string error;
    };
    auto outcome = std::make_shared<Outcome>();
    // On the loop: re-read first, so guests() already shows the change when `done` runs.
    auto deliver = [this, outcome, guest, done = std::move(done)] {
        if (outcome->ok && connection && refresh_by_name(guest, true))
            notify_changed();
        if (done)
            done(outcome->ok, std::move(outcome->error));
    };
    if (!connection)
        outcome->error = fmt::format("not connected to libvirt ({})", status.uri);
    else if (find_mutable(guest) == nullptr)
        outcome->error = fmt::format("there is no guest named '{}'", guest);
    else
        outcome->error = identity_problem(identity);
    if (!outcome->error.empty()) {
        mailbox.post(std::move(deliver));
        return;
    }
    std::shared_ptr<virConnect> shared{share_connection(connection.get()).release(), ConnectionCloser{}};
    // Blocking: with the embedded driver, libvirt would wait on the loop that is waiting on it.
    worker.submit_call([this, shared, guest = std::move(guest), identity, outcome,
                        deliver = std::move(deliver)]() mutable {
        if (DomainPtr domain{virDomainLookupByName(shared.get(), guest.c_str())}) {
            const unsigned flags = metadata_flags(domain.get());
            const std::string element = identity_element(identity);
            const std::string ns{identity_namespace};
            // NULL metadata removes the element.
            outcome->ok = virDomainSetMetadata(domain.get(), VIR_DOMAIN_METADATA_ELEMENT,
                                               element.empty() ? nullptr : element.c_str(),
                                               element.empty() ? nullptr : "phyllome", ns.c_str(), flags) == 0;
        }
        if (!outcome->ok)
            outcome->error = last_libvirt_error();
        log::debug("guest '{}': set identity {}: {}", guest, identity_element(identity),
                   outcome->ok ? "done" : "failed: " + outcome->error);
        shared.reset();
        outcome.reset();
        mailbox.post(std::move(deliver));
    });
}

// Runs `job` on the worker with its own connection reference, then on the loop re-reads `guest`
// (so guests() shows the new definition) and calls `done`. A non-empty `early_error` skips the
// job and reports itself.
void Inventory::Impl::run_definition_job(std::string guest, std::string early_error,
                                         std::function<std::pair<bool, std::string>(virConnectPtr)> job,
                                         std::function<void(bool, std::string)> done) {
    auto outcome = std::make_shared<std::pair<bool, std::string>>(false, std::move(early_error));
    auto deliver = [this, outcome, guest, done = std::move(done)] {
        // The DEFINED event usually did this already; not every driver sends one.
        if (outcome->first && connection && refresh_by_name(guest, true))
            notify_changed();
        if (done)
            done(outcome->first, std::move(outcome->second));
    };
    if (!connection && outcome->second.empty())
        outcome->second = fmt::format("not connected to libvirt ({})", status.uri);
    if (!outcome->second.empty()) {
        mailbox.post(std::move(deliver));
        return;
    }
    std::shared_ptr<virConnect> shared{share_connection(connection.get()).release(), ConnectionCloser{}};
    // Blocking: defining talks to libvirt (and, embedded, waits on threads that need the loop).
    worker.submit_call([this, shared, job = std::move(job), outcome, deliver = std::move(deliver)]() mutable {
        *outcome = job(shared.get());
        shared.reset();
        outcome.reset();
        mailbox.post(std::move(deliver));
    });
}

void Inventory::Impl::reject_later(Action action, std::string guest, std::string error) {
    ActionResult result{action, std::move(guest), false, std::move(error)};
    mailbox.post([this, result = std::move(result)] {
        if (callbacks.action_done)
            callbacks.action_done(result);
    });
}

void Inventory::Impl::finish(ActionResult result) {
    if (!result.ok)
        log::warn("guest '{}': cannot {}: {}", result.guest, to_string(result.action), result.error);
    if (!result.ok && result.action == Action::Shutdown)
        host_shutdowns.erase(result.guest); // no shutdown coming from us
    // Usually the lifecycle event has updated the guest already; not every driver sends one.
    // An eject changes the definition (CD-ROM, metadata): read it again.
    if (connection && refresh_by_name(result.guest, result.action == Action::Eject))
        notify_changed();
    if (callbacks.action_done)
        callbacks.action_done(result);
}

void Inventory::Impl::count_restart(const std::string& name) {
    const GuestInfo* known = find_mutable(name);
    if (!connection || known == nullptr || !known->installer_attached)
        return;
    const int counted = ++installer_restarts[name];
    std::shared_ptr<virConnect> shared{share_connection(connection.get()).release(), ConnectionCloser{}};
    // Blocking: rewriting the config and ejecting talk to libvirt and QEMU.
    worker.submit_call([this, shared, name, counted]() mutable {
        if (DomainPtr domain{virDomainLookupByName(shared.get(), name.c_str())})
            count_installer_restart(domain.get(), name, counted);
        else
            log::warn("guest '{}': cannot count the installer's restart: {}", name, last_libvirt_error());
        shared.reset();
        // Not every driver sends a metadata event for the config alone.
        mailbox.post([this, name] {
            if (connection && refresh_by_name(name, true))
                notify_changed();
        });
    });
}

void Inventory::request(Action action, std::string guest) { impl_->request(action, std::move(guest)); }

void Inventory::screenshot(std::string guest, unsigned screen,
                           std::function<void(std::string, std::string, std::string)> done) {
    impl_->screenshot(std::move(guest), screen, std::move(done));
}

void Inventory::open_graphics(std::string guest, int graphics_index,
                              std::function<void(int fd, std::string error)> done) {
    impl_->open_graphics(std::move(guest), graphics_index, std::move(done));
}

void Inventory::set_identity(std::string guest, std::optional<int> slot, std::optional<std::uint32_t> colour,
                             std::function<void(bool ok, std::string error)> done) {
    impl_->set_identity(std::move(guest), GuestIdentity{slot, colour}, std::move(done));
}

void Inventory::adopt(std::string guest, std::function<void(bool ok, std::string error)> done) {
    std::string early;
    if (impl_->connection && find(guest) == nullptr)
        early = fmt::format("there is no guest named '{}'", guest);
    log::info("guest '{}': adoption requested", guest);
    impl_->run_definition_job(
        guest, std::move(early),
        [guest](virConnectPtr connection) {
            std::string error = adopt_guest(connection, guest);
            log::info("guest '{}': adopt: {}", guest, error.empty() ? "done, from its next start" : "failed: " + error);
            return std::pair{error.empty(), std::move(error)};
        },
        std::move(done));
}


void Inventory::plan(GuestSpec spec, std::function<void(PlanView)> done) {
    Impl& impl = *impl_;
    auto view = std::make_shared<PlanView>();
    auto deliver = [&impl, view, done = std::move(done)] {
        impl.os_db_used();
        if (done)
            done(std::move(*view));
    };
    if (!impl.connection || find(spec.name) != nullptr) {
        view->problem = !impl.connection ? fmt::format("not connected to libvirt ({})", impl.status.uri)
                                         : fmt::format("a guest named '{}' exists already", spec.name);
        impl.mailbox.post(std::move(deliver));
        return;
    }
    std::shared_ptr<virConnect> shared{share_connection(impl.connection.get()).release(), ConnectionCloser{}};
    // Blocking: libosinfo reads the ISO (and its database, the first time), libvirt the host.
    impl.worker.submit_call([&impl, shared, spec = std::move(spec), network = GuestNetwork::LibvirtDefault,
                             os_db = impl.os_db, view, deliver = std::move(deliver)]() mutable {
        *view = plan_guest(shared.get(), std::move(spec), network, os_db->get(), os_db->error()).view();
        shared.reset();
        impl.mailbox.post(std::move(deliver));
    });
}

void Inventory::create(GuestSpec spec, std::function<void(bool ok, std::string message)> done) {
    std::string early = guest_spec_problem(spec);
    if (early.empty() && impl_->connection && find(spec.name) != nullptr)
        early = fmt::format("a guest named '{}' exists already", spec.name);
    const GuestNetwork network = GuestNetwork::LibvirtDefault; // when the connection has it
    std::string name = spec.name;
    auto used = [impl = impl_.get(), done = std::move(done)](bool ok, std::string message) {
        impl->os_db_used();
        if (done)
            done(ok, std::move(message));
    };
    impl_->run_definition_job(
        std::move(name), std::move(early),
        [spec = std::move(spec), network, os_db = impl_->os_db](virConnectPtr connection) {
            const GuestPlan plan = plan_guest(connection, spec, network, os_db->get(), os_db->error());
            CreateOutcome outcome = create_guest(connection, plan);
            log::info("guest '{}': create: {}{}", spec.name, outcome.ok ? "defined" : "failed",
                      outcome.message.empty() ? "" : ": " + outcome.message);
            return std::pair{outcome.ok, std::move(outcome.message)};
        },
        std::move(used));
}

} // namespace phyllome::guestview
