// Choosing the backup to restore and checking the archive for the WAL its recovery reads.
#include "worker/restore_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "common/error.h"
#include "common/log.h"
#include "pg/recovery_target.h"
#include "pg/wal.h"
#include "repo/wal_continuity.h"
#include "repo/wal_dropped.h"
#include "worker/archive_timelines.h"
#include "worker/backup_readers.h"
#include "worker/context.h"
#include "worker/multi_repo.h"

namespace backrest::cmd {

namespace {

// Recovery cannot stop before the backup is consistent (PostgreSQL: "requested recovery stop
// point is before consistent recovery point"): a backup reaches a target that is after its end.
bool reaches(const repo::BackupSummary& b, const RecoverySettings& r) {
    if (r.targetTime) return static_cast<double>(b.timestampStop) < *r.targetTime;
    if (r.targetLsn) return pg::parseLsn(b.lsnStop) <= *r.targetLsn;
    return true;
}

std::string endOf(const repo::BackupSummary& b, const RecoverySettings& r) {
    if (r.targetLsn) return fmt::format("ended at LSN {} on timeline {}", b.lsnStop, b.timeline);
    return fmt::format("ended at {}", pg::formatUtc(static_cast<double>(b.timestampStop)));
}

std::string targetOf(const Config& config, const RecoverySettings& r) {
    return fmt::format("{} '{}'", r.type, config.find(opt::target).value_or(""));
}

// The backups are sorted by label, that is by time: the last one that reaches is the newest.
const repo::BackupSummary* newestReaching(const repo::BackupInfo& info, const RecoverySettings& r) {
    const repo::BackupSummary* best = nullptr;
    for (const auto& b : info.backups)
        if (reaches(b, r)) best = &b;
    return best;
}

}  // namespace

bool holdsBackupFor(const Config& config, const repo::BackupInfo& info, const RecoverySettings& r) {
    if (auto set = config.find(opt::set)) return info.find(*set) != nullptr;
    return newestReaching(info, r) != nullptr;
}

namespace {

std::string chooseBackup(const Config& config, const repo::Layout& layout,
                         const repo::BackupInfo& info, const RecoverySettings& r) {
    if (auto set = config.find(opt::set)) {
        const auto* chosen = info.find(*set);
        if (!chosen)
            raise(ErrorCode::BackupSet,
                  "restore: backup {} is not in stanza '{}': it was expired, or never made; "
                  "available: {}",
                  *set, layout.stanza, availableBackups(info));
        if (reaches(*chosen, r)) return *set;
        const auto* other = newestReaching(info, r);
        raise(ErrorCode::BackupSet,
              "restore: backup {} {}, not before the recovery target {}: recovery cannot stop "
              "before the backup is consistent; nothing was written. {}",
              *set, endOf(*chosen, r), targetOf(config, r),
              other
                  ? fmt::format("Restore backup {} instead (--set={}), which {}, or leave out "
                                "--set to have it chosen",
                                other->label, other->label, endOf(*other, r))
                  : fmt::format(
                        "No backup of stanza '{}' ended before that target (the oldest, {}, {})",
                        layout.stanza, info.backups.front().label, endOf(info.backups.front(), r)));
    }
    if (info.backups.empty())
        raise(ErrorCode::BackupSet, "restore: stanza '{}' has no backup to restore", layout.stanza);
    if (!r.targetTime && !r.targetLsn) return info.backups.back().label;
    const auto* chosen = newestReaching(info, r);
    if (!chosen)
        raise(ErrorCode::BackupSet,
              "restore: no backup of stanza '{}' ended before the recovery target {}: the oldest, "
              "{}, {}; nothing was written. Choose a later target",
              layout.stanza, targetOf(config, r), info.backups.front().label,
              endOf(info.backups.front(), r));
    fmt::print(
        "restore: backup {} is the newest that ended before the recovery target {} (it {})\n",
        chosen->label, targetOf(config, r), endOf(*chosen, r));
    std::fflush(stdout);
    return chosen->label;
}

// The timeline recovery follows: recovery_target_timeline, 'latest' by default (PostgreSQL 12+).
uint32_t targetTimeline(const RecoverySettings& recovery, repo::ArchiveListing& listing,
                        uint32_t backupTimeline) {
    // --target-timeline, or the timeline pinned by pinRecoveryTimeline.
    std::string wanted = "latest";
    for (const auto& [name, value] : recovery.settings)
        if (name == "recovery_target_timeline") wanted = value;
    if (wanted == "current") return backupTimeline;
    if (!wanted.empty() && wanted.find_first_not_of("0123456789") == std::string::npos)
        return static_cast<uint32_t>(std::stoul(wanted));
    return listing.latestTimeline(backupTimeline);
}

// The segments recovery can get: restore_command without --repo reads every selected repository
// (archive-get takes each segment from the first that has it), so a segment this repository lost
// and another holds is no gap. Another repository that cannot be listed is a warning, and the
// check counts the ones that could.
class RecoverableWal {
  public:
    RecoverableWal(const Config& config, repo::ArchiveListing& own, const std::string& stanza,
                   uint32_t segmentSize)
        : own_(own) {
        if (config.repoIndex() == 0) return;
        Config whole = config.whole();
        for (int index : selectedRepos(whole)) {
            if (index == config.repoIndex()) continue;
            try {
                Other other{index, openRepoStorage(whole.forRepo(index), RepoAccess::Read),
                            std::make_unique<repo::Layout>(repo::Layout{stanza, nullptr}), nullptr};
                other.listing = std::make_unique<repo::ArchiveListing>(
                    *other.storage, *other.layout, own.archiveId(), segmentSize);
                others_.push_back(std::move(other));
            } catch (const Error& e) {
                skip(index, e);
            }
        }
    }
    bool several() const { return !others_.empty(); }
    std::vector<uint64_t> segments(uint32_t timeline, uint64_t from) {
        std::vector<uint64_t> all = own_.segments(timeline, from);
        for (auto it = others_.begin(); it != others_.end();) {
            try {
                const auto& theirs = it->listing->segments(timeline, from);
                all.insert(all.end(), theirs.begin(), theirs.end());
                ++it;
            } catch (const Error& e) {
                skip(it->index, e);
                it = others_.erase(it);
            }
        }
        std::sort(all.begin(), all.end());
        all.erase(std::unique(all.begin(), all.end()), all.end());
        return all;
    }

