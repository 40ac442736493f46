// Time-based full retention (repo1-retention-full-type=time): a table of backups with stop times
// -> which expire, the WAL kept, and pgBackRest 2.45's edge cases (the help's 25/35-day example,
// a full stopped exactly at the period's start, no full backup at all).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "repo/retention.h"
#include "repo/retention_time.h"

using namespace backrest;
using namespace backrest::repo;

namespace {

constexpr int64_t kDay = kSecondsPerDay;
constexpr int64_t kNow = 20000 * kDay;  // 2024-10-04; only differences matter

std::string wal(int n) {
    return fmt::format("0000000100000000000000{:02X}", n);
}

// A backup that stopped `daysAgo` before kNow; its WAL is segment `walSegment`.
BackupSummary backup(const std::string& label, const std::string& type, const std::string& prior,
                     double daysAgo, int walSegment) {
    BackupSummary b;
    b.label = label;
    b.type = type;
    b.prior = prior;
    b.timestampStop = kNow - static_cast<int64_t>(daysAgo * kDay);
    b.timestampStart = b.timestampStop - 60;
    b.walStart = wal(walSegment);
    b.walStop = wal(walSegment);
    return b;
}

// F1 (40 days) <- D1 (38), F2 (35) <- I2 (33) <- I2b (20), F3 (5) <- D3 (1)
BackupInfo week() {
    BackupInfo info;
    info.history.push_back({1, "15", 42});
    info.backups = {
        backup("20241001-000000F", "full", "", 40, 0x02),
        backup("20241001-000000F_20241003-000000D", "diff", "20241001-000000F", 38, 0x04),
        backup("20241006-000000F", "full", "", 35, 0x06),
        backup("20241006-000000F_20241008-000000I", "incr", "20241006-000000F", 33, 0x08),
        backup("20241006-000000F_20241021-000000I", "incr", "20241006-000000F_20241008-000000I", 20,
               0x0A),
        backup("20241105-000000F", "full", "", 5, 0x0C),
        backup("20241105-000000F_20241109-000000D", "diff", "20241105-000000F", 1, 0x0E),
    };
    return info;
}

RetentionPolicy days(int n) {
    RetentionPolicy p;
    p.full = n;
    p.fullType = "time";
    p.now = kNow;
    return p;
}

}  // namespace

TEST(RepoRetentionTime, TheNewestFullOlderThanThePeriodIsKept) {
    // 30 days: F2 (35 days) is the newest full older than the period; F1 goes, with its diff.
    EXPECT_EQ(fullsExpiredByTime(week(), 30, kNow), (std::vector<std::string>{"20241001-000000F"}));
    auto plan = planRetention(week(), days(30));
    EXPECT_EQ(plan.expire,
              (std::vector<std::string>{"20241001-000000F", "20241001-000000F_20241003-000000D"}));
    // F2's incrementals stay though 33 and 20 days old: a restore inside the period needs them.
    // WAL: from F2, the oldest full retained, on.
    EXPECT_EQ(plan.wal.keepFrom, "0000000000000006");
    EXPECT_TRUE(walExpired(wal(0x05), plan.wal));
    EXPECT_FALSE(walExpired(wal(0x06), plan.wal));

    // 3 days: F3 (5 days) covers the period; F1 and F2 go with everything that depends on them.
    plan = planRetention(week(), days(3));
    EXPECT_EQ(plan.expire,
              (std::vector<std::string>{"20241001-000000F", "20241001-000000F_20241003-000000D",
                                        "20241006-000000F", "20241006-000000F_20241008-000000I",
                                        "20241006-000000F_20241021-000000I"}));
    EXPECT_EQ(plan.wal.keepFrom, "000000000000000C");
}

