// Which backup a restore uses, and whether the repository holds everything its recovery needs:
// decided before the restore writes anything.
#pragma once

#include <string>

#include "common/config.h"
#include "repo/info.h"
#include "repo/layout.h"
#include "repo/manifest.h"
#include "storage/storage.h"
#include "worker/recovery_config.h"

namespace backrest::cmd {

struct RestorePlan {
    std::string label;
    repo::Manifest manifest;
};

// The backup: --set, else for a time or LSN target the newest backup that ended before it,
// else the latest. The recovery timeline is pinned when a side branch would mislead recovery
// (worker/archive_timelines.h). Refused (BackupSetError) when the target is before the chosen
// backup's end, naming the newest backup that can reach it. Then the archive: the backup's own WAL
// (start to stop segment) must be archived, always; and, for recoveries that read the archive past
// the stop segment, no segment may be missing before the end of the WAL they read (FileMissingError
// naming it; --force restores anyway).
// Whether a repository's backups hold what restore would choose: the --set, or one that reaches
// the recovery target (restore without --repo takes the first repository that does).
bool holdsBackupFor(const Config& config, const repo::BackupInfo& info, const RecoverySettings& r);

RestorePlan planRestore(const Config& config, storage::Storage& repo, const repo::Layout& layout,
                        const repo::BackupInfo& backupInfo, RecoverySettings& recovery);

}  // namespace backrest::cmd
