// The stop files of `backrest stop`: <lock-path>/all.stop stops every stanza on the host,
// <lock-path>/<stanza>.stop one stanza, as pgBackRest's. Commands that write the repository or
// feed PostgreSQL WAL (backup, archive-push, archive-get, expire, stanza-create, and the daemon's
// pushes and backups) refuse to start while one exists; `backrest start` removes it.
#pragma once

#include <optional>
#include <string>

namespace backrest::repo {

// <lock-path>/<stanza>.stop, or <lock-path>/all.stop without a stanza.
std::string stopFile(const std::string& lockPath, const std::optional<std::string>& stanza);

// The stop file that stops `stanza` (its own first, as the more specific), if any exists.
std::optional<std::string> activeStopFile(const std::string& lockPath,
                                          const std::optional<std::string>& stanza);

// LockAcquireError (a stop is a lock on the host) naming the stop file and the command to lift it,
// when `command` may not run.
void requireNotStopped(const std::string& lockPath, const std::optional<std::string>& stanza,
                       const std::string& command);

}  // namespace backrest::repo
