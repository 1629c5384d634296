// The shell-agent wire protocol: every message survives encode/decode, broken input is refused
// without crashing, and the channel carries big frames and fds over a real socketpair.
#include "guestview/agent_protocol.hpp"
#include "guestview/agent_channel.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "tests/guestview/test_support.hpp"

namespace phyllome::guestview::agent {
namespace {

using namespace std::chrono_literals;

GuestInfo sample_guest(std::string name) {
    GuestInfo g;
    g.name = std::move(name);
    g.uuid = "6695eb01-f6a4-8304-79aa-97f2502e193f";
    g.state = GuestState::Running;
    g.state_reason = "running: booted";
    g.graphics = GraphicsSupport::DbusP2P;
    g.dbus_graphics_index = 1;
    g.graphics_note = "note with ünïcode";
    g.slot = 3;
    g.colour = 0x4f9dde;
    g.domain_id = 7;
    g.installer_attached = true;
    g.snapshots = {{"before the update", 1764900000, true, true}, {"fresh install", 1764800000, false, false}};
    g.usb_devices = {{0x0781, 0x5581, 1, 5}, {0x0781, 0x5581, 3, 127}};
    g.usb_choices = {{{"0781:5581", "4C530001"}, true}, {{"046d:c52b", ""}, false}};
    g.usb_controller = false;
    return g;
}

std::vector<Request> all_requests() {
    GuestSpec spec;
    spec.name = "new";
    spec.iso_path = "/isos/debian.iso";
    spec.os_id = "debian13";
    spec.disk_size_gb = 20;
    spec.memory_mb = 2048;
    spec.cpus = 4;
    spec.accel3d = true;
    spec.disk_dir = "/var/lib/disks";
    spec.encrypt_disk = false;
    spec.secret_uuid = "abc";
    spec.allow_kvm = false;
    spec.heads = 3;
    return {
        ActionRequest{1, Action::Start, "alpha"},
        ActionRequest{2, Action::ForceOff, ""},
        ActionRequest{8, Action::Remove, "gamma"},
        GraphicsRequest{3, "alpha", 2},
        ScreenshotRequest{4, "alpha", 1},
        IdentityRequest{5, "alpha", 9, 0xffffff},
        IdentityRequest{6, "alpha", std::nullopt, std::nullopt},
        AdoptRequest{7, "beta"},
        ActionRequest{8, Action::Eject, "win11"},
        CreateRequest{0xffffffffu, spec},
        PlanRequest{11, spec},
        PlanRequest{12, GuestSpec{}},
        JobStartRequest{13, JobRequest{JobKind::Duplicate, "win11", "win11-copy", "", false}},
        JobStartRequest{14, JobRequest{JobKind::Export, "win11", "/home/u/win 11.phyllome", "", true}},
        JobStartRequest{15, JobRequest{JobKind::Import, "", "", "/media/usb/win11.phyllome", false}},
        JobCancelRequest{7},
        UsbDeviceRequest{16, true, "win11", {0x0781, 0x5581, 1, 5}},
        UsbDeviceRequest{17, false, "win11", {0xffff, 0, 255, 127}},
        UsbChoicesRequest{18, "win11", {{{"0781:5581", "4C530001"}, true}, {{"046d:c52b", ""}, false}}},
        UsbChoicesRequest{19, "win11", {}},
    };
}

std::vector<Reply> all_replies() {
    GuestInfo bare;
    bare.name = "bare";
    return {
        StateUpdate{ConnectionStatus{ConnectionState::Connected, "test:///default", {}, {}},
                    {sample_guest("a"), sample_guest("b"), bare}},
        StateUpdate{ConnectionStatus{ConnectionState::Failed, "qemu:///system", "gone", 30000ms}, {}},
        ActionReply{1, ActionResult{Action::Shutdown, "a", false, "no"}},
        ActionReply{6, ActionResult{Action::Remove, "gamma", false, "guest 'gamma' is not shut off: shut it down first"}},
        ActionReply{9, ActionResult{Action::Eject, "win11", true, "", "ejected /isos/win11.iso from sda"}},
        GraphicsReply{2, true, ""},
        GraphicsReply{3, false, "no display"},
        ScreenshotReply{4, std::string("P6\n1 1\n255\n\0\xff\x10", 14), "image/x-portable-pixmap", ""},
        DoneReply{5, true, "the disk is not encrypted"},
        PlanReply{10, PlanView{"", "Microsoft Windows 11", "win11", 4096, 2, 64, 4096, 64, 120,
                               {"UEFI with Secure Boot", "TPM 2.0", "encrypted disk"},
                               {"SATA disk and e1000e network: no virtio-win drivers found (looked in /usr/share)"}}},
        PlanReply{11, PlanView{"'x.iso' is not a bootable installer", "", "", 0, 0, 0, 0, 0, -1, {}, {}}},
        JobStartedReply{13, 4, ""},
        JobStartedReply{14, 0, "guest 'win11' has a job running: wait for it, or cancel it"},
        JobsUpdate{{JobInfo{4, JobRequest{JobKind::Backup, "win11", "/backups", "", false}, JobState::Running,
                            1ull << 33, 5ull << 32, "copying disk vda", "", 12345},
                    JobInfo{3, JobRequest{JobKind::Move, "deb", "qemu+ssh://desk/system", "", false}, JobState::Failed,
                            0, 0, "", "the destination refused: no route to host", 800}}},
        JobsUpdate{{}},
    };
}

std::string_view body_of(const std::string& frame) { return std::string_view{frame}.substr(frame_header_size); }

TEST(AgentProtocol, EveryRequestRoundTrips) {
    for (const Request& request : all_requests()) {
        std::string frame;
        encode(request, frame);
        ASSERT_EQ(frame_length(frame), frame.size() - frame_header_size);
        const auto decoded = decode_request(body_of(frame));
        ASSERT_TRUE(decoded.has_value()) << "request #" << request.index();
        EXPECT_TRUE(*decoded == request) << "request #" << request.index();
    }
}

TEST(AgentProtocol, EveryReplyRoundTrips) {
    for (const Reply& reply : all_replies()) {
        std::string frame;
        encode(reply, frame);
        ASSERT_EQ(frame_length(frame), frame.size() - frame_header_size);
        const auto decoded = decode_reply(body_of(frame));
        ASSERT_TRUE(decoded.has_value()) << "reply #" << reply.index();
        EXPECT_TRUE(*decoded == reply) << "reply #" << reply.index();
    }
}

TEST(AgentProtocol, StateCarriesWhetherTheInstallerIsAttached) {
    GuestInfo installing = sample_guest("win11");
    GuestInfo installed = sample_guest("debian");
    installed.installer_attached = false;
    std::string frame;
    encode(Reply{StateUpdate{ConnectionStatus{ConnectionState::Connected, "qemu:///system", {}, {}},
                             {installing, installed}}},
           frame);
    const auto decoded = decode_reply(body_of(frame));
    ASSERT_TRUE(decoded && std::holds_alternative<StateUpdate>(*decoded));
    const auto& guests = std::get<StateUpdate>(*decoded).guests;
    ASSERT_EQ(guests.size(), 2u);
    EXPECT_TRUE(guests[0].installer_attached);
    EXPECT_FALSE(guests[1].installer_attached);
}

TEST(AgentProtocol, TruncatedOrExtendedFramesAreRejected) {
    for (const Request& request : all_requests()) {
        std::string frame;
        encode(request, frame);
        const std::string_view body = body_of(frame);
        for (std::size_t n = 0; n < body.size(); ++n)
            EXPECT_FALSE(decode_request(body.substr(0, n)).has_value()) << "request #" << request.index() << " cut at " << n;
        EXPECT_FALSE(decode_request(std::string{body} + '\0').has_value());
        EXPECT_FALSE(decode_reply(body).has_value()) << "a request is not a reply";
    }
    for (const Reply& reply : all_replies()) {
        std::string frame;
        encode(reply, frame);
        const std::string_view body = body_of(frame);
        for (std::size_t n = 0; n < body.size(); ++n)
            EXPECT_FALSE(decode_reply(body.substr(0, n)).has_value()) << "reply #" << reply.index() << " cut at " << n;
        EXPECT_FALSE(decode_reply(std::string{body} + 'x').has_value());
        EXPECT_FALSE(decode_request(body).has_value()) << "a reply is not a request";
    }
}

TEST(AgentProtocol, GarbageIsRejected) {
    EXPECT_FALSE(decode_reply("").has_value());
    EXPECT_FALSE(decode_reply(std::string(1, '\xff')).has_value());
    // A state claiming four billion guests in a few bytes: refused before allocating.
    std::string huge{"\x40\x01"};
    huge += std::string(4 + 4 + 8, '\0'); // empty uri and error, no retry
    huge += "\xff\xff\xff\xff";
    EXPECT_FALSE(decode_reply(huge).has_value());
    // An out-of-range enum (action 7) and a bool that is neither 0 nor 1.
    std::string frame;
    encode(Request{ActionRequest{1, Action::Start, "a"}}, frame);
    std::string body{body_of(frame)};
    body[5] = 7;
    EXPECT_FALSE(decode_request(body).has_value());
    frame.clear();
    encode(Reply{DoneReply{1, true, ""}}, frame);
    body = body_of(frame);
    body[5] = 2;
    EXPECT_FALSE(decode_reply(body).has_value());
    // Every single byte value as a one-byte message, and a pseudo-random stream: no crash.
    for (int b = 0; b < 256; ++b) {
        const std::string one(1, static_cast<char>(b));
        EXPECT_FALSE(decode_reply(one).has_value());
        EXPECT_FALSE(decode_request(one).has_value());
    }
    std::string noise;
    unsigned x = 12345;
    for (int i = 0; i < 4096; ++i) {
        x = x * 1103515245u + 12345u;
        noise.push_back(static_cast<char>(x >> 16));
        (void)decode_reply(noise);
        (void)decode_request(noise);
    }
}

// Two channels over a real socketpair, on one loop.
class ChannelTest : public ::testing::Test {
protected:
    void SetUp() override {
        int fds[2];
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        a = std::make_unique<Channel>(loop.get(), OwnedFd{fds[0]},
                                      Channel::Handlers{[](std::string_view) { return true; },
                                                        [this](std::string r) { a_closed = r; }},
                                      64u << 20);
        b = std::make_unique<Channel>(loop.get(), OwnedFd{fds[1]},
                                      Channel::Handlers{[this](std::string_view body) {
                                                            auto reply = decode_reply(body);
                                                            if (!reply)
                                                                return false;
                                                            received.push_back(std::move(*reply));
                                                            return true;
                                                        },
                                                        [this](std::string r) { b_closed = r; }},
                                      1u << 20);
    }

