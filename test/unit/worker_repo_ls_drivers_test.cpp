// repo-ls (worker/repo_ls.h) on every storage driver: the same listing of the same files, names,
// types and sizes, whether the repository is a directory, a bucket, a container or an SFTP path.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "storage/storage.h"
#include "storage_drivers.h"
#include "worker/repo_ls.h"

namespace backrest::cmd {
namespace {

class RepoLsDrivers : public ::testing::TestWithParam<test::DriverMaker> {
  protected:
    void SetUp() override {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        std::string name = std::string("repo-ls-") + info->name();
        std::replace(name.begin(), name.end(), '/', '-');
        auto made = GetParam().make(name);
        if (!made.storage) GTEST_SKIP() << GetParam().name << ": " << made.skipReason;
        repo_ = std::move(made.storage);
        storage::writeAll(*repo_, "archive/main/archive.info", "abc");
        storage::writeAll(*repo_, "archive/main/15-1/0000000100000000/000000010000000000000001-a",
                          "12345");
    }
    std::string list(const std::string& path, RepoListOptions options) {
        std::string out;
        listRepo(*repo_, path, options, [&](std::string_view s) { out += s; });
        return out;
    }
    std::unique_ptr<storage::Storage> repo_;
};

TEST_P(RepoLsDrivers, RecursiveTextListing) {
    EXPECT_EQ(list("archive", {.recurse = true}),
              "main\nmain/15-1\nmain/15-1/0000000100000000\n"
              "main/15-1/0000000100000000/000000010000000000000001-a\nmain/archive.info\n");
}

TEST_P(RepoLsDrivers, JsonGivesTypesAndSizes) {
    std::string out = list("archive/main/15-1/0000000100000000", {.json = true});
    EXPECT_TRUE(
        out.starts_with("{\".\":{\"type\":\"path\"},\"000000010000000000000001-a\":{"
                        "\"type\":\"file\",\"size\":5,\"time\":"))
        << out;
    EXPECT_EQ(list("archive/main", {.json = true, .filter = "^15"}),
              "{\"15-1\":{\"type\":\"path\"}}\n");
    EXPECT_EQ(list("archive/none", {.json = true}), "{\".\":{\"type\":\"path\"}}\n");
}

INSTANTIATE_TEST_SUITE_P(Drivers, RepoLsDrivers, ::testing::ValuesIn(test::storageDrivers()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace backrest::cmd
