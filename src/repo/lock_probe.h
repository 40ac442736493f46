// Whether a stanza lock (repo/lock.h) is held, asked without taking it: info reports a running
// backup (pgBackRest's status.lock.backup.held) and must never make one fail by holding its
// lock for an instant, as a trial flock would.
#pragma once

#include <string>

namespace backrest::repo {

// The kernel's table of flocks (/proc/locks) is read for the lock file's inode; a file that does
// not exist is not held. Where /proc/locks cannot be read, the pid the holder wrote into the
// file is asked whether it still runs (kill 0), as a killed holder leaves its pid behind.
bool stanzaLockHeld(const std::string& lockPath, const std::string& stanza,
                    const std::string& kind);

// The same question for one inode, given the text of /proc/locks: a line
// "<n>: FLOCK ADVISORY WRITE <pid> <major>:<minor>:<inode> 0 EOF" names a held flock.
bool flockListedFor(const std::string& procLocks, unsigned major, unsigned minor,
                    unsigned long inode);

}  // namespace backrest::repo
