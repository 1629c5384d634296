// Where a new guest's pieces come from: installer images found on the host, a guest name made
// from an installer's file name, and the folder its disk goes to.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace phyllome::compositor {

// .iso files in ~/Downloads, $XDG_DATA_HOME/phyllome/isos and libvirt's image folders, sorted.
std::vector<std::string> find_installers();
// "debian-12.5.0-amd64-netinst.iso" -> "debian-12.5.0-amd64-netinst"; "-2", "-3"… while `taken`.
std::string guest_name_for_installer(const std::string& iso, const std::function<bool(const std::string&)>& taken);
// guestview::default_disk_dir: the libvirt agent removes what the shell made there.
std::string default_disk_dir(const std::string& uri);

} // namespace phyllome::compositor
