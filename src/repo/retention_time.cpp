// Time-based full retention: which full backups are older than the one that covers the period.
#include "repo/retention_time.h"

namespace backrest::repo {

std::vector<std::string> fullsExpiredByTime(const BackupInfo& info, int64_t days, int64_t now) {
    std::vector<const BackupSummary*> fulls;  // oldest first: backup.info is sorted by label
    for (const auto& b : info.backups)
        if (b.type == "full") fulls.push_back(&b);
    const int64_t periodStart = now - days * kSecondsPerDay;
    size_t oldestKept = fulls.size();
    while (oldestKept > 0) {
        oldestKept--;
        // The newest full backup that stopped before the period covers its start: keep it.
        if (fulls[oldestKept]->timestampStop < periodStart) break;
    }
    std::vector<std::string> expired;
    for (size_t i = 0; i < oldestKept; i++) expired.push_back(fulls[i]->label);
    return expired;
}

}  // namespace backrest::repo
