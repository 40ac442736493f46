// Protocol connections over a Unix socket: the listener's private directory and socket modes,
// the client's hello and request/reply by id against a server thread written here, error
// replies raised with their code, and broken peers (cut mid-frame, silent, absent) raised as
// ProtocolErrors.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <string>
#include <thread>

#include "common/error.h"
#include "protocol/connection.h"
#include "test/unit/temp_dir.h"
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

std::string prefix(uint32_t n) {
    return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
            static_cast<char>(n)};
}

void sendRaw(int fd, const std::string& bytes) {
    ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()))
        << std::strerror(errno);
}

// Binds a socket at `path` and closes it without unlinking: what a daemon that died leaves.
void makeStaleSocket(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0)
        << std::strerror(errno);
    ::close(fd);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    ASSERT_TRUE(S_ISSOCK(st.st_mode));
}

class ProtocolConnection : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = root_ + "/sock";  // created by the listener
        path_ = dir_ + "/backrest.sock";
    }

    // Accepts one client on a thread and runs `body` on its connection; joined on destruction.
    std::jthread serveOne(Listener& listener, std::function<void(Connection&)> body) {
        return std::jthread([&listener, body] {
            auto c = listener.accept(5000);
            if (!c) {
                ADD_FAILURE() << "server: no client within 5 s";
                return;
            }
            try {
                body(*c);
            } catch (const std::exception& e) {
                ADD_FAILURE() << "server: " << e.what();
            }
        });
    }

    // The server side of hello: checks the client's message and answers it.
    static void answerHello(Connection& c, const std::string& client = "unit-client") {
        auto hello = c.receive(5000);
        ASSERT_TRUE(hello.has_value());
        EXPECT_EQ(hello->value("type", ""), "hello");
        EXPECT_EQ(hello->value("version", 0), 1);
        EXPECT_EQ(hello->value("client", ""), client);
        c.send({{"ok", true}, {"version", kVersion}, {"server", "unit-server"}});
    }

    backrest::test::TempDir tmp_{"protocol-conn"};
    std::string root_ = tmp_.path();
    std::string dir_, path_;
};

// --- listener --------------------------------------------------------------------------------

