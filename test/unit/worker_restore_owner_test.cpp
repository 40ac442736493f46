// Ownership of what a restore run as root creates (worker/restore_owner.h): PostgreSQL, not root,
// must be able to read every file, directory and setting restore writes.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "common/log.h"
#include "repo/manifest.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"
#include "worker/restore_owner.h"

namespace backrest::cmd {
namespace {

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

repo::Manifest manifestOwnedBy(const std::string& user, const std::string& group) {
    repo::Manifest m;
    m.paths.push_back({"pg_data", 0700, user, group});
    return m;
}

struct stat statOf(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st;
}

class WorkerRestoreOwner : public ::testing::Test {
  protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "ownership is only given when restoring as root";
    }
    std::string file(const std::string& name) {
        std::string path = dir_ / name;
        test::writeFile(path, "x");
        return path;
    }

    test::TempDir dir_{"worker-restore-owner"};
};

}  // namespace

TEST_F(WorkerRestoreOwner, FilesGetTheirRecordedOwnerWhenItExistsHere) {
    RestoreOwner owner(dir_ / "data", manifestOwnedBy("nobody", "nogroup"));
    std::string known = file("known"), unknown = file("unknown"), noUser = file("no-user");
    owner.apply(known, "nobody", "nogroup");
    owner.apply(unknown, "no-such-user-here", "nogroup");  // keeps the restoring user
    owner.apply(noUser, "", "");                           // nothing recorded
    EXPECT_EQ(statOf(known).st_uid, kNobody);
    EXPECT_EQ(statOf(known).st_gid, kNogroup);
    EXPECT_EQ(statOf(unknown).st_uid, 0u);
    EXPECT_EQ(statOf(noUser).st_uid, 0u);
    // The user's own group when the recorded group is not known here.
    std::string ownGroup = file("own-group");
    owner.apply(ownGroup, "nobody", "no-such-group-here");
    EXPECT_EQ(statOf(ownGroup).st_uid, kNobody);
    EXPECT_EQ(statOf(ownGroup).st_gid, kNogroup);  // nobody's primary group
}

TEST_F(WorkerRestoreOwner, WhatRestoreWritesItselfGoesToTheDataOwner) {
    RestoreOwner owner(dir_ / "data", manifestOwnedBy("nobody", "nogroup"));
    std::string conf = file("postgresql.auto.conf");
    owner.adopt(conf);
    EXPECT_EQ(statOf(conf).st_uid, kNobody);
    // A link is given itself, not its target.
    std::string link = dir_ / "pg_wal";
    std::string target = file("target");
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
    owner.adopt(link);
    EXPECT_EQ(statOf(link).st_uid, kNobody);
    EXPECT_EQ(statOf(target).st_uid, 0u);
}

// The backup's owner unknown on this host: the data directory's present owner is taken.
TEST_F(WorkerRestoreOwner, UnknownBackupOwnerFallsBackToTheDataDirectory) {
    std::string data = dir_ / "data";
    ASSERT_EQ(::mkdir(data.c_str(), 0700), 0);
    ASSERT_EQ(::chown(data.c_str(), kNobody, kNogroup), 0);
    RestoreOwner owner(data, manifestOwnedBy("no-such-user-here", ""));
    std::string signal = file("recovery.signal");
    owner.adopt(signal);
    EXPECT_EQ(statOf(signal).st_uid, kNobody);
    EXPECT_EQ(statOf(signal).st_gid, kNogroup);
}

TEST_F(WorkerRestoreOwner, NoOwnerAnywhereWarnsAndLeavesRoot) {
    LogLevel saved = logLevel();
    setLogLevel(LogLevel::Warn);
    ::testing::internal::CaptureStderr();
    RestoreOwner owner(dir_ / "absent", manifestOwnedBy("no-such-user-here", ""));
    std::string err = ::testing::internal::GetCapturedStderr();
    setLogLevel(saved);
    EXPECT_TRUE(test::has(err,
                          "restore as root: the backup's data directory owner is not a user "
                          "on this host and '" +
                              (dir_ / "absent") + "' does not exist"))
        << err;
    std::string conf = file("postgresql.auto.conf");
    owner.adopt(conf);
    EXPECT_EQ(statOf(conf).st_uid, 0u);
}

TEST_F(WorkerRestoreOwner, CreatePathMakesEachMissingParentTheDataOwners) {
    RestoreOwner owner(dir_ / "data", manifestOwnedBy("nobody", "nogroup"));
    std::string deep = dir_ / "tblspc/16385/PG_15_202209061";
    owner.createPath(deep, 0750);
    for (const std::string& parent : {dir_ / "tblspc", dir_ / "tblspc/16385"}) {
        EXPECT_EQ(statOf(parent).st_mode & 07777, 0700u) << parent;
        EXPECT_EQ(statOf(parent).st_uid, kNobody) << parent;
    }
    EXPECT_EQ(statOf(deep).st_mode & 07777, 0750u);
    EXPECT_EQ(statOf(deep).st_uid, kNobody);
    EXPECT_EQ(statOf(dir_.path()).st_uid, 0u);  // what existed is left alone
    owner.createPath(deep, 0750);               // again: nothing to do, no error
}

TEST_F(WorkerRestoreOwner, CreatePathUnderAFileNamesThePath) {
    RestoreOwner owner(dir_ / "data", manifestOwnedBy("nobody", "nogroup"));
    file("blocker");
    Error e = test::errorOf([&] { owner.createPath(dir_ / "blocker/sub", 0700); });
    EXPECT_EQ(e.code(), ErrorCode::FileWrite);
    EXPECT_TRUE(test::has(e.what(), "unable to create path '" + (dir_ / "blocker/sub") + "'"))
        << e.what();
}

}  // namespace backrest::cmd
