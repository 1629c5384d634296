// Inventory's USB requests: giving a host USB device to a running guest and taking it back (live
// hostdevs), and the guest's remembered choices (<phyllome-usb:usb> metadata). libvirt's errors
// are turned into what the user can do about them, with libvirt's own text after.
#include "guestview/inventory_impl.hpp"

#include <algorithm>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "config/log.hpp"
#include "guestview/usb_hostdev_errors.hpp"
#include "guestview/usb_hostdev_xml.hpp"

namespace phyllome::guestview {
namespace {

using Outcome = std::pair<bool, std::string>;

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

Outcome attach(virConnectPtr connection, const std::string& guest, const UsbHostdev& device) {
    DomainPtr domain{virDomainLookupByName(connection, guest.c_str())};
    if (!domain)
        return {false, fmt::format("cannot give {} to guest '{}': {}", describe_hostdev(device), guest, last_libvirt_error())};
    if (virDomainIsActive(domain.get()) == 1) {
        LibvirtString xml{virDomainGetXMLDesc(domain.get(), 0)};
        const DomainUsb usb = xml ? usb_from_domain_xml(xml.get()) : DomainUsb{{}, {}, true};
        if (std::ranges::find(usb.hostdevs, device) != usb.hostdevs.end())
            return {true, {}}; // it has it already
        // libvirt would add a controller to nothing: say so before it tries.
        if (!usb.controller)
            return {false, no_usb_controller_error(guest, device)};
    }
    if (virDomainAttachDeviceFlags(domain.get(), usb_hostdev_xml(device).c_str(), VIR_DOMAIN_AFFECT_LIVE) == 0)
        return {true, {}};
    return {false, usb_attach_error(guest, device, last_libvirt_error())};
}

Outcome detach(virConnectPtr connection, const std::string& guest, const UsbHostdev& device) {
    DomainPtr domain{virDomainLookupByName(connection, guest.c_str())};
    if (!domain)
        return {false, fmt::format("cannot take {} back from guest '{}': {}", describe_hostdev(device), guest,
                                   last_libvirt_error())};
    if (virDomainIsActive(domain.get()) != 1)
        return {true, {}}; // stopped: its live devices went with it
    LibvirtString xml{virDomainGetXMLDesc(domain.get(), 0)};
    if (!xml)
        return {false, fmt::format("cannot take {} back from guest '{}': {}", describe_hostdev(device), guest,
                                   last_libvirt_error())};
    const DomainUsb usb = usb_from_domain_xml(xml.get());
    auto it = std::ranges::find(usb.hostdevs, device);
    if (it == usb.hostdevs.end())
        return {true, {}}; // gone already (unplugged, or never given)
    // By alias where libvirt gave one: by vendor and product, libvirt would take the first of
    // two identical devices.
    const std::string& alias = usb.aliases[static_cast<std::size_t>(it - usb.hostdevs.begin())];
    const int result = alias.empty()
                           ? virDomainDetachDeviceFlags(domain.get(), usb_hostdev_xml(device).c_str(), VIR_DOMAIN_AFFECT_LIVE)
                           : virDomainDetachDeviceAlias(domain.get(), alias.c_str(), VIR_DOMAIN_AFFECT_LIVE);
    if (result == 0)
        return {true, {}};
    const int code = virGetLastErrorCode();
    const std::string message = last_libvirt_error();
    if (code == VIR_ERR_DEVICE_MISSING || contains(message, "not running") || contains(message, "not found"))
        return {true, {}}; // it went meanwhile
    return {false, fmt::format("cannot take {} back from guest '{}': {}", describe_hostdev(device), guest, message)};
}

Outcome write_choices(virConnectPtr connection, const std::string& guest, const std::vector<usb::UsbChoice>& choices) {
    DomainPtr domain{virDomainLookupByName(connection, guest.c_str())};
    if (!domain)
        return {false, last_libvirt_error()};
    const unsigned flags = metadata_flags(domain.get());
    const std::string element = usb_choices_element(choices);
    const std::string ns{usb_namespace};
    // NULL metadata removes the element.
    if (virDomainSetMetadata(domain.get(), VIR_DOMAIN_METADATA_ELEMENT, element.empty() ? nullptr : element.c_str(),
                             element.empty() ? nullptr : usb_metadata_key, ns.c_str(), flags) == 0)
        return {true, {}};
    return {false, fmt::format("cannot remember the USB choices of guest '{}': {}", guest, last_libvirt_error())};
}

} // namespace

void Inventory::attach_usb(std::string guest, UsbHostdev device, std::function<void(bool ok, std::string error)> done) {
    std::string early = impl_->unreachable(guest);
    log::info("guest '{}': give {} requested", guest, describe_hostdev(device));
    impl_->run_definition_job(
        guest, std::move(early),
        [guest, device](virConnectPtr connection) {
            Outcome outcome = attach(connection, guest, device);
            if (outcome.first)
                log::info("guest '{}': gave it {}", guest, describe_hostdev(device));
            else
                log::warn("{}", outcome.second);
            return outcome;
        },
        std::move(done));
}

void Inventory::detach_usb(std::string guest, UsbHostdev device, std::function<void(bool ok, std::string error)> done) {
    std::string early = impl_->unreachable(guest);
    log::info("guest '{}': take back {} requested", guest, describe_hostdev(device));
    impl_->run_definition_job(
        guest, std::move(early),
        [guest, device](virConnectPtr connection) {
            Outcome outcome = detach(connection, guest, device);
            if (outcome.first)
                log::info("guest '{}': took back {} (or it was gone)", guest, describe_hostdev(device));
            else
                log::warn("{}", outcome.second);
            return outcome;
        },
        std::move(done));
}

void Inventory::set_usb_choices(std::string guest, std::vector<usb::UsbChoice> choices,
                                std::function<void(bool ok, std::string error)> done) {
    std::string early = impl_->unreachable(guest);
    if (early.empty())
        early = usb_choices_problem(choices);
    impl_->run_definition_job(
        guest, std::move(early),
        [guest, choices = std::move(choices)](virConnectPtr connection) {
            Outcome outcome = write_choices(connection, guest, choices);
            log::debug("guest '{}': set USB choices {}: {}", guest, usb_choices_element(choices),
                       outcome.first ? "done" : "failed: " + outcome.second);
            return outcome;
        },
        std::move(done));
}

void Inventory::Impl::on_device_changed(virConnectPtr, virDomainPtr domain, const char*, void* opaque) {
    // A hostdev QEMU dropped (the device unplugged, a detach finishing late) or one added elsewhere.
    auto* self = static_cast<Impl*>(opaque);
    if (self->refresh_domain(domain, true))
        self->notify_changed();
}

} // namespace phyllome::guestview