TEST_F(ProtocolConnection, ListenerCreatesPrivateDirectoryAndSocket) {
    mode_t old = ::umask(0);  // the modes must not depend on the caller's umask
    auto listener = std::make_unique<Listener>(dir_, "backrest.sock");
    ::umask(old);
    EXPECT_EQ(listener->path(), path_);

    struct stat st {};
    ASSERT_EQ(::lstat(dir_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    EXPECT_EQ(st.st_uid, ::geteuid());

    ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    EXPECT_EQ(st.st_uid, ::geteuid());

    listener.reset();  // the socket goes with the listener
    EXPECT_FALSE(fs::exists(fs::symlink_status(path_)));
}

TEST_F(ProtocolConnection, ListenerAcceptsExistingPrivateDirectory) {
    ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
    Listener listener(dir_, "backrest.sock");
    struct stat st {};
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(ProtocolConnection, ListenerRefusesDirectoryOpenToOthers) {
    for (mode_t mode : {0755, 0750, 0701, 0777}) {
        fs::remove_all(dir_);
        ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
        ASSERT_EQ(::chmod(dir_.c_str(), mode), 0);
        Error e = errorOf([&] { Listener listener(dir_, "backrest.sock"); });
        EXPECT_EQ(e.code(), ErrorCode::FileOpen) << std::oct << mode;
        EXPECT_TRUE(has(e.what(), "0700")) << e.what();
        EXPECT_TRUE(has(e.what(), fmt::format("{:04o}", mode))) << e.what();
        EXPECT_TRUE(has(e.what(), dir_)) << e.what();
        EXPECT_FALSE(fs::exists(fs::symlink_status(path_)))
            << "a socket was created in a " << std::oct << mode << " directory";
        struct stat st {};
        ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 07777, mode) << "the refused directory was changed";
    }
}

TEST_F(ProtocolConnection, ListenerRefusesDirectoryOfAnotherUser) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the directory away";
    ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
    ASSERT_EQ(::chown(dir_.c_str(), 65534, 65534), 0);
    Error e = errorOf([&] { Listener listener(dir_, "backrest.sock"); });
    EXPECT_EQ(e.code(), ErrorCode::FileOpen);
    EXPECT_TRUE(has(e.what(), "owner 65534")) << e.what();
    EXPECT_FALSE(fs::exists(fs::symlink_status(path_)));
}

TEST_F(ProtocolConnection, ListenerRefusesSymlinkAndFile) {
    std::string real = root_ + "/real";
    ASSERT_EQ(::mkdir(real.c_str(), 0700), 0);
    ASSERT_EQ(::symlink(real.c_str(), dir_.c_str()), 0);
    EXPECT_EQ(errorOf([&] { Listener listener(dir_, "backrest.sock"); }).code(),
              ErrorCode::FileOpen);
    EXPECT_FALSE(fs::exists(real + "/backrest.sock"));

    std::string file = root_ + "/file";
    {
        std::FILE* f = std::fopen(file.c_str(), "w");
        ASSERT_NE(f, nullptr);
        std::fclose(f);
    }
    EXPECT_EQ(errorOf([&] { Listener listener(file, "backrest.sock"); }).code(),
              ErrorCode::FileOpen);
}

TEST_F(ProtocolConnection, ListenerReplacesStaleSocket) {
    ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
    makeStaleSocket(path_);
    Error refused = errorOf([&] { Connection::connectUnix(path_); });  // nobody behind it
    EXPECT_EQ(refused.code(), ErrorCode::Protocol);
    EXPECT_TRUE(has(refused.what(), path_)) << refused.what();

    Listener listener(dir_, "backrest.sock");
    auto server = serveOne(listener, [](Connection& c) { answerHello(c); });
    Client client(path_, "unit-client", 5000);  // the new listener answers
}

TEST_F(ProtocolConnection, ListenerAcceptTimesOut) {
    Listener listener(dir_, "backrest.sock");
    auto start = Clock::now();
    EXPECT_FALSE(listener.accept(150).has_value());
    EXPECT_GE(msSince(start), 140);
    EXPECT_LT(msSince(start), 5000);
}

TEST_F(ProtocolConnection, SocketPathTooLongIsProtocolError) {
    std::string longName(120, 'n');
    Error e = errorOf([&] { Listener listener(dir_, longName); });
    EXPECT_EQ(e.code(), ErrorCode::Protocol);
    EXPECT_TRUE(has(e.what(), "longer than")) << e.what();
    Error c = errorOf([&] { Connection::connectUnix(dir_ + "/" + longName); });
    EXPECT_EQ(c.code(), ErrorCode::Protocol);
}

// --- client and server -----------------------------------------------------------------------

TEST_F(ProtocolConnection, HelloThenCallsByIdAndErrorReplies) {
    Listener listener(dir_, "backrest.sock");
    auto server = serveOne(listener, [](Connection& c) {
        answerHello(c);
        auto r1 = c.receive(5000);
        ASSERT_TRUE(r1.has_value());
        EXPECT_EQ(r1->value("type", ""), "archive-status");
        EXPECT_EQ(r1->value("id", 0), 1);
        EXPECT_EQ(r1->value("x", 0), 5);
        c.send(okReply(99, {{"stale", true}}));   // a reply to some other request: skipped
        c.send({{"ok", true}, {"stale", true}});  // no id at all: skipped
        c.send(okReply(1, {{"pending", 3}}));

        auto r2 = c.receive(5000);
        ASSERT_TRUE(r2.has_value());
        EXPECT_EQ(r2->value("type", ""), "info");
        EXPECT_EQ(r2->value("id", 0), 2);
        c.send(errorReply(1, 24, "late error for request 1"));  // not for this call: skipped
        c.send(errorReply(2, static_cast<int>(ErrorCode::Lock), "stanza 'main' is locked"));

        EXPECT_FALSE(c.receive(5000).has_value());  // the client hung up cleanly
    });

    {
        Client client(path_, "unit-client", 5000);
        Message reply = client.call("archive-status", {{"x", 5}}, 5000);
        EXPECT_EQ(reply.value("id", 0), 1);
        EXPECT_EQ(reply.value("ok", false), true);
        EXPECT_EQ(reply.value("pending", 0), 3);
        EXPECT_FALSE(reply.contains("stale")) << reply.dump();

        Error e = errorOf([&] { client.call("info", Message::object(), 5000); });
        EXPECT_EQ(e.code(), ErrorCode::Lock);
        EXPECT_STREQ(e.what(), "stanza 'main' is locked");
    }
}

TEST_F(ProtocolConnection, ProgressMessagesAreNotTheFinalReply) {
    // doc/protocol.md: a long request may first send interim messages with the same id and a
    // "progress" field; the final reply has "ok" or "error".
    Listener listener(dir_, "backrest.sock");
    auto server = serveOne(listener, [](Connection& c) {
        answerHello(c);
        auto r = c.receive(5000);
        ASSERT_TRUE(r.has_value());
        try {  // a client that stops at the first message may hang up before the last one
            c.send({{"id", 1}, {"progress", {{"bytes-total", 100}, {"bytes-done", 10}}}});
            c.send({{"id", 1}, {"progress", {{"bytes-total", 100}, {"bytes-done", 90}}}});
            c.send(errorReply(1, static_cast<int>(ErrorCode::Checksum), "file 'base/1/2' changed"));
            c.receive(5000);
        } catch (const Error&) {
        }
    });
    Client client(path_, "unit-client", 5000);
    try {
        Message reply = client.call("backup-copy", Message::object(), 5000);
        if (reply.contains("progress"))
            ADD_FAILURE()
                << "Client::call (src/protocol/connection.cpp:159-165) returns the first message "
                   "with its id, an interim progress message ("
                << reply.dump()
                << "), instead of the final reply; the final error reply of the request is lost";
        ADD_FAILURE() << "the error reply was not raised: " << reply.dump();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Checksum);
        EXPECT_STREQ(e.what(), "file 'base/1/2' changed");
    }
}

