// WriteOptions::directAppend where the filesystem stops taking O_DIRECT part way through a file
// (EINVAL: an alignment it does not take), or fails it outright (a full disk). This kernel gives
// O_DIRECT even to tmpfs, so the refusals are injected: this binary defines pwrite(), which
// the storage code calls in place of libc's (an executable's symbol comes first), and which
// passes every call to libc's except the O_DIRECT ones a test asks it to refuse.
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <span>
#include <string>

#include "common/error.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"

namespace {

// What the interposed pwrite() does with writes to a descriptor opened with O_DIRECT: pass them
// (directBudget < 0), or pass the first directBudget bytes (the call that crosses it is cut
// short at it) and fail every later one with directErrno.
std::atomic<int64_t> directBudget{-1};
std::atomic<int> directErrno{EINVAL};
std::atomic<int> directRefusals{0};

using PwriteFn = ssize_t (*)(int, const void*, size_t, off_t);

PwriteFn libcPwrite() {
    static const PwriteFn real = reinterpret_cast<PwriteFn>(::dlsym(RTLD_NEXT, "pwrite"));
    return real;
}

}  // namespace

extern "C" ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
    int64_t budget = directBudget.load();
    if (budget < 0 || (::fcntl(fd, F_GETFL) & O_DIRECT) == 0)
        return libcPwrite()(fd, buf, count, offset);
    if (budget == 0) {
        directRefusals++;
        errno = directErrno.load();
        return -1;
    }
    const size_t take = std::min<size_t>(count, static_cast<size_t>(budget));
    const ssize_t n = libcPwrite()(fd, buf, take, offset);
    if (n > 0) directBudget -= n;
    return n;
}

namespace backrest::storage {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMiB = 1u << 20;

std::string pattern(size_t size) {
    std::string s(size, '\0');
    for (size_t i = 0; i < size; i++) s[i] = static_cast<char>('a' + (i * 13 + i / 4096) % 26);
    return s;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class DirectRefusedTest : public ::testing::Test {
  protected:
    void SetUp() override {
        storage_ = std::make_unique<PosixStorage>(root_);
        directRefusals = 0;
        directErrno = EINVAL;
    }
    void TearDown() override { directBudget = -1; }

    // Writes `bytes` in pieces of 300,001 bytes (none aligned) to `name` with directAppend.
    void writeInPieces(const std::string& name, const std::string& bytes) {
        WriteOptions o;
        o.directAppend = true;
        auto w = storage_->openWrite(name, o);
        for (size_t at = 0; at < bytes.size(); at += 300001) {
            const size_t n = std::min<size_t>(300001, bytes.size() - at);
            w->write({reinterpret_cast<const uint8_t*>(bytes.data()) + at, n});
        }
        w->close();
    }

    backrest::test::TempDir dir_{"posix-direct-refused"};
    std::string root_ = dir_.path();
    std::unique_ptr<PosixStorage> storage_;
};

// Refused from the first direct write: the whole file goes through the page cache, byte for byte.
TEST_F(DirectRefusedTest, RefusedFromTheStartWritesThroughTheCache) {
    const std::string expected = pattern(3 * kMiB + 777);
    directBudget = 0;
    writeInPieces("f", expected);
    EXPECT_EQ(directRefusals.load(), 1) << "O_DIRECT is tried once, then given up for the file";
    EXPECT_EQ(slurp(root_ + "/f"), expected);
}

// One whole stage goes out with O_DIRECT, half of the next one (a short write), then the
// filesystem refuses: the half stage's rest, the pieces after it and the tail go through the
// cache, each at its place in the file.
TEST_F(DirectRefusedTest, RefusedPartWayGoesOnThroughTheCacheAtTheRightOffset) {
    const std::string expected = pattern(4 * kMiB + 12345);
    directBudget = static_cast<int64_t>(kMiB + kMiB / 2);
    writeInPieces("f", expected);
    EXPECT_EQ(directBudget.load(), 0) << "1.5 MiB went out with O_DIRECT before the refusal";
    EXPECT_EQ(directRefusals.load(), 1);
    struct stat st;
    ASSERT_EQ(::stat((root_ + "/f").c_str(), &st), 0);
    EXPECT_EQ(static_cast<size_t>(st.st_size), expected.size());
    EXPECT_EQ(slurp(root_ + "/f"), expected);
}

// A direct write that fails for any other reason (here a full disk) is an error naming the
// file, and leaves nothing under either name.
TEST_F(DirectRefusedTest, FullDiskOnADirectWriteIsAnErrorAndLeavesNothing) {
    directBudget = static_cast<int64_t>(kMiB);
    directErrno = ENOSPC;
    try {
        writeInPieces("f", pattern(3 * kMiB));
        FAIL() << "a direct write failing with ENOSPC did not fail the file";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::FileWrite);
        EXPECT_NE(std::string(e.what()).find(root_ + "/f"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("No space left on device"), std::string::npos)
            << e.what();
    }
    EXPECT_TRUE(fs::is_empty(root_)) << "a partial file was left";
}

}  // namespace
}  // namespace backrest::storage
