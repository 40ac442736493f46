// The archive-get spool (repo/wal_get_spool.h): its identity, the read-ahead queue, pruning, the
// answers the fetcher records, and the checks before a segment is handed to PostgreSQL.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "common/log.h"
#include "io/sha256.h"
#include "pg/wal.h"
#include "repo/wal_get_spool.h"
#include "temp_dir.h"
#include "test/unit/wal_segment_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kSysId = 7310000000000000001ULL;
constexpr uint32_t kSegSize = 1 << 20;

// The bytes of segment `segno` (timeline 1) of the cluster `sysid`.
std::string segmentBytes(uint64_t segno, uint64_t sysid = kSysId) {
    std::string bytes = test::syntheticWalSegment(sysid, static_cast<uint32_t>(segno), kSegSize);
    uint64_t pageAddress = segno * kSegSize;
    std::memcpy(bytes.data() + 8, &pageAddress, 8);
    return bytes;
}

std::string name(uint64_t segno, uint32_t timeline = 1) {
    return pg::WalSegment{timeline, segno}.name(kSegSize);
}

std::string read(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write(const std::string& file, const std::string& bytes) {
    std::ofstream(file, std::ios::binary) << bytes;
}

std::set<std::string> listing(const std::string& dir) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir))
        names.insert(entry.path().filename().string());
    return names;
}

class WalGetSpoolTest : public ::testing::Test {
  protected:
    // What the fetcher does: the bytes under the staging name, then published with the
    // repository's checksum of `original` (the same bytes unless a test damages them).
    void stage(WalGetSpool& s, const std::string& walName, const std::string& bytes,
               const std::string& original = "") {
        write(in(WalGetSpool::stagingName(walName)), bytes);
        s.publish(walName, io::sha256Hex(original.empty() ? bytes : original));
    }
    WalGetSpool spool(uint64_t sysid = kSysId) {
        return WalGetSpool(dir_ / "spool/archive/main/in",
                           WalGetSpool::identityOf("main", sysid, kSegSize), sysid, kSegSize);
    }
    std::string in(const std::string& file) { return dir_ / ("spool/archive/main/in/" + file); }

    test::TempDir dir_{"wal-get-spool"};
};

TEST(WalGetSpoolDirectory, IsPgBackRestsPlace) {
    EXPECT_EQ(walGetSpoolDirectory("/var/spool/backrest", "main"),
              "/var/spool/backrest/archive/main/in");
}

TEST_F(WalGetSpoolTest, ReadAheadFollowsTheAskedTimelineWithinQueueMax) {
    auto s = spool();
    EXPECT_EQ(s.readAhead(name(5, 2), 3 * kSegSize),
              (std::vector<std::string>{name(6, 2), name(7, 2), name(8, 2)}));
    // Less than a segment still reads one ahead.
    EXPECT_EQ(s.readAhead(name(5), 0), (std::vector<std::string>{name(6)}));
    // The segment number carries into the high half (1 MiB segments: 4096 per "log").
    EXPECT_EQ(s.readAhead("000000010000000000000FFF", kSegSize),
              (std::vector<std::string>{"000000010000000100000000"}));
    EXPECT_TRUE(s.readAhead("00000002.history", kSegSize).empty());
}

TEST_F(WalGetSpoolTest, ClaimEmptiesASpoolOfAnotherCluster) {
    auto theirs = spool(kSysId + 1);
    theirs.claim();
    write(in(name(3)), segmentBytes(3, kSysId + 1));
    theirs.recordNotArchived(name(4));
    EXPECT_TRUE(theirs.owned());

    auto ours = spool();
    EXPECT_FALSE(ours.owned());
    ours.claim();
    EXPECT_TRUE(ours.owned());
    EXPECT_FALSE(theirs.owned());
    EXPECT_EQ(listing(ours.directory()), (std::set<std::string>{"spool.id"}));
    EXPECT_EQ(ours.look(name(3)).kind, SpoolEntry::Kind::Missing);
    EXPECT_EQ(ours.look(name(4)).kind, SpoolEntry::Kind::Missing);
    // Claimed again by the same cluster: nothing is removed.
    write(in(name(3)), segmentBytes(3));
    ours.claim();
    EXPECT_EQ(ours.look(name(3)).kind, SpoolEntry::Kind::Ready);
}

