// Several repositories: repo2-* .. repo4-* parsed as repo1-*, each repository's view of the
// options, which repositories a command works on, and what a failing repository does.
#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "common/error.h"
#include "config_support.h"
#include "temp_dir.h"
#include "worker/info.h"
#include "worker/multi_repo.h"

namespace backrest {
namespace {

using test::errorMessage;
using test::parseConfig;

Config twoRepos(std::vector<std::string> more = {}) {
    std::vector<std::string> args{"--config=/dev/null", "--stanza=main", "--repo1-path=/r1",
                                  "--repo2-path=/r2", "--repo2-retention-full=3"};
    for (auto& a : more) args.push_back(a);
    args.push_back("info");
    return parseConfig(args);
}

TEST(MultiRepoOptions, EveryRepo1OptionExistsForRepo2To4WithItsTypeAndDefault) {
    for (const OptionDef& def : optionDefs()) {
        if (!def.name.starts_with("repo1-")) continue;
        for (int index = 2; index <= kRepoMax; index++) {
            std::string name = fmt::format("repo{}{}", index, def.name.substr(5));
            const OptionDef* copy = findOptionDef(name);
            ASSERT_NE(copy, nullptr) << name;
            EXPECT_EQ(copy->type, def.type) << name;
            EXPECT_EQ(copy->defaultValue, def.defaultValue) << name;
            EXPECT_EQ(copy->allowed, def.allowed) << name;
            EXPECT_EQ(copy->secret, def.secret) << name;
            EXPECT_TRUE(copy->commands.empty()) << name;  // help lists the repo1 row
        }
    }
    EXPECT_EQ(findOptionDef("repo5-path"), nullptr);
}

TEST(MultiRepoOptions, ValuesAreCheckedAsRepo1sNamingTheOption) {
    EXPECT_NE(errorMessage([] {
                  parseConfig({"--config=/dev/null", "--repo3-type=gcs", "info"});
              }).find("'repo3-type'"),
              std::string::npos);
    EXPECT_NE(errorMessage([] {
                  parseConfig({"--config=/dev/null", "--repo=5", "info"});
              }).find("'repo'"),
              std::string::npos);
    // A secret of repo2 is refused on the command line as repo1's is.
    EXPECT_NE(errorMessage([] {
                  parseConfig({"--config=/dev/null", "--repo2-cipher-pass=x", "info"});
              }).find("'repo2-cipher-pass' is a secret"),
              std::string::npos);
}

TEST(MultiRepoOptions, Repo5AndRepo2sForeignOptionsAreRefusedByName) {
    std::string five = errorMessage([] {
        parseConfig({"--config=/dev/null", "--repo5-path=/r5", "info"});
    });
    EXPECT_NE(five.find("option 'repo5-path'"), std::string::npos) << five;
    EXPECT_NE(five.find("repo1 to repo4"), std::string::npos) << five;
    std::string host = errorMessage([] {
        parseConfig({"--config=/dev/null", "--repo2-host=b", "info"});
    });
    EXPECT_NE(host.find("'repo2-host'"), std::string::npos) << host;
}

TEST(MultiRepoOptions, EnvironmentAndConfigFileSetRepo2) {
    auto dir = std::filesystem::temp_directory_path() / "backrest-multi-repo-test";
    std::string conf = test::writeFile((dir / "b.conf").string(),
                                       "[global]\nrepo2-path=/from-file\n[main]\nrepo3-path=/r3\n");
    Config c = parseConfig({"--config=" + conf, "--stanza=main", "info"},
                           {"PGBACKREST_REPO4_PATH=/from-env"});
    EXPECT_EQ(c.getString("repo2-path"), "/from-file");
    EXPECT_EQ(c.getString("repo4-path"), "/from-env");
    EXPECT_EQ(c.repoIndexes(), (std::vector<int>{2, 3, 4}));
    std::filesystem::remove_all(dir);
}

TEST(MultiRepoOptions, ConfiguredRepositoriesAreThoseWithAnOptionSet) {
    EXPECT_EQ(parseConfig({"--config=/dev/null", "info"}).repoIndexes(), std::vector<int>{1});
    EXPECT_EQ(twoRepos().repoIndexes(), (std::vector<int>{1, 2}));
    // repo2 alone: repo1's defaults do not make a repository of /var/lib/backrest.
    EXPECT_EQ(parseConfig({"--config=/dev/null", "--repo2-path=/r2", "info"}).repoIndexes(),
              std::vector<int>{2});
}

TEST(MultiRepoOptions, ARepositorysViewReadsItsOptionsUnderRepo1sNames) {
    Config c = twoRepos({"--process-max=3"});
    Config two = c.forRepo(2);
    EXPECT_EQ(two.repoIndex(), 2);
    EXPECT_EQ(two.getString(opt::repo1Path), "/r2");
    EXPECT_EQ(two.getInt(opt::repo1RetentionFull), 3);
    EXPECT_EQ(two.getInt(opt::processMax), 3);
    EXPECT_EQ(two.getString(opt::repo1Type), "posix");  // repo2-type's default
    Config one = c.forRepo(1);
    EXPECT_EQ(one.getString(opt::repo1Path), "/r1");
    EXPECT_FALSE(one.find(opt::repo1RetentionFull));  // repo2's retention is not repo1's
    // A view of a view starts from the whole configuration.
    EXPECT_EQ(two.forRepo(1).getString(opt::repo1Path), "/r1");
    // Arguments passed on (restore_command) still name every repository.
    auto args = two.passThroughArgs();
    EXPECT_NE(std::find(args.begin(), args.end(), "--repo1-path=/r1"), args.end());
    EXPECT_NE(std::find(args.begin(), args.end(), "--repo2-path=/r2"), args.end());
}

TEST(MultiRepoSelection, RepoOptionPicksOneConfiguredRepository) {
    EXPECT_EQ(cmd::selectedRepos(twoRepos()), (std::vector<int>{1, 2}));
    EXPECT_EQ(cmd::selectedRepos(twoRepos({"--repo=2"})), std::vector<int>{2});
    EXPECT_EQ(cmd::defaultRepo(twoRepos()), 1);
    EXPECT_EQ(cmd::defaultRepo(twoRepos({"--repo=2"})), 2);
    std::string three = errorMessage([] { cmd::selectedRepos(twoRepos({"--repo=3"})); });
    EXPECT_NE(three.find("repo3 is not configured"), std::string::npos) << three;
    EXPECT_NE(three.find("repo1, repo2"), std::string::npos) << three;
}

TEST(MultiRepoSelection, TwoRepositoriesInOneLocationAreRefused) {
    std::string same = errorMessage([] {
        cmd::configuredRepos(
            parseConfig({"--config=/dev/null", "--repo1-path=/r", "--repo2-path=/r/", "info"}));
    });
    EXPECT_NE(same.find("repo1 and repo2 are the same repository"), std::string::npos) << same;
}

TEST(MultiRepoSelection, OneDirectoryUnderTwoSpellingsIsOneRepository) {
    std::filesystem::path dir = std::filesystem::temp_directory_path() / "backrest-multi-repo-link";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "repo");
    std::filesystem::create_directory_symlink(dir / "repo", dir / "link");
    for (std::string second : {(dir / "repo" / ".").string(), (dir / "repo").string() + "//",
                               (dir / "link").string(), (dir / "link" / ".." / "repo").string()}) {
        std::string same = errorMessage([&] {
            cmd::configuredRepos(
                parseConfig({"--config=/dev/null", "--repo1-path=" + (dir / "repo").string(),
                             "--repo2-path=" + second, "info"}));
        });
        EXPECT_NE(same.find("repo1 and repo2 are the same repository"), std::string::npos)
            << second << ": " << same;
    }
    // Another directory beside it is another repository.
    EXPECT_EQ(cmd::configuredRepos(
                  parseConfig({"--config=/dev/null", "--repo1-path=" + (dir / "repo").string(),
                               "--repo2-path=" + (dir / "repo2").string(), "info"})),
              (std::vector<int>{1, 2}));
    std::filesystem::remove_all(dir);
}

// Commands that stand in for a command body: they record which repository's view they got.
std::vector<std::string>& seen() {
    static std::vector<std::string> paths;
    return paths;
}
int records(const Config& view) {
    seen().push_back(view.getString(opt::repo1Path));
    return 0;
}
int failsOnRepo1(const Config& view) {
    seen().push_back(view.getString(opt::repo1Path));
    if (view.repoIndex() == 1) raise(ErrorCode::FileWrite, "unable to write '/r1/x'");
    return 0;
}
int foundOnlyInRepo2(const Config& view) {
    seen().push_back(view.getString(opt::repo1Path));
    return view.repoIndex() == 2 ? 0 : 1;
}
int notFound(const Config& view) {
    seen().push_back(view.getString(opt::repo1Path));
    return 1;
}

TEST(MultiRepoSelection, EachRepoRunsOnEveryOneAndNamesTheOneThatFailed) {
    seen().clear();
    EXPECT_EQ(cmd::runOnEachRepo(twoRepos(), records), 0);
    EXPECT_EQ(seen(), (std::vector<std::string>{"/r1", "/r2"}));
    seen().clear();
    Error error(ErrorCode::Assert, "");
    try {
        cmd::runOnEachRepo(twoRepos(), failsOnRepo1);
        FAIL() << "repo1's failure must fail the command";
    } catch (const Error& e) {
        error = e;
    }
    // repo2 was still tried: a segment reaches every repository that can take it.
    EXPECT_EQ(seen(), (std::vector<std::string>{"/r1", "/r2"}));
    EXPECT_EQ(error.code(), ErrorCode::FileWrite);
    EXPECT_NE(std::string(error.what()).find("1 of 2 repositories failed: repo1 (/r1)"),
              std::string::npos)
        << error.what();
}

TEST(MultiRepoSelection, ArchiveGetTakesTheFirstThatHasTheSegment) {
    seen().clear();
    EXPECT_EQ(cmd::archiveGetFromRepos(twoRepos(), foundOnlyInRepo2), 0);
    EXPECT_EQ(seen(), (std::vector<std::string>{"/r1", "/r2"}));
    // A repository that fails is passed over when another has the segment...
    seen().clear();
    EXPECT_EQ(cmd::archiveGetFromRepos(twoRepos(), failsOnRepo1), 0);
    // ... and makes "not found" an error when none has it: it may hold the segment.
    EXPECT_EQ(cmd::archiveGetFromRepos(twoRepos(), notFound), 1);
    std::string failed = errorMessage(
        [] {
            cmd::archiveGetFromRepos(twoRepos(), [](const Config& view) {
                if (view.repoIndex() == 2) raise(ErrorCode::FileRead, "damaged");
                return 1;
            });
        },
        ErrorCode::FileRead);
    EXPECT_NE(failed.find("repo2 (/r2): damaged"), std::string::npos) << failed;
    // What to do: repo1 answered "not here"; repo2 may hold it.
    EXPECT_NE(failed.find("is not in repo1; repo2 may hold it"), std::string::npos) << failed;
    EXPECT_NE(failed.find("add --repo=1 to restore_command"), std::string::npos) << failed;
    // Every repository failed: no repository to name.
    std::string all = errorMessage(
        [] {
            cmd::archiveGetFromRepos(
                twoRepos(), [](const Config&) -> int { raise(ErrorCode::FileRead, "unreadable"); });
        },
        ErrorCode::FileRead);
    EXPECT_NE(all.find("2 of 2 repositories failed"), std::string::npos) << all;
    EXPECT_EQ(all.find("restore_command"), std::string::npos) << all;
    // --repo=2: repo1 is not looked at.
    seen().clear();
    EXPECT_EQ(cmd::archiveGetFromRepos(twoRepos({"--repo=2"}), notFound), 1);
    EXPECT_EQ(seen(), std::vector<std::string>{"/r2"});
}

TEST(MultiRepoRestore, OnlyARepositorysContentFallsBackNeverTheTargetOrTheOptions) {
    for (ErrorCode code : {ErrorCode::FileMissing, ErrorCode::FileRead, ErrorCode::Format,
                           ErrorCode::Checksum, ErrorCode::Compress, ErrorCode::Crypto,
                           ErrorCode::Network, ErrorCode::RepoStorage, ErrorCode::RepoAuth})
        EXPECT_TRUE(cmd::isRepositoryFault(code)) << errorCodeName(code);
    // The target (not empty, a running cluster, a write or open failure there), the options or
    // the choice of backup, a lock, a signal, a bug: the next repository would meet the same.
    for (ErrorCode code :
         {ErrorCode::PathNotEmpty, ErrorCode::Postmaster, ErrorCode::FileWrite, ErrorCode::FileOpen,
          ErrorCode::Option, ErrorCode::Config, ErrorCode::BackupSet, ErrorCode::Lock,
          ErrorCode::Term, ErrorCode::Cancelled, ErrorCode::Assert})
        EXPECT_FALSE(cmd::isRepositoryFault(code)) << errorCodeName(code);
}

std::vector<std::string>& restoredNotes() {
    static std::vector<std::string> notes;
    return notes;
}
int restoreRecords(const Config& view, const std::string& note) {
    seen().push_back(view.getString(opt::repo1Path));
    restoredNotes().push_back(note);
    return 0;
}

TEST(MultiRepoRestore, RepoOptionRestoresFromThatRepositoryAloneWithNoNote) {
    seen().clear();
    restoredNotes().clear();
    EXPECT_EQ(cmd::restoreFromRepos(twoRepos({"--repo=2"}), restoreRecords), 0);
    EXPECT_EQ(seen(), std::vector<std::string>{"/r2"});
    EXPECT_EQ(restoredNotes(), std::vector<std::string>{""});
}

TEST(MultiRepoRestore, NoRepositoryUsableIsAnErrorNamingEachOnesFailure) {
    test::TempDir dir;
    std::string r1 = dir.path() + "/r1", r2 = dir.path() + "/r2";
    std::filesystem::create_directories(r1);
    std::filesystem::create_directories(r2);
    seen().clear();
    std::string message = errorMessage(
        [&] {
            cmd::restoreFromRepos(parseConfig({"--config=/dev/null", "--stanza=main",
                                               "--repo1-path=" + r1, "--repo2-path=" + r2,
                                               "--pg1-path=" + dir.path() + "/data", "restore"}),
                                  restoreRecords);
        },
        ErrorCode::Stanza);
    EXPECT_TRUE(seen().empty());  // neither repository's restore ran
    EXPECT_NE(message.find("repo1 (" + r1 + "): "), std::string::npos) << message;
    EXPECT_NE(message.find("repo2 (" + r2 + "): "), std::string::npos) << message;
    EXPECT_NE(message.find("nothing was written into"), std::string::npos) << message;
}

}  // namespace
}  // namespace backrest

