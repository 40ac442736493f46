// The second look at pages that failed their checksum while a backup copied them
// (src/command/backup/page_check.h): only a page still damaged and older than the backup start
// is an error.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>

#include "command/backup/page_check.h"
#include "pg/page_checksum.h"
#include "test/unit/test_support.h"

namespace backrest::backup {
namespace {

namespace fs = std::filesystem;
using pg::kPageSize;

constexpr uint64_t kStartLsn = 0x0000000100000000ULL;
constexpr uint32_t kSegment = 2;

template <typename T>
void put(std::string& bytes, size_t offset, T value) {
    std::memcpy(bytes.data() + offset, &value, sizeof value);
}

// A formatted page at `index` of segment kSegment with the given LSN and a correct checksum.
void formatPage(std::string& bytes, size_t index, uint64_t lsn) {
    size_t at = index * kPageSize;
    for (size_t i = 0; i < kPageSize; i++) bytes[at + i] = static_cast<char>(i * 31 + index);
    put<uint32_t>(bytes, at, static_cast<uint32_t>(lsn >> 32));
    put<uint32_t>(bytes, at + 4, static_cast<uint32_t>(lsn));
    put<uint16_t>(bytes, at + 10, 0);     // pd_flags
    put<uint16_t>(bytes, at + 12, 40);    // pd_lower
    put<uint16_t>(bytes, at + 14, 4000);  // pd_upper
    uint32_t block = kSegment * pg::kRelationSegmentPages + static_cast<uint32_t>(index);
    put<uint16_t>(bytes, at + 8,
                  pg::pageChecksum(reinterpret_cast<const uint8_t*>(bytes.data() + at), block));
}

class BackupPageCheck : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = fs::temp_directory_path().string() + "/backup-page-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { fs::remove_all(dir_); }
    std::string dir_;
};

TEST_F(BackupPageCheck, OnlyOldPagesThatStillFailAreErrors) {
    std::string bytes(4 * kPageSize, '\0');
    formatPage(bytes, 0, 0x1500000);       // valid now: it was a torn read
    formatPage(bytes, 1, 0x1500000);       // damaged, older than the backup start
    formatPage(bytes, 2, kStartLsn + 16);  // damaged but rewritten by replay
    formatPage(bytes, 3, 0x1500000);       // damaged, older
    bytes[1 * kPageSize + 100] ^= 1;
    bytes[2 * kPageSize + 100] ^= 1;
    bytes[3 * kPageSize + 200] ^= 1;
    std::string path = dir_ + "/16384.2";
    test::writeFile(path, bytes);

    EXPECT_EQ(recheckPages(path, {0, 1, 2, 3, 9}, kSegment, kStartLsn),
              (std::vector<uint32_t>{1, 3}));
    // The same bytes checked as another segment: every old page fails (its block number differs).
    EXPECT_EQ(recheckPages(path, {0, 1, 2, 3}, kSegment + 1, kStartLsn),
              (std::vector<uint32_t>{0, 1, 3}));
}

TEST_F(BackupPageCheck, AFileDroppedSinceHasNoErrors) {
    EXPECT_TRUE(recheckPages(dir_ + "/gone", {0, 1}, 0, kStartLsn).empty());
}

TEST_F(BackupPageCheck, OnlyRelationFilesOfAChecksummedClusterAreChecked) {
    repo::ManifestFile relation;
    relation.name = "pg_data/base/1/16384.2";
    auto check = pageCheckFor(relation, true, kStartLsn);
    ASSERT_NE(check.observer(), nullptr);
    EXPECT_EQ(check.segment, 2u);
    EXPECT_EQ(pageCheckFor(relation, false, kStartLsn).observer(), nullptr);
    repo::ManifestFile config;
    config.name = "pg_data/postgresql.conf";
    EXPECT_EQ(pageCheckFor(config, true, kStartLsn).observer(), nullptr);
}

}  // namespace
}  // namespace backrest::backup
