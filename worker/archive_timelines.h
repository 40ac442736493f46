// What the commands make of the archive's timelines: restore pins the timeline that holds its
// target, info and check warn about side branches (a drill or a split brain archiving into the
// stanza). The timelines themselves are src/repo/timelines.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/config.h"
#include "repo/info.h"
#include "repo/layout.h"
#include "repo/manifest.h"
#include "repo/timelines.h"
#include "storage/storage.h"
#include "worker/recovery_config.h"

namespace backrest::cmd {

// Unless --target-timeline is given (or the restore recovers no WAL, or stops at consistency),
// sets recovery_target_timeline to the timeline that holds the target when that is not the one
// PostgreSQL's 'latest' would follow, and prints the decision when a side branch was involved.
void pinRecoveryTimeline(storage::Storage& repo, const repo::Layout& layout,
                         const repo::Manifest& backup, const Config& config,
                         RecoverySettings& recovery);

// The side branches of one archive id that a retained backup could still take. The WAL segment size
// (needed to place a branch point in a segment) is read from the newest backup's manifest, and only
// when the archive has a branch.
std::vector<repo::SideBranch> archiveSideBranches(storage::Storage& repo,
                                                  const repo::Layout& layout,
                                                  const repo::BackupInfo& backupInfo,
                                                  const std::string& archiveId);

// "timeline 2 branched off timeline 1 at 0/5000000, but timeline 1 was archived past that ..."
std::string sideBranchWarning(const repo::SideBranch& branch);
nlohmann::json sideBranchJson(const repo::SideBranch& branch);

}  // namespace backrest::cmd
