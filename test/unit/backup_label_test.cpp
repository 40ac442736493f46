// A new backup's label (src/command/backup/backup_label.h): later than every backup in the
// repository, and claimed alone.
#include "command/backup/backup_label.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <ctime>
#include <filesystem>

#include "storage/posix.h"
#include "test/unit/test_support.h"

namespace backrest::backup {
namespace {

namespace fs = std::filesystem;

class BackupLabel : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = fs::temp_directory_path().string() + "/backup-label-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        root_ = tmpl;
        repo_ = std::make_unique<storage::PosixStorage>(root_);
        fs::create_directories(root_ + "/" + layout_.backupRoot());
        info_.history = {{1, "15", 1}};
    }
    void TearDown() override { fs::remove_all(root_); }
    std::string dir(const std::string& label) { return root_ + "/" + layout_.backupDir(label); }

    std::string root_;
    repo::Layout layout_{"main", nullptr};
    repo::BackupInfo info_;
    std::unique_ptr<storage::PosixStorage> repo_;
};

TEST_F(BackupLabel, AFullLabelIsForNow) {
    std::time_t before = std::time(nullptr);
    std::string label = BackupLabeler(*repo_, layout_, info_, "full", "").firstFree();
    EXPECT_TRUE(repo::isBackupLabel(label)) << label;
    EXPECT_EQ(label.back(), 'F');
    EXPECT_GE(repo::labelTime(label), repo::labelTime(repo::fullLabel(before)));
}

TEST_F(BackupLabel, ADependentLabelNamesItsFullBackup) {
    std::string full = repo::fullLabel(std::time(nullptr) - 3600);
    std::string label = BackupLabeler(*repo_, layout_, info_, "diff", full).firstFree();
    EXPECT_EQ(label.substr(0, 17), full.substr(0, 16) + "_") << label;
    EXPECT_EQ(label.back(), 'D');
}

// backup --repo=all: a repository whose newest backup is older than another's still takes the
// later time, so that the backup has one label time in every repository.
TEST_F(BackupLabel, ALabelIsNoEarlierThanNotBefore) {
    std::string later = repo::labelTime(repo::fullLabel(std::time(nullptr) + 1));
    std::string label = BackupLabeler(*repo_, layout_, info_, "full", "").firstFree(later);
    EXPECT_EQ(repo::labelTime(label), later) << label;
    std::string full = repo::fullLabel(std::time(nullptr) - 3600);
    std::string incr = BackupLabeler(*repo_, layout_, info_, "incr", full).firstFree(later);
    EXPECT_EQ(repo::labelTime(incr), later) << incr;
    EXPECT_EQ(incr.substr(0, 16), full);
}

// backup --repo=all chose its time before claiming it in each repository: a second that passed
// meanwhile (a loaded machine) does not give a later repository another label.
TEST_F(BackupLabel, NotBeforeIsTheLabelTimeEvenWhenASecondPassed) {
    std::string chosen = repo::labelTime(repo::fullLabel(std::time(nullptr) - 5));
    std::string label = BackupLabeler(*repo_, layout_, info_, "full", "").firstFree(chosen);
    EXPECT_EQ(label, chosen + "F");
}

// A backup (committed, or the directory of an interrupted one) in the current second: the new
// label waits for a later second, so that labels sort in the order backups were taken.
TEST_F(BackupLabel, ALabelSortsAfterEveryBackupInTheRepository) {
    std::string now = repo::fullLabel(std::time(nullptr));
    fs::create_directories(dir(now));
    std::string label = BackupLabeler(*repo_, layout_, info_, "full", "").firstFree();
    EXPECT_GT(repo::labelTime(label), repo::labelTime(now)) << label;

    repo::BackupSummary committed;
    committed.label = repo::fullLabel(std::time(nullptr) + 1);
    info_.backups.push_back(committed);
    label = BackupLabeler(*repo_, layout_, info_, "full", "").firstFree();
    EXPECT_GT(repo::labelTime(label), repo::labelTime(committed.label)) << label;
}

// Another host claimed the label at the same moment: this backup takes a later label.
TEST_F(BackupLabel, AClaimNotAloneMovesToALaterLabel) {
    BackupLabeler labeler(*repo_, layout_, info_, "full", "");
    std::string first = labeler.firstFree();
    fs::create_directories(dir(first));
    test::writeFile(dir(first) + "/backup.claim.otherhost-1-0000000100000002", "otherhost 1\n");

    std::string label = first;
    auto claim = labeler.claim(label);
    ASSERT_TRUE(claim->alone());
    EXPECT_GT(repo::labelTime(label), repo::labelTime(first)) << label;
    size_t claims = 0;
    for (const auto& entry : fs::directory_iterator(dir(label)))
        claims += entry.path().filename().string().starts_with("backup.claim.");
    EXPECT_EQ(claims, 1u);
    size_t left = 0;
    for (const auto& entry : fs::directory_iterator(dir(first)))
        left += entry.path().filename().string().starts_with("backup.claim.");
    EXPECT_EQ(left, 1u) << "the withdrawn claim is removed, the other stays";
}

}  // namespace
}  // namespace backrest::backup
