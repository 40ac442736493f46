// Reading a stored file back: size, checksum and the typed fault for a file that is good,
// missing, truncated, flipped, sealed with another key or as another piece, or a bundle's range.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "common/error.h"
#include "crypto/repo_key.h"
#include "io/file_checksum.h"
#include "repo/file_transfer.h"
#include "repo/stored_file_reader.h"
#include "storage/posix.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;

using test::has;

std::string content(size_t size) {
    std::mt19937 rng(static_cast<uint32_t>(size));
    std::string s(size, '\0');
    for (size_t i = 0; i < size; i++)
        s[i] = i % 2 ? static_cast<char>(rng()) : static_cast<char>('a' + i % 7);
    return s;
}

std::span<const uint8_t> bytesOf(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::shared_ptr<const crypto::RepoKey> testKey(uint8_t seed) {
    std::array<uint8_t, crypto::kRepoKeyBytes> bytes{};
    for (size_t i = 0; i < bytes.size(); i++) bytes[i] = static_cast<uint8_t>(seed * 31 + i);
    return std::make_shared<const crypto::RepoKey>(bytes);
}

const std::string kPiece = "backup/main/20261205-000000F/pg_data/base/1/16384";

class RepoStoredFileReader : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = fs::temp_directory_path().string() + "/repo-reader-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        root_ = tmpl;
        fs::create_directories(root_ + "/pg");
        fs::create_directories(root_ + "/repo");
        pg_ = std::make_unique<storage::PosixStorage>(root_ + "/pg");
        repo_ = std::make_unique<storage::PosixStorage>(root_ + "/repo");
    }
    void TearDown() override { fs::remove_all(root_); }

    // Stores `bytes` as repository file `path` with `codec` (sealed as kPiece with a key).
    StoredFile store(const std::string& path, const std::string& bytes, const RepoCodec& codec) {
        test::writeFile(root_ + "/pg/f", bytes);
        TransferOptions options;
        options.codec = codec;
        auto stored = storeFile(*pg_, "f", *repo_, path, kPiece, options);
        if (!stored) ADD_FAILURE() << "not stored";
        return stored.value_or(StoredFile{});
    }
    std::string repoBytes(const std::string& path) {
        return test::readFile(root_ + "/repo/" + path);
    }
    void setRepoBytes(const std::string& path, const std::string& bytes) {
        test::writeFile(root_ + "/repo/" + path, bytes);
    }
    // Opens and reads `from` whole, expecting `expected`; `original` gets the bytes read.
    StoredRead readBack(const StoredLocation& from, const RepoCodec& codec,
                        const StoredExpectation& expected, std::string* original = nullptr) {
        StoredFileReader reader(*repo_, from, codec, kPiece);
        if (!reader.open()) {
            StoredRead missing;
            missing.fault = StoredFault::Missing;
            return missing;
        }
        return reader.read(io::ChecksumType::Xxh3, expected,
                           {.original =
                                [&](std::span<const uint8_t> b) {
                                    if (original) original->append(b.begin(), b.end());
                                }},
                           4096);
    }

    std::string root_;
    std::unique_ptr<storage::PosixStorage> pg_, repo_;
};

TEST_F(RepoStoredFileReader, GoodFileGivesItsBytesSizeAndChecksum) {
    for (auto type : {io::CompressType::Zst, io::CompressType::None}) {
        SCOPED_TRACE(io::compressTypeName(type));
        std::string bytes = content(300000);
        StoredFile stored = store("f.stored", bytes, RepoCodec(type, 3));
        std::string original, asStored;
        StoredFileReader reader(*repo_, "f.stored", RepoCodec(type), kPiece);
        ASSERT_TRUE(reader.open());
        EXPECT_EQ(reader.where(), root_ + "/repo/f.stored");
        StoredRead read = reader.read(
            io::ChecksumType::Xxh3, {stored.checksum, stored.size},
            {.original = [&](std::span<const uint8_t> b) { original.append(b.begin(), b.end()); },
             .stored = [&](std::span<const uint8_t> b) { asStored.append(b.begin(), b.end()); }},
            4096);
        EXPECT_TRUE(read.ok());
        EXPECT_FALSE(read.error);
        EXPECT_EQ(read.size, bytes.size());
        EXPECT_EQ(read.checksum, io::checksumHex(io::ChecksumType::Xxh3, bytes));
        EXPECT_EQ(read.storedSize, stored.repoSize);
        EXPECT_EQ(original, bytes);
        EXPECT_EQ(asStored, repoBytes("f.stored"));
    }
}

