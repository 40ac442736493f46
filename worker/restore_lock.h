// One restore at a time per data directory: two restores into the same pg1-path (of different
// backups, or the same one twice) would each find it empty or resumable and both write into it,
// leaving files of both under one pg_control.
#pragma once

#include <string>

namespace backrest::cmd {

// An exclusive flock(2) on the pg1-path directory itself, held until destroyed (or the process
// dies: a kill -9 releases it, so a resumed restore is never locked out by a dead one). Raises
// LockError naming the directory when another restore holds it; where the file system cannot
// lock a directory, warns and holds nothing. The directory must exist.
class RestoreDirectoryLock {
  public:
    explicit RestoreDirectoryLock(const std::string& dataPath);
    ~RestoreDirectoryLock();
    RestoreDirectoryLock(const RestoreDirectoryLock&) = delete;
    RestoreDirectoryLock& operator=(const RestoreDirectoryLock&) = delete;

  private:
    int fd_ = -1;
};

}  // namespace backrest::cmd
