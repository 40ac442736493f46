// backup.info's list kept equal to the complete backups (repo/backup_listing.h): listBackup adds
// or replaces an entry, reconcileBackupInfo lists again a complete backup the list lost (with what
// depends on it) and drops an entry whose directory is gone, and leaves alone what is incomplete,
// damaged or depends on a backup that is not listed.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "repo/backup_listing.h"
#include "repo/bundle.h"
#include "repo/info.h"
#include "repo/manifest.h"
#include "storage/posix.h"
#include "test/unit/manifest_support.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

constexpr const char* kFull = "20261121-235959F";
constexpr const char* kIncr = "20261121-235959F_20261122-010000I";
constexpr const char* kLater = "20261123-000000F";

class RepoBackupListing : public ::testing::Test {
  protected:
    void SetUp() override {
        layout_.stanza = "main";
        saveBackupInfo(repo_, layout_, BackupInfo{{DbIdentity{1, "15", 7000}}, {}});
    }
    std::string full(const std::string& path) { return dir_.path() + "/" + path; }
    void put(const std::string& path, const std::string& bytes) {
        std::filesystem::create_directories(std::filesystem::path(full(path)).parent_path());
        test::writeFile(full(path), bytes);
    }
    Manifest manifestOf(const std::string& label, const std::string& prior = "") {
        Manifest m = test::smallManifest(label);
        if (!prior.empty()) {
            m.type = "incr";
            m.prior = prior;
            m.files.front().reference = prior;
        }
        return m;
    }
    // A backup that completed: its own files and its manifest in its directory.
    void complete(const std::string& label, const std::string& prior = "") {
        Manifest m = manifestOf(label, prior);
        for (const auto& f : m.files)
            if (f.reference.empty()) put(storedLocation(layout_, label, f, ".zst").path, "stored");
        saveManifest(repo_, layout_.manifest(label), m);
    }
    std::vector<std::string> labels(const BackupInfo& info) {
        std::vector<std::string> out;
        for (const auto& b : info.backups) out.push_back(b.label);
        return out;
    }

    test::TempDir dir_{"repo-backup-listing"};
    storage::PosixStorage repo_{dir_.path()};
    Layout layout_;
};

TEST_F(RepoBackupListing, ListBackupAddsInLabelOrderAndReplacesItsOwnEntry) {
    complete(kLater);
    listBackup(repo_, layout_, BackupSummary::of(manifestOf(kLater)));
    complete(kFull);
    listBackup(repo_, layout_, BackupSummary::of(manifestOf(kFull)));
    auto again = BackupSummary::of(manifestOf(kFull));
    again.annotations["note"] = "second";
    listBackup(repo_, layout_, again);
    auto info = requireBackupInfo(repo_, layout_);
    EXPECT_EQ(labels(info), (std::vector<std::string>{kFull, kLater}));
    EXPECT_EQ(info.find(kFull)->annotations.at("note"), "second");
}

TEST_F(RepoBackupListing, ReconcileListsALostFullAndTheIncrOnIt) {
    complete(kFull);
    complete(kIncr, kFull);
    auto info = requireBackupInfo(repo_, layout_);
    EXPECT_TRUE(reconcileBackupInfo(repo_, layout_, info));
    EXPECT_EQ(labels(info), (std::vector<std::string>{kFull, kIncr}));
    EXPECT_EQ(info.find(kIncr)->prior, kFull);
    EXPECT_EQ(info.find(kIncr)->references, (std::vector<std::string>{kFull}));
    // Nothing more to do the second time.
    EXPECT_FALSE(reconcileBackupInfo(repo_, layout_, info));
}

TEST_F(RepoBackupListing, ReconcileDropsAnEntryWhoseDirectoryIsGone) {
    complete(kFull);
    listBackup(repo_, layout_, BackupSummary::of(manifestOf(kFull)));
    listBackup(repo_, layout_, BackupSummary::of(manifestOf(kLater)));  // no directory
    auto info = requireBackupInfo(repo_, layout_);
    EXPECT_TRUE(reconcileBackupInfo(repo_, layout_, info));
    EXPECT_EQ(labels(info), (std::vector<std::string>{kFull}));
}

TEST_F(RepoBackupListing, ReconcileLeavesIncompleteDamagedAndOrphanedBackupsUnlisted) {
    // Incomplete: a directory without a manifest (a backup running, or interrupted).
    put(layout_.backupDir(kFull) + "/backup.claim.host-1-x", "host 1\n");
    // An incr whose prior is not listed (its full expired).
    complete(kIncr, "20261120-000000F");
    // A damaged manifest.
    complete(kLater);
    std::string manifest = full(layout_.manifest(kLater));
    std::string bytes = test::readFile(manifest);
    bytes[bytes.size() / 2] ^= 0x01;
    test::writeFile(manifest, bytes);
    std::filesystem::remove(manifest + ".copy");
    auto info = requireBackupInfo(repo_, layout_);
    EXPECT_FALSE(reconcileBackupInfo(repo_, layout_, info));
    EXPECT_TRUE(info.backups.empty());
}

TEST_F(RepoBackupListing, ReconcileLeavesAManifestOverMissingFilesUnlisted) {
    complete(kFull);
    std::filesystem::remove(full(layout_.backupFile(kFull, "pg_data/base/16384/16385", ".zst")));
    auto info = requireBackupInfo(repo_, layout_);
    EXPECT_FALSE(reconcileBackupInfo(repo_, layout_, info));
    EXPECT_TRUE(info.backups.empty());
}

TEST_F(RepoBackupListing, ReconcileRefusesAManifestOfAnotherLabelOrDatabase) {
    saveManifest(repo_, layout_.manifest(kFull), manifestOf(kLater));  // copied by hand
    auto other = manifestOf(kLater);
    other.dbId = 9;
    saveManifest(repo_, layout_.manifest(kLater), other);
    auto info = requireBackupInfo(repo_, layout_);
    EXPECT_FALSE(reconcileBackupInfo(repo_, layout_, info));
    EXPECT_TRUE(info.backups.empty());
}

}  // namespace
}  // namespace backrest::repo
