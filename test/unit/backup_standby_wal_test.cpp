// A backup from a standby: the standby's copy of the WAL at the backup's start compared with the
// primary's, over the range both must hold alike.
#include <gtest/gtest.h>

#include <fstream>

#include "command/backup/standby_wal.h"
#include "common/error.h"
#include "temp_dir.h"

namespace backrest::backup {
namespace {

constexpr uint32_t kSeg = 1 << 20;

void writeFile(const std::string& path, const std::string& content) {
    std::ofstream(path, std::ios::binary) << content;
}

TEST(StandbyWal, BeforeTheStartToWhatTheStandbyReplayedWithinTheSegment) {
    uint64_t segment = 5ULL * kSeg;
    auto r = walBeforeStart(segment + 100000, segment + 200000, kSeg);
    EXPECT_EQ(r.segno, 5u);
    EXPECT_EQ(r.range.from, 100000u - 65536u);
    EXPECT_EQ(r.range.to, 200000u);
    // A start near the segment's beginning: from its first byte.
    r = walBeforeStart(segment + 40, segment + 5000, kSeg);
    EXPECT_EQ(r.range.from, 0u);
    EXPECT_EQ(r.range.to, 5000u);
    // Replayed into a later segment: to the end of this one.
    r = walBeforeStart(segment + 40, segment + 3ULL * kSeg, kSeg);
    EXPECT_EQ(r.range.to, kSeg);
    // Replayed no further than the start (never asked so, but never a range backwards).
    r = walBeforeStart(segment + 100000, segment + 50, kSeg);
    EXPECT_EQ(r.range.to, 100000u);
}

TEST(StandbyWal, BeforeTheReplayPointInTheSegmentOfItsLastByte) {
    uint64_t segment = 5ULL * kSeg;
    auto r = walBeforeReplayed(segment + 200000, kSeg);
    EXPECT_EQ(r.segno, 5u);
    EXPECT_EQ(r.range.from, 200000u - 65536u);
    EXPECT_EQ(r.range.to, 200000u);
    // Replayed to a segment's end (after a switch): that segment, to its end.
    r = walBeforeReplayed(6ULL * kSeg, kSeg);
    EXPECT_EQ(r.segno, 5u);
    EXPECT_EQ(r.range.to, kSeg);
    EXPECT_EQ(r.range.from, kSeg - 65536u);
    r = walBeforeReplayed(segment + 100, kSeg);
    EXPECT_EQ(r.range.from, 0u);
    EXPECT_EQ(r.range.to, 100u);
}

TEST(StandbyWal, TheSameBytesOverTheRangeAreTheSameHistory) {
    test::TempDir dir{"standby-wal"};
    std::string wal(4096, 'w');
    writeFile(dir / "primary", wal + std::string(100, 'p'));  // written past the standby's end
    writeFile(dir / "standby", wal + std::string(100, '\0'));
    EXPECT_EQ(firstWalDifference(dir / "primary", dir / "standby", {0, 4096}), std::nullopt);
}

TEST(StandbyWal, AForkDiffersAtItsFirstOwnByte) {
    test::TempDir dir{"standby-wal"};
    std::string wal(200000, 'w');
    writeFile(dir / "primary", wal);
    wal[150001] = 'f';
    writeFile(dir / "standby", wal);
    EXPECT_EQ(firstWalDifference(dir / "primary", dir / "standby", {1000, 200000}), 150001u);
    EXPECT_EQ(firstWalDifference(dir / "primary", dir / "standby", {1000, 150001}), std::nullopt);
    // A copy shorter than the range differs where it ends.
    writeFile(dir / "standby", wal.substr(0, 120000));
    EXPECT_EQ(firstWalDifference(dir / "primary", dir / "standby", {1000, 130000}), 120000u);
}

TEST(StandbyWal, AMissingCopyIsFileMissing) {
    test::TempDir dir{"standby-wal"};
    writeFile(dir / "primary", "w");
    try {
        firstWalDifference(dir / "primary", dir / "gone", {0, 1});
        FAIL() << "expected FileMissingError";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::FileMissing);
        EXPECT_NE(std::string(e.what()).find("gone"), std::string::npos);
    }
}

}  // namespace
}  // namespace backrest::backup
