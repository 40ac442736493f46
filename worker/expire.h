// expire: applies retention. Shared by the expire command, the end of every backup, and the
// daemon's expire request (backrest_expire() in SQL).
#pragma once

#include <string>

#include "common/config.h"
#include "repo/layout.h"
#include "repo/retention.h"
#include "storage/storage.h"

namespace backrest::cmd {

repo::RetentionPolicy retentionPolicy(const Config& config);

// Removes expired backups (from backup.info first, so an interrupted expire never lists a
// half-removed backup, then their directories) and WAL no retained backup needs. Returns a
// report, one line per action ("would" with dryRun). A backup a reader (restore, verify) holds in
// lock-path is kept, with a WARNING line naming it and its reader; so is the WAL while verify reads
// it.
std::string runExpire(storage::Storage& repo, const repo::Layout& layout,
                      const repo::RetentionPolicy& policy, bool dryRun,
                      const std::string& lockPath);

}  // namespace backrest::cmd
