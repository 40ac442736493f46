// A session with the worker daemon (`backrest serve`) over its Unix socket: connect with retry,
// hello, requests with progress messages, and a poll hook that can interrupt any wait.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "protocol/connection.h"
#include "protocol/frame.h"

namespace backrest::ext {

using protocol::Message;

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
