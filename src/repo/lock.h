// The stanza lock: one backup per stanza at a time, across processes (flock on a file in
// lock-path, released by the kernel if the holder dies, so a crash never leaves a stale lock).
#pragma once

#include <string>

namespace backrest::repo {

class StanzaLock {
  public:
    // Raises LockAcquireError naming the stanza, the holder's pid and the lock file, after
    // retrying for waitSeconds (the daemon waits for an abandoned backup to finish unwinding).
    StanzaLock(const std::string& lockPath, const std::string& stanza, const std::string& kind,
               int waitSeconds = 0);
    ~StanzaLock();
    StanzaLock(const StanzaLock&) = delete;
    StanzaLock& operator=(const StanzaLock&) = delete;

  private:
    int fd_ = -1;
    std::string file_;
};

}  // namespace backrest::repo