  private:
    struct Other {
        int index;
        std::unique_ptr<storage::Storage> storage;
        std::unique_ptr<repo::Layout> layout;  // the listing keeps a reference to it
        std::unique_ptr<repo::ArchiveListing> listing;
    };
    static void skip(int index, const Error& e) {
        logWarn(
            "restore: {}'s archive could not be listed ({}); the check of the archive counts "
            "the other repositories' WAL only",
            repoName(index), inRepoTerms(e, index).what());
    }
    repo::ArchiveListing& own_;
    std::vector<Other> others_;
};

// A segment missing after the backup's stop segment, before the end of the WAL the recovery
// reads (the last archived segment of the timeline it ends on, or the LSN target's segment):
// recovery would stop there and end as if it were the end of the WAL.
struct Gap {
    std::string missing;
    std::string later;  // a segment archived after it on the same timeline, or empty
};

std::optional<Gap> findGap(repo::ArchiveListing& listing, RecoverableWal& wal,
                           const repo::Manifest& m, uint64_t stopSegno, const RecoverySettings& r) {
    const uint32_t size = m.walSegmentSize;
    const uint64_t stopLsn = pg::parseLsn(m.lsnStop);
    uint32_t timeline = targetTimeline(r, listing, m.timeline);
    std::vector<repo::TimelineSwitch> history;
    if (timeline != m.timeline && listing.hasHistory(timeline))
        history = repo::parseTimelineHistory(listing.history(timeline),
                                             fmt::format("{:08X}.history", timeline));
    std::optional<uint64_t> limit;
    if (r.targetLsn) limit = *r.targetLsn / size;
    for (const auto& step :
         repo::recoveryPath(m.timeline, stopSegno, stopLsn, timeline, history, size)) {
        if (limit && step.from > *limit) break;
        const auto present = wal.segments(step.timeline, step.from);
        uint64_t to;
        if (step.to)
            to = *step.to;
        else if (!present.empty() && present.back() >= step.from)
            to = present.back();
        else
            continue;  // nothing archived on it yet: the end of the archive, not a gap
        if (limit) to = std::min(to, *limit);
        auto missing = step.from <= to ? repo::firstMissing(present, step.from, to) : std::nullopt;
        if (!missing) continue;
        Gap gap{pg::WalSegment{step.timeline, *missing}.name(size), ""};
        if (auto after = std::upper_bound(present.begin(), present.end(), *missing);
            after != present.end())
            gap.later = pg::WalSegment{step.timeline, *after}.name(size);
        return gap;
    }
    return std::nullopt;
}

void checkAfterBackup(const Config& config, storage::Storage& repo, const repo::Layout& layout,
                      repo::ArchiveListing& listing, RecoverableWal& wal, const repo::Manifest& m,
                      uint64_t stopSegno, const RecoverySettings& r) {
    auto gap = findGap(listing, wal, m, stopSegno, r);
    if (!gap) return;
    std::string where = fmt::format(
        "WAL segment {} is missing from archive {}{}{}", gap->missing, listing.archiveId(),
        wal.several() ? " in every repository restore_command reads" : "",
        gap->later.empty() ? "" : ", though " + gap->later + " after it is archived");
    // A segment archive-push-queue-max dropped exists nowhere: it cannot be put back.
    for (const auto& d : repo::listDropped(repo, layout))
        if (d.archiveId == listing.archiveId() && d.segment == gap->missing)
            where +=
                " (archive-push-queue-max dropped it: it cannot be put back; restore a backup "
                "taken after the drop)";
    if (config.getBool(opt::force)) {
        logWarn("restore --force: {}: recovery of backup {} stops at {}", where, m.label,
                gap->missing);
        return;
    }
    if (r.type == "default" || r.type == "lsn")
        raise(
            ErrorCode::FileMissing,
            "restore: {}: recovery of backup {} to {} would stop at {} and end there, without the "
            "WAL after it; nothing was written. Put {} back into the archive, or restore anyway "
            "with --force (recovery then ends before {})",
            where, m.label,
            r.type == "lsn" ? "the target " + targetOf(config, r) : "the end of the archive",
            gap->missing, gap->missing, gap->missing);
    raise(ErrorCode::FileMissing,
          "restore: {}: recovery of backup {} would stop at {}, and whether the target {} comes "
          "before it cannot be known; nothing was written. Put {} back into the archive, or, if "
          "the target is before that WAL, restore anyway with --force",
          where, m.label, gap->missing, targetOf(config, r), gap->missing);
}

void checkArchive(const Config& config, storage::Storage& repo, const repo::Layout& layout,
                  const repo::Manifest& m, const RecoverySettings& r) {
    // Without restore_command the recovery reads no archive: nothing to check.
    if (r.type == "none" || r.type == "preserve") return;
    auto archiveInfo = repo::requireArchiveInfo(repo, layout);
    std::string archiveId = archiveInfo.currentArchiveId();
    for (const auto& db : archiveInfo.history)
        if (db.id == m.dbId) archiveId = repo::ArchiveInfo::archiveId(db);
    const uint32_t size = m.walSegmentSize;
    if (size < 1024 * 1024 || (size & (size - 1)) != 0)
        raise(ErrorCode::Format, "backup {} records an invalid wal-segment-size {}", m.label, size);
    const auto own =
        pg::walRange(m.timeline, pg::parseLsn(m.lsnStart), pg::parseLsn(m.lsnStop), size);
    const uint64_t startSegno = pg::WalSegment::parse(own.front(), size)->segno;
    const uint64_t stopSegno = pg::WalSegment::parse(own.back(), size)->segno;

    repo::ArchiveListing listing(repo, layout, archiveId, size);
    RecoverableWal wal(config, listing, layout.stanza, size);
    const auto ownPresent = wal.segments(m.timeline, startSegno);
    if (auto missing = repo::firstMissing(ownPresent, startSegno, stopSegno)) {
        std::string name = pg::WalSegment{m.timeline, *missing}.name(size);
        raise(ErrorCode::FileMissing,
              "restore: WAL segment {} is missing from archive {}: backup {} needs {} to {} to "
              "become consistent, so a restore of it could never start (--force does not change "
              "that); nothing was written. Put the segment back into '{}', or restore another "
              "backup with --set",
              name, archiveId, m.label, own.front(), own.back(),
              repo.fullPath(layout.walDir(archiveId, name)));
    }
    // immediate stops at consistency; a standby streams from its primary what the archive lacks.
    if (r.type == "immediate" || r.type == "standby") return;

    checkAfterBackup(config, repo, layout, listing, wal, m, stopSegno, r);
}

}  // namespace

RestorePlan planRestore(const Config& config, storage::Storage& repo, const repo::Layout& layout,
                        const repo::BackupInfo& backupInfo, RecoverySettings& recovery) {
    RestorePlan plan;
    plan.label = chooseBackup(config, layout, backupInfo, recovery);
    plan.manifest = repo::loadManifest(repo, layout.manifest(plan.label), layout.key);
    // A restore drill's timeline in the archive is not followed by mistake (doc/timelines.md):
    // decided first, so that the archive is checked along the timeline recovery will take.
    pinRecoveryTimeline(repo, layout, plan.manifest, config, recovery);
    checkArchive(config, repo, layout, plan.manifest, recovery);
    return plan;
}

}  // namespace backrest::cmd
