// ReadCache: ranges of a cached object are the same bytes as ranged reads of the storage itself;
// objects too large, missing or not cacheable are read as before.
#include <unistd.h>

#include <filesystem>

#include "storage/posix.h"
#include "storage/read_cache.h"
#include "test_support.h"

namespace backrest::test {
namespace {

std::string readRange(storage::Storage& s, const std::string& path, storage::ReadRange range,
                      size_t step = 7) {
    auto in = s.openRead(path, false, range);
    std::string out;
    std::vector<uint8_t> buf(step);
    for (size_t n; (n = in->read(buf)) > 0;)
        out.append(reinterpret_cast<const char*>(buf.data()), n);
    return out;
}

class ReadCacheTest : public ::testing::Test {
  protected:
    void SetUp() override {
        root_ =
            std::filesystem::temp_directory_path() / ("read-cache-" + std::to_string(::getpid()));
        std::filesystem::remove_all(root_);
        std::filesystem::create_directories(root_ / "bundle");
        for (int i = 0; i < 1000; ++i) bytes_ += static_cast<char>('a' + i % 26);
        writeFile((root_ / "bundle/1").string(), bytes_);
        writeFile((root_ / "bundle/2").string(), bytes_ + bytes_);
        cache_ = std::make_unique<storage::ReadCache>(
            std::make_unique<storage::PosixStorage>(root_.string()),
            [](const std::string& p) { return p.find("bundle/") != std::string::npos; }, 1, 1500);
    }
    void TearDown() override { std::filesystem::remove_all(root_); }

    std::filesystem::path root_;
    std::string bytes_;
    std::unique_ptr<storage::ReadCache> cache_;
};

TEST_F(ReadCacheTest, RangesOfACachedObjectAreItsBytes) {
    EXPECT_EQ(readRange(*cache_, "bundle/1", {10, 100}), bytes_.substr(10, 100));
    EXPECT_EQ(readRange(*cache_, "bundle/1", {990, 100}),
              bytes_.substr(990));  // past the end: short
    EXPECT_EQ(readRange(*cache_, "bundle/1", {1000, 5}), "");
    auto in = cache_->openRead("bundle/1", false, {100, 50});
    in->seek(40);
    std::vector<uint8_t> buf(100);
    EXPECT_EQ(in->read(buf), 10u);  // seek is relative to the range
    EXPECT_EQ(std::string(reinterpret_cast<char*>(buf.data()), 10), bytes_.substr(140, 10));
}

TEST_F(ReadCacheTest, AnObjectTooLargeIsReadByRange) {
    EXPECT_EQ(readRange(*cache_, "bundle/2", {1500, 200}), (bytes_ + bytes_).substr(1500, 200));
    EXPECT_EQ(readRange(*cache_, "bundle/2", {0, 3}), bytes_.substr(0, 3));
}

TEST_F(ReadCacheTest, AMissingObjectIsFileMissingAsBefore) {
    EXPECT_EQ(cache_->openRead("bundle/9", true, {0, 5}), nullptr);
    auto e = errorOf([&] { cache_->openRead("bundle/9", false, {0, 5}); });
    EXPECT_EQ(e.code(), ErrorCode::FileMissing);
    EXPECT_TRUE(has(e.what(), "bundle/9")) << e.what();
}

TEST_F(ReadCacheTest, ACachedObjectIsHeldOthersAreReadByRange) {
    EXPECT_EQ(readRange(*cache_, "bundle/1", {0, 3}), "abc");
    writeFile((root_ / "bundle/1").string(), "xyz" + bytes_.substr(3));
    EXPECT_EQ(readRange(*cache_, "bundle/1", {0, 3}), "abc");  // held (bundles never change)
    EXPECT_EQ(readRange(*cache_, "bundle/2", {0, 3}),
              "abc");  // too large: not cached, evicts nothing
    writeFile((root_ / "other").string(), "12345");
    EXPECT_EQ(readRange(*cache_, "other", {1, 2}), "23");  // not cacheable: read by range
}

}  // namespace
}  // namespace backrest::test