    testing::LoopPtr loop = testing::make_loop();
    std::vector<Reply> received;
    std::optional<std::string> a_closed, b_closed;
    std::unique_ptr<Channel> a, b;
};

TEST_F(ChannelTest, CarriesA6MBScreenshotWholeAndInOrder) {
    std::string image(6u << 20, '\0');
    for (std::size_t i = 0; i < image.size(); ++i)
        image[i] = static_cast<char>(i * 31 + (i >> 12));
    std::string frame;
    encode(Reply{ScreenshotReply{9, image, "image/x-portable-pixmap", ""}}, frame);
    encode(Reply{DoneReply{10, true, "after"}}, frame);
    a->send(std::move(frame));
    EXPECT_GT(a->queued_bytes(), 0u) << "a socket does not take 6 MB at once: the rest waits for the loop";
    ASSERT_TRUE(testing::pump_until(loop.get(), [&] { return received.size() == 2; }));
    const auto* shot = std::get_if<ScreenshotReply>(&received[0]);
    ASSERT_NE(shot, nullptr);
    EXPECT_EQ(shot->id, 9u);
    EXPECT_TRUE(shot->image == image);
    EXPECT_TRUE(std::holds_alternative<DoneReply>(received[1]));
    EXPECT_EQ(a->queued_bytes(), 0u);
    EXPECT_FALSE(a_closed || b_closed);
}

TEST_F(ChannelTest, PassesAnFdWithItsFrame) {
    int pipe_fds[2];
    ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
    OwnedFd read_end{pipe_fds[0]};
    struct stat original{};
    ASSERT_EQ(fstat(pipe_fds[1], &original), 0);
    std::string frame;
    encode(Reply{GraphicsReply{1, true, ""}}, frame);
    a->send(std::move(frame), OwnedFd{pipe_fds[1]});
    ASSERT_TRUE(testing::pump_until(loop.get(), [&] { return received.size() == 1; }));
    OwnedFd got = b->take_fd();
    ASSERT_GE(got.get(), 0);
    struct stat passed{};
    ASSERT_EQ(fstat(got.get(), &passed), 0);
    EXPECT_EQ(passed.st_ino, original.st_ino);
    EXPECT_LT(b->take_fd().get(), 0) << "one fd was sent";
}

TEST_F(ChannelTest, OversizedFrameOrGarbageClosesTheChannel) {
    std::string header{"\xff\xff\xff\x7f", 4}; // 2 GB announced
    a->send(header);
    ASSERT_TRUE(testing::pump_until(loop.get(), [&] { return b_closed.has_value(); }));
    EXPECT_NE(b_closed->find("a frame of"), std::string::npos) << *b_closed;
    EXPECT_FALSE(b->open());
}

TEST_F(ChannelTest, MalformedBodyClosesTheChannel) {
    a->send(std::string{"\x02\0\0\0\x40\x01", 6});
    ASSERT_TRUE(testing::pump_until(loop.get(), [&] { return b_closed.has_value(); }));
    EXPECT_EQ(*b_closed, "a malformed message");
}

TEST_F(ChannelTest, HangUpIsReportedOnceAfterTheFramesBeforeIt) {
    std::string frame;
    encode(Reply{DoneReply{1, true, ""}}, frame);
    a->send(std::move(frame));
    a.reset();
    ASSERT_TRUE(testing::pump_until(loop.get(), [&] { return b_closed.has_value(); }));
    EXPECT_EQ(received.size(), 1u);
    EXPECT_EQ(*b_closed, "the peer hung up");
}

TEST_F(ChannelTest, AReaderThatStopsReadingEndsTheWriterAtItsBound) {
    // b may queue 1 MB; a never reads (nobody dispatches its data), so b's queue fills.
    std::string big;
    encode(Reply{ScreenshotReply{1, std::string(3u << 20, 'x'), "m", ""}}, big);
    b->send(big);
    ASSERT_TRUE(b_closed.has_value()) << "over the bound at once";
    EXPECT_NE(b_closed->find("stopped reading"), std::string::npos) << *b_closed;
}

} // namespace
} // namespace phyllome::guestview::agent

namespace phyllome::guestview::agent {
namespace {

// Eject is the last Action: it decodes, and the value after it is refused as garbage.
TEST(AgentProtocol, EjectIsTheLastActionTheDecoderTakes) {
    std::string frame;
    encode(Request{ActionRequest{9, Action::Eject, "g"}}, frame);
    std::string body{body_of(frame)};
    const auto decoded = decode_request(body);
    ASSERT_TRUE(decoded.has_value());
    ASSERT_TRUE(std::holds_alternative<ActionRequest>(*decoded));
    EXPECT_EQ(std::get<ActionRequest>(*decoded).action, Action::Eject);
    // Type byte, then the id (4 bytes), then the action.
    ASSERT_EQ(static_cast<std::uint8_t>(body[5]), static_cast<std::uint8_t>(Action::Eject));
    body[5] = static_cast<char>(static_cast<std::uint8_t>(Action::Eject) + 1);
    EXPECT_FALSE(decode_request(body).has_value());
}

} // namespace
} // namespace phyllome::guestview::agent
