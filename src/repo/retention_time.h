// Time-based full retention (repo1-retention-full-type=time), pgBackRest 2.45's rule: a full
// backup expires only when a newer full backup is itself older than the period, so a
// point-in-time recovery to any moment of the last N days always has a full backup to start from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "repo/info.h"

namespace backrest::repo {

constexpr int64_t kSecondsPerDay = 86400;

// The full backups `days` of time retention expire at `now` (seconds since the epoch), oldest
// first. From the newest full backup back, the first one that stopped before now - days is the
// oldest kept; every full backup older than it expires (their diffs and incrs with them, decided
// by the caller). None stopped before the period: nothing expires (with fulls 25 and 35 days
// old and 30 days, the 35-day one stays: without it nothing would cover days 25 to 30).
std::vector<std::string> fullsExpiredByTime(const BackupInfo& info, int64_t days, int64_t now);

}  // namespace backrest::repo
