// protocol::Client as the extension uses it: typed calls, an error code outside error.h's range
// and a reply that is neither ok nor an error refused, a wait that can be abandoned (the
// extension's latch wait throws on a cancel); and ConnectionThreads, the daemon's owned
// connection threads, woken and joined when it stops.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "common/error.h"
#include "protocol/connection.h"
#include "protocol/connection_threads.h"
#include "protocol/messages.h"
#include "test/unit/test_support.h"

namespace backrest::protocol {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using backrest::test::errorOf;
using backrest::test::has;

long msSince(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

class ProtocolClient : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = fs::temp_directory_path().string() + "/protocol-client-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        root_ = tmpl;
        listener_ = std::make_unique<Listener>(root_ + "/sock", "backrest.sock");
    }
    void TearDown() override {
        listener_.reset();
        fs::remove_all(root_);
    }

    // A server that answers hello, then each request with `reply(request)` (nothing when it
    // returns null, each message in turn when it returns an array), until the client hangs up.
    std::jthread serve(std::function<Message(const Message&)> reply) {
        return std::jthread([this, reply] {
            auto c = listener_->accept(5000);
            if (!c) return ADD_FAILURE() << "server: no client within 5 s";
            try {
                c->receive(5000);
                c->send(HelloReply{kVersion, "unit-server", 77}.toMessage());
                while (auto request = c->receive(5000)) {
                    Message r = reply(*request);
                    if (r.is_array())
                        for (const Message& m : r) c->send(m);
                    else if (!r.is_null())
                        c->send(r);
                }
            } catch (const std::exception&) {
                // the client hung up mid-way: what some tests do
            }
        });
    }

    std::string path() const { return listener_->path(); }

    std::string root_;
    std::unique_ptr<Listener> listener_;
};

TEST_F(ProtocolClient, TypedCallEncodesRequestAndDecodesReply) {
    Message seen;
    auto server = serve([&](const Message& r) {
        seen = r;
        return okReply(r.at("id"), ArchivePushReply{"stored"}.toMessage());
    });
    Client client(path(), "unit-client", 5000);
    EXPECT_EQ(client.server().pid, 77);
    EXPECT_EQ(client.server().server, "unit-server");
    ArchivePushReply reply = client.call(ArchivePush{"/pg/pg_wal/000000010000000000000001"}, 5000);
    EXPECT_EQ(reply.result, "stored");
    EXPECT_EQ(seen.dump(),
              R"({"id":1,"path":"/pg/pg_wal/000000010000000000000001","type":"archive-push"})");
}

TEST_F(ProtocolClient, ProgressGoesToTheHandlerThenTheFinalReply) {
    auto server = serve([](const Message& r) {
        return Message::array(
            {{{"id", r.at("id")}, {"progress", BackupCopyProgress{9, 3, 2, 1}.toMessage()}},
             {{"id", r.at("id")}, {"progress", BackupCopyProgress{9, 9, 2, 2}.toMessage()}},
             okReply(r.at("id"))});
    });
    Client client(path(), "unit-client", 5000);
    std::vector<BackupCopyProgress> seen;
    client.call(BackupCopy{}, 5000,
                [&](const Message& p) { seen.push_back(BackupCopyProgress::fromMessage(p)); });
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[0].bytesDone, 3u);
    EXPECT_EQ(seen[1].bytesDone, 9u);
    EXPECT_EQ(seen[1].filesDone, 2u);
}

TEST_F(ProtocolClient, ErrorCodeInRangeIsKept) {
    auto server = serve([](const Message& r) {
        return errorReply(r.at("id"), static_cast<int>(ErrorCode::Lock), "stanza 'main' is locked");
    });
    Client client(path(), "unit-client", 5000);
    Error e = errorOf([&] { client.call(BackupBegin{}, 5000); });
    EXPECT_EQ(e.code(), ErrorCode::Lock);
    EXPECT_STREQ(e.what(), "stanza 'main' is locked");
}

TEST_F(ProtocolClient, ErrorCodeOutOfRangeIsProtocolError) {
    // The codes a reply may carry are those of error.h; anything else (0, negative, beyond
    // ErrorCode::Last, wider than int) is reported as a protocol error, message kept.
    for (int64_t code : {int64_t{0}, int64_t{-1}, int64_t{19},
                         static_cast<int64_t>(ErrorCode::Last) + 1, int64_t{4294967334}}) {
        listener_.reset();  // a listener per round: each server thread accepts one client
        listener_ = std::make_unique<Listener>(root_ + "/sock", "backrest.sock");
        auto server = serve([code](const Message& r) {
            return Message{{"id", r.at("id")}, {"error", {{"code", code}, {"message", "odd"}}}};
        });
        Client client(path(), "unit-client", 5000);
        Error e = errorOf([&] { client.call(Info{}, 5000); });
        EXPECT_EQ(e.code(), ErrorCode::Protocol) << code;
        EXPECT_STREQ(e.what(), "odd") << code;
    }
}

TEST_F(ProtocolClient, ReplyNeitherOkNorErrorIsProtocolError) {
    for (Message ok : {Message(nullptr), Message(false), Message("yes"), Message(1)}) {
        listener_.reset();  // a listener per round: each server thread accepts one client
        listener_ = std::make_unique<Listener>(root_ + "/sock", "backrest.sock");
        auto server = serve([ok](const Message& r) {
            Message reply = {{"id", r.at("id")}, {"label", "20261205-174500F"}};
            if (!ok.is_null()) reply["ok"] = ok;
            return reply;
        });
        Client client(path(), "unit-client", 5000);
        Error e = errorOf([&] { client.call(BackupBegin{}, 5000); });
        EXPECT_EQ(e.code(), ErrorCode::Protocol) << ok.dump();
        EXPECT_TRUE(has(e.what(), "reply to 'backup-begin' is neither ok nor an error"))
            << e.what();
    }
}

