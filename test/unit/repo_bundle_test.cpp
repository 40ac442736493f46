// Bundles: small files appended to one repository file and each restored alone from its range.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "crypto/repo_key.h"
#include "repo/bundle.h"
#include "repo/file_transfer.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;

using backrest::test::errorOf;
using backrest::test::has;

class RepoBundle : public ::testing::Test {
  protected:
    void SetUp() override {
        for (const char* dir : {"/pg", "/repo", "/restore"}) fs::create_directories(root_ + dir);
        pg_ = std::make_unique<storage::PosixStorage>(root_ + "/pg");
        repo_ = std::make_unique<storage::PosixStorage>(root_ + "/repo");
        restore_ = std::make_unique<storage::PosixStorage>(root_ + "/restore");
    }

    void put(const std::string& rel, const std::string& bytes) {
        test::writeFile(root_ + "/" + rel, bytes);
    }
    std::string get(const std::string& rel) { return test::readFile(root_ + "/" + rel); }
    ExpectedFile expected(const std::string& name, const StoredFile& stored) {
        ExpectedFile e{name, "20261205-000000F", stored.size, stored.checksum, {}};
        e.write.mode = 0600;
        return e;
    }

    backrest::test::TempDir tmp_{"repo-bundle"};
    std::string root_ = tmp_.path();
    std::unique_ptr<storage::PosixStorage> pg_, repo_, restore_;
};

// Three files (one empty, one vanished in between) appended to one bundle: each is fetched
// alone from its range and comes back byte for byte, with both compress types.
TEST_F(RepoBundle, FilesAppendedToABundleAreRestoredOneByOne) {
    for (io::CompressType type : {io::CompressType::Zst, io::CompressType::None}) {
        SCOPED_TRACE(io::compressTypeName(type));
        const std::vector<std::pair<std::string, std::string>> files = {
            {"PG_VERSION", "15\n"},
            {"empty", ""},
            {"pg_filenode.map", std::string(512, 'm') + "end"}};
        for (const auto& [name, bytes] : files) put("pg/" + name, bytes);
        TransferOptions options;
        options.codec = RepoCodec(type, 3);
        auto out = static_cast<storage::Storage&>(*repo_).openWrite("bundle/1");
        std::vector<std::pair<StoredFile, uint64_t>> stored;  // and its offset
        uint64_t offset = 0;
        for (const auto& [name, bytes] : files) {
            auto one = appendFile(*pg_, name, *out, name, options);
            ASSERT_TRUE(one.has_value()) << name;
            EXPECT_EQ(one->size, bytes.size());
            stored.emplace_back(*one, offset);
            offset += one->repoSize;
            EXPECT_FALSE(appendFile(*pg_, "vanished", *out, "vanished", options).has_value());
        }
        out->close();
        EXPECT_EQ(fs::file_size(root_ + "/repo/bundle/1"), offset);
        for (size_t i = 0; i < files.size(); i++) {
            const auto& [name, bytes] = files[i];
            StoredLocation at("bundle/1", {stored[i].second, stored[i].first.repoSize});
            fetchFile(*repo_, at, RepoCodec(type), *restore_, name, expected(name, stored[i].first),
                      65536);
            EXPECT_EQ(get("restore/" + name), bytes) << name;
        }
        fs::remove_all(root_ + "/restore");
        fs::create_directories(root_ + "/restore");
    }
}

// Encrypted, each member is sealed as its own file (its piece), not as the bundle: each reads
// alone from its range, and a member read as another file (moved or swapped) does not open.
TEST_F(RepoBundle, EncryptedMembersAreSealedAsTheirFilesAndReadAlone) {
    std::array<uint8_t, crypto::kRepoKeyBytes> keyBytes{};
    keyBytes.fill(7);
    TransferOptions options;
    options.codec = RepoCodec(io::CompressType::Zst, 3)
                        .withKey(std::make_shared<const crypto::RepoKey>(keyBytes));
    put("pg/a", "PG_VERSION 15\n" + std::string(3000, 'a'));
    put("pg/b", std::string(5000, 'b'));
    auto out = static_cast<storage::Storage&>(*repo_).openWrite("bundle/1");
    auto a = appendFile(*pg_, "a", *out, "backup/main/L/pg_data/a", options);
    auto b = appendFile(*pg_, "b", *out, "backup/main/L/pg_data/b", options);
    out->close();
    ASSERT_TRUE(a && b);
    EXPECT_FALSE(has(get("repo/bundle/1"), "PG_VERSION"));
    auto expectedAs = [&](const std::string& name, const StoredFile& stored,
                          const std::string& piece) {
        ExpectedFile e = expected(name, stored);
        e.piece = piece;
        return e;
    };
    fetchFile(*repo_, StoredLocation("bundle/1", {a->repoSize, b->repoSize}), options.codec,
              *restore_, "b", expectedAs("pg_data/b", *b, "backup/main/L/pg_data/b"), 65536);
    EXPECT_EQ(get("restore/b"), std::string(5000, 'b'));
    // b's bytes read as a's (a manifest pointing a at b's range): refused, naming the file.
    Error e = errorOf([&] {
        fetchFile(*repo_, StoredLocation("bundle/1", {a->repoSize, b->repoSize}), options.codec,
                  *restore_, "a", expectedAs("pg_data/a", *a, "backup/main/L/pg_data/a"), 65536);
    });
    EXPECT_EQ(e.code(), ErrorCode::Crypto) << e.what();
    EXPECT_TRUE(
        has(e.what(),
            "file 'pg_data/a' of backup 20261205-000000F does not open with the repository key"))
        << e.what();
    EXPECT_TRUE(has(e.what(), "swapped or moved")) << e.what();
    EXPECT_TRUE(has(e.what(), fmt::format("/repo/bundle/1, bytes {}-", a->repoSize))) << e.what();
    EXPECT_FALSE(fs::exists(root_ + "/restore/a"));
}