namespace backrest {
namespace {

using nlohmann::json;

json stanzaOf(const std::string& label, int code) {
    json stanza = {{"name", "main"},
                   {"status", {{"code", code}, {"message", code ? "no valid backups" : "ok"}}},
                   {"backup", json::array()},
                   {"db", {{{"id", 1}, {"repo-key", 1}, {"system-id", 7}}}},
                   {"archive", {{{"database", {{"id", 1}, {"repo-key", 1}}}, {"id", "15-1"}}}},
                   {"repo", {{{"key", 1}, {"cipher", "none"}}}}};
    if (!label.empty())
        stanza["backup"].push_back({{"label", label}, {"database", {{"id", 1}, {"repo-key", 1}}}});
    return stanza;
}

TEST(MultiRepoInfo, OneStanzaEntryWithEachItemsRepoKey) {
    json one = json::array({stanzaOf("20261201-000000F", 0)});
    json two = json::array({stanzaOf("20261130-000000F", 0)});
    cmd::setRepoKey(one, 1);
    cmd::setRepoKey(two, 2);
    json merged = cmd::mergeStanzas({one, two});
    ASSERT_EQ(merged.size(), 1u);
    const json& s = merged[0];
    ASSERT_EQ(s["backup"].size(), 2u);
    EXPECT_EQ(s["backup"][0]["label"], "20261130-000000F");  // label order across repositories
    EXPECT_EQ(s["backup"][0]["database"]["repo-key"], 2);
    EXPECT_EQ(s["backup"][1]["database"]["repo-key"], 1);
    EXPECT_EQ(s["repo"].size(), 2u);
    EXPECT_EQ(s["repo"][1]["key"], 2);
    EXPECT_EQ(s["db"][1]["repo-key"], 2);
    EXPECT_EQ(s["archive"][1]["database"]["repo-key"], 2);
    EXPECT_EQ(s["status"]["code"], 0);
}

// repo2 unreadable: repo1's stanza stays, with an entry for repo2 carrying its error.
TEST(MultiRepoInfo, AFailedRepositoryIsListedWithItsErrorBesideTheOthers) {
    json stanzas = cmd::mergeStanzas({json::array({stanzaOf("20261201-000000F", 0)})});
    cmd::addFailedRepo(stanzas, 2, "aes-256-gcm", "unable to open '/r2/backup.info'");
    ASSERT_EQ(stanzas.size(), 1u);
    EXPECT_EQ(stanzas[0]["backup"].size(), 1u);
    EXPECT_EQ(stanzas[0]["status"]["code"], 4);
    ASSERT_EQ(stanzas[0]["repo"].size(), 2u);
    EXPECT_EQ(stanzas[0]["repo"][1]["key"], 2);
    EXPECT_EQ(stanzas[0]["repo"][1]["cipher"], "aes-256-gcm");
    EXPECT_EQ(stanzas[0]["repo"][1]["status"]["code"], 99);
    EXPECT_EQ(stanzas[0]["repo"][1]["status"]["message"], "unable to open '/r2/backup.info'");
}

TEST(MultiRepoInfo, RepositoriesThatDisagreeMakeTheStatusMixed) {
    json one = json::array({stanzaOf("20261201-000000F", 0)});
    json two = json::array({stanzaOf("", 2)});
    cmd::setRepoKey(two, 2);
    json merged = cmd::mergeStanzas({one, two});
    EXPECT_EQ(merged[0]["status"]["code"], 4);
    EXPECT_EQ(merged[0]["status"]["message"], "different across repos");
}

}  // namespace
}  // namespace backrest

namespace backrest {
namespace {

TEST(MultiRepoErrors, ARepositorysErrorNamesItsOwnOptions) {
    Error e(ErrorCode::Option,
            "option 'repo1-s3-bucket' is required with repo1-type=s3; or BACKREST_REPO1_S3_KEY");
    EXPECT_EQ(std::string(cmd::inRepoTerms(e, 2).what()),
              "option 'repo2-s3-bucket' is required with repo2-type=s3; or BACKREST_REPO2_S3_KEY");
    EXPECT_EQ(cmd::inRepoTerms(e, 2).code(), ErrorCode::Option);
    EXPECT_EQ(std::string(cmd::inRepoTerms(e, 1).what()), e.what());
    std::string viaCommand = test::errorMessage([] {
        cmd::runOnOneRepo(
            test::parseConfig({"--config=/dev/null", "--repo2-path=relative", "--repo=2", "info"}),
            [](const Config& view) -> int {
                raise(ErrorCode::Option, "option 'repo1-path' must be an absolute path, not '{}'",
                      view.getString(opt::repo1Path));
            });
    });
    EXPECT_EQ(viaCommand, "option 'repo2-path' must be an absolute path, not 'relative'");
}

}  // namespace
}  // namespace backrest
