// Retention planning.
#include "repo/retention.h"

#include <algorithm>
#include <map>

#include "common/error.h"
#include "pg/wal.h"
#include "repo/retention_time.h"

namespace backrest::repo {

namespace {

// Every backup that depends, directly or through others, on one of `roots`.
std::set<std::string> withDependents(const BackupInfo& info, std::set<std::string> roots) {
    bool grew = true;
    while (grew) {
        grew = false;
        for (const auto& b : info.backups)
            if (!b.prior.empty() && roots.count(b.prior) && !roots.count(b.label))
                grew = roots.insert(b.label).second;
    }
    return roots;
}

std::string position(const std::string& wal) {
    return wal.substr(8, 16);
}

bool timeBased(const RetentionPolicy& policy) {
    return policy.fullType == "time";
}

// How many backups of archiveType keep their WAL for point-in-time recovery; none: no WAL
// expires. Count retention defaults to repo1-retention-full. Time retention has no count to
// default to: as pgBackRest 2.45, WAL goes only with a full backup this plan expires (from the
// oldest full backup retained on), or by repo1-retention-diff with archive type diff.
std::optional<int> archiveRetention(const BackupInfo& info, const RetentionPolicy& policy,
                                    const std::vector<const BackupSummary*>& retained,
                                    const std::set<std::string>& plannedExpiry) {
    if (policy.archive) return policy.archive;
    if (!timeBased(policy)) return policy.full;
    if (policy.archiveType == "diff") return policy.diff;
    if (policy.archiveType != "full") return std::nullopt;
    bool fullExpired = std::any_of(info.backups.begin(), info.backups.end(), [&](const auto& b) {
        return b.type == "full" && plannedExpiry.count(b.label);
    });
    auto fullsRetained = std::count_if(retained.begin(), retained.end(),
                                       [](const auto* b) { return b->type == "full"; });
    if (!fullExpired || fullsRetained == 0) return std::nullopt;
    return static_cast<int>(fullsRetained);
}

// Sorts after every 16-hex-digit position: no segment is kept for point-in-time recovery.
const std::string kAfterEveryPosition = "ZZZZZZZZZZZZZZZZ";

int currentDbId(const BackupInfo& info) {
    if (!info.history.empty()) return info.current().id;
    int id = 1;
    for (const auto& b : info.backups) id = std::max(id, b.dbId);
    return id;
}

// One database's WAL: kept from its oldest backup in the archive window, plus each older
// retained backup's consistency range. With none of its backups in the window only those ranges
// stay; with none retained at all, an earlier database's archive id goes whole.
WalKeep keepOfDb(int dbId, bool current, const std::vector<const BackupSummary*>& retained,
                 const std::vector<const BackupSummary*>& window) {
    WalKeep keep;
    const BackupSummary* oldest = nullptr;
    for (const auto* b : window)
        if (b->dbId == dbId) {
            oldest = b;
            break;
        }
    bool anyRetained = false;
    for (const auto* b : retained) anyRetained = anyRetained || b->dbId == dbId;
    if (!anyRetained) {
        keep.removeAll = !current;  // the current database's WAL before its first backup stays
        return keep;
    }
    keep.keepFrom = oldest ? position(oldest->walStart) : kAfterEveryPosition;
    for (const auto* b : retained)
        if (b->dbId == dbId && position(b->walStart) < keep.keepFrom)
            keep.ranges.emplace_back(b->walStart, b->walStop);
    return keep;
}

// WAL: with no archive retention (archiveRetention) nothing is expired (as pgBackRest: retention
// must be configured for archive expiry). The archive window (the newest repo1-retention-archive
// backups of the archive type) spans every database; each database's WAL is planned on its own,
// since after a new initdb two clusters have the same segment names.
void planWal(const BackupInfo& info, const RetentionPolicy& policy,
             const std::set<std::string>& expire, const std::set<std::string>& plannedExpiry,
             RetentionPlan& plan) {
    if (policy.set) return;
    std::vector<const BackupSummary*> retained;
    for (const auto& b : info.backups)
        if (!expire.count(b.label)) retained.push_back(&b);
    std::optional<int> archiveCount = archiveRetention(info, policy, retained, plannedExpiry);
    if (!archiveCount || retained.empty()) return;
    std::vector<const BackupSummary*> counted;
    for (const auto* b : retained)
        if (policy.archiveType == "incr" || b->type == "full" ||
            (policy.archiveType == "diff" && b->type == "diff"))
            counted.push_back(b);
    // Fewer backups of the archive type than the retention asks for: too soon to expire WAL (as
    // pgBackRest). WAL older than the first backup may be a base backup's of another tool, or the
    // point a DBA recovers a dropped table to; with a second repository newly added its first
    // backup would otherwise take all of that repository's earlier WAL.
    if (counted.size() < static_cast<size_t>(*archiveCount)) return;
    std::vector<const BackupSummary*> window = counted;
    if (window.size() > static_cast<size_t>(*archiveCount))
        window.erase(window.begin(), window.end() - *archiveCount);
    if (window.empty()) window = retained;  // none of the archive type: from the oldest retained
    int current = currentDbId(info);
    plan.wal = keepOfDb(current, true, retained, window);
    for (const auto& db : info.history)
        if (db.id != current) plan.earlierDbWal[db.id] = keepOfDb(db.id, false, retained, window);
}

}  // namespace

RetentionPlan planRetention(const BackupInfo& info, const RetentionPolicy& policy,
                            const std::set<std::string>& inUse) {
    RetentionPlan plan;
    std::set<std::string> expire;
    if (policy.set) {
        if (!info.find(*policy.set))
            raise(ErrorCode::BackupSet, "expire: backup set '{}' does not exist", *policy.set);
        expire = withDependents(info, {*policy.set});
    } else {
        std::vector<std::string> fulls, diffs;
        for (const auto& b : info.backups) {
            if (b.type == "full") fulls.push_back(b.label);
            if (b.type == "diff") diffs.push_back(b.label);
        }
        std::set<std::string> roots;
        if (policy.full && timeBased(policy)) {
            auto old = fullsExpiredByTime(info, *policy.full, policy.now);
            roots.insert(old.begin(), old.end());
        } else if (policy.full && static_cast<int>(fulls.size()) > *policy.full) {
            roots.insert(fulls.begin(), fulls.end() - *policy.full);
        }
        if (policy.diff && static_cast<int>(diffs.size()) > *policy.diff)
            roots.insert(diffs.begin(), diffs.end() - *policy.diff);
        expire = withDependents(info, roots);
    }
    const std::set<std::string> plannedExpiry = expire;
    std::set<std::string> kept;
    for (const auto& label : inUse)
        if (expire.count(label)) kept.insert(label);
    for (bool grew = !kept.empty(); grew;) {
        grew = false;
        for (const auto& b : info.backups) {
            if (b.prior.empty() || !expire.count(b.label) || !expire.count(b.prior)) continue;
            if (kept.count(b.prior) && !kept.count(b.label)) grew = kept.insert(b.label).second;
            if (kept.count(b.label) && !kept.count(b.prior)) grew = kept.insert(b.prior).second;
        }
    }
    for (const auto& label : kept) expire.erase(label);
    for (const auto& b : info.backups) {
        if (expire.count(b.label)) plan.expire.push_back(b.label);
        if (kept.count(b.label)) plan.kept.push_back(b.label);
    }

    planWal(info, policy, expire, plannedExpiry, plan);
    return plan;
}

bool RetentionPlan::expiresWal() const {
    bool any = !wal.keepFrom.empty();
    for (const auto& [id, keep] : earlierDbWal)
        any = any || keep.removeAll || !keep.keepFrom.empty();
    return any;
}

const WalKeep& RetentionPlan::walOf(int dbId, int currentDbId) const {
    static const WalKeep keepAll;
    if (dbId == currentDbId) return wal;
    auto it = earlierDbWal.find(dbId);
    return it == earlierDbWal.end() ? keepAll : it->second;
}

bool walExpired(const std::string& name, const WalKeep& keep) {
    if (keep.removeAll) return true;
    if (keep.keepFrom.empty() || name.size() < 24 || !pg::isWalSegmentName(name.substr(0, 24)))
        return false;
    std::string pos = position(name);
    if (pos >= keep.keepFrom) return false;
    for (const auto& [start, stop] : keep.ranges)
        if (pos >= position(start) && pos <= position(stop)) return false;
    return true;
}

}  // namespace backrest::repo
