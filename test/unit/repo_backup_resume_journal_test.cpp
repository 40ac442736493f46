// Resume of an interrupted backup: the journal a backup writes as it copies, which interrupted
// backup the next one takes over, and which of its files it may reuse (only those whose stored
// bytes still hash to the journaled checksum).
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "repo/backup_resume.h"
#include "repo/file_transfer.h"
#include "repo/layout.h"
#include "repo/piece.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;

constexpr const char* kInterrupted = "20261121-235959F";
constexpr const char* kResuming = "20261122-010000F";
constexpr const char* kName = "pg_data/base/1/16384";
constexpr int64_t kStart = 1'000'000;  // the interrupted backup's timestamp-start
constexpr int64_t kMtime = kStart - 60;

class RepoBackupResumeJournal : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(dir_ / "pg/base/1");
        fs::create_directories(dir_ / "repo");
        pg_ = std::make_unique<storage::PosixStorage>(dir_ / "pg");
        repo_ = std::make_unique<storage::PosixStorage>(dir_ / "repo");
    }

    // Stores `bytes` as kName of `label`, as a backup does, and returns its manifest entry.
    ManifestFile store(const std::string& label, const std::string& bytes,
                       uint64_t frameBytes = 0) {
        test::writeFile(dir_ / "pg/base/1/16384", bytes);
        TransferOptions options;
        options.frameBytes = frameBytes;
        auto stored = storeFile(*pg_, "base/1/16384", *repo_, stored_path(label), "", options);
        EXPECT_TRUE(stored.has_value());
        ManifestFile f;
        f.name = kName;
        f.size = stored->size;
        f.repoSize = stored->repoSize;
        f.mtime = kMtime;
        f.checksum = stored->checksum;
        f.frameBytes = stored->frameBytes;
        f.frames = stored->frames;
        return f;
    }
    std::string stored_path(const std::string& label) {
        return layout_.backupFile(label, kName, ".zst");
    }
    // An interrupted full backup holding kName, its journal closed as a killed backup leaves it.
    ManifestFile interrupted(const std::string& label, const std::string& bytes,
                             const std::string& type = "full") {
        ManifestFile f = store(label, bytes);
        ResumeJournal journal(*repo_, layout_, {label, type, "", "zst", kStart});
        journal.add(f);
        return f;
    }
    // The file as the resuming backup scanned it: same size and mtime as when journaled.
    ManifestFile scanned(const ManifestFile& journaled) {
        ManifestFile f;
        f.name = journaled.name;
        f.size = journaled.size;
        f.mtime = journaled.mtime;
        return f;
    }
    bool exists(const std::string& repoPath) { return fs::exists(dir_ / ("repo/" + repoPath)); }

    test::TempDir dir_{"repo-backup-resume"};
    std::unique_ptr<storage::PosixStorage> pg_, repo_;
    Layout layout_{"main", nullptr};
};

