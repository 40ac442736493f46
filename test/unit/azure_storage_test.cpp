// The Azure driver on Azurite (skipped without TEST_BACKREST_AZURE_ENV): bytes written come back,
// ranges, listing by level, removal, a multi-block blob, nothing visible from an unclosed writer,
// and a wrong key refused as RepoAuthError naming account and container.
#include "storage/azure/azure_storage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "common/error.h"
#include "storage_drivers.h"

namespace backrest::storage::azure {
namespace {

class AzureStorageTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto made = test::makeAzureTestStorage(
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        if (!made.storage) GTEST_SKIP() << made.skipReason;
        storage_ = std::move(made.storage);
    }
    void TearDown() override {
        if (storage_) storage_->removePath("", true);
    }
    std::unique_ptr<Storage> storage_;
};

std::string pattern(size_t size) {
    std::string bytes(size, '\0');
    for (size_t i = 0; i < size; i++) bytes[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
    return bytes;
}

TEST_F(AzureStorageTest, WritesReadsListsAndRemoves) {
    writeAll(*storage_, "backup/s/backup.info", "small");
    writeAll(*storage_, "backup/s/20200101-000000F/backup.manifest", "m");
    writeAll(*storage_, "empty", "");
    EXPECT_EQ(readAll(*storage_, "backup/s/backup.info"), "small");
    EXPECT_EQ(readAll(*storage_, "empty"), "");
    EXPECT_FALSE(readAllIfExists(*storage_, "missing"));
    EXPECT_THROW(readAll(*storage_, "missing"), Error);

    auto entries = storage_->list("backup/s");
    std::sort(entries.begin(), entries.end(), [](auto& a, auto& b) { return a.name < b.name; });
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].name, "20200101-000000F");
    EXPECT_EQ(entries[0].type, FileType::Path);
    EXPECT_EQ(entries[1].name, "backup.info");
    EXPECT_EQ(entries[1].size, 5u);
    EXPECT_GT(entries[1].mtime, 1600000000);

    auto info = storage_->info("backup/s/backup.info");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->size, 5u);
    EXPECT_EQ(storage_->info("backup/s")->type, FileType::Path);
    EXPECT_FALSE(storage_->info("nothing"));

    storage_->remove("backup/s/backup.info");
    EXPECT_FALSE(storage_->info("backup/s/backup.info"));
    EXPECT_THROW(storage_->remove("backup/s/backup.info", true), Error);
    storage_->removePath("backup", true);
    EXPECT_TRUE(storage_->list("backup").empty());
    EXPECT_THROW(storage_->list("backup", false), Error);
}

TEST_F(AzureStorageTest, LargeBlobInParallelBlocksAndRangedReads) {
    // 64 KiB blocks (the test maker's): 1 MiB + 3 bytes is 17 blocks.
    std::string bytes = pattern((1 << 20) + 3);
    writeAll(*storage_, "big", bytes);
    EXPECT_EQ(readAll(*storage_, "big"), bytes);
    auto reader = storage_->openRead("big", false, {.offset = 100000, .length = 300000});
    std::string part(400000, '\0');
    size_t got = 0;
    for (size_t n; (n = reader->read(
                        {reinterpret_cast<uint8_t*>(part.data()) + got, part.size() - got})) > 0;)
        got += n;
    EXPECT_EQ(got, 300000u);
    EXPECT_EQ(part.substr(0, got), bytes.substr(100000, 300000));
    reader->seek(10);
    uint8_t b[4];
    ASSERT_EQ(reader->read(b), 4u);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(b), 4), bytes.substr(100010, 4));
}

TEST_F(AzureStorageTest, UnclosedWriterLeavesNothing) {
    std::string bytes = pattern(300000);  // several blocks already sent when dropped
    {
        auto writer = storage_->openWrite("partial");
        writer->write({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
    }
    EXPECT_FALSE(storage_->info("partial"));
    // A complete one written over an abandoned one is whole.
    writeAll(*storage_, "partial", bytes);
    EXPECT_EQ(readAll(*storage_, "partial"), bytes);
}

TEST_F(AzureStorageTest, WrongKeyIsRepoAuthErrorWithoutTheKey) {
    auto made = test::makeAzureTestStorage("wrongkey");
    // The maker's settings, with another (valid base64) key.
    auto* azure = dynamic_cast<AzureStorage*>(made.storage.get());
    ASSERT_NE(azure, nullptr);
    AzureSettings settings = azure->settings();
    settings.key = "d3Jvbmcta2V5LXdyb25nLWtleQ==";
    AzureStorage wrong(settings);
    try {
        writeAll(wrong, "x", "y");
        FAIL() << "a wrong key was accepted";
    } catch (const Error& e) {
        std::string message = e.what();
        EXPECT_EQ(e.code(), ErrorCode::RepoAuth) << message;
        EXPECT_NE(message.find("account 'devstoreaccount1'"), std::string::npos) << message;
        EXPECT_NE(message.find("container 'backrest'"), std::string::npos) << message;
        EXPECT_EQ(message.find(settings.key), std::string::npos) << message;
    }
}

}  // namespace
}  // namespace backrest::storage::azure