// A range that is off by one byte (a wrong offset in the manifest, or damage) is an error that
// names the file, the backup and the bundle's range, and leaves no restored file behind.
TEST_F(RepoBundle, AWrongRangeIsDamageNamingTheBundle) {
    put("pg/a", std::string(3000, 'a'));
    put("pg/b", std::string(3000, 'b'));
    auto out = static_cast<storage::Storage&>(*repo_).openWrite("bundle/1");
    auto a = appendFile(*pg_, "a", *out, "a", TransferOptions{});
    auto b = appendFile(*pg_, "b", *out, "b", TransferOptions{});
    out->close();
    ASSERT_TRUE(a && b);
    for (storage::ReadRange range :
         std::vector<storage::ReadRange>{{a->repoSize + 1, b->repoSize},
                                         {a->repoSize, b->repoSize - 1},
                                         {0, a->repoSize + b->repoSize}}) {
        SCOPED_TRACE(range.offset);
        Error e = errorOf([&] {
            fetchFile(*repo_, StoredLocation("bundle/1", range), RepoCodec(io::CompressType::Zst),
                      *restore_, "b", expected("pg_data/b", *b), 65536);
        });
        EXPECT_EQ(e.code(), ErrorCode::Checksum) << e.what();
        EXPECT_TRUE(has(e.what(), "file 'pg_data/b' of backup 20261205-000000F is damaged"))
            << e.what();
        EXPECT_TRUE(has(e.what(), fmt::format("/repo/bundle/1, bytes {}-", range.offset)))
            << e.what();
        EXPECT_FALSE(fs::exists(root_ + "/restore/b"));
    }
}

// A range reads exactly its bytes, seek() is relative to it, and it ends early at the end of
// the file (the caller's size check then finds the short read).
TEST_F(RepoBundle, ReadRangeIsAWindow) {
    put("repo/f", "0123456789");
    auto read = [&](storage::ReadRange range, uint64_t seekTo = 0) {
        auto in = storage::openReadRange(*repo_, "f", range);
        if (seekTo) in->seek(seekTo);
        std::string out;
        uint8_t buf[3];
        for (size_t n; (n = in->read(buf)) > 0;) out.append(reinterpret_cast<char*>(buf), n);
        return out;
    };
    EXPECT_EQ(read({2, 5}), "23456");
    EXPECT_EQ(read({2, 5}, 3), "56");
    EXPECT_EQ(read({7, 10}), "789");
    EXPECT_EQ(read({4, std::nullopt}), "456789");
    EXPECT_EQ(read({}), "0123456789");
    EXPECT_EQ(read({3, 0}), "");
    EXPECT_EQ(storage::openReadRange(*repo_, "missing", {1, 2}, true), nullptr);
}

// Bundles fill up to their size in the order given; a file never exceeds the limit.
TEST_F(RepoBundle, PlanKeepsOrderAndSize) {
    std::vector<ManifestFile> files(6);
    const uint64_t sizes[] = {900, 600, 500, 400, 0, 100};
    for (size_t i = 0; i < files.size(); i++)
        files[i].size = sizes[i], files[i].name = "f" + std::to_string(i);
    BundleSettings settings{true, 1000, 1000};
    auto plan = planBundles(files, {0, 1, 2, 3, 4, 5}, settings);
    ASSERT_EQ(plan.size(), 3u);
    EXPECT_EQ(plan[0], (std::vector<size_t>{0}));
    EXPECT_EQ(plan[1], (std::vector<size_t>{1}));
    EXPECT_EQ(plan[2], (std::vector<size_t>{2, 3, 4, 5}));
    EXPECT_TRUE(planBundles(files, {}, settings).empty());
    settings.limit = 800;
    Error e = errorOf([&] { planBundles(files, {0}, settings); });
    EXPECT_TRUE(has(e.what(), "file 'f0' (900 bytes) is larger than the bundle limit")) << e.what();
}

TEST_F(RepoBundle, StoredLocationOfBundledAndWholeFiles) {
    Layout layout{"main", nullptr};
    ManifestFile f;
    f.name = "pg_data/PG_VERSION";
    f.repoSize = 12;
    auto whole = storedLocation(layout, "20261205-000000F", f, ".zst");
    EXPECT_EQ(whole.path, "backup/main/20261205-000000F/pg_data/PG_VERSION.zst");
    EXPECT_FALSE(whole.range.length.has_value());
    f.bundleId = 2;
    f.bundleOffset = 4096;
    auto bundled = storedLocation(layout, "20261205-000000F", f, ".zst");
    EXPECT_EQ(bundled.path, "backup/main/20261205-000000F/bundle/2");
    EXPECT_EQ(bundled.range.offset, 4096u);
    EXPECT_EQ(bundled.range.length, 12u);
}

}  // namespace
}  // namespace backrest::repo