TEST_F(RepoStoredFileReader, MissingFileDoesNotOpen) {
    StoredFileReader reader(*repo_, "nope.zst", RepoCodec(io::CompressType::Zst), kPiece);
    EXPECT_FALSE(reader.open());
    EXPECT_EQ(reader.where(), root_ + "/repo/nope.zst");
}

TEST_F(RepoStoredFileReader, ReadBeforeOpenIsAnAssert) {
    StoredFileReader reader(*repo_, "nope.zst", RepoCodec(io::CompressType::Zst), kPiece);
    Error e = test::errorOf([&] { reader.read(io::ChecksumType::Xxh3, {"", 0}, {}, 4096); });
    EXPECT_EQ(e.code(), ErrorCode::Assert);
}

TEST_F(RepoStoredFileReader, TruncatedCompressedFileIsUndecodable) {
    StoredFile stored = store("f.zst", content(200000), RepoCodec(io::CompressType::Zst, 3));
    std::string bytes = repoBytes("f.zst");
    setRepoBytes("f.zst", bytes.substr(0, bytes.size() / 2));
    StoredRead read =
        readBack("f.zst", RepoCodec(io::CompressType::Zst), {stored.checksum, stored.size});
    EXPECT_EQ(read.fault, StoredFault::Undecodable);
    ASSERT_TRUE(read.error);
    EXPECT_EQ(read.error->code(), ErrorCode::Compress);
    EXPECT_TRUE(has(read.error->what(), root_ + "/repo/f.zst")) << read.error->what();
    EXPECT_EQ(read.storedSize, bytes.size() / 2);
}

TEST_F(RepoStoredFileReader, FlippedByteIsAMismatchWithWhatWasRead) {
    std::string bytes = content(100000);
    StoredFile stored = store("f", bytes, RepoCodec(io::CompressType::None, 0));
    std::string flipped = repoBytes("f");
    flipped[5000] ^= 0x01;
    setRepoBytes("f", flipped);
    StoredRead read =
        readBack("f", RepoCodec(io::CompressType::None), {stored.checksum, stored.size});
    EXPECT_EQ(read.fault, StoredFault::Mismatch);
    EXPECT_FALSE(read.error);
    EXPECT_EQ(read.size, bytes.size());
    EXPECT_EQ(read.checksum, io::checksumHex(io::ChecksumType::Xxh3, flipped));
    EXPECT_NE(read.checksum, stored.checksum);
}

TEST_F(RepoStoredFileReader, SizeIsComparedOnlyWhenExpected) {
    std::string bytes = content(1000);
    StoredFile stored = store("f.zst", bytes, RepoCodec(io::CompressType::Zst, 3));
    EXPECT_EQ(readBack("f.zst", RepoCodec(io::CompressType::Zst), {stored.checksum, 999}).fault,
              StoredFault::Mismatch);
    // A WAL segment's name gives only its checksum.
    StoredRead read =
        readBack("f.zst", RepoCodec(io::CompressType::Zst), {stored.checksum, std::nullopt});
    EXPECT_TRUE(read.ok());
    EXPECT_EQ(read.size, 1000u);
}

TEST_F(RepoStoredFileReader, WrongKeyOrPieceIsUnopened) {
    const RepoCodec sealed = RepoCodec(io::CompressType::Zst, 3).withKey(testKey(1));
    StoredFile stored = store("f.zst", content(100000), sealed);
    EXPECT_TRUE(readBack("f.zst", RepoCodec(io::CompressType::Zst).withKey(testKey(1)),
                         {stored.checksum, stored.size})
                    .ok());
    StoredRead read = readBack("f.zst", RepoCodec(io::CompressType::Zst).withKey(testKey(2)),
                               {stored.checksum, stored.size});
    EXPECT_EQ(read.fault, StoredFault::Unopened);
    ASSERT_TRUE(read.error);
    EXPECT_EQ(read.error->code(), ErrorCode::Crypto);
    EXPECT_TRUE(has(read.error->what(), root_ + "/repo/f.zst")) << read.error->what();

    StoredFileReader other(*repo_, "f.zst", RepoCodec(io::CompressType::Zst).withKey(testKey(1)),
                           kPiece + "5");
    ASSERT_TRUE(other.open());
    EXPECT_EQ(other.read(io::ChecksumType::Xxh3, {stored.checksum, stored.size}, {}, 4096).fault,
              StoredFault::Unopened);
}

