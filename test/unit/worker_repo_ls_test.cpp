// repo-ls's listing (worker/repo_ls.h) on a posix repository: pgBackRest 2.45's text and JSON,
// the tree order and its reverse, the filter, and the repository-relative paths it accepts.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <utime.h>

#include <fstream>
#include <string>

#include "common/error.h"
#include "storage/posix.h"
#include "temp_dir.h"
#include "worker/repo_ls.h"

namespace backrest::cmd {
namespace {

class RepoLs : public ::testing::Test {
  protected:
    void SetUp() override {
        file("archive/main/archive.info", "abc");
        file("archive/main/15-1/0000000100000000/000000010000000000000001-aa.zst", "12345");
        file("archive/main/15-1/00000002.history-bb", "1\t0/3000000\tno recovery target\n");
        file("archive/main-2/archive.info", "x");
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
    test::TempDir dir{"repo-ls"};
    storage::PosixStorage repo{dir.path()};
};

TEST_F(RepoLs, TextListsOneLevelSortedByName) {
    EXPECT_EQ(list("archive", {}), "main\nmain-2\n");
    EXPECT_EQ(list("archive/main", {}), "15-1\narchive.info\n");
}

TEST_F(RepoLs, JsonHasTheDotEntryAndFileSizeAndTime) {
    EXPECT_EQ(list("archive/main", {.json = true}),
              "{\".\":{\"type\":\"path\"},\"15-1\":{\"type\":\"path\"},"
              "\"archive.info\":{\"type\":\"file\",\"size\":3,\"time\":1700000000}}\n");
}

TEST_F(RepoLs, RecurseGivesRelativeNamesInTreeOrder) {
    EXPECT_EQ(list("archive/main/15-1", {.recurse = true}),
              "0000000100000000\n0000000100000000/000000010000000000000001-aa.zst\n"
              "00000002.history-bb\n");
}

TEST_F(RepoLs, DescIsTheExactReverseOfAsc) {
    EXPECT_EQ(list("archive/main/15-1", {.recurse = true, .order = ListOrder::Desc}),
              "00000002.history-bb\n0000000100000000/000000010000000000000001-aa.zst\n"
              "0000000100000000\n");
}

TEST_F(RepoLs, FilterKeepsMatchingNamesOnly) {
    EXPECT_EQ(list("archive/main/15-1", {.filter = "history", .recurse = true}),
              "00000002.history-bb\n");
    EXPECT_EQ(list("archive", {.json = true, .filter = "^main$"}),
              "{\"main\":{\"type\":\"path\"}}\n");
    EXPECT_THROW(list("archive", {.filter = "("}), Error);
}

TEST_F(RepoLs, AFileIsListedAsDot) {
    EXPECT_EQ(list("archive/main/archive.info", {.json = true}),
              "{\".\":{\"type\":\"file\",\"size\":3,\"time\":1700000000}}\n");
    EXPECT_EQ(list("archive/main/archive.info", {}), ".\n");
}

TEST_F(RepoLs, AMissingPathIsAnEmptyPath) {
    EXPECT_EQ(list("backup/none", {.json = true}), "{\".\":{\"type\":\"path\"}}\n");
    EXPECT_EQ(list("backup/none", {}), "");
}

TEST_F(RepoLs, TheRootListsTheTopLevel) {
    EXPECT_EQ(list("", {}), "archive\n");
}

TEST(RepoRelativePath, AcceptsRelativeAndAbsoluteUnderTheRepository) {
    EXPECT_EQ(repoRelativePath("archive/main/", "/repo"), "archive/main");
    EXPECT_EQ(repoRelativePath("/repo/backup/main", "/repo"), "backup/main");
    EXPECT_EQ(repoRelativePath("/repo", "/repo/"), "");
    EXPECT_EQ(repoRelativePath("", "/repo"), "");
    try {
        repoRelativePath("/elsewhere/x", "/repo");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Command);
        EXPECT_NE(std::string(e.what()).find("'/elsewhere/x' is not in base path '/repo'"),
                  std::string::npos);
    }
    EXPECT_THROW(repoRelativePath("archive//main", "/repo"), Error);
    EXPECT_THROW(repoRelativePath("/repository/x", "/repo"), Error);
}

}  // namespace
}  // namespace backrest::cmd
