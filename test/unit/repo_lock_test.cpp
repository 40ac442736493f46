// Stanza lock: a second holder of the same stanza and kind is refused, others are not.
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "common/error.h"
#include "repo/lock.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;

using backrest::test::errorOf;

using backrest::test::has;

class RepoLock : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = fs::temp_directory_path().string() + "/repo-lock-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        root_ = tmpl;
        lockPath_ = root_ + "/lock";  // created by the lock itself
    }
    void TearDown() override { fs::remove_all(root_); }

    std::string root_, lockPath_;
};

TEST_F(RepoLock, SecondLockOnSameStanzaFails) {
    auto first = std::make_unique<StanzaLock>(lockPath_, "main", "backup");
    std::string file = lockPath_ + "/main-backup.lock";
    ASSERT_TRUE(fs::exists(file));
    std::ifstream in(file);
    std::string pid;
    std::getline(in, pid);
    EXPECT_EQ(pid, std::to_string(::getpid()));

    Error e = errorOf([&] { StanzaLock second(lockPath_, "main", "backup"); });
    EXPECT_EQ(e.code(), ErrorCode::Lock);
    EXPECT_TRUE(has(e.what(), "'main'")) << e.what();
    EXPECT_TRUE(has(e.what(), file)) << e.what();
    EXPECT_TRUE(has(e.what(), "pid " + std::to_string(::getpid()))) << e.what();
}

TEST_F(RepoLock, OtherStanzaOrKindIsIndependent) {
    StanzaLock first(lockPath_, "main", "backup");
    EXPECT_NO_THROW(StanzaLock(lockPath_, "other", "backup"));
    EXPECT_NO_THROW(StanzaLock(lockPath_, "main", "archive"));
    EXPECT_TRUE(fs::exists(lockPath_ + "/other-backup.lock"));
    EXPECT_TRUE(fs::exists(lockPath_ + "/main-archive.lock"));
}

TEST_F(RepoLock, ReleasedOnDestruction) {
    {
        StanzaLock first(lockPath_, "main", "backup");
        EXPECT_EQ(errorOf([&] { StanzaLock again(lockPath_, "main", "backup"); }).code(), ErrorCode::Lock);
    }
    EXPECT_NO_THROW(StanzaLock(lockPath_, "main", "backup"));
    // A refused attempt leaves the holder's lock in place.
    StanzaLock holder(lockPath_, "main", "backup");
    EXPECT_EQ(errorOf([&] { StanzaLock x(lockPath_, "main", "backup"); }).code(), ErrorCode::Lock);
    EXPECT_EQ(errorOf([&] { StanzaLock y(lockPath_, "main", "backup"); }).code(), ErrorCode::Lock);
}

TEST_F(RepoLock, UncreatableLockDirectory) {
    std::ofstream(root_ + "/file") << "x";
    Error e = errorOf([&] { StanzaLock l(root_ + "/file/lock", "main", "backup"); });
    EXPECT_EQ(e.code(), ErrorCode::FileOpen);
    EXPECT_TRUE(has(e.what(), root_ + "/file/lock")) << e.what();
}

}  // namespace
}  // namespace backrest::repo
