// The backup history (repo/backup_history.h): a completed backup's manifest copied into
// backup.history/<year>/<label>.manifest.zst, compressed, sealed in an encrypted repository,
// read back byte for byte, refused when damaged; and repo1-retention-history's expiry, which
// keeps listed backups and removes a diff/incr with its full.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <string>

#include "crypto/repo_key.h"
#include "repo/backup_history.h"
#include "repo/checksummed_json.h"
#include "repo/info.h"
#include "repo/manifest.h"
#include "storage/posix.h"
#include "test/unit/manifest_support.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;
using test::errorOf;
using test::has;

constexpr const char* kLabel = "20261121-235959F";
// 2026-12-06 00:00:00 UTC.
constexpr int64_t kNow = 1796515200;

std::shared_ptr<const crypto::RepoKey> testKey() {
    std::array<uint8_t, crypto::kRepoKeyBytes> bytes{};
    for (size_t i = 0; i < bytes.size(); i++) bytes[i] = static_cast<uint8_t>(7 + i);
    return std::make_shared<const crypto::RepoKey>(bytes);
}

class RepoBackupHistory : public ::testing::Test {
  protected:
    void SetUp() override { layout_.stanza = "main"; }
    std::string full(const std::string& path) { return dir_.path() + "/" + path; }
    // A history file as a backup of that label leaves it.
    void backupWithHistory(const std::string& label) {
        saveManifest(repo_, layout_.manifest(label), test::smallManifest(label), layout_.key);
        saveHistoryManifest(repo_, layout_, label);
    }
    BackupInfo infoListing(std::vector<std::string> labels) {
        BackupInfo info{{DbIdentity{1, "15", 7000}}, {}};
        for (auto& l : labels) {
            BackupSummary s;
            s.label = l;
            s.type = l.size() == 16 ? "full" : "incr";
            s.dbId = 1;
            info.backups.push_back(s);
        }
        return info;
    }

    test::TempDir dir_{"repo-backup-history"};
    storage::PosixStorage repo_{dir_.path()};
    Layout layout_;
};

TEST_F(RepoBackupHistory, CopiesTheManifestCompressedUnderItsYear) {
    backupWithHistory(kLabel);
    std::string path = historyManifestPath(layout_, kLabel);
    EXPECT_EQ(path, "backup/main/backup.history/2026/20261121-235959F.manifest.zst");
    std::string stored = test::readFile(full(path));
    ASSERT_GE(stored.size(), 4u);
    EXPECT_EQ(stored.substr(0, 4), std::string("\x28\xb5\x2f\xfd", 4));  // a zstd frame
    std::string manifest = test::readFile(full(layout_.manifest(kLabel)));
    EXPECT_LT(stored.size(), manifest.size());
    EXPECT_EQ(loadHistoryManifest(repo_, layout_, kLabel), manifest);
    // A diff/incr is filed under its full backup's year, as pgBackRest files it.
    EXPECT_EQ(historyManifestPath(layout_, "20251231-235959F_20260101-010000I"),
              "backup/main/backup.history/2025/20251231-235959F_20260101-010000I.manifest.zst");
}

TEST_F(RepoBackupHistory, FallsBackToTheManifestCopyAndRefusesNoManifest) {
    saveManifest(repo_, layout_.manifest(kLabel), test::smallManifest(kLabel));
    std::string manifest = test::readFile(full(layout_.manifest(kLabel)));
    test::writeFile(full(layout_.manifest(kLabel)), "{damaged");
    saveHistoryManifest(repo_, layout_, kLabel);
    EXPECT_EQ(loadHistoryManifest(repo_, layout_, kLabel), manifest);

    Error e = errorOf([&] { saveHistoryManifest(repo_, layout_, "20261122-000000F"); });
    EXPECT_EQ(e.code(), ErrorCode::BackupSet);
    EXPECT_TRUE(has(e.what(), "20261122-000000F")) << e.what();
}

