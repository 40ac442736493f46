// Block map: block sizes, binary round trip, and damage or truncation always detected.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.h"
#include "io/sha256.h"
#include "repo/block_map.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;

using backrest::test::errorOf;

using backrest::test::has;

const std::string kFull = "20261121-235959F";
const std::string kIncr = "20261121-235959F_20261122-010000I";

BlockChecksum sumOf(int n) {
    return blockChecksum(std::span(reinterpret_cast<const uint8_t*>(&n), sizeof n));
}

// A file of 5 blocks of 8 KiB and a short one: blocks 0-1 and 4 from the full (slots 0, 1, 4),
// blocks 2-3 and 5 stored by the incremental itself in two frames.
BlockMap sampleMap() {
    BlockMap m;
    m.blockSize = 8192;
    m.fileSize = 5 * 8192 + 100;
    m.frames = {{0, 700, 0, 2, 2 * 8192}, {700, 90, 2, 1, 100}};
    m.checksums = {sumOf(1), sumOf(2), sumOf(3)};
    m.appendBlock(kFull, 0);
    m.appendBlock(kFull, 1);
    m.appendBlock(kIncr, 0);
    m.appendBlock(kIncr, 1);
    m.appendBlock(kFull, 4);
    m.appendBlock(kIncr, 2);
    return m;
}

// Re-seals bytes after an edit, as a writer would have: the checksum alone cannot catch it.
std::string resealed(std::string bytes) {
    bytes.resize(bytes.size() - 32);
    std::string hex = io::sha256Hex(bytes);
    for (size_t i = 0; i < 32; i++)
        bytes.push_back(static_cast<char>(std::stoi(hex.substr(2 * i, 2), nullptr, 16)));
    return bytes;
}

TEST(RepoBlockMap, BlockSizeBySize) {
    EXPECT_EQ(blockSizeFor(0), 0u);
    EXPECT_EQ(blockSizeFor(kBlockMinFileSize - 1), 0u);
    EXPECT_EQ(blockSizeFor(kBlockMinFileSize), 8192u);
    EXPECT_EQ(blockSizeFor(1ull << 30), 8192u);  // a full relation segment: one page a block
    EXPECT_EQ(blockSizeFor((1ull << 30) + 1), 65536u);
}

TEST(RepoBlockMap, AppendMergesConsecutiveSlotsOfOneHolder) {
    BlockMap m = sampleMap();
    ASSERT_EQ(m.holders, (std::vector<std::string>{kFull, kIncr}));
    ASSERT_EQ(m.runs.size(), 4u);
    EXPECT_EQ(m.runs[0].holder, 0u);
    EXPECT_EQ(m.runs[0].firstSlot, 0u);
    EXPECT_EQ(m.runs[0].blocks, 2u);
    EXPECT_EQ(m.runs[1].holder, 1u);
    EXPECT_EQ(m.runs[1].blocks, 2u);
    EXPECT_EQ(m.runs[2].firstSlot, 4u);
    EXPECT_EQ(m.runs[3].firstSlot, 2u);
    EXPECT_EQ(m.blockCount(), 6u);
    EXPECT_EQ(m.blockLength(0), 8192u);
    EXPECT_EQ(m.blockLength(5), 100u);
    EXPECT_EQ(m.frameOf(0), 0u);
    EXPECT_EQ(m.frameOf(1), 0u);
    EXPECT_EQ(m.frameOf(2), 1u);
    EXPECT_EQ(m.slotLength(1), 8192u);
    EXPECT_EQ(m.slotLength(2), 100u);
}

TEST(RepoBlockMap, RoundTrip) {
    BlockMap m = sampleMap();
    BlockMap d = decodeBlockMap(encodeBlockMap(m), "test");
    EXPECT_EQ(d.blockSize, m.blockSize);
    EXPECT_EQ(d.fileSize, m.fileSize);
    EXPECT_EQ(d.holders, m.holders);
    EXPECT_EQ(d.checksums, m.checksums);
    ASSERT_EQ(d.frames.size(), m.frames.size());
    for (size_t i = 0; i < m.frames.size(); i++) {
        EXPECT_EQ(d.frames[i].offset, m.frames[i].offset);
        EXPECT_EQ(d.frames[i].storedLength, m.frames[i].storedLength);
        EXPECT_EQ(d.frames[i].firstSlot, m.frames[i].firstSlot);
        EXPECT_EQ(d.frames[i].blocks, m.frames[i].blocks);
        EXPECT_EQ(d.frames[i].originalLength, m.frames[i].originalLength);
    }
    ASSERT_EQ(d.runs.size(), m.runs.size());
    for (size_t i = 0; i < m.runs.size(); i++) {
        EXPECT_EQ(d.runs[i].holder, m.runs[i].holder);
        EXPECT_EQ(d.runs[i].firstSlot, m.runs[i].firstSlot);
        EXPECT_EQ(d.runs[i].blocks, m.runs[i].blocks);
    }
    // An empty file: no frame, no run.
    BlockMap empty;
    empty.blockSize = 8192;
    BlockMap e = decodeBlockMap(encodeBlockMap(empty), "test");
    EXPECT_EQ(e.fileSize, 0u);
    EXPECT_TRUE(e.runs.empty());
    EXPECT_TRUE(e.frames.empty());
}

