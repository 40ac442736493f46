// archive-push-queue-max's queue measure and drop records (repo/wal_dropped.h): what counts in
// the queue, where a record goes when the repository refuses it, and what records mean for a
// backup.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "repo/wal_dropped.h"
#include "storage/posix.h"
#include "temp_dir.h"

namespace backrest::repo {
namespace {

constexpr uint64_t kSeg = 16ull << 20;

TEST(WalDropped, QueueCountsReadySegmentsTimesTheSegmentSize) {
    EXPECT_EQ(archiveQueueBytes({}, kSeg), 0u);
    EXPECT_EQ(archiveQueueBytes({"000000010000000000000001.ready", "000000010000000000000002.ready",
                                 "000000010000000000000003.partial.ready"},
                                kSeg),
              3 * kSeg);
    // Archived (.done), history and backup-history files, pending drop records and stray names
    // are not WAL waiting in pg_wal.
    EXPECT_EQ(archiveQueueBytes({"000000010000000000000001.done", "00000002.history.ready",
                                 "000000010000000000000004.00000028.backup.ready",
                                 "000000010000000000000005.backrest-dropped", "junk.ready",
                                 "000000010000000000000006.ready"},
                                kSeg),
              kSeg);
    EXPECT_EQ(archiveQueueBytes({"000000010000000000000001.ready"}, 64ull << 20), 64ull << 20);
}

TEST(WalDropped, TheLimitIsExceededOnlyAbovePgBackRestStrictly) {
    EXPECT_FALSE(queueExceeded(3 * kSeg, 3 * kSeg));
    EXPECT_TRUE(queueExceeded(4 * kSeg, 3 * kSeg));
    EXPECT_TRUE(queueExceeded(kSeg, 0));
    EXPECT_FALSE(queueExceeded(0, 0));
}

TEST(WalDropped, StatusFilesOfAMissingDirectoryAreNone) {
    test::TempDir dir("wal-dropped");
    EXPECT_TRUE(archiveStatusFiles(dir / "nothing").empty());
    std::filesystem::create_directories(dir / "pg_wal/archive_status");
    std::ofstream(dir / "pg_wal/archive_status/000000010000000000000001.ready").close();
    EXPECT_EQ(archiveStatusFiles(dir / "pg_wal"),
              std::vector<std::string>{"000000010000000000000001.ready"});
}

TEST(WalDropped, RecordNamesRoundTripAndStrayNamesAreRefused) {
    EXPECT_EQ(droppedRecordName("15-1", "000000010000000000000005"),
              "15-1-000000010000000000000005");
    auto parsed = parseDroppedRecordName("15-1-000000010000000000000005");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->archiveId, "15-1");
    EXPECT_EQ(parsed->segment, "000000010000000000000005");
    EXPECT_FALSE(parseDroppedRecordName("15-1-000000010000000000000005.tmp"));
    EXPECT_FALSE(parseDroppedRecordName("000000010000000000000005"));
    EXPECT_FALSE(parseDroppedRecordName("-000000010000000000000005"));
    EXPECT_FALSE(parseDroppedRecordName("15-000000010000000000000005"));
    EXPECT_FALSE(parseDroppedRecordName("15-1-00000001000000000000000G"));
}

std::vector<DroppedSegment> drops(std::initializer_list<std::string> segments,
                                  const std::string& id = "15-1") {
    std::vector<DroppedSegment> out;
    for (const auto& s : segments) out.push_back({id, s, ""});
    return out;
}

struct Fixture {
    test::TempDir dir{"wal-dropped"};
    storage::PosixStorage repo{dir / "repo"};
    Layout layout{"main"};
    std::string pgWal = dir / "pg_wal";
    Fixture() { std::filesystem::create_directories(pgWal + "/archive_status"); }
    // A file where the record's directory must be: every write under it fails, even as root.
    void breakRepo() {
        std::filesystem::create_directories(dir / "repo/archive/main");
        std::ofstream(dir / "repo/archive/main/dropped").close();
    }
    void fixRepo() { std::filesystem::remove(dir / "repo/archive/main/dropped"); }
};

TEST(WalDropped, ARecordGoesToTheRepositoryWholeAndIsListed) {
    Fixture f;
    EXPECT_TRUE(recordDropped(&f.repo, f.layout, f.pgWal,
                              {"15-1", "000000010000000000000007", "1 detail"}));
    EXPECT_TRUE(recordDropped(&f.repo, f.layout, f.pgWal,
                              {"15-1", "000000010000000000000005", "2 detail"}));
    auto listed = listDropped(f.repo, f.layout);
    ASSERT_EQ(listed.size(), 2u);
    EXPECT_EQ(listed[0].segment, "000000010000000000000005");
    EXPECT_EQ(listed[1].segment, "000000010000000000000007");
    EXPECT_EQ(storage::readAll(f.repo, "archive/main/dropped/15-1-000000010000000000000005"),
              "2 detail\n");
    EXPECT_TRUE(archiveStatusFiles(f.pgWal).empty());  // nothing waits locally
}

TEST(WalDropped, ARefusedRecordWaitsInPgWalUntilAPushCarriesItOver) {
    Fixture f;
    f.breakRepo();
    EXPECT_FALSE(recordDropped(&f.repo, f.layout, f.pgWal,
                               {"15-1", "000000010000000000000005", "queue=1 max=0"}));
    // Without a repository or an archive id (archive.info unreadable), it waits as well.
    EXPECT_FALSE(recordDropped(nullptr, f.layout, f.pgWal, {"", "000000010000000000000006", "x"}));
    EXPECT_FALSE(recordDropped(&f.repo, f.layout, f.pgWal, {"", "000000010000000000000007", "y"}));
    EXPECT_EQ(archiveStatusFiles(f.pgWal).size(), 3u);
    // The waiting records are not WAL: they do not count in the queue.
    EXPECT_EQ(archiveQueueBytes(archiveStatusFiles(f.pgWal), kSeg), 0u);

    EXPECT_EQ(flushDroppedRecords(f.repo, f.layout, f.pgWal, "15-1"), 0u);  // still refused
    EXPECT_EQ(archiveStatusFiles(f.pgWal).size(), 3u);

    f.fixRepo();
    EXPECT_EQ(flushDroppedRecords(f.repo, f.layout, f.pgWal, "15-1"), 3u);
    EXPECT_TRUE(archiveStatusFiles(f.pgWal).empty());
    auto listed = listDropped(f.repo, f.layout);
    ASSERT_EQ(listed.size(), 3u);
    for (const auto& d : listed) EXPECT_EQ(d.archiveId, "15-1");
    EXPECT_EQ(storage::readAll(f.repo, "archive/main/dropped/15-1-000000010000000000000005"),
              "queue=1 max=0\n");
}

TEST(WalDropped, WaitingRecordsAreListedAndMergedOnce) {
    Fixture f;
    f.breakRepo();
    recordDropped(&f.repo, f.layout, f.pgWal, {"15-1", "000000010000000000000006", "x"});
    recordDropped(nullptr, f.layout, f.pgWal, {"", "000000010000000000000005", "y"});
    auto pending = listDroppedPending(f.pgWal, "15-2");
    ASSERT_EQ(pending.size(), 2u);
    EXPECT_EQ(pending[0].archiveId, "15-1");
    EXPECT_EQ(pending[0].segment, "000000010000000000000006");
    EXPECT_EQ(pending[1].archiveId, "15-2");  // made without an archive id: the current one
    auto merged = mergeDropped(pending, drops({"000000010000000000000006"}));
    EXPECT_EQ(merged.size(), 2u);
    EXPECT_TRUE(listDroppedPending(f.dir / "nothing", "15-1").empty());
}

// A record written, then the segment archived for real (PostgreSQL never got the drop's answer
// and pushed it again under the limit): no gap. A temporary or bad copy is not archived.
TEST(WalDropped, ARecordOfASegmentTheArchiveHoldsNamesNoGap) {
    Fixture f;
    const std::string sha(64, 'a');
    auto put = [&](const std::string& id, const std::string& name) {
        storage::writeAll(f.repo, f.layout.walDir(id, name) + "/" + name, "wal");
    };
    put("15-1", "000000010000000000000005-" + sha + ".zst");
    put("15-1", "000000010000000000000006-" + sha + ".zst.tmp");
    put("15-1", "000000010000000000000007-" + sha + ".zst.bad");
    put("15-2", "000000010000000000000008-" + sha + ".zst");  // another archive id's
    auto left = withoutArchived(
        f.repo, f.layout,
        drops({"000000010000000000000005", "000000010000000000000006", "000000010000000000000007",
               "000000010000000000000008", "000000010000000100000000"}));
    std::vector<std::string> segments;
    for (const auto& d : left) segments.push_back(d.segment);
    EXPECT_EQ(segments,
              (std::vector<std::string>{"000000010000000000000006", "000000010000000000000007",
                                        "000000010000000000000008", "000000010000000100000000"}));
}

TEST(WalDropped, AStrayFileInArchiveStatusIsLeftAlone) {
    Fixture f;
    std::ofstream(f.pgWal + "/archive_status/nonsense.backrest-dropped") << "15-1\nx\n";
    std::ofstream(f.pgWal + "/archive_status/000000010000000000000005.backrest-dropped")
        << "no newline";
    EXPECT_EQ(flushDroppedRecords(f.repo, f.layout, f.pgWal, "15-1"), 0u);
    EXPECT_EQ(archiveStatusFiles(f.pgWal).size(), 2u);
    EXPECT_TRUE(listDropped(f.repo, f.layout).empty());
}

TEST(WalDropped, ListingSkipsWhatIsNotARecord) {
    Fixture f;
    storage::writeAll(f.repo, "archive/main/dropped/15-1-000000010000000000000005.tmp", "x");
    storage::writeAll(f.repo, "archive/main/dropped/readme", "x");
    EXPECT_TRUE(listDropped(f.repo, f.layout).empty());
}

TEST(WalDropped, ABackupRecoversUpToTheFirstDropAtOrAfterItsStart) {
    auto d =
        drops({"000000010000000000000003", "000000010000000000000008", "000000010000000000000009"});
    // Before the backup: no effect.
    EXPECT_FALSE(backupGap(d, "15-1", "00000001000000000000000A", "00000001000000000000000B"));
    // After it: recovery stops before the first later drop.
    auto gap = backupGap(d, "15-1", "000000010000000000000004", "000000010000000000000005");
    ASSERT_TRUE(gap);
    EXPECT_EQ(gap->firstDropped, "000000010000000000000008");
    EXPECT_FALSE(gap->insideBackup);
    // Inside the backup's own WAL: it cannot become consistent.
    gap = backupGap(d, "15-1", "000000010000000000000007", "000000010000000000000008");
    ASSERT_TRUE(gap);
    EXPECT_TRUE(gap->insideBackup);
    EXPECT_EQ(gap->firstDropped, "000000010000000000000008");
    // Another timeline at the same position counts; another archive id does not.
    EXPECT_TRUE(backupGap(d, "15-1", "000000020000000000000009", "000000020000000000000009"));
    EXPECT_FALSE(backupGap(d, "16-2", "000000010000000000000001", "000000010000000000000001"));
    EXPECT_FALSE(backupGap(d, "15-1", "", ""));
}

TEST(WalDropped, RangeAndTheFirstWholeBackup) {
    auto d = drops({"000000010000000000000008", "000000010000000000000005"});
    d.push_back({"16-2", "000000010000000000000001", ""});
    auto range = droppedRange(d, "15-1");
    ASSERT_TRUE(range);
    EXPECT_EQ(range->count, 2u);
    EXPECT_EQ(range->first, "000000010000000000000005");
    EXPECT_EQ(range->last, "000000010000000000000008");
    EXPECT_FALSE(droppedRange(d, "14-3"));

    std::vector<BackupSummary> backups(3);
    backups[0].label = "20261206-010000F";
    backups[0].walStart = "000000010000000000000002";
    backups[1].label = "20261206-010000F_20261206-020000D";
    backups[1].walStart = "000000010000000000000008";  // starts in the dropped segment
    backups[2].label = "20261206-030000F";
    backups[2].walStart = "000000010000000000000009";
    EXPECT_EQ(firstWholeBackup(d, "15-1", backups, {"15-1", "15-1", "15-1"}), "20261206-030000F");
    EXPECT_EQ(firstWholeBackup(d, "15-1", backups, {"15-1", "15-1", "16-2"}), "");
    // Nothing dropped: the first backup is whole.
    EXPECT_EQ(firstWholeBackup({}, "15-1", backups, {"15-1", "15-1", "15-1"}), "20261206-010000F");
}

}  // namespace
}  // namespace backrest::repo
