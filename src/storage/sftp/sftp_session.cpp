// Connecting to the SFTP server, and the raw SFTP channel for OpenSSH's posix-rename extension.
#include "storage/sftp/sftp_session.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "storage/sftp/sftp_host_key.h"

namespace backrest::storage::sftp {

namespace {

constexpr uint8_t kFxpInit = 1, kFxpVersion = 2, kFxpStatus = 101, kFxpExtended = 200;

void put32(std::string& out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}
void putString(std::string& out, const std::string& s) {
    put32(out, static_cast<uint32_t>(s.size()));
    out += s;
}
uint32_t get32(const std::string& in, size_t& at) {
    if (at + 4 > in.size()) raise(ErrorCode::Protocol, "SFTP: short packet from the server");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v = (v << 8) | static_cast<uint8_t>(in[at + i]);
    at += 4;
    return v;
}
std::string getString(const std::string& in, size_t& at) {
    uint32_t n = get32(in, at);
    if (at + n > in.size()) raise(ErrorCode::Protocol, "SFTP: short packet from the server");
    std::string s = in.substr(at, n);
    at += n;
    return s;
}

void initLibrary() {
    static int rc = libssh2_init(0);
    if (rc != 0) raise(ErrorCode::Assert, "SFTP: libssh2_init failed ({})", rc);
}

bool transportError(int rc) {
    switch (rc) {
        case LIBSSH2_ERROR_SOCKET_SEND:
        case LIBSSH2_ERROR_SOCKET_RECV:
        case LIBSSH2_ERROR_SOCKET_DISCONNECT:
        case LIBSSH2_ERROR_SOCKET_TIMEOUT:
        case LIBSSH2_ERROR_TIMEOUT:
        case LIBSSH2_ERROR_CHANNEL_CLOSED:
        case LIBSSH2_ERROR_CHANNEL_EOF_SENT:
        case LIBSSH2_ERROR_CHANNEL_FAILURE:
        case LIBSSH2_ERROR_BAD_SOCKET:
        case LIBSSH2_ERROR_DECRYPT:
        case LIBSSH2_ERROR_INVALID_MAC:
        case LIBSSH2_ERROR_SOCKET_NONE:
            return true;
        default:
            return false;
    }
}

}  // namespace

SftpSession::SftpSession(const SftpSettings& settings)
    : where_(fmt::format("{}@{}:{}", settings.user, settings.host, settings.port)) {
    initLibrary();
    try {
        connectSocket(settings);
        startSession(settings);
        checkHostKey(session_, settings);
        authenticate(settings);
        sftp_ = libssh2_sftp_init(session_);
        if (sftp_ == nullptr)
            raise(ErrorCode::Network, "SFTP server {}: cannot start the sftp subsystem: {}", where_,
                  lastError());
        openRawChannel();
    } catch (...) {
        release();
        throw;
    }
}

SftpSession::~SftpSession() {
    release();
}

void SftpSession::release() {
    // A broken session is not told goodbye: the socket is gone, each call would wait its timeout.
    if (raw_ != nullptr && !broken_) libssh2_channel_free(raw_);
    if (sftp_ != nullptr && !broken_) libssh2_sftp_shutdown(sftp_);
    if (session_ != nullptr) {
        if (!broken_) libssh2_session_disconnect(session_, "backrest done");
        libssh2_session_free(session_);
    }
    if (socket_ >= 0) ::close(socket_);
    raw_ = nullptr, sftp_ = nullptr, session_ = nullptr, socket_ = -1;
}

void SftpSession::connectSocket(const SftpSettings& s) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    std::string port = std::to_string(s.port);
    int rc = ::getaddrinfo(s.host.c_str(), port.c_str(), &hints, &found);
    if (rc != 0)
        raise(ErrorCode::Network,
              "SFTP server {}:{}: cannot resolve host: {}; check repo1-sftp-host", s.host, s.port,
              gai_strerror(rc));
    std::string lastFailure = "no address";
    for (addrinfo* a = found; a != nullptr && socket_ < 0; a = a->ai_next) {
        int fd =
            ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) continue;
        // Non-blocking connect, so an unreachable host fails after the timeout, not the kernel's
        // minutes.
        int r = ::connect(fd, a->ai_addr, a->ai_addrlen);
        if (r != 0 && errno == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            r = ::poll(&p, 1, s.timeoutMs);
            int err = 0;
            socklen_t len = sizeof(err);
            if (r == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
                r = 0;
            else
                errno = r == 0 ? ETIMEDOUT : err, r = -1;
        }
        if (r == 0) {
            ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            socket_ = fd;
        } else {
            lastFailure = std::strerror(errno);
            ::close(fd);
        }
    }
    ::freeaddrinfo(found);
    if (socket_ < 0)
        raise(ErrorCode::Network,
              "SFTP server {}:{}: cannot connect: {}; check the server runs and "
              "repo1-sftp-host/-host-port",
              s.host, s.port, lastFailure);
}

void SftpSession::startSession(const SftpSettings& s) {
    session_ = libssh2_session_init();
    if (session_ == nullptr) raise(ErrorCode::Assert, "SFTP: cannot allocate a libssh2 session");
    libssh2_session_set_blocking(session_, 1);
    libssh2_session_set_timeout(session_, s.timeoutMs);
    int rc = libssh2_session_handshake(session_, socket_);
    if (rc != 0)
        raise(ErrorCode::Network,
              "SFTP server {}:{}: SSH handshake failed: {}; check it is an SSH server", s.host,
              s.port, lastError());
}

