// The contract of the common storage operations (storage/storage.h), run against every driver of
// test/unit/storage_drivers.h: what repository code may rely on wherever the repository lives.
// A driver whose server is not running here is skipped, saying why.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "io/sha256.h"
#include "storage/storage.h"
#include "storage_drivers.h"
#include "test/unit/test_support.h"

namespace backrest::storage {
namespace {

using backrest::test::errorOf;
using backrest::test::has;

class StorageContract : public ::testing::TestWithParam<test::DriverMaker> {
  protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        std::string name = std::string("contract-") + info->name();
        std::replace(name.begin(), name.end(), '/', '-');
        auto made = GetParam().make(name);
        if (!made.storage) GTEST_SKIP() << GetParam().name << ": " << made.skipReason;
        storage_ = std::move(made.storage);
    }

    Storage& s() { return *storage_; }

    static std::string bytesOf(size_t size, uint32_t seed) {
        std::mt19937 gen(seed);
        std::string out(size, '\0');
        for (auto& c : out) c = static_cast<char>(gen());
        return out;
    }
    std::string readRange(const std::string& path, ReadRange range) {
        auto in = s().openRead(path, false, range);
        std::string out;
        std::vector<uint8_t> buf(7777);  // not a divisor of anything below: reads end mid-range
        for (size_t n; (n = in->read(buf)) > 0;)
            out.append(reinterpret_cast<const char*>(buf.data()), n);
        return out;
    }
    // Byte strings compared without printing them: the sizes and the first difference.
    static ::testing::AssertionResult same(const std::string& got, const std::string& want) {
        if (got == want) return ::testing::AssertionSuccess();
        size_t at = 0;
        while (at < got.size() && at < want.size() && got[at] == want[at]) at++;
        return ::testing::AssertionFailure() << got.size() << " bytes read, " << want.size()
                                             << " expected; first difference at " << at;
    }
    std::map<std::string, FileType> names(const std::string& path, bool ignoreMissing = true) {
        std::map<std::string, FileType> out;
        for (const auto& e : s().list(path, ignoreMissing)) out[e.name] = e.type;
        return out;
    }

    std::unique_ptr<Storage> storage_;
};

TEST_P(StorageContract, TheNameAppearsOnlyAtCloseAndAnUnclosedWriterLeavesNothing) {
    {
        auto out = s().openWrite("dir/abandoned");
        out->write({reinterpret_cast<const uint8_t*>("partial"), 7});
    }
    EXPECT_FALSE(s().info("dir/abandoned"));
    EXPECT_FALSE(names("dir").contains("abandoned"));
    EXPECT_FALSE(s().openRead("dir/abandoned", true));

    auto out = s().openWrite("dir/file");
    out->write({reinterpret_cast<const uint8_t*>("complete"), 8});
    EXPECT_FALSE(s().info("dir/file")) << "visible before close";
    EXPECT_FALSE(names("dir").contains("file")) << "listed before close";
    out->close();
    auto info = s().info("dir/file");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->type, FileType::File);
    EXPECT_EQ(info->size, 8u);
    EXPECT_EQ(readAll(s(), "dir/file"), "complete");
    EXPECT_EQ(names("dir"), (std::map<std::string, FileType>{{"file", FileType::File}}));

    // Written again: the new bytes replace the old whole, at close.
    auto again = s().openWrite("dir/file");
    again->write({reinterpret_cast<const uint8_t*>("second version"), 14});
    EXPECT_EQ(readAll(s(), "dir/file"), "complete");
    again->close();
    EXPECT_EQ(readAll(s(), "dir/file"), "second version");
}

