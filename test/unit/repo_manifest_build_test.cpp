// Scanning a data directory (with a tablespace) into manifest targets, paths, links and files.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "repo/manifest_build.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;

template <typename T, typename F>
std::vector<std::string> sortedNames(const std::vector<T>& items, F name) {
    std::vector<std::string> out;
    for (const auto& i : items) out.push_back(name(i));
    std::sort(out.begin(), out.end());
    return out;
}

class RepoManifestBuild : public ::testing::Test {
  protected:
    void SetUp() override {
        pgData_ = root_ + "/data";
        tsDir_ = root_ + "/ts";
        for (const char* d : {"data/base/1", "data/global", "data/pg_wal/archive_status",
                              "data/pg_stat_tmp", "data/pg_tblspc", "data/base/pgsql_tmp",
                              "ts/PG_15_202209061/1", "ts/PG_14_202107181/1"})
            fs::create_directories(root_ + "/" + d);
        put("data/PG_VERSION", "15\n");
        put("data/global/pg_control", std::string(8192, 'c'));
        put("data/global/pg_internal.init", "cache");
        put("data/base/1/16384", std::string(8192, 'r'));
        put("data/base/1/16384_fsm", std::string(24576, 'f'));
        put("data/base/1/16385_init", std::string(8192, 'i'));
        put("data/base/1/16385", std::string(8192, 'u'));
        put("data/base/1/16385.1", "unlogged segment");
        put("data/base/1/16385_fsm", "unlogged fsm");
        put("data/base/1/t3_16390", "temp");
        put("data/pg_wal/000000010000000000000001", "wal");
        put("data/postmaster.pid", "1234\n");
        put("data/pg_stat_tmp/x", "stat");
        put("data/base/pgsql_tmp/pgsql_tmp1234.0", "sort spill");
        put("ts/PG_15_202209061/1/16401", "tablespace relation");
        put("ts/PG_14_202107181/1/16401", "old version");
        fs::create_directory_symlink(tsDir_, pgData_ + "/pg_tblspc/16400");
        ::chmod((pgData_ + "/base").c_str(), 0750);
        ::chmod((pgData_ + "/PG_VERSION").c_str(), 0640);
        storage_ = std::make_unique<storage::PosixStorage>(pgData_);
    }

    void put(const std::string& rel, const std::string& content) {
        std::ofstream(root_ + "/" + rel, std::ios::binary) << content;
    }
    Manifest scan() {
        DataDirectory dir{storage_.get(), pgData_, {{16400, "ts1"}}, "PG_15_202209061"};
        Manifest m;
        scanDataDirectory(dir, m);
        return m;
    }

    backrest::test::TempDir tmp_{"repo-mbuild"};
    std::string root_ = tmp_.path();
    std::string pgData_, tsDir_;
    std::unique_ptr<storage::PosixStorage> storage_;
};

TEST_F(RepoManifestBuild, Targets) {
    Manifest m = scan();
    ASSERT_EQ(m.targets.size(), 2u);
    EXPECT_EQ(m.targets[0].name, "pg_data");
    EXPECT_EQ(m.targets[0].path, pgData_);
    EXPECT_EQ(m.targets[0].tablespaceOid, 0u);
    EXPECT_EQ(m.targets[0].tablespaceName, "");
    EXPECT_EQ(m.targets[1].name, "pg_tblspc/16400");
    EXPECT_EQ(m.targets[1].path, tsDir_);
    EXPECT_EQ(m.targets[1].tablespaceOid, 16400u);
    EXPECT_EQ(m.targets[1].tablespaceName, "ts1");
}

TEST_F(RepoManifestBuild, Links) {
    Manifest m = scan();
    ASSERT_EQ(m.links.size(), 1u);
    EXPECT_EQ(m.links[0].name, "pg_data/pg_tblspc/16400");
    EXPECT_EQ(m.links[0].destination, tsDir_);
}