void SftpSession::authenticate(const SftpSettings& s) {
    const char* pub = s.publicKeyFile.empty() ? nullptr : s.publicKeyFile.c_str();
    const char* pass = s.privateKeyPassphrase.empty() ? nullptr : s.privateKeyPassphrase.c_str();
    int rc = libssh2_userauth_publickey_fromfile_ex(session_, s.user.c_str(),
                                                    static_cast<unsigned>(s.user.size()), pub,
                                                    s.privateKeyFile.c_str(), pass);
    if (rc == 0) return;
    if (transportError(rc))
        raise(ErrorCode::Network, "SFTP server {}:{}: connection lost while authenticating: {}",
              s.host, s.port, lastError());
    if (rc == LIBSSH2_ERROR_FILE)
        raise(
            ErrorCode::RepoAuth,
            "SFTP server {}:{}: cannot use private key file {} (repo1-sftp-private-key-file) for "
            "user '{}': "
            "unreadable, not a key, or its passphrase (repo1-sftp-private-key-passphrase) is wrong",
            s.host, s.port, s.privateKeyFile, s.user);
    raise(ErrorCode::RepoAuth,
          "SFTP server {}:{}: user '{}' was refused with private key {}: check the user "
          "(repo1-sftp-host-user) and that the key's public half is in the user's authorized_keys",
          s.host, s.port, s.user, s.privateKeyFile);
}

std::string SftpSession::lastError() {
    char* message = nullptr;
    int length = 0;
    libssh2_session_last_error(session_, &message, &length, 0);
    return message != nullptr ? std::string(message, static_cast<size_t>(length)) : "unknown error";
}

long SftpSession::failure(int rc, const std::string& what) {
    if (rc == LIBSSH2_ERROR_SFTP_PROTOCOL) return static_cast<long>(libssh2_sftp_last_error(sftp_));
    if (transportError(rc)) {
        broken_ = true;
        throw ConnectionLost{fmt::format("{}: {}", what, lastError())};
    }
    return -1;
}

// A second SFTP channel on the session, spoken to directly: libssh2 1.10 has no call for SFTP
// extended requests. Only requests made holding the mutex travel on it, one at a time, so each
// answer read is the one to the request just sent.
void SftpSession::openRawChannel() {
    raw_ = libssh2_channel_open_session(session_);
    if (raw_ == nullptr || libssh2_channel_subsystem(raw_, "sftp") != 0)
        raise(ErrorCode::Network, "SFTP server {}: cannot open an sftp channel: {}", where_,
              lastError());
    std::string init;
    put32(init, 5);
    init += static_cast<char>(kFxpInit);
    put32(init, 3);
    rawWrite(init);
    std::string version = rawReadPacket();
    size_t at = 0;
    if (version.empty() || static_cast<uint8_t>(version[at++]) != kFxpVersion)
        raise(ErrorCode::Protocol, "SFTP server {}: unexpected answer to the sftp version request",
              where_);
    get32(version, at);
    while (at < version.size()) {
        extensions_.insert(getString(version, at));
        getString(version, at);
    }
}

void SftpSession::rawWrite(const std::string& packet) {
    size_t done = 0;
    while (done < packet.size()) {
        ssize_t n = libssh2_channel_write(raw_, packet.data() + done, packet.size() - done);
        // Any failure on the raw channel leaves it mid-packet: the session cannot be used again.
        if (n < 0) {
            broken_ = true;
            throw ConnectionLost{"sftp request: " + lastError()};
        }
        done += static_cast<size_t>(n);
    }
}

std::string SftpSession::rawReadPacket() {
    auto readExactly = [&](size_t n) {
        std::string out(n, '\0');
        size_t done = 0;
        while (done < n) {
            ssize_t r = libssh2_channel_read(raw_, out.data() + done, n - done);
            if (r <= 0) {
                broken_ = true;
                throw ConnectionLost{"sftp answer: " +
                                     (r == 0 ? std::string("channel closed") : lastError())};
            }
            done += static_cast<size_t>(r);
        }
        return out;
    };
    std::string header = readExactly(4);
    size_t at = 0;
    uint32_t length = get32(header, at);
    if (length > (1u << 20))
        raise(ErrorCode::Protocol, "SFTP server {}: oversized sftp packet", where_);
    return readExactly(length);
}

unsigned long SftpSession::posixRename(const std::string& from, const std::string& to) {
    if (extensions_.count("posix-rename@openssh.com") == 0)
        raise(ErrorCode::RepoStorage,
              "SFTP server {}: it does not offer posix-rename@openssh.com, needed to replace a "
              "repository file "
              "atomically; use OpenSSH's sftp-server (or internal-sftp)",
              where_);
    uint32_t id = rawRequestId_++;
    std::string body;
    body += static_cast<char>(kFxpExtended);
    put32(body, id);
    putString(body, "posix-rename@openssh.com");
    putString(body, from);
    putString(body, to);
    std::string packet;
    put32(packet, static_cast<uint32_t>(body.size()));
    rawWrite(packet + body);
    std::string answer = rawReadPacket();
    size_t at = 1;
    if (answer.empty() || static_cast<uint8_t>(answer[0]) != kFxpStatus || get32(answer, at) != id)
        raise(ErrorCode::Protocol, "SFTP server {}: unexpected answer to posix-rename", where_);
    return get32(answer, at);
}

}  // namespace backrest::storage::sftp
