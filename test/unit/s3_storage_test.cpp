// The S3 driver against radosgw (TEST_BACKREST_S3_ENV, scripts/test-servers/radosgw.sh): what
// repository code relies on, in the driver's own terms (ranges, multipart, pages, batches).
#include "storage/s3/s3_storage.h"

#include <gtest/gtest.h>

#include <numeric>

#include "common/error.h"
#include "storage_drivers.h"

namespace backrest::test {
std::optional<storage::s3::S3Settings> s3TestSettings(const std::string& testName);
}

namespace backrest::storage::s3 {
namespace {

std::string pattern(size_t size) {
    std::string out(size, '\0');
    for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
    return out;
}

std::span<const uint8_t> bytes(const std::string& text) {
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string readRange(Storage& s, const std::string& path, ReadRange range,
                      size_t bufSize = 65536) {
    auto in = s.openRead(path, false, range);
    std::string out, buf(bufSize, '\0');
    while (size_t n = in->read({reinterpret_cast<uint8_t*>(buf.data()), buf.size()}))
        out.append(buf, 0, n);
    return out;
}

class S3StorageTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto settings =
            test::s3TestSettings(::testing::UnitTest::GetInstance()->current_test_info()->name());
        if (!settings) GTEST_SKIP() << "TEST_BACKREST_S3_ENV unset: no radosgw to test against";
        settings->readChunk = 1 << 20;  // several GETs per file below
        settings_ = *settings;
        s3_ = std::make_unique<S3Storage>(*settings);
    }
    S3Settings settings_;
    std::unique_ptr<S3Storage> s3_;
};

TEST_F(S3StorageTest, SmallAndMultipartWritesReadBackWholeAndInRanges) {
    std::string small = pattern(1000);
    writeAll(*s3_, "a/small", small);
    EXPECT_EQ(readAll(*s3_, "a/small"), small);

    // 12 MiB with 5 MiB parts: a multipart upload of 3 parts, read in 1 MiB GETs.
    std::string large = pattern(12u << 20);
    auto out = s3_->openWrite("a/large");
    for (size_t at = 0; at < large.size(); at += 300000)
        out->write(bytes(large).subspan(at, std::min<size_t>(300000, large.size() - at)));
    EXPECT_FALSE(s3_->info("a/large"));  // not visible before close
    out->close();
    EXPECT_EQ(s3_->info("a/large")->size, large.size());
    EXPECT_EQ(readRange(*s3_, "a/large", {}), large);
    EXPECT_EQ(readRange(*s3_, "a/large", {5000000, 3000000}), large.substr(5000000, 3000000));
    EXPECT_EQ(readRange(*s3_, "a/large", {large.size() - 10, 100}),
              large.substr(large.size() - 10));

    writeAll(*s3_, "a/empty", "");
    EXPECT_EQ(readAll(*s3_, "a/empty"), "");
}

TEST_F(S3StorageTest, AbandonedWriterLeavesNothing) {
    {
        auto out = s3_->openWrite("gone");
        std::string data = pattern(11u << 20);  // two parts sent before the writer goes
        out->write(bytes(data));
    }
    EXPECT_FALSE(s3_->info("gone"));
    EXPECT_EQ(s3_->openRead("gone", true), nullptr);
}

TEST_F(S3StorageTest, MissingFileNamesTheObject) {
    try {
        s3_->openRead("no/such/file");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::FileMissing);
        EXPECT_NE(std::string(e.what()).find("s3://" + settings_.bucket + "/" + settings_.prefix +
                                             "/no/such/file"),
                  std::string::npos)
            << e.what();
    }
}

TEST_F(S3StorageTest, ListPagesAndRemovePathInBatches) {
    S3Settings paged = settings_;
    paged.listPageSize = 3;  // continuation tokens with a handful of files
    S3Storage s3(paged);
    for (int i = 0; i < 7; ++i) writeAll(s3, "d/f" + std::to_string(i), "x");
    writeAll(s3, "d/sub/deep", "y");
    auto entries = s3.list("d");
    ASSERT_EQ(entries.size(), 8u);
    int paths = 0;
    for (const auto& e : entries) paths += e.type == FileType::Path && e.name == "sub";
    EXPECT_EQ(paths, 1);
    EXPECT_EQ(s3.info("d/sub")->type, FileType::Path);
    EXPECT_TRUE(s3.list("nothing", true).empty());
    EXPECT_THROW(s3.list("nothing", false), Error);

    s3.removePath("d", true);
    EXPECT_TRUE(s3.list("d").empty());
    EXPECT_FALSE(s3.info("d"));
}

TEST_F(S3StorageTest, WrongSecretIsRepoAuthWithoutTheSecret) {
    S3Settings wrong = settings_;
    wrong.credentials.secret = "not-the-secret-0123456789";
    S3Storage s3(wrong);
    try {
        writeAll(s3, "x", "y");
        FAIL();
    } catch (const Error& e) {
        std::string message = e.what();
        EXPECT_EQ(e.code(), ErrorCode::RepoAuth) << message;
        EXPECT_NE(message.find("SignatureDoesNotMatch"), std::string::npos) << message;
        EXPECT_NE(message.find("s3://" + settings_.bucket), std::string::npos) << message;
        EXPECT_EQ(message.find(wrong.credentials.secret), std::string::npos) << message;
        EXPECT_EQ(message.find(settings_.credentials.secret), std::string::npos) << message;
    }
    EXPECT_FALSE(s3_->info("x"));
}

}  // namespace
}  // namespace backrest::storage::s3