TEST_F(ProtocolConnection, MalformedReplyIsProtocolError) {
    // A reply whose id or error has the wrong JSON type comes from a broken peer: the client
    // should raise a ProtocolError, not leak a JSON library exception.
    Listener listener(dir_, "backrest.sock");
    auto server = serveOne(listener, [](Connection& c) {
        answerHello(c);
        c.receive(5000);
        c.send({{"id", "1"}, {"ok", true}});
        c.receive(5000);
    });
    Client client(path_, "unit-client", 5000);
    try {
        client.call("info", Message::object(), 2000);
        ADD_FAILURE() << "a reply with a string id was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Protocol) << e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE()
            << "Client::call (src/protocol/connection.cpp:159, reply->value(\"id\", uint64_t{0})) "
               "lets nlohmann's exception escape for the reply {\"id\":\"1\",\"ok\":true}: "
            << e.what();
    }
}

TEST_F(ProtocolConnection, HelloRefusedIsProtocolError) {
    Listener listener(dir_, "backrest.sock");
    auto server = serveOne(listener, [](Connection& c) {
        c.receive(5000);
        c.send(errorReply(0, 38, "expected hello with protocol version 1"));
    });
    Error e = errorOf([&] { Client client(path_, "unit-client", 5000); });
    EXPECT_EQ(e.code(), ErrorCode::Protocol);
    EXPECT_TRUE(has(e.what(), "refused hello")) << e.what();
    EXPECT_TRUE(has(e.what(), "expected hello with protocol version 1")) << e.what();
    EXPECT_TRUE(has(e.what(), path_)) << e.what();
}

TEST_F(ProtocolConnection, HelloWithOtherVersionIsProtocolError) {
    Listener listener(dir_, "backrest.sock");
    auto server = serveOne(listener, [](Connection& c) {
        c.receive(5000);
        c.send({{"ok", true}, {"version", 2}, {"server", "future"}});
    });
    Error e = errorOf([&] { Client client(path_, "unit-client", 5000); });
    EXPECT_EQ(e.code(), ErrorCode::Protocol);
    EXPECT_TRUE(has(e.what(), "speaks protocol 2")) << e.what();
}

