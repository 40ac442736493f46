// Storing a file into the repository and restoring it, verified by size and SHA-256.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <string>

#include "common/error.h"
#include "common/parallel.h"
#include "io/file_checksum.h"
#include "repo/file_transfer.h"
#include "repo/framed_fetch.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;

using backrest::test::errorOf;

using backrest::test::has;

// Half pseudo-random, half repetitive: both compressible and not.
std::string content(size_t size) {
    std::mt19937 rng(static_cast<uint32_t>(size));
    std::string s(size, '\0');
    for (size_t i = 0; i < size; i++)
        s[i] = i % 2 ? static_cast<char>(rng()) : static_cast<char>('a' + i % 7);
    return s;
}

class RepoFileTransfer : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(root_ + "/pg/base/1");
        fs::create_directories(root_ + "/repo");
        fs::create_directories(root_ + "/restore");
        pg_ = std::make_unique<storage::PosixStorage>(root_ + "/pg");
        repo_ = std::make_unique<storage::PosixStorage>(root_ + "/repo");
        restore_ = std::make_unique<storage::PosixStorage>(root_ + "/restore");
    }

    void put(const std::string& rel, const std::string& bytes) {
        test::writeFile(root_ + "/" + rel, bytes);
    }
    std::string get(const std::string& rel) { return test::readFile(root_ + "/" + rel); }
    // Stores pg/base/1/<relfilenode>, holding `bytes`, as a framed file at repoPath.
    StoredFile storeFramed(const std::string& relfilenode, const std::string& bytes,
                           uint64_t frameBytes, const std::string& repoPath,
                           int compressWorkers = 0) {
        put("pg/base/1/" + relfilenode, bytes);
        TransferOptions options;
        options.frameBytes = frameBytes;
        options.compressWorkers = compressWorkers;
        auto stored = storeFile(*pg_, "base/1/" + relfilenode, *repo_, repoPath, "p", options);
        if (!stored) ADD_FAILURE() << "base/1/" << relfilenode << " not stored";
        return stored.value_or(StoredFile{});
    }

    backrest::test::TempDir tmp_{"repo-transfer"};
    std::string root_ = tmp_.path();
    std::unique_ptr<storage::PosixStorage> pg_, repo_, restore_;
};

TEST_F(RepoFileTransfer, RoundTripSizesAndCompressTypes) {
    const std::string label = "20261121-235959F";
    for (size_t size : {size_t{0}, size_t{1}, size_t{5} * 1024 * 1024}) {
        for (io::CompressType type : {io::CompressType::Zst, io::CompressType::None}) {
            SCOPED_TRACE(::testing::Message() << size << " bytes, " << io::compressTypeName(type));
            std::string bytes = content(size);
            put("pg/base/1/16384", bytes);
            std::string repoPath = "backup/main/" + label + "/pg_data/base/1/16384" +
                                   std::string(io::compressExtension(type));
            TransferOptions options;
            options.codec = RepoCodec(type, 3);
            options.bufferSize = 64 * 1024;
            auto stored = storeFile(*pg_, "base/1/16384", *repo_, repoPath, "p", options);
            ASSERT_TRUE(stored);
            EXPECT_EQ(stored->size, size);
            EXPECT_EQ(stored->checksum, io::checksumHex(io::ChecksumType::Xxh3, bytes));
            std::string repoBytes = get("repo/" + repoPath);
            EXPECT_EQ(stored->repoSize, repoBytes.size());
            if (type == io::CompressType::None) {
                EXPECT_EQ(repoBytes, bytes);
            } else {
                EXPECT_GT(repoBytes.size(), 0u);  // a zstd frame even for nothing
            }

            ExpectedFile expected{
                "pg_data/base/1/16384", label, stored->size, stored->checksum, {}};
            expected.write.mode = 0600;
            fetchFile(*repo_, repoPath, RepoCodec(type), *restore_, "base/1/16384", expected, 4096);
            EXPECT_EQ(get("restore/base/1/16384"), bytes);
            EXPECT_EQ(fs::status(root_ + "/restore/base/1/16384").permissions() & fs::perms::all,
                      fs::perms::owner_read | fs::perms::owner_write);
            fs::remove(root_ + "/restore/base/1/16384");
        }
    }
}

