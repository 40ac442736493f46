// pgBackRest's PGBACKREST_* variables, read when BACKREST_* is absent: a migrated host keeps
// them in cron lines and systemd units. Both set differently is an error; secrets stay secret.
#include "common/config_env.h"

#include <gtest/gtest.h>

#include "common/log.h"
#include "test/unit/config_support.h"

namespace backrest {
namespace {

using test::errorMessage;
using test::parseConfig;

TEST(ConfigEnvironment, PgBackRestSpellingIsReadInTheAbsenceOfOurs) {
    auto config = parseConfig(
        {"--config=/dev/null", "backup"},
        {"PGBACKREST_STANZA=main", "PGBACKREST_REPO1_PATH=/pgbr", "PGBACKREST_PROCESS_MAX=3",
         "PGBACKREST_BUFFER_SIZE=2MiB", "PGBACKREST_REPO1_CIPHER_PASS=s3cret-value",
         "PGBACKREST_TABLESPACE_MAP=a=/x:b=/y"});
    EXPECT_EQ(config.getString(opt::stanza), "main");
    EXPECT_EQ(config.getString(opt::repo1Path), "/pgbr");
    EXPECT_EQ(config.getInt(opt::processMax), 3);
    EXPECT_EQ(config.getInt(opt::bufferSize), 2 << 20);
    EXPECT_EQ(config.getString(opt::repo1CipherPass), "s3cret-value");
    EXPECT_EQ(config.getMulti(opt::tablespaceMap), (std::vector<std::string>{"a=/x", "b=/y"}));
    EXPECT_EQ(config.source(opt::repo1Path), OptionSource::Environment);
    // A secret read so is passed on to no child's arguments, and logged redacted.
    for (const auto& arg : config.passThroughArgs())
        EXPECT_EQ(arg.find("s3cret-value"), std::string::npos) << arg;
    for (const auto& arg : config.describeOptions())
        EXPECT_EQ(arg.find("s3cret-value"), std::string::npos) << arg;
}

TEST(ConfigEnvironment, OursWinsAndTheCommandLineOverEither) {
    auto config = parseConfig({"--config=/dev/null", "--process-max=5", "backup"},
                              {"PGBACKREST_PROCESS_MAX=3", "BACKREST_PROCESS_MAX=3",
                               "PGBACKREST_REPO1_PATH=/same", "BACKREST_REPO1_PATH=/same"});
    EXPECT_EQ(config.getInt(opt::processMax), 5);
    EXPECT_EQ(config.getString(opt::repo1Path), "/same");
    // The same value twice, spelled differently, is the same setting.
    EXPECT_EQ(
        parseConfig({"--config=/dev/null", "backup"}, {"PGBACKREST_DELTA=y", "BACKREST_DELTA=true"})
            .getBool(opt::delta),
        true);
}

// Two settings leave no way to know which one is meant; the values are not printed.
TEST(ConfigEnvironment, BothSpellingsWithDifferentValuesAreAnError) {
    std::string m = errorMessage([] {
        parseConfig({"--config=/dev/null", "info"}, {"BACKREST_REPO1_CIPHER_PASS=ours-pass",
                                                     "PGBACKREST_REPO1_CIPHER_PASS=theirs"});
    });
    EXPECT_EQ(m,
              "environment variables BACKREST_REPO1_CIPHER_PASS and PGBACKREST_REPO1_CIPHER_PASS "
              "both set option 'repo1-cipher-pass', to different values: unset one (backrest "
              "reads BACKREST_REPO1_CIPHER_PASS first, pgBackRest's spelling only in its absence)");
    EXPECT_EQ(m.find("ours-pass"), std::string::npos);
    EXPECT_EQ(m.find("theirs"), std::string::npos);
}

TEST(ConfigEnvironment, PgBackRestVariablesBackrestRefusesOrIgnores) {
    EXPECT_EQ(errorMessage([] {
                  parseConfig({"--config=/dev/null", "info"}, {"PGBACKREST_PROCESS_MAX=many"});
              }),
              "invalid value 'many' for option 'process-max' (from environment variable "
              "PGBACKREST_PROCESS_MAX): expected an integer");
    EXPECT_NE(errorMessage([] {
                  parseConfig({"--config=/dev/null", "info"}, {"PGBACKREST_REPO5_PATH=/r5"});
              }).find("backrest supports repo1 to repo4"),
              std::string::npos);
    LogLevel saved = logLevel();
    setLogLevel(LogLevel::Warn);
    ::testing::internal::CaptureStderr();
    auto config = parseConfig({"--config=/dev/null", "info"},
                              {"PGBACKREST_NO_SUCH=1", "PGBACKREST_LOG_SUBPROCESS=y"});
    std::string err = ::testing::internal::GetCapturedStderr();
    setLogLevel(saved);
    EXPECT_NE(err.find("ignoring environment variable PGBACKREST_NO_SUCH: 'no-such' is no option "
                       "of backrest or pgBackRest"),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("ignoring pgBackRest option 'log-subprocess' (environment variable "
                       "PGBACKREST_LOG_SUBPROCESS)"),
              std::string::npos)
        << err;
}

}  // namespace
}  // namespace backrest
