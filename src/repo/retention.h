// Retention: which backups expire and which WAL is no longer needed. A pure function of
// backup.info and the retention options, so it is easy to test and to print with --dry-run.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "repo/info.h"

namespace backrest::repo {

struct RetentionPolicy {
    std::optional<int> full;           // repo1-retention-full: a count, or days with fullType time
    std::string fullType = "count";    // repo1-retention-full-type: count or time
    int64_t now = 0;                   // seconds since the epoch, for fullType time
    std::optional<int> diff;           // repo1-retention-diff
    std::optional<int> archive;        // repo1-retention-archive (default: full)
    std::string archiveType = "full";  // repo1-retention-archive-type
    std::optional<std::string> set;    // expire this backup (and its dependents) only
    // repo1-retention-history: days the backup history of expired backups is kept
    // (repo/backup_history.h); unset, forever.
    std::optional<int> history;

    // Whether an expire after a backup has anything to apply.
    bool any() const { return full || diff || history; }
};

struct WalKeep {
    // Segments at or after this position (the last 16 hex digits: log and segment, timeline
    // aside) are kept for point-in-time recovery. Empty: keep everything.
    std::string keepFrom;
    // Older segments a retained backup needs to be consistent: [wal-start, wal-stop] ranges.
    std::vector<std::pair<std::string, std::string>> ranges;
    // An earlier database (stanza-upgrade) none of whose backups is retained: its whole archive
    // id goes, history files included.
    bool removeAll = false;
};

struct RetentionPlan {
    std::vector<std::string> expire;  // labels, oldest first
    std::vector<std::string> kept;    // would expire, kept because in use (or tied to one in use)
    WalKeep wal;                      // of the current database (backup.info's newest db-id)
    std::map<int, WalKeep> earlierDbWal;  // of each earlier db-id; one absent keeps all its WAL

    bool expiresWal() const;
    // What may go from the archive id of database `dbId`.
    const WalKeep& walOf(int dbId, int currentDbId) const;
};

// With fullType time (retention_time.h) and repo1-retention-archive unset, WAL is expired as
// pgBackRest 2.45 does: only when this plan expires a full backup, from the oldest full backup
// retained (and, with archive type diff, by repo1-retention-diff when set).
// Throws BackupSetInvalidError when --set names a backup that does not exist or is the only
// full backup left with no retention to replace it.
// `inUse`: backups a reader holds, which this expire must not remove. Each is kept with every
// expiring backup of its chain (those it depends on and those that depend on it), and the WAL is
// planned as if they were retained; the next expire removes them.
RetentionPlan planRetention(const BackupInfo& info, const RetentionPolicy& policy,
                            const std::set<std::string>& inUse = {});

// True when the WAL file `name` (a segment or .backup file) may be removed under `keep`.
bool walExpired(const std::string& name, const WalKeep& keep);

}  // namespace backrest::repo