TEST_F(RepoFileTransfer, MissingSourceIsNullopt) {
    EXPECT_FALSE(
        storeFile(*pg_, "base/1/99999", *repo_, "backup/main/x/pg_data/base/1/99999.zst", "p", {}));
    EXPECT_FALSE(fs::exists(root_ + "/repo/backup/main/x/pg_data/base/1/99999.zst"));
}

TEST_F(RepoFileTransfer, WrongChecksumIsRefusedAndNothingLeft) {
    for (io::CompressType type : {io::CompressType::Zst, io::CompressType::None}) {
        SCOPED_TRACE(io::compressTypeName(type));
        put("pg/base/1/16384", content(100000));
        TransferOptions options;
        options.codec = RepoCodec(type, 3);
        auto stored = storeFile(*pg_, "base/1/16384", *repo_, "f", "p", options);
        ASSERT_TRUE(stored);

        ExpectedFile wrongSha{
            "pg_data/base/1/16384", "20261121-235959F", stored->size, std::string(64, '0'), {}};
        Error e = errorOf([&] {
            fetchFile(*repo_, "f", RepoCodec(type), *restore_, "base/1/16384", wrongSha, 8192);
        });
        EXPECT_EQ(e.code(), ErrorCode::Checksum);
        EXPECT_TRUE(has(e.what(), "pg_data/base/1/16384")) << e.what();
        EXPECT_TRUE(has(e.what(), "20261121-235959F")) << e.what();
        EXPECT_FALSE(fs::exists(root_ + "/restore/base/1/16384"));
        EXPECT_TRUE(fs::is_empty(root_ + "/restore/base/1")) << "temporary file left behind";

        ExpectedFile wrongSize{
            "pg_data/base/1/16384", "20261121-235959F", stored->size + 1, stored->checksum, {}};
        EXPECT_EQ(errorOf([&] {
                      fetchFile(*repo_, "f", RepoCodec(type), *restore_, "base/1/16384", wrongSize,
                                8192);
                  }).code(),
                  ErrorCode::Checksum);
        EXPECT_FALSE(fs::exists(root_ + "/restore/base/1/16384"));
    }
}

TEST_F(RepoFileTransfer, DamagedCompressedFileIsChecksumError) {
    put("pg/base/1/16384", content(100000));
    auto stored = storeFile(*pg_, "base/1/16384", *repo_, "f.zst", "p", {});
    ASSERT_TRUE(stored);
    std::string bytes = get("repo/f.zst");
    bytes[bytes.size() / 2] ^= 0x55;
    put("repo/f.zst", bytes);
    ExpectedFile expected{
        "pg_data/base/1/16384", "20261121-235959F", stored->size, stored->checksum, {}};
    Error e = errorOf([&] {
        fetchFile(*repo_, "f.zst", RepoCodec(io::CompressType::Zst), *restore_, "x", expected,
                  8192);
    });
    EXPECT_EQ(e.code(), ErrorCode::Checksum);
    EXPECT_TRUE(has(e.what(), "pg_data/base/1/16384")) << e.what();
    EXPECT_TRUE(has(e.what(), "20261121-235959F")) << e.what();
    EXPECT_FALSE(fs::exists(root_ + "/restore/x"));
}

TEST_F(RepoFileTransfer, MissingRepositoryFileIsFileMissing) {
    ExpectedFile expected{"pg_data/base/1/16384", "20261121-235959F", 0, std::string(64, '0'), {}};
    Error e = errorOf([&] {
        fetchFile(*repo_, "nope.zst", RepoCodec(io::CompressType::Zst), *restore_, "x", expected,
                  8192);
    });
    EXPECT_EQ(e.code(), ErrorCode::FileMissing);
    EXPECT_TRUE(has(e.what(), "pg_data/base/1/16384")) << e.what();
    EXPECT_TRUE(has(e.what(), root_ + "/repo/nope.zst")) << e.what();
}

