// Option values as a pgBackRest user writes them: sizes with its units on every size option,
// and its compression types refused with a message naming the option, the value and the fix.
#include "common/option_value.h"

#include <gtest/gtest.h>

#include "common/version_number.h"
#include "test/unit/config_support.h"

namespace backrest {
namespace {

using test::errorMessage;
using test::parseConfig;

TEST(OptionValue, SizesTakePgBackRestsUnits) {
    EXPECT_EQ(parseSize("0"), 0);
    EXPECT_EQ(parseSize("4096"), 4096);
    EXPECT_EQ(parseSize("7b"), 7);
    EXPECT_EQ(parseSize("7B"), 7);
    for (auto unit : {"k", "kb", "KiB", "K", "KB", "kIb"})
        EXPECT_EQ(parseSize(std::string("3") + unit), 3 << 10) << unit;
    for (auto unit : {"m", "mb", "MiB", "MB"})
        EXPECT_EQ(parseSize(std::string("4") + unit), 4 << 20) << unit;
    for (auto unit : {"g", "gb", "GiB"})
        EXPECT_EQ(parseSize(std::string("2") + unit), 2ll << 30) << unit;
    for (auto unit : {"t", "tb", "TiB"})
        EXPECT_EQ(parseSize(std::string("2") + unit), 2ll << 40) << unit;
    for (auto unit : {"p", "pb", "PiB"})
        EXPECT_EQ(parseSize(std::string("2") + unit), 2ll << 50) << unit;
    for (auto bad : {"", "MiB", "4 MiB", "4MiBs", "4mibb", "4x", "-4k", "4.5MiB", "4bb", "4ib",
                     "8192PiB", "99999999999999999999"})
        EXPECT_EQ(parseSize(bad), std::nullopt) << bad;
}

// buffer-size was an Integer: 4MiB, pgBackRest's own spelling, was refused.
TEST(OptionValue, EverySizeOptionTakesUnits) {
    auto config = parseConfig(
        {"--config=/dev/null", "--stanza=main", "--buffer-size=4MiB", "--repo1-bundle-size=16MB",
         "--repo1-bundle-limit=64k", "--repo1-storage-upload-chunk-size=5m", "info"},
        {});
    EXPECT_EQ(config.getInt(opt::bufferSize), 4 << 20);
    EXPECT_EQ(config.getInt(opt::repo1BundleSize), 16 << 20);
    EXPECT_EQ(config.getInt(opt::repo1BundleLimit), 64 << 10);
    EXPECT_EQ(config.getInt(opt::repo1StorageUploadChunkSize), 5 << 20);
    // Stored as bytes, so a child command gets a plain number.
    EXPECT_EQ(config.getString("buffer-size"), "4194304");
    EXPECT_EQ(parseConfig({"--config=/dev/null", "info"}).getInt(opt::bufferSize), 1 << 20);
    EXPECT_EQ(
        parseConfig({"--config=/dev/null", "--buffer-size=65536", "info"}).getInt(opt::bufferSize),
        65536);
    for (const OptionDef& def : optionDefs()) {
        if (def.type != OptionType::Size) continue;
        EXPECT_NO_THROW(
            parseConfig({"--config=/dev/null", "--" + std::string(def.name) + "=1MiB", "info"}))
            << def.name;
    }
}

TEST(OptionValue, MalformedOrOutOfRangeSizesNameTheOption) {
    EXPECT_EQ(errorMessage([] {
                  parseConfig({"--config=/dev/null", "--buffer-size=4MB/s", "info"});
              }),
              "invalid value '4MB/s' for option 'buffer-size' (from command line): expected a "
              "size such as 2MiB, 512KiB or a number of bytes");
    EXPECT_EQ(errorMessage([] {
                  parseConfig({"--config=/dev/null", "--buffer-size=1GiB", "info"});
              }),
              "invalid value '1GiB' for option 'buffer-size' (from command line): expected a size "
              "from 1 to 67108864 bytes");
    EXPECT_EQ(errorMessage([] {
                  parseConfig({"--config=/dev/null", "info"}, {"BACKREST_BUFFER_SIZE=9999999TiB"});
              }),
              "invalid value '9999999TiB' for option 'buffer-size' (from environment variable "
              "BACKREST_BUFFER_SIZE): expected a size from 1 to 67108864 bytes");
    // Well-formed but beyond 64 bits: out of range too, not malformed.
    for (std::string huge : {"99999999999999999999", "99999999TiB", "8192PiB"})
        EXPECT_EQ(errorMessage([&] {
                      parseConfig({"--config=/dev/null", "--buffer-size=" + huge, "info"});
                  }),
                  "invalid value '" + huge +
                      "' for option 'buffer-size' (from command line): expected a size from 1 to "
                      "67108864 bytes");
    for (std::string malformed : {"-1", "1e3", "4 MiB", "0x10", "+5", "4EiB"})
        EXPECT_EQ(errorMessage([&] {
                      parseConfig({"--config=/dev/null", "--buffer-size=" + malformed, "info"});
                  }),
                  "invalid value '" + malformed +
                      "' for option 'buffer-size' (from command line): expected a size such as "
                      "2MiB, 512KiB or a number of bytes");
}

// gz is pgBackRest's default compression: a carried-over file names it more often than not.
TEST(OptionValue, PgBackRestCompressTypesAreRefusedByName) {
    for (std::string type : {"gz", "bz2"}) {
        std::string m = errorMessage([&] {
            parseConfig({"--config=/dev/null", "--compress-type=" + type, "backup"});
        });
        EXPECT_EQ(m, "invalid value '" + type +
                         "' for option 'compress-type' (from command line): " + type +
                         " is a pgBackRest compression backrest does not implement; backrest "
                         "compresses with zst (its default), lz4 or none: set compress-type=zst or "
                         "leave it unset");
    }
    EXPECT_EQ(parseConfig({"--config=/dev/null", "--compress-type=none", "backup"})
                  .getString(opt::compressType),
              "none");
    EXPECT_EQ(parseConfig({"--config=/dev/null", "--compress-type=lz4", "backup"})
                  .getString(opt::compressType),
              "lz4");
}

// stop, start and every log file use the stanza name in a path before any repository code sees
// it: "../x" made stop write lock-path/../x.stop and the log <log-path>/../x-stop.log.
TEST(OptionValue, StanzaThatCouldNameAnotherDirectoryIsRefusedWhileParsing) {
    for (std::string bad :
         {"../x", "a/b", "..", ".", ".hidden", "a\\b", "two words", "tab\tbed", "nl\nx"}) {
        for (std::string command : {"stop", "start", "stanza-delete", "info", "backup"}) {
            EXPECT_EQ(errorMessage([&] {
                          parseConfig({"--config=/dev/null", "--stanza=" + bad, command});
                      }),
                      "invalid stanza name '" + bad + "': use letters, digits, '-' and '_'")
                << command;
        }
    }
    for (std::string variable : {"BACKREST_STANZA=../x", "PGBACKREST_STANZA=../x"}) {
        EXPECT_EQ(errorMessage([&] {
                      parseConfig({"--config=/dev/null", "stop"}, {variable});
                  }),
                  "invalid stanza name '../x': use letters, digits, '-' and '_'")
            << variable;
    }
    for (std::string good : {"main", "main2", "pg15-main_a", "db.v2"}) {
        EXPECT_EQ(
            parseConfig({"--config=/dev/null", "--stanza=" + good, "stop"}).getString(opt::stanza),
            good);
    }
}

TEST(OptionValue, EnvironmentSpellingOfAnOption) {
    EXPECT_EQ(variableOfOption("BACKREST_", "repo1-s3-key-secret"), "BACKREST_REPO1_S3_KEY_SECRET");
    EXPECT_EQ(optionNameOfVariable("REPO1_S3_KEY_SECRET"), "repo1-s3-key-secret");
}

TEST(VersionNumber, IsPgBackRestsNumericForm) {
    EXPECT_EQ(versionNumber("2.45"), 2045000);
    EXPECT_EQ(versionNumber("2.45.1"), 2045001);
    EXPECT_EQ(versionNumber("2.46dev"), 2046000);
    EXPECT_EQ(versionNumber("0.1.0"), 1000);
    EXPECT_EQ(versionNumber("1"), 1000000);
}

// num is the version command's; another command would print text as though not asked.
TEST(OptionValue, OutputNumIsOnlyForVersion) {
    EXPECT_EQ(parseConfig({"--config=/dev/null", "--output=num", "version"}).getString(opt::output),
              "num");
    EXPECT_EQ(errorMessage([] {
                  parseConfig({"--config=/dev/null", "--output=num", "info"});
              }),
              "invalid value 'num' for option 'output': only the version command prints a number; "
              "info takes text or json");
}

}  // namespace
}  // namespace backrest
