// Stanza lock: a second holder of the same stanza and kind is refused, others are not. Backup
// read locks: readers share, expire excludes them, and the holder is named.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "common/error.h"
#include "repo/file_lock.h"
#include "repo/lock.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;

using backrest::test::errorOf;

using backrest::test::has;

class RepoLock : public ::testing::Test {
  protected:
    void SetUp() override {
        lockPath_ = root_ + "/lock";  // created by the lock itself
    }

    backrest::test::TempDir tmp_{"repo-lock"};
    std::string root_ = tmp_.path();
    std::string lockPath_;
};

// lock-path belongs to the repository's owner: a link planted there must not have a root-run
// backup truncate (or create) the file it names.
TEST_F(RepoLock, ALockFileThatIsASymbolicLinkIsRefusedAndItsTargetUntouched) {
    fs::create_directories(lockPath_);
    std::string target = root_ + "/target";
    std::ofstream(target) << "untouched\n";
    fs::create_symlink(target, lockPath_ + "/main-backup.lock");
    Error e = errorOf([&] { StanzaLock lock(lockPath_, "main", "backup"); });
    EXPECT_EQ(e.code(), ErrorCode::FileOpen);
    EXPECT_EQ(std::string(e.what()),
              "lock file '" + lockPath_ +
                  "/main-backup.lock' is a symbolic link: remove it (backrest never opens a lock "
                  "file through a link)");
    std::ifstream in(target);
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "untouched");

    fs::create_symlink(root_ + "/created", lockPath_ + "/main-archive.lock");
    EXPECT_EQ(errorOf([&] { StanzaLock lock(lockPath_, "main", "archive"); }).code(),
              ErrorCode::FileOpen);
    EXPECT_FALSE(fs::exists(root_ + "/created"));  // a dangling link: not created either

    std::string readLock = backupReadLockFile(lockPath_, "main", "20250101-000000F");
    fs::create_symlink(target, readLock);
    EXPECT_EQ(errorOf([&] { FileLock::tryAcquire(readLock, FileLock::Mode::Shared); }).code(),
              ErrorCode::FileOpen);
}

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
        EXPECT_EQ(errorOf([&] { StanzaLock again(lockPath_, "main", "backup"); }).code(),
                  ErrorCode::Lock);
    }
    EXPECT_NO_THROW(StanzaLock(lockPath_, "main", "backup"));
    // A refused attempt leaves the holder's lock in place.
    StanzaLock holder(lockPath_, "main", "backup");
    EXPECT_EQ(errorOf([&] { StanzaLock x(lockPath_, "main", "backup"); }).code(), ErrorCode::Lock);
    EXPECT_EQ(errorOf([&] { StanzaLock y(lockPath_, "main", "backup"); }).code(), ErrorCode::Lock);
}

// The daemon's wait (BackupSettings::lockWait): a lock this process holds, released by another
// thread (a cancelled backup unwinding), is taken once free; a lock another process holds is
// refused at once, wait or not.
TEST_F(RepoLock, WaitsOnlyForALockThisProcessHolds) {
    auto unwinding = std::make_unique<StanzaLock>(lockPath_, "main", "backup");
    std::thread release([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        unwinding.reset();
    });
    EXPECT_NO_THROW(StanzaLock(lockPath_, "main", "backup", 30));
    release.join();
    // Held by this process, but the caller says the holder is not one to wait for (the daemon:
    // a backup whose client is still there): refused at once.
    {
        StanzaLock running(lockPath_, "main", "backup");
        auto asked = std::chrono::steady_clock::now();
        auto notUnwinding = [] { return false; };
        EXPECT_EQ(errorOf([&] {
                      StanzaLock again(lockPath_, "main", "backup", 30, notUnwinding);
                  }).code(),
                  ErrorCode::Lock);
        EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::seconds(10));
    }

    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    pid_t child = ::fork();
    if (child == 0) {
        StanzaLock other(lockPath_, "main", "backup");
        char c = 'x';
        if (::write(ready[1], &c, 1) != 1) _exit(1);
        ::pause();
        _exit(0);
    }
    char c;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    auto started = std::chrono::steady_clock::now();
    Error e = errorOf([&] { StanzaLock mine(lockPath_, "main", "backup", 30); });
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
    EXPECT_EQ(e.code(), ErrorCode::Lock);
    EXPECT_TRUE(has(e.what(), "pid " + std::to_string(child))) << e.what();
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    ::close(ready[0]);
    ::close(ready[1]);
}

