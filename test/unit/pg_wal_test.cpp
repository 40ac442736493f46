// WAL knowledge without a server: LSN text, segment names and ranges, and the long page header.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "pg/wal.h"
#include "test/unit/test_support.h"

namespace backrest::pg {
namespace {

constexpr uint32_t k16M = 16 * 1024 * 1024;
constexpr uint32_t k64M = 64 * 1024 * 1024;

using backrest::test::errorOf;

using backrest::test::has;

// A segment start: XLogLongPageHeaderData (40 bytes) followed by filler.
std::vector<uint8_t> longHeader(uint16_t magic, uint16_t info, uint64_t sysid, uint32_t segSize,
                                uint32_t blcksz, size_t total = 64) {
    std::vector<uint8_t> b(total, 0xAB);
    uint32_t tli = 3;
    uint64_t pageaddr = 0x0000000501000000ULL;
    uint32_t remLen = 0;
    std::memcpy(b.data() + 0, &magic, 2);
    std::memcpy(b.data() + 2, &info, 2);
    std::memcpy(b.data() + 4, &tli, 4);
    std::memcpy(b.data() + 8, &pageaddr, 8);
    std::memcpy(b.data() + 16, &remLen, 4);
    std::memcpy(b.data() + 24, &sysid, 8);
    std::memcpy(b.data() + 32, &segSize, 4);
    std::memcpy(b.data() + 36, &blcksz, 4);
    return b;
}

TEST(PgWal, LsnRoundTrips) {
    EXPECT_EQ(parseLsn("0/0"), 0u);
    EXPECT_EQ(formatLsn(0), "0/0");
    EXPECT_EQ(parseLsn("16/B374D848"), 0x16B374D848ULL);
    EXPECT_EQ(formatLsn(0x16B374D848ULL), "16/B374D848");
    EXPECT_EQ(parseLsn("16/b374d848"), 0x16B374D848ULL);
    EXPECT_EQ(parseLsn("FFFFFFFF/FFFFFFFF"), UINT64_MAX);
    EXPECT_EQ(formatLsn(UINT64_MAX), "FFFFFFFF/FFFFFFFF");
    EXPECT_EQ(formatLsn(parseLsn("0/1000028")), "0/1000028");
}

TEST(PgWal, LsnRejectsMalformedText) {
    for (std::string bad : {"xyz", "1/", "/1", "123456789/0", "0/123456789", "1/2/3", "", "G/0"}) {
        SCOPED_TRACE(bad);
        Error e = errorOf([&] { parseLsn(bad); });
        EXPECT_EQ(e.code(), ErrorCode::Format);
        EXPECT_TRUE(has(e.what(), "'" + bad + "'")) << e.what();
    }
}

TEST(PgWal, SegmentNamesAt16MiB) {
    EXPECT_EQ((WalSegment{1, 0}.name(k16M)), "000000010000000000000000");
    EXPECT_EQ((WalSegment{1, 0xFF}.name(k16M)), "0000000100000000000000FF");
    EXPECT_EQ((WalSegment{1, 0x1FF}.name(k16M)), "0000000100000001000000FF");
    EXPECT_EQ((WalSegment{0x2A, 0xA00 + 0xFE}.name(k16M)), "0000002A0000000A000000FE");

    auto s = WalSegment::parse("0000000100000001000000FF", k16M);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->timeline, 1u);
    EXPECT_EQ(s->segno, 0x1FFu);
    auto c = WalSegment::containing(2, parseLsn("16/B374D848"), k16M);
    EXPECT_EQ(c.name(k16M), "0000000200000016000000B3");
}

TEST(PgWal, SegmentNamesAt64MiB) {
    // 64 segments per xlogid: segno 65 is log 1, seg 1.
    EXPECT_EQ((WalSegment{1, 65}.name(k64M)), "000000010000000100000001");
    EXPECT_EQ((WalSegment{1, 63}.name(k64M)), "00000001000000000000003F");
    auto s = WalSegment::parse("000000010000000100000001", k64M);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->segno, 65u);
    EXPECT_FALSE(WalSegment::parse("000000010000000000000040", k64M));  // seg 0x40 >= 64
    auto at16 = WalSegment::parse("000000010000000000000040", k16M);
    ASSERT_TRUE(at16);
    EXPECT_EQ(at16->segno, 0x40u);
}

TEST(PgWal, SegmentParseRejects) {
    EXPECT_FALSE(WalSegment::parse("00000001000000000000001", k16M));    // 23
    EXPECT_FALSE(WalSegment::parse("0000000100000000000000011", k16M));  // 25
    EXPECT_FALSE(WalSegment::parse("0000000100000000000000fe", k16M));   // lower case
    EXPECT_FALSE(WalSegment::parse("000000010000000000000100", k16M));   // seg 0x100 >= 256
    EXPECT_FALSE(WalSegment::parse("00000001000000000000000G", k16M));
    EXPECT_TRUE(isWalSegmentName("000000010000000000000001"));
    EXPECT_FALSE(isWalSegmentName("000000010000000000000001.partial"));
}

TEST(PgWal, RangeWithinOneSegment) {
    EXPECT_EQ(walRange(1, parseLsn("0/1000028"), parseLsn("0/1FFFFFF"), k16M),
              std::vector<std::string>{"000000010000000000000001"});
}