TEST_F(RepoStoredFileReader, BundleRangeIsReadAlone) {
    std::string first = content(5000), second = content(7000);
    auto bundle = repo_->openWrite("bundle", {});
    TransferOptions options;
    test::writeFile(root_ + "/pg/a", first);
    test::writeFile(root_ + "/pg/b", second);
    auto a = appendFile(*pg_, "a", *bundle, kPiece, options);
    auto b = appendFile(*pg_, "b", *bundle, kPiece, options);
    bundle->close();
    ASSERT_TRUE(a && b);
    std::string original;
    StoredLocation range("bundle", storage::ReadRange{a->repoSize, b->repoSize});
    StoredRead read =
        readBack(range, RepoCodec(io::CompressType::Zst), {b->checksum, b->size}, &original);
    EXPECT_TRUE(read.ok());
    EXPECT_EQ(original, second);
    EXPECT_EQ(read.storedSize, b->repoSize);
    StoredFileReader reader(*repo_, range, RepoCodec(io::CompressType::Zst), kPiece);
    EXPECT_EQ(reader.where(), fmt::format("{}/repo/bundle, bytes {}-{}", root_, a->repoSize,
                                          a->repoSize + b->repoSize));
}

TEST_F(RepoStoredFileReader, WhatASinkRaisesIsPassedOnNotAFault) {
    StoredFile stored = store("f.zst", content(100000), RepoCodec(io::CompressType::Zst, 3));
    for (bool original : {true, false}) {
        StoredFileReader reader(*repo_, "f.zst", RepoCodec(io::CompressType::Zst), kPiece);
        ASSERT_TRUE(reader.open());
        auto full = [](std::span<const uint8_t>) {
            raise(ErrorCode::FileWrite, "unable to write 'x': No space left on device");
        };
        StoredFileReader::Sinks sinks;
        (original ? sinks.original : sinks.stored) = full;
        Error e = test::errorOf([&] {
            reader.read(io::ChecksumType::Xxh3, {stored.checksum, stored.size}, sinks, 4096);
        });
        EXPECT_EQ(e.code(), ErrorCode::FileWrite);
        EXPECT_EQ(std::string(e.what()), "unable to write 'x': No space left on device");
    }
}

TEST_F(RepoStoredFileReader, UnreadableFileIsAFaultWithItsError) {
    fs::create_directories(root_ + "/repo/dir.zst");  // opens, but reading it fails
    StoredFileReader reader(*repo_, "dir.zst", RepoCodec(io::CompressType::Zst), kPiece);
    bool opened = false;
    try {
        opened = reader.open();
    } catch (const Error&) {
        GTEST_SKIP() << "this storage refuses to open a directory";
    }
    ASSERT_TRUE(opened);
    StoredRead read = reader.read(io::ChecksumType::Xxh3, {"", 0}, {}, 4096);
    EXPECT_EQ(read.fault, StoredFault::Unreadable);
    ASSERT_TRUE(read.error);
    EXPECT_NE(read.error->code(), ErrorCode::Compress);
    EXPECT_NE(read.error->code(), ErrorCode::Crypto);
}

TEST(RepoFrameOrderChecksum, FramesInOrderMatchTheWholeFile) {
    std::string whole = content(30000);
    std::string checksum = io::checksumHex(io::ChecksumType::Sha256, whole);
    FrameOrderChecksum inOrder(io::ChecksumType::Sha256);
    for (size_t at = 0; at < whole.size(); at += 8192) inOrder.add(bytesOf(whole.substr(at, 8192)));
    StoredRead read = inOrder.finish({checksum, whole.size()});
    EXPECT_TRUE(read.ok());
    EXPECT_EQ(read.size, whole.size());
    EXPECT_EQ(read.checksum, checksum);

    FrameOrderChecksum swapped(io::ChecksumType::Sha256);
    swapped.add(bytesOf(whole.substr(8192, 8192)));
    swapped.add(bytesOf(whole.substr(0, 8192)));
    swapped.add(bytesOf(whole.substr(16384)));
    read = swapped.finish({checksum, whole.size()});
    EXPECT_EQ(read.fault, StoredFault::Mismatch);
    EXPECT_EQ(read.size, whole.size());
    EXPECT_NE(read.checksum, checksum);
}

}  // namespace
}  // namespace backrest::repo
