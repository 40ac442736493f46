// A session with the worker daemon (`backrest serve`) over its Unix socket: connect with retry,
// hello, requests with progress messages, and a poll hook that can interrupt any wait; and the
// launcher's one-shot probe of whoever listens on the socket.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "protocol/connection.h"
#include "protocol/frame.h"

namespace backrest::ext {

using protocol::Message;

// What a hello on the daemon's socket found.
struct DaemonProbe {
    enum class Result {
        Answered,      // a daemon of our protocol version answered
        NotListening,  // nobody listens: no socket, or one left by a daemon that died
        NoAnswer,      // something listens but gave no good hello in time (stuck, dying...)
    };
    Result result;
    pid_t pid = 0;       // the daemon's own pid from its hello; 0 when it did not say
    std::string detail;  // why not, when not Answered
};

// Connects to socketPath() and says hello, waiting up to timeoutMs for each step; no retry.
DaemonProbe probeDaemon(int timeoutMs);

class DaemonSession {
  public:
    // Called at least every kPollIntervalMs while waiting; throws to abandon the wait.
    using Poll = std::function<void()>;
    using Progress = std::function<void(const Message& progress)>;
    static constexpr int kPollIntervalMs = 200;

    // Connects to socketPath() as `clientName`, retrying for up to connectWaitMs while the
    // daemon is (re)starting. backrest::Error naming the socket and the launcher's view of the
    // daemon when it cannot.
    DaemonSession(const char* clientName, Poll poll, int connectWaitMs = 10000);

    // Sends {"type": type, "id": n, ...fields} and returns the final reply. Interim messages
    // carrying "progress" go to onProgress. An error reply is raised as backrest::Error with
    // its code; `idleTimeoutMs` (-1: none) bounds the wait for each message.
    Message call(const std::string& type, Message fields, int idleTimeoutMs,
                 const Progress& onProgress = {});

    // Hangs up. A backup begun on this connection is abandoned by the daemon.
    void close() { connection_.reset(); }

  private:
    void connect(int connectWaitMs);
    // The next message, polling every kPollIntervalMs; Protocol error on timeout or hang-up.
    Message receive(int idleTimeoutMs, const std::string& during);

    std::string socketPath_;
    std::string clientName_;
    Poll poll_;
    std::optional<protocol::Connection> connection_;
    protocol::FrameDecoder decoder_;
    uint64_t nextId_ = 1;
};

}  // namespace backrest::ext