// pgBackRest's help: fulls 25 and 35 days old, 30 days: expiring the 35-day one would leave none
// 30 days old, so nothing expires, and no WAL either ("time-based archive retention not met").
TEST(RepoRetentionTime, NothingExpiresUntilANewerFullIsOlderThanThePeriod) {
    BackupInfo info;
    info.history.push_back({1, "15", 42});
    info.backups = {backup("20241001-000000F", "full", "", 35, 0x04),
                    backup("20241011-000000F", "full", "", 25, 0x08)};
    EXPECT_TRUE(fullsExpiredByTime(info, 30, kNow).empty());
    auto plan = planRetention(info, days(30));
    EXPECT_TRUE(plan.expire.empty());
    EXPECT_TRUE(plan.wal.keepFrom.empty());
    EXPECT_FALSE(walExpired(wal(0x01), plan.wal));  // even WAL older than every backup

    // Every full newer than the period, or none at all: nothing.
    EXPECT_TRUE(fullsExpiredByTime(info, 60, kNow).empty());
    EXPECT_TRUE(fullsExpiredByTime(BackupInfo{}, 1, kNow).empty());
    // One full, however old, is never expired by time.
    info.backups.pop_back();
    EXPECT_TRUE(fullsExpiredByTime(info, 1, kNow).empty());
}

// "Older than the period" is strict: a full that stopped exactly at its start does not cover it.
TEST(RepoRetentionTime, AFullStoppedExactlyAtThePeriodStartIsInsideIt) {
    BackupInfo info;
    info.backups = {backup("20241001-000000F", "full", "", 40, 0x02),
                    backup("20241011-000000F", "full", "", 30, 0x04),
                    backup("20241105-000000F", "full", "", 1, 0x06)};
    EXPECT_TRUE(fullsExpiredByTime(info, 30, kNow).empty());
    info.backups[1].timestampStop -= 1;
    EXPECT_EQ(fullsExpiredByTime(info, 30, kNow), (std::vector<std::string>{"20241001-000000F"}));
}

// repo1-retention-archive set: WAL follows it as with count retention, whether or not a full
// expired; with archive type diff and repo1-retention-diff, by that.
TEST(RepoRetentionTime, ExplicitArchiveRetentionStillApplies) {
    RetentionPolicy p = days(60);  // nothing expires by time
    p.archive = 1;
    auto plan = planRetention(week(), p);
    EXPECT_TRUE(plan.expire.empty());
    EXPECT_EQ(plan.wal.keepFrom, "000000000000000C");  // from F3, the newest full
    EXPECT_FALSE(walExpired(wal(0x06), plan.wal));     // F2's own range stays
    EXPECT_TRUE(walExpired(wal(0x07), plan.wal));

    p = days(60);
    p.archiveType = "diff";
    p.diff = 3;  // WAL of the three newest fulls and diffs (F2, F3, D3); both diffs are kept
    plan = planRetention(week(), p);
    EXPECT_TRUE(plan.expire.empty());
    EXPECT_EQ(plan.wal.keepFrom, "0000000000000006");

    // Archive type incr without repo1-retention-archive: WAL is never expired by time.
    p = days(30);
    p.archiveType = "incr";
    plan = planRetention(week(), p);
    EXPECT_EQ(plan.expire.size(), 2u);
    EXPECT_TRUE(plan.wal.keepFrom.empty());
}

// A full that time retention expires but a reader holds is kept with its chain this time, and
// the WAL is kept from it.
TEST(RepoRetentionTime, AFullInUseKeepsItsWal) {
    auto plan = planRetention(week(), days(3), {"20241006-000000F"});
    EXPECT_EQ(plan.expire,
              (std::vector<std::string>{"20241001-000000F", "20241001-000000F_20241003-000000D"}));
    EXPECT_EQ(plan.kept.size(), 3u);
    EXPECT_EQ(plan.wal.keepFrom, "0000000000000006");
}

TEST(RepoRetentionTime, CountRetentionIsUnchanged) {
    RetentionPolicy p = days(1);
    p.fullType = "count";  // 1 full backup: the newest
    auto plan = planRetention(week(), p);
    EXPECT_EQ(plan.expire.size(), 5u);
    EXPECT_EQ(plan.wal.keepFrom, "000000000000000C");
}
