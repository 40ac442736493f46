// Identity of a data directory read from PG_VERSION and global/pg_control, and its errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.h"
#include "pg/control.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"

namespace backrest::pg {
namespace {

namespace fs = std::filesystem;

using backrest::test::errorOf;

using backrest::test::has;

class PgControl : public ::testing::Test {
  protected:
    void SetUp() override {
        fs::create_directories(root_ + "/global");
        storage_ = std::make_unique<storage::PosixStorage>(root_);
    }

    void put(const std::string& rel, const std::string& content) {
        std::ofstream(root_ + "/" + rel, std::ios::binary) << content;
    }
    // ControlFileData's leading fields, then filler up to the usual 8 KiB.
    static std::string control(uint64_t sysid, uint32_t controlVersion, uint32_t catalog,
                               size_t size = 8192) {
        std::string b(size, '\x5A');
        std::memcpy(b.data(), &sysid, 8);
        std::memcpy(b.data() + 8, &controlVersion, 4);
        std::memcpy(b.data() + 12, &catalog, 4);
        return b;
    }

    backrest::test::TempDir tmp_{"pg-control"};
    std::string root_ = tmp_.path();
    std::unique_ptr<storage::PosixStorage> storage_;
};

TEST_F(PgControl, ReadsVersionAndIdentity) {
    put("PG_VERSION", "15\n");
    put("global/pg_control", control(7310000000000000001ULL, 1300, 202209061));
    ControlInfo info = readControl(*storage_);
    EXPECT_EQ(info.version, "15");
    EXPECT_EQ(info.systemId, 7310000000000000001ULL);
    EXPECT_EQ(info.controlVersion, 1300u);
    EXPECT_EQ(info.catalogVersion, 202209061u);
    EXPECT_TRUE(isSupportedVersion(info.version));
    EXPECT_FALSE(isSupportedVersion("14"));
}

// xlog_seg_size at 228, trusted only when floatFormat (208) holds PostgreSQL's check value: the
// layout pg_controldata showed for an initdb --wal-segsize=32 cluster of PostgreSQL 15.
TEST_F(PgControl, ReadsWalSegmentSize) {
    put("PG_VERSION", "15\n");
    std::string c = control(1, 1300, 1);
    double floatFormat = 1234567.0;
    uint32_t segmentSize = 32 * 1024 * 1024;
    std::memcpy(c.data() + 208, &floatFormat, 8);
    std::memcpy(c.data() + 228, &segmentSize, 4);
    put("global/pg_control", c);
    EXPECT_EQ(readControl(*storage_).walSegmentSize, segmentSize);
    floatFormat = 1.0;  // another layout: the size is not guessed
    std::memcpy(c.data() + 208, &floatFormat, 8);
    put("global/pg_control", c);
    EXPECT_EQ(readControl(*storage_).walSegmentSize, 0u);
}

TEST_F(PgControl, SixteenBytesAreEnough) {
    put("PG_VERSION", "16\r\n");
    put("global/pg_control", control(42, 1300, 7, 16));
    ControlInfo info = readControl(*storage_);
    EXPECT_EQ(info.version, "16");
    EXPECT_EQ(info.systemId, 42u);
    EXPECT_EQ(info.catalogVersion, 7u);
}

TEST_F(PgControl, MissingVersionFile) {
    put("global/pg_control", control(1, 1300, 1));
    Error e = errorOf([&] { readControl(*storage_); });
    EXPECT_EQ(e.code(), ErrorCode::FileMissing);
    EXPECT_TRUE(has(e.what(), root_ + "/PG_VERSION")) << e.what();
}

TEST_F(PgControl, JunkVersion) {
    put("global/pg_control", control(1, 1300, 1));
    for (std::string junk : {"fifteen\n", "", "\n", "15.2\n", " 15\n"}) {
        SCOPED_TRACE(junk);
        put("PG_VERSION", junk);
        Error e = errorOf([&] { readControl(*storage_); });
        EXPECT_EQ(e.code(), ErrorCode::Format);
        EXPECT_TRUE(has(e.what(), root_ + "/PG_VERSION")) << e.what();
    }
}

TEST_F(PgControl, MissingControlFile) {
    put("PG_VERSION", "15\n");
    Error e = errorOf([&] { readControl(*storage_); });
    EXPECT_EQ(e.code(), ErrorCode::FileMissing);
    EXPECT_TRUE(has(e.what(), root_ + "/global/pg_control")) << e.what();
}

TEST_F(PgControl, ShortControlFile) {
    put("PG_VERSION", "15\n");
    put("global/pg_control", control(1, 1300, 1, 15));
    Error e = errorOf([&] { readControl(*storage_); });
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_TRUE(has(e.what(), root_ + "/global/pg_control")) << e.what();
    EXPECT_TRUE(has(e.what(), "too short")) << e.what();
}

}  // namespace
}  // namespace backrest::pg
