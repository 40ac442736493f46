// FrameWriter: frames written behind the threads that produce them, from a bounded pool of
// buffers; a failed write reaches its frame's owner and the caller, and costs no buffer.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.h"
#include "common/parallel.h"
#include "repo/frame_writer.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;

class RepoFrameWriter : public ::testing::Test {
  protected:
    void SetUp() override { storage_ = std::make_unique<storage::PosixStorage>(root_); }

    backrest::test::TempDir tmp_{"frame-writer"};
    std::string root_ = tmp_.path();
    std::unique_ptr<storage::PosixStorage> storage_;
};

// 40 frames of 64 KiB from 4 threads through 2 buffers: every frame lands at its offset, every
// done() runs once, and the pool never grows (take() waits for the writes to give buffers back).
TEST_F(RepoFrameWriter, WritesEveryFrameAtItsOffset) {
    constexpr size_t kFrame = 64 * 1024, kFrames = 40;
    storage::WriteOptions options;
    options.atomic = false;
    options.size = kFrame * kFrames;
    options.direct = true;
    auto out = storage_->openWrite("file", options);
    std::atomic<size_t> done{0}, failed{0};
    {
        FrameWriter writer(2);
        runParallel(4, kFrames, [&](size_t k) {
            auto buffer = writer.take();
            EXPECT_TRUE(buffer->empty());
            std::memset(buffer->ensureFree(kFrame), static_cast<int>('A' + k % 26), kFrame);
            buffer->commit(kFrame);
            writer.write(*out, k * kFrame, std::move(buffer),
                         [&](std::unique_ptr<io::Buffer>&, std::exception_ptr error) {
                             done++;
                             if (error) failed++;
                         });
        });
        writer.finish();
    }
    out->close();
    EXPECT_EQ(done, kFrames);
    EXPECT_EQ(failed, 0u);
    std::ifstream in(root_ + "/file", std::ios::binary);
    std::string bytes(std::istreambuf_iterator<char>(in), {});
    ASSERT_EQ(bytes.size(), kFrame * kFrames);
    for (size_t k = 0; k < kFrames; k++)
        ASSERT_EQ(bytes.substr(k * kFrame, kFrame),
                  std::string(kFrame, static_cast<char>('A' + k % 26)))
            << "frame " << k;
}

// A write that fails: its done() gets the error, later writes are refused with it, finish()
// rethrows it, and its buffer is back in the pool (the one-buffer pool can still be taken).
TEST_F(RepoFrameWriter, FailedWriteReachesOwnerAndCaller) {
    storage::WriteOptions options;
    options.atomic = false;
    auto out = storage_->openWrite("file", options);
    out->close();  // a write after close raises: the failure to report
    FrameWriter writer(1);
    std::exception_ptr seen;
    auto buffer = writer.take();
    buffer->append(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>("abc"), 3));
    writer.write(*out, 0, std::move(buffer),
                 [&](std::unique_ptr<io::Buffer>&, std::exception_ptr error) { seen = error; });
    auto e = test::errorOf([&] { writer.finish(); });
    EXPECT_EQ(e.code(), ErrorCode::Assert);
    EXPECT_TRUE(test::has(e.what(), "after close")) << e.what();
    ASSERT_TRUE(seen);
    auto again = writer.take();  // given back after the failure
    ASSERT_TRUE(again);
    auto refused = test::errorOf([&] {
        writer.write(*out, 0, std::move(again),
                     [](std::unique_ptr<io::Buffer>&, std::exception_ptr) {});
    });
    EXPECT_TRUE(test::has(refused.what(), "after close")) << refused.what();
    EXPECT_TRUE(writer.take());  // the refused write's buffer is back too
}

}  // namespace
}  // namespace backrest::repo
