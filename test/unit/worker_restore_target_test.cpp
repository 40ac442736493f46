// Unit tests for worker/restore_target's checkRestoreTargets on directories of a temporary
// directory (no PostgreSQL uses them): what is refused, with which error, and when an
// unfinished restore is resumed.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "test_support.h"
#include "worker/restore_target.h"

namespace backrest::cmd {
namespace {

namespace fs = std::filesystem;
using test::errorOf;
using test::has;
using test::writeFile;

constexpr const char* kLabel = "20261205-120000F";

class RestoreTargetTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "restore-target-test-XXXXXX").string();
        ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        data_ = dir_ + "/data";
        ts_ = dir_ + "/ts";
        manifest_.label = kLabel;
        manifest_.targets.push_back({"pg_data", "/elsewhere/data", 0, ""});
        manifest_.targets.push_back({"pg_tblspc/16385", "/elsewhere/ts", 16385, "ts1"});
        locations_ = {{"pg_data", data_}, {"pg_tblspc/16385", ts_}};
    }
    void TearDown() override { fs::remove_all(dir_); }

    TargetDecision check(bool delta) {
        return checkRestoreTargets(manifest_, locations_, data_, delta);
    }
    void marker(const std::string& label) {
        writeFile(data_ + "/" + kRestoreMarker,
                  "# comment\nlabel=" + label + "\nlocation=" + data_ + "\nlocation=" + ts_ + "\n");
    }

    std::string dir_, data_, ts_;
    repo::Manifest manifest_;
    std::map<std::string, std::string> locations_;
};

TEST_F(RestoreTargetTest, MissingOrEmptyTargetsAreRestoredInto) {
    auto d = check(false);
    EXPECT_FALSE(d.delta);
    EXPECT_FALSE(d.resumed);
    fs::create_directories(data_);
    fs::create_directories(ts_);
    EXPECT_FALSE(check(false).delta);
}

TEST_F(RestoreTargetTest, NonEmptyDataDirectoryNeedsDelta) {
    fs::create_directories(data_);
    writeFile(data_ + "/x", "x");
    auto e = errorOf([&] { check(false); });
    EXPECT_EQ(e.code(), ErrorCode::PathNotEmpty);
    EXPECT_TRUE(has(e.what(), "restore: data directory '" + data_ +
                                  "' is not empty; restore into an empty directory, or use "
                                  "--delta"))
        << e.what();
    // --delta over what is not a data directory is refused too.
    auto notData = errorOf([&] { check(true); });
    EXPECT_EQ(notData.code(), ErrorCode::PathNotEmpty);
    EXPECT_TRUE(has(notData.what(), "has no PG_VERSION")) << notData.what();
    writeFile(data_ + "/PG_VERSION", "16\n");
    EXPECT_TRUE(check(true).delta);
}

TEST_F(RestoreTargetTest, NonEmptyTablespaceNamesItAndTheRemap) {
    fs::create_directories(ts_);
    writeFile(ts_ + "/x", "x");
    auto e = errorOf([&] { check(false); });
    EXPECT_EQ(e.code(), ErrorCode::PathNotEmpty);
    EXPECT_TRUE(has(e.what(), "tablespace directory '" + ts_ +
                                  "' (tablespace ts1) is not empty and holds no unfinished "
                                  "restore of backup 20261205-120000F: restore the tablespace "
                                  "elsewhere with --tablespace-map=ts1=/new/path"))
        << e.what();
}

TEST_F(RestoreTargetTest, TargetThatIsAFileIsRefused) {
    writeFile(data_, "not a directory");
    auto e = errorOf([&] { check(true); });
    EXPECT_EQ(e.code(), ErrorCode::PathNotEmpty);
    EXPECT_TRUE(has(e.what(), "data directory '" + data_ + "' exists and is not a directory"))
        << e.what();
}

TEST_F(RestoreTargetTest, UnfinishedRestoreOfThisBackupIsResumed) {
    fs::create_directories(data_);
    fs::create_directories(ts_);
    writeFile(ts_ + "/x", "x");
    marker(kLabel);
    auto d = check(false);
    EXPECT_TRUE(d.resumed);
    EXPECT_TRUE(d.delta);
}

TEST_F(RestoreTargetTest, UnfinishedRestoreOfAnotherBackupNeedsDelta) {
    fs::create_directories(data_);
    marker("20261201-000000F");
    auto e = errorOf([&] { check(false); });
    EXPECT_EQ(e.code(), ErrorCode::PathNotEmpty);
    EXPECT_TRUE(has(e.what(), "holds an unfinished restore of backup 20261201-000000F"))
        << e.what();
    EXPECT_TRUE(has(e.what(), "or use --delta to restore backup 20261205-120000F over it"))
        << e.what();
    auto d = check(true);
    EXPECT_TRUE(d.delta);
    EXPECT_FALSE(d.resumed);
}

TEST_F(RestoreTargetTest, StalePostmasterPidIsNamed) {
    fs::create_directories(data_);
    writeFile(data_ + "/PG_VERSION", "16\n");
    // A pid no process has (above the kernel's pid_max).
    writeFile(data_ + "/postmaster.pid", "99999999\n" + data_ + "\n");
    auto e = errorOf([&] { check(true); });
    EXPECT_EQ(e.code(), ErrorCode::Postmaster);
    EXPECT_TRUE(
        has(e.what(), "postmaster.pid in '" + data_ + "' names pid 99999999, which is not running"))
        << e.what();
}

}  // namespace
}  // namespace backrest::cmd
