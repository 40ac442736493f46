// The extension's side of doc/protocol.md. Frames are read here (FrameDecoder over the socket),
// not by protocol::Client, so waits answer query cancels and backups see progress messages.
#include "daemon_client.h"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "common/error.h"
#include "settings.h"
#include "shared_state.h"

namespace backrest::ext {

namespace {

using Clock = std::chrono::steady_clock;

// Why the socket may not answer, as the launcher last saw the daemon.
std::string describeLauncher() {
    LauncherStatus launcher = launcherStatus();
    switch (launcher.state) {
        case DaemonState::NotStarted:
            return "the backrest launcher has not started the daemon";
        case DaemonState::Running:
            return fmt::format(
                "the daemon (pid {}) is not accepting connections; see the server log",
                launcher.daemonPid);
        case DaemonState::Restarting: {
            long seconds = (launcher.nextStart - GetCurrentTimestamp()) / USECS_PER_SEC;
            return fmt::format(
                "the daemon exited ({}) and the launcher restarts it in {} s; see the server log",
                launcher.lastExit, seconds > 0 ? seconds : 0);
        }
        case DaemonState::Disabled:
            return "the launcher does not start the daemon while backrest.stanza is empty";
        case DaemonState::Stopped:
            return "the backrest launcher has exited (server shutdown, or it was terminated and "
                   "restarts shortly)";
    }
    return "unknown daemon state";
}

// Not worth waiting for: the daemon will not appear within a request's patience. A launcher
// still "disabled" while this process already sees a stanza has just not reloaded yet.
bool daemonWillNotAppear() {
    DaemonState state = launcherStatus().state;
    bool haveStanza = settings.stanza != nullptr && settings.stanza[0] != '\0';
    return state == DaemonState::Stopped || (state == DaemonState::Disabled && !haveStanza);
}

}  // namespace

DaemonProbe probeDaemon(int timeoutMs) {
    std::string path = socketPath();
    std::optional<protocol::Connection> connection;
    try {
        connection.emplace(protocol::Connection::connectUnix(path));
    } catch (const Error& e) {
        return {DaemonProbe::Result::NotListening, 0, e.what()};
    }
    try {
        connection->send(
            {{"type", "hello"}, {"version", protocol::kVersion}, {"client", "launcher"}},
            timeoutMs);
        std::optional<Message> reply = connection->receive(timeoutMs);
        if (!reply)
            return {DaemonProbe::Result::NoAnswer, 0, "the connection was closed during hello"};
        if (reply->contains("error") || !protocol::hasOurVersion(*reply))
            return {DaemonProbe::Result::NoAnswer, 0,
                    fmt::format("unexpected hello reply {}", reply->dump().substr(0, 200))};
        auto pid = reply->find("pid");
        bool hasPid = pid != reply->end() && pid->is_number_integer() && pid->get<int64_t>() > 0;
        return {DaemonProbe::Result::Answered,
                hasPid ? static_cast<pid_t>(pid->get<int64_t>()) : 0,
                {}};
    } catch (const std::exception& e) {
        return {DaemonProbe::Result::NoAnswer, 0, e.what()};
    }
}

DaemonSession::DaemonSession(const char* clientName, Poll poll, int connectWaitMs)
    : socketPath_(socketPath()), clientName_(clientName), poll_(std::move(poll)) {
    connect(connectWaitMs);
}

void DaemonSession::connect(int connectWaitMs) {
    auto deadline = Clock::now() + std::chrono::milliseconds(connectWaitMs);
    for (;;) {
        try {
            connection_.emplace(protocol::Connection::connectUnix(socketPath_));
            break;
        } catch (const Error& e) {
            // The launcher may have just (re)started the daemon: its socket appears shortly.
            if (daemonWillNotAppear() || Clock::now() >= deadline)
                raise(ErrorCode::Protocol, "{} ({})", e.what(), describeLauncher());
        }
        if (poll_) poll_();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    connection_->send({{"type", "hello"}, {"version", protocol::kVersion}, {"client", clientName_}},
                      10000);
    Message reply = receive(10000, "hello");
    if (reply.contains("error"))
        raise(ErrorCode::Protocol, "the backrest daemon at '{}' refused hello: {}", socketPath_,
              reply["error"].value("message", std::string("?")));
    if (reply.value("version", 0u) != protocol::kVersion)
        raise(ErrorCode::Protocol,
              "the backrest daemon at '{}' speaks protocol {}, this extension {}; install "
              "matching versions of the extension and the backrest binary",
              socketPath_, reply.value("version", 0u), protocol::kVersion);
}

Message DaemonSession::call(const std::string& type, Message fields, int idleTimeoutMs,
                            const Progress& onProgress) {
    if (!connection_)
        raise(ErrorCode::Protocol, "'{}': the connection to the backrest daemon was closed", type);
    uint64_t id = nextId_++;
    fields["type"] = type;
    fields["id"] = id;
    connection_->send(fields, 30000);
    for (;;) {
        Message message = receive(idleTimeoutMs, type);
        uint64_t replyId = message.value("id", uint64_t{0});
        if (replyId != id && !(replyId == 0 && message.contains("error")))
            continue;  // reply to an abandoned call
        if (message.contains("progress")) {
            if (onProgress) onProgress(message["progress"]);
            continue;
        }
        if (message.contains("error")) {
            const Message& e = message["error"];
            throw Error(
                static_cast<ErrorCode>(e.value("code", static_cast<int>(ErrorCode::Protocol))),
                e.value("message", std::string("unknown error from the backrest daemon")));
        }
        return message;
    }
}

Message DaemonSession::receive(int idleTimeoutMs, const std::string& during) {
    auto idleSince = Clock::now();
    char buffer[16384];
    for (;;) {
        if (auto message = decoder_.next()) return std::move(*message);
        if (poll_) poll_();
        int waitMs = kPollIntervalMs;
        if (idleTimeoutMs >= 0) {
            auto idle =
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - idleSince)
                    .count();
            if (idle >= idleTimeoutMs)
                raise(ErrorCode::Protocol, "the backrest daemon did not answer '{}' within {} ms",
                      during, idleTimeoutMs);
            waitMs = std::min<int>(waitMs, static_cast<int>(idleTimeoutMs - idle));
        }
        pollfd p{connection_->fd(), POLLIN, 0};
        int ready = ::poll(&p, 1, waitMs);
        if (ready < 0 && errno != EINTR)
            raiseErrno(ErrorCode::Protocol, "poll failed on", socketPath_);
        if (ready <= 0) continue;
        ssize_t n = ::recv(connection_->fd(), buffer, sizeof buffer, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            raiseErrno(ErrorCode::Protocol, "unable to read from", socketPath_);
        }
        if (n == 0) {
            bool midFrame = decoder_.midFrame();
            connection_.reset();
            raise(ErrorCode::Protocol,
                  "the backrest daemon closed the connection during '{}'{}; see the server log",
                  during, midFrame ? " in the middle of a message" : "");
        }
        decoder_.feed({buffer, static_cast<size_t>(n)});
        idleSince = Clock::now();
    }
}

}  // namespace backrest::ext
