// Shared/exclusive flock locks on files in lock-path, and who holds one. Readers of a backup
// (restore, verify) share its lock; expire takes it exclusively before removing the backup.
// The kernel releases a flock when its holder dies, so no lock outlives a crash.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

namespace backrest::repo {

// The user that lock directories and files created by root are given, so that the repository's
// owner can open them too (a root restore beside a postgres expire).
struct LockOwner {
    uid_t uid;
    gid_t gid;
};

// Creates lock-path (mode 0770, given to `owner` when we are root) and checks we can create
// files in it: FileOpenError naming the directory, its owner and mode otherwise.
void ensureLockDirectory(const std::string& path,
                         const std::optional<LockOwner>& owner = std::nullopt);

// <lock-path>/<stanza>-<label>.read.lock and <lock-path>/<stanza>-archive.read.lock.
std::string backupReadLockFile(const std::string& lockPath, const std::string& stanza,
                               const std::string& label);
std::string archiveReadLockFile(const std::string& lockPath, const std::string& stanza);

class FileLock {
  public:
    enum class Mode { Shared, Exclusive };

    // One attempt; nullptr when another process holds a conflicting lock. Raises FileOpenError
    // when the file cannot be opened or created.
    static std::unique_ptr<FileLock> tryAcquire(
        const std::string& file, Mode mode, const std::optional<LockOwner>& owner = std::nullopt);
    // Waits for conflicting holders to release (expire removing WAL holds the archive's briefly).
    static std::unique_ptr<FileLock> acquire(const std::string& file, Mode mode,
                                             const std::optional<LockOwner>& owner = std::nullopt);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

    const std::string& file() const { return file_; }

  private:
    FileLock(int fd, std::string file) : fd_(fd), file_(std::move(file)) {}
    int fd_;
    std::string file_;
};

// Who holds a lock on `file`, from /proc/locks: "verify, pid 123" (a backrest process is named by
// its command, any other by its program), several joined by "; ", "unknown holder" when the
// kernel does not say.
std::string lockHolders(const std::string& file);

}  // namespace backrest::repo
