// A stored WAL copy judged by reading it back, and its replacement when bad, through both push
// paths (pushWal and StreamedWal) and archive-get's checks of what it hands PostgreSQL.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.h"
#include "io/sha256.h"
#include "repo/wal_archive.h"
#include "repo/wal_stored_copy.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"
#include "test/unit/wal_segment_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kSysId = 7310000000000000001ULL;
constexpr uint32_t kSegSize = 16 * 1024 * 1024;
const std::string kSeg = "000000010000000000000001";
const std::string kDir = "archive/main/15-1/0000000100000000";

using backrest::test::errorOf;
using backrest::test::has;

class RepoWalStoredCopy : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(root_ + "/pg/pg_wal");
        fs::create_directories(root_ + "/repo/" + kDir);
        fs::create_directories(root_ + "/restore");
        repo_ = std::make_unique<storage::PosixStorage>(root_ + "/repo");
        pg_ = std::make_unique<storage::PosixStorage>(root_ + "/pg");
        restore_ = std::make_unique<storage::PosixStorage>(root_ + "/restore");
        info_.history = {{1, "15", kSysId}};
        saveArchiveInfo(*repo_, layout_, info_);
        good_ = test::syntheticWalSegment(kSysId, 1, kSegSize, 0xD110);
    }

    void put(const std::string& rel, const std::string& bytes) {
        std::ofstream(root_ + "/" + rel, std::ios::binary) << bytes;
    }
    std::string get(const std::string& rel) {
        std::ifstream in(root_ + "/" + rel, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    // An uncompressed stored copy named by the SHA-256 of `named` (its own bytes unless damaged).
    ArchivedWal store(const std::string& bytes, const std::string& named) {
        std::string path = kDir + "/" + kSeg + "-" + io::sha256Hex(named);
        put("repo/" + path, bytes);
        return {"15-1", path, io::sha256Hex(named), io::CompressType::None};
    }
    PushResult push(const std::string& bytes) {
        put("pg/pg_wal/" + kSeg, bytes);
        return pushWal(*repo_, layout_, info_, *pg_, "pg_wal/" + kSeg, "15", kSysId, {});
    }
    std::vector<std::string> setAside() {
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(root_ + "/repo/" + kDir))
            if (e.path().filename().string().find(".bad-") != std::string::npos)
                names.push_back(e.path().filename().string());
        return names;
    }

    Layout layout_{"main", nullptr};
    ArchiveInfo info_;
    backrest::test::TempDir tmp_{"repo-wal-copy"};
    std::string root_ = tmp_.path();
    std::string good_;
    std::unique_ptr<storage::PosixStorage> repo_, pg_, restore_;
};

TEST_F(RepoWalStoredCopy, GoodIdenticalCopyIsKept) {
    auto stored = store(good_, good_);
    auto d = judgeStoredCopy(*repo_, kSeg, stored, io::sha256Hex(good_), 65536);
    EXPECT_EQ(d.action, StoredCopyAction::KeepIdentical);
    EXPECT_TRUE(d.problem.empty());
}

TEST_F(RepoWalStoredCopy, GoodDifferentCopyIsRefused) {
    std::string other = test::syntheticWalSegment(kSysId, 2, kSegSize, 0xD110);
    auto stored = store(other, other);
    EXPECT_EQ(judgeStoredCopy(*repo_, kSeg, stored, io::sha256Hex(good_), 65536).action,
              StoredCopyAction::Refuse);
    Error e = errorOf([&] { push(good_); });
    EXPECT_EQ(e.code(), ErrorCode::ArchiveDuplicate) << e.what();
    EXPECT_EQ(get("repo/" + stored.path), other);
    EXPECT_TRUE(setAside().empty());
}

TEST_F(RepoWalStoredCopy, ShortCopyIsBad) {
    std::string shortCopy = good_.substr(0, 1000000);
    auto stored = store(shortCopy, shortCopy);
    auto d = judgeStoredCopy(*repo_, kSeg, stored, io::sha256Hex(good_), 65536);
    EXPECT_EQ(d.action, StoredCopyAction::Replace);
    EXPECT_TRUE(has(d.problem, "1000000 bytes")) << d.problem;
    EXPECT_TRUE(has(d.problem, "16777216")) << d.problem;
}

TEST_F(RepoWalStoredCopy, CopyNotMatchingItsNameIsBad) {
    std::string damaged = good_;
    damaged[5000] ^= 1;
    auto stored = store(damaged, good_);
    auto d = judgeStoredCopy(*repo_, kSeg, stored, io::sha256Hex(good_), 65536);
    EXPECT_EQ(d.action, StoredCopyAction::Replace);
    EXPECT_TRUE(has(d.problem, "SHA-256")) << d.problem;
}

TEST_F(RepoWalStoredCopy, CopyThatDoesNotDecompressIsBad) {
    std::string path = kDir + "/" + kSeg + "-" + io::sha256Hex(good_) + ".zst";
    put("repo/" + path, "not a zstd frame at all");
    ArchivedWal stored{"15-1", path, io::sha256Hex(good_), io::CompressType::Zst};
    auto d = judgeStoredCopy(*repo_, kSeg, stored, io::sha256Hex(good_), 65536);
    EXPECT_EQ(d.action, StoredCopyAction::Replace);
    EXPECT_TRUE(has(d.problem, "does not decompress")) << d.problem;
}