TEST_F(RepoLock, UncreatableLockDirectory) {
    std::ofstream(root_ + "/file") << "x";
    Error e = errorOf([&] { StanzaLock l(root_ + "/file/lock", "main", "backup"); });
    EXPECT_EQ(e.code(), ErrorCode::FileOpen);
    EXPECT_TRUE(has(e.what(), root_ + "/file/lock")) << e.what();
}

TEST_F(RepoLock, ReadersShareAndExcludeExpire) {
    ensureLockDirectory(lockPath_);
    std::string file = backupReadLockFile(lockPath_, "main", "20261205-081419F");
    EXPECT_EQ(file, lockPath_ + "/main-20261205-081419F.read.lock");
    using M = FileLock::Mode;
    // Each tryAcquire opens the file again: flock conflicts between open files, even in one
    // process.
    auto reader1 = FileLock::tryAcquire(file, M::Shared);
    auto reader2 = FileLock::tryAcquire(file, M::Shared);
    ASSERT_NE(reader1, nullptr);
    ASSERT_NE(reader2, nullptr);
    EXPECT_EQ(FileLock::tryAcquire(file, M::Exclusive), nullptr);
    reader1.reset();
    EXPECT_EQ(FileLock::tryAcquire(file, M::Exclusive), nullptr);  // one reader left
    reader2.reset();
    auto expire = FileLock::tryAcquire(file, M::Exclusive);
    ASSERT_NE(expire, nullptr);
    EXPECT_EQ(FileLock::tryAcquire(file, M::Shared), nullptr);
    EXPECT_EQ(FileLock::tryAcquire(file, M::Exclusive), nullptr);
    expire.reset();
    EXPECT_NE(FileLock::tryAcquire(file, M::Shared), nullptr);
    EXPECT_NE(FileLock::acquire(file, M::Exclusive), nullptr);
    // Other backups and the archive are independent.
    auto held = FileLock::tryAcquire(file, M::Exclusive);
    EXPECT_NE(FileLock::tryAcquire(backupReadLockFile(lockPath_, "main", "20261205-081420F"),
                                   M::Exclusive),
              nullptr);
    EXPECT_NE(FileLock::tryAcquire(archiveReadLockFile(lockPath_, "main"), M::Exclusive), nullptr);
}

TEST_F(RepoLock, HolderIsNamedByPid) {
    ensureLockDirectory(lockPath_);
    std::string file = archiveReadLockFile(lockPath_, "main");
    EXPECT_EQ(lockHolders(file), "unknown holder");  // no file yet
    auto held = FileLock::tryAcquire(file, FileLock::Mode::Shared);
    std::string holders = lockHolders(file);
    EXPECT_TRUE(has(holders, ", pid " + std::to_string(::getpid()))) << holders;
    held.reset();
    EXPECT_EQ(lockHolders(file), "unknown holder");
}

TEST_F(RepoLock, LockFilesAreOpenToTheGroup) {
    ensureLockDirectory(lockPath_);
    std::string file = backupReadLockFile(lockPath_, "main", "20261205-081419F");
    auto held = FileLock::tryAcquire(file, FileLock::Mode::Shared);
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST_F(RepoLock, UnusableLockDirectoryIsNamed) {
    if (::geteuid() == 0) GTEST_SKIP() << "root can use any directory";
    fs::create_directory(lockPath_);
    fs::permissions(lockPath_, fs::perms::owner_read);
    Error e = errorOf([&] { ensureLockDirectory(lockPath_); });
    fs::permissions(lockPath_, fs::perms::owner_all);
    EXPECT_EQ(e.code(), ErrorCode::FileOpen);
    EXPECT_TRUE(has(e.what(), "lock directory '" + lockPath_ + "'")) << e.what();
}

}  // namespace
}  // namespace backrest::repo