TEST_P(StorageContract, RangedReadsAndSeekInsideARange) {
    std::string bytes = bytesOf(100000, 1);
    writeAll(s(), "ranged", bytes);
    EXPECT_TRUE(same(readRange("ranged", {}), bytes));
    EXPECT_TRUE(
        same(readRange("ranged", {.offset = 12345, .length = std::nullopt}), bytes.substr(12345)));
    EXPECT_TRUE(
        same(readRange("ranged", {.offset = 12345, .length = 20000}), bytes.substr(12345, 20000)));
    EXPECT_TRUE(same(readRange("ranged", {.offset = 0, .length = 1}), bytes.substr(0, 1)));
    // A range past the end is cut short (whoever counts the bytes finds it), never an error.
    EXPECT_TRUE(same(readRange("ranged", {.offset = 90000, .length = 20000}), bytes.substr(90000)));
    EXPECT_EQ(readRange("ranged", {.offset = 100000, .length = 10}), "");
    EXPECT_EQ(readRange("ranged", {.offset = 200000, .length = std::nullopt}), "");

    // seek() inside a range is relative to it, and the range's end still holds.
    auto in = s().openRead("ranged", false, {.offset = 5000, .length = 3000});
    std::vector<uint8_t> buf(10000);
    in->seek(1000);
    size_t n = in->read(buf);
    EXPECT_TRUE(same(std::string(reinterpret_cast<const char*>(buf.data()), n).substr(0, n),
                     bytes.substr(6000, n)));
    std::string rest(reinterpret_cast<const char*>(buf.data()), n);
    for (size_t m; (m = in->read(buf)) > 0;)
        rest.append(reinterpret_cast<const char*>(buf.data()), m);
    EXPECT_TRUE(same(rest, bytes.substr(6000, 2000)));
    in->seek(2999);
    rest.clear();
    for (size_t m; (m = in->read(buf)) > 0;)
        rest.append(reinterpret_cast<const char*>(buf.data()), m);
    EXPECT_TRUE(same(rest, bytes.substr(7999, 1)));

    // A range with only an offset: seek is relative to it as well.
    auto open = s().openRead("ranged", false, {.offset = 40000, .length = std::nullopt});
    open->seek(10);
    rest.clear();
    for (size_t m; (m = open->read(buf)) > 0;)
        rest.append(reinterpret_cast<const char*>(buf.data()), m);
    EXPECT_TRUE(same(rest, bytes.substr(40010)));
}

TEST_P(StorageContract, AnEmptyFileIsAFile) {
    writeAll(s(), "empty", "");
    auto info = s().info("empty");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->type, FileType::File);
    EXPECT_EQ(info->size, 0u);
    EXPECT_EQ(readAll(s(), "empty"), "");
    EXPECT_EQ(readRange("empty", {.offset = 0, .length = 100}), "");
    EXPECT_EQ(names(""), (std::map<std::string, FileType>{{"empty", FileType::File}}));
}

// More than 20 MiB: an object store uploads it in parts (multipart, blocks).
TEST_P(StorageContract, ALargeFileComesBackWhole) {
    constexpr size_t kSize = 21 * 1024 * 1024 + 4321;
    std::string bytes = bytesOf(kSize, 2);
    auto out = s().openWrite("large/file");
    for (size_t at = 0; at < kSize; at += 1000003)
        out->write({reinterpret_cast<const uint8_t*>(bytes.data() + at),
                    std::min<size_t>(1000003, kSize - at)});
    out->close();
    EXPECT_EQ(s().info("large/file")->size, kSize);
    std::string back = readAll(s(), "large/file");
    EXPECT_EQ(back.size(), kSize);
    EXPECT_EQ(io::sha256Hex(back), io::sha256Hex(bytes));
    EXPECT_EQ(readRange("large/file", {.offset = kSize - 5000000, .length = 4000000}),
              bytes.substr(kSize - 5000000, 4000000));
}

TEST_P(StorageContract, ListGivesOneLevelWithPathsForDeeperFiles) {
    writeAll(s(), "top/a", "a");
    writeAll(s(), "top/dir/b", "bb");
    writeAll(s(), "top/dir/sub/c", "ccc");
    writeAll(s(), "top/other/deep/er/d", "d");
    EXPECT_EQ(names("top"),
              (std::map<std::string, FileType>{
                  {"a", FileType::File}, {"dir", FileType::Path}, {"other", FileType::Path}}));
    EXPECT_EQ(names("top/dir"),
              (std::map<std::string, FileType>{{"b", FileType::File}, {"sub", FileType::Path}}));
    for (const auto& e : s().list("top/dir"))
        if (e.name == "b") {
            EXPECT_EQ(e.size, 2u);
        }
    EXPECT_EQ(names("top/missing"), (std::map<std::string, FileType>{}));
    Error e = errorOf([&] { s().list("top/missing", false); });
    EXPECT_EQ(e.code(), ErrorCode::FileMissing);
    EXPECT_TRUE(has(e.what(), s().fullPath("top/missing"))) << e.what();
    // A name that only starts like a path is not under it.
    writeAll(s(), "top/dirt", "x");
    EXPECT_EQ(names("top/dir").size(), 2u);
}