TEST_F(RepoWalStoredCopy, PushReplacesShortCopyAndSetsItAside) {
    std::string shortCopy = good_.substr(0, 1000000);
    auto bad = store(shortCopy, shortCopy);
    EXPECT_EQ(push(good_), PushResult::Stored);
    auto found = findWal(*repo_, layout_, "15-1", kSeg);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->sha256, io::sha256Hex(good_));
    auto aside = setAside();
    ASSERT_EQ(aside.size(), 1u);
    EXPECT_TRUE(aside[0].starts_with(fs::path(bad.path).filename().string() + ".bad-")) << aside[0];
    EXPECT_EQ(get("repo/" + kDir + "/" + aside[0]), shortCopy);
    EXPECT_FALSE(fs::exists(root_ + "/repo/" + bad.path));
    EXPECT_TRUE(getWal(*repo_, layout_, info_, kSeg, *restore_, "RECOVERYXLOG", 65536));
    EXPECT_EQ(get("restore/RECOVERYXLOG"), good_);
}

TEST_F(RepoWalStoredCopy, PushReplacesDamagedCopyOfTheSameName) {
    std::string damaged = good_;
    damaged[5000] ^= 1;
    store(damaged, good_);  // "<segment>-<sha of the good bytes>": the name the push stores under
    PushOptions none;
    none.compressType = io::CompressType::None;
    put("pg/pg_wal/" + kSeg, good_);
    EXPECT_EQ(pushWal(*repo_, layout_, info_, *pg_, "pg_wal/" + kSeg, "15", kSysId, none),
              PushResult::Stored);
    auto aside = setAside();
    ASSERT_EQ(aside.size(), 1u);
    EXPECT_EQ(get("repo/" + kDir + "/" + aside[0]), damaged);
    EXPECT_TRUE(getWal(*repo_, layout_, info_, kSeg, *restore_, "RECOVERYXLOG", 65536));
    EXPECT_EQ(get("restore/RECOVERYXLOG"), good_);
}

TEST_F(RepoWalStoredCopy, StreamReplacesShortCopy) {
    std::string shortCopy = good_.substr(0, 1000000);
    store(shortCopy, shortCopy);
    PushOptions spooled;
    spooled.spoolPath = root_ + "/spool";
    fs::create_directories(spooled.spoolPath);
    StreamedWal wal(*repo_, layout_, info_, kSeg, "15", kSysId, spooled);
    wal.write({reinterpret_cast<const uint8_t*>(good_.data()), good_.size()});
    EXPECT_EQ(wal.finish(), PushResult::Stored);
    EXPECT_EQ(setAside().size(), 1u);
    EXPECT_EQ(findWal(*repo_, layout_, "15-1", kSeg)->sha256, io::sha256Hex(good_));
}

// A crash between storing the good copy and setting the bad one aside leaves both: the good one
// counts.
TEST_F(RepoWalStoredCopy, FindTakesTheGoodOfTwoCopies) {
    std::string shortCopy = good_.substr(0, 1000000);
    store(shortCopy, shortCopy);
    store(good_, good_);
    auto found = findWal(*repo_, layout_, "15-1", kSeg);
    ASSERT_TRUE(found);
    EXPECT_EQ(found->sha256, io::sha256Hex(good_));
    std::string other = test::syntheticWalSegment(kSysId, 2, kSegSize, 0xD110);
    store(other, other);
    Error e = errorOf([&] { findWal(*repo_, layout_, "15-1", kSeg); });
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_TRUE(has(e.what(), "stored twice")) << e.what();
}

TEST_F(RepoWalStoredCopy, PushRefusesSegmentOfTheWrongSize) {
    Error e = errorOf([&] { push(good_.substr(0, 1000000)); });
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_TRUE(has(e.what(), "has 1000000 bytes")) << e.what();
    EXPECT_TRUE(has(e.what(), "16777216")) << e.what();
    EXPECT_TRUE(has(e.what(), kSeg)) << e.what();
    EXPECT_FALSE(findWal(*repo_, layout_, "15-1", kSeg));
}

TEST_F(RepoWalStoredCopy, GetRefusesShortAndForeignCopies) {
    std::string shortCopy = good_.substr(0, 1000000);
    auto stored = store(shortCopy, shortCopy);
    Error e =
        errorOf([&] { getWal(*repo_, layout_, info_, kSeg, *restore_, "RECOVERYXLOG", 65536); });
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_TRUE(has(e.what(), kSeg) && has(e.what(), stored.path) && has(e.what(), "1000000 bytes"))
        << e.what();
    fs::remove(root_ + "/repo/" + stored.path);

    std::string foreign = test::syntheticWalSegment(kSysId + 1, 1, kSegSize, 0xD110);
    stored = store(foreign, foreign);
    e = errorOf([&] { getWal(*repo_, layout_, info_, kSeg, *restore_, "RECOVERYXLOG", 65536); });
    EXPECT_EQ(e.code(), ErrorCode::DbMismatch) << e.what();
    fs::remove(root_ + "/repo/" + stored.path);

    stored = store(good_, good_);
    e = errorOf([&] {
        getWal(*repo_, layout_, info_, kSeg, *restore_, "RECOVERYXLOG", 65536, kSysId + 1);
    });
    EXPECT_EQ(e.code(), ErrorCode::DbMismatch) << e.what();
    EXPECT_TRUE(getWal(*repo_, layout_, info_, kSeg, *restore_, "RECOVERYXLOG", 65536, kSysId));
    EXPECT_FALSE(fs::exists(root_ + "/restore/RECOVERYXLOG.tmp"));
}

}  // namespace
}  // namespace backrest::repo
