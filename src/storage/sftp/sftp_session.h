// One SSH connection to the SFTP server: TCP socket, libssh2 session (host key checked, key
// authentication), its SFTP subsystem, and a second raw SFTP channel for the OpenSSH extensions
// libssh2 1.10 does not expose (posix-rename@openssh.com).
//
// libssh2 sessions are not thread safe: every call on anything of this session (the session, the
// SFTP subsystem, its handles, the raw channel) is made holding mutex(). One session per Storage
// shared by the threads of a backup, not one per thread: sshd's default MaxStartups (10:30:100)
// starts dropping connections beyond ten unauthenticated ones, and the work is on the server's
// disk and the compression, not on the session.
#pragma once

#include <libssh2.h>
#include <libssh2_sftp.h>

#include <mutex>
#include <set>
#include <string>

#include "storage/sftp/sftp_settings.h"

namespace backrest::storage::sftp {

// Raised inside the driver when the connection itself failed (socket error, timeout, channel
// closed): the caller may reconnect and retry an idempotent request. Reaches users as NetworkError.
struct ConnectionLost {
    std::string what;
};

class SftpSession {
  public:
    // Connects, checks the host key (settings.hostKeyCheck) and authenticates. Raises NetworkError
    // (cannot connect), RepoAuthError (host key refused, key refused) naming host:port and user.
    explicit SftpSession(const SftpSettings& settings);
    ~SftpSession();
    SftpSession(const SftpSession&) = delete;
    SftpSession& operator=(const SftpSession&) = delete;

    std::mutex& mutex() { return mutex_; }
    LIBSSH2_SESSION* session() { return session_; }
    LIBSSH2_SFTP* sftp() { return sftp_; }
    bool broken() const { return broken_; }

    // The server offers fsync@openssh.com (announced in its SFTP version reply).
    bool hasFsync() const { return extensions_.count("fsync@openssh.com") > 0; }

    // After a failed libssh2 call (rc < 0): throws ConnectionLost for a transport failure (and
    // marks the session broken), else returns the SFTP status code (LIBSSH2_FX_*) or -1 for another
    // error.
    long failure(int rc, const std::string& what);
    // The text of the session's last error, for messages.
    std::string lastError();

    // posix-rename@openssh.com: rename replacing `to` atomically. Returns the SFTP status (0:
    // done). Caller holds mutex().
    unsigned long posixRename(const std::string& from, const std::string& to);

    const std::string& where() const { return where_; }  // "user@host:port"

  private:
    void release();
    void connectSocket(const SftpSettings& settings);
    void startSession(const SftpSettings& settings);
    void authenticate(const SftpSettings& settings);
    void openRawChannel();
    void rawWrite(const std::string& packet);
    std::string rawReadPacket();

    std::mutex mutex_;
    int socket_ = -1;
    LIBSSH2_SESSION* session_ = nullptr;
    LIBSSH2_SFTP* sftp_ = nullptr;
    LIBSSH2_CHANNEL* raw_ = nullptr;
    uint32_t rawRequestId_ = 1;
    std::set<std::string> extensions_;
    bool broken_ = false;
    std::string where_;
};

}  // namespace backrest::storage::sftp
