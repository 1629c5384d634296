// The control socket's bounds, on a real wl_event_loop in this process: size, rate, number of
// connections, idle time, big replies. The real shell's socket is tested in
// tests/integration/control_socket_test.cpp.
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <optional>

#include <wayland-server-core.h>

#include "compositor/control_server.hpp"
#include "compositor/rate_limiter.hpp"

namespace phyllome::compositor {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(TokenBucket, AllowsABurstThenTheRate) {
    const auto t0 = Clock::now();
    TokenBucket bucket(10, 3, t0);
    EXPECT_TRUE(bucket.take(t0));
    EXPECT_TRUE(bucket.take(t0));
    EXPECT_TRUE(bucket.take(t0));
    EXPECT_FALSE(bucket.take(t0)) << "the burst is 3";
    EXPECT_FALSE(bucket.take(t0 + 50ms)) << "half a token after 50 ms at 10/s";
    EXPECT_TRUE(bucket.take(t0 + 100ms));
    EXPECT_FALSE(bucket.take(t0 + 100ms));
    // A long pause refills to the burst, not beyond.
    EXPECT_DOUBLE_EQ(bucket.tokens(t0 + 1h), 3.0);
}

TEST(TokenBucket, AClockGoingBackwardsAddsNothing) {
    const auto t0 = Clock::now();
    TokenBucket bucket(10, 1, t0);
    EXPECT_TRUE(bucket.take(t0));
    EXPECT_FALSE(bucket.take(t0 - 10s));
    EXPECT_FALSE(bucket.take(t0 + 50ms)) << "the time it went back is not credited twice";
    EXPECT_TRUE(bucket.take(t0 + 100ms));
}

class ControlServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/phyllome-ctlsrv-XXXXXX";
        dir_ = mkdtemp(tmpl);
        path_ = dir_ + "/ctl.sock";
        loop_ = wl_event_loop_create();
    }
    void TearDown() override {
        server_.reset();
        wl_event_loop_destroy(loop_);
        std::filesystem::remove_all(dir_);
    }
    void start(ControlServer::Limits limits = {}) {
        server_ = std::make_unique<ControlServer>(loop_, path_, [this](const control::Request& r, ControlServer::Reply reply) {
            ++handled_;
            if (big_reply_ > 0)
                reply(true, std::string(big_reply_, 'x'));
            else if (r.verb == control::Request::Verb::Status)
                reply(true, "fine\n");
            else
                reply(false, "not here\n");
        }, limits);
    }
    guestview::OwnedFd connect() const {
        guestview::OwnedFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
        EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
        return fd;
    }
    void dispatch(std::chrono::milliseconds ms = 10ms) { wl_event_loop_dispatch(loop_, static_cast<int>(ms.count())); }
    // Serves the loop and reads `fd` until the server closes it (or the deadline); nullopt on timeout.
    std::optional<std::string> read_reply(int fd, std::chrono::milliseconds deadline = 5s) {
        std::string got;
        const auto end = Clock::now() + deadline;
        while (Clock::now() < end) {
            dispatch(5ms);
            char buf[65536];
            for (;;) {
                ssize_t n = ::read(fd, buf, sizeof buf);
                if (n > 0) {
                    got.append(buf, static_cast<std::size_t>(n));
                    continue;
                }
                if (n == 0 || (errno != EAGAIN && errno != EINTR))
                    return got;
                break;
            }
        }
        return std::nullopt;
    }
    std::optional<std::string> request(const std::string& line) {
        auto fd = connect();
        EXPECT_EQ(::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL), static_cast<ssize_t>(line.size()));
        return read_reply(fd.get());
    }

    std::string dir_, path_;
    wl_event_loop* loop_ = nullptr;
    std::unique_ptr<ControlServer> server_;
    int handled_ = 0;
    std::size_t big_reply_ = 0;
};

TEST_F(ControlServerTest, SocketIsOwnerOnlyAndAnswersAWellFormedRequest) {
    start();
    struct stat st{};
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(request("status\n"), "ok\nfine\n");
    EXPECT_EQ(handled_, 1);
}

TEST_F(ControlServerTest, UnknownVerbIsAnErrorAndNeverReachesTheHandler) {
    start();
    auto r = request("frobnicate now\n");
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->starts_with("error\nunknown command 'frobnicate'")) << *r;
    EXPECT_EQ(handled_, 0);
}

