// Unit tests for worker/expire's runExpire on a posix repository: the report it returns, what it
// removes (backup.info entry, backup directory, WAL no retained backup needs), and a backup a
// reader holds kept this time.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "repo/backup_history.h"
#include "repo/file_lock.h"
#include "repo/info.h"
#include "repo/retention_time.h"
#include "repo/wal_dropped.h"
#include "storage/posix.h"
#include "test_support.h"
#include "worker/expire.h"

namespace backrest::cmd {
namespace {

namespace fs = std::filesystem;
using test::has;

constexpr const char* kOld = "20261201-000000F";
constexpr const char* kNew = "20261202-000000F";
const std::string kWalDir = "archive/main/16-1/0000000100000000";

std::string segment(int n) {
    return fmt::format("0000000100000000000000{:02X}", n);
}

class ExpireTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "expire-test-XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        repo_ = std::make_unique<storage::PosixStorage>(dir_ + "/repo");
        layout_.stanza = "main";
        repo::DbIdentity db{1, "16", 7000};
        repo::BackupInfo info{{db}, {backup(kOld, 2, 3), backup(kNew, 5, 6)}};
        repo::saveBackupInfo(*repo_, layout_, info);
        repo::saveArchiveInfo(*repo_, layout_, repo::ArchiveInfo{{db}});
        for (const char* label : {kOld, kNew})
            storage::writeAll(*repo_, layout_.manifest(label), "{}");
        for (int n = 2; n <= 6; n++) storage::writeAll(*repo_, walFile(n), "wal");
    }
    void TearDown() override { fs::remove_all(dir_); }

    static repo::BackupSummary backup(const std::string& label, int walStart, int walStop) {
        repo::BackupSummary s;
        s.label = label;
        s.type = "full";
        s.walStart = segment(walStart);
        s.walStop = segment(walStop);
        s.dbId = 1;
        return s;
    }
    static std::string walFile(int n) {
        return kWalDir + "/" + segment(n) + "-" + std::string(40, 'a') + ".zst";
    }
    bool exists(const std::string& path) { return fs::exists(dir_ + "/repo/" + path); }
    std::string expire(int full, bool dryRun) {
        repo::RetentionPolicy policy;
        policy.full = full;
        return runExpire(*repo_, layout_, policy, dryRun, lockPath());
    }
    std::string lockPath() const { return dir_ + "/lock"; }

    std::string dir_;
    std::unique_ptr<storage::PosixStorage> repo_;
    repo::Layout layout_;
};

// archive-push-queue-max's records go with the WAL retention lets go, not before.
TEST_F(ExpireTest, DropRecordsGoWithTheWalTheyWereIn) {
    for (int n : {3, 5})
        storage::writeAll(*repo_, repo::droppedDir(layout_) + "/16-1-" + segment(n), "x\n");
    expire(1, true);
    EXPECT_EQ(repo::listDropped(*repo_, layout_).size(), 2u);
    expire(1, false);
    auto left = repo::listDropped(*repo_, layout_);
    ASSERT_EQ(left.size(), 1u);
    EXPECT_EQ(left[0].segment, segment(5));
}

TEST_F(ExpireTest, DryRunReportsAndRemovesNothing) {
    EXPECT_EQ(expire(1, true),
              "would expire backup 20261201-000000F\n"
              "would expire 3 WAL files from 000000010000000000000002 to "
              "000000010000000000000004\n");
    EXPECT_TRUE(exists(layout_.manifest(kOld)));
    for (int n = 2; n <= 6; n++) EXPECT_TRUE(exists(walFile(n))) << n;
    EXPECT_EQ(repo::requireBackupInfo(*repo_, layout_).backups.size(), 2u);
}

TEST_F(ExpireTest, RemovesTheBackupAndTheWalOnlyItNeeded) {
    EXPECT_EQ(expire(1, false),
              "expired backup 20261201-000000F\n"
              "expired 3 WAL files from 000000010000000000000002 to 000000010000000000000004\n");
    auto info = repo::requireBackupInfo(*repo_, layout_);
    ASSERT_EQ(info.backups.size(), 1u);
    EXPECT_EQ(info.backups[0].label, kNew);
    EXPECT_FALSE(exists(layout_.backupDir(kOld)));
    EXPECT_TRUE(exists(layout_.manifest(kNew)));
    for (int n = 2; n <= 4; n++) EXPECT_FALSE(exists(walFile(n))) << n;
    for (int n = 5; n <= 6; n++) EXPECT_TRUE(exists(walFile(n))) << n;
}

