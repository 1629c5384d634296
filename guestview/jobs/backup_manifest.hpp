// A guest backup's manifest: what the backup folder (or export archive) holds, each file with its
// size and SHA-256, so a restore can refuse a damaged or incomplete backup before it touches
// anything. A text file, `manifest`, one line per fact:
//   phyllome-backup 1
//   guest NAME
//   created YYYYMMDD-HHMMSS
//   file KIND SHA256 SIZE NAME [DETAIL...]
// KIND is domain (the inactive domain XML), disk (DETAIL: target dev, format, secret uuid or
// "-"), nvram, tpm (NAME under tpm/: swtpm's state folder) or secret (DETAIL: its uuid; only in an
// export with secrets). NAME is a plain relative path: no "..", no leading '/', no spaces.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace phyllome::guestview {

inline constexpr std::string_view manifest_name = "manifest";

enum class BackupFileKind { Domain, Disk, Nvram, Tpm, Secret };

struct BackupFile {
    BackupFileKind kind = BackupFileKind::Domain;
    std::string sha256; // 64 lowercase hex digits
    std::uint64_t size = 0;
    std::string name;   // relative to the backup folder
    // disk: target dev ("vda"), format ("qcow2"), secret uuid (empty: not encrypted);
    // secret: its uuid in `secret_uuid`.
    std::string dev, format, secret_uuid;
};

struct BackupManifest {
    std::string guest;
    std::string created; // YYYYMMDD-HHMMSS
    std::vector<BackupFile> files;

    const BackupFile* domain_file() const;
};

std::string format_manifest(const BackupManifest& manifest);
// nullopt with `error` set (which line and why) when `text` is not a manifest.
std::optional<BackupManifest> parse_manifest(std::string_view text, std::string& error);

// Whether `name` is a relative path a manifest may hold (never leaves the backup folder).
bool safe_backup_name(std::string_view name);

// Hashing and verifying read in chunks; `step(bytes read so far in this call)` returns false to
// stop (cancel).
using ReadStep = std::function<bool(std::uint64_t read)>;

struct FileDigest {
    bool ok = false;
    bool cancelled = false;
    std::string sha256; // lowercase hex
    std::uint64_t size = 0;
    std::string error;
};
// SHA-256 of a file through GLib's GChecksum.
FileDigest sha256_file(const std::string& path, const ReadStep& step = {});

struct VerifyResult {
    bool ok = false;
    bool cancelled = false;
    std::string error; // names the file that is missing, of the wrong size or the wrong checksum
};
// Checks every file of `manifest` in `directory` (its size, then its SHA-256).
VerifyResult verify_backup_files(const std::string& directory, const BackupManifest& manifest, const ReadStep& step = {});

// The sum of the files' sizes (what verifying reads, what a restore copies at most).
std::uint64_t manifest_bytes(const BackupManifest& manifest);

} // namespace phyllome::guestview