TEST(PgWal, RangeAcrossXlogidBoundary) {
    EXPECT_EQ(walRange(1, parseLsn("0/FF000028"), parseLsn("1/1000100"), k16M),
              (std::vector<std::string>{"0000000100000000000000FF", "000000010000000100000000",
                                        "000000010000000100000001"}));
    EXPECT_EQ(walRange(2, parseLsn("0/FC000000"), parseLsn("1/0000001"), k64M),
              (std::vector<std::string>{"00000002000000000000003F", "000000020000000100000000"}));
}

TEST(PgWal, RangeStopOnSegmentBoundary) {
    // 0/3000000 is the first byte of segment 3: the backup needs segments 1 and 2 only.
    EXPECT_EQ(walRange(1, parseLsn("0/1000028"), parseLsn("0/3000000"), k16M),
              (std::vector<std::string>{"000000010000000000000001", "000000010000000000000002"}));
    EXPECT_EQ(walRange(1, parseLsn("0/3000000"), parseLsn("0/3000000"), k16M),
              std::vector<std::string>{"000000010000000000000003"});
}

TEST(PgWal, OtherArchiveNames) {
    EXPECT_TRUE(isHistoryFileName("00000002.history"));
    EXPECT_FALSE(isHistoryFileName("0000002.history"));
    EXPECT_FALSE(isHistoryFileName("00000002.historyx"));
    EXPECT_FALSE(isHistoryFileName("0000000g.history"));

    EXPECT_TRUE(isBackupHistoryName("000000010000000000000002.00000028.backup"));
    EXPECT_FALSE(isBackupHistoryName("000000010000000000000002.0000028.backup"));
    EXPECT_FALSE(isBackupHistoryName("000000010000000000000002.00000028.backupx"));
    EXPECT_FALSE(isBackupHistoryName("000000010000000000000002-00000028.backup"));

    EXPECT_TRUE(isPartialName("000000010000000000000002.partial"));
    EXPECT_FALSE(isPartialName("00000001000000000000002.partial"));
    EXPECT_FALSE(isPartialName("000000010000000000000002.partia"));
    EXPECT_FALSE(isPartialName("000000010000000000000002"));
}

TEST(PgWal, ParsesLongHeader) {
    auto bytes = longHeader(0xD110, 0x0002 | 0x0004, 7310000000000000001ULL, k16M, 8192);
    WalHeader h = parseWalHeader(bytes, "seg");
    EXPECT_EQ(h.magic, 0xD110);
    EXPECT_EQ(h.timeline, 3u);
    EXPECT_EQ(h.pageAddress, 0x0000000501000000ULL);
    EXPECT_EQ(h.systemId, 7310000000000000001ULL);
    EXPECT_EQ(h.segmentSize, k16M);
    EXPECT_EQ(h.blockSize, 8192u);
    // Exactly 40 bytes is enough.
    auto exact = longHeader(0xD113, 0x0002, 42, k64M, 16384, 40);
    EXPECT_EQ(parseWalHeader(exact, "seg").segmentSize, k64M);
}

TEST(PgWal, HeaderErrorsNameTheContext) {
    auto good = longHeader(0xD110, 0x0002, 1, k16M, 8192);

    Error shortErr = errorOf([&] { parseWalHeader(std::span(good).first(39), "pg_wal/SHORT"); });
    EXPECT_EQ(shortErr.code(), ErrorCode::Format);
    EXPECT_TRUE(has(shortErr.what(), "'pg_wal/SHORT'")) << shortErr.what();
    EXPECT_TRUE(has(shortErr.what(), "39 bytes")) << shortErr.what();

    auto badMagic = longHeader(0x1234, 0x0002, 1, k16M, 8192);
    Error magicErr = errorOf([&] { parseWalHeader(badMagic, "pg_wal/MAGIC"); });
    EXPECT_EQ(magicErr.code(), ErrorCode::Format);
    EXPECT_TRUE(has(magicErr.what(), "'pg_wal/MAGIC'")) << magicErr.what();
    EXPECT_TRUE(has(magicErr.what(), "0x1234")) << magicErr.what();

    auto shortHeader = longHeader(0xD110, 0x0001, 1, k16M, 8192);
    Error flagErr = errorOf([&] { parseWalHeader(shortHeader, "pg_wal/FLAG"); });
    EXPECT_EQ(flagErr.code(), ErrorCode::Format);
    EXPECT_TRUE(has(flagErr.what(), "'pg_wal/FLAG'")) << flagErr.what();
    EXPECT_TRUE(has(flagErr.what(), "info 0x0001")) << flagErr.what();
}

TEST(PgWal, MagicVersion) {
    EXPECT_EQ(walMagicVersion(0xD10D), "14");
    EXPECT_EQ(walMagicVersion(0xD110), "15");
    EXPECT_EQ(walMagicVersion(0xD113), "16");
    EXPECT_EQ(walMagicVersion(0xD116), "17");
    EXPECT_EQ(walMagicVersion(0xD111), "");
    EXPECT_EQ(walMagicVersion(0), "");
}

}  // namespace
}  // namespace backrest::pg
