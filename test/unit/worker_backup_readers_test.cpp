// The readers' side of the backup locks (worker/backup_readers.h): a restore or verify that meets
// an expire holding a backup it needs is refused (restore) or leaves it out (verify), naming the
// backup, the expire and what is still available, instead of reading files being removed.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "repo/file_lock.h"
#include "repo/info.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"
#include "worker/backup_readers.h"

namespace backrest::cmd {
namespace {

using test::errorOf;
using test::has;

constexpr const char* kF1 = "20261101-000000F";
constexpr const char* kI1 = "20261101-000000F_20261102-000000I";
constexpr const char* kI2 = "20261101-000000F_20261103-000000I";
constexpr const char* kF2 = "20261105-000000F";

repo::BackupSummary summary(const std::string& label, const std::string& prior) {
    repo::BackupSummary b;
    b.label = label;
    b.type = prior.empty() ? "full" : "incr";
    b.prior = prior;
    return b;
}

// F1 <- I1 <- I2, F2
class WorkerBackupReaders : public ::testing::Test {
  protected:
    WorkerBackupReaders() : repo_(dir_ / "repo") {
        repo::BackupInfo info;
        info.history.push_back({1, "15", 7});
        info.backups = {summary(kF1, ""), summary(kI1, kF1), summary(kI2, kI1), summary(kF2, "")};
        repo::saveBackupInfo(repo_, layout_, info);
        repo::ensureLockDirectory(dir_ / "lock");  // as BackupReaders and expire make it
    }

    Config config() {
        test::writeFile(dir_ / "empty.conf", "");
        std::vector<std::string> args{"backrest",
                                      "--config=" + (dir_ / "empty.conf"),
                                      "--stanza=main",
                                      "--repo1-path=" + (dir_ / "repo"),
                                      "--lock-path=" + (dir_ / "lock"),
                                      "restore"};
        std::vector<const char*> argv;
        for (const auto& a : args) argv.push_back(a.c_str());
        const char* const envp[] = {nullptr};
        return Config::parse(static_cast<int>(argv.size()), argv.data(), envp);
    }

    // What an expire takes on a backup it removes.
    std::unique_ptr<repo::FileLock> expiring(const std::string& label) {
        auto lock =
            repo::FileLock::tryAcquire(repo::backupReadLockFile(dir_ / "lock", "main", label),
                                       repo::FileLock::Mode::Exclusive);
        EXPECT_NE(lock, nullptr);
        return lock;
    }

