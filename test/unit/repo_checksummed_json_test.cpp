// Checksummed metadata JSON: serialization, damage detection, and the .copy fallback.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.h"
#include "io/sha256.h"
#include "repo/checksummed_json.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"

namespace backrest::repo {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using backrest::test::errorOf;

using backrest::test::has;

json sampleDoc() {
    return {
        {"format", 1}, {"name", "main"}, {"list", {1, 2, 3}}, {"nested", {{"checksum", "inner"}}}};
}

class RepoChecksummedJson : public ::testing::Test {
  protected:
    void SetUp() override { storage_ = std::make_unique<storage::PosixStorage>(root_); }

    storage::Storage& s() { return *storage_; }
    void put(const std::string& rel, const std::string& content) {
        std::ofstream(root_ + "/" + rel, std::ios::binary) << content;
    }
    std::string get(const std::string& rel) {
        std::ifstream in(root_ + "/" + rel, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

    backrest::test::TempDir tmp_{"repo-cjson"};
    std::string root_ = tmp_.path();
    std::unique_ptr<storage::PosixStorage> storage_;
};

TEST_F(RepoChecksummedJson, SerializeAppendsChecksumOfPrecedingBytes) {
    std::string text = serializeChecksummed(json{{"a", 1}});
    std::string body = "{\"a\":1";
    EXPECT_EQ(text, body + ",\"checksum\":\"" + io::sha256Hex(body) + "\"}\n");
    EXPECT_EQ(parseChecksummed(text, "ctx"), (json{{"a", 1}}));
}

TEST_F(RepoChecksummedJson, RoundTrip) {
    json doc = sampleDoc();
    json back = parseChecksummed(serializeChecksummed(doc), "ctx");
    EXPECT_EQ(back, doc);
    EXPECT_FALSE(back.contains("checksum"));
}

TEST_F(RepoChecksummedJson, SerializeRefusesNonObjects) {
    EXPECT_EQ(errorOf([] { serializeChecksummed(json::array({1})); }).code(), ErrorCode::Assert);
    EXPECT_EQ(errorOf([] { serializeChecksummed(json::object()); }).code(), ErrorCode::Assert);
    EXPECT_EQ(errorOf([] {
                  serializeChecksummed(json{{"checksum", "x"}});
              }).code(),
              ErrorCode::Assert);
}

TEST_F(RepoChecksummedJson, FlippedByteIsChecksumError) {
    std::string text = serializeChecksummed(sampleDoc());
    auto at = text.find("main");
    ASSERT_NE(at, std::string::npos);
    text[at] = 'n';  // "nain": still valid JSON
    Error e = errorOf([&] { parseChecksummed(text, "repo/backup.info"); });
    EXPECT_EQ(e.code(), ErrorCode::Checksum);
    EXPECT_TRUE(has(e.what(), "'repo/backup.info'")) << e.what();
}

TEST_F(RepoChecksummedJson, DamagedChecksumIsChecksumError) {
    std::string text = serializeChecksummed(sampleDoc());
    auto at = text.rfind("\"}");
    text[at - 1] = text[at - 1] == '0' ? '1' : '0';
    EXPECT_EQ(errorOf([&] { parseChecksummed(text, "ctx"); }).code(), ErrorCode::Checksum);
}

TEST_F(RepoChecksummedJson, MissingChecksumIsFormatError) {
    Error e = errorOf([] { parseChecksummed("{\"a\":1}\n", "repo/archive.info"); });
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_TRUE(has(e.what(), "'repo/archive.info'")) << e.what();
    std::string text = serializeChecksummed(sampleDoc());
    EXPECT_EQ(errorOf([&] { parseChecksummed(text.substr(0, text.size() / 2), "ctx"); }).code(),
              ErrorCode::Format);
    EXPECT_EQ(errorOf([] { parseChecksummed("", "ctx"); }).code(), ErrorCode::Format);
}

TEST_F(RepoChecksummedJson, BytesAfterChecksumAreNotAccepted) {
    std::string text = serializeChecksummed(json{{"format", 1}});
    auto end = text.rfind('}');
    std::string tampered = text.substr(0, end) + ",\"format\":2}\n";
    Error e = errorOf([&] { parseChecksummed(tampered, "ctx"); });
    EXPECT_TRUE(e.code() == ErrorCode::Format || e.code() == ErrorCode::Checksum) << e.what();
}

TEST_F(RepoChecksummedJson, SaveWritesBothCopies) {
    saveChecksummed(s(), "backup/main/backup.info", sampleDoc());
    std::string expected = serializeChecksummed(sampleDoc());
    EXPECT_EQ(get("backup/main/backup.info"), expected);
    EXPECT_EQ(get("backup/main/backup.info.copy"), expected);
    auto loaded = loadChecksummed(s(), "backup/main/backup.info");
    ASSERT_TRUE(loaded);
    EXPECT_EQ(*loaded, sampleDoc());
}

TEST_F(RepoChecksummedJson, FallsBackToCopyWhenMainDamaged) {
    saveChecksummed(s(), "info", json{{"v", "copy"}});
    std::string damaged = get("info");
    damaged[damaged.find("copy")] = 'k';
    put("info", damaged);
    auto loaded = loadChecksummed(s(), "info");
    ASSERT_TRUE(loaded);
    EXPECT_EQ(*loaded, (json{{"v", "copy"}}));
}

TEST_F(RepoChecksummedJson, FallsBackToCopyWhenMainMissingOrTruncated) {
    put("info.copy", serializeChecksummed(json{{"v", 2}}));
    auto loaded = loadChecksummed(s(), "info");
    ASSERT_TRUE(loaded);
    EXPECT_EQ(*loaded, (json{{"v", 2}}));
    put("info", "");  // torn write
    loaded = loadChecksummed(s(), "info");
    ASSERT_TRUE(loaded);
    EXPECT_EQ(*loaded, (json{{"v", 2}}));
}

TEST_F(RepoChecksummedJson, MainPreferredOverCopy) {
    put("info", serializeChecksummed(json{{"v", "main"}}));
    put("info.copy", serializeChecksummed(json{{"v", "copy"}}));
    EXPECT_EQ(*loadChecksummed(s(), "info"), (json{{"v", "main"}}));
}

TEST_F(RepoChecksummedJson, BothDamagedIsError) {
    saveChecksummed(s(), "info", json{{"v", "value"}});
    for (const char* name : {"info", "info.copy"}) {
        std::string text = get(name);
        text[text.find("value")] = 'V';
        put(name, text);
    }
    Error e = errorOf([&] { loadChecksummed(s(), "info"); });
    EXPECT_EQ(e.code(), ErrorCode::Checksum);
    EXPECT_TRUE(has(e.what(), root_ + "/info'")) << e.what();
}

TEST_F(RepoChecksummedJson, DamagedMainWithoutCopyIsError) {
    put("info", "{\"v\":1}");
    EXPECT_EQ(errorOf([&] { loadChecksummed(s(), "info"); }).code(), ErrorCode::Format);
}

TEST_F(RepoChecksummedJson, NeitherPresentIsNullopt) {
    EXPECT_FALSE(loadChecksummed(s(), "info"));
    EXPECT_FALSE(loadChecksummed(s(), "no/such/dir/info"));
}

}  // namespace
}  // namespace backrest::repo
