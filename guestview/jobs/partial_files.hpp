// What a job has made so far and must take away again unless it succeeds: files, folders (with
// everything in them) and, last, an undo step (undefine a secret). Removed in reverse order.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "config/log.hpp"

namespace phyllome::guestview {

class PartialFiles {
public:
    PartialFiles() = default;
    PartialFiles(const PartialFiles&) = delete;
    PartialFiles& operator=(const PartialFiles&) = delete;
    ~PartialFiles() { discard(); }

    void add(std::string path) { paths_.push_back(std::move(path)); }
    void add_undo(std::function<void()> undo) { undos_.push_back(std::move(undo)); }
    // The job succeeded: everything stays.
    void keep() {
        paths_.clear();
        undos_.clear();
    }
    void discard() {
        for (auto it = undos_.rbegin(); it != undos_.rend(); ++it)
            (*it)();
        undos_.clear();
        for (auto it = paths_.rbegin(); it != paths_.rend(); ++it) {
            std::error_code ec;
            std::filesystem::remove_all(*it, ec);
            if (ec)
                log::warn("cannot remove the partial '{}': {}", *it, ec.message());
        }
        paths_.clear();
    }

private:
    std::vector<std::string> paths_;
    std::vector<std::function<void()>> undos_;
};

} // namespace phyllome::guestview
