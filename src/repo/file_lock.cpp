// flock-based shared/exclusive locks in lock-path and their holders (read from /proc/locks).
#include "repo/file_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "common/error.h"
#include "common/user.h"

namespace backrest::repo {

namespace {

// Gives a file or directory root just created to the repository's owner.
void giveTo(int fd, const std::string& path, const std::optional<LockOwner>& owner) {
    if (!owner || ::geteuid() != 0 || owner->uid == 0) return;
    int rc = fd >= 0 ? ::fchown(fd, owner->uid, owner->gid)
                     : ::chown(path.c_str(), owner->uid, owner->gid);
    if (rc != 0)
        raiseErrno(ErrorCode::FileOpen, "unable to give the lock file to the repository's owner",
                   path);
}

int openLockFile(const std::string& file, const std::optional<LockOwner>& owner) {
    int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0660);
    if (fd >= 0) {
        // Whatever the umask: the owner's group may hold it too.
        if (::fchmod(fd, 0660) != 0)
            raiseErrno(ErrorCode::FileOpen, "unable to set mode of lock file", file);
        giveTo(fd, file, owner);
        return fd;
    }
    // Never through a symbolic link another user could have planted in lock-path (ELOOP).
    if (errno == EEXIST) fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    // flock needs no write access: a lock file another user created is still usable.
    if (fd < 0 && errno == EACCES) fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int saved = errno;
        struct stat st {};
        std::string who =
            ::stat(file.c_str(), &st) == 0
                ? fmt::format(" (owner {}, mode {:04o})", userName(st.st_uid), st.st_mode & 07777)
                : "";
        // userName (getpwuid_r) may change errno: the message is made before it is restored.
        std::string what = fmt::format(
            "unable to open lock file{} as user '{}'; remove it or give it to the repository's "
            "owner:",
            who, userName(::geteuid()));
        errno = saved;
        raiseErrno(ErrorCode::FileOpen, what, file);
    }
    return fd;
}

std::string describePid(const std::string& pid) {
    std::ifstream in("/proc/" + pid + "/cmdline", std::ios::binary);
    std::vector<std::string> argv;
    for (std::string arg; std::getline(in, arg, '\0');) argv.push_back(arg);
    if (argv.empty()) return "pid " + pid;
    std::string program = argv[0].substr(argv[0].rfind('/') + 1);
    if (program == "backrest")
        for (size_t i = 1; i < argv.size(); i++)
            if (!argv[i].empty() && argv[i][0] != '-')
                return fmt::format("{}, pid {}", argv[i], pid);
    return fmt::format("{}, pid {}", program, pid);
}

}  // namespace

void ensureLockDirectory(const std::string& path, const std::optional<LockOwner>& owner) {
    if (::mkdir(path.c_str(), 0770) == 0)
        giveTo(-1, path, owner);
    else if (errno != EEXIST)
        raiseErrno(ErrorCode::FileOpen, "unable to create lock directory", path);
    if (::faccessat(AT_FDCWD, path.c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
        struct stat st {};
        ::stat(path.c_str(), &st);
        raise(ErrorCode::FileOpen,
              "lock directory '{}' (owner {}, mode {:04o}) cannot be used by user '{}': give it to "
              "the repository's "
              "owner (chown), remove it, or set lock-path",
              path, userName(st.st_uid), st.st_mode & 07777, userName(::geteuid()));
    }
}

std::string backupReadLockFile(const std::string& lockPath, const std::string& stanza,
                               const std::string& label) {
    return lockPath + "/" + stanza + "-" + label + ".read.lock";
}

std::string archiveReadLockFile(const std::string& lockPath, const std::string& stanza) {
    return lockPath + "/" + stanza + "-archive.read.lock";
}

std::unique_ptr<FileLock> FileLock::tryAcquire(const std::string& file, Mode mode,
                                               const std::optional<LockOwner>& owner) {
    int fd = openLockFile(file, owner);
    int op = (mode == Mode::Shared ? LOCK_SH : LOCK_EX) | LOCK_NB;
    int rc;
    while ((rc = ::flock(fd, op)) != 0 && errno == EINTR) {
    }
    if (rc != 0) {
        int saved = errno;
        ::close(fd);
        if (saved == EWOULDBLOCK) return nullptr;
        errno = saved;
        raiseErrno(ErrorCode::Lock, "unable to lock", file);
    }
    return std::unique_ptr<FileLock>(new FileLock(fd, file));
}

std::unique_ptr<FileLock> FileLock::acquire(const std::string& file, Mode mode,
                                            const std::optional<LockOwner>& owner) {
    int fd = openLockFile(file, owner);
    int rc;
    while ((rc = ::flock(fd, mode == Mode::Shared ? LOCK_SH : LOCK_EX)) != 0 && errno == EINTR) {
    }
    if (rc != 0) {
        int saved = errno;
        ::close(fd);
        errno = saved;
        raiseErrno(ErrorCode::Lock, "unable to lock", file);
    }
    return std::unique_ptr<FileLock>(new FileLock(fd, file));
}

FileLock::~FileLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
}

std::string lockHolders(const std::string& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return "unknown holder";
    // "1: FLOCK  ADVISORY  READ 1234 fd:01:5678 0 EOF"; a waiter's line has "->" after the number.
    std::ifstream in("/proc/locks");
    std::set<std::string> sameDevice, sameInode;
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::vector<std::string> w;
        for (std::string word; words >> word;) w.push_back(word);
        if (w.size() < 6 || w[1] == "->") continue;
        const std::string& id = w[5];
        auto c1 = id.find(':'), c2 = id.rfind(':');
        if (c1 == std::string::npos || c1 == c2 || id.substr(c2 + 1) != std::to_string(st.st_ino))
            continue;
        sameInode.insert(w[4]);
        unsigned long maj = std::stoul(id.substr(0, c1), nullptr, 16);
        unsigned long min = std::stoul(id.substr(c1 + 1, c2 - c1 - 1), nullptr, 16);
        if (maj == major(st.st_dev) && min == minor(st.st_dev)) sameDevice.insert(w[4]);
    }
    // Some file systems (overlay) show another device in /proc/locks than stat does.
    const auto& pids = sameDevice.empty() ? sameInode : sameDevice;
    std::string out;
    for (const auto& pid : pids) out += (out.empty() ? "" : "; ") + describePid(pid);
    return out.empty() ? "unknown holder" : out;
}

}  // namespace backrest::repo