TEST_F(WalGetSpoolTest, TakeMovesAVerifiedSegmentIntoPlace) {
    auto s = spool();
    s.claim();
    stage(s, name(3), segmentBytes(3));
    EXPECT_EQ(s.look(name(3)).kind, SpoolEntry::Kind::Ready);
    fs::create_directories(dir_ / "pg_wal");
    EXPECT_TRUE(s.take(name(3), dir_ / "pg_wal/RECOVERYXLOG"));
    EXPECT_EQ(read(dir_ / "pg_wal/RECOVERYXLOG"), segmentBytes(3));
    EXPECT_FALSE(fs::exists(in(name(3))));
    EXPECT_EQ(s.look(name(3)).kind, SpoolEntry::Kind::Missing);
    // Gone meanwhile (pruned): not taken, to be fetched from the repository.
    EXPECT_FALSE(s.take(name(4), dir_ / "pg_wal/RECOVERYXLOG"));
    EXPECT_EQ(listing(s.directory()), (std::set<std::string>{"spool.id"}));
}

// Several repositories: the ones that failed before the one that gave the segment are named when
// it is served (the fetcher logs nowhere), once; a segment published again without one loses it.
TEST_F(WalGetSpoolTest, AWarningPublishedWithASegmentIsLoggedWhenServed) {
    auto s = spool();
    s.claim();
    write(in(WalGetSpool::stagingName(name(3))), segmentBytes(3));
    s.publish(name(3), io::sha256Hex(segmentBytes(3)),
              "archive-get: repo1 (/r1): checksum mismatch; WAL segment " + name(3) +
                  " was taken from the next repository having it, repo2 (/r2)\n");
    EXPECT_TRUE(fs::exists(in(name(3) + ".warn")));
    fs::create_directories(dir_ / "pg_wal");
    auto saved = logLevel();
    setLogLevel(LogLevel::Warn);
    ::testing::internal::CaptureStderr();
    EXPECT_TRUE(s.take(name(3), dir_ / "pg_wal/RECOVERYXLOG"));
    std::string err = ::testing::internal::GetCapturedStderr();
    setLogLevel(saved);
    EXPECT_NE(err.find("repo1 (/r1): checksum mismatch; WAL segment " + name(3) +
                       " was taken from the next repository having it, repo2 (/r2)"),
              std::string::npos)
        << err;
    EXPECT_EQ(listing(s.directory()), (std::set<std::string>{"spool.id"}));

    write(in(WalGetSpool::stagingName(name(4))), segmentBytes(4));
    s.publish(name(4), io::sha256Hex(segmentBytes(4)), "archive-get: stale\n");
    write(in(WalGetSpool::stagingName(name(4))), segmentBytes(4));
    s.publish(name(4), io::sha256Hex(segmentBytes(4)));
    EXPECT_FALSE(fs::exists(in(name(4) + ".warn")));
    // Pruned with its segment.
    s.recordAsked(name(9));
    write(in(name(5) + ".warn"), "x");
    s.prune(name(9), {});
    EXPECT_FALSE(fs::exists(in(name(5) + ".warn")));
}

// Staged but not published (the fetcher killed between the fetch and the checksum): not Ready,
// and removed with the temporary files.
TEST_F(WalGetSpoolTest, AStagedSegmentIsNotReady) {
    auto s = spool();
    s.claim();
    write(in(WalGetSpool::stagingName(name(3))), segmentBytes(3));
    EXPECT_EQ(s.look(name(3)).kind, SpoolEntry::Kind::Missing);
    s.removeTemporary();
    EXPECT_EQ(listing(s.directory()), (std::set<std::string>{"spool.id"}));
}

TEST_F(WalGetSpoolTest, TakeNeverServesAForeignShortOrMisplacedCopy) {
    auto s = spool();
    s.claim();
    fs::create_directories(dir_ / "pg_wal");
    const std::string dest = dir_ / "pg_wal/RECOVERYXLOG";
    write(dest, "untouched");

    write(in(name(3)), segmentBytes(3, kSysId + 1));  // another cluster's
    EXPECT_FALSE(s.take(name(3), dest));
    write(in(name(4)), segmentBytes(4).substr(0, kSegSize / 2));  // cut short
    EXPECT_FALSE(s.take(name(4), dest));
    write(in(name(5)), segmentBytes(6));  // the bytes of another segment
    EXPECT_FALSE(s.take(name(5), dest));
    write(in(name(7)), "not a WAL segment");
    EXPECT_FALSE(s.take(name(7), dest));
    // Damaged past its header, size right: PostgreSQL would take the record whose CRC fails
    // for the end of WAL and end recovery early. Its bytes differ from the repository's.
    std::string damaged = segmentBytes(9);
    std::memcpy(damaged.data() + 64, "damaged!", 8);
    stage(s, name(9), damaged, segmentBytes(9));
    EXPECT_FALSE(s.take(name(9), dest));
    // No checksum beside it (planted, or published by nobody): not served either.
    write(in(name(10)), segmentBytes(10));
    EXPECT_FALSE(s.take(name(10), dest));
    EXPECT_EQ(read(dest), "untouched");
    stage(s, name(8, 2), segmentBytes(8));  // timeline 1's page address is 8's too, but
    // its name says timeline 2: the segment address matches, the copy is served (the timeline
    // of pages is not the file's: a new timeline's first segment starts with the old one's).
    EXPECT_TRUE(s.take(name(8, 2), dest));

    EXPECT_EQ(listing(s.directory()), (std::set<std::string>{"spool.id"}));
}

