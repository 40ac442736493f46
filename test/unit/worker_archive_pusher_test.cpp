// The daemon's WAL pushing (worker/archive_pusher.h): what the archiver is answered, what status
// reports (the last segment archived, the last failure and its message), the read-ahead of .ready
// segments, and segments the WAL streamer stored.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "common/error.h"
#include "repo/info.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"
#include "test/unit/wal_segment_support.h"
#include "worker/archive_pusher.h"

namespace backrest::cmd {
namespace {

using test::errorOf;
using test::has;

constexpr uint64_t kSystemId = 7310000000000000001ULL;
constexpr uint32_t kSegmentSize = 1 << 20;  // initdb --wal-segsize=1: small files, same rules
constexpr const char* kSeg1 = "000000010000000000000001";
constexpr const char* kSeg2 = "000000010000000000000002";
constexpr const char* kSeg3 = "000000010000000000000003";

class WorkerArchivePusher : public ::testing::Test {
  protected:
    WorkerArchivePusher() : repo_(dir_ / "repo") {
        std::filesystem::create_directories(pg_ + "/global");
        std::filesystem::create_directories(pg_ + "/pg_wal/archive_status");
        test::writeFile(pg_ + "/PG_VERSION", "15\n");
        std::string control(8192, '\0');
        std::memcpy(control.data(), &kSystemId, 8);
        test::writeFile(pg_ + "/global/pg_control", control);
        repo::saveArchiveInfo(repo_, layout_, repo::ArchiveInfo{{{1, "15", kSystemId}}});
    }

    PusherSettings settings(bool async = false) {
        PusherSettings s;
        s.repo = &repo_;
        s.layout = layout_;
        s.pgPath = pg_;
        s.processMax = 2;
        s.async = async;
        return s;
    }
    // A segment in pg_wal, of this cluster unless told otherwise.
    std::string segment(const std::string& name, uint64_t systemId = kSystemId, uint32_t seed = 1) {
        std::string path = pg_ + "/pg_wal/" + name;
        test::writeFile(path, test::syntheticWalSegment(systemId, seed, kSegmentSize));
        return path;
    }
    void markReady(const std::string& name) {
        test::writeFile(pg_ + "/pg_wal/archive_status/" + name + ".ready", "");
    }

