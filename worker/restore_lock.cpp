// One restore at a time per data directory (restore_lock.h).
#include "worker/restore_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "common/log.h"

namespace backrest::cmd {

RestoreDirectoryLock::RestoreDirectoryLock(const std::string& dataPath) {
    fd_ = ::open(dataPath.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0)
        raiseErrno(ErrorCode::FileOpen, "restore: unable to open data directory", dataPath);
    if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
        raise(ErrorCode::Lock,
              "restore: another restore is writing into '{}' right now; nothing was written by "
              "this one. Wait for it to finish (or stop it), then run this restore again if it is "
              "still wanted",
              dataPath);
    // A file system without flock on directories (NFS turns flock into a POSIX lock, which a
    // directory opened read-only cannot take): the restore goes on, unprotected, and says so.
    logWarn(
        "restore: could not lock data directory '{}' ({}): a second restore started into it "
        "now would not be refused",
        dataPath, std::strerror(err));
}

RestoreDirectoryLock::~RestoreDirectoryLock() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace backrest::cmd
