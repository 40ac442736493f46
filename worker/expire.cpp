// expire: retention applied to backups and WAL.
#include "worker/expire.h"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <memory>
#include <set>

#include "common/error.h"
#include "common/log.h"
#include "repo/backup_history.h"
#include "repo/backup_listing.h"
#include "repo/file_lock.h"
#include "repo/info.h"
#include "repo/lock.h"
#include "repo/wal_dropped.h"
#include "worker/commands.h"
#include "worker/context.h"
#include "worker/stop_start.h"

namespace backrest::cmd {

repo::RetentionPolicy retentionPolicy(const Config& config) {
    repo::RetentionPolicy p;
    if (auto v = config.find(opt::repo1RetentionFull))
        p.full = static_cast<int>(config.getInt(opt::repo1RetentionFull));
    if (auto v = config.find(opt::repo1RetentionDiff))
        p.diff = static_cast<int>(config.getInt(opt::repo1RetentionDiff));
    if (auto v = config.find(opt::repo1RetentionArchive))
        p.archive = static_cast<int>(config.getInt(opt::repo1RetentionArchive));
    p.archiveType = config.getString(opt::repo1RetentionArchiveType);
    p.fullType = config.getString(opt::repo1RetentionFullType);
    if (auto v = config.find(opt::repo1RetentionHistory))
        p.history = static_cast<int>(config.getInt(opt::repo1RetentionHistory));
    // Read at each expire, not at start: the daemon applies retention for days.
    p.now = static_cast<int64_t>(std::time(nullptr));
    return p;
}

namespace {

// The retention plan with every backup it removes locked exclusively: one a restore or verify
// holds is kept this time, and the plan is made again around it. The locks are held until the
// files are gone.
struct LockedPlan {
    repo::RetentionPlan plan;
    std::map<std::string, std::string> readers;  // kept backup -> who reads it
    std::map<std::string, std::unique_ptr<repo::FileLock>> held;
};

LockedPlan lockBackupsToExpire(const repo::BackupInfo& info, const repo::Layout& layout,
                               const repo::RetentionPolicy& policy, const std::string& lockPath) {
    repo::ensureLockDirectory(lockPath);
    LockedPlan out;
    std::set<std::string> inUse;
    for (bool replan = true; replan;) {
        replan = false;
        out.plan = repo::planRetention(info, policy, inUse);
        for (const auto& label : out.plan.expire) {
            if (out.held.count(label)) continue;
            std::string file = repo::backupReadLockFile(lockPath, layout.stanza, label);
            if (auto lock = repo::FileLock::tryAcquire(file, repo::FileLock::Mode::Exclusive)) {
                out.held[label] = std::move(lock);
                continue;
            }
            inUse.insert(label);
            out.readers[label] = repo::lockHolders(file);
            replan = true;
        }
    }
    return out;
}

std::string reportKept(const LockedPlan& locked) {
    std::string report;
    for (const auto& label : locked.plan.kept) {
        auto reader = locked.readers.find(label);
        report += reader != locked.readers.end()
                      ? fmt::format(
                            "WARNING: backup {} is in use ({}): kept this time; "
                            "the next expire will remove it\n",
                            label, reader->second)
                      : fmt::format(
                            "WARNING: backup {} is kept with a backup of its "
                            "chain that is in use; the next "
                            "expire will remove it\n",
                            label);
    }
    return report;
}

// From backup.info first, so an interrupted expire never lists a half-removed backup; then each
// backup's manifest before its files, so a half-removed directory is an incomplete backup (the
// next backup removes it), never one reconcileBackupInfo would list again.
void removeBackups(storage::Storage& repo, const repo::Layout& layout, repo::BackupInfo& info,
                   const std::vector<std::string>& labels) {
    auto expired = [&](const auto& s) {
        return std::find(labels.begin(), labels.end(), s.label) != labels.end();
    };
    std::erase_if(info.backups, expired);
    // Read again: what another command listed since (a backup from another host) stays listed.
    auto current = repo::requireBackupInfo(repo, layout);
    std::erase_if(current.backups, expired);
    repo::saveBackupInfo(repo, layout, current);
    for (const auto& label : labels) {
        repo.remove(layout.manifest(label));
        repo.remove(layout.manifest(label) + ".copy");
        repo.removePath(layout.backupDir(label), true);
    }
}

// The backup history of backups expired now or before (with dryRun, those the plan would
// expire count as expired, as pgBackRest's dry run does).
std::string expireHistory(storage::Storage& repo, const repo::Layout& layout,
                          const repo::BackupInfo& info, const repo::RetentionPlan& plan,
                          const repo::RetentionPolicy& policy, bool dryRun) {
    repo::BackupInfo remaining = info;
    std::erase_if(remaining.backups, [&](const auto& s) {
        return std::find(plan.expire.begin(), plan.expire.end(), s.label) != plan.expire.end();
    });
    auto labels = repo::expireHistory(repo, layout, remaining, *policy.history, policy.now, dryRun);
    if (labels.empty()) return "";
    return fmt::format("{} history manifest{} {}\n", dryRun ? "would expire" : "expired",
                       labels.size() > 1 ? "s" : "", fmt::join(labels, ", "));
}

struct WalRemoved {
    uint64_t files = 0;
    std::string first, last;  // segment names
};

// WAL of every archive id of this stanza that the plan lets go (counted only, with dryRun): each
// archive id by its own database's rule (repo/retention.h).
WalRemoved removeWal(storage::Storage& repo, const repo::Layout& layout,
                     const repo::ArchiveInfo& archiveInfo, const repo::RetentionPlan& plan,
                     int currentDbId, bool dryRun) {
    WalRemoved out;
    auto dropped = repo::listDropped(repo, layout);
    for (const auto& db : archiveInfo.history) {
        const repo::WalKeep& keep = plan.walOf(db.id, currentDbId);
        std::string id = repo::ArchiveInfo::archiveId(db);
        // Drop records (repo/wal_dropped.h) of WAL retention lets go: no kept backup's recovery
        // reaches them, so they no longer say anything about PITR.
        for (const auto& d : dropped)
            if (!dryRun && d.archiveId == id && repo::walExpired(d.segment, keep))
                repo.remove(repo::droppedDir(layout) + "/" +
                            repo::droppedRecordName(id, d.segment));
        for (const auto& dir : repo.list(layout.archiveIdDir(id))) {
            if (dir.type != storage::FileType::Path || dir.name.size() != 16) continue;
            std::string dirPath = layout.archiveIdDir(id) + "/" + dir.name;
            size_t kept = 0;
            auto entries = repo.list(dirPath);
            for (const auto& f : entries) {
                if (!repo::walExpired(f.name, keep)) {
                    kept++;
                    continue;
                }
                std::string segment = f.name.substr(0, 24);
                if (out.first.empty() || segment < out.first) out.first = segment;
                if (segment > out.last) out.last = segment;
                out.files++;
                if (!dryRun) repo.remove(dirPath + "/" + f.name);
            }
            if (!dryRun && kept == 0 && !entries.empty()) repo.removePath(dirPath, true);
        }
        // Its timeline history files too: no backup of that cluster is left to restore.
        if (keep.removeAll && !dryRun) repo.removePath(layout.archiveIdDir(id), true);
    }
    return out;
}

}  // namespace

std::string runExpire(storage::Storage& repo, const repo::Layout& layout,
                      const repo::RetentionPolicy& policy, bool dryRun,
                      const std::string& lockPath) {
    auto info = repo::requireBackupInfo(repo, layout);
    // Retention counts the backups the repository holds, the ones the list lost included.
    if (repo::reconcileBackupInfo(repo, layout, info) && !dryRun)
        repo::saveBackupInfo(repo, layout, info);
    auto archiveInfo = repo::requireArchiveInfo(repo, layout);
    std::string verb = dryRun ? "would expire" : "expired";

    auto locked = lockBackupsToExpire(info, layout, policy, lockPath);
    const repo::RetentionPlan& plan = locked.plan;
    std::string report = reportKept(locked);
    if (!plan.expire.empty()) {
        report += fmt::format("{} backup{} {}\n", verb, plan.expire.size() > 1 ? "s" : "",
                              fmt::join(plan.expire, ", "));
        if (!dryRun) removeBackups(repo, layout, info, plan.expire);
    }
    locked.held.clear();
    if (policy.history) report += expireHistory(repo, layout, info, plan, policy, dryRun);

    // verify reads the whole archive: while it does, WAL stays.
    std::unique_ptr<repo::FileLock> walLock;
    if (plan.expiresWal()) {
        std::string archiveLock = repo::archiveReadLockFile(lockPath, layout.stanza);
        walLock = repo::FileLock::tryAcquire(archiveLock, repo::FileLock::Mode::Exclusive);
        if (!walLock) {
            report += fmt::format(
                "WARNING: WAL is being read ({}): no WAL expired this time; the next expire will "
                "remove what retention allows\n",
                repo::lockHolders(archiveLock));
            return report;
        }
    }

    // The plan's current database is backup.info's (archive.info may be one ahead after an
    // interrupted stanza-upgrade: an id the plan does not know keeps all its WAL).
    auto wal = removeWal(repo, layout, archiveInfo, plan, info.current().id, dryRun);
    if (wal.files > 0)
        report += fmt::format("{} {} WAL file{} from {} to {}\n", verb, wal.files,
                              wal.files > 1 ? "s" : "", wal.first, wal.last);
    if (report.empty()) report = "nothing to expire\n";
    return report;
}

int expire(const Config& config) {
    requireNotStopped(config, "expire");
    auto repo = openRepo(config, RepoAccess::Write);
    auto layout = stanzaLayout(config);
    auto policy = retentionPolicy(config);
    policy.set = config.find(opt::set);
    // Expire never runs beside a backup of the same stanza: it could remove the prior backup.
    repo::StanzaLock lock(config.getString(opt::lockPath), layout.stanza, "backup");
    std::string report = runExpire(*repo, layout, policy, config.getBool(opt::dryRun),
                                   config.getString(opt::lockPath));
    fmt::print("{}", report);
    // The log file keeps what was removed, as pgBackRest's does ("repo1: expire ...").
    for (size_t at = 0, end; (end = report.find('\n', at)) != std::string::npos; at = end + 1)
        logInfo("repo1: {}", report.substr(at, end - at));
    return 0;
}

}  // namespace backrest::cmd