TEST_F(ProtocolConnection, HelloWithVersionWrappingTo1IsProtocolError) {
    // 2^32 + 1 is not protocol version 1, even when read into 32 bits.
    Listener listener(dir_, "backrest.sock");
    auto server = serveOne(listener, [](Connection& c) {
        c.receive(5000);
        c.send({{"ok", true}, {"version", 4294967297ULL}, {"server", "future"}});
        c.receive(5000);
    });
    try {
        Client client(path_, "unit-client", 5000);
        ADD_FAILURE()
            << "Client::Client (src/protocol/connection.cpp:146, reply->value(\"version\", 0u)) "
               "truncates the server's version 4294967297 to 1 and accepts it";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Protocol);
        EXPECT_TRUE(has(e.what(), "4294967297")) << e.what();
    }
}

TEST_F(ProtocolConnection, ServerClosingDuringHelloIsProtocolError) {
    Listener listener(dir_, "backrest.sock");
    auto server =
        serveOne(listener, [](Connection& c) { c.receive(5000); });  // reads hello, hangs up
    Error e = errorOf([&] { Client client(path_, "unit-client", 5000); });
    EXPECT_EQ(e.code(), ErrorCode::Protocol);
    EXPECT_TRUE(has(e.what(), "closed the connection during hello")) << e.what();
}

TEST_F(ProtocolConnection, ServerClosingDuringCallIsProtocolError) {
    Listener listener(dir_, "backrest.sock");
    auto server = serveOne(listener, [](Connection& c) {
        answerHello(c);
        c.receive(5000);  // the request, then hang up without a reply
    });
    Client client(path_, "unit-client", 5000);
    Error e = errorOf([&] { client.call("info", Message::object(), 5000); });
    EXPECT_EQ(e.code(), ErrorCode::Protocol);
    EXPECT_TRUE(has(e.what(), "closed the connection during 'info'")) << e.what();
}

TEST_F(ProtocolConnection, PeerClosingMidFrameIsProtocolError) {
    // Cut inside the payload, and cut inside the length prefix.
    for (std::string cut : {prefix(100) + "{\"id\":", std::string("\x00\x00", 2)}) {
        fs::remove_all(dir_);
        Listener listener(dir_, "backrest.sock");
        auto server = serveOne(listener, [&](Connection& c) { sendRaw(c.fd(), cut); });
        Connection client = Connection::connectUnix(path_);
        Error e = errorOf([&] { client.receive(5000); });
        EXPECT_EQ(e.code(), ErrorCode::Protocol);
        EXPECT_TRUE(has(e.what(), "middle of a frame")) << e.what();
    }
}

TEST_F(ProtocolConnection, PeerClosingBetweenFramesIsCleanEnd) {
    Listener listener(dir_, "backrest.sock");
    auto server = serveOne(listener, [](Connection& c) {
        c.send({{"id", 1}, {"ok", true}});
        c.send({{"id", 2}, {"ok", true}});
    });
    Connection client = Connection::connectUnix(path_);
    auto a = client.receive(5000);
    auto b = client.receive(5000);
    ASSERT_TRUE(a.has_value());
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(a->value("id", 0), 1);
    EXPECT_EQ(b->value("id", 0), 2);
    EXPECT_FALSE(client.receive(5000).has_value());
}

