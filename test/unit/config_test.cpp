// Unit tests for Config: source precedence, config file sections, CLI forms, validation and
// the exact error messages users see.
#include "common/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>

#include "common/error.h"
#include "common/log.h"
#include "test/unit/temp_dir.h"

namespace backrest {
namespace {

class ConfigTest : public ::testing::Test {
  protected:
    void SetUp() override { emptyConf_ = writeConf("", "empty.conf"); }

    std::string writeConf(std::string_view text, std::string_view name = "backrest.conf") {
        std::string path = (std::filesystem::path(dir_) / name).string();
        std::ofstream(path) << text;
        return path;
    }

    // argv[0] is added here; env is passed as a fake environ so the real one never leaks in.
    static Config parse(std::vector<std::string> args, std::vector<std::string> env = {}) {
        std::vector<const char*> argv{"backrest"};
        for (const auto& a : args) argv.push_back(a.c_str());
        std::vector<const char*> envp;
        for (const auto& e : env) envp.push_back(e.c_str());
        envp.push_back(nullptr);
        return Config::parse(static_cast<int>(argv.size()), argv.data(), envp.data());
    }

    static Error errorOf(const std::function<void()>& f) {
        try {
            f();
        } catch (const Error& e) {
            return e;
        }
        ADD_FAILURE() << "expected an Error";
        return Error(ErrorCode::Assert, "");
    }