// Time retention (repo1-retention-full-type=time) through runExpire: kNew stopped 2 days ago,
// older than a 1-day period, so kOld goes with the WAL before kNew; with 3 days nothing does.
TEST_F(ExpireTest, TimeRetentionExpiresFullsOlderThanTheOneCoveringThePeriod) {
    repo::RetentionPolicy policy;
    policy.fullType = "time";
    policy.full = 3;
    policy.now = 3 * repo::kSecondsPerDay;  // the fixture's backups stopped at 0 (epoch)
    EXPECT_EQ(runExpire(*repo_, layout_, policy, false, lockPath()), "nothing to expire\n");
    policy.full = 1;
    policy.now = 2 * repo::kSecondsPerDay;
    EXPECT_EQ(runExpire(*repo_, layout_, policy, false, lockPath()),
              "expired backup 20261201-000000F\n"
              "expired 3 WAL files from 000000010000000000000002 to 000000010000000000000004\n");
    EXPECT_FALSE(exists(layout_.backupDir(kOld)));
    EXPECT_TRUE(exists(walFile(5)));
}

TEST_F(ExpireTest, NothingToExpire) {
    EXPECT_EQ(expire(2, false), "nothing to expire\n");
}

TEST_F(ExpireTest, BackupAReaderHoldsIsKeptThisTime) {
    repo::ensureLockDirectory(lockPath());
    auto reader = repo::FileLock::tryAcquire(
        repo::backupReadLockFile(lockPath(), layout_.stanza, kOld), repo::FileLock::Mode::Shared);
    ASSERT_TRUE(reader);
    std::string report = expire(1, false);
    EXPECT_TRUE(has(report, "WARNING: backup 20261201-000000F is in use (")) << report;
    EXPECT_TRUE(has(report, "): kept this time; the next expire will remove it\n")) << report;
    EXPECT_FALSE(has(report, "expired backup")) << report;
    EXPECT_TRUE(exists(layout_.manifest(kOld)));
    EXPECT_EQ(repo::requireBackupInfo(*repo_, layout_).backups.size(), 2u);
    // Its WAL is planned as if it were retained.
    EXPECT_TRUE(exists(walFile(2)));
}

TEST_F(ExpireTest, WalIsKeptWhileVerifyReadsTheArchive) {
    repo::ensureLockDirectory(lockPath());
    auto verify = repo::FileLock::tryAcquire(repo::archiveReadLockFile(lockPath(), layout_.stanza),
                                             repo::FileLock::Mode::Shared);
    ASSERT_TRUE(verify);
    std::string report = expire(1, false);
    EXPECT_TRUE(has(report, "expired backup 20261201-000000F\nWARNING: WAL is being read ("))
        << report;
    EXPECT_TRUE(has(report, "): no WAL expired this time;")) << report;
    EXPECT_FALSE(exists(layout_.backupDir(kOld)));
    for (int n = 2; n <= 6; n++) EXPECT_TRUE(exists(walFile(n))) << n;
}

// repo1-retention-history: the history of a backup expired now goes with it (0 days), dry run
// included; the history of a listed backup stays; unset, history is never touched.
TEST_F(ExpireTest, HistoryOfExpiredBackupsGoesWithRetentionHistory) {
    for (const char* label : {kOld, kNew})
        storage::writeAll(*repo_, repo::historyManifestPath(layout_, label), "history");
    repo::RetentionPolicy policy;
    policy.full = 1;
    EXPECT_FALSE(has(runExpire(*repo_, layout_, policy, true, lockPath()), "history"));
    policy.history = 0;
    policy.now = 1796515200;  // 2026-12-06
    EXPECT_EQ(runExpire(*repo_, layout_, policy, true, lockPath()),
              "would expire backup 20261201-000000F\n"
              "would expire history manifest 20261201-000000F\n"
              "would expire 3 WAL files from 000000010000000000000002 to "
              "000000010000000000000004\n");
    EXPECT_TRUE(exists(repo::historyManifestPath(layout_, kOld)));
    std::string report = runExpire(*repo_, layout_, policy, false, lockPath());
    EXPECT_TRUE(has(report,
                    "expired backup 20261201-000000F\nexpired history manifest "
                    "20261201-000000F\n"))
        << report;
    EXPECT_FALSE(exists(repo::historyManifestPath(layout_, kOld)));
    EXPECT_TRUE(exists(repo::historyManifestPath(layout_, kNew)));
    // Kept for days: a history only days old stays after its backup expired.
    policy.history = 30;
    EXPECT_EQ(runExpire(*repo_, layout_, policy, false, lockPath()), "nothing to expire\n");
}

}  // namespace
}  // namespace backrest::cmd
