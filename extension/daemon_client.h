// A session with the worker daemon (`backrest serve`) over its Unix socket: protocol::Client
// with connect retry while the daemon (re)starts, every wait on the process latch (LatchWait),
// typed requests of src/protocol/messages.h; and the launcher's one-shot probe of whoever
// listens on the socket.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "latch_wait.h"
#include "protocol/connection.h"
#include "protocol/messages.h"

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
    // Runs before every wait and after every wake of this process's latch; throws to abandon
    // the wait (a cancel flag, CHECK_FOR_INTERRUPTS).
    using Check = std::function<void()>;

    // Connects to socketPath() as `clientName`, retrying for up to connectWaitMs while the
    // daemon is (re)starting. backrest::Error naming the socket and the launcher's view of the
    // daemon when it cannot.
    DaemonSession(const char* clientName, Check check, int connectWaitMs = 10000);

    // Sends the request and returns its reply. Interim progress messages go to onProgress. An
    // error reply is raised as backrest::Error with its code; `idleTimeoutMs` (-1: none)
    // bounds the wait for each message.
    template <typename Request>
    typename Request::Reply call(const Request& request, int idleTimeoutMs,
                                 const protocol::Client::Progress& onProgress = {}) {
        return client().call(request, idleTimeoutMs, onProgress);
    }

    // Hangs up. A backup begun on this connection is abandoned by the daemon.
    void close() { client_.reset(); }

  private:
    protocol::Client& client();

    // Heap-held: the client's connection keeps a reference to it.
    std::unique_ptr<LatchWait> wait_;
    std::optional<protocol::Client> client_;
};

}  // namespace backrest::ext