// checksum-type=sha256: the file is stored with its SHA-256, restored and checked by it (the
// algorithm read from the recorded checksum's length), and damage is reported as SHA-256.
TEST_F(RepoFileTransfer, Sha256ChecksumTypeStoresAndVerifies) {
    std::string bytes = content(300000);
    put("pg/base/1/16384", bytes);
    TransferOptions options;
    options.checksumType = io::ChecksumType::Sha256;
    auto stored = storeFile(*pg_, "base/1/16384", *repo_, "f.zst", "p", options);
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->checksum, io::checksumHex(io::ChecksumType::Sha256, bytes));
    ExpectedFile expected{
        "pg_data/base/1/16384", "20261121-235959F", stored->size, stored->checksum, {}};
    fetchFile(*repo_, "f.zst", RepoCodec(io::CompressType::Zst), *restore_, "ok", expected, 8192);
    EXPECT_EQ(get("restore/ok"), bytes);

    expected.checksum[0] = expected.checksum[0] == '0' ? '1' : '0';
    Error e = errorOf([&] {
        fetchFile(*repo_, "f.zst", RepoCodec(io::CompressType::Zst), *restore_, "bad", expected,
                  8192);
    });
    EXPECT_EQ(e.code(), ErrorCode::Checksum);
    EXPECT_TRUE(has(e.what(), "with SHA-256 " + expected.checksum)) << e.what();
    EXPECT_TRUE(has(e.what(), "with " + stored->checksum)) << e.what();
    EXPECT_FALSE(fs::exists(root_ + "/restore/bad"));

    // A recorded checksum of neither form: a Format error before anything is written.
    expected.checksum = "0123";
    e = errorOf([&] {
        fetchFile(*repo_, "f.zst", RepoCodec(io::CompressType::Zst), *restore_, "odd", expected,
                  8192);
    });
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_TRUE(has(e.what(), "pg_data/base/1/16384")) << e.what();
    EXPECT_FALSE(fs::exists(root_ + "/restore/odd"));
}

TEST_F(RepoFileTransfer, StoreBytes) {
    std::string label = "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n";
    for (io::CompressType type : {io::CompressType::Zst, io::CompressType::None}) {
        TransferOptions options;
        options.codec = RepoCodec(type, 3);
        StoredFile stored = storeBytes(label, *repo_, "backup_label", "p", options);
        EXPECT_EQ(stored.size, label.size());
        EXPECT_EQ(stored.checksum, io::checksumHex(io::ChecksumType::Xxh3, label));
        EXPECT_EQ(stored.repoSize, get("repo/backup_label").size());
        if (type == io::CompressType::None) {
            EXPECT_EQ(get("repo/backup_label"), label);
        }
        ExpectedFile expected{"pg_data/backup_label", "L", stored.size, stored.checksum, {}};
        fetchFile(*repo_, "backup_label", RepoCodec(type), *restore_, "backup_label", expected, 16);
        EXPECT_EQ(get("restore/backup_label"), label);
    }
}

// The durable callback sees the file only once it is in the repository under its own name (the
// backup's resume journal lists a file only then), with what storeFile returned; with no closer,
// before storeFile returns.
TEST_F(RepoFileTransfer, DurableIsCalledOnceTheStoredFileIsInPlace) {
    put("pg/base/1/16384", content(300000));
    for (bool async : {false, true}) {
        std::string where = async ? "async" : "inline";
        storage::AsyncCloser closer(1);
        TransferOptions options;
        if (async) options.closer = &closer;
        std::vector<std::pair<StoredFile, bool>> seen;
        std::mutex mutex;
        options.durable = [&](const StoredFile& stored) {
            std::lock_guard lock(mutex);
            seen.emplace_back(stored, fs::exists(root_ + "/repo/" + where));
        };
        auto stored = storeFile(*pg_, "base/1/16384", *repo_, where, "p", options);
        ASSERT_TRUE(stored) << where;
        if (!async) {
            EXPECT_EQ(seen.size(), 1u) << "inline: called before storeFile returns";
        }
        closer.finish();
        ASSERT_EQ(seen.size(), 1u) << where;
        EXPECT_TRUE(seen[0].second) << where << ": called before the file was in place";
        EXPECT_EQ(seen[0].first.checksum, stored->checksum) << where;
        EXPECT_EQ(seen[0].first.size, 300000u) << where;
    }
}

