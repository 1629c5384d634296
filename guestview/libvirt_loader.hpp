// libvirt is loaded with dlopen() on a thread of its own, started first thing in main():
// with the ~55 libraries it pulls in (TLS, Kerberos, curl, ...) it is over half of the
// dynamic linker's work at process start, and the first overlay frame needs none of it.
// libvirt_loader.cpp defines the libvirt functions guestview and session call; each waits
// for the load on first use, then calls the real one. Programs link it instead of -lvirt.
#pragma once

#include <string>

namespace phyllome::guestview {

// Starts loading libvirt in the background; later calls do nothing.
void start_loading_libvirt();

// Waits for the load; false with `error` set when libvirt cannot be loaded (every libvirt
// call then fails the way libvirt reports errors: NULL or -1).
bool libvirt_loaded(std::string& error);

} // namespace phyllome::guestview
