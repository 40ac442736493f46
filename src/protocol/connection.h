// A protocol connection over a Unix socket: blocking send/receive of messages with timeouts,
// the listener that creates the socket safely (0700 directory, 0600 socket, peer uid check),
// and the client side with the versioned hello and request ids.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "protocol/frame.h"

namespace backrest::protocol {

class Connection {
  public:
    explicit Connection(int fd) : fd_(fd) {}
    ~Connection();
    Connection(Connection&& other) noexcept : fd_(other.fd_), decoder_(std::move(other.decoder_)) {
        other.fd_ = -1;
    }
    Connection& operator=(Connection&&) = delete;
    Connection(const Connection&) = delete;

    // Connects to the socket at `path`; ProtocolError naming the path when nobody listens.
    static Connection connectUnix(const std::string& path);

    void send(const Message& message, int timeoutMs = 30000);
    // The next message; nullopt on a clean end of stream (between frames). ProtocolError on a
    // malformed frame, a stream cut inside a frame, or no message within timeoutMs (-1: wait).
    std::optional<Message> receive(int timeoutMs = -1);

    uid_t peerUid() const;  // SO_PEERCRED
    int fd() const { return fd_; }

  private:
    int fd_;
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
    Client(const std::string& socketPath, const std::string& clientName, int timeoutMs = 30000);
    // Sends {"type": type, "id": n, ...fields} and waits for the final reply with that id
    // ("ok" or "error"); interim {"progress": …} messages go to onProgress when given. An error
    // reply {"error": {"code": c, "message": m}} is raised as backrest::Error with that code; a
    // reply of the wrong shape is a ProtocolError.
    Message call(const std::string& type, Message fields = Message::object(), int timeoutMs = 30000,
                 const std::function<void(const Message&)>& onProgress = {});

  private:
    Connection connection_;
    uint64_t nextId_ = 1;
};

// True when `message` carries the protocol version this build speaks (an unsigned integer equal
// to kVersion, not merely one that truncates to it).
bool hasOurVersion(const Message& message);

// Replies built by the server.
Message okReply(uint64_t id, Message fields = Message::object());
Message errorReply(uint64_t id, int code, const std::string& message);

}  // namespace backrest::protocol