// A large file stored as frames: the index adds up, the frames restored in parallel give the
// file back, and a damaged frame fails the restore naming file, backup and frame, leaving no
// file behind.
TEST_F(RepoFileTransfer, FramedFileRestoredFrameByFrameInParallel) {
    const std::string label = "20261122-080000F";
    const uint64_t frameBytes = 1 << 20;
    std::string bytes = content(5 * frameBytes + 4321);
    std::string repoPath = "backup/main/" + label + "/pg_data/base/1/16385.zst";
    auto stored = storeFramed("16385", bytes, frameBytes, repoPath, 2);
    ASSERT_FALSE(HasFailure());
    EXPECT_EQ(stored.frameBytes, frameBytes);
    ASSERT_EQ(stored.frames.size(), 6u);
    uint64_t sum = 0;
    for (auto n : stored.frames) sum += n;
    EXPECT_EQ(sum, stored.repoSize);
    EXPECT_EQ(stored.checksum, io::checksumHex(io::ChecksumType::Xxh3, bytes));

    ExpectedFile expected{"pg_data/base/1/16385", label, stored.size, stored.checksum, {}};
    expected.write.atomic = false;
    expected.write.mode = 0600;
    expected.write.mtime = 1700000000;
    // Frames written by their jobs, then written behind them by a FrameWriter with fewer
    // buffers than frames (the jobs wait for buffers to come back).
    for (bool behind : {false, true}) {
        SCOPED_TRACE(behind ? "frames written behind the jobs" : "frames written by their jobs");
        put("repo/" + repoPath + ".keep", get("repo/" + repoPath));
        auto restoreWith = [&](const std::string& to) {
            storage::AsyncCloser closer(1);
            std::unique_ptr<FrameWriter> writer =
                behind ? std::make_unique<FrameWriter>(3) : nullptr;
            FramedFetch fetch(*repo_, repoPath, RepoCodec(io::CompressType::Zst), *restore_, to,
                              expected, frameBytes, stored.frames, &closer,
                              FramedFetch::Mode::Create, writer.get());
            runParallel(3, fetch.frameCount(), [&](size_t k) { fetch.fetch(k); });
            if (writer) writer->finish();
            closer.finish();
        };
        restoreWith("16385");
        EXPECT_EQ(get("restore/16385"), bytes);
        EXPECT_NE(fs::last_write_time(root_ + "/restore/16385").time_since_epoch().count(), 0);
        EXPECT_EQ(fs::status(root_ + "/restore/16385").permissions() & fs::perms::all,
                  fs::perms::owner_read | fs::perms::owner_write);
        fs::remove(root_ + "/restore/16385");

        // One byte flipped in the middle of frame 2.
        std::string damaged = get("repo/" + repoPath);
        uint64_t at = stored.frames[0] + stored.frames[1] + stored.frames[2] / 2;
        damaged[at] ^= 0x10;
        put("repo/" + repoPath, damaged);
        auto e = errorOf([&] { restoreWith("damaged"); });
        EXPECT_EQ(e.code(), ErrorCode::Checksum);
        EXPECT_TRUE(has(e.what(), "file 'pg_data/base/1/16385' of backup " + label + " is damaged"))
            << e.what();
        EXPECT_TRUE(has(e.what(), "frame 2 of 6")) << e.what();
        EXPECT_FALSE(fs::exists(root_ + "/restore/damaged"));

        // A repository file cut short in its last frame.
        damaged = get("repo/" + repoPath);
        damaged[at] ^= 0x10;
        put("repo/" + repoPath, damaged.substr(0, damaged.size() - 10));
        e = errorOf([&] { restoreWith("short"); });
        EXPECT_TRUE(has(e.what(), "frame 5 of 6: the repository file ends inside it (truncated)"))
            << e.what();
        EXPECT_FALSE(fs::exists(root_ + "/restore/short"));
        put("repo/" + repoPath, get("repo/" + repoPath + ".keep"));
    }
}