    backrest::test::TempDir tmp_{"config-test"};
    std::string dir_ = tmp_.path();
    std::string emptyConf_;
};

TEST_F(ConfigTest, PrecedenceOfAllFourSources) {
    auto conf = writeConf(
        "[global]\n"
        "process-max=2\n"
        "compress-level=5\n"
        "buffer-size=4096\n");
    auto cfg = parse({"--config=" + conf, "backup", "--process-max=4"},
                     {"BACKREST_PROCESS_MAX=3", "BACKREST_COMPRESS_LEVEL=6", "PATH=/bin"});
    EXPECT_EQ(cfg.getInt("process-max"), 4);
    EXPECT_EQ(cfg.source("process-max"), OptionSource::CommandLine);
    EXPECT_EQ(cfg.getInt("compress-level"), 6);
    EXPECT_EQ(cfg.source("compress-level"), OptionSource::Environment);
    EXPECT_EQ(cfg.getInt("buffer-size"), 4096);
    EXPECT_EQ(cfg.source("buffer-size"), OptionSource::ConfigFile);
    EXPECT_EQ(cfg.getInt("db-timeout"), 1800);
    EXPECT_EQ(cfg.source("db-timeout"), OptionSource::Default);
    EXPECT_EQ(cfg.getString("repo1-path"), "/var/lib/backrest");
    EXPECT_TRUE(cfg.has("db-timeout"));
}

TEST_F(ConfigTest, MostSpecificSectionWins) {
    auto conf = writeConf(
        "[global]\n"
        "process-max=1\ncompress-level=1\nbuffer-size=1\ndb-timeout=1\n"
        "[global:backup]\n"
        "process-max=2\ncompress-level=2\nbuffer-size=2\n"
        "[main]\n"
        "process-max=3\ncompress-level=3\n"
        "[main:backup]\n"
        "process-max=4\n"
        "[main:restore]\n"
        "db-timeout=99\n"
        "[other]\n"
        "db-timeout=98\n");
    auto cfg = parse({"--config", conf, "--stanza=main", "backup"});
    EXPECT_EQ(cfg.getInt("process-max"), 4);     // [main:backup]
    EXPECT_EQ(cfg.getInt("compress-level"), 3);  // [main]
    EXPECT_EQ(cfg.getInt("buffer-size"), 2);     // [global:backup]
    EXPECT_EQ(cfg.getInt("db-timeout"), 1);      // [global]; other stanza/command ignored

    // Without a stanza only the global sections apply.
    auto noStanza = parse({"--config", conf, "backup"});
    EXPECT_EQ(noStanza.getInt("process-max"), 2);
    EXPECT_EQ(noStanza.getInt("db-timeout"), 1);

    // The stanza may come from the environment, and the command picks [global:<command>].
    auto fromEnv = parse({"--config", conf, "restore"}, {"BACKREST_STANZA=main"});
    EXPECT_EQ(fromEnv.getInt("process-max"), 3);
    EXPECT_EQ(fromEnv.getInt("db-timeout"), 99);
    EXPECT_EQ(fromEnv.getInt("buffer-size"), 1);
}

TEST_F(ConfigTest, IniWhitespaceCommentsAndBooleans) {
    auto conf = writeConf(
        "# pgBackRest style file\n"
        "; another comment\n"
        "\n"
        "  [ global ]  \n"
        "  pg1-path   =   /var/lib/postgresql/16/main  \r\n"
        "start-fast=y\n"
        "archive-check = off\n"
        "target=2024-01-01 12:00:00+00\n");
    auto cfg = parse({"backup"}, {"BACKREST_CONFIG=" + conf});
    EXPECT_EQ(cfg.getString("pg1-path"), "/var/lib/postgresql/16/main");
    EXPECT_TRUE(cfg.getBool("start-fast"));
    EXPECT_FALSE(cfg.getBool("archive-check"));
    EXPECT_EQ(cfg.getString("target"), "2024-01-01 12:00:00+00");
}

TEST_F(ConfigTest, SpaceSeparatedValuesAndParams) {
    auto cfg = parse({"--config", emptyConf_, "--stanza", "main", "archive-get",
                      "000000010000000000000001", "--process-max", "4", "pg_wal/RECOVERYXLOG"});
    EXPECT_EQ(cfg.command(), "archive-get");
    EXPECT_EQ(cfg.params(),
              (std::vector<std::string>{"000000010000000000000001", "pg_wal/RECOVERYXLOG"}));
    EXPECT_EQ(cfg.getString("stanza"), "main");
    EXPECT_EQ(cfg.getInt("process-max"), 4);
    // Negative numbers are values, not options.
    EXPECT_EQ(parse({"--config", emptyConf_, "backup", "--compress-level", "-7"})
                  .getInt("compress-level"),
              -7);
}

TEST_F(ConfigTest, DoubleDashEndsOptions) {
    auto cfg = parse({"--config", emptyConf_, "backup", "--", "--delta", "x"});
    EXPECT_EQ(cfg.params(), (std::vector<std::string>{"--delta", "x"}));
    EXPECT_FALSE(cfg.getBool("delta"));
}

TEST_F(ConfigTest, BooleanForms) {
    auto cfg = parse({"--config", emptyConf_, "--delta", "restore", "--no-archive-check",
                      "--start-fast=true", "--target-exclusive=1", "--force=off"});
    EXPECT_EQ(cfg.command(), "restore");  // a bare boolean does not swallow the next word
    EXPECT_TRUE(cfg.getBool("delta"));
    EXPECT_FALSE(cfg.getBool("archive-check"));
    EXPECT_TRUE(cfg.getBool("start-fast"));
    EXPECT_TRUE(cfg.getBool("target-exclusive"));
    EXPECT_FALSE(cfg.getBool("force"));
    EXPECT_EQ(cfg.find("delta"), "y");  // stored normalized

    auto dflt = parse({"--config", emptyConf_, "restore"}, {"BACKREST_DELTA=on"});
    EXPECT_TRUE(dflt.getBool("delta"));
    EXPECT_TRUE(dflt.getBool("archive-check"));  // default y
    EXPECT_FALSE(dflt.getBool("force"));         // default n

    auto e = errorOf([&] { parse({"--config", emptyConf_, "restore", "--delta=maybe"}); });
    EXPECT_EQ(e.code(), ErrorCode::Option);
    EXPECT_STREQ(e.what(),
                 "invalid value 'maybe' for option 'delta' (from command line): expected y or n "
                 "(or true/false, on/off, 1/0)");
    e = errorOf([&] { parse({"--config", emptyConf_, "restore", "--no-delta=y"}); });
    EXPECT_STREQ(e.what(), "option '--no-delta' does not take a value");
    e = errorOf([&] { parse({"--config", emptyConf_, "restore", "--no-stanza"}); });
    EXPECT_STREQ(
        e.what(),
        "unknown option 'no-stanza' (command line): neither a backrest nor a pgBackRest option; "
        "see 'backrest help'");
}

TEST_F(ConfigTest, MultiValues) {
    auto conf = writeConf(
        "[global]\n"
        "recovery-option=a=1\n"
        "[main]\n"
        "recovery-option=b=2\n"
        "recovery-option=c=3\n");
    auto cfg = parse({"--config", conf, "--stanza=main", "restore", "--tablespace-map=ts1=/x",
                      "--tablespace-map", "ts2=/y"});
    EXPECT_EQ(cfg.getMulti("tablespace-map"), (std::vector<std::string>{"ts1=/x", "ts2=/y"}));
    EXPECT_EQ(cfg.getMulti("recovery-option"), (std::vector<std::string>{"b=2", "c=3"}));
    EXPECT_TRUE(cfg.getMulti("tablespace-map-all").empty());

    // pgBackRest's environment convention: values separated by colons.
    auto env = parse({"--config", conf, "restore"}, {"BACKREST_TABLESPACE_MAP=ts1=/x:ts2=/y"});
    EXPECT_EQ(env.getMulti("tablespace-map"), (std::vector<std::string>{"ts1=/x", "ts2=/y"}));
    EXPECT_EQ(env.getMulti("recovery-option"), (std::vector<std::string>{"a=1"}));
}

TEST_F(ConfigTest, CommandLineErrors) {
    auto e = errorOf([&] { parse({"backup", "--foo"}); });
    EXPECT_EQ(e.code(), ErrorCode::Option);
    EXPECT_EQ(std::string(e.what()).rfind("unknown option 'foo' (command line)", 0), 0u)
        << e.what();
    e = errorOf([&] { parse({"--foo=bar", "backup"}); });
    EXPECT_EQ(std::string(e.what()).rfind("unknown option 'foo' (command line)", 0), 0u)
        << e.what();

    e = errorOf([&] { parse({"--config", emptyConf_}); });
    EXPECT_EQ(e.code(), ErrorCode::Command);
    EXPECT_STREQ(e.what(), "no command given; see 'backrest help'");

    e = errorOf([&] { parse({"backup", "--stanza"}); });
    EXPECT_EQ(e.code(), ErrorCode::Option);
    EXPECT_STREQ(e.what(), "option '--stanza' requires a value");

    e = errorOf([&] { parse({"backup", "--stanza=a", "--stanza=b"}); });
    EXPECT_STREQ(e.what(), "option '--stanza' is given more than once on the command line");

    e = errorOf([&] { parse({"backup", "--stanza="}); });
    EXPECT_STREQ(e.what(),
                 "invalid value '' for option 'stanza' (from command line): expected a "
                 "non-empty value");
}

TEST_F(ConfigTest, MissingConfigFile) {
    std::string missing = dir_ + "/nope.conf";
    auto e = errorOf([&] { parse({"--config=" + missing, "backup"}); });
    EXPECT_EQ(e.code(), ErrorCode::Config);
    EXPECT_EQ(std::string(e.what()), "config file '" + missing + "' does not exist");

    e = errorOf([&] { parse({"backup"}, {"BACKREST_CONFIG=" + missing}); });
    EXPECT_EQ(e.code(), ErrorCode::Config);
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos);