TEST_F(ProtocolConnection, ReceiveTimeoutIsProtocolError) {
    Listener listener(dir_, "backrest.sock");
    std::promise<void> done;
    auto finished = done.get_future();
    auto server =
        serveOne(listener, [&](Connection&) { finished.wait_for(std::chrono::seconds(10)); });
    {
        Connection client = Connection::connectUnix(path_);
        auto start = Clock::now();
        Error e = errorOf([&] { client.receive(150); });
        long took = msSince(start);
        EXPECT_EQ(e.code(), ErrorCode::Protocol);
        EXPECT_TRUE(has(e.what(), "no reply within 150 ms")) << e.what();
        EXPECT_GE(took, 140);
        EXPECT_LT(took, 5000);

        // A client whose hello is never answered gives up after its timeout too.
        start = Clock::now();
        std::jthread second =
            serveOne(listener, [&](Connection&) { finished.wait_for(std::chrono::seconds(10)); });
        Error h = errorOf([&] { Client c(path_, "unit-client", 200); });
        EXPECT_EQ(h.code(), ErrorCode::Protocol);
        EXPECT_TRUE(has(h.what(), "no reply within 200 ms")) << h.what();
        EXPECT_LT(msSince(start), 5000);
        done.set_value();
    }
}

TEST_F(ProtocolConnection, SendTimeoutIsProtocolError) {
    // A peer that never reads: the socket buffer fills and send gives up after its timeout.
    Listener listener(dir_, "backrest.sock");
    std::promise<void> done;
    auto finished = done.get_future();
    auto server =
        serveOne(listener, [&](Connection&) { finished.wait_for(std::chrono::seconds(10)); });
    Connection client = Connection::connectUnix(path_);
    Message big = {{"s", std::string(kMaxFrameSize - 100, 'b')}};
    auto start = Clock::now();
    Error e = errorOf([&] {
        for (int i = 0; i < 64; i++) client.send(big, 200);
    });
    EXPECT_EQ(e.code(), ErrorCode::Protocol);
    EXPECT_TRUE(has(e.what(), "timed out after 200 ms")) << e.what();
    EXPECT_LT(msSince(start), 10000);
    done.set_value();
}

TEST_F(ProtocolConnection, PeerUidIsOurs) {
    Listener listener(dir_, "backrest.sock");
    uid_t serverSaw = 12345;
    {
        auto server = serveOne(listener, [&](Connection& c) { serverSaw = c.peerUid(); });
        Connection client = Connection::connectUnix(path_);
        EXPECT_EQ(client.peerUid(), ::geteuid());
    }
    EXPECT_EQ(serverSaw, ::geteuid());
}

TEST_F(ProtocolConnection, OversizedFrameFromClientIsProtocolErrorOnServer) {
    Listener listener(dir_, "backrest.sock");
    std::string serverError;
    ErrorCode serverCode = ErrorCode::Assert;
    {
        auto server = std::jthread([&] {
            auto c = listener.accept(5000);
            ASSERT_TRUE(c.has_value());
            try {
                c->receive(5000);
            } catch (const Error& e) {
                serverCode = e.code();
                serverError = e.what();
            }
        });
        Connection client = Connection::connectUnix(path_);
        sendRaw(client.fd(), prefix(0x7FFFFFFF) + "{}");
    }
    EXPECT_EQ(serverCode, ErrorCode::Protocol);
    EXPECT_TRUE(has(serverError, "exceeds")) << serverError;
}

TEST_F(ProtocolConnection, ConnectWhereNobodyListensNamesThePath) {
    std::string nowhere = root_ + "/nobody-here.sock";
    Error e = errorOf([&] { Connection::connectUnix(nowhere); });
    EXPECT_EQ(e.code(), ErrorCode::Protocol);
    EXPECT_TRUE(has(e.what(), "'" + nowhere + "'")) << e.what();

    Error c = errorOf([&] { Client client(nowhere, "unit-client", 1000); });
    EXPECT_EQ(c.code(), ErrorCode::Protocol);
    EXPECT_TRUE(has(c.what(), nowhere)) << c.what();
}

TEST(ProtocolReplies, OkAndErrorReplyShapes) {
    EXPECT_EQ(okReply(5, {{"pending", 2}}), (Message{{"id", 5}, {"ok", true}, {"pending", 2}}));
    EXPECT_EQ(okReply(6), (Message{{"id", 6}, {"ok", true}}));
    EXPECT_EQ(errorReply(3, 38, "bad frame"),
              (Message{{"id", 3}, {"error", {{"code", 38}, {"message", "bad frame"}}}}));
}

}  // namespace
}  // namespace backrest::protocol
