// WAL continuity: the gap walk, the recovery path across timelines, history files, and the
// archive listing (one list per directory) against a real posix repository.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/error.h"
#include "pg/wal.h"
#include "repo/wal_continuity.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;
using backrest::test::errorOf;
using backrest::test::has;

constexpr uint32_t k16M = 16 * 1024 * 1024;
constexpr uint32_t k1G = 1024 * 1024 * 1024;

TEST(RepoWalContinuity, FirstMissing) {
    std::vector<uint64_t> present = {3, 4, 5, 7, 8};
    EXPECT_EQ(firstMissing(present, 3, 5), std::nullopt);
    EXPECT_EQ(firstMissing(present, 3, 8), 6u);
    EXPECT_EQ(firstMissing(present, 4, 4), std::nullopt);
    EXPECT_EQ(firstMissing(present, 2, 5), 2u);
    EXPECT_EQ(firstMissing(present, 7, 9), 9u);
    EXPECT_EQ(firstMissing({}, 1, 1), 1u);
    EXPECT_EQ(firstMissing(present, 6, 5), std::nullopt);  // an empty range
}

TEST(RepoWalContinuity, SegmentNumbersSkipNoneAcrossTheLogBoundary) {
    // 0000000100000001000000FF is followed by 000000010000000200000000 (16 MiB: 256 per log id).
    auto last = pg::WalSegment::parse("0000000100000001000000FF", k16M);
    auto next = pg::WalSegment::parse("000000010000000200000000", k16M);
    ASSERT_TRUE(last && next);
    EXPECT_EQ(next->segno, last->segno + 1);
    EXPECT_EQ(firstMissing({last->segno, next->segno}, last->segno, next->segno), std::nullopt);
    // 1 GiB segments: 4 per log id, 00000003 is the last.
    auto big = pg::WalSegment::parse("000000010000000100000003", k1G);
    ASSERT_TRUE(big);
    EXPECT_EQ((pg::WalSegment{1, big->segno + 1}.name(k1G)), "000000010000000200000000");
}

TEST(RepoWalContinuity, ParseTimelineHistory) {
    auto h = parseTimelineHistory(
        "1\t0/5000000\tno recovery target specified\n\n# comment\n"
        "2\t0/7A000028\tbefore 2026-12-05 08:00:00+00\n",
        "00000003.history");
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[0].parent, 1u);
    EXPECT_EQ(h[0].switchLsn, 0x5000000u);
    EXPECT_EQ(h[1].parent, 2u);
    EXPECT_EQ(h[1].switchLsn, 0x7A000028u);
    for (const char* bad : {"x\t0/1\n", "1\tnope\n", "1\n", "2\t0/1\n1\t0/2\n"}) {
        auto e = errorOf([&] { parseTimelineHistory(bad, "00000002.history"); });
        EXPECT_EQ(e.code(), ErrorCode::Format) << bad;
        EXPECT_TRUE(has(e.what(), "00000002.history")) << e.what();
    }
}

TEST(RepoWalContinuity, RecoveryPathOnTheBackupsTimeline) {
    auto path = recoveryPath(1, 4, 0x4000100, 1, {}, k16M);
    ASSERT_EQ(path.size(), 1u);
    EXPECT_EQ(path[0].timeline, 1u);
    EXPECT_EQ(path[0].from, 5u);
    EXPECT_EQ(path[0].to, std::nullopt);
}

TEST(RepoWalContinuity, RecoveryPathFollowsBranchesAfterTheBackup) {
    // Timeline 1 switched to 2 inside segment 9, 2 to 3 exactly at the start of segment 12.
    std::vector<TimelineSwitch> history = {{1, 0x9000200}, {2, 0xC000000}};
    auto path = recoveryPath(1, 4, 0x4000100, 3, history, k16M);
    ASSERT_EQ(path.size(), 3u);
    EXPECT_EQ(path[0].timeline, 1u);  // 5..8 on timeline 1; 9 is read from timeline 2
    EXPECT_EQ(path[0].from, 5u);
    EXPECT_EQ(path[0].to, 8u);
    EXPECT_EQ(path[1].timeline, 2u);
    EXPECT_EQ(path[1].from, 9u);
    EXPECT_EQ(path[1].to, 11u);
    EXPECT_EQ(path[2].timeline, 3u);
    EXPECT_EQ(path[2].from, 12u);
    EXPECT_EQ(path[2].to, std::nullopt);
}

