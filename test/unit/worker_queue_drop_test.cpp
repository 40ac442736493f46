// archive-push-queue-max's drop for both push paths (worker/queue_drop.h): under the limit
// nothing happens; past it the segment is recorded (in the repository, or in pg_wal when the
// archive id cannot be read) and the ERROR names the segment, the queue and the limit.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "repo/wal_dropped.h"
#include "storage/posix.h"
#include "temp_dir.h"
#include "worker/queue_drop.h"

namespace backrest::cmd {
namespace {

constexpr uint64_t kSeg = 16ull << 20;

struct Fixture {
    test::TempDir dir{"queue-drop"};
    storage::PosixStorage repo{dir / "repo"};
    repo::Layout layout{"main"};
    std::string pgWal = dir / "pg_wal";
    explicit Fixture(int ready) {
        std::filesystem::create_directories(pgWal + "/archive_status");
        for (int i = 1; i <= ready; i++)
            std::ofstream(pgWal + "/archive_status/00000001000000000000000" + std::to_string(i) +
                          ".ready")
                .close();
    }
};

std::optional<std::string> id15() {
    return "15-1";
}

TEST(QueueDrop, TheMessageNamesSegmentQueueAndLimit) {
    std::string m =
        queueDropMessage("archive-push", "000000010000000000000004", 4 * kSeg, 3 * kSeg);
    EXPECT_NE(m.find("archive-push: dropped WAL segment 000000010000000000000004"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("64.0 MiB (67108864 bytes)"), std::string::npos) << m;
    EXPECT_NE(m.find("archive-push-queue-max 48.0 MiB (50331648 bytes)"), std::string::npos) << m;
    EXPECT_NE(m.find("point-in-time recovery cannot go past 000000010000000000000004"),
              std::string::npos)
        << m;
}

TEST(QueueDrop, NoLimitOrAQueueWithinItDropsNothing) {
    Fixture f(3);
    EXPECT_FALSE(dropIfQueueFull("archive-push", {std::nullopt, kSeg}, f.pgWal,
                                 "000000010000000000000001", &f.repo, f.layout, id15));
    EXPECT_FALSE(dropIfQueueFull("archive-push", {3 * kSeg, kSeg}, f.pgWal,
                                 "000000010000000000000001", &f.repo, f.layout, id15));
    EXPECT_TRUE(repo::listDropped(f.repo, f.layout).empty());
}

TEST(QueueDrop, PastTheLimitTheSegmentIsRecordedInTheRepository) {
    Fixture f(4);
    EXPECT_TRUE(dropIfQueueFull("archive-push", {3 * kSeg, kSeg}, f.pgWal,
                                "000000010000000000000001", &f.repo, f.layout, id15));
    auto listed = repo::listDropped(f.repo, f.layout);
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].archiveId, "15-1");
    EXPECT_EQ(listed[0].segment, "000000010000000000000001");
    std::string detail =
        storage::readAll(f.repo, "archive/main/dropped/15-1-000000010000000000000001");
    EXPECT_NE(detail.find("queue=67108864 max=50331648 by=archive-push"), std::string::npos)
        << detail;
}

TEST(QueueDrop, AnUnreadableArchiveInfoStillDropsAndTheRecordWaitsLocally) {
    Fixture f(2);
    auto unreadable = []() -> std::optional<std::string> {
        raise(ErrorCode::FileRead, "archive.info: permission denied");
    };
    EXPECT_TRUE(dropIfQueueFull("serve", {kSeg, kSeg}, f.pgWal, "000000010000000000000001", &f.repo,
                                f.layout, unreadable));
    EXPECT_TRUE(repo::listDropped(f.repo, f.layout).empty());
    EXPECT_TRUE(std::filesystem::exists(f.pgWal + "/archive_status/"
                                                  "000000010000000000000001.backrest-dropped"));
    EXPECT_EQ(repo::flushDroppedRecords(f.repo, f.layout, f.pgWal, "15-1"), 1u);
    EXPECT_EQ(repo::listDropped(f.repo, f.layout).size(), 1u);
}

TEST(QueueDrop, ASegmentNothingCanRecordIsNotDropped) {
    Fixture f(2);
    // The repository refuses (a file where its directory goes) and so does pg_wal (a directory
    // where the record goes): the push fails and PostgreSQL keeps the segment.
    std::filesystem::create_directories(f.dir / "repo/archive/main");
    std::ofstream(f.dir / "repo/archive/main/dropped").close();
    std::filesystem::create_directories(
        f.pgWal + "/archive_status/000000010000000000000001.backrest-dropped");
    EXPECT_THROW(dropIfQueueFull("archive-push", {kSeg, kSeg}, f.pgWal, "000000010000000000000001",
                                 &f.repo, f.layout, id15),
                 std::exception);
}

}  // namespace
}  // namespace backrest::cmd