TEST_F(RepoBackupResumeJournal, JournaledFileIsFoundAndReusedWithItsBytes) {
    ManifestFile journaled = interrupted(kInterrupted, std::string(300'000, 'x'));

    auto from = takeResumable(*repo_, layout_, "full", "", "zst");
    ASSERT_TRUE(from.has_value());
    EXPECT_EQ(from->header.label, kInterrupted);
    EXPECT_EQ(from->header.timestampStart, kStart);
    ASSERT_EQ(from->files.count(kName), 1u);
    const ResumeEntry& entry = from->files.at(kName);
    EXPECT_EQ(entry.size, journaled.size);
    EXPECT_EQ(entry.repoSize, journaled.repoSize);
    EXPECT_EQ(entry.checksum, journaled.checksum);

    ManifestFile file = scanned(journaled);
    ASSERT_TRUE(resumeFile(*repo_, layout_, *from, kResuming, file, 64 * 1024));
    EXPECT_EQ(file.checksum, journaled.checksum);
    EXPECT_EQ(file.repoSize, journaled.repoSize);
    // The stored bytes are copied under the new label as they were, not compressed again.
    EXPECT_EQ(test::readFile(dir_ / ("repo/" + stored_path(kResuming))),
              test::readFile(dir_ / ("repo/" + stored_path(kInterrupted))));
}

TEST_F(RepoBackupResumeJournal, FramedFileKeepsItsFrameIndex) {
    ManifestFile journaled = store(kInterrupted, std::string(3 * 65536 + 7, 'f'), 65536);
    ASSERT_EQ(journaled.frames.size(), 4u);
    {
        ResumeJournal journal(*repo_, layout_, {kInterrupted, "full", "", "zst", kStart});
        journal.add(journaled);
    }
    auto from = takeResumable(*repo_, layout_, "full", "", "zst");
    ASSERT_TRUE(from.has_value());
    ManifestFile file = scanned(journaled);
    ASSERT_TRUE(resumeFile(*repo_, layout_, *from, kResuming, file, 64 * 1024));
    EXPECT_EQ(file.frameBytes, 65536u);
    EXPECT_EQ(file.frames, journaled.frames);
}

TEST_F(RepoBackupResumeJournal, FrameIndexThatDoesNotAddUpIsCopiedAgain) {
    ManifestFile journaled = store(kInterrupted, std::string(3 * 65536 + 7, 'f'), 65536);
    auto from = ResumableBackup{{kInterrupted, "full", "", "zst", kStart}, {}};
    ResumeEntry entry{journaled.size,     journaled.repoSize,   kMtime,
                      journaled.checksum, journaled.frameBytes, journaled.frames};
    entry.frames.pop_back();
    from.files[kName] = entry;
    ManifestFile file = scanned(journaled);
    EXPECT_FALSE(resumeFile(*repo_, layout_, from, kResuming, file, 64 * 1024));
}

TEST_F(RepoBackupResumeJournal, WrongChecksumIsCopiedAgainAndLeavesNoCopy) {
    ManifestFile journaled = interrupted(kInterrupted, std::string(100'000, 'y'));
    auto from = takeResumable(*repo_, layout_, "full", "", "zst");
    ASSERT_TRUE(from.has_value());
    // Same length, same type (XXH3-128 hex), other value: a journal that lies about the bytes.
    std::string& checksum = from->files.at(kName).checksum;
    checksum[0] = checksum[0] == '0' ? '1' : '0';

    ManifestFile file = scanned(journaled);
    EXPECT_FALSE(resumeFile(*repo_, layout_, *from, kResuming, file, 64 * 1024));
    EXPECT_TRUE(file.checksum.empty());
    EXPECT_FALSE(exists(stored_path(kResuming)));
}

TEST_F(RepoBackupResumeJournal, DamagedStoredBytesAreCopiedAgain) {
    ManifestFile journaled = interrupted(kInterrupted, std::string(100'000, 'z'));
    std::string path = dir_ / ("repo/" + stored_path(kInterrupted));
    std::string bytes = test::readFile(path);
    bytes[bytes.size() / 2] ^= 0x5a;
    test::writeFile(path, bytes);

    auto from = takeResumable(*repo_, layout_, "full", "", "zst");
    ASSERT_TRUE(from.has_value());
    ManifestFile file = scanned(journaled);
    EXPECT_FALSE(resumeFile(*repo_, layout_, *from, kResuming, file, 64 * 1024));
    EXPECT_FALSE(exists(stored_path(kResuming)));
}

TEST_F(RepoBackupResumeJournal, ChangedOrRecentFileIsCopiedAgain) {
    ManifestFile journaled = interrupted(kInterrupted, std::string(1000, 'a'));
    auto from = takeResumable(*repo_, layout_, "full", "", "zst");
    ASSERT_TRUE(from.has_value());

    ManifestFile grown = scanned(journaled);
    grown.size += 1;
    EXPECT_FALSE(resumeFile(*repo_, layout_, *from, kResuming, grown, 4096));
    ManifestFile touched = scanned(journaled);
    touched.mtime += 1;
    EXPECT_FALSE(resumeFile(*repo_, layout_, *from, kResuming, touched, 4096));
    // Modified during the interrupted backup (mtime not before its start): its copy may be torn.
    from->files.at(kName).mtime = kStart;
    ManifestFile recent = scanned(journaled);
    recent.mtime = kStart;
    EXPECT_FALSE(resumeFile(*repo_, layout_, *from, kResuming, recent, 4096));
    ManifestFile unknown = scanned(journaled);
    unknown.name = "pg_data/base/1/99999";
    EXPECT_FALSE(resumeFile(*repo_, layout_, *from, kResuming, unknown, 4096));
}

TEST_F(RepoBackupResumeJournal, OtherTypeOrCompressionIsRemovedNotResumed) {
    interrupted(kInterrupted, "bytes", "diff");
    EXPECT_FALSE(takeResumable(*repo_, layout_, "full", "", "zst").has_value());
    EXPECT_FALSE(exists(layout_.backupDir(kInterrupted)));

    interrupted(kInterrupted, "bytes");
    EXPECT_FALSE(takeResumable(*repo_, layout_, "full", "", "none").has_value());
    EXPECT_FALSE(exists(layout_.backupDir(kInterrupted)));
}

TEST_F(RepoBackupResumeJournal, NewestInterruptedIsTakenOlderRemovedCompleteKept) {
    interrupted("20261120-000000F", "old");
    interrupted(kInterrupted, "newest");
    const std::string complete = "20261119-000000F";
    storage::writeAll(*repo_, layout_.manifest(complete), "a manifest", {});

    auto from = takeResumable(*repo_, layout_, "full", "", "zst");
    ASSERT_TRUE(from.has_value());
    EXPECT_EQ(from->header.label, kInterrupted);
    EXPECT_FALSE(exists(layout_.backupDir("20261120-000000F")));
    EXPECT_TRUE(exists(layout_.backupDir(kInterrupted)));
    EXPECT_TRUE(exists(layout_.manifest(complete)));
}

TEST_F(RepoBackupResumeJournal, TornLastLineLosesOnlyThatFile) {
    ManifestFile journaled = interrupted(kInterrupted, "kept");
    // A second batch cut short mid-line (a kill -9 while writing it, on a storage that shows
    // partial writes): its one file is copied again, the first batch still counts.
    test::writeFile(dir_ / ("repo/" + layout_.backupDir(kInterrupted) + "/backup.resume.1"),
                    "{\"name\":\"pg_data/base/1/2\",\"size\":1");
    auto from = takeResumable(*repo_, layout_, "full", "", "zst");
    ASSERT_TRUE(from.has_value());
    EXPECT_EQ(from->files.size(), 1u);
    EXPECT_EQ(from->files.count(kName), 1u);
}

TEST_F(RepoBackupResumeJournal, JournalOfAnotherLabelIsNotResumed) {
    interrupted(kInterrupted, "bytes");
    // The directory was renamed (or the journal copied): its header names another backup.
    fs::rename(dir_ / ("repo/" + layout_.backupDir(kInterrupted)),
               dir_ / ("repo/" + layout_.backupDir("20261121-235958F")));
    EXPECT_FALSE(takeResumable(*repo_, layout_, "full", "", "zst").has_value());
}

TEST_F(RepoBackupResumeJournal, RemovedJournalLeavesNoPiece) {
    ManifestFile f = store(kInterrupted, "bytes");
    {
        ResumeJournal journal(*repo_, layout_, {kInterrupted, "full", "", "zst", kStart});
        journal.add(f);
        journal.remove();  // the backup committed
        journal.add(f);    // a late file after commit is not journaled
    }
    for (const auto& entry :
         fs::directory_iterator(dir_ / ("repo/" + layout_.backupDir(kInterrupted))))
        EXPECT_FALSE(entry.path().filename().string().starts_with("backup.resume")) << entry.path();
}

}  // namespace
}  // namespace backrest::repo
