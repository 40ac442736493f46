// What the commands derive from their options (worker/context.h): a malformed value is an
// OptionError naming the option and the value, a repository another user owns is refused before
// anything is written, and archive-timeout names the segment that never came.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"
#include "repo/layout.h"
#include "storage/posix.h"
#include "test/unit/temp_dir.h"
#include "test/unit/test_support.h"
#include "worker/context.h"

namespace backrest::cmd {
namespace {

using test::errorOf;
using test::has;

class WorkerContext : public ::testing::Test {
  protected:
    // `command` with `args`, an empty config file and an empty environment, so neither the
    // machine's /etc/backrest nor its environment leaks in.
    Config config(std::vector<std::string> args, const std::string& command = "backup") {
        test::writeFile(dir_ / "empty.conf", "");
        std::vector<std::string> all{"--config=" + (dir_ / "empty.conf"), command};
        all.insert(all.end(), args.begin(), args.end());
        std::vector<const char*> argv{"backrest"};
        for (const auto& a : all) argv.push_back(a.c_str());
        const char* const envp[] = {nullptr};
        return Config::parse(static_cast<int>(argv.size()), argv.data(), envp);
    }

    test::TempDir dir_{"worker-context"};
};

constexpr const char* kSegment = "000000010000000000000003";

}  // namespace

TEST_F(WorkerContext, PgPathMustBeAbsoluteAndLosesTrailingSlashes) {
    EXPECT_EQ(pgPath(config({"--pg1-path=/var/lib/postgresql/15/main//"})),
              "/var/lib/postgresql/15/main");
    EXPECT_EQ(pgPath(config({"--pg1-path=/"})), "/");
    Error e = errorOf([&] { pgPath(config({"--pg1-path=pgdata"})); });
    EXPECT_EQ(e.code(), ErrorCode::Option);
    EXPECT_EQ(std::string(e.what()), "option 'pg1-path' must be an absolute path, not 'pgdata'");
}

TEST_F(WorkerContext, StanzaNameCannotLeaveItsDirectory) {
    EXPECT_EQ(stanzaLayout(config({"--stanza=main-15_a"})).stanza, "main-15_a");
    for (const char* bad : {"../other", "a/b", ".hidden", "two words", "tab\tbed"}) {
        Error e = errorOf([&] { stanzaLayout(config({std::string("--stanza=") + bad})); });
        EXPECT_EQ(e.code(), ErrorCode::Option) << bad;
        EXPECT_EQ(std::string(e.what()), std::string("invalid stanza name '") + bad +
                                             "': use letters, digits, '-' and '_'");
    }
}

TEST_F(WorkerContext, BufferSizeOutsideItsRangeNamesTheOption) {
    EXPECT_EQ(transferOptions(config({"--buffer-size=16384"})).bufferSize, 16384u);
    EXPECT_EQ(transferOptions(config({})).bufferSize, 1048576u);                      // the default
    EXPECT_EQ(transferOptions(config({"--buffer-size=4MiB"})).bufferSize, 4u << 20);  // units
    // Under the floor: the option parses (a size from 1 byte) and the transfer refuses it.
    Error low = errorOf([&] { transferOptions(config({"--buffer-size=16383"})); });
    EXPECT_EQ(low.code(), ErrorCode::Option);
    EXPECT_EQ(std::string(low.what()),
              "option 'buffer-size' must be between 16384 and 67108864, not 16383");
    // Over the ceiling: refused while parsing, naming the option and where it came from.
    Error high = errorOf([&] { transferOptions(config({"--buffer-size=67108865"})); });
    EXPECT_EQ(high.code(), ErrorCode::Option);
    EXPECT_EQ(std::string(high.what()),
              "invalid value '67108865' for option 'buffer-size' (from command line): expected a "
              "size from 1 to 67108864 bytes");
}

TEST_F(WorkerContext, BundleLimitAboveBundleSizeIsRefusedOnlyWhenBundling) {
    auto settings = bundleSettings(config({"--repo1-bundle-limit=1MiB"}));  // bundling: default
    EXPECT_TRUE(settings.enabled);
    EXPECT_EQ(settings.limit, 1u << 20);
    EXPECT_EQ(settings.size, 8u << 20);
    Error e = errorOf([&] {
        bundleSettings(
            config({"--repo1-bundle", "--repo1-bundle-size=1MiB", "--repo1-bundle-limit=2MiB"}));
    });
    EXPECT_EQ(e.code(), ErrorCode::Option);
    EXPECT_EQ(std::string(e.what()),
              "option 'repo1-bundle-limit' (2097152 bytes) is larger than 'repo1-bundle-size' "
              "(1048576 bytes)");
    // Not bundling: the limit means nothing, so nothing to refuse.
    EXPECT_FALSE(bundleSettings(config({"--no-repo1-bundle", "--repo1-bundle-size=1MiB",
                                        "--repo1-bundle-limit=2MiB"}))
                     .enabled);
}

TEST_F(WorkerContext, FormatBytes) {
    EXPECT_EQ(formatBytes(0), "0 B");
    EXPECT_EQ(formatBytes(1023), "1023 B");
    EXPECT_EQ(formatBytes(1024), "1.0 KiB");
    EXPECT_EQ(formatBytes(1536), "1.5 KiB");
    EXPECT_EQ(formatBytes(uint64_t(1) << 30), "1.0 GiB");
    EXPECT_EQ(formatBytes(uint64_t(5) << 40), "5.0 TiB");
    EXPECT_EQ(formatBytes(uint64_t(1) << 50), "1024.0 TiB");  // TiB is the largest unit
}

TEST_F(WorkerContext, FormatTimestampIsUtc) {
    EXPECT_EQ(formatTimestamp(0), "1970-01-01 00:00:00+00");
    EXPECT_EQ(formatTimestamp(1795305599), "2026-11-21 23:59:59+00");
}

TEST_F(WorkerContext, WaitForArchiveNamesTheMissingSegment) {
    storage::PosixStorage repo(dir_.path());
    repo::Layout layout{"main", nullptr};
    // The first segment is there, the second never comes.
    storage::writeAll(
        repo,
        layout.walDir("15-1", kSegment) + "/" + kSegment + "-" + std::string(64, 'a') + ".zst",
        "stored");
    waitForArchive(repo, layout, "15-1", {kSegment}, 0, "backup");
    Error e = errorOf([&] {
        waitForArchive(repo, layout, "15-1", {kSegment, "000000010000000000000004"}, 0,
                       "backup 20261121-235959F");
    });
    EXPECT_EQ(e.code(), ErrorCode::ArchiveTimeout);
    EXPECT_TRUE(has(e.what(),
                    "backup 20261121-235959F: WAL segment 000000010000000000000004 was not "
                    "archived within archive-timeout (0 s)"))
        << e.what();
}

// Files root wrote into a postgres-owned repository would be unreadable to postgres: a command
// that writes refuses to run as another user than the repository's owner; one that reads may.
TEST_F(WorkerContext, WritingCommandRefusesARepositoryOfAnotherUser) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to give the repository to another user";
    std::string repoPath = dir_ / "repo";
    ASSERT_EQ(::mkdir(repoPath.c_str(), 0750), 0);
    ASSERT_EQ(::chown(repoPath.c_str(), 65534, 65534), 0);
    Config cfg = config({"--repo1-path=" + repoPath});
    EXPECT_NE(openRepoStorage(cfg, RepoAccess::Read), nullptr);
    Error e = errorOf([&] { openRepoStorage(cfg, RepoAccess::Write); });
    EXPECT_EQ(e.code(), ErrorCode::RepoOwner);
    EXPECT_TRUE(has(e.what(), "backup: repository '" + repoPath + "' belongs to user '"))
        << e.what();
    EXPECT_TRUE(has(e.what(), "not 'root' who runs this command")) << e.what();
    EXPECT_TRUE(has(e.what(), "... backup'")) << e.what();
    // Root's lock files go to the repository's owner.
    auto owner = lockOwner(cfg);
    ASSERT_TRUE(owner.has_value());
    EXPECT_EQ(owner->uid, 65534u);
    EXPECT_EQ(owner->gid, 65534u);
}

TEST_F(WorkerContext, WritingCommandNeedsAnAbsoluteRepoPath) {
    Config cfg = config({"--repo1-path=relative/repo"});
    Error e = errorOf([&] { openRepoStorage(cfg, RepoAccess::Write); });
    EXPECT_EQ(e.code(), ErrorCode::Option);
    EXPECT_TRUE(has(e.what(), "option 'repo1-path' must be an absolute path, not 'relative/repo'"))
        << e.what();
}

}  // namespace backrest::cmd
