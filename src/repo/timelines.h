// The timelines of one archive id, derived from its listing: each timeline's parent and branch
// point (from its history file), its newest archived segment and when it was archived. From
// these: side branches (a child timeline whose parent was archived past the branch point: a
// restore drill or a split brain pushing into the stanza) and the timeline a restore follows.
//
// Derived on demand, never recorded: the repository can only write whole files, and the two
// writers of a side branch (the original primary and the promoted copy) archive at the same time,
// so a shared record would be a read-modify-write race; expire also removes segments a record
// would still name. The cost is one listing of the archive id's root (directories and history
// files), the history files, and the newest directory of each timeline.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "repo/layout.h"
#include "repo/timeline_history.h"
#include "storage/storage.h"

namespace backrest::repo {

struct ArchivedTimeline {
    uint32_t id = 0;
    std::optional<TimelineSwitch>
        branch;                   // the last line of its history file: parent, branch point
    int64_t historyTime = 0;      // when its history file was archived
    std::string lastSegment;      // newest complete segment archived on it, or empty
    int64_t lastSegmentTime = 0;  // when that segment's directory was last archived into
};

struct ArchiveTimelines {
    uint32_t segmentSize = 0;  // set by the caller before asking where a branch point lies
    std::map<uint32_t, ArchivedTimeline> timelines;

    // Whether `parent` was archived past the point where `child` branched off it: a segment of
    // the parent wholly after the branch point is in the archive.
    bool archivedPastBranch(const ArchivedTimeline& child) const;
    std::vector<uint32_t> children(uint32_t parent) const;
    // The newest archive time of a timeline and all its descendants.
    int64_t newestTime(uint32_t timeline) const;
};

ArchiveTimelines loadArchiveTimelines(storage::Storage& repo, const Layout& layout,
                                      const std::string& archiveId);

struct SideBranch {
    uint32_t timeline = 0, parent = 0;
    uint64_t branchLsn = 0;
    std::string parentLastSegment, lastSegment;
};

std::vector<SideBranch> sideBranches(const ArchiveTimelines& archive);

struct TimelineChoice {
    uint32_t timeline = 0;  // the timeline that holds the target
    uint32_t latest = 0;    // what PostgreSQL's recovery_target_timeline 'latest' would follow
    std::vector<std::string> reasons;  // one per side branch decided on the way, for the user
};

// The timeline a restore of a backup (on `backupTimeline`, consistent at `backupStopLsn`) follows.
// From the backup's timeline down: a child that branched where its parent's archive ends is
// followed (a failover, as PostgreSQL does); a side branch is followed only when it (or a
// descendant) was archived more recently than its parent, i.e. it is the one still being
// archived; otherwise the restore stays on the parent (a drill). Children branching before the
// backup was consistent, or after an LSN target, do not matter and are skipped.
TimelineChoice chooseTimeline(const ArchiveTimelines& archive, uint32_t backupTimeline,
                              uint64_t backupStopLsn, std::optional<uint64_t> targetLsn);

}  // namespace backrest::repo
