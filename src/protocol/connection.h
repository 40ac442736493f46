// A protocol connection over a Unix socket: blocking send/receive of messages with timeouts,
// the listener that creates the socket safely (0700 directory, 0600 socket, peer uid check),
// and the client side with the versioned hello and request ids.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "protocol/frame.h"
#include "protocol/messages.h"

namespace backrest::protocol {

// How a connection waits for its socket. The default blocks in poll(); a PostgreSQL process
// waits on its latch as well (extension/latch_wait.h), so a cancel is seen at once and
// pg_stat_activity names the wait.
class SocketWait {
  public:
    virtual ~SocketWait() = default;
    // True once `fd` is ready for `events` (POLLIN or POLLOUT), false when timeoutMs (-1: no
    // limit) passed first. May throw to abandon the wait.
    virtual bool ready(int fd, short events, int timeoutMs) = 0;
};

// poll(2), retried on EINTR.
SocketWait& pollWait();

class Connection {
  public:
    explicit Connection(int fd, SocketWait& wait = pollWait()) : fd_(fd), wait_(&wait) {}
    ~Connection();
    Connection(Connection&& other) noexcept
        : fd_(other.fd_), wait_(other.wait_), decoder_(std::move(other.decoder_)) {
        other.fd_ = -1;
    }
    Connection& operator=(Connection&&) = delete;
    Connection(const Connection&) = delete;

    // Connects to the socket at `path`; ProtocolError naming the path when nobody listens.
    static Connection connectUnix(const std::string& path, SocketWait& wait = pollWait());

    void send(const Message& message, int timeoutMs = 30000);
    // The next message; nullopt on a clean end of stream (between frames). ProtocolError on a
    // malformed frame, a stream cut inside a frame, or no message within timeoutMs (-1: wait);
    // `during` names the request waited for in that last one.
    std::optional<Message> receive(int timeoutMs = -1, const std::string& during = {});

    uid_t peerUid() const;  // SO_PEERCRED
    int fd() const { return fd_; }

  private:
    int fd_;
    SocketWait* wait_;
    FrameDecoder decoder_;
};

class Listener {
  public:
    // Creates `directory` (0700) if missing and refuses one that is not ours or is open to
    // others; replaces a stale socket; binds `directory/name` with mode 0600.
    Listener(const std::string& directory, const std::string& name);
    ~Listener();
    Listener(const Listener&) = delete;
    Listener& operator=(const Listener&) = delete;

    // Waits up to timeoutMs for a client; nullopt on timeout.
    std::optional<Connection> accept(int timeoutMs);
    const std::string& path() const { return path_; }
    int fd() const { return fd_; }

  private:
    int fd_ = -1;
    std::string path_;
};

// The client side: connect, hello (protocol version check), then request/reply by id.
class Client {
  public:
    using Progress = std::function<void(const Message& progress)>;

    Client(const std::string& socketPath, const std::string& clientName, int timeoutMs = 30000);
    // Says hello on a connection already made to the daemon at `socketPath` (named in errors).
    Client(Connection connection, const std::string& socketPath, const std::string& clientName,
           int timeoutMs = 30000);

    // Sends {"type": type, "id": n, ...fields} and waits for the final reply with that id
    // ("ok" or "error"); interim {"progress": …} messages go to onProgress when given. An error
    // reply {"error": {"code": c, "message": m}} is raised as backrest::Error with that code (a
    // code outside error.h's range as a ProtocolError); a reply of the wrong shape, or neither
    // ok nor an error, is a ProtocolError. timeoutMs bounds the wait for each message.
    Message call(const std::string& type, Message fields = Message::object(), int timeoutMs = 30000,
                 const Progress& onProgress = {});

    // The typed form: a request struct of messages.h, its reply decoded.
    template <typename Request>
    typename Request::Reply call(const Request& request, int timeoutMs = 30000,
                                 const Progress& onProgress = {}) {
        return Request::Reply::fromMessage(
            call(Request::kType, request.toMessage(), timeoutMs, onProgress));
    }

    // What the daemon said in its hello.
    const HelloReply& server() const { return server_; }

  private:
    Connection connection_;
    HelloReply server_;
    uint64_t nextId_ = 1;
};

// True when `message` carries the protocol version this build speaks (an unsigned integer equal
// to kVersion, not merely one that truncates to it).
bool hasOurVersion(const Message& message);

// Replies built by the server.
Message okReply(uint64_t id, Message fields = Message::object());
Message errorReply(uint64_t id, int code, const std::string& message);

}  // namespace backrest::protocol
