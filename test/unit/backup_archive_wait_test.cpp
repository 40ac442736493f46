// The backup's wait for its WAL range in the archive (src/command/backup/archive_wait.h).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "command/backup/archive_wait.h"
#include "command/backup/backup_settings.h"
#include "repo/info.h"
#include "repo/wal_archive.h"
#include "storage/posix.h"
#include "test/unit/test_support.h"
#include "test/unit/wal_segment_support.h"

namespace backrest::backup {
namespace {

namespace fs = std::filesystem;
using test::errorOf;
using test::has;

constexpr uint64_t kSysId = 7310000000000000001ULL;
constexpr uint32_t kSegSize = 16 * 1024 * 1024;

class BackupArchiveWait : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = fs::temp_directory_path().string() + "/backup-archive-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        root_ = tmpl;
        fs::create_directories(root_ + "/pg/pg_wal");
        fs::create_directories(root_ + "/repo");
        repo_ = std::make_unique<storage::PosixStorage>(root_ + "/repo");
        pg_ = std::make_unique<storage::PosixStorage>(root_ + "/pg");
        info_.history = {{1, "15", kSysId}};
        repo::saveArchiveInfo(*repo_, layout_, info_);
        // The backup: from segment 1 to segment 2 of timeline 1.
        manifest_.label = "20261205-120000F";
        manifest_.timeline = 1;
        manifest_.walSegmentSize = kSegSize;
        manifest_.lsnStart = "0/1000028";
        manifest_.lsnStop = "0/2000100";
    }
    void TearDown() override { fs::remove_all(root_); }

    void archive(const std::string& segment, uint32_t seed) {
        test::writeFile(root_ + "/pg/pg_wal/" + segment,
                        test::syntheticWalSegment(kSysId, seed, kSegSize));
        repo::pushWal(*repo_, layout_, info_, *pg_, "pg_wal/" + segment, "15", kSysId, {});
    }

    std::string root_;
    repo::Layout layout_{"main", nullptr};
    repo::ArchiveInfo info_;
    repo::Manifest manifest_;
    std::unique_ptr<storage::PosixStorage> repo_, pg_;
};

TEST_F(BackupArchiveWait, ReturnsOnceEverySegmentOfTheRangeIsArchived) {
    archive("000000010000000000000001", 1);
    archive("000000010000000000000002", 2);
    int looks = 0;
    waitForArchive(*repo_, layout_, manifest_, {"15-1", 0, [&] { looks++; }});
    EXPECT_EQ(looks, 0) << "nothing to wait for: no pause, no cancel check";
}

TEST_F(BackupArchiveWait, AMissingSegmentTimesOutNamingIt) {
    archive("000000010000000000000001", 1);
    auto e = errorOf([&] { waitForArchive(*repo_, layout_, manifest_, {"15-1", 0}); });
    EXPECT_EQ(e.code(), ErrorCode::ArchiveTimeout);
    EXPECT_TRUE(has(e.what(),
                    "backup 20261205-120000F: WAL segment 000000010000000000000002 "
                    "was not archived within archive-timeout (0 s)"))
        << e.what();
}

TEST_F(BackupArchiveWait, ACancelledBackupStopsWaiting) {
    auto e = errorOf([&] {
        waitForArchive(
            *repo_, layout_, manifest_,
            {"15-1", 60, [&] { checkCancelled(std::atomic<bool>{true}, manifest_.label); }});
    });
    EXPECT_EQ(e.code(), ErrorCode::Cancelled);
    EXPECT_TRUE(has(e.what(), "backup 20261205-120000F was cancelled")) << e.what();
}

TEST_F(BackupArchiveWait, TheOtherArchiveIdDoesNotCount) {
    archive("000000010000000000000001", 1);
    archive("000000010000000000000002", 2);
    auto e = errorOf([&] { waitForArchive(*repo_, layout_, manifest_, {"15-2", 0}); });
    EXPECT_EQ(e.code(), ErrorCode::ArchiveTimeout);
    EXPECT_TRUE(has(e.what(), "WAL segment 000000010000000000000001")) << e.what();
}

}  // namespace
}  // namespace backrest::backup
