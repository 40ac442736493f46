// The streamed segment completed by the archiver's request from pg_wal's file, or by the stream;
// the stream's late bytes checked against what was archived; frames sealed ahead of time.
#include <gtest/gtest.h>
#include <zstd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "common/error.h"
#include "io/sha256.h"
#include "repo/streamed_segment.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"
#include "test/unit/wal_segment_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;
using backrest::test::errorOf;
using backrest::test::has;

constexpr uint64_t kSysId = 7310000000000000001ULL;
constexpr uint32_t kSegSize = 16 * 1024 * 1024;
const std::string kSeg = "000000010000000000000001";
const std::string kDir = "repo/archive/main/15-1/0000000100000000";

// A segment of this cluster (test/unit/wal_segment_support.h).
std::string segment(uint32_t seed) {
    return test::syntheticWalSegment(kSysId, seed, kSegSize);
}

std::span<const uint8_t> bytesOf(const std::string& s, size_t from, size_t n) {
    return {reinterpret_cast<const uint8_t*>(s.data()) + from, n};
}

class RepoStreamedSegment : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(root_ + "/pg_wal");
        fs::create_directories(root_ + "/repo");
        fs::create_directories(root_ + "/restore");
        fs::create_directories(root_ + "/spool");
        repo_ = std::make_unique<storage::PosixStorage>(root_ + "/repo");
        restore_ = std::make_unique<storage::PosixStorage>(root_ + "/restore");
        info_.history = {{1, "15", kSysId}};
        saveArchiveInfo(*repo_, layout_, info_);
    }

    std::unique_ptr<StreamedSegment> open() {
        return std::make_unique<StreamedSegment>(
            std::make_unique<StreamedWal>(*repo_, layout_, info_, kSeg, "15", kSysId, spooled()),
            kSeg, kSegSize);
    }
    PushOptions spooled() {
        PushOptions options;
        options.spoolPath = root_ + "/spool";
        return options;
    }
    // Stream bytes [from, to) in WAL-message-sized pieces.
    static void stream(StreamedSegment& s, const std::string& bytes, size_t from, size_t to) {
        for (size_t at = from; at < to; at += std::min<size_t>(8192 + 17, to - at))
            s.write(bytesOf(bytes, at, std::min<size_t>(8192 + 17, to - at)));
    }
    std::string walPath() { return root_ + "/pg_wal/" + kSeg; }
    void putWal(const std::string& bytes) { std::ofstream(walPath(), std::ios::binary) << bytes; }
    // The segment stored by another process (an archive-push).
    PushResult storeByAnotherProcess(const std::string& bytes) {
        fs::create_directories(root_ + "/other");
        std::ofstream(root_ + "/other/" + kSeg, std::ios::binary) << bytes;
        storage::PosixStorage other(root_ + "/other");
        return pushWal(*repo_, layout_, info_, other, kSeg, "15", kSysId, PushOptions{});
    }
    std::string restored() {
        EXPECT_TRUE(getWal(*repo_, layout_, info_, kSeg, *restore_, kSeg, 65536));
        std::ifstream in(root_ + "/restore/" + kSeg, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    std::vector<std::string> stored() {
        std::vector<std::string> names;
        if (!fs::exists(root_ + "/" + kDir)) return names;  // nothing was ever written there
        for (const auto& e : fs::directory_iterator(root_ + "/" + kDir))
            names.push_back(e.path().filename());
        return names;
    }
    std::string storedBytes() {
        auto names = stored();
        EXPECT_EQ(names.size(), 1u);
        std::ifstream in(root_ + "/" + kDir + "/" + names.at(0), std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

    Layout layout_{"main", nullptr};
    ArchiveInfo info_;
    backrest::test::TempDir tmp_{"repo-streamed"};
    std::string root_ = tmp_.path();
    std::unique_ptr<storage::PosixStorage> repo_, restore_;
};

// The archiver asks while the stream is 20000 bytes short: the rest comes from pg_wal, the
// segment is stored at once under the checksum of the whole, and the stream's late bytes are
// only compared.
TEST_F(RepoStreamedSegment, RequestCompletesFromTheFileAndTheStreamOnlyCompares) {
    std::string bytes = segment(1);
    putWal(bytes);
    auto s = open();
    stream(*s, bytes, 0, kSegSize - 20000);
    auto done = s->completeFromFile(walPath());
    ASSERT_TRUE(done);
    EXPECT_EQ(done->by, StreamedSegment::Completion::FromFile);
    EXPECT_EQ(done->result, PushResult::Stored);
    EXPECT_EQ(stored(), std::vector<std::string>{kSeg + "-" + io::sha256Hex(bytes) + ".zst"});
    EXPECT_EQ(restored(), bytes);

    // Asked again (PostgreSQL retries after a lost reply): the same answer, nothing stored twice.
    done = s->completeFromFile(walPath());
    ASSERT_TRUE(done);
    EXPECT_EQ(done->by, StreamedSegment::Completion::FromFile);

    stream(*s, bytes, kSegSize - 20000, kSegSize);
    EXPECT_FALSE(s->finish());
    s.reset();
    EXPECT_EQ(stored().size(), 1u);  // no temporary file left
}

TEST_F(RepoStreamedSegment, StreamBytesThatDifferFromTheArchivedFileAreReported) {
    std::string bytes = segment(2);
    putWal(bytes);
    auto s = open();
    stream(*s, bytes, 0, kSegSize - 20000);
    ASSERT_TRUE(s->completeFromFile(walPath()));
    std::string other = bytes;
    other[kSegSize - 1000] ^= 0x01;
    Error e = errorOf([&] { stream(*s, other, kSegSize - 20000, kSegSize); });
    EXPECT_EQ(e.code(), ErrorCode::Checksum);
    EXPECT_TRUE(has(e.what(), "WAL segment " + kSeg)) << e.what();
    EXPECT_TRUE(has(e.what(), "offset " + std::to_string(kSegSize - 1000))) << e.what();
    // What was archived is pg_wal's file.
    EXPECT_EQ(restored(), bytes);
}

TEST_F(RepoStreamedSegment, StreamThatFinishedFirstIsReported) {
    std::string bytes = segment(3);
    putWal(bytes);
    auto s = open();
    stream(*s, bytes, 0, kSegSize);
    ASSERT_EQ(s->finish(), PushResult::Stored);
    auto done = s->completeFromFile(walPath());
    ASSERT_TRUE(done);
    EXPECT_EQ(done->by, StreamedSegment::Completion::ByStream);
    EXPECT_EQ(done->result, PushResult::Stored);
    EXPECT_EQ(restored(), bytes);
}

TEST_F(RepoStreamedSegment, AbandonedOrUnreadableCompletesNothing) {
    std::string bytes = segment(4);
    auto s = open();
    stream(*s, bytes, 0, 100000);
    s->abandon();
    EXPECT_FALSE(s->completeFromFile(walPath()));
    EXPECT_TRUE(stored().empty());

    // A file in pg_wal that is not a whole segment raises, naming it; the segment is given up.
    putWal(bytes.substr(0, kSegSize / 2));
    s = open();
    stream(*s, bytes, 0, 100000);
    Error e = errorOf([&] { s->completeFromFile(walPath()); });
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_TRUE(has(e.what(), walPath() + "' has 8388608 bytes, not the segment size 16777216"))
        << e.what();
    EXPECT_FALSE(s->completeFromFile(walPath()));
    stream(*s, bytes, 100000, kSegSize);
    EXPECT_FALSE(s->finish());
    EXPECT_TRUE(stored().empty());

    // A missing file raises, naming it.
    fs::remove(walPath());
    s = open();
    e = errorOf([&] { s->completeFromFile(walPath()); });
    EXPECT_EQ(e.code(), ErrorCode::FileOpen);
    EXPECT_TRUE(has(e.what(), walPath())) << e.what();
    s.reset();
    EXPECT_TRUE(stored().empty());
    EXPECT_TRUE(fs::is_empty(root_ + "/spool"));  // every spool file went with its segment
}

// idle() near the end seals what is pending as zstd frames: the stored file is several frames
// and decodes to the segment.
TEST_F(RepoStreamedSegment, IdleNearTheEndSealsFrames) {
    std::string bytes = segment(5);
    putWal(bytes);
    auto s = open();
    size_t at = 0;
    for (size_t step : {size_t{kSegSize / 2}, size_t{kSegSize / 2 - 200000}, size_t{50000},
                        size_t{50000}, size_t{10000}}) {
        stream(*s, bytes, at, at + step);
        at += step;
        s->idle();
    }
    ASSERT_TRUE(s->completeFromFile(walPath()));
    std::string file = storedBytes();
    size_t frames = 0;
    for (size_t off = 0; off < file.size(); frames++) {
        size_t n = ZSTD_findFrameCompressedSize(file.data() + off, file.size() - off);
        ASSERT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
        off += n;
    }
    // Sealed at 16 MiB - 200000, - 150000 and - 100000 (the first idle is outside the last
    // 256 KiB, the last one has less than 32 KiB pending), then the completion's own frame.
    EXPECT_EQ(frames, 4u);
    EXPECT_EQ(restored(), bytes);
}

// Looked up when it starts: an identical file stored meanwhile is still known by its name, a
// different one once the repository is looked up again.
TEST_F(RepoStreamedSegment, RepositoryLookUpAheadStillFindsWhatWasStoredMeanwhile) {
    std::string bytes = segment(6);
    auto same =
        std::make_unique<StreamedWal>(*repo_, layout_, info_, kSeg, "15", kSysId, spooled());
    auto other =
        std::make_unique<StreamedWal>(*repo_, layout_, info_, kSeg, "15", kSysId, spooled());
    ASSERT_EQ(storeByAnotherProcess(bytes), PushResult::Stored);

    same->write(bytesOf(bytes, 0, kSegSize));
    EXPECT_EQ(same->finish(), PushResult::AlreadyPresent);
    same.reset();

    std::string changed = segment(7);
    other->write(bytesOf(changed, 0, kSegSize));
    other->checkRepository();
    Error e = errorOf([&] { other->finish(); });
    EXPECT_EQ(e.code(), ErrorCode::ArchiveDuplicate);
    EXPECT_TRUE(has(e.what(), io::sha256Hex(bytes))) << e.what();
    other.reset();
    EXPECT_EQ(stored(), std::vector<std::string>{kSeg + "-" + io::sha256Hex(bytes) + ".zst"});
}

// The stream's idle() renews the look-up while WAL comes: a different copy of the segment stored
// after the segment started (by another process) is then refused, even within the 2 s in which
// finish() would trust the look-up.
TEST_F(RepoStreamedSegment, IdleRenewsTheRepositoryLookUp) {
    std::string bytes = segment(8), theirs = segment(9);
    putWal(bytes);
    auto s = open();
    stream(*s, bytes, 0, 1000000);
    ASSERT_EQ(storeByAnotherProcess(theirs), PushResult::Stored);
    std::this_thread::sleep_for(StreamedSegment::kRepositoryRecheck +
                                std::chrono::milliseconds(100));
    s->idle();  // no byte since the look-up: nothing listed
    stream(*s, bytes, 1000000, 2000000);
    s->idle();
    Error e = errorOf([&] { s->completeFromFile(walPath()); });
    EXPECT_EQ(e.code(), ErrorCode::ArchiveDuplicate);
    EXPECT_TRUE(has(e.what(), io::sha256Hex(theirs))) << e.what();
    EXPECT_EQ(stored(), std::vector<std::string>{kSeg + "-" + io::sha256Hex(theirs) + ".zst"});
}

}  // namespace
}  // namespace backrest::repo