    // The default file may be absent: not an error.
    if (std::filesystem::exists("/etc/backrest/backrest.conf")) {
        GTEST_SKIP() << "/etc/backrest/backrest.conf exists on this machine";
    }
    auto cfg = parse({"backup"});
    EXPECT_EQ(cfg.getString("config"), "/etc/backrest/backrest.conf");
    EXPECT_EQ(cfg.source("config"), OptionSource::Default);
}

TEST_F(ConfigTest, MalformedConfigFile) {
    auto conf = writeConf("[global]\nprocess-max=2\nthis line has no equals\n");
    auto e = errorOf([&] { parse({"--config", conf, "backup"}); });
    EXPECT_EQ(e.code(), ErrorCode::Config);
    EXPECT_EQ(std::string(e.what()), "config file '" + conf +
                                         "' line 3: expected 'key=value', '[section]' or a "
                                         "comment");

    conf = writeConf("# header\nprocess-max=2\n[global]\n", "nosection.conf");
    e = errorOf([&] { parse({"--config", conf, "backup"}); });
    EXPECT_EQ(e.code(), ErrorCode::Config);
    EXPECT_EQ(std::string(e.what()),
              "config file '" + conf + "' line 2: option 'process-max' before any [section]");

    conf = writeConf("[global\n", "header.conf");
    e = errorOf([&] { parse({"--config", conf, "backup"}); });
    EXPECT_EQ(std::string(e.what()), "config file '" + conf + "' line 1: malformed section header");

    conf = writeConf("[global]\nprocess-max=2\n\nprocess-max=3\n", "dup.conf");
    e = errorOf([&] { parse({"--config", conf, "backup"}); });
    EXPECT_EQ(e.code(), ErrorCode::Config);
    EXPECT_EQ(std::string(e.what()), "config file '" + conf +
                                         "' line 4: option 'process-max' is set more than once "
                                         "in section [global] (first on line 2)");
}

TEST_F(ConfigTest, InvalidValuesNameOptionAndSource) {
    auto conf = writeConf("[global]\nprocess-max=abc\n");
    auto e = errorOf([&] { parse({"--config", conf, "backup"}); });
    EXPECT_EQ(e.code(), ErrorCode::Option);
    EXPECT_EQ(std::string(e.what()),
              "invalid value 'abc' for option 'process-max' (from config file " + conf +
                  "): expected an integer");

    e = errorOf([&] { parse({"--config", emptyConf_, "backup", "--process-max=4x"}); });
    EXPECT_STREQ(e.what(),
                 "invalid value '4x' for option 'process-max' (from command line): expected an "
                 "integer");

    e = errorOf([&] { parse({"--config", emptyConf_, "backup"}, {"BACKREST_PROCESS_MAX= 4"}); });
    EXPECT_STREQ(e.what(),
                 "invalid value ' 4' for option 'process-max' (from environment variable "
                 "BACKREST_PROCESS_MAX): expected an integer");

    e = errorOf([&] { parse({"--config", emptyConf_, "backup", "--compress-type=gzip"}); });
    EXPECT_EQ(e.code(), ErrorCode::Option);
    EXPECT_STREQ(e.what(),
                 "invalid value 'gzip' for option 'compress-type' (from command line): expected "
                 "one of none, zst, lz4");

    e = errorOf([&] { parse({"--config", emptyConf_, "backup", "--type=weekly"}); });
    EXPECT_NE(std::string(e.what()).find("'weekly' for option 'type'"), std::string::npos);

    // Values are checked even when a higher-precedence source overrides them.
    e = errorOf([&] { parse({"--config", conf, "backup", "--process-max=2"}); });
    EXPECT_EQ(e.code(), ErrorCode::Option);
}

TEST_F(ConfigTest, IntegerRanges) {
    auto rangeError = [&](const std::string& arg) {
        return std::string(errorOf([&] { parse({"--config", emptyConf_, "backup", arg}); }).what());
    };
    EXPECT_EQ(rangeError("--process-max=0"),
              "invalid value '0' for option 'process-max' (from command line): expected an "
              "integer from 1 to 999");
    EXPECT_EQ(rangeError("--process-max=1000"),
              "invalid value '1000' for option 'process-max' (from command line): expected an "
              "integer from 1 to 999");
    EXPECT_NE(rangeError("--compress-level=-8").find("from -7 to 22"), std::string::npos);
    EXPECT_NE(rangeError("--compress-level=23").find("from -7 to 22"), std::string::npos);
    EXPECT_NE(rangeError("--pg1-port=65536").find("from 1 to 65535"), std::string::npos);
    EXPECT_NE(rangeError("--archive-timeout=86401").find("from 1 to 86400"), std::string::npos);
    EXPECT_NE(rangeError("--process-max=99999999999999999999").find("expected an integer"),
              std::string::npos);

    auto cfg = parse({"--config", emptyConf_, "backup", "--process-max=999", "--compress-level=22",
                      "--pg1-port=1", "--archive-timeout=86400"});
    EXPECT_EQ(cfg.getInt("process-max"), 999);
    EXPECT_EQ(cfg.getInt("compress-level"), 22);
    EXPECT_EQ(cfg.getInt("pg1-port"), 1);
    EXPECT_EQ(cfg.getInt("archive-timeout"), 86400);
}

TEST_F(ConfigTest, RequiredOptions) {
    auto cfg = parse({"--config", emptyConf_, "backup"});
    EXPECT_FALSE(cfg.has("stanza"));
    EXPECT_EQ(cfg.find("stanza"), std::nullopt);
    auto e = errorOf([&] { cfg.getString("stanza"); });
    EXPECT_EQ(e.code(), ErrorCode::Option);
    EXPECT_STREQ(e.what(),
                 "option 'stanza' is required for command 'backup'; set it with --stanza, "
                 "BACKREST_STANZA or in the config file");
    e = errorOf([&] { cfg.getInt("repo1-retention-full"); });
    EXPECT_STREQ(e.what(),
                 "option 'repo1-retention-full' is required for command 'backup'; set it with "
                 "--repo1-retention-full, BACKREST_REPO1_RETENTION_FULL or in the config file");
    EXPECT_EQ(errorOf([&] { cfg.has("no-such-option"); }).code(), ErrorCode::Assert);
}

TEST_F(ConfigTest, SetAndPassThroughArgs) {
    auto conf = writeConf("[global]\nrepo1-path=/backups\n");
    auto cfg = parse({"--config", conf, "--stanza=main", "restore", "--tablespace-map=b=/y",
                      "--tablespace-map=a=/x", "--delta"},
                     {"BACKREST_PROCESS_MAX=4", "BACKREST_PG1_PATH=/pgdata"});
    cfg.set("target-action", "promote");
    EXPECT_EQ(cfg.source("target-action"), OptionSource::CommandLine);
    EXPECT_EQ(cfg.getString("target-action"), "promote");
    EXPECT_EQ(errorOf([&] { cfg.set("process-max", "0"); }).code(), ErrorCode::Option);

    // Sorted by option name; file and default values stay out (the child reads the file).
    EXPECT_EQ(cfg.passThroughArgs(), (std::vector<std::string>{
                                         "--config=" + conf,
                                         "--delta=y",
                                         "--pg1-path=/pgdata",
                                         "--process-max=4",
                                         "--stanza=main",
                                         "--tablespace-map=b=/y",
                                         "--tablespace-map=a=/x",
                                         "--target-action=promote",
                                     }));
}

// A pgbackrest.conf carried over: only harmless pgBackRest options are ignored (with a warning);
// one that changes where data goes, what is kept or how it is protected is an error naming it,
// wherever it comes from, unless it is set to what backrest does anyway.
TEST_F(ConfigTest, HarmlessForeignOptionsWarn) {
    auto conf = writeConf(
        "[global]\n"
        "log-timestamp=n\n"
        "stanza=ignored\n"
        "process-max=2\n"
        "repo1-cipher-type=none\n"
        "backup-standby=n\n"
        "repo1-retention-full-type=count\n");
    LogLevel saved = logLevel();
    setLogLevel(LogLevel::Warn);
    ::testing::internal::CaptureStderr();
    auto cfg = parse({"--config", conf, "--log-level-stderr=detail", "--verbose", "backup",
                      "--online", "--no-archive-copy"},
                     {"BACKREST_NEUTRAL_UMASK=n"});
    std::string err = ::testing::internal::GetCapturedStderr();
    setLogLevel(saved);
    EXPECT_EQ(cfg.command(), "backup");  // a foreign flag never takes the next argument
    EXPECT_EQ(cfg.getInt("process-max"), 2);
    EXPECT_EQ(cfg.getString("spool-path"), "/var/spool/backrest");  // an option of its own now
    EXPECT_FALSE(cfg.has("stanza"));  // the stanza never comes from the file
    EXPECT_NE(err.find("ignoring pgBackRest option 'log-timestamp' (config file '"),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("line 2): backrest does not implement it"), std::string::npos) << err;
    EXPECT_NE(err.find("line 3: ignoring option 'stanza'"), std::string::npos) << err;
    EXPECT_NE(err.find("'log-level-stderr' (command line)"), std::string::npos) << err;
    EXPECT_NE(err.find("BACKREST_NEUTRAL_UMASK"), std::string::npos) << err;
    EXPECT_EQ(err.find("cipher"), std::string::npos) << err;  // 'none' is what backrest does
}

TEST_F(ConfigTest, UnsafeForeignOptionsAreErrors) {
    auto refused = [&](const std::string& fileLine, std::vector<std::string> args = {},
                       std::vector<std::string> env = {}) {
        auto conf = writeConf("[global]\nprocess-max=2\n" + fileLine + "\n");
        std::vector<std::string> all{"--config", conf, "--stanza=main", "backup"};
        all.insert(all.end(), args.begin(), args.end());
        Error e = errorOf([&] { parse(all, env); });
        EXPECT_EQ(e.code(), ErrorCode::Option) << e.what();
        return std::string(e.what());
    };
    std::string m = refused("repo1-cipher-type=aes-256-cbc");
    // pgBackRest's unauthenticated cipher: never a plaintext repository instead.
    EXPECT_NE(m.find("option 'repo1-cipher-type' (from config file "), std::string::npos) << m;
    EXPECT_NE(m.find("authenticated AES-256-GCM only"), std::string::npos) << m;
    EXPECT_NE(m.find("set repo1-cipher-type=aes-256-gcm"), std::string::npos) << m;
    // Time retention and the backup history's are backrest's own options now.
    EXPECT_EQ(parse({"--config", writeConf("[global]\nrepo1-retention-full-type=time\n"), "expire"})
                  .getString("repo1-retention-full-type"),
              "time");
    EXPECT_EQ(parse({"--config", writeConf("[global]\nrepo1-retention-history=30\n"), "expire"})
                  .getInt("repo1-retention-history"),
              30);
    EXPECT_EQ(parse({"--config", writeConf("[global]\nrepo1-retention-history=0\n"), "backup"})
                  .getInt("repo1-retention-history"),
              0);
    EXPECT_THROW(parse({"--config", writeConf("[global]\nrepo1-retention-history=-1\n"), "expire"}),
                 Error);
    EXPECT_NE(refused("repo1-host=backup1").find("'repo1-host'"), std::string::npos);
    EXPECT_NE(refused("pg1-host=db1").find("'pg1-host'"), std::string::npos);
    EXPECT_NE(refused("archive-copy=y").find("copies the WAL"), std::string::npos);
    EXPECT_NE(refused("repo5-path=/r5").find("backrest supports repo1 to repo4"),
              std::string::npos);
    EXPECT_NE(refused("pg3-path=/p3").find("backrest supports only pg1 and pg2 so far"),
              std::string::npos);
    // pg2's path and connection are backrest's (backup-standby); its host is not yet.
    EXPECT_NE(refused("pg2-host=db2").find("'pg2-host'"), std::string::npos);
    EXPECT_NE(refused("repo1-retention-ful=2").find("unknown option 'repo1-retention-ful'"),
              std::string::npos);
    EXPECT_NE(refused("", {"--repo1-s3-role=r"}).find("stores the repository in S3"),
              std::string::npos);
    EXPECT_NE(refused("", {}, {"BACKREST_REPO1_CIPHER_TYPE=aes-256-cbc"})
                  .find("(from environment variable BACKREST_REPO1_CIPHER_TYPE)"),
              std::string::npos);
    EXPECT_NE(refused("", {}, {"BACKREST_NO_SUCH=1"}).find("unknown option 'no-such'"),
              std::string::npos);
    // pgBackRest's environment spelling is read (config_env_test.cpp): one naming an option
    // backrest refuses is refused alike, naming the variable.
    EXPECT_NE(refused("", {}, {"PGBACKREST_REPO1_HOST=backup1"})
                  .find("option 'repo1-host' (environment variable PGBACKREST_REPO1_HOST)"),
              std::string::npos);
    EXPECT_NO_THROW(parse({"--config", emptyConf_, "backup"},
                          {"PGBACKREST_LOG_SUBPROCESS=y", "PGBACKREST_NO_SUCH=1"}));
    // Only the sections a command reads count: another stanza's options wait for that stanza.
    auto conf = writeConf("[other]\nrepo1-cipher-type=aes-256-cbc\n");
    EXPECT_NO_THROW(parse({"--config", conf, "--stanza=main", "backup"}));
}

TEST(OptionTableTest, TableIsConsistent) {
    std::set<std::string_view> names;
    for (const auto& def : optionDefs()) {
        EXPECT_TRUE(names.insert(def.name).second) << "duplicate " << def.name;
        EXPECT_FALSE(def.help.empty()) << def.name;
        EXPECT_EQ(findOptionDef(def.name), &def);
    }
    EXPECT_EQ(findOptionDef("no-such-option"), nullptr);
    EXPECT_EQ(names.size(), optionDefs().size());

    // Every default must pass the same validation as a user-given value (set() runs it), and
    // the typed getters must read it back.
    Config cfg;
    for (const auto& def : optionDefs()) {
        if (def.defaultValue.empty()) continue;
        SCOPED_TRACE(std::string(def.name));
        EXPECT_NO_THROW(cfg.set(def.name, std::string(def.defaultValue)));
        if (def.type == OptionType::Integer || def.type == OptionType::Size) {
            EXPECT_NO_THROW(cfg.getInt(def.name));
        } else if (def.type == OptionType::Boolean) {
            EXPECT_NO_THROW(cfg.getBool(def.name));
        }
    }
}

// Sizes take pgBackRest's units (powers of 1024) and are stored as bytes; a bad unit or a value
// out of range names the option and what it expects.
TEST_F(ConfigTest, SizeOptionsTakeUnits) {
    auto cfg = parse({"--config=" + emptyConf_, "backup", "--repo1-bundle-size=16MiB",
                      "--repo1-bundle-limit=64k"});
    EXPECT_EQ(cfg.getInt("repo1-bundle-size"), 16 << 20);
    EXPECT_EQ(cfg.getInt("repo1-bundle-limit"), 64 << 10);
    EXPECT_EQ(parse({"--config=" + emptyConf_, "backup", "--repo1-bundle-size=1gb"})
                  .getInt("repo1-bundle-size"),
              1 << 30);
    EXPECT_EQ(parse({"--config=" + emptyConf_, "backup", "--repo1-bundle-size=2097152"})
                  .getInt("repo1-bundle-size"),
              2 << 20);
    EXPECT_EQ(parse({"--config=" + emptyConf_, "backup"}).getInt("repo1-bundle-size"), 8 << 20);
    Error e = errorOf([&] {
        parse({"--config=" + emptyConf_, "backup", "--repo1-bundle-size=8MiBs"});
    });
    EXPECT_EQ(e.code(), ErrorCode::Option);
    EXPECT_NE(std::string(e.what()).find("invalid value '8MiBs' for option 'repo1-bundle-size'"),
              std::string::npos)
        << e.what();
    e = errorOf([&] { parse({"--config=" + emptyConf_, "backup", "--repo1-bundle-size=512KiB"}); });
    EXPECT_NE(std::string(e.what()).find("expected a size from 1048576 to 1073741824 bytes"),
              std::string::npos)
        << e.what();
}

}  // namespace
}  // namespace backrest

