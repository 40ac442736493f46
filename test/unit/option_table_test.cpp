// The option table (option_table.h) against what it replaced: each command's help lists the same
// options as the hand-kept lists did, every option has help, the secrets are the same, and every
// option named by a string literal in the sources is one the table defines.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "common/config.h"
#include "common/error.h"
#include "common/foreign_options.h"

namespace backrest {
namespace {

using Names = std::set<std::string, std::less<>>;

// worker/help.cpp's lists at 0693acf, before help read them from the table.
const std::map<std::string, Names>& helpListsBeforeTheTable() {
    static const std::map<std::string, Names> lists = {
        {"stanza-create", {"stanza", "pg1-path", "repo1-path"}},
        {"stanza-rekey",
         {"stanza", "repo1-path", "repo1-cipher-type", "repo1-cipher-pass", "repo1-cipher-pass-new",
          "lock-path"}},
        {"check",
         {"stanza", "pg1-path", "pg1-socket-path", "pg1-port", "pg1-user", "repo1-path",
          "archive-timeout"}},
        {"backup",
         {"stanza", "type", "pg1-path", "pg1-socket-path", "pg1-port", "pg1-user",
          // Issue 21: backup from a standby.
          "backup-standby", "pg2-path", "pg2-socket-path", "pg2-port", "pg2-user", "repo1-path",
          "process-max", "compress-type", "compress-level", "checksum-type", "start-fast",
          "archive-check", "archive-timeout", "lock-path", "repo1-retention-full",
          "repo1-retention-full-type",  // issue 20: time retention
          "repo1-retention-diff",
          "repo1-retention-history",  // issue 20: the backup history
          "repo1-block", "annotation", "repo1-bundle", "repo1-bundle-size", "repo1-bundle-limit"}},
        {"restore",
         {"stanza", "pg1-path", "repo1-path", "set", "type", "target", "target-action",
          "target-timeline", "target-exclusive", "tablespace-map", "tablespace-map-all",
          "recovery-option", "archive-mode", "process-max", "delta", "force", "lock-path"}},
        // Issue 21: archive-push-queue-max, asynchronous archive-get.
        {"archive-push",
         {"stanza", "repo1-path", "compress-type", "compress-level", "pg1-path",
          "archive-push-queue-max"}},
        {"archive-get",
         {"stanza", "repo1-path", "archive-async", "archive-get-queue-max", "process-max",
          "spool-path"}},
        // Issue 20: info --set/--type, annotate, backup --annotation.
        {"info", {"stanza", "repo1-path", "output", "set", "type"}},
        {"annotate", {"stanza", "repo1-path", "set", "annotation", "lock-path"}},
        {"serve",
         {"stanza", "pg1-path", "socket-path", "archive-async", "process-max", "repo1-path",
          "compress-type", "compress-level", "checksum-type", "archive-timeout", "lock-path",
          "spool-path", "archive-push-queue-max",
          "metrics-listen"}},  // issue 23: the metrics endpoint
        {"expire",
         {"stanza", "repo1-path", "repo1-retention-full", "repo1-retention-full-type",
          "repo1-retention-diff", "repo1-retention-archive", "repo1-retention-archive-type", "set",
          "dry-run", "lock-path", "repo1-retention-history"}},
        {"verify",
         {"stanza", "repo1-path", "set", "output", "process-max", "buffer-size", "lock-path"}},
        {"help", {}},
        // Issue 20: version --output=num and --version-format, now listed by its help.
        {"version", {"output", "version-format"}},
    };
    return lists;
}

TEST(OptionTable, EachCommandsHelpListsTheSameOptionsAsBefore) {
    // Issue 21 (several repositories): --repo for the commands pgBackRest gives it.
    const Names withRepo = {"backup", "restore", "archive-get", "info",
                            "expire", "verify",  "annotate"};
    for (const auto& [command, before] : helpListsBeforeTheTable()) {
        Names listed;
        for (const OptionDef* def : commandOptions(command)) listed.emplace(def->name);
        Names expected = before;
        if (withRepo.contains(command)) expected.emplace("repo");
        EXPECT_EQ(listed, expected) << command;
    }
}

// The commands added after the table (issue 20): their help lists only options they read.
const Names& commandsAddedSinceTheTable() {
    static const Names added = {"repo-ls",       "repo-get",       "stop",    "start",
                                "stanza-delete", "stanza-upgrade", "metrics", "drill"};
    return added;
}

TEST(OptionTable, EveryOptionHasHelpAndNamesOnlyRealCommands) {
    std::set<std::string> names;
    for (const OptionDef& def : optionDefs()) {
        EXPECT_FALSE(def.help.empty()) << def.name;
        EXPECT_TRUE(names.emplace(def.name).second) << "defined twice: " << def.name;
        std::istringstream commands{std::string(def.commands)};
        for (std::string command; commands >> command;)
            EXPECT_TRUE(helpListsBeforeTheTable().contains(command) ||
                        commandsAddedSinceTheTable().contains(command))
                << def.name << ": " << command;
    }
    EXPECT_EQ(commandOptions("no-such-command").size(), 0u);
}

// A pgBackRest option backrest implements is read from the table: a row left for it in the
// table of foreign options is never reached and misleads the next reader.
TEST(OptionTable, NoImplementedOptionIsAlsoListedAsForeign) {
    for (const OptionDef& def : optionDefs()) EXPECT_FALSE(isForeignOption(def.name)) << def.name;
}

TEST(OptionTable, SecretsAreTheSameAsBefore) {
    const Names secrets = {"repo1-cipher-pass",
                           "repo1-cipher-pass-new",
                           "repo1-s3-key",
                           "repo1-s3-key-secret",
                           "repo1-s3-token",
                           "repo1-azure-key",
                           "repo1-sftp-private-key-passphrase"};
    // repo2-* .. repo4-* are repo1-*'s rows again: the same secrets.
    auto asRepo1 = [](std::string_view name) {
        std::string n(name);
        if (n.size() > 5 && n.starts_with("repo") && n[4] >= '2' && n[4] <= '4' && n[5] == '-')
            n[4] = '1';
        return n;
    };
    for (const OptionDef& def : optionDefs()) {
        EXPECT_EQ(def.secret, secrets.contains(asRepo1(def.name))) << def.name;
        EXPECT_EQ(isSecretOption(def.name), secrets.contains(asRepo1(def.name))) << def.name;
    }
    // pgBackRest's names backrest does not implement stay secrets (refused on the command line).
    for (const char* name : {"repo2-s3-key", "repo1-gcs-key", "repo-cipher-pass", "s3-key-secret"})
        EXPECT_TRUE(isSecretOption(name)) << name;
    EXPECT_FALSE(isSecretOption("repo2-path"));
}

TEST(OptionTable, EveryKeyNamesItsRowWithItsType) {
#define BACKREST_CHECK_KEY(rowKey, rowType, rowName, ...)       \
    {                                                           \
        const OptionDef* def = findOptionDef(opt::rowKey.name); \
        ASSERT_NE(def, nullptr) << rowName;                     \
        EXPECT_EQ(def->name, rowName);                          \
        EXPECT_EQ(def->type, OptionType::rowType) << rowName;   \
    }
    BACKREST_OPTION_TABLE(BACKREST_CHECK_KEY)
#undef BACKREST_CHECK_KEY
    EXPECT_EQ(opt::processMax.name, "process-max");
    EXPECT_EQ(opt::repo1S3KeySecret.name, "repo1-s3-key-secret");
}

// The typed getters read what the string ones read, defaults included.
TEST(OptionTable, TypedGettersReadTheOption) {
    const char* argv[] = {"backrest",
                          "--config=/nonexistent/backrest.conf",
                          "--process-max=3",
                          "--no-delta",
                          "--repo1-bundle-size=2MiB",
                          "info"};
    const char* envp[] = {"BACKREST_LOCK_PATH=/tmp/locks", nullptr};
    // A --config that does not exist is an error; the default one may be missing.
    EXPECT_THROW(Config::parse(6, argv, envp), Error);
    argv[1] = "--stanza=main";
    Config config = Config::parse(6, argv, envp);
    EXPECT_EQ(config.getInt(opt::processMax), 3);
    EXPECT_FALSE(config.getBool(opt::delta));
    EXPECT_EQ(config.getInt(opt::repo1BundleSize), 2 << 20);
    EXPECT_EQ(config.getString(opt::lockPath), "/tmp/locks");
    EXPECT_EQ(config.source(opt::lockPath), OptionSource::Environment);
    EXPECT_EQ(config.getString(opt::repo1Path), "/var/lib/backrest");
    EXPECT_EQ(config.find(opt::target), std::nullopt);
    EXPECT_TRUE(config.has(opt::compressType));
    EXPECT_TRUE(config.getMulti(opt::tablespaceMap).empty());
    config.set(opt::target, "immediate");
    EXPECT_EQ(config.getString(opt::target), "immediate");
}

// Options still read by name (config.find(name) behind a helper, a list of names) are checked
// only at run time: every literal that reads like an option name in a getter call or a helper
// taking the config must be a row of the table. Skipped when the sources are not at hand.
TEST(OptionTable, EveryOptionNamedInTheSourcesIsDefined) {
    std::filesystem::path root = std::filesystem::path(__FILE__).parent_path() / "../..";
    if (!std::filesystem::exists(root / "src/common/option_table.h"))
        GTEST_SKIP() << "sources not found from " << root;
    const std::regex call(
        R"((?:getString|getInt|getBool|getMulti|find|has|source|set|required)\((?:config,\s*)?"([a-z][a-z0-9-]*)\")");
    size_t checked = 0;
    for (const char* dir : {"worker", "src", "extension"}) {
        for (const auto& entry : std::filesystem::recursive_directory_iterator(root / dir)) {
            auto ext = entry.path().extension();
            if (ext != ".cpp" && ext != ".h") continue;
            std::ifstream in(entry.path());
            std::string line;
            for (int lineNo = 1; std::getline(in, line); ++lineNo) {
                if (line.find("config") == std::string::npos) continue;
                for (std::sregex_iterator m(line.begin(), line.end(), call), end; m != end; ++m) {
                    ++checked;
                    EXPECT_NE(findOptionDef((*m)[1].str()), nullptr)
                        << entry.path() << ":" << lineNo << ": option '" << (*m)[1]
                        << "' is not in option_table.h";
                }
            }
        }
    }
    EXPECT_GT(checked, 0u);
}

}  // namespace
}  // namespace backrest
