// The agent protocol's framing and field encoding (agent_protocol.hpp describes the format),
// shared by the files that encode its messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "guestview/agent_protocol.hpp"

namespace phyllome::guestview::agent::wire {

// Message types on the wire; requests and replies have their own ranges so a frame sent the
// wrong way is rejected.
enum class Type : std::uint8_t {
    Action = 1,
    Graphics = 2,
    Screenshot = 3,
    Identity = 4,
    Adopt = 5,
    Create = 6,
    Plan = 7,
    JobStart = 8,
    JobCancel = 9,
    UsbDevice = 10,
    UsbChoices = 11,
    State = 64,
    ActionDone = 65,
    GraphicsDone = 66,
    ScreenshotDone = 67,
    Done = 68,
    PlanDone = 69,
    JobStarted = 70,
    Jobs = 71,
};

class Writer {
public:
    explicit Writer(std::string& out, Type type) : out_(out), start_(out.size()) {
        u32(0); // the length, filled in by finish()
        u8(static_cast<std::uint8_t>(type));
    }
    ~Writer() {
        const std::size_t length = out_.size() - start_ - frame_header_size;
        for (std::size_t i = 0; i < 4; ++i)
            out_[start_ + i] = static_cast<char>((length >> (8 * i)) & 0xff);
    }
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void u32(std::uint32_t v) {
        for (int i = 0; i < 4; ++i)
            out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
    void i32(std::int32_t v) { u32(static_cast<std::uint32_t>(v)); }
    void i64(std::int64_t v) {
        u32(static_cast<std::uint32_t>(static_cast<std::uint64_t>(v) & 0xffffffffu));
        u32(static_cast<std::uint32_t>(static_cast<std::uint64_t>(v) >> 32));
    }
    void boolean(bool v) { u8(v ? 1 : 0); }
    void str(std::string_view s) {
        u32(static_cast<std::uint32_t>(s.size()));
        out_.append(s);
    }
    template <typename T>
    void opt(const std::optional<T>& v) {
        boolean(v.has_value());
        if (v) {
            if constexpr (std::is_same_v<T, int>)
                i32(*v);
            else
                u32(*v);
        }
    }

private:
    std::string& out_;
    std::size_t start_;
};

// Reads fields in order; any short read or bad value sets failed and yields zeros from then on.
class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}

    bool failed() const { return failed_; }
    void fail() { failed_ = true; } // a value out of range
    bool done() const { return !failed_ && in_.empty(); }
    std::size_t remaining() const { return in_.size(); }

    std::uint8_t u8() {
        if (!take(1))
            return 0;
        return static_cast<std::uint8_t>(last_[0]);
    }
    std::uint32_t u32() {
        if (!take(4))
            return 0;
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i)
            v |= static_cast<std::uint32_t>(static_cast<unsigned char>(last_[i])) << (8 * i);
        return v;
    }
    std::int32_t i32() { return static_cast<std::int32_t>(u32()); }
    std::int64_t i64() {
        const std::uint64_t low = u32();
        const std::uint64_t high = u32();
        return static_cast<std::int64_t>(low | (high << 32));
    }
    bool boolean() {
        const std::uint8_t v = u8();
        if (v > 1)
            failed_ = true;
        return v == 1;
    }
    std::string str() {
        const std::uint32_t n = u32();
        if (!take(n))
            return {};
        return std::string{last_};
    }
    template <typename T>
    std::optional<T> opt() {
        if (!boolean())
            return std::nullopt;
        if constexpr (std::is_same_v<T, int>)
            return i32();
        else
            return u32();
    }
    // An enum value, checked against its last member.
    template <typename E>
    E enumeration(E last) {
        const std::uint8_t v = u8();
        if (v > static_cast<std::uint8_t>(last))
            failed_ = true;
        return static_cast<E>(v);
    }

private:
    bool take(std::size_t n) {
        if (failed_ || in_.size() < n) {
            failed_ = true;
            return false;
        }
        last_ = in_.substr(0, n);
        in_.remove_prefix(n);
        return true;
    }

    std::string_view in_;
    std::string_view last_;
    bool failed_ = false;
};

template <typename T>
std::optional<T> finished(Reader& r, T value) {
    if (!r.done())
        return std::nullopt;
    return value;
}

// The job messages (agent_protocol_jobs.cpp). `r` has read the type byte.
void write_job_message(std::string& out, const JobStartRequest& m);
void write_job_message(std::string& out, const JobCancelRequest& m);
void write_job_message(std::string& out, const JobStartedReply& m);
void write_job_message(std::string& out, const JobsUpdate& m);
std::optional<Request> read_job_request(Reader& r, Type type);
std::optional<Reply> read_job_reply(Reader& r, Type type, std::size_t body_size);

// The USB fields of a guest and the USB requests (agent_protocol_usb.cpp).
void write_guest_usb(Writer& w, const GuestInfo& g);
void read_guest_usb(Reader& r, GuestInfo& g);
inline constexpr std::size_t min_guest_usb_size = 4 + 4 + 1;
void write_usb_message(std::string& out, const UsbDeviceRequest& m);
void write_usb_message(std::string& out, const UsbChoicesRequest& m);
std::optional<Request> read_usb_request(Reader& r, Type type);

} // namespace phyllome::guestview::agent::wire
