#include "guestview/jobs/backup_manifest.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <glib.h>

#include "guestview/owned_fd.hpp"

namespace phyllome::guestview {
namespace {

constexpr std::string_view magic = "phyllome-backup 1";

std::string_view kind_name(BackupFileKind kind) {
    switch (kind) {
    case BackupFileKind::Domain: return "domain";
    case BackupFileKind::Disk: return "disk";
    case BackupFileKind::Nvram: return "nvram";
    case BackupFileKind::Tpm: return "tpm";
    case BackupFileKind::Secret: return "secret";
    }
    return "?";
}

std::optional<BackupFileKind> kind_from(std::string_view name) {
    for (BackupFileKind kind : {BackupFileKind::Domain, BackupFileKind::Disk, BackupFileKind::Nvram,
                                BackupFileKind::Tpm, BackupFileKind::Secret})
        if (kind_name(kind) == name)
            return kind;
    return std::nullopt;
}

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t at = 0;
    while (at < line.size()) {
        const std::size_t end = line.find(' ', at);
        const std::size_t stop = end == std::string_view::npos ? line.size() : end;
        if (stop > at)
            out.push_back(line.substr(at, stop - at));
        at = stop + 1;
    }
    return out;
}

bool is_sha256(std::string_view text) {
    return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool plain_word(std::string_view text) {
    return !text.empty() && text.find_first_of(" \t\r\n/") == std::string_view::npos;
}

struct ChecksumFreer {
    void operator()(GChecksum* checksum) const { g_checksum_free(checksum); }
};

} // namespace

const BackupFile* BackupManifest::domain_file() const {
    for (const BackupFile& file : files)
        if (file.kind == BackupFileKind::Domain)
            return &file;
    return nullptr;
}

bool safe_backup_name(std::string_view name) {
    if (name.empty() || name.front() == '/' || name.find_first_of(" \t\r\n\\") != std::string_view::npos)
        return false;
    std::size_t at = 0;
    while (at <= name.size()) {
        const std::size_t end = name.find('/', at);
        const std::string_view part = name.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
        if (part.empty() || part == "." || part == "..")
            return false;
        if (end == std::string_view::npos)
            break;
        at = end + 1;
    }
    return name != manifest_name;
}

std::string format_manifest(const BackupManifest& manifest) {
    std::string text = fmt::format("{}\nguest {}\ncreated {}\n", magic, manifest.guest, manifest.created);
    for (const BackupFile& file : manifest.files) {
        text += fmt::format("file {} {} {} {}", kind_name(file.kind), file.sha256, file.size, file.name);
        if (file.kind == BackupFileKind::Disk)
            text += fmt::format(" {} {} {}", file.dev, file.format, file.secret_uuid.empty() ? "-" : file.secret_uuid);
        else if (file.kind == BackupFileKind::Secret)
            text += " " + file.secret_uuid;
        text += '\n';
    }
    return text;
}

std::optional<BackupManifest> parse_manifest(std::string_view text, std::string& error) {
    BackupManifest manifest;
    std::istringstream lines{std::string(text)};
    std::string line;
    int number = 0;
    auto fail = [&](std::string why) {
        error = fmt::format("manifest line {}: {}", number, why);
        return std::nullopt;
    };
    while (std::getline(lines, line)) {
        ++number;
        if (number == 1) {
            if (line != magic)
                return fail(fmt::format("not a Phyllome backup manifest (it starts with '{}')", line.substr(0, 40)));
            continue;
        }
        const std::vector<std::string_view> w = words(line);
        if (w.empty())
            continue;
        if (w[0] == "guest" && w.size() == 2 && plain_word(w[1])) {
            manifest.guest = w[1];
        } else if (w[0] == "created" && w.size() == 2) {
            manifest.created = w[1];
        } else if (w[0] == "file" && w.size() >= 5) {
            BackupFile file;
            const auto kind = kind_from(w[1]);
            if (!kind)
                return fail(fmt::format("unknown kind of file '{}'", w[1]));
            file.kind = *kind;
            if (!is_sha256(w[2]))
                return fail("not a SHA-256 checksum");
            file.sha256 = w[2];
            const auto [end, ec] = std::from_chars(w[3].data(), w[3].data() + w[3].size(), file.size);
            if (ec != std::errc{} || end != w[3].data() + w[3].size())
                return fail("not a size");
            if (!safe_backup_name(w[4]))
                return fail(fmt::format("'{}' is not a file name a backup may hold", w[4]));
            file.name = w[4];
            if (file.kind == BackupFileKind::Disk) {
                if (w.size() != 8 || !plain_word(w[5]) || !plain_word(w[6]) || !plain_word(w[7]))
                    return fail("a disk needs its target, format and secret");
                file.dev = w[5];
                file.format = w[6];
                file.secret_uuid = w[7] == "-" ? "" : std::string(w[7]);
            } else if (file.kind == BackupFileKind::Secret) {
                if (w.size() != 6 || !plain_word(w[5]))
                    return fail("a secret needs its uuid");
                file.secret_uuid = w[5];
            } else if (w.size() != 5) {
                return fail("too many words");
            }
            for (const BackupFile& other : manifest.files)
                if (other.name == file.name)
                    return fail(fmt::format("'{}' is listed twice", file.name));
            manifest.files.push_back(std::move(file));
        } else {
            return fail(fmt::format("cannot read '{}'", line.substr(0, 60)));
        }
    }
    if (number == 0)
        return fail("the manifest is empty");
    if (manifest.guest.empty())
        return fail("no guest name");
    int domains = 0;
    for (const BackupFile& file : manifest.files)
        domains += file.kind == BackupFileKind::Domain;
    if (domains != 1)
        return fail("it must list exactly one domain definition");
    return manifest;
}

std::uint64_t manifest_bytes(const BackupManifest& manifest) {
    std::uint64_t total = 0;
    for (const BackupFile& file : manifest.files)
        total += file.size;
    return total;
}

FileDigest sha256_file(const std::string& path, const ReadStep& step) {
    FileDigest digest;
    OwnedFd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (fd.get() < 0) {
        digest.error = fmt::format("cannot read '{}': {}", path, std::strerror(errno));
        return digest;
    }
    std::unique_ptr<GChecksum, ChecksumFreer> checksum{g_checksum_new(G_CHECKSUM_SHA256)};
    std::vector<unsigned char> buffer(4u << 20);
    for (;;) {
        const ssize_t got = ::read(fd.get(), buffer.data(), buffer.size());
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            digest.error = fmt::format("cannot read '{}': {}", path, std::strerror(errno));
            return digest;
        }
        if (got == 0)
            break;
        g_checksum_update(checksum.get(), buffer.data(), got);
        digest.size += static_cast<std::uint64_t>(got);
        if (step && !step(digest.size)) {
            digest.cancelled = true;
            return digest;
        }
    }
    digest.sha256 = g_checksum_get_string(checksum.get());
    digest.ok = true;
    return digest;
}