TEST_F(ControlServerTest, OversizedRequestIsRefusedAndTheServerReadsNoMoreOfIt) {
    start();
    auto fd = connect();
    // 1 MiB without a newline, written as the server reads: it must stop after max_request + 1.
    const std::string junk(1 << 20, 'a');
    std::size_t sent = 0;
    bool send_refused = false;
    std::string got;
    const auto end = Clock::now() + 5s;
    bool closed = false;
    while (!closed && Clock::now() < end) {
        if (sent < junk.size() && !send_refused) {
            ssize_t n = ::send(fd.get(), junk.data() + sent, junk.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0)
                sent += static_cast<std::size_t>(n);
            else if (errno != EAGAIN)
                send_refused = true; // EPIPE/ECONNRESET: the server has closed
        }
        dispatch(5ms);
        char buf[4096];
        ssize_t n = ::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0)
            got.append(buf, static_cast<std::size_t>(n));
        else if (n == 0 || (errno != EAGAIN && errno != EINTR))
            closed = true;
    }
    EXPECT_TRUE(closed) << "the server kept the connection";
    EXPECT_EQ(got, "error\nrequest longer than 4096 bytes\n");
    EXPECT_LT(sent, junk.size()) << "the server read the whole megabyte";
    std::printf("the kernel took %zu of the 1 MiB before the server closed\n", sent);
    EXPECT_EQ(server_->counters().too_long, 1u);
    EXPECT_EQ(handled_, 0);
    EXPECT_EQ(server_->client_count(), 0u);
    EXPECT_EQ(request("status\n"), "ok\nfine\n") << "the next client is served";
}

TEST_F(ControlServerTest, ARequestOfExactlyTheLimitIsParsed) {
    start();
    // "show " + a name filling the line to max_request bytes, then the newline.
    const std::string line = "show " + std::string(control::max_request - 5, 'n');
    ASSERT_EQ(line.size(), control::max_request);
    auto r = request(line + "\n");
    EXPECT_EQ(r, "error\nnot here\n") << "the handler answered it";
    EXPECT_EQ(handled_, 1);
}

TEST_F(ControlServerTest, IdleConnectionIsClosedAfterTheRequestTimeout) {
    ControlServer::Limits limits;
    limits.request_timeout = 150ms;
    start(limits);
    auto fd = connect();
    ASSERT_EQ(::send(fd.get(), "sta", 3, MSG_NOSIGNAL), 3); // a partial line does not keep it open
    const auto t0 = Clock::now();
    auto r = read_reply(fd.get(), 3s);
    const auto took = Clock::now() - t0;
    ASSERT_TRUE(r) << "still open after 3 s";
    EXPECT_EQ(*r, "error\ntimeout: no request within 150 ms\n");
    EXPECT_GE(took, 140ms);
    EXPECT_EQ(server_->client_count(), 0u);
    EXPECT_EQ(server_->counters().timed_out, 1u);
}

TEST_F(ControlServerTest, ConnectionsBeyondTheLimitAreRefusedAtAccept) {
    ControlServer::Limits limits;
    limits.max_clients = 2;
    start(limits);
    auto a = connect(), b = connect();
    for (int i = 0; i < 5; ++i)
        dispatch(5ms);
    ASSERT_EQ(server_->client_count(), 2u);
    auto c = connect();
    auto r = read_reply(c.get());
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->starts_with("error\nbusy: 2 connections are open already")) << *r;
    EXPECT_EQ(server_->client_count(), 2u);
    a = guestview::OwnedFd();
    EXPECT_TRUE(read_reply(b.get(), 0ms) == std::nullopt); // serve the hang-up
    for (int i = 0; i < 5 && server_->client_count() > 1; ++i)
        dispatch(5ms);
    EXPECT_EQ(request("status\n"), "ok\nfine\n") << "a slot is free again";
}

TEST_F(ControlServerTest, RequestsOverTheRateAreAnsweredBusyWithoutTheWork) {
    ControlServer::Limits limits;
    limits.requests_per_second = 0.001; // no refill within the test
    limits.burst = 3;
    start(limits);
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(request("status\n"), "ok\nfine\n");
    EXPECT_EQ(request("status\n"), "error\nbusy: too many requests\n");
    EXPECT_EQ(request("frobnicate\n"), "error\nbusy: too many requests\n") << "not even parsed";
    EXPECT_EQ(handled_, 3);
    EXPECT_EQ(server_->counters().busy, 2u);
}

TEST_F(ControlServerTest, BigReplyGoesOutWithoutBlockingAndASilentReaderIsDropped) {
    ControlServer::Limits limits;
    limits.send_timeout = 200ms;
    start(limits);
    big_reply_ = 8 << 20; // far more than a socket buffer
    // A reader that reads gets it all, while the loop keeps turning.
    auto fd = connect();
    ASSERT_EQ(::send(fd.get(), "status\n", 7, MSG_NOSIGNAL), 7);
    const auto t0 = Clock::now();
    dispatch(50ms); // the handler runs and replies: this must not wait for the reader
    EXPECT_LT(Clock::now() - t0, 1s);
    auto r = read_reply(fd.get(), 10s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->size(), 3 + big_reply_);
    // A client that asks and never reads is closed after send_timeout without progress.
    auto silent = connect();
    ASSERT_EQ(::send(silent.get(), "status\n", 7, MSG_NOSIGNAL), 7);
    const auto end = Clock::now() + 3s;
    while (server_->client_count() == 0 && Clock::now() < end)
        dispatch(5ms);
    while (server_->client_count() > 0 && Clock::now() < end)
        dispatch(20ms);
    EXPECT_EQ(server_->client_count(), 0u) << "a client that does not read holds its reply forever";
    EXPECT_GE(server_->counters().timed_out, 1u);
}

} // namespace
} // namespace phyllome::compositor
