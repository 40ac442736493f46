// flock-based stanza lock.
#include "repo/lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include "common/error.h"
#include "repo/file_lock.h"

namespace backrest::repo {

StanzaLock::StanzaLock(const std::string& lockPath, const std::string& stanza,
                       const std::string& kind, int waitSeconds,
                       const std::function<bool()>& whileHolderIs)
    : file_(lockPath + "/" + stanza + "-" + kind + ".lock") {
    ensureLockDirectory(lockPath);
    // Never through a symbolic link: lock-path belongs to the repository's owner, who could
    // otherwise point <stanza>-backup.lock at a file a root-run backup then truncates.
    fd_ = ::open(file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd_ < 0 && errno == ELOOP)
        raise(ErrorCode::FileOpen,
              "lock file '{}' is a symbolic link: remove it (backrest never opens a lock file "
              "through a link)",
              file_);
    if (fd_ < 0) raiseErrno(ErrorCode::FileOpen, "unable to open lock file", file_);
    auto holder = [this] {
        char text[32] = {0};
        ssize_t n = ::pread(fd_, text, sizeof text - 1, 0);
        std::string pid = n > 0 ? std::string(text, static_cast<size_t>(n)) : "unknown";
        while (!pid.empty() && pid.back() == '\n') pid.pop_back();
        return pid;
    };
    const std::string self = std::to_string(::getpid());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(waitSeconds);
    while (::flock(fd_, LOCK_EX | LOCK_NB) != 0 && std::chrono::steady_clock::now() < deadline &&
           holder() == self && (!whileHolderIs || whileHolderIs()))
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        std::string pid = holder();
        ::close(fd_);
        fd_ = -1;
        raise(ErrorCode::Lock,
              "unable to acquire {} lock for stanza '{}': another {} (pid {}) is running; lock "
              "file {}",
              kind, stanza, kind, pid, file_);
    }
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
        // The pid is only informative; the flock is what protects.
    }
}

StanzaLock::~StanzaLock() {
    if (fd_ >= 0) {
        // An empty lock file says nobody holds it; the pid is only there for messages.
        if (::ftruncate(fd_, 0) != 0) {
        }
        ::flock(fd_, LOCK_UN);
        ::close(fd_);
    }
}

}  // namespace backrest::repo