TEST_F(WalGetSpoolTest, PruneKeepsOnlyTheAskedSegmentAndTheQueue) {
    auto s = spool();
    s.claim();
    s.recordAsked(name(3));
    for (auto n : {name(2), name(3), name(4), name(5), name(9), name(4, 2)})
        write(in(n), segmentBytes(1));
    s.recordNotArchived(name(2));
    s.recordNotArchived(name(6));
    s.recordFailed(name(1), Error(ErrorCode::Checksum, "damaged"));
    write(in(name(5) + ".tmp"), "partial");
    write(in(name(2) + ".tmp"), "partial");
    write(in(name(4) + ".sha256"), "x");
    write(in(name(1) + ".sha256"), "x");
    write(in(WalGetSpool::stagingName(name(5))), "staged");
    write(in(WalGetSpool::stagingName(name(9))), "staged");
    s.prune(name(3), s.readAhead(name(3), 3 * kSegSize));
    EXPECT_EQ(listing(s.directory()),
              (std::set<std::string>{"spool.id", "asked", name(3), name(4), name(5),
                                     name(6) + ".ok", name(5) + ".tmp", name(4) + ".sha256",
                                     WalGetSpool::stagingName(name(5))}));
    s.removeTemporary();
    EXPECT_FALSE(fs::exists(in(name(5) + ".tmp")));
    EXPECT_FALSE(fs::exists(in(WalGetSpool::stagingName(name(5)))));
    EXPECT_EQ(s.asked(), name(3));
}

TEST_F(WalGetSpoolTest, AnswersAreRecordedAndForgotten) {
    auto s = spool();
    s.claim();
    s.recordNotArchived(name(7));
    EXPECT_EQ(s.look(name(7)).kind, SpoolEntry::Kind::NotArchived);
    s.forget(name(7));
    EXPECT_EQ(s.look(name(7)).kind, SpoolEntry::Kind::Missing);

    s.recordFailed(name(8), Error(ErrorCode::Checksum, "archive-get: WAL file X is damaged"));
    auto failed = s.look(name(8));
    ASSERT_EQ(failed.kind, SpoolEntry::Kind::Failed);
    EXPECT_EQ(failed.error->code(), ErrorCode::Checksum);
    EXPECT_STREQ(failed.error->what(), "archive-get: WAL file X is damaged");
    // An error wins over a copy: never served past a recorded failure.
    write(in(name(8)), segmentBytes(8));
    EXPECT_EQ(s.look(name(8)).kind, SpoolEntry::Kind::Failed);

    // A record cut short still stops recovery, and says so.
    write(in(name(9) + ".error"), "2");
    auto unreadable = s.look(name(9));
    ASSERT_EQ(unreadable.kind, SpoolEntry::Kind::Failed);
    EXPECT_EQ(unreadable.error->code(), ErrorCode::Format);
    EXPECT_NE(std::string(unreadable.error->what()).find(name(9)), std::string::npos);
}

TEST_F(WalGetSpoolTest, AskedIsASegmentNameOrNothing) {
    auto s = spool();
    s.claim();
    EXPECT_EQ(s.asked(), std::nullopt);
    s.recordAsked(name(12));
    EXPECT_EQ(s.asked(), name(12));
    write(in("asked"), "garbage");
    EXPECT_EQ(s.asked(), std::nullopt);
}

TEST_F(WalGetSpoolTest, ClearLeavesNothing) {
    auto s = spool();
    s.claim();
    write(in(name(3)), segmentBytes(3));
    s.clear();
    EXPECT_FALSE(fs::exists(s.directory()));
    EXPECT_FALSE(s.owned());
}

}  // namespace
}  // namespace backrest::repo
