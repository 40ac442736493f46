// The extension's side of doc/protocol.md: protocol::Client waiting on the process latch.
#include "daemon_client.h"

#include <fmt/format.h>

#include <chrono>

#include "common/error.h"
#include "pg_guard.h"
#include "settings.h"
#include "shared_state.h"

namespace backrest::ext {

namespace {

using Clock = std::chrono::steady_clock;

// Between connection attempts while the daemon's socket is not there yet.
constexpr int kConnectRetryMs = 100;
// Each step of the hello.
constexpr int kHelloTimeoutMs = 10000;

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
    // Nothing to check between wakes: the launcher sees its own flags after the probe.
    LatchWait wait(nullptr);
    std::optional<protocol::Connection> connection;
    try {
        connection.emplace(protocol::Connection::connectUnix(path, wait));
    } catch (const Error& e) {
        return {DaemonProbe::Result::NotListening, 0, e.what()};
    }
    try {
        protocol::Client client(std::move(*connection), path, "launcher", timeoutMs);
        return {DaemonProbe::Result::Answered, static_cast<pid_t>(client.server().pid), {}};
    } catch (const PgError&) {
        throw;  // PostgreSQL's own error (out of memory...), not the daemon's answer
    } catch (const std::exception& e) {
        return {DaemonProbe::Result::NoAnswer, 0, e.what()};
    }
}

DaemonSession::DaemonSession(const char* clientName, Check check, int connectWaitMs)
    : wait_(std::make_unique<LatchWait>(std::move(check))) {
    std::string path = socketPath();
    auto deadline = Clock::now() + std::chrono::milliseconds(connectWaitMs);
    std::optional<protocol::Connection> connection;
    while (!connection) {
        try {
            connection.emplace(protocol::Connection::connectUnix(path, *wait_));
        } catch (const Error& e) {
            // The launcher may have just (re)started the daemon: its socket appears shortly.
            if (daemonWillNotAppear() || Clock::now() >= deadline)
                raise(ErrorCode::Protocol, "{} ({})", e.what(), describeLauncher());
            wait_->sleep(kConnectRetryMs);
        }
    }
    client_.emplace(std::move(*connection), path, clientName, kHelloTimeoutMs);
}

protocol::Client& DaemonSession::client() {
    if (!client_) raise(ErrorCode::Protocol, "the connection to the backrest daemon was closed");
    return *client_;
}

}  // namespace backrest::ext