TEST_F(RepoBackupHistory, SealedInAnEncryptedRepositoryAsItsOwnPiece) {
    layout_.key = testKey();
    backupWithHistory(kLabel);
    std::string path = historyManifestPath(layout_, kLabel);
    std::string stored = test::readFile(full(path));
    EXPECT_FALSE(has(stored, kLabel));  // nothing of the manifest in clear
    EXPECT_NE(stored.substr(0, 4), std::string("\x28\xb5\x2f\xfd", 4));
    EXPECT_EQ(loadHistoryManifest(repo_, layout_, kLabel),
              openMetadata(layout_.key, layout_.manifest(kLabel),
                           test::readFile(full(layout_.manifest(kLabel))), "manifest"));
    // Without the key, or moved under another label's name, it does not open.
    Layout plain{.stanza = "main"};
    EXPECT_EQ(errorOf([&] { loadHistoryManifest(repo_, plain, kLabel); }).code(),
              ErrorCode::Crypto);
    fs::create_directories(full("backup/main/backup.history/2026"));
    fs::copy_file(full(path), full(historyManifestPath(layout_, "20261121-235958F")));
    Error moved = errorOf([&] { loadHistoryManifest(repo_, layout_, "20261121-235958F"); });
    EXPECT_EQ(moved.code(), ErrorCode::Crypto);
    EXPECT_TRUE(has(moved.what(), "20261121-235958F.manifest.zst")) << moved.what();
}

TEST_F(RepoBackupHistory, ADamagedOrTruncatedCopyIsAnErrorNamingIt) {
    backupWithHistory(kLabel);
    std::string path = full(historyManifestPath(layout_, kLabel));
    std::string stored = test::readFile(path);
    test::writeFile(path, stored.substr(0, stored.size() - 3));
    Error truncated = errorOf([&] { loadHistoryManifest(repo_, layout_, kLabel); });
    EXPECT_TRUE(has(truncated.what(), path)) << truncated.what();
    stored[stored.size() / 2] ^= 0x40;
    test::writeFile(path, stored);
    Error flipped = errorOf([&] { loadHistoryManifest(repo_, layout_, kLabel); });
    EXPECT_TRUE(has(flipped.what(), path)) << flipped.what();
}

TEST_F(RepoBackupHistory, RetentionKeepsListedBackupsAndRecentDaysOnly) {
    const std::string oldFull = "20251001-000000F", oldIncr = "20251001-000000F_20261130-000000I",
                      listedOld = "20250101-000000F", recent = "20261120-000000F",
                      edge = "20261106-000000F", beforeEdge = "20261105-235959F",
                      today = "20261206-000000F";
    for (const auto& l : {oldFull, oldIncr, listedOld, recent, edge, beforeEdge, today})
        backupWithHistory(l);
    // Not history files: left alone whatever their age.
    test::writeFile(full("backup/main/backup.history/2025/notes.txt"), "mine");
    test::writeFile(full("backup/main/backup.history/2025/20250101-000000F.manifest.gz"), "gz");
    auto info = infoListing({listedOld});

    // 30 days before 2026-12-06 is 2026-11-06: a label of that day is kept, of the day before not.
    auto dry = expireHistory(repo_, layout_, info, 30, kNow, true);
    EXPECT_EQ(dry, (std::vector<std::string>{oldFull, oldIncr, beforeEdge}));
    EXPECT_TRUE(fs::exists(full(historyManifestPath(layout_, oldFull))));

    auto removed = expireHistory(repo_, layout_, info, 30, kNow, false);
    EXPECT_EQ(removed, dry);
    for (const auto& l : {oldFull, oldIncr, beforeEdge})
        EXPECT_FALSE(fs::exists(full(historyManifestPath(layout_, l)))) << l;
    for (const auto& l : {listedOld, recent, edge, today})
        EXPECT_TRUE(fs::exists(full(historyManifestPath(layout_, l)))) << l;
    EXPECT_TRUE(fs::exists(full("backup/main/backup.history/2025/notes.txt")));
    EXPECT_TRUE(fs::exists(full("backup/main/backup.history/2025/20250101-000000F.manifest.gz")));
    EXPECT_TRUE(fs::is_directory(full("backup/main/backup.history/2025")));

    // 1 day keeps yesterday's and today's; 0 keeps only the listed backups' history, even a
    // backup expired today loses it.
    EXPECT_EQ(expireHistory(repo_, layout_, info, 1, kNow, false),
              (std::vector<std::string>{edge, recent}));
    EXPECT_EQ(expireHistory(repo_, layout_, info, 0, kNow, false),
              (std::vector<std::string>{today}));
    EXPECT_TRUE(fs::exists(full(historyManifestPath(layout_, listedOld))));
    // No history at all: nothing to do.
    Layout other{.stanza = "other"};
    EXPECT_TRUE(expireHistory(repo_, other, info, 0, kNow, false).empty());
}

}  // namespace
}  // namespace backrest::repo
