// Closing written files on background threads: every file becomes visible whole, and a close
// that fails is not lost: finish() raises it, and so does the next close() once it is known.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "common/error.h"
#include "storage/async_close.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"

namespace backrest::storage {
namespace {

namespace fs = std::filesystem;

// A written file whose close fails as a full disk's would, or counts that it was closed.
class ScriptedWrite : public StorageWrite {
  public:
    ScriptedWrite(std::string path, bool fails, std::atomic<int>& closed)
        : path_(std::move(path)), fails_(fails), closed_(closed) {}
    void write(std::span<const uint8_t>) override {}
    void close() override {
        if (fails_) throw Error(ErrorCode::FileWrite, "unable to sync '" + path_ + "': no space");
        closed_++;
    }
    const std::string& path() const override { return path_; }

  private:
    std::string path_;
    bool fails_;
    std::atomic<int>& closed_;
};

TEST(StorageAsyncClose, EveryFileIsDurableAfterFinish) {
    test::TempDir dir("storage-async-close");
    PosixStorage storage(dir.path());
    AsyncCloser closer(2, 4);  // fewer slots than files: close() must wait, not drop
    for (int i = 0; i < 20; i++) {
        auto file = storage.openWrite("f" + std::to_string(i), {});
        std::string bytes(1000 + i, static_cast<char>('a' + i % 26));
        file->write({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
        closer.close(std::move(file));
    }
    closer.finish();
    for (int i = 0; i < 20; i++)
        EXPECT_EQ(test::readFile(dir / ("f" + std::to_string(i))),
                  std::string(1000 + i, static_cast<char>('a' + i % 26)))
            << "f" << i;
}

TEST(StorageAsyncClose, FailedCloseIsRaisedByFinish) {
    std::atomic<int> closed{0};
    AsyncCloser closer(1, 8);
    closer.close(std::make_unique<ScriptedWrite>("a", false, closed));
    closer.close(std::make_unique<ScriptedWrite>("b", true, closed));
    closer.close(std::make_unique<ScriptedWrite>("c", false, closed));
    Error e = test::errorOf([&] { closer.finish(); });
    EXPECT_EQ(e.code(), ErrorCode::FileWrite);
    EXPECT_TRUE(test::has(e.what(), "unable to sync 'b'")) << e.what();
    EXPECT_EQ(closed.load(), 2);  // the others were still closed
}

TEST(StorageAsyncClose, CloseAfterAFailureRaisesIt) {
    std::atomic<int> closed{0};
    AsyncCloser closer(1, 8);
    closer.close(std::make_unique<ScriptedWrite>("broken", true, closed));
    // finish() first, so the failure is known before the next close() is queued.
    EXPECT_EQ(test::errorOf([&] { closer.finish(); }).code(), ErrorCode::FileWrite);
    Error e =
        test::errorOf([&] { closer.close(std::make_unique<ScriptedWrite>("x", false, closed)); });
    EXPECT_TRUE(test::has(e.what(), "'broken'")) << e.what();
}

// `closed` runs after its file's close, on the closing thread, and never for a close that failed.
TEST(StorageAsyncClose, ClosedCallbackFollowsOnlyASuccessfulClose) {
    std::atomic<int> closed{0};
    std::atomic<int> closedSeenByCallback{-1};
    std::atomic<bool> calledForFailed{false};
    AsyncCloser closer(1, 8);
    closer.close(std::make_unique<ScriptedWrite>("good", false, closed),
                 [&] { closedSeenByCallback = closed.load(); });
    closer.close(std::make_unique<ScriptedWrite>("bad", true, closed),
                 [&] { calledForFailed = true; });
    EXPECT_EQ(test::errorOf([&] { closer.finish(); }).code(), ErrorCode::FileWrite);
    EXPECT_EQ(closedSeenByCallback.load(), 1);  // called after its own close, not before
    EXPECT_FALSE(calledForFailed.load());
}

// What the callback throws is a failure like a close's: finish() raises it.
TEST(StorageAsyncClose, ClosedCallbackFailureIsRaised) {
    std::atomic<int> closed{0};
    AsyncCloser closer(1, 8);
    closer.close(std::make_unique<ScriptedWrite>("f", false, closed),
                 [] { throw Error(ErrorCode::FileWrite, "journal write failed"); });
    Error e = test::errorOf([&] { closer.finish(); });
    EXPECT_TRUE(test::has(e.what(), "journal write failed")) << e.what();
}

TEST(StorageAsyncClose, DestroyedWithoutFinishStillClosesWhatWasQueued) {
    test::TempDir dir("storage-async-close");
    PosixStorage storage(dir.path());
    {
        AsyncCloser closer(2, 4);
        auto file = storage.openWrite("queued", {});
        file->write({reinterpret_cast<const uint8_t*>("abc"), 3});
        closer.close(std::move(file));
    }
    EXPECT_EQ(test::readFile(dir / "queued"), "abc");
}

}  // namespace
}  // namespace backrest::storage