TEST(RepoBlockMap, EveryFlippedByteIsDetected) {
    std::string good = encodeBlockMap(sampleMap());
    for (size_t i = 0; i < good.size(); i++) {
        SCOPED_TRACE(i);
        std::string bad = good;
        bad[i] = static_cast<char>(bad[i] ^ 0x10);
        Error e = errorOf([&] { decodeBlockMap(bad, "repo/x.blockmap"); });
        EXPECT_TRUE(e.code() == ErrorCode::Checksum || e.code() == ErrorCode::Format) << e.what();
        EXPECT_TRUE(has(e.what(), "repo/x.blockmap")) << e.what();
    }
}

TEST(RepoBlockMap, EveryTruncationIsDetected) {
    std::string good = encodeBlockMap(sampleMap());
    for (size_t n = 0; n < good.size(); n++) {
        SCOPED_TRACE(n);
        Error e = errorOf([&] { decodeBlockMap(good.substr(0, n), "repo/x.blockmap"); });
        EXPECT_TRUE(e.code() == ErrorCode::Checksum || e.code() == ErrorCode::Format) << e.what();
    }
    Error e = errorOf([&] { decodeBlockMap(good + "x", "repo/x.blockmap"); });
    EXPECT_EQ(e.code(), ErrorCode::Checksum);
}

TEST(RepoBlockMap, WellSealedButInconsistentIsMalformed) {
    std::string good = encodeBlockMap(sampleMap());
    std::string newer = good;
    newer[8] = 3;  // version
    Error e = errorOf([&] { decodeBlockMap(resealed(newer), "m"); });
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_TRUE(has(e.what(), "version 3, this backrest reads version 2")) << e.what();
    // Version 1 (truncated SHA-256 block checksums) is not read as version 2.
    std::string older = good;
    older[8] = 1;
    e = errorOf([&] { decodeBlockMap(resealed(older), "m"); });
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_TRUE(has(e.what(), "version 1")) << e.what();

    std::string longer = good;
    longer[17] = static_cast<char>(longer[17] + 0x20);  // file size (at 16, little-endian) + 8192
    e = errorOf([&] { decodeBlockMap(resealed(longer), "m"); });
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_TRUE(has(e.what(), "runs hold 6 blocks")) << e.what();

    BlockMap wrong = sampleMap();
    wrong.runs.back().blocks = 2;
    EXPECT_EQ(errorOf([&] { encodeBlockMap(wrong); }).code(), ErrorCode::Assert);
}

class RepoBlockMapFiles : public ::testing::Test {
  protected:
    void SetUp() override { repo_ = std::make_unique<storage::PosixStorage>(root_); }

    void save(const std::string& label, const BlockMap& m) {
        storage::writeAll(*repo_, blockMapPath(layout_, label, "pg_data/base/1/2"),
                          encodeBlockMap(m));
    }

    backrest::test::TempDir tmp_{"repo-blockmap"};
    std::string root_ = tmp_.path();
    Layout layout_{"main", nullptr};
    std::unique_ptr<storage::PosixStorage> repo_;
};

TEST_F(RepoBlockMapFiles, ResolveLoadsTheHoldersMaps) {
    BlockMap full;
    full.blockSize = 8192;
    full.fileSize = 5 * 8192;
    full.frames = {{0, 900, 0, 5, 5 * 8192}};
    for (int i = 0; i < 5; i++) {
        full.checksums.push_back(sumOf(10 + i));
        full.appendBlock(kFull, static_cast<uint32_t>(i));
    }
    save(kFull, full);
    save(kIncr, sampleMap());
    EXPECT_EQ(blockMapPath(layout_, kIncr, "pg_data/base/1/2"),
              "backup/main/" + kIncr + "/pg_data/base/1/2.blockmap");
    EXPECT_EQ(blockDataPath(layout_, kIncr, "pg_data/base/1/2", ".zst"),
              "backup/main/" + kIncr + "/pg_data/base/1/2.blocks.zst");

    auto r = resolveBlockMap(*repo_, layout_, kIncr, "pg_data/base/1/2");
    EXPECT_EQ(r.label, kIncr);
    ASSERT_EQ(r.others.size(), 1u);
    EXPECT_EQ(&r.holderMap(1), &r.map);
    EXPECT_EQ(r.holderMap(0).checksums[4], sumOf(14));

    // A holder holding fewer blocks than the map names, or a missing holder map, is refused.
    full.fileSize = 4 * 8192;
    full.frames = {{0, 900, 0, 4, 4 * 8192}};
    full.checksums.pop_back();
    full.runs.back().blocks = 4;
    save(kFull, full);
    Error e = errorOf([&] { resolveBlockMap(*repo_, layout_, kIncr, "pg_data/base/1/2"); });
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_TRUE(has(e.what(), "which holds 4")) << e.what();
    fs::remove(root_ + "/" + blockMapPath(layout_, kFull, "pg_data/base/1/2"));
    EXPECT_EQ(errorOf([&] { resolveBlockMap(*repo_, layout_, kIncr, "pg_data/base/1/2"); }).code(),
              ErrorCode::FileMissing);
}

}  // namespace
}  // namespace backrest::repo