// archive-get lists a WAL directory by the segment's name: "<segment>-" gives that segment's
// files only, never its neighbours (…01 is a prefix of …010), nor what lies deeper.
TEST_P(StorageContract, ListPrefixGivesOnlyNamesStartingWithIt) {
    const std::string dir = "wal/0000000100000000";
    writeAll(s(), dir + "/000000010000000000000001-" + std::string(64, 'a') + ".zst", "one");
    writeAll(s(), dir + "/000000010000000000000010-" + std::string(64, 'b') + ".zst", "ten");
    writeAll(s(), dir + "/000000010000000000000001.partial-x", "p");
    writeAll(s(), dir + "/000000010000000000000001-sub/deeper", "d");
    std::map<std::string, FileType> got;
    for (const auto& e : s().listPrefix(dir, "000000010000000000000001-")) got[e.name] = e.type;
    EXPECT_EQ(got,
              (std::map<std::string, FileType>{
                  {"000000010000000000000001-" + std::string(64, 'a') + ".zst", FileType::File},
                  {"000000010000000000000001-sub", FileType::Path}}));
    for (const auto& e : s().listPrefix(dir, "000000010000000000000001-")) {
        if (e.type == FileType::File) {
            EXPECT_EQ(e.size, 3u);
        }
    }
    EXPECT_TRUE(s().listPrefix(dir, "000000010000000000000002-").empty());
    EXPECT_TRUE(s().listPrefix("wal/missing", "000000010000000000000001-").empty());
    EXPECT_EQ(s().listPrefix(dir, "").size(), names(dir).size());
}

TEST_P(StorageContract, InfoOfFilePathAndMissing) {
    writeAll(s(), "holder/file", "12345");
    auto file = s().info("holder/file");
    ASSERT_TRUE(file);
    EXPECT_EQ(file->type, FileType::File);
    EXPECT_EQ(file->size, 5u);
    EXPECT_GT(file->mtime, 0);
    auto path = s().info("holder");
    ASSERT_TRUE(path);
    EXPECT_EQ(path->type, FileType::Path);
    EXPECT_FALSE(s().info("holder/missing"));
    EXPECT_FALSE(s().info("missing/entirely"));
    EXPECT_FALSE(s().info("hold"));  // a prefix of a name is no path
}

TEST_P(StorageContract, RemoveOfAMissingFileIsQuietUnlessAsked) {
    writeAll(s(), "gone", "x");
    s().remove("gone");
    EXPECT_FALSE(s().info("gone"));
    EXPECT_NO_THROW(s().remove("gone"));
    Error e = errorOf([&] { s().remove("gone", true); });
    EXPECT_EQ(e.code(), ErrorCode::FileMissing);
    EXPECT_TRUE(has(e.what(), s().fullPath("gone"))) << e.what();
}

// More than 1000 files: an object store deletes them in several batches.
TEST_P(StorageContract, RecursiveRemovePathRemovesATreeOfManyFiles) {
    for (int i = 0; i < 1050; i++) writeAll(s(), fmt::format("tree/{}/f{}", i % 7, i), "");
    writeAll(s(), "tree/top", "t");
    writeAll(s(), "treehouse/kept", "k");  // shares the prefix "tree", not the path
    EXPECT_EQ(names("tree").size(), 8u);
    s().removePath("tree", true);
    EXPECT_FALSE(s().info("tree"));
    EXPECT_TRUE(names("tree").empty());
    EXPECT_EQ(readAll(s(), "treehouse/kept"), "k");
    EXPECT_NO_THROW(s().removePath("tree", true));  // missing: no error
}

TEST_P(StorageContract, NamesWithSpacesPlusAndPercent) {
    const std::string name = "odd dir+x/a b+c%41%2F&=.txt";
    writeAll(s(), name, "odd");
    EXPECT_EQ(readAll(s(), name), "odd");
    EXPECT_EQ(names("odd dir+x"),
              (std::map<std::string, FileType>{{"a b+c%41%2F&=.txt", FileType::File}}));
    EXPECT_EQ(names(""), (std::map<std::string, FileType>{{"odd dir+x", FileType::Path}}));
    EXPECT_EQ(s().info(name)->size, 3u);
    s().remove(name, true);
    EXPECT_FALSE(s().info(name));
}

TEST_P(StorageContract, AMissingFileIsNamed) {
    Error e = errorOf([&] { s().openRead("no/such file"); });
    EXPECT_EQ(e.code(), ErrorCode::FileMissing);
    EXPECT_TRUE(has(e.what(), s().fullPath("no/such file"))) << e.what();
    EXPECT_EQ(s().openRead("no/such file", true), nullptr);
    EXPECT_FALSE(readAllIfExists(s(), "no/such file"));
    e = errorOf([&] { readAll(s(), "no/such file"); });
    EXPECT_EQ(e.code(), ErrorCode::FileMissing);
}

INSTANTIATE_TEST_SUITE_P(Drivers, StorageContract, ::testing::ValuesIn(test::storageDrivers()),
                         [](const ::testing::TestParamInfo<test::DriverMaker>& p) {
                             return p.param.name;
                         });

}  // namespace
}  // namespace backrest::storage
