// The patching writer of a delta restore: positioned reads and writes that survive EINTR and
// short transfers (provoked through its system-call seam), and errors that name the file.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "storage/patch_file.h"
#include "test/unit/temp_dir.h"
#include "test_support.h"

namespace backrest::storage {
namespace {

using test::errorOf;
using test::has;
using test::readFile;
using test::writeFile;

std::span<const uint8_t> bytesOf(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Every other call fails with EINTR; the others move at most 3 bytes.
int calls = 0;
ssize_t stingyPread(int fd, void* buf, size_t count, off_t offset) {
    if (calls++ % 2 == 0) {
        errno = EINTR;
        return -1;
    }
    return ::pread(fd, buf, std::min<size_t>(count, 3), offset);
}
ssize_t stingyPwrite(int fd, const void* buf, size_t count, off_t offset) {
    if (calls++ % 2 == 0) {
        errno = EINTR;
        return -1;
    }
    return ::pwrite(fd, buf, std::min<size_t>(count, 3), offset);
}
// Short once, then out of space: what a nearly full disk does.
ssize_t fullPwrite(int fd, const void* buf, size_t count, off_t offset) {
    if (calls++ == 0) return ::pwrite(fd, buf, std::min<size_t>(count, 4), offset);
    errno = ENOSPC;
    return -1;
}

class PatchFileTest : public ::testing::Test {
  protected:
    void SetUp() override {
        storage_ = std::make_unique<PosixStorage>(root_);
        calls = 0;
    }
    backrest::test::TempDir tmp_{"patch-file"};
    std::string root_ = tmp_.path();
    std::unique_ptr<PosixStorage> storage_;
};

TEST_F(PatchFileTest, ReadsWritesTruncatesThroughEintrAndShortTransfers) {
    writeFile(root_ + "/rel", "0123456789");
    PatchFile file(*storage_, "rel", {.pread = stingyPread, .pwrite = stingyPwrite});
    EXPECT_EQ(file.sizeAtOpen(), 10u);
    std::string got(8, '\0');
    EXPECT_EQ(file.readAt(4, {reinterpret_cast<uint8_t*>(got.data()), got.size()}),
              6u);  // to the end only
    EXPECT_EQ(got.substr(0, 6), "456789");
    file.writeAt(8, bytesOf("abcdefghij"));  // extends the file
    file.truncate(16);
    file.sync();
    file.close();
    EXPECT_EQ(readFile(root_ + "/rel"), "01234567abcdefgh");
    EXPECT_GT(calls, 8);  // the seam was used: several short calls, EINTR between them
}

TEST_F(PatchFileTest, AShortWriteIsRetriedAndItsCauseReported) {
    writeFile(root_ + "/rel", "");
    PatchFile file(*storage_, "rel", {.pread = ::pread, .pwrite = fullPwrite});
    Error e = errorOf([&] { file.writeAt(0, bytesOf("0123456789")); });
    EXPECT_EQ(e.code(), ErrorCode::FileWrite);
    EXPECT_TRUE(has(e.what(), "No space left on device")) << e.what();
    EXPECT_TRUE(has(e.what(), root_ + "/rel")) << e.what();
    EXPECT_EQ(calls, 2);
}

TEST_F(PatchFileTest, AMissingFileIsNamed) {
    Error e = errorOf([&] { PatchFile(*storage_, "base/1/16384"); });
    EXPECT_EQ(e.code(), ErrorCode::FileOpen);
    EXPECT_TRUE(has(e.what(), root_ + "/base/1/16384")) << e.what();
    EXPECT_TRUE(has(e.what(), "No such file or directory")) << e.what();
}

TEST_F(PatchFileTest, AReadOnlyFileIsNamed) {
    if (::geteuid() == 0) GTEST_SKIP() << "root opens a read-only file for writing";
    writeFile(root_ + "/rel", "x");
    ::chmod((root_ + "/rel").c_str(), 0400);
    Error e = errorOf([&] { PatchFile(*storage_, "rel"); });
    EXPECT_EQ(e.code(), ErrorCode::FileOpen);
    EXPECT_TRUE(has(e.what(), root_ + "/rel")) << e.what();
}

TEST_F(PatchFileTest, WritingThroughAReadOnlyDescriptorFailsNamingTheFile) {
    // A directory opens read-only only: O_RDWR on it is EISDIR, named.
    std::filesystem::create_directory(root_ + "/dir");
    Error e = errorOf([&] { PatchFile(*storage_, "dir"); });
    EXPECT_EQ(e.code(), ErrorCode::FileOpen);
    EXPECT_TRUE(has(e.what(), root_ + "/dir")) << e.what();
    EXPECT_TRUE(has(e.what(), "Is a directory")) << e.what();
}

}  // namespace
}  // namespace backrest::storage