    test::TempDir dir_{"worker-archive-pusher"};
    std::string pg_ = dir_ / "pg";
    storage::PosixStorage repo_;
    repo::Layout layout_{"main", nullptr};
};

}  // namespace

TEST_F(WorkerArchivePusher, StoresThenFindsItAlreadyPresent) {
    ArchivePusher pusher(settings());
    auto before = pusher.status();
    EXPECT_FALSE(before.lastArchived.has_value());
    EXPECT_EQ(before.pushed, 0u);
    EXPECT_EQ(before.stream, "off");
    EXPECT_FALSE(before.async);

    std::string path = segment(kSeg1);
    EXPECT_EQ(pusher.push(path), "stored");
    EXPECT_TRUE(repo::findWal(repo_, layout_, "15-1", kSeg1).has_value());
    EXPECT_EQ(pusher.push(path), "already-present");
    auto after = pusher.status();
    EXPECT_EQ(after.lastArchived, kSeg1);
    EXPECT_TRUE(after.lastArchivedTime.has_value());
    EXPECT_EQ(after.pushed, 2u);
    EXPECT_FALSE(after.lastFailure.has_value());

    ClusterIdentity id = pusher.identity();
    EXPECT_EQ(id.version, "15");
    EXPECT_EQ(id.systemId, kSystemId);
    EXPECT_EQ(id.info.currentArchiveId(), "15-1");
}

// A failed push reaches the archiver as an error, and status keeps it for the DBA.
TEST_F(WorkerArchivePusher, FailureIsRaisedAndReportedByStatus) {
    ArchivePusher pusher(settings());
    pusher.push(segment(kSeg1));
    std::string other = segment(kSeg2, 42);  // a segment of another cluster
    Error e = errorOf([&] { pusher.push(other); });
    EXPECT_EQ(e.code(), ErrorCode::DbMismatch);
    EXPECT_TRUE(has(e.what(), kSeg2)) << e.what();
    auto status = pusher.status();
    EXPECT_EQ(status.lastFailure, kSeg2);
    EXPECT_EQ(status.lastFailureMessage, std::string(e.what()));
    EXPECT_TRUE(status.lastFailureTime.has_value());
    EXPECT_EQ(status.lastArchived, kSeg1);  // still the last one that made it
    EXPECT_EQ(status.pushed, 1u);
    EXPECT_FALSE(repo::findWal(repo_, layout_, "15-1", kSeg2).has_value());
}

// A daemon started before stanza-create archives once the stanza exists, without a restart.
TEST_F(WorkerArchivePusher, StanzaCreatedAfterAFailureIsSeen) {
    repo_.removePath("archive", true);
    ArchivePusher pusher(settings());
    Error e = errorOf([&] { pusher.push(segment(kSeg1)); });
    EXPECT_EQ(e.code(), ErrorCode::Stanza);
    repo::saveArchiveInfo(repo_, layout_, repo::ArchiveInfo{{{1, "15", kSystemId}}});
    EXPECT_EQ(pusher.push(pg_ + "/pg_wal/" + kSeg1), "stored");
}

TEST_F(WorkerArchivePusher, ReadAheadPushesReadySegmentsBeforeTheArchiverAsks) {
    std::string path1 = segment(kSeg1), path2 = segment(kSeg2, kSystemId, 2);
    segment(kSeg3, kSystemId, 3);  // not .ready: still being written
    markReady(kSeg1);
    markReady(kSeg2);
    ArchivePusher pusher(settings(true));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (pusher.status().pushed < 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto status = pusher.status();
    ASSERT_EQ(status.pushed, 2u);
    EXPECT_TRUE(status.async);
    EXPECT_EQ(status.pending, 2u);  // PostgreSQL marks them .done once the archiver is answered
    EXPECT_EQ(pusher.push(path1), "pushed-ahead");
    EXPECT_EQ(pusher.push(path2), "pushed-ahead");
    EXPECT_FALSE(repo::findWal(repo_, layout_, "15-1", kSeg3).has_value());
    EXPECT_EQ(pusher.push(pg_ + "/pg_wal/" + kSeg3), "stored");  // asked for: pushed now
}

// A read-ahead failure is only recorded: the archiver's own request reports it to PostgreSQL.
TEST_F(WorkerArchivePusher, ReadAheadFailureIsRecordedNotThrown) {
    std::string bad = segment(kSeg1, 42);
    markReady(kSeg1);
    ArchivePusher pusher(settings(true));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!pusher.status().lastFailure && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto status = pusher.status();
    EXPECT_EQ(status.lastFailure, kSeg1);
    EXPECT_TRUE(has(status.lastFailureMessage.value_or(""), "42")) << *status.lastFailureMessage;
    EXPECT_EQ(errorOf([&] { pusher.push(bad); }).code(), ErrorCode::DbMismatch);
}

// What the WAL streamer stored is answered without reading the file again.
TEST_F(WorkerArchivePusher, SegmentsTheStreamerStoredAreAnsweredStreamed) {
    ArchivePusher pusher(settings());
    pusher.streamState("streaming from 0/1000000");
    EXPECT_EQ(pusher.status().stream, "streaming from 0/1000000");
    pusher.streamStored(kSeg1, true);
    auto status = pusher.status();
    EXPECT_EQ(status.streamed, 1u);
    EXPECT_EQ(status.pushed, 1u);
    EXPECT_EQ(status.lastArchived, kSeg1);
    // No file in pg_wal is needed: the archiver's request is answered from memory.
    EXPECT_EQ(pusher.push(pg_ + "/pg_wal/" + kSeg1), "streamed");
    // Asked once only: a second request pushes the file as usual.
    EXPECT_EQ(pusher.push(segment(kSeg1)), "stored");

    pusher.streamStored(kSeg2, false);  // already in the repository: not counted as pushed
    EXPECT_EQ(pusher.status().pushed, 2u);
    EXPECT_EQ(pusher.status().streamed, 2u);
    pusher.streamAbandoned(kSeg3, "server closed the connection");
    EXPECT_EQ(pusher.status().stream, "interrupted: server closed the connection");
}

}  // namespace backrest::cmd