TEST_F(RepoManifestBuild, Paths) {
    Manifest m = scan();
    EXPECT_EQ(sortedNames(m.paths, [](auto& p) { return p.name; }),
              (std::vector<std::string>{
                  "pg_data", "pg_data/base", "pg_data/base/1", "pg_data/global",
                  "pg_data/pg_stat_tmp", "pg_data/pg_tblspc", "pg_data/pg_wal", "pg_tblspc/16400",
                  "pg_tblspc/16400/PG_15_202209061", "pg_tblspc/16400/PG_15_202209061/1"}));
    for (const auto& p : m.paths) {
        if (p.name == "pg_data/base") {
            EXPECT_EQ(p.mode, 0750u);
        }
    }
}

TEST_F(RepoManifestBuild, Files) {
    Manifest m = scan();
    EXPECT_EQ(sortedNames(m.files, [](auto& f) { return f.name; }),
              (std::vector<std::string>{"pg_data/PG_VERSION", "pg_data/base/1/16384",
                                        "pg_data/base/1/16384_fsm", "pg_data/base/1/16385_init",
                                        "pg_data/global/pg_control",
                                        "pg_tblspc/16400/PG_15_202209061/1/16401"}));
    for (const auto& f : m.files) {
        SCOPED_TRACE(f.name);
        EXPECT_TRUE(f.checksum.empty());
        EXPECT_TRUE(f.reference.empty());
        struct stat st {};
        ASSERT_EQ(::stat((pgData_ + "/" + dataDirectoryPath(f.name)).c_str(), &st), 0);
        EXPECT_EQ(f.mtime, static_cast<int64_t>(st.st_mtim.tv_sec));
        if (f.name == "pg_data/PG_VERSION") {
            EXPECT_EQ(f.size, 3u);
            EXPECT_EQ(f.mode, 0640u);
        }
        if (f.name == "pg_data/base/1/16384_fsm") {
            EXPECT_EQ(f.size, 24576u);
        }
        if (f.name == "pg_tblspc/16400/PG_15_202209061/1/16401") {
            EXPECT_EQ(f.size, 19u);
        }
    }
    EXPECT_EQ(m.totalSize(), 3u + 8192u + 8192u + 24576u + 8192u + 19u);
}

TEST_F(RepoManifestBuild, PgWalLinkIsKeptWithoutContents) {
    fs::remove_all(pgData_ + "/pg_wal");
    fs::create_directories(root_ + "/wal/archive_status");
    put("wal/000000010000000000000001", "wal");
    fs::create_directory_symlink(root_ + "/wal", pgData_ + "/pg_wal");
    Manifest m = scan();
    ASSERT_EQ(m.links.size(), 2u);
    EXPECT_EQ(m.links[1].name, "pg_data/pg_wal");
    EXPECT_EQ(m.links[1].destination, root_ + "/wal");
    EXPECT_EQ(std::count_if(m.paths.begin(), m.paths.end(),
                            [](auto& p) { return p.name.starts_with("pg_data/pg_wal"); }),
              1);
    EXPECT_EQ(std::count_if(m.files.begin(), m.files.end(),
                            [](auto& f) { return f.name.starts_with("pg_data/pg_wal"); }),
              0);
    EXPECT_EQ(m.targets.size(), 2u);
}

TEST_F(RepoManifestBuild, DataDirectoryPath) {
    EXPECT_EQ(dataDirectoryPath("pg_data/base/1/16384"), "base/1/16384");
    EXPECT_EQ(dataDirectoryPath("pg_tblspc/16400/PG_15_202209061/1/16401"),
              "pg_tblspc/16400/PG_15_202209061/1/16401");
    Manifest m = scan();
    for (const auto& f : m.files)
        EXPECT_TRUE(fs::exists(pgData_ + "/" + dataDirectoryPath(f.name))) << f.name;
}

TEST_F(RepoManifestBuild, MissingDataDirectory) {
    DataDirectory dir{storage_.get(), root_ + "/nope", {}, "PG_15_202209061"};
    Manifest m;
    try {
        scanDataDirectory(dir, m);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::FileMissing);
        EXPECT_NE(std::string(e.what()).find(root_ + "/nope"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace backrest::repo
