// Guest adoption: rewrites a domain defined elsewhere (SPICE, VNC, ...) so the shell can show
// its screen, keeping everything else about it.
#pragma once

#include <string>
#include <string_view>

namespace phyllome::guestview {

// Returns the domain XML with:
// - every <graphics> replaced by one <graphics type='dbus' p2p='yes'/>, which keeps a
//   <gl enable='yes'/> (and its rendernode) when any old graphics or an egl-headless had GL on;
// - the primary <video> model (primary='yes', else the first) turned into virtio, keeping
//   heads and, only while GL is kept, <acceleration accel3d='yes'/>; the qxl/vga sizes
//   (vram, ram, vgamem, vram64) dropped;
// - SPICE-only devices removed: spicevmc channels and redirdevs, spiceport channels,
//   <audio type='spice'> (switched to type='none', so <sound> devices keep working silently and
//   their <audio id=...> references stay valid: libvirt 9.0 accepts type='none');
// - the SPICE agent's channel (spicevmc, com.redhat.spice.0) replaced by QEMU's own
//   <channel type='qemu-vdagent'> with copy and paste on, unless the guest has one already, so the
//   guest's spice-vdagent keeps serving the clipboard (Host+C / Host+V).
// Everything else (disks, NICs, metadata, uuid, comments) is kept as it was.
// An already-adopted domain comes back unchanged, byte for byte.
// Returns an empty string and sets `error` when the XML is not a domain.
std::string adopt_domain_xml(std::string_view domain_xml, std::string& error);

} // namespace phyllome::guestview

typedef struct _virConnect* virConnectPtr;

namespace phyllome::guestview {

// Blocking (call on the worker thread only): rewrites the persistent definition of `guest` with
// adopt_domain_xml and defines it again; a running guest keeps its current devices until its
// next start. Returns an error message, or empty on success (also when nothing needed changing).
std::string adopt_guest(virConnectPtr connection, const std::string& guest);

} // namespace phyllome::guestview
