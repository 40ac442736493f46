// Storing a file as blocks against the prior backup's map, and restoring it from its chain:
// only changed blocks are stored, the restored bytes are the original ones, and damage anywhere
// in the chain is refused with the file and backup named.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "common/error.h"
#include "crypto/sealed.h"
#include "io/file_checksum.h"
#include "io/size.h"
#include "repo/block_transfer.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;

using backrest::test::errorOf;

using backrest::test::has;

constexpr uint32_t kBlock = 8192;
const std::string kName = "pg_data/base/1/16384";
const std::string kFull = "20261121-235959F";
const std::string kIncr1 = "20261121-235959F_20261122-010000I";
const std::string kIncr2 = "20261121-235959F_20261122-020000I";

// Pages that compress like table pages: a random header and repeated rows.
std::string pages(size_t size, uint32_t seed) {
    std::mt19937 rng(seed);
    std::string s(size, '\0');
    for (size_t i = 0; i < size; i++)
        s[i] = i % kBlock < 64 ? static_cast<char>(rng()) : static_cast<char>('a' + i % 13);
    return s;
}

std::span<const uint8_t> bytesOf(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

void changeBlock(std::string& bytes, size_t block) {
    bytes[block * kBlock + 100] ^= 0x5a;
}

class RepoBlockTransfer : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(root_ + "/pg/base/1");
        fs::create_directories(root_ + "/repo");
        fs::create_directories(root_ + "/restore");
        pg_ = std::make_unique<storage::PosixStorage>(root_ + "/pg");
        repo_ = std::make_unique<storage::PosixStorage>(root_ + "/repo");
        restore_ = std::make_unique<storage::PosixStorage>(root_ + "/restore");
        options_.bufferSize = 64 * 1024;
        types_ = {{kFull, io::CompressType::Zst},
                  {kIncr1, io::CompressType::Zst},
                  {kIncr2, io::CompressType::Zst}};
    }

    void put(const std::string& bytes) {
        std::ofstream(root_ + "/pg/base/1/16384", std::ios::binary) << bytes;
    }
    std::string get(const std::string& rel) {
        std::ifstream in(root_ + "/" + rel, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    uint64_t sizeOf(const std::string& repoPath) {
        return fs::file_size(root_ + "/repo/" + repoPath);
    }

    // Backs the current source up into `label` against the map in `priorLabel` (if any).
    StoredBlocks backup(const std::string& label, const std::string& priorLabel = "") {
        std::optional<ResolvedBlockMap> prior;
        if (!priorLabel.empty()) prior = resolveBlockMap(*repo_, layout_, priorLabel, kName);
        auto stored = storeBlocks(*pg_, "base/1/16384", *repo_, {&layout_, label, kName}, kBlock,
                                  prior ? &*prior : nullptr, options_);
        EXPECT_TRUE(stored);
        return *stored;
    }
    // Restores the file as backup `label` has it; returns the restored bytes.
    std::string restore(const std::string& label, const StoredBlocks& stored) {
        ExpectedFile expected{kName, label, stored.file.size, stored.file.checksum, {}};
        expected.write.mode = 0600;
        fs::remove(root_ + "/restore/16384");
        fetchBlocks(*repo_, layout_, types_, *restore_, "16384", expected, 4096);
        return get("restore/16384");
    }
    std::string blocksFile(const std::string& label) {
        return blockDataPath(layout_, label, kName, options_.codec.extension());
    }

    backrest::test::TempDir tmp_{"repo-blocks"};
    std::string root_ = tmp_.path();
    Layout layout_{"main", nullptr};
    TransferOptions options_;
    CompressByLabel types_;
    std::unique_ptr<storage::PosixStorage> pg_, repo_, restore_;
};

TEST_F(RepoBlockTransfer, FullStoresEveryBlockAndRestores) {
    std::string bytes = pages(100 * kBlock + 1234, 1);  // a short last block
    put(bytes);
    StoredBlocks full = backup(kFull);
    EXPECT_EQ(full.blocksStored, 101u);
    EXPECT_EQ(full.blocksKept, 0u);
    EXPECT_EQ(full.file.size, bytes.size());
    EXPECT_EQ(full.file.checksum, io::checksumHex(io::ChecksumType::Xxh3, bytes));
    EXPECT_EQ(full.file.repoSize,
              sizeOf(blocksFile(kFull)) + sizeOf(blockMapPath(layout_, kFull, kName)));
    EXPECT_LT(full.file.repoSize, bytes.size() / 4);  // compressed in frames, not block by block
    EXPECT_EQ(restore(kFull, full), bytes);
}

TEST_F(RepoBlockTransfer, OneChangedBlockStoresOneBlock) {
    std::string bytes = pages(64 * kBlock, 2);
    put(bytes);
    StoredBlocks full = backup(kFull);
    changeBlock(bytes, 17);
    put(bytes);
    StoredBlocks incr = backup(kIncr1, kFull);
    EXPECT_EQ(incr.blocksStored, 1u);
    EXPECT_EQ(incr.blocksKept, 63u);
    EXPECT_EQ(incr.file.checksum, io::checksumHex(io::ChecksumType::Xxh3, bytes));
    auto map = loadBlockMap(*repo_, blockMapPath(layout_, kIncr1, kName));
    EXPECT_EQ(map.slotCount(), 1u);
    EXPECT_EQ(map.runs.size(), 3u);  // full 0-16, incr 0, full 18-63
    EXPECT_EQ(incr.file.repoSize,
              sizeOf(blocksFile(kIncr1)) + sizeOf(blockMapPath(layout_, kIncr1, kName)));
    EXPECT_LT(incr.file.repoSize, full.file.repoSize / 8);
    EXPECT_EQ(restore(kIncr1, incr), bytes);
    // A restore of the incr reads the full's map and every frame of it (each holds a block the
    // incr keeps): the full's whole repository size, besides the incr's own.
    EXPECT_EQ(full.referencedBytes, 0u);
    EXPECT_EQ(incr.referencedBytes, full.file.repoSize);

    // Unchanged again: nothing stored, no .blocks file, the map refers to the full only... and
    // to the incr's block.
    StoredBlocks same = backup(kIncr2, kIncr1);
    EXPECT_EQ(same.blocksStored, 0u);
    EXPECT_FALSE(fs::exists(root_ + "/repo/" + blocksFile(kIncr2)));
    EXPECT_EQ(loadBlockMap(*repo_, blockMapPath(layout_, kIncr2, kName)).holders,
              (std::vector<std::string>{kFull, kIncr1}));
    EXPECT_EQ(restore(kIncr2, same), bytes);
    EXPECT_EQ(same.referencedBytes, full.file.repoSize + incr.file.repoSize);
}

TEST_F(RepoBlockTransfer, ChainOfThreeAndChangingSize) {
    std::string v0 = pages(40 * kBlock + 500, 3);
    put(v0);
    StoredBlocks full = backup(kFull);
    std::string v1 = v0;
    changeBlock(v1, 3);
    v1 += pages(5 * kBlock, 4);  // grows: the old short block changes, four new ones follow
    put(v1);
    StoredBlocks incr1 = backup(kIncr1, kFull);
    EXPECT_EQ(incr1.blocksStored, 1u + 1u + 5u);
    std::string v2 = v1.substr(0, 30 * kBlock + 10);  // shrinks
    changeBlock(v2, 20);
    put(v2);
    StoredBlocks incr2 = backup(kIncr2, kIncr1);
    EXPECT_EQ(incr2.blocksStored, 2u);  // block 20 and the new short last block
    EXPECT_EQ(incr2.blocksKept, 29u);
    EXPECT_EQ(loadBlockMap(*repo_, blockMapPath(layout_, kIncr2, kName)).holders.size(), 3u);
    EXPECT_EQ(restore(kFull, full), v0);
    EXPECT_EQ(restore(kIncr1, incr1), v1);
    EXPECT_EQ(restore(kIncr2, incr2), v2);
    // incr2 keeps blocks 0-29 but 3 and 20: of the full's frames of 16 blocks, the first two
    // (its third holds blocks 32-40 only), with the full's map; of incr1, its one frame (block
    // 3) and its map.
    BlockMap fullMap = loadBlockMap(*repo_, blockMapPath(layout_, kFull, kName));
    ASSERT_EQ(fullMap.frames.size(), 3u);
    EXPECT_EQ(fullMap.storedBytes, sizeOf(blockMapPath(layout_, kFull, kName)));
    EXPECT_EQ(incr1.referencedBytes, full.file.repoSize);  // block 0-39 in all three frames
    EXPECT_EQ(incr2.referencedBytes, fullMap.storedBytes + fullMap.frames[0].storedLength +
                                         fullMap.frames[1].storedLength + incr1.file.repoSize);
    EXPECT_LT(incr2.referencedBytes, full.file.repoSize + incr1.file.repoSize);
}

TEST_F(RepoBlockTransfer, UncompressedAndObserved) {
    options_.codec = RepoCodec(io::CompressType::None, 3);
    types_ = {{kFull, io::CompressType::None}, {kIncr1, io::CompressType::Zst}};
    std::string bytes = pages(20 * kBlock, 5);
    put(bytes);
    io::SizeFilter seen;
    auto full = storeBlocks(*pg_, "base/1/16384", *repo_, {&layout_, kFull, kName}, kBlock, nullptr,
                            options_, &seen);
    ASSERT_TRUE(full);
    EXPECT_EQ(seen.bytes(), bytes.size());
    EXPECT_EQ(get("repo/" + blocksFile(kFull)), bytes);  // stored as they are
    // The next backup compresses: blocks of both kinds in one file.
    options_.codec = RepoCodec(io::CompressType::Zst, 3);
    changeBlock(bytes, 0);
    put(bytes);
    StoredBlocks incr = backup(kIncr1, kFull);
    EXPECT_EQ(incr.blocksStored, 1u);
    EXPECT_EQ(restore(kIncr1, incr), bytes);
}

TEST_F(RepoBlockTransfer, VanishedSourceAndOtherBlockSize) {
    EXPECT_FALSE(storeBlocks(*pg_, "base/1/99999", *repo_, {&layout_, kFull, kName}, kBlock,
                             nullptr, options_));
    EXPECT_FALSE(fs::exists(root_ + "/repo/" + blockMapPath(layout_, kFull, kName)));

    put(pages(16 * kBlock, 6));
    backup(kFull);
    auto prior = resolveBlockMap(*repo_, layout_, kFull, kName);
    auto other = storeBlocks(*pg_, "base/1/16384", *repo_, {&layout_, kIncr1, kName}, 2 * kBlock,
                             &prior, options_);
    ASSERT_TRUE(other);
    EXPECT_EQ(other->blocksStored, 8u);  // the prior's 8 KiB blocks say nothing about 16 KiB ones

    std::atomic<bool> cancel{true};
    options_.cancel = &cancel;
    Error e = errorOf([&] {
        storeBlocks(*pg_, "base/1/16384", *repo_, {&layout_, kIncr2, kName}, kBlock, nullptr,
                    options_);
    });
    EXPECT_EQ(e.code(), ErrorCode::Cancelled);
    EXPECT_FALSE(fs::exists(root_ + "/repo/" + blockMapPath(layout_, kIncr2, kName)));
}

TEST_F(RepoBlockTransfer, FlippedByteInAnEarlierBackupsBlocksIsAChecksumError) {
    std::string bytes = pages(64 * kBlock, 7);
    put(bytes);
    StoredBlocks full = backup(kFull);
    changeBlock(bytes, 40);
    put(bytes);
    StoredBlocks incr = backup(kIncr1, kFull);
    std::string damagedPath = root_ + "/repo/" + blocksFile(kFull);
    std::string stored = get("repo/" + blocksFile(kFull));
    for (size_t at : {size_t{20}, stored.size() / 2, stored.size() - 3}) {
        SCOPED_TRACE(at);
        std::string damaged = stored;
        damaged[at] ^= 0x01;
        std::ofstream(damagedPath, std::ios::binary | std::ios::trunc) << damaged;
        Error e = errorOf([&] { restore(kIncr1, incr); });
        EXPECT_EQ(e.code(), ErrorCode::Checksum) << e.what();
        EXPECT_TRUE(has(e.what(), kName)) << e.what();
        EXPECT_TRUE(has(e.what(), "of backup " + kIncr1)) << e.what();
        EXPECT_TRUE(has(e.what(), "is in backup " + kFull)) << e.what();
        EXPECT_FALSE(fs::exists(root_ + "/restore/16384"));  // the partial file is removed
    }
    std::ofstream(damagedPath, std::ios::binary | std::ios::trunc)
        << stored.substr(0, stored.size() / 2);
    EXPECT_EQ(errorOf([&] { restore(kIncr1, incr); }).code(), ErrorCode::Checksum);
    fs::remove(damagedPath);
    EXPECT_EQ(errorOf([&] { restore(kIncr1, incr); }).code(), ErrorCode::FileMissing);
}

// Encrypted: each frame of a .blocks file is sealed as unit k of the file's piece in the backup
// that stored it, the map is sealed as its own path; a chain restores exactly, and a flipped
// byte in an earlier backup's frame is a CryptoError naming the file, the block and its backup.
TEST_F(RepoBlockTransfer, EncryptedChainRestoresAndADamagedFrameIsNamed) {
    std::array<uint8_t, crypto::kRepoKeyBytes> keyBytes{};
    keyBytes.fill(3);
    layout_.key = std::make_shared<const crypto::RepoKey>(keyBytes);
    options_.codec = options_.codec.withKey(layout_.key);
    std::string bytes = pages(64 * kBlock, 9);
    put(bytes);
    StoredBlocks full = backup(kFull);
    changeBlock(bytes, 40);
    put(bytes);
    StoredBlocks incr = backup(kIncr1, kFull);
    EXPECT_EQ(incr.blocksStored, 1u);
    EXPECT_EQ(restore(kIncr1, incr), bytes);
    EXPECT_TRUE(crypto::looksSealed(bytesOf(get("repo/" + blocksFile(kFull)))));
    EXPECT_TRUE(crypto::looksSealed(bytesOf(get("repo/" + blockMapPath(layout_, kFull, kName)))));
    // The map opens only with the key.
    EXPECT_EQ(errorOf([&] { loadBlockMap(*repo_, blockMapPath(layout_, kFull, kName)); }).code(),
              ErrorCode::Format);
    std::string damagedPath = root_ + "/repo/" + blocksFile(kFull);
    std::string stored = get("repo/" + blocksFile(kFull));
    std::string damaged = stored;
    damaged[stored.size() / 2] ^= 0x01;
    std::ofstream(damagedPath, std::ios::binary | std::ios::trunc) << damaged;
    Error e = errorOf([&] { restore(kIncr1, incr); });
    EXPECT_EQ(e.code(), ErrorCode::Crypto) << e.what();
    EXPECT_TRUE(has(e.what(), "file '" + kName + "' of backup " + kIncr1)) << e.what();
    EXPECT_TRUE(has(e.what(), "(in backup " + kFull + ") does not open")) << e.what();
    EXPECT_TRUE(has(e.what(), blocksFile(kFull) + "', frame ")) << e.what();
    EXPECT_FALSE(fs::exists(root_ + "/restore/16384"));
}

// Uncompressed blocks have no codec checksum: the block's own checksum names the damage.
TEST_F(RepoBlockTransfer, FlippedByteInAnUncompressedBlockIsNamed) {
    options_.codec = RepoCodec(io::CompressType::None, 3);
    types_[kFull] = io::CompressType::None;
    std::string bytes = pages(24 * kBlock, 9);
    put(bytes);
    StoredBlocks full = backup(kFull);
    std::string stored = get("repo/" + blocksFile(kFull));
    stored[5 * kBlock + 7] ^= 0x01;
    std::ofstream(root_ + "/repo/" + blocksFile(kFull), std::ios::binary | std::ios::trunc)
        << stored;
    Error e = errorOf([&] { restore(kFull, full); });
    EXPECT_EQ(e.code(), ErrorCode::Checksum);
    EXPECT_TRUE(has(e.what(), "block 5 is in backup " + kFull)) << e.what();
    EXPECT_TRUE(has(e.what(), "does not match the block's checksum")) << e.what();
}

TEST_F(RepoBlockTransfer, DamagedMapOrWrongRecordIsRefused) {
    std::string bytes = pages(16 * kBlock, 8);
    put(bytes);
    StoredBlocks full = backup(kFull);
    std::string mapPath = root_ + "/repo/" + blockMapPath(layout_, kFull, kName);
    std::string map = get("repo/" + blockMapPath(layout_, kFull, kName));

    StoredBlocks wrong = full;
    wrong.file.checksum = std::string(64, '0');
    Error e = errorOf([&] { restore(kFull, wrong); });
    EXPECT_EQ(e.code(), ErrorCode::Checksum);
    EXPECT_TRUE(has(e.what(), "restored " + std::to_string(bytes.size()) + " bytes")) << e.what();
    EXPECT_FALSE(fs::exists(root_ + "/restore/16384"));

    std::string damaged = map;
    damaged[damaged.size() / 2] ^= 0x01;
    std::ofstream(mapPath, std::ios::binary | std::ios::trunc) << damaged;
    EXPECT_EQ(errorOf([&] { restore(kFull, full); }).code(), ErrorCode::Checksum);
    fs::remove(mapPath);
    e = errorOf([&] { restore(kFull, full); });
    EXPECT_EQ(e.code(), ErrorCode::FileMissing);
    EXPECT_TRUE(has(e.what(), ".blockmap")) << e.what();

    // A holder outside the chain given is not read.
    std::ofstream(mapPath, std::ios::binary | std::ios::trunc) << map;
    types_.erase(kFull);
    e = errorOf([&] { restore(kFull, full); });
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_TRUE(has(e.what(), "not in the backup's chain")) << e.what();
}

// Delta restore of a block-stored file: a local copy that differs in a few blocks, or in size,
// gets exactly the backup's bytes, and only the differing blocks are written.
TEST_F(RepoBlockTransfer, PatchWritesOnlyDifferingBlocks) {
    std::string v0 = pages(300 * kBlock + 777, 6);  // frames of several blocks, a short last block
    put(v0);
    StoredBlocks full = backup(kFull);
    std::string v1 = v0;
    changeBlock(v1, 250);
    put(v1);
    StoredBlocks incr = backup(kIncr1, kFull);
    ExpectedFile expected{kName, kIncr1, incr.file.size, incr.file.checksum, {}};
    std::string local = root_ + "/restore/16384";
    auto localBytes = [&] { return get("restore/16384"); };
    auto putLocal = [&](const std::string& b) {
        std::ofstream(local, std::ios::binary | std::ios::trunc) << b;
    };

    // Local copy = the full's version, three more pages damaged: four blocks differ.
    std::string damaged = v0;
    changeBlock(damaged, 0);
    changeBlock(damaged, 123);
    damaged[300 * kBlock + 5] ^= 0x01;  // in the short last block
    putLocal(damaged);
    auto patched = patchBlocks(*repo_, layout_, types_, *restore_, local, expected);
    EXPECT_EQ(localBytes(), v1);
    EXPECT_EQ(patched.blocksCompared, 301u);
    EXPECT_EQ(patched.blocksWritten, 4u);
    EXPECT_GE(patched.framesRead, 2u);  // the incr's frame and the full's
    EXPECT_LE(patched.framesRead, 4u);

    // Already equal: nothing written, nothing read from the .blocks files.
    patched = patchBlocks(*repo_, layout_, types_, *restore_, local, expected);
    EXPECT_EQ(patched.blocksWritten, 0u);
    EXPECT_EQ(patched.framesRead, 0u);
    EXPECT_EQ(localBytes(), v1);

    // Longer and shorter local copies are cut or completed.
    putLocal(v1 + std::string(3 * kBlock, 'x'));
    patched = patchBlocks(*repo_, layout_, types_, *restore_, local, expected);
    EXPECT_EQ(patched.blocksWritten, 0u);
    EXPECT_EQ(localBytes(), v1);
    putLocal(v1.substr(0, 100 * kBlock + 9));
    patched = patchBlocks(*repo_, layout_, types_, *restore_, local, expected);
    EXPECT_EQ(patched.blocksWritten, 201u);  // the partial block 100 and the 200 after it
    EXPECT_EQ(localBytes(), v1);
    putLocal("");
    patchBlocks(*repo_, layout_, types_, *restore_, local, expected);
    EXPECT_EQ(localBytes(), v1);
}

// A file large enough to be compared on two threads: differing blocks on both sides of the
// split are found, and a file shorter than the split point is completed.
TEST_F(RepoBlockTransfer, PatchComparesALargeFileOnTwoThreads) {
    std::string bytes = pages(70ull * 1024 * 1024, 8);  // above the 64 MiB split size
    put(bytes);
    StoredBlocks full = backup(kFull);
    ExpectedFile expected{kName, kFull, full.file.size, full.file.checksum, {}};
    std::string local = root_ + "/restore/16384";
    std::string changed = bytes;
    for (size_t block : {size_t{3}, size_t{4000}, size_t{4500}, size_t{8900}})
        changeBlock(changed, block);
    std::ofstream(local, std::ios::binary) << changed;
    auto patched = patchBlocks(*repo_, layout_, types_, *restore_, local, expected, 2);
    EXPECT_EQ(patched.blocksCompared, bytes.size() / kBlock);
    EXPECT_EQ(patched.blocksWritten, 4u);
    EXPECT_TRUE(get("restore/16384") == bytes);
    std::ofstream(local, std::ios::binary | std::ios::trunc)
        << bytes.substr(0, 66ull * 1024 * 1024 + 100);
    patched = patchBlocks(*repo_, layout_, types_, *restore_, local, expected, 2);
    EXPECT_EQ(patched.blocksWritten,
              4ull * 1024 * 1024 / kBlock);  // the partial block and those after it
    EXPECT_TRUE(get("restore/16384") == bytes);
}

TEST_F(RepoBlockTransfer, PatchRefusesADamagedFrameAndNamesIt) {
    std::string bytes = pages(64 * kBlock, 7);
    put(bytes);
    StoredBlocks full = backup(kFull);
    ExpectedFile expected{kName, kFull, full.file.size, full.file.checksum, {}};
    std::string local = root_ + "/restore/16384";
    std::string changed = bytes;
    changeBlock(changed, 40);
    std::ofstream(local, std::ios::binary) << changed;
    std::string blocks = root_ + "/repo/" + blocksFile(kFull);
    std::string stored = get("repo/" + blocksFile(kFull));
    for (size_t i = 0; i < stored.size(); i += 64) stored[i] ^= 0x10;  // every frame
    std::ofstream(blocks, std::ios::binary | std::ios::trunc) << stored;
    Error e = errorOf([&] { patchBlocks(*repo_, layout_, types_, *restore_, local, expected); });
    EXPECT_EQ(e.code(), ErrorCode::Checksum);
    EXPECT_TRUE(has(e.what(), "file '" + kName + "' of backup " + kFull + " is damaged"))
        << e.what();
    EXPECT_TRUE(has(e.what(), "block 40")) << e.what();
    EXPECT_TRUE(has(e.what(), blocksFile(kFull))) << e.what();
    // The local block stays as it was: nothing unverified was written.
    EXPECT_EQ(get("restore/16384"), changed);
}

}  // namespace
}  // namespace backrest::repo