TEST(RepoWalContinuity, RecoveryPathFromALaterTimelineOrBeforeABranch) {
    // The backup is on timeline 2: timeline 1's entry is history before it.
    std::vector<TimelineSwitch> history = {{1, 0x3000000}, {2, 0x9000000}};
    auto path = recoveryPath(2, 5, 0x5000100, 3, history, k16M);
    ASSERT_EQ(path.size(), 2u);
    EXPECT_EQ(path[0].timeline, 2u);
    EXPECT_EQ(path[0].from, 6u);
    EXPECT_EQ(path[0].to, 8u);
    EXPECT_EQ(path[1].timeline, 3u);
    // A branch before the backup's end cannot be followed from it: the backup's timeline only.
    auto before = recoveryPath(1, 4, 0x4000100, 2, {{1, 0x2000000}}, k16M);
    ASSERT_EQ(before.size(), 1u);
    EXPECT_EQ(before[0].timeline, 1u);
    // A branch in the backup's stop segment: nothing more on timeline 1.
    auto same = recoveryPath(1, 4, 0x4000100, 2, {{1, 0x4000200}}, k16M);
    ASSERT_EQ(same.size(), 1u);
    EXPECT_EQ(same[0].timeline, 2u);
    EXPECT_EQ(same[0].from, 5u);
}

class RepoArchiveListing : public ::testing::Test {
  protected:
    void SetUp() override { repo_ = std::make_unique<storage::PosixStorage>(root_); }
    void put(const std::string& name) {
        std::string dir = root_ + "/" + layout_.archiveIdDir("15-1");
        if (!pg::isHistoryFileName(name.substr(0, 16))) dir += "/" + name.substr(0, 16);
        fs::create_directories(dir);
        test::writeFile(dir + "/" + name, "1\t0/9000200\tno recovery target specified\n");
    }
    static std::string stored(const std::string& wal) {
        return wal + "-" + std::string(64, 'a') + ".zst";
    }

    backrest::test::TempDir tmp_{"repo-walcont"};
    std::string root_ = tmp_.path();
    Layout layout_{"main", nullptr};
    std::unique_ptr<storage::PosixStorage> repo_;
};

TEST_F(RepoArchiveListing, SegmentsOfATimelineFromASegmentOn) {
    for (const char* s :
         {"0000000100000001000000FE", "0000000100000001000000FF", "000000010000000200000000",
          "000000010000000200000002", "000000020000000200000002"})
        put(stored(s));
    put("0000000100000001000000FD-" + std::string(64, 'b'));                     // uncompressed
    put("000000010000000200000001.stream.123.tmp");                              // being written
    put("000000010000000200000001.partial-" + std::string(64, 'c') + ".zst");    // not a segment
    put("000000010000000200000000.00000028.backup-" + std::string(64, 'd'));     // backup history
    put(stored("00000002.history").substr(0, 16) + "-" + std::string(64, 'e'));  // 00000002.history
    ArchiveListing listing(*repo_, layout_, "15-1", k16M);
    auto fe = pg::WalSegment::parse("0000000100000001000000FE", k16M)->segno;
    const auto& tl1 = listing.segments(1, fe);
    EXPECT_EQ(tl1, (std::vector<uint64_t>{fe, fe + 1, fe + 2, fe + 4}));
    EXPECT_EQ(firstMissing(tl1, fe, tl1.back()), fe + 3);    // 000000010000000200000001
    EXPECT_EQ(listing.segments(1, fe - 1).front(), fe - 1);  // asked from earlier: listed again
    EXPECT_EQ(listing.segments(2, 0).size(), 1u);
    EXPECT_TRUE(listing.hasHistory(2));
    EXPECT_EQ(listing.latestTimeline(1), 2u);
    EXPECT_EQ(listing.latestTimeline(2), 2u);
    auto history = parseTimelineHistory(listing.history(2), "00000002.history");
    ASSERT_EQ(history.size(), 1u);
    EXPECT_EQ(history[0].switchLsn, 0x9000200u);
    EXPECT_EQ(errorOf([&] { listing.history(3); }).code(), ErrorCode::FileMissing);
}

TEST_F(RepoArchiveListing, AnEmptyArchive) {
    ArchiveListing listing(*repo_, layout_, "15-1", k16M);
    EXPECT_TRUE(listing.segments(1, 0).empty());
    EXPECT_EQ(listing.latestTimeline(1), 1u);
}

}  // namespace
}  // namespace backrest::repo
