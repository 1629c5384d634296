// Where a new guest's pieces come from: installer images found on the host, a guest name made
// from an installer's file name, and the folder its disk goes to.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace phyllome::compositor {

// .iso files in ~/Downloads, $XDG_DATA_HOME/phyllome/isos and libvirt's image folders, sorted;
// then guests exported by another host (.phyllome) in ~/Downloads and `backup_dir`, to import.
std::vector<std::string> find_installers(const std::string& backup_dir = {});
// An exported guest (phyllomectl export), which the new-guest list imports instead of planning.
bool is_exported_guest(const std::string& path);
// "debian-12.5.0-amd64-netinst.iso" -> "debian-12.5.0-amd64-netinst"; "-2", "-3"… while `taken`.
std::string guest_name_for_installer(const std::string& iso, const std::function<bool(const std::string&)>& taken);
// `[backup] directory` with "~/" expanded; ~/Backups when unset.
std::string backup_directory(const std::string& configured);
// guestview::default_disk_dir: the libvirt agent removes what the shell made there.
std::string default_disk_dir(const std::string& uri);

} // namespace phyllome::compositor
