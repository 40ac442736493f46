// Unix socket connections, listener and client for the framed protocol.
#include "protocol/connection.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "common/error.h"

namespace backrest::protocol {

namespace {

sockaddr_un socketAddress(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        raise(ErrorCode::Protocol,
              "socket path '{}' is longer than the {} bytes a Unix socket allows", path,
              sizeof addr.sun_path - 1);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}

// Waits for `events` on fd; false on timeout.
bool pollFor(int fd, short events, int timeoutMs) {
    pollfd p{fd, events, 0};
    for (;;) {
        int r = ::poll(&p, 1, timeoutMs);
        if (r > 0) return true;
        if (r == 0) return false;
        if (errno != EINTR)
            raiseErrno(ErrorCode::Protocol, "poll failed on socket", std::to_string(fd));
    }
}

class PollWait final : public SocketWait {
  public:
    bool ready(int fd, short events, int timeoutMs) override {
        return pollFor(fd, events, timeoutMs);
    }
};

}  // namespace

SocketWait& pollWait() {
    static PollWait wait;
    return wait;
}

Connection::~Connection() {
    if (fd_ >= 0) ::close(fd_);
}

Connection Connection::connectUnix(const std::string& path, SocketWait& wait) {
    sockaddr_un addr = socketAddress(path);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) raiseErrno(ErrorCode::Protocol, "unable to create a socket for", path);
    Connection c(fd, wait);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        raiseErrno(ErrorCode::Protocol, "unable to connect to the backrest daemon at", path);
    return c;
}

void Connection::send(const Message& message, int timeoutMs) {
    std::string frame = encodeFrame(message);
    size_t off = 0;
    while (off < frame.size()) {
        if (!wait_->ready(fd_, POLLOUT, timeoutMs))
            raise(ErrorCode::Protocol, "timed out after {} ms sending a message", timeoutMs);
        ssize_t n =
            ::send(fd_, frame.data() + off, frame.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            raiseErrno(ErrorCode::Protocol, "unable to send on socket", std::to_string(fd_));
        }
        off += static_cast<size_t>(n);
    }
}

std::optional<Message> Connection::receive(int timeoutMs, const std::string& during) {
    char buf[65536];
    for (;;) {
        if (auto message = decoder_.next()) return message;
        if (!wait_->ready(fd_, POLLIN, timeoutMs)) {
            if (during.empty()) raise(ErrorCode::Protocol, "no reply within {} ms", timeoutMs);
            raise(ErrorCode::Protocol, "the backrest daemon did not answer '{}' within {} ms",
                  during, timeoutMs);
        }
        ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            raiseErrno(ErrorCode::Protocol, "unable to receive on socket", std::to_string(fd_));
        }
        if (n == 0) {
            if (decoder_.midFrame())
                raise(ErrorCode::Protocol, "connection closed in the middle of a frame");
            return std::nullopt;
        }
        decoder_.feed({buf, static_cast<size_t>(n)});
    }
}

uid_t Connection::peerUid() const {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd_, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        raiseErrno(ErrorCode::Protocol, "unable to read peer credentials of socket",
                   std::to_string(fd_));
    return cred.uid;
}

Listener::Listener(const std::string& directory, const std::string& name)
    : path_(directory + "/" + name) {
    if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST)
        raiseErrno(ErrorCode::FileOpen, "unable to create socket directory", directory);
    struct stat st {};
    if (::lstat(directory.c_str(), &st) != 0)
        raiseErrno(ErrorCode::FileOpen, "unable to stat", directory);
    if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0)
        raise(ErrorCode::FileOpen,
              "socket directory '{}' must be a directory owned by uid {} with mode 0700 (it has "
              "owner {} "
              "and mode {:04o}); fix it or choose another backrest.socket_directory",
              directory, ::geteuid(), st.st_uid, st.st_mode & 07777);
    sockaddr_un addr = socketAddress(path_);
    // A socket someone still answers on belongs to a running daemon: never steal it. One
    // nobody answers on is the remains of a daemon that died, and the directory is ours alone.
    int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0) {
        bool live = ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::close(probe);
        if (live)
            raise(ErrorCode::Protocol, "another backrest daemon is already listening on '{}'",
                  path_);
    }
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) raiseErrno(ErrorCode::Protocol, "unable to create socket", path_);
    mode_t old = ::umask(0177);
    int rc = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::umask(old);
    if (rc != 0) raiseErrno(ErrorCode::Protocol, "unable to bind socket", path_);
    if (::chmod(path_.c_str(), 0600) != 0)
        raiseErrno(ErrorCode::Protocol, "unable to set mode of socket", path_);
    if (::listen(fd_, 64) != 0)
        raiseErrno(ErrorCode::Protocol, "unable to listen on socket", path_);
}