namespace backrest {
namespace {

TEST(SecretOptions, AreKnownByNameForEveryRepository) {
    for (auto name :
         {"repo1-s3-key", "repo1-s3-key-secret", "repo1-s3-token", "repo2-azure-key",
          "repo1-sftp-private-key-passphrase", "repo1-cipher-pass", "repo12-s3-key-secret"})
        EXPECT_TRUE(isSecretOption(name)) << name;
    for (auto name : {"repo1-s3-key-type", "repo1-s3-bucket", "repo1-azure-key-type", "repo1-path",
                      "s3-keyx", "repo1-sftp-private-key-file", "stanza"})
        EXPECT_FALSE(isSecretOption(name)) << name;
}

// A repository passphrase in a file every user reads is refused, naming the file, its mode and
// the chmod; group-readable (0640, pgBackRest's root:postgres pattern) is accepted.
TEST_F(ConfigTest, CipherPassInWorldReadableFileIsRefused) {
    auto conf =
        writeConf("[global]\nrepo1-cipher-type=aes-256-gcm\nrepo1-cipher-pass=hunter2xyz\n");
    std::filesystem::permissions(conf, std::filesystem::perms(0644));
    Error e = errorOf([&] { parse({"--config", conf, "--stanza=main", "info"}); });
    EXPECT_EQ(e.code(), ErrorCode::Config) << e.what();
    std::string m = e.what();
    EXPECT_NE(m.find("config file '" + conf + "' holds a repository passphrase"), std::string::npos)
        << m;
    EXPECT_NE(m.find("mode 0644"), std::string::npos) << m;
    EXPECT_NE(m.find("chmod 640 " + conf), std::string::npos) << m;
    EXPECT_EQ(m.find("hunter2xyz"), std::string::npos) << m;
    std::filesystem::permissions(conf, std::filesystem::perms(0640));
    auto cfg = parse({"--config", conf, "--stanza=main", "info"});
    EXPECT_EQ(cfg.getString("repo1-cipher-pass"), "hunter2xyz");
    EXPECT_EQ(cfg.getString("repo1-cipher-type"), "aes-256-gcm");
    // From the environment too; never from the command line.
    auto fromEnv = parse({"--config", emptyConf_, "info"}, {"BACKREST_REPO1_CIPHER_PASS=envpass"});
    EXPECT_EQ(fromEnv.getString("repo1-cipher-pass"), "envpass");
    Error cli = errorOf([&] {
        parse({"--config", emptyConf_, "--repo1-cipher-pass=clipass", "info"});
    });
    EXPECT_EQ(cli.code(), ErrorCode::Option);
    EXPECT_EQ(std::string(cli.what()).find("clipass"), std::string::npos) << cli.what();
    Error cliNew = errorOf([&] {
        parse({"--config", emptyConf_, "--repo1-cipher-pass-new=x", "info"});
    });
    EXPECT_EQ(cliNew.code(), ErrorCode::Option);
}

// backup-standby extends pgBackRest's boolean with prefer: a flag, --no- and y/n's spellings
// still work; pg2's path and connection are options of backup.
TEST_F(ConfigTest, BackupStandbyIsAFlagWithPrefer) {
    auto standby = [&](std::vector<std::string> args, const std::string& file = "") {
        std::vector<std::string> all{"--config", writeConf("[global]\n" + file), "--stanza=main",
                                     "backup"};
        all.insert(all.end(), args.begin(), args.end());
        return parse(all).getString("backup-standby");
    };
    EXPECT_EQ(standby({}), "n");
    EXPECT_EQ(standby({"--backup-standby"}), "y");
    EXPECT_EQ(standby({"--no-backup-standby"}), "n");
    EXPECT_EQ(standby({"--backup-standby=prefer"}), "prefer");
    EXPECT_EQ(standby({"--backup-standby=true"}), "y");
    EXPECT_EQ(standby({}, "backup-standby=off\n"), "n");
    EXPECT_EQ(standby({}, "backup-standby=prefer\n"), "prefer");
    EXPECT_EQ(standby({"--backup-standby", "--type=incr"}), "y");  // a flag takes no argument
    Error e = errorOf([&] { standby({"--backup-standby=maybe"}); });
    EXPECT_EQ(e.code(), ErrorCode::Option);
    EXPECT_NE(std::string(e.what()).find("backup-standby"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("prefer"), std::string::npos) << e.what();

    auto cfg = parse({"--config",
                      writeConf("[main]\npg2-path=/srv/standby\npg2-port=5433\n"
                                "pg2-socket-path=/run/pg\npg2-user=backup\n"),
                      "--stanza=main", "backup"});
    EXPECT_EQ(cfg.getString("pg2-path"), "/srv/standby");
    EXPECT_EQ(cfg.getInt("pg2-port"), 5433);
    EXPECT_EQ(cfg.getString("pg2-socket-path"), "/run/pg");
    EXPECT_EQ(cfg.getString("pg2-user"), "backup");
    EXPECT_EQ(cfg.getString("pg2-database"), "postgres");
    e = errorOf([&] { parse({"--config", emptyConf_, "backup", "--pg2-port=0"}); });
    EXPECT_NE(std::string(e.what()).find("pg2-port"), std::string::npos) << e.what();
}

}  // namespace
}  // namespace backrest
