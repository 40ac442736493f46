// Retention planning: which backups expire (with their dependents) and which WAL stays.
#include <gtest/gtest.h>

#include "common/error.h"
#include "repo/retention.h"

using namespace backrest;
using namespace backrest::repo;

namespace {

BackupSummary backup(const std::string& label, const std::string& type, const std::string& prior,
                     const std::string& walStart, const std::string& walStop) {
    BackupSummary b;
    b.label = label;
    b.type = type;
    b.prior = prior;
    b.walStart = walStart;
    b.walStop = walStop;
    return b;
}

// F1 <- I1, F2 <- D2 <- I2, F3
BackupInfo chain() {
    BackupInfo info;
    info.history.push_back({1, "15", 42});
    info.backups = {
        backup("20260101-000000F", "full", "", "000000010000000000000002",
               "000000010000000000000002"),
        backup("20260101-000000F_20260102-000000I", "incr", "20260101-000000F",
               "000000010000000000000004", "000000010000000000000004"),
        backup("20260103-000000F", "full", "", "000000010000000000000006",
               "000000010000000000000007"),
        backup("20260103-000000F_20260104-000000D", "diff", "20260103-000000F",
               "000000010000000000000009", "000000010000000000000009"),
        backup("20260103-000000F_20260105-000000I", "incr", "20260103-000000F_20260104-000000D",
               "00000001000000000000000B", "00000001000000000000000B"),
        backup("20260106-000000F", "full", "", "00000001000000000000000D",
               "00000001000000000000000D"),
    };
    return info;
}

}  // namespace

TEST(RepoRetention, FullRetentionExpiresOldFullsWithDependents) {
    RetentionPolicy p;
    p.full = 2;
    auto plan = planRetention(chain(), p);
    EXPECT_EQ(plan.expire,
              (std::vector<std::string>{"20260101-000000F", "20260101-000000F_20260102-000000I"}));
    EXPECT_EQ(plan.wal.keepFrom, "0000000000000006");
    EXPECT_TRUE(walExpired("000000010000000000000005", plan.wal));
    EXPECT_FALSE(walExpired("000000010000000000000006", plan.wal));
    EXPECT_FALSE(walExpired("00000002000000000000000E", plan.wal));  // a later timeline
    EXPECT_FALSE(walExpired("00000002.history", plan.wal));
}

TEST(RepoRetention, NothingConfiguredExpiresNothing) {
    auto plan = planRetention(chain(), RetentionPolicy{});
    EXPECT_TRUE(plan.expire.empty());
    EXPECT_TRUE(plan.wal.keepFrom.empty());
    EXPECT_FALSE(walExpired("000000010000000000000001", plan.wal));
}

TEST(RepoRetention, DiffRetentionTakesDependentIncrementals) {
    RetentionPolicy p;
    p.full = 3;
    p.diff = 1;
    BackupInfo info = chain();
    info.backups.push_back(backup("20260106-000000F_20260107-000000D", "diff", "20260106-000000F",
                                  "00000001000000000000000F", "00000001000000000000000F"));
    auto plan = planRetention(info, p);
    EXPECT_EQ(plan.expire, (std::vector<std::string>{"20260103-000000F_20260104-000000D",
                                                     "20260103-000000F_20260105-000000I"}));
}

TEST(RepoRetention, ArchiveRetentionKeepsConsistencyRangesOfOlderBackups) {
    RetentionPolicy p;
    p.full = 3;
    p.archive = 1;
    auto plan = planRetention(chain(), p);
    EXPECT_TRUE(plan.expire.empty());
    EXPECT_EQ(plan.wal.keepFrom, "000000000000000D");
    // Each retained backup older than the window keeps exactly its own wal-start..wal-stop.
    EXPECT_FALSE(walExpired("000000010000000000000002", plan.wal));
    EXPECT_TRUE(walExpired("000000010000000000000003", plan.wal));
    EXPECT_FALSE(walExpired("000000010000000000000006", plan.wal));
    EXPECT_FALSE(walExpired("000000010000000000000007", plan.wal));
    EXPECT_TRUE(walExpired("000000010000000000000008", plan.wal));
    EXPECT_FALSE(walExpired("000000010000000000000007.00000028.backup", plan.wal));
}

TEST(RepoRetention, SetExpiresOneBackupAndItsDependents) {
    RetentionPolicy p;
    p.set = "20260103-000000F_20260104-000000D";
    auto plan = planRetention(chain(), p);
    EXPECT_EQ(plan.expire, (std::vector<std::string>{"20260103-000000F_20260104-000000D",
                                                     "20260103-000000F_20260105-000000I"}));
    EXPECT_TRUE(plan.wal.keepFrom.empty());  // --set never removes WAL

    p.set = "20200101-000000F";
    try {
        planRetention(chain(), p);
        FAIL() << "an unknown set was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::BackupSet);
        EXPECT_NE(std::string(e.what()).find("20200101-000000F"), std::string::npos);
    }
}

// A backup a reader holds is kept with its chain, and the WAL is planned as if it were retained.
TEST(RepoRetention, InUseBackupIsKeptWithItsChain) {
    RetentionPolicy p;
    p.full = 1;
    auto plan = planRetention(chain(), p, {"20260101-000000F_20260102-000000I"});
    EXPECT_EQ(plan.kept,
              (std::vector<std::string>{"20260101-000000F", "20260101-000000F_20260102-000000I"}));
    EXPECT_EQ(plan.expire,
              (std::vector<std::string>{"20260103-000000F", "20260103-000000F_20260104-000000D",
                                        "20260103-000000F_20260105-000000I"}));
    // F1's WAL stays (its range and everything from the archive window on).
    EXPECT_FALSE(walExpired("000000010000000000000002", plan.wal));
    EXPECT_FALSE(walExpired("000000010000000000000004", plan.wal));

    // The diff in use keeps the incr that depends on it; its full was never to expire.
    p.full = 2;
    p.diff = 0;
    plan = planRetention(chain(), p, {"20260103-000000F_20260104-000000D", "20260106-000000F"});
    EXPECT_EQ(plan.kept, (std::vector<std::string>{"20260103-000000F_20260104-000000D",
                                                   "20260103-000000F_20260105-000000I"}));
    EXPECT_EQ(plan.expire,
              (std::vector<std::string>{"20260101-000000F", "20260101-000000F_20260102-000000I"}));

    // --set of a backup in use expires nothing.
    RetentionPolicy set;
    set.set = "20260103-000000F";
    plan = planRetention(chain(), set, {"20260103-000000F"});
    EXPECT_TRUE(plan.expire.empty());
    EXPECT_EQ(plan.kept.size(), 3u);
}