// Every frame sound but the file not the one the manifest records (a manifest from another
// backup, say): the whole file's checksum, taken over the frames in order on the writing
// threads, fails the restore naming the file, no file is left, and every frame buffer is back
// in the pool, whichever thread found the mismatch.
TEST_F(RepoFileTransfer, FramedFileWithWrongChecksumFailsOnTheWritingThread) {
    const std::string label = "20261122-083000F";
    const uint64_t frameBytes = 256 * 1024;
    std::string bytes = content(7 * frameBytes + 100);
    std::string repoPath = "backup/main/" + label + "/pg_data/base/1/16387.zst";
    auto stored = storeFramed("16387", bytes, frameBytes, repoPath);
    ASSERT_FALSE(HasFailure());
    ASSERT_EQ(stored.frames.size(), 8u);
    std::string wrong = io::checksumHex(io::ChecksumType::Xxh3, bytes + "x");
    ExpectedFile expected{"pg_data/base/1/16387", label, stored.size, wrong, {}};
    expected.write.atomic = false;
    for (size_t writingThreads : {1, 3}) {
        SCOPED_TRACE(fmt::format("{} writing threads", writingThreads));
        FrameWriter writer(3, writingThreads);
        storage::AsyncCloser closer(1);
        auto e = errorOf([&] {
            FramedFetch fetch(*repo_, repoPath, RepoCodec(io::CompressType::Zst), *restore_,
                              "wrong", expected, frameBytes, stored.frames, &closer,
                              FramedFetch::Mode::Create, &writer);
            // The failure surfaces in a later frame's job or, after the last, in finish().
            try {
                runParallel(2, fetch.frameCount(), [&](size_t k) { fetch.fetch(k); });
            } catch (...) {
                writer.finish();
                throw;
            }
            writer.finish();
        });
        EXPECT_EQ(e.code(), ErrorCode::Checksum);
        EXPECT_TRUE(has(e.what(), "file 'pg_data/base/1/16387' of backup " + label + " is damaged"))
            << e.what();
        EXPECT_TRUE(has(
            e.what(), "recorded " + std::to_string(bytes.size()) + " bytes with XXH3-128 " + wrong))
            << e.what();
        EXPECT_TRUE(has(e.what(), "restored " + std::to_string(bytes.size()) + " bytes with " +
                                      stored.checksum))
            << e.what();
        closer.finish();
        EXPECT_FALSE(fs::exists(root_ + "/restore/wrong"));
        std::vector<std::unique_ptr<io::Buffer>> pool;
        for (int i = 0; i < 3; i++) {
            ASSERT_TRUE(writer.hasFreeBuffer()) << "buffer " << i << " was not given back";
            pool.push_back(writer.take());
        }
        EXPECT_FALSE(writer.hasFreeBuffer());
        for (auto& b : pool) writer.giveBack(std::move(b));
    }
}

// --delta over a local copy: only differing pages are written, whatever the copy's size (a
// table that grew or shrank since), and the result is the backup's file.
TEST_F(RepoFileTransfer, FramedFilePatchedInPlaceWritesOnlyDifferingPages) {
    const std::string label = "20261122-090000F";
    const uint64_t frameBytes = 256 * 1024;
    std::string bytes = content(4 * frameBytes + 3 * 8192);
    std::string repoPath = "backup/main/" + label + "/pg_data/base/1/16386.zst";
    auto stored = storeFramed("16386", bytes, frameBytes, repoPath);
    ASSERT_FALSE(HasFailure());
    ASSERT_EQ(stored.frames.size(), 5u);
    ExpectedFile expected{"pg_data/base/1/16386", label, stored.size, stored.checksum, {}};
    auto patch = [&](const std::string& local) {
        put("restore/16386", local);
        FramedFetch fetch(*repo_, repoPath, RepoCodec(io::CompressType::Zst), *restore_, "16386",
                          expected, frameBytes, stored.frames, nullptr, FramedFetch::Mode::Patch);
        runParallel(2, fetch.frameCount(), [&](size_t k) { fetch.fetch(k); });
        EXPECT_EQ(get("restore/16386"), bytes);
        return fetch.pagesWritten();
    };
    std::string local = bytes;
    local[5 * 8192 + 7] ^= 1;          // frame 0
    local[3 * frameBytes + 100] ^= 1;  // frame 3
    EXPECT_EQ(patch(local), 2u);
    EXPECT_EQ(patch(bytes.substr(0, frameBytes + 8192)),
              4 * frameBytes / 8192 + 3 - (frameBytes + 8192) / 8192);
    EXPECT_EQ(patch(bytes + std::string(20000, 'x')), 0u);  // longer: cut to size, nothing else
    EXPECT_EQ(patch(bytes), 0u);
}

}  // namespace
}  // namespace backrest::repo
