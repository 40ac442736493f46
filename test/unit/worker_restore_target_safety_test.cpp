// Is a restore target safe to write (worker/restore_target, worker/restore_lock)? A non-empty
// directory is refused unless --delta or it holds an unfinished restore of the same backup; a
// postmaster.pid is checked, not trusted; two restores never write one directory at once.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

#include "common/error.h"
#include "repo/manifest.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"
#include "worker/restore_lock.h"
#include "worker/restore_owner.h"
#include "worker/restore_target.h"

namespace backrest::cmd {
namespace {

namespace fs = std::filesystem;
using test::errorOf;
using test::has;

constexpr const char* kLabel = "20261121-235959F";

class WorkerRestoreTarget : public ::testing::Test {
  protected:
    void SetUp() override {
        data_ = dir_ / "data";
        fs::create_directories(data_);
        manifest_.label = kLabel;
        manifest_.targets.push_back({"pg_data", "/var/lib/postgresql/15/main", 0, ""});
    }
    TargetDecision check(bool delta) {
        return checkRestoreTargets(manifest_, {{"pg_data", data_}}, data_, delta);
    }
    void markUnfinished(const std::string& label) {
        RestoreOwner owner(data_, manifest_);
        writeRestoreMarker(data_, {label, {data_}}, owner);
    }

    test::TempDir dir_{"worker-restore-target"};
    std::string data_;
    repo::Manifest manifest_;
};

TEST_F(WorkerRestoreTarget, EmptyDirectoryIsRestoredInto) {
    TargetDecision d = check(false);
    EXPECT_FALSE(d.delta);
    EXPECT_FALSE(d.resumed);
}

TEST_F(WorkerRestoreTarget, NonEmptyDirectoryNeedsDeltaAndAPgVersion) {
    test::writeFile(data_ + "/somefile", "x");
    Error e = errorOf([&] { check(false); });
    EXPECT_EQ(e.code(), ErrorCode::PathNotEmpty);
    EXPECT_TRUE(has(e.what(), "data directory '" + data_ + "' is not empty")) << e.what();

    // --delta deletes what is not in the backup: never in a directory that is not a cluster's.
    Error notCluster = errorOf([&] { check(true); });
    EXPECT_TRUE(has(notCluster.what(), "has no PG_VERSION")) << notCluster.what();

    test::writeFile(data_ + "/PG_VERSION", "15\n");
    EXPECT_TRUE(check(true).delta);
}

TEST_F(WorkerRestoreTarget, UnfinishedRestoreOfThisBackupIsResumed) {
    markUnfinished(kLabel);
    test::writeFile(data_ + "/half-restored", "x");
    auto marker = readRestoreMarker(data_);
    ASSERT_TRUE(marker.has_value());
    EXPECT_EQ(marker->label, kLabel);
    EXPECT_EQ(marker->locations, std::vector<std::string>{data_});

    TargetDecision d = check(false);
    EXPECT_TRUE(d.resumed);
    EXPECT_TRUE(d.delta);

    removeRestoreMarker(data_);
    EXPECT_FALSE(readRestoreMarker(data_).has_value());
}

TEST_F(WorkerRestoreTarget, UnfinishedRestoreOfAnotherBackupIsRefusedWithoutDelta) {
    markUnfinished("20261120-000000F");
    Error e = errorOf([&] { check(false); });
    EXPECT_EQ(e.code(), ErrorCode::PathNotEmpty);
    EXPECT_TRUE(has(e.what(), "holds an unfinished restore of backup 20261120-000000F"))
        << e.what();
    EXPECT_TRUE(has(e.what(), "use --delta to restore backup " + std::string(kLabel))) << e.what();
    EXPECT_FALSE(check(true).resumed);
}

TEST_F(WorkerRestoreTarget, StalePostmasterPidIsNamed) {
    pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    ASSERT_GT(child, 0);
    ::waitpid(child, nullptr, 0);  // a pid that ran and is gone: as after kill -9
    test::writeFile(data_ + "/postmaster.pid", std::to_string(child) + "\n" + data_ + "\n");
    Error e = errorOf([&] { check(true); });
    EXPECT_EQ(e.code(), ErrorCode::Postmaster);
    EXPECT_TRUE(has(e.what(), "names pid " + std::to_string(child) + ", which is not running"))
        << e.what();
    EXPECT_TRUE(has(e.what(), "remove '" + data_ + "/postmaster.pid'")) << e.what();
}

TEST_F(WorkerRestoreTarget, PostmasterPidOfAnotherLiveProcessIsStale) {
    // This test's own pid: alive, but its working directory is not the data directory.
    test::writeFile(data_ + "/postmaster.pid", std::to_string(::getpid()) + "\n");
    Error e = errorOf([&] { check(true); });
    EXPECT_EQ(e.code(), ErrorCode::Postmaster);
    EXPECT_TRUE(has(e.what(), "which is now another process")) << e.what();
}

TEST_F(WorkerRestoreTarget, FileWhereTheDirectoryShouldBeIsRefused) {
    fs::remove(data_);
    test::writeFile(data_, "not a directory");
    Error e = errorOf([&] { check(false); });
    EXPECT_EQ(e.code(), ErrorCode::PathNotEmpty);
    EXPECT_TRUE(has(e.what(), "exists and is not a directory")) << e.what();
}

TEST_F(WorkerRestoreTarget, SecondRestoreIntoTheSameDirectoryIsLockedOut) {
    {
        RestoreDirectoryLock first(data_);
        Error e = errorOf([&] { RestoreDirectoryLock second(data_); });
        EXPECT_EQ(e.code(), ErrorCode::Lock);
        EXPECT_TRUE(has(e.what(), "another restore is writing into '" + data_ + "'")) << e.what();
    }
    RestoreDirectoryLock again(data_);  // released with the first
}

TEST_F(WorkerRestoreTarget, LockOnAMissingDirectoryNamesIt) {
    Error e = errorOf([&] { RestoreDirectoryLock lock(dir_ / "missing"); });
    EXPECT_EQ(e.code(), ErrorCode::FileOpen);
    EXPECT_TRUE(has(e.what(), dir_ / "missing")) << e.what();
}

}  // namespace
}  // namespace backrest::cmd
