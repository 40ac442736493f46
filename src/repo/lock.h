// The stanza lock: one backup per stanza at a time, across processes (flock on a file in
// lock-path, released by the kernel if the holder dies, so a crash never leaves a stale lock).
#pragma once

#include <functional>
#include <string>

namespace backrest::repo {

class StanzaLock {
  public:
    // Raises LockAcquireError naming the stanza, the holder's pid and the lock file. While the
    // holder is this very process and `whileHolderIs()` (when given) says so, retries for up to
    // waitSeconds: the daemon's backup of a connection that hung up (backrest_cancel()) is still
    // unwinding its copy threads, and the retry that follows a cancel must not be refused for
    // it, while a backup still running is refused at once. Another process's lock is refused at
    // once.
    StanzaLock(const std::string& lockPath, const std::string& stanza, const std::string& kind,
               int waitSeconds = 0, const std::function<bool()>& whileHolderIs = nullptr);
    ~StanzaLock();
    StanzaLock(const StanzaLock&) = delete;
    StanzaLock& operator=(const StanzaLock&) = delete;

  private:
    int fd_ = -1;
    std::string file_;
};

}  // namespace backrest::repo
