// WAL archived with compress-type=lz4: stored as "<segment>-<sha256>.lz4", found and read back
// by archive-get beside segments stored in zst, de-duplicated across codecs, damage named; a
// segment streamed by the daemon in several lz4 frames reads back whole.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.h"
#include "io/sha256.h"
#include "repo/wal_archive.h"
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
const std::string kSeg1 = "000000010000000000000001";
const std::string kSeg2 = "000000010000000000000002";
const std::string kDir = "archive/main/15-1/0000000100000000/";

class RepoWalLz4 : public ::testing::Test {
  protected:
    void SetUp() override {
        for (const char* d : {"/pg/pg_wal", "/repo", "/restore", "/spool"})
            fs::create_directories(root_ + d);
        repo_ = std::make_unique<storage::PosixStorage>(root_ + "/repo");
        pg_ = std::make_unique<storage::PosixStorage>(root_ + "/pg");
        restore_ = std::make_unique<storage::PosixStorage>(root_ + "/restore");
        info_.history = {{1, "15", kSysId}};
        saveArchiveInfo(*repo_, layout_, info_);
    }
    void put(const std::string& rel, const std::string& bytes) {
        std::ofstream(root_ + "/" + rel, std::ios::binary) << bytes;
    }
    std::string get(const std::string& rel) {
        std::ifstream in(root_ + "/" + rel, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    PushResult push(const std::string& name, io::CompressType type) {
        PushOptions options;
        options.compressType = type;
        options.compressLevel = type == io::CompressType::Lz4 ? 1 : 3;
        return pushWal(*repo_, layout_, info_, *pg_, "pg_wal/" + name, "15", kSysId, options);
    }
    std::string restored(const std::string& name) {
        EXPECT_TRUE(getWal(*repo_, layout_, info_, name, *restore_, "RECOVERYXLOG", 65536));
        return get("restore/RECOVERYXLOG");
    }

    Layout layout_{"main", nullptr};
    ArchiveInfo info_;
    backrest::test::TempDir tmp_{"repo-wal-lz4"};
    std::string root_ = tmp_.path();
    std::unique_ptr<storage::PosixStorage> repo_, pg_, restore_;
};

TEST_F(RepoWalLz4, PushedInLz4BesideZstAndReadBack) {
    std::string one = test::syntheticWalSegment(kSysId, 1, kSegSize);
    std::string two = test::syntheticWalSegment(kSysId, 2, kSegSize);
    uint64_t secondAddress = 2ull * kSegSize;  // its header names segment 2, not 1
    std::memcpy(two.data() + 8, &secondAddress, 8);
    put("pg/pg_wal/" + kSeg1, one);
    put("pg/pg_wal/" + kSeg2, two);
    EXPECT_EQ(push(kSeg1, io::CompressType::Zst), PushResult::Stored);
    EXPECT_EQ(push(kSeg2, io::CompressType::Lz4), PushResult::Stored);
    std::string stored = kDir + kSeg2 + "-" + io::sha256Hex(two) + ".lz4";
    EXPECT_TRUE(fs::exists(root_ + "/repo/" + stored));
    auto found = findWal(*repo_, layout_, "15-1", kSeg2);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->path, stored);
    EXPECT_EQ(found->compressType, io::CompressType::Lz4);
    EXPECT_EQ(findWal(*repo_, layout_, "15-1", kSeg1)->compressType, io::CompressType::Zst);
    EXPECT_EQ(restored(kSeg1), one);
    EXPECT_EQ(restored(kSeg2), two);
    // The same segment pushed again after compress-type changed is the same segment.
    EXPECT_EQ(push(kSeg2, io::CompressType::Zst), PushResult::AlreadyPresent);
    EXPECT_EQ(push(kSeg1, io::CompressType::Lz4), PushResult::AlreadyPresent);
}

TEST_F(RepoWalLz4, DamagedOrTruncatedLz4SegmentIsRefusedNamingIt) {
    put("pg/pg_wal/" + kSeg1, test::syntheticWalSegment(kSysId, 3, kSegSize));
    ASSERT_EQ(push(kSeg1, io::CompressType::Lz4), PushResult::Stored);
    auto found = findWal(*repo_, layout_, "15-1", kSeg1);
    ASSERT_TRUE(found);
    std::string good = get("repo/" + found->path);
    std::string flipped = good;
    flipped[flipped.size() / 2] ^= 0x01;
    for (const std::string& bad : {flipped, good.substr(0, good.size() - 3)}) {
        put("repo/" + found->path, bad);
        Error e = errorOf(
            [&] { getWal(*repo_, layout_, info_, kSeg1, *restore_, "RECOVERYXLOG", 65536); });
        EXPECT_TRUE(e.code() == ErrorCode::Checksum || e.code() == ErrorCode::Compress) << e.what();
        EXPECT_TRUE(has(e.what(), found->path)) << e.what();
        EXPECT_FALSE(fs::exists(root_ + "/restore/RECOVERYXLOG"));
    }
}

// The daemon's stream: frames sealed as it goes, one file of consecutive lz4 frames.
TEST_F(RepoWalLz4, StreamedSegmentInSeveralFramesReadsBack) {
    std::string bytes = test::syntheticWalSegment(kSysId, 4, kSegSize);
    PushOptions options;
    options.compressType = io::CompressType::Lz4;
    options.compressLevel = 1;
    options.spoolPath = root_ + "/spool";
    {
        StreamedWal w(*repo_, layout_, info_, kSeg1, "15", kSysId, options);
        for (size_t at = 0; at < bytes.size(); at += 3 << 20) {
            size_t n = std::min<size_t>(3 << 20, bytes.size() - at);
            w.write({reinterpret_cast<const uint8_t*>(bytes.data() + at), n});
            w.sealFrame();
        }
        EXPECT_EQ(w.finish(), PushResult::Stored);
    }
    auto found = findWal(*repo_, layout_, "15-1", kSeg1);
    ASSERT_TRUE(found);
    EXPECT_TRUE(found->path.ends_with(".lz4")) << found->path;
    EXPECT_EQ(restored(kSeg1), bytes);
}

}  // namespace
}  // namespace backrest::repo