TEST_F(ProtocolClient, MalformedTypedReplyIsProtocolError) {
    auto server = serve([](const Message& r) { return okReply(r.at("id"), {{"label", 5}}); });
    Client client(path(), "unit-client", 5000);
    Error e = errorOf([&] { client.call(BackupBegin{}, 5000); });
    EXPECT_EQ(e.code(), ErrorCode::Protocol);
    EXPECT_STREQ(e.what(), "malformed reply to 'backup-begin': field 'label' is not a string: 5");
}

// A wait that gives up when told to, as the extension's latch wait does on a cancel.
class CancellableWait final : public SocketWait {
  public:
    bool ready(int fd, short events, int timeoutMs) override {
        auto start = Clock::now();
        for (;;) {
            if (cancelled) raise(ErrorCode::Cancelled, "cancelled while waiting");
            pollfd p{fd, events, 0};
            if (::poll(&p, 1, 10) > 0) return true;
            if (timeoutMs >= 0 && msSince(start) >= timeoutMs) return false;
        }
    }
    std::atomic<bool> cancelled{false};
};

TEST_F(ProtocolClient, InjectedWaitAbandonsACall) {
    auto server = serve([](const Message&) { return Message(); });  // never answers
    CancellableWait wait;
    Client client(Connection::connectUnix(path(), wait), path(), "unit-client", 5000);
    std::jthread canceller([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        wait.cancelled = true;
    });
    auto start = Clock::now();
    Error e = errorOf([&] { client.call(Info{}, -1); });
    EXPECT_EQ(e.code(), ErrorCode::Cancelled);
    EXPECT_LT(msSince(start), 5000);
}

TEST_F(ProtocolClient, InjectedWaitTimeoutNamesTheRequest) {
    auto server = serve([](const Message&) { return Message(); });
    CancellableWait wait;
    Client client(Connection::connectUnix(path(), wait), path(), "unit-client", 5000);
    Error e = errorOf([&] { client.call(BackupFinish{}, 150); });
    EXPECT_EQ(e.code(), ErrorCode::Protocol);
    EXPECT_TRUE(has(e.what(), "did not answer 'backup-finish' within 150 ms")) << e.what();
}

// --- ConnectionThreads -----------------------------------------------------------------------

TEST_F(ProtocolClient, ConnectionThreadsStopWakesWaitingConnections) {
    std::atomic<int> served{0}, ended{0};
    auto threads = std::make_unique<ConnectionThreads>([&](Connection& c) {
        served++;
        try {
            while (c.receive(-1)) {
            }  // waits for requests until woken
        } catch (const Error&) {
        }
        ended++;
    });
    std::vector<Connection> clients;
    for (int i = 0; i < 3; i++) {
        clients.push_back(Connection::connectUnix(path()));
        auto accepted = listener_->accept(5000);
        ASSERT_TRUE(accepted.has_value());
        threads->start(std::move(*accepted));
    }
    for (int i = 0; i < 100 && served < 3; i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_EQ(threads->running(), 3u);
    auto start = Clock::now();
    EXPECT_TRUE(threads->stop(5000));
    EXPECT_LT(msSince(start), 2000);
    EXPECT_EQ(ended, 3);
    EXPECT_EQ(threads->running(), 0u);
    // The clients see the server's side closed.
    for (Connection& c : clients) EXPECT_FALSE(c.receive(1000).has_value());
}

TEST_F(ProtocolClient, ConnectionThreadsReportOnesStillBusy) {
    std::atomic<bool> release{false};
    std::atomic<int> ended{0};
    auto threads = std::make_unique<ConnectionThreads>([&](Connection&) {
        while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        ended++;
    });
    Connection client = Connection::connectUnix(path());
    auto accepted = listener_->accept(5000);
    ASSERT_TRUE(accepted.has_value());
    threads->start(std::move(*accepted));
    auto start = Clock::now();
    EXPECT_FALSE(threads->stop(100));  // busy past the grace: not joined
    EXPECT_GE(msSince(start), 90);
    EXPECT_EQ(threads->running(), 1u);
    release = true;
    EXPECT_TRUE(threads->stop(5000));
    EXPECT_EQ(ended, 1);
    // Accepted after stop: closed at once, never served.
    Connection late = Connection::connectUnix(path());
    auto lateAccepted = listener_->accept(5000);
    ASSERT_TRUE(lateAccepted.has_value());
    threads->start(std::move(*lateAccepted));
    EXPECT_EQ(threads->running(), 0u);
    EXPECT_FALSE(late.receive(1000).has_value());
}

TEST_F(ProtocolClient, ConnectionThreadsJoinFinishedOnes) {
    std::atomic<int> ended{0};
    ConnectionThreads threads([&](Connection&) { ended++; });
    std::vector<Connection> clients;
    for (int i = 0; i < 5; i++) {
        clients.push_back(Connection::connectUnix(path()));
        auto accepted = listener_->accept(5000);
        ASSERT_TRUE(accepted.has_value());
        threads.start(std::move(*accepted));
    }
    // A thread counts itself finished just after its handler returns: wait for both, with a
    // deadline that only a thread that never ends reaches (a loaded machine takes seconds).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while ((ended < 5 || threads.running() > 0) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(ended, 5);
    EXPECT_EQ(threads.running(), 0u);
}

}  // namespace
}  // namespace backrest::protocol