    test::TempDir dir_{"worker-backup-readers"};
    storage::PosixStorage repo_;
    repo::Layout layout_{"main", nullptr};
};

}  // namespace

TEST_F(WorkerBackupReaders, ChainIsNewestFirstAndStopsOnALoop) {
    auto info = repo::requireBackupInfo(repo_, layout_);
    EXPECT_EQ(backupChain(info, kI2), (std::vector<std::string>{kI2, kI1, kF1}));
    EXPECT_EQ(backupChain(info, kF2), (std::vector<std::string>{kF2}));
    EXPECT_TRUE(backupChain(info, "20261231-000000F").empty());
    // A damaged backup.info whose prior links loop must not hang a restore.
    info.backups[0].prior = kI2;
    EXPECT_EQ(backupChain(info, kI2), (std::vector<std::string>{kI2, kI1, kF1}));
}

TEST_F(WorkerBackupReaders, AvailableBackups) {
    auto info = repo::requireBackupInfo(repo_, layout_);
    EXPECT_EQ(availableBackups(info), std::string(kF1) + ", " + kI1 + ", " + kI2 + ", " + kF2);
    EXPECT_EQ(availableBackups(repo::BackupInfo{}), "none");
}

TEST_F(WorkerBackupReaders, RestoreHoldsTheWholeChain) {
    Config cfg = config();
    BackupReaders readers(cfg, layout_);
    auto info = holdForRestore(readers, repo_, layout_, kI2);
    EXPECT_NE(info.find(kI2), nullptr);
    // Held shared: an expire can no longer take any backup of the chain, but may take F2.
    for (const char* label : {kF1, kI1, kI2})
        EXPECT_EQ(repo::FileLock::tryAcquire(repo::backupReadLockFile(dir_ / "lock", "main", label),
                                             repo::FileLock::Mode::Exclusive),
                  nullptr)
            << label;
    EXPECT_NE(expiring(kF2), nullptr);
}

TEST_F(WorkerBackupReaders, RestoreOfABackupWhosePriorIsExpiringIsRefused) {
    Config cfg = config();
    auto expire = expiring(kF1);
    BackupReaders readers(cfg, layout_);
    Error e = errorOf([&] { holdForRestore(readers, repo_, layout_, kI1); });
    EXPECT_EQ(e.code(), ErrorCode::BackupSet);
    EXPECT_TRUE(has(e.what(), std::string("restore: backup ") + kF1 + " is being expired ("))
        << e.what();
    EXPECT_TRUE(has(e.what(), std::to_string(getpid()))) << e.what();  // who holds it
    EXPECT_TRUE(has(e.what(), std::string(", and backup ") + kI1 + " needs it")) << e.what();
    // Only backups whose chain avoids F1 are offered.
    EXPECT_TRUE(has(e.what(), std::string("(available: ") + kF2 + ")")) << e.what();
}

TEST_F(WorkerBackupReaders, RestoreOfTheExpiringBackupItselfIsRefused) {
    Config cfg = config();
    auto expire = expiring(kF2);
    BackupReaders readers(cfg, layout_);
    Error e = errorOf([&] { holdForRestore(readers, repo_, layout_, kF2); });
    EXPECT_EQ(e.code(), ErrorCode::BackupSet);
    EXPECT_TRUE(has(e.what(), std::string("restore: backup ") + kF2 + " is being expired ("))
        << e.what();
    EXPECT_FALSE(has(e.what(), "needs it")) << e.what();
    EXPECT_TRUE(has(e.what(), std::string("available: ") + kF1 + ", " + kI1 + ", " + kI2 + ")"))
        << e.what();
}

TEST_F(WorkerBackupReaders, RestoreOfABackupExpiredMeanwhileIsRefused) {
    Config cfg = config();
    BackupReaders readers(cfg, layout_);
    Error e = errorOf([&] { holdForRestore(readers, repo_, layout_, "20261104-000000F"); });
    EXPECT_EQ(e.code(), ErrorCode::BackupSet);
    EXPECT_TRUE(has(e.what(),
                    "restore: backup 20261104-000000F was expired as this restore "
                    "started; available: " +
                        std::string(kF1)))
        << e.what();
}

TEST_F(WorkerBackupReaders, VerifyLeavesOutWhatIsExpiringAndSaysWhy) {
    Config cfg = config();
    auto expire = expiring(kI1);
    BackupReaders readers(cfg, layout_);
    std::vector<std::string> warnings;
    auto info = holdForVerify(readers, repo_, layout_, std::nullopt, warnings);
    ASSERT_EQ(info.backups.size(), 2u);
    EXPECT_EQ(info.backups[0].label, kF1);
    EXPECT_EQ(info.backups[1].label, kF2);
    ASSERT_EQ(warnings.size(), 2u);
    EXPECT_TRUE(has(warnings[0], std::string("backup ") + kI1 + " is being expired ("))
        << warnings[0];
    EXPECT_TRUE(has(warnings[0], "): not verified")) << warnings[0];
    EXPECT_TRUE(has(warnings[1], std::string("backup ") + kI2 + " depends on backup " + kI1 +
                                     ", which is being expired ("))
        << warnings[1];
}

TEST_F(WorkerBackupReaders, VerifyOfOneSetHoldsOnlyItsChain) {
    Config cfg = config();
    auto expire = expiring(kF2);  // not in I2's chain: no warning
    BackupReaders readers(cfg, layout_);
    std::vector<std::string> warnings;
    auto info = holdForVerify(readers, repo_, layout_, std::string(kI2), warnings);
    EXPECT_TRUE(warnings.empty());
    EXPECT_EQ(info.backups.size(), 4u);  // backup.info as read; verify picks its set from it
    EXPECT_EQ(repo::FileLock::tryAcquire(repo::backupReadLockFile(dir_ / "lock", "main", kF1),
                                         repo::FileLock::Mode::Exclusive),
              nullptr);  // held now
}

}  // namespace backrest::cmd