Listener::~Listener() {
    if (fd_ >= 0) {
        // Unlinked first: a daemon started once this one stops answering binds the same path,
        // and an unlink after our close could remove its socket.
        ::unlink(path_.c_str());
        ::close(fd_);
    }
}

std::optional<Connection> Listener::accept(int timeoutMs) {
    if (!pollFor(fd_, POLLIN, timeoutMs)) return std::nullopt;
    int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) return std::nullopt;
        raiseErrno(ErrorCode::Protocol, "unable to accept on socket", path_);
    }
    return Connection(fd);
}

Client::Client(const std::string& socketPath, const std::string& clientName, int timeoutMs)
    : Client(Connection::connectUnix(socketPath), socketPath, clientName, timeoutMs) {}

Client::Client(Connection connection, const std::string& socketPath, const std::string& clientName,
               int timeoutMs)
    : connection_(std::move(connection)) {
    connection_.send(Hello{kVersion, clientName}.toMessage(), timeoutMs);
    auto reply = connection_.receive(timeoutMs);
    if (!reply)
        raise(ErrorCode::Protocol, "the backrest daemon at '{}' closed the connection during hello",
              socketPath);
    if (auto e = reply->find("error"); e != reply->end())
        raise(ErrorCode::Protocol, "the backrest daemon at '{}' refused hello: {}", socketPath,
              e->is_object() && e->contains("message") && e->at("message").is_string()
                  ? e->at("message").get<std::string>()
                  : e->dump().substr(0, 200));
    if (!hasOurVersion(*reply))
        raise(ErrorCode::Protocol,
              "the backrest daemon at '{}' speaks protocol {}, this client {}; install matching "
              "versions of the extension and the backrest binary",
              socketPath, reply->contains("version") ? reply->at("version").dump() : "?", kVersion);
    server_ = HelloReply::fromMessage(*reply);
}

Message Client::call(const std::string& type, Message fields, int timeoutMs,
                     const Progress& onProgress) {
    uint64_t id = nextId_++;
    fields["type"] = type;
    fields["id"] = id;
    connection_.send(fields, timeoutMs);
    for (;;) {
        auto reply = connection_.receive(timeoutMs, type);
        if (!reply)
            raise(ErrorCode::Protocol,
                  "the backrest daemon closed the connection during '{}'; see the server log",
                  type);
        const auto& r = *reply;
        auto idIt = r.find("id");
        if (idIt == r.end()) continue;  // not a reply to a request
        if (!idIt->is_number_unsigned())
            raise(ErrorCode::Protocol, "reply to '{}' has no valid id: {}", type,
                  r.dump().substr(0, 200));
        // Id 0 is the server speaking about the connection itself (it is about to close it).
        bool connectionError = idIt->get<uint64_t>() == 0 && r.contains("error");
        if (idIt->get<uint64_t>() != id && !connectionError)
            continue;  // a late reply to an abandoned call
        if (auto e = r.find("error"); e != r.end()) {
            if (!e->is_object() || !e->contains("code") || !e->at("code").is_number_integer() ||
                !e->contains("message") || !e->at("message").is_string())
                raise(ErrorCode::Protocol, "malformed error reply to '{}': {}", type,
                      r.dump().substr(0, 200));
            // A code this build does not know (a newer daemon, a broken one) is still an error,
            // reported as a protocol error rather than as an exit status nobody defined.
            int64_t code = e->at("code").get<int64_t>();
            if (code < INT32_MIN || code > INT32_MAX || !isKnownErrorCode(static_cast<int>(code)))
                code = static_cast<int>(ErrorCode::Protocol);
            throw Error(static_cast<ErrorCode>(code), e->at("message").get<std::string>());
        }
        if (r.contains("progress")) {
            if (onProgress) onProgress(r.at("progress"));
            continue;
        }
        if (auto ok = r.find("ok"); ok == r.end() || *ok != true)
            raise(ErrorCode::Protocol, "reply to '{}' is neither ok nor an error: {}", type,
                  r.dump().substr(0, 200));
        return r;
    }
}

bool hasOurVersion(const Message& message) {
    auto v = message.find("version");
    return v != message.end() && v->is_number_unsigned() && v->get<uint64_t>() == kVersion;
}

Message okReply(uint64_t id, Message fields) {
    fields["id"] = id;
    fields["ok"] = true;
    return fields;
}

Message errorReply(uint64_t id, int code, const std::string& message) {
    return {{"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

}  // namespace backrest::protocol