VerifyResult verify_backup_files(const std::string& directory, const BackupManifest& manifest, const ReadStep& step) {
    VerifyResult result;
    // Sizes first: a missing or truncated file is found without reading gigabytes.
    for (const BackupFile& file : manifest.files) {
        const std::string path = directory + "/" + file.name;
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) {
            result.error = fmt::format("'{}' is missing", file.name);
            return result;
        }
        if (!S_ISREG(st.st_mode)) {
            result.error = fmt::format("'{}' is not a regular file", file.name);
            return result;
        }
        if (static_cast<std::uint64_t>(st.st_size) != file.size) {
            result.error = fmt::format("'{}' has {} bytes, the manifest says {}", file.name, st.st_size, file.size);
            return result;
        }
    }
    std::uint64_t before = 0;
    for (const BackupFile& file : manifest.files) {
        FileDigest digest = sha256_file(directory + "/" + file.name,
                                        [&](std::uint64_t read) { return !step || step(before + read); });
        if (digest.cancelled) {
            result.cancelled = true;
            return result;
        }
        if (!digest.ok) {
            result.error = digest.error;
            return result;
        }
        if (digest.sha256 != file.sha256) {
            result.error = fmt::format("'{}' does not match its SHA-256 checksum (damaged or changed)", file.name);
            return result;
        }
        before += file.size;
    }
    result.ok = true;
    return result;
}

} // namespace phyllome::guestview
