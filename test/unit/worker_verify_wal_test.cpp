// Unit tests for worker/verify_wal: the stored WAL file names verify accepts, and the holes it
// reports in each timeline's run of segments.
#include <gtest/gtest.h>

#include "worker/verify_wal.h"

namespace backrest::cmd {
namespace {

const std::string kSha(64, 'a');

TEST(VerifyWalTest, StoredNameGivesWalNameChecksumAndCompression) {
    auto zst = parseStoredWalName("000000010000000000000003-" + kSha + ".zst");
    ASSERT_TRUE(zst);
    EXPECT_EQ(zst->walName, "000000010000000000000003");
    EXPECT_EQ(zst->sha, kSha);
    EXPECT_EQ(zst->type, io::CompressType::Zst);
    EXPECT_TRUE(zst->segmentLike);

    auto plain = parseStoredWalName("00000002.history-" + kSha);
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->walName, "00000002.history");
    EXPECT_EQ(plain->type, io::CompressType::None);
    EXPECT_FALSE(plain->segmentLike);

    for (std::string name :
         {"000000010000000000000003.partial", "000000010000000000000003.00000028.backup"}) {
        auto p = parseStoredWalName(name + "-" + kSha);
        ASSERT_TRUE(p) << name;
        EXPECT_EQ(p->walName, name);
        EXPECT_TRUE(p->segmentLike) << name;
    }
}

TEST(VerifyWalTest, StoredNameOfAnotherFormIsRefused) {
    for (std::string name : std::vector<std::string>{
             "000000010000000000000003",                          // no checksum
             "000000010000000000000003-" + kSha.substr(1),        // 63 digits
             "000000010000000000000003-" + std::string(64, 'A'),  // upper case
             "000000010000000000000003-" + kSha + ".gz",          // unknown compression
             "00000001000000000000000G-" + kSha,                  // not a WAL name
             "backup.info-" + kSha,
         })
        EXPECT_FALSE(parseStoredWalName(name)) << name;
}

TEST(VerifyWalTest, SegmentSizeIsAPowerOfTwoOfAtLeastOneMiB) {
    EXPECT_TRUE(validSegmentSize(16u << 20));
    EXPECT_TRUE(validSegmentSize(1u << 20));
    EXPECT_FALSE(validSegmentSize(512u << 10));
    EXPECT_FALSE(validSegmentSize(24u << 20));
    EXPECT_FALSE(validSegmentSize(0));
}

TEST(VerifyWalTest, GapsAreNamedFromTheOldestBackupOn) {
    const uint32_t size = 16u << 20;
    std::vector<std::string> names{
        "000000010000000000000001",  // before the start: not judged
        "000000010000000000000003", "000000010000000000000004", "000000010000000000000006",
        "000000010000000000000009", "000000010000000000000009.00000028.backup",
        // Timeline 2 forked at segment 5: only holes after its first segment count.
        "000000020000000000000005", "000000020000000000000007", "00000002.history"};
    auto gaps = walGaps(names, "000000010000000000000002", size, "16-1");
    ASSERT_EQ(gaps.size(), 4u);
    EXPECT_EQ(gaps[0],
              "WAL gap: 000000010000000000000002 missing in archive 16-1: point-in-time "
              "recovery cannot cross it");
    EXPECT_EQ(gaps[1],
              "WAL gap: 000000010000000000000005 missing in archive 16-1: point-in-time "
              "recovery cannot cross it");
    EXPECT_EQ(gaps[2],
              "WAL gap: 000000010000000000000007 to 000000010000000000000008 missing in archive "
              "16-1: point-in-time recovery cannot cross it");
    EXPECT_EQ(gaps[3],
              "WAL gap: 000000020000000000000006 missing in archive 16-1: point-in-time "
              "recovery cannot cross it");
    EXPECT_TRUE(walGaps(names, "not a segment", size, "16-1").empty());
}

}  // namespace
}  // namespace backrest::cmd
