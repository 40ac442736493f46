// Restore's timeline decision and the side-branch warnings of info and check.
#include "worker/archive_timelines.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "pg/wal.h"

namespace backrest::cmd {

void pinRecoveryTimeline(storage::Storage& repo, const repo::Layout& layout,
                         const repo::Manifest& backup, const Config& config,
                         RecoverySettings& recovery) {
    // No restore_command: no WAL is read from the archive (type preserve or none).
    bool recovers = false;
    for (const auto& [name, value] : recovery.settings)
        recovers = recovers || name == "restore_command";
    if (!recovers || recovery.type == "immediate" || config.find(opt::targetTimeline)) return;
    // A timeline the user set with --recovery-option stands as --target-timeline does.
    for (const auto& setting : recovery.settings)
        if (setting.first == "recovery_target_timeline") return;

    auto archive = repo::loadArchiveTimelines(repo, layout,
                                              backup.pgVersion + "-" + std::to_string(backup.dbId));
    archive.segmentSize =
        backup.walSegmentSize ? backup.walSegmentSize : pg::kDefaultWalSegmentSize;
    std::optional<uint64_t> targetLsn;
    if (recovery.type == "lsn") targetLsn = pg::parseLsn(config.getString(opt::target));
    auto choice =
        repo::chooseTimeline(archive, backup.timeline, pg::parseLsn(backup.lsnStop), targetLsn);
    for (const auto& reason : choice.reasons) fmt::print("restore: {}\n", reason);
    if (choice.timeline != choice.latest)
        recovery.settings.emplace_back("recovery_target_timeline", std::to_string(choice.timeline));
}

std::vector<repo::SideBranch> archiveSideBranches(storage::Storage& repo,
                                                  const repo::Layout& layout,
                                                  const repo::BackupInfo& backupInfo,
                                                  const std::string& archiveId) {
    auto archive = repo::loadArchiveTimelines(repo, layout, archiveId);
    bool branched = false;
    for (const auto& [id, t] : archive.timelines) branched = branched || t.branch.has_value();
    if (!branched) return {};
    archive.segmentSize = pg::kDefaultWalSegmentSize;
    if (!backupInfo.backups.empty()) {
        auto newest =
            repo::loadManifest(repo, layout.manifest(backupInfo.backups.back().label), layout.key);
        if (newest.walSegmentSize) archive.segmentSize = newest.walSegmentSize;
    }
    // A branch before every backup's consistent point is one no restore can take: no warning
    // (so the one about a drill ends when retention has moved past it).
    std::optional<uint64_t> oldestStop;
    for (const auto& b : backupInfo.backups) {
        uint64_t stop = pg::parseLsn(b.lsnStop);
        oldestStop = std::min(oldestStop.value_or(stop), stop);
    }
    auto branches = repo::sideBranches(archive);
    std::erase_if(branches, [&](const auto& b) { return oldestStop && b.branchLsn < *oldestStop; });
    return branches;
}

std::string sideBranchWarning(const repo::SideBranch& b) {
    return fmt::format(
        "timeline {} branched off timeline {} at {}, but timeline {} was archived past that point "
        "(to segment {}; "
        "timeline {} to {}): a promoted copy (a restore drill) or a split brain archives into this "
        "stanza. A "
        "restore follows the one archived last (--target-timeline chooses); restore copies with "
        "--archive-mode=off so they do not archive",
        b.timeline, b.parent, pg::formatLsn(b.branchLsn), b.parent, b.parentLastSegment, b.timeline,
        b.lastSegment.empty() ? "no segment yet" : "segment " + b.lastSegment);
}

nlohmann::json sideBranchJson(const repo::SideBranch& b) {
    return {{"timeline", b.timeline},
            {"parent", b.parent},
            {"branch-lsn", pg::formatLsn(b.branchLsn)},
            {"parent-archived-to", b.parentLastSegment},
            {"archived-to",
             b.lastSegment.empty() ? nlohmann::json(nullptr) : nlohmann::json(b.lastSegment)}};
}

}  // namespace backrest::cmd
