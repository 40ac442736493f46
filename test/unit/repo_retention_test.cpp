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

// Fewer fulls than repo1-retention-full (a stanza's first backups, or a second repository newly
// added): no WAL expires yet, as pgBackRest ("too soon to expire them"); WAL older than the first
// backup may be what a DBA still recovers from. With enough fulls it expires as usual.
TEST(RepoRetention, FewerBackupsThanTheRetentionExpireNoWal) {
    BackupInfo one;
    one.history.push_back({1, "15", 42});
    one.backups = {backup("20260103-000000F", "full", "", "000000010000000000000006",
                          "000000010000000000000007")};
    RetentionPolicy p;
    p.full = 2;
    auto plan = planRetention(one, p);
    EXPECT_TRUE(plan.expire.empty());
    EXPECT_FALSE(plan.expiresWal());
    EXPECT_FALSE(walExpired("000000010000000000000001", plan.wal));
    // A second full reaches the retention: the WAL before the oldest goes.
    one.backups.push_back(backup("20260106-000000F", "full", "", "00000001000000000000000D",
                                 "00000001000000000000000D"));
    plan = planRetention(one, p);
    EXPECT_TRUE(walExpired("000000010000000000000001", plan.wal));
    EXPECT_FALSE(walExpired("000000010000000000000006", plan.wal));
    // repo1-retention-archive counts alike.
    p.full = 5;
    p.archive = 3;
    EXPECT_FALSE(planRetention(one, p).expiresWal());
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

namespace {

// Cluster A (db-id 1) with fulls A1, A2; then a new initdb B (db-id 2, segment numbers from 1
// again) with full B1.
BackupInfo upgraded() {
    BackupInfo info;
    info.history = {{1, "15", 42}, {2, "15", 43}};
    info.backups = {backup("20260101-000000F", "full", "", "000000010000000000000002",
                           "000000010000000000000002"),
                    backup("20260102-000000F", "full", "", "000000010000000000000008",
                           "000000010000000000000008"),
                    backup("20260103-000000F", "full", "", "000000010000000000000003",
                           "000000010000000000000003")};
    info.backups[2].dbId = 2;
    return info;
}

}  // namespace

// retention-full=1: A's fulls go, and with them all of A's WAL (its archive id, history files
// too); B's WAL from B1 stays, whatever A's segment numbers were.
TEST(RepoRetention, AnEarlierDatabaseWithNoBackupLeftLosesAllItsWal) {
    RetentionPolicy p;
    p.full = 1;
    auto plan = planRetention(upgraded(), p);
    EXPECT_EQ(plan.expire, (std::vector<std::string>{"20260101-000000F", "20260102-000000F"}));
    EXPECT_TRUE(plan.expiresWal());
    EXPECT_EQ(plan.walOf(2, 2).keepFrom, "0000000000000003");
    EXPECT_FALSE(walExpired("000000010000000000000003", plan.walOf(2, 2)));
    EXPECT_TRUE(walExpired("000000010000000000000002", plan.walOf(2, 2)));
    const WalKeep& a = plan.walOf(1, 2);
    EXPECT_TRUE(a.removeAll);
    EXPECT_TRUE(walExpired("000000010000000000000009", a));
    EXPECT_TRUE(walExpired("00000002.history", a));
}

// retention-full=2: A2 stays, and all of A's WAL from A2 on (point-in-time recovery of A up to
// its last segment); B's segment numbers below A2's do not make B's WAL go, nor A's stay.
TEST(RepoRetention, EachDatabaseKeepsItsWalFromItsOwnOldestBackup) {
    RetentionPolicy p;
    p.full = 2;
    auto plan = planRetention(upgraded(), p);
    EXPECT_EQ(plan.expire, (std::vector<std::string>{"20260101-000000F"}));
    const WalKeep& a = plan.walOf(1, 2);
    EXPECT_FALSE(a.removeAll);
    EXPECT_EQ(a.keepFrom, "0000000000000008");
    EXPECT_TRUE(walExpired("000000010000000000000003", a));
    EXPECT_FALSE(walExpired("000000010000000000000009", a));
    EXPECT_EQ(plan.walOf(2, 2).keepFrom, "0000000000000003");
    EXPECT_FALSE(walExpired("000000010000000000000004", plan.walOf(2, 2)));
}

// Archive retention of 1 with both clusters' fulls retained: A's backup is outside the archive
// window, so only its own consistency range stays; an id the plan does not know (archive.info
// one ahead after an interrupted stanza-upgrade) keeps everything.
TEST(RepoRetention, AnEarlierDatabaseOutsideTheArchiveWindowKeepsOnlyConsistencyRanges) {
    RetentionPolicy p;
    p.full = 3;
    p.archive = 1;
    auto plan = planRetention(upgraded(), p);
    EXPECT_TRUE(plan.expire.empty());
    const WalKeep& a = plan.walOf(1, 2);
    EXPECT_FALSE(a.removeAll);
    EXPECT_TRUE(walExpired("000000010000000000000009", a));
    EXPECT_FALSE(walExpired("000000010000000000000002", a));
    EXPECT_FALSE(walExpired("000000010000000000000008", a));
    EXPECT_TRUE(walExpired("000000010000000000000005", a));
    EXPECT_FALSE(walExpired("000000010000000000000001", plan.walOf(3, 2)));
}

// Before the new cluster's first backup, its WAL is all kept (it is the current database).
TEST(RepoRetention, TheCurrentDatabaseWithoutBackupsKeepsItsWal) {
    BackupInfo info = upgraded();
    info.backups.pop_back();
    RetentionPolicy p;
    p.full = 1;
    auto plan = planRetention(info, p);
    EXPECT_EQ(plan.expire, (std::vector<std::string>{"20260101-000000F"}));
    EXPECT_FALSE(walExpired("000000010000000000000001", plan.walOf(2, 2)));
    EXPECT_EQ(plan.walOf(1, 2).keepFrom, "0000000000000008");
}
