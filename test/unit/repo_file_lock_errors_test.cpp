// A lock file that cannot be opened (repo/file_lock.h) is a FileOpenError naming the file, the
// user, and the system's reason: the reason a DBA needs to fix it (it once read "Success").
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstring>
#include <string>

#include "common/error.h"
#include "repo/file_lock.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"

using namespace backrest;
using backrest::test::errorOf;
using backrest::test::has;

TEST(RepoFileLockErrors, MissingLockDirectoryNamesTheReason) {
    test::TempDir dir("repo-file-lock-errors");
    std::string file = repo::backupReadLockFile(dir / "absent", "main", "20261101-000000F");
    Error e = errorOf([&] { repo::FileLock::tryAcquire(file, repo::FileLock::Mode::Exclusive); });
    EXPECT_EQ(e.code(), ErrorCode::FileOpen);
    EXPECT_TRUE(has(e.what(), "unable to open lock file as user '")) << e.what();
    EXPECT_TRUE(has(e.what(), "'" + file + "': " + std::strerror(ENOENT))) << e.what();
}

// A lock file where a directory is (a stray mkdir): the reason is the system's, not "Success".
TEST(RepoFileLockErrors, LockFileThatIsADirectoryNamesItsOwnerAndMode) {
    test::TempDir dir("repo-file-lock-errors");
    std::string file = repo::archiveReadLockFile(dir.path(), "main");
    ASSERT_EQ(::mkdir(file.c_str(), 0750), 0);
    Error e = errorOf([&] { repo::FileLock::tryAcquire(file, repo::FileLock::Mode::Shared); });
    EXPECT_EQ(e.code(), ErrorCode::FileOpen);
    EXPECT_TRUE(has(e.what(), "unable to open lock file (owner ")) << e.what();
    EXPECT_TRUE(has(e.what(), ", mode 0750) as user '")) << e.what();
    EXPECT_TRUE(has(e.what(), "'" + file + "': " + std::strerror(EISDIR))) << e.what();
}
