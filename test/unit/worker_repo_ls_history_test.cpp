// A timeline history file as repo-ls lists it and repo-get reads it: by the name PostgreSQL gave
// it (<tl>.history, as pgBackRest stores it), the stored <tl>.history-<sha256> kept in "stored".
// check_pgbackrest finds a timeline's switch point only under that name.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <utime.h>

#include <fstream>
#include <string>

#include "config_support.h"
#include "storage/posix.h"
#include "temp_dir.h"
#include "worker/commands.h"
#include "worker/repo_ls.h"

namespace backrest::cmd {
namespace {

const std::string kSha(64, 'c');
const std::string kHistory = "1\t0/3000000\tno recovery target\n";

class RepoLsHistory : public ::testing::Test {
  protected:
    void SetUp() override {
        file("archive/main/15-1/0000000200000000/000000020000000000000004-" + kSha + ".zst", "wal");
        file("archive/main/15-1/00000002.history-" + kSha, kHistory);
        file("archive/main/15-1/00000003.history-" + kSha + ".bad-1700000000", "damaged");
    }
    void file(const std::string& path, const std::string& content) {
        std::string full = dir / path;
        std::filesystem::create_directories(std::filesystem::path(full).parent_path());
        std::ofstream(full) << content;
        struct utimbuf t = {1700000000, 1700000000};
        ::utime(full.c_str(), &t);
    }
    std::string list(const std::string& path, RepoListOptions options) {
        std::string out;
        listRepo(repo, path, options, [&](std::string_view s) { out += s; });
        return out;
    }
    test::TempDir dir{"repo-ls-history"};
    storage::PosixStorage repo{dir.path()};
};

TEST(HistoryFileName, OnlyAStoredHistoryFileAtAnArchiveIdRoot) {
    EXPECT_EQ(historyFileName("archive/main/15-1/00000002.history-" + kSha), "00000002.history");
    EXPECT_EQ(historyFileName("archive/main/15-1/0000000A.history-" + kSha), "0000000A.history");
    EXPECT_EQ(historyFileName("archive/main/15-1/00000002.history-" + kSha + ".bad-1"),
              std::nullopt);
    EXPECT_EQ(historyFileName("archive/main/15-1/00000002.history-bb"), std::nullopt);
    EXPECT_EQ(historyFileName("archive/main/15-1/00000002.history"), std::nullopt);
    EXPECT_EQ(historyFileName("archive/main/15-1/0000000200000000/00000002.history-" + kSha),
              std::nullopt);
    EXPECT_EQ(historyFileName("backup/main/15-1/00000002.history-" + kSha), std::nullopt);
}

TEST_F(RepoLsHistory, ListedByItsWalNameWithTheStoredNameInJson) {
    EXPECT_EQ(list("archive/main/15-1", {}),
              "00000002.history\n0000000200000000\n00000003.history-" + kSha + ".bad-1700000000\n");
    std::string json = list("archive/main/15-1", {.json = true, .recurse = true});
    EXPECT_NE(json.find("\"00000002.history\":{\"type\":\"file\",\"size\":" +
                        std::to_string(kHistory.size()) +
                        ",\"time\":1700000000,\"stored\":\"00000002.history-" + kSha + "\"}"),
              std::string::npos)
        << json;
    EXPECT_NE(json.find("\"0000000200000000/000000020000000000000004-" + kSha +
                        ".zst\":{\"type\":\"file\",\"size\":3,\"time\":1700000000}"),
              std::string::npos)
        << json;
    // check_pgbackrest's own pattern for it: /<tl>.history$/ on the last part of the name.
    EXPECT_EQ(list("archive/main/15-1", {.filter = "00000002.history$"}), "00000002.history\n");
}

TEST_F(RepoLsHistory, RepoGetReadsItByEitherName) {
    auto get = [&](const std::string& path) {
        Config config = test::parseConfig(
            {"--config=/dev/null", "--repo1-path=" + dir.path(), "repo-get", path});
        ::testing::internal::CaptureStdout();
        int status = repoGet(config);
        std::string out = ::testing::internal::GetCapturedStdout();
        EXPECT_EQ(status, 0) << path;
        return out;
    };
    EXPECT_EQ(get("archive/main/15-1/00000002.history"), kHistory);
    EXPECT_EQ(get("archive/main/15-1/00000002.history-" + kSha), kHistory);
    Config missing =
        test::parseConfig({"--config=/dev/null", "--repo1-path=" + dir.path(), "--ignore-missing",
                           "repo-get", "archive/main/15-1/00000004.history"});
    EXPECT_EQ(repoGet(missing), 1);
}

}  // namespace
}  // namespace backrest::cmd
