// version's line in both formats, and version-format read from each source check_pgbackrest
// and a migrated host use: a config file given with --config, the environment, the command line.
#include <gtest/gtest.h>

#include "common/version.h"
#include "config_support.h"
#include "temp_dir.h"
#include "worker/version.h"

namespace backrest {
namespace {

using cmd::versionLine;
using test::errorMessage;
using test::parseConfig;
using test::writeFile;

TEST(VersionLine, BackrestFormatIsTheDefaultAndUnchanged) {
    EXPECT_EQ(versionLine("backrest", "text"), "backrest 0.1.0");
    EXPECT_EQ(versionLine("backrest", "num"), "1000");
    EXPECT_EQ(versionLine(parseConfig({"version"})), std::string("backrest ") + kVersion);
    EXPECT_EQ(versionLine(parseConfig({"version", "--output=num"})), "1000");
}

// check_pgbackrest strips "pgBackRest " and compares the rest with 2.33 as a Perl number; the
// exporter compares the num form with 2045000-style numbers.
TEST(VersionLine, PgBackRestFormatNamesTheImplementedRelease) {
    EXPECT_STREQ(kPgBackRestVersion, "2.45");
    EXPECT_EQ(versionLine("pgbackrest", "text"), "pgBackRest 2.45");
    EXPECT_EQ(versionLine("pgbackrest", "num"), "2045000");
}

TEST(VersionLine, JsonIsRefused) {
    EXPECT_EQ(errorMessage([] { versionLine("backrest", "json"); }),
              "invalid value 'json' for option 'output': version prints text or num");
    EXPECT_EQ(errorMessage([] {
                  versionLine(parseConfig({"version", "--output=json"}));
              }),
              "invalid value 'json' for option 'output': version prints text or num");
}

TEST(VersionLine, FormatFromTheConfigFileGivenWithConfig) {
    test::TempDir tmp("version-format");
    std::string conf = writeFile(tmp / "pgbackrest.conf",
                                 "[global]\nrepo1-path=/r\nversion-format=pgbackrest\n\n"
                                 "[main]\npg1-path=/data\n");
    EXPECT_EQ(versionLine(parseConfig({"version", "--config=" + conf})), "pgBackRest 2.45");
    EXPECT_EQ(versionLine(parseConfig({"version", "--config=" + conf, "--output=num"})), "2045000");
    // The command line still wins over the file.
    EXPECT_EQ(
        versionLine(parseConfig({"version", "--config=" + conf, "--version-format=backrest"})),
        "backrest 0.1.0");
}

TEST(VersionLine, FormatFromTheEnvironment) {
    EXPECT_EQ(versionLine(parseConfig({"version"}, {"BACKREST_VERSION_FORMAT=pgbackrest"})),
              "pgBackRest 2.45");
    EXPECT_EQ(versionLine(parseConfig({"version", "--version-format=pgbackrest"})),
              "pgBackRest 2.45");
}

TEST(VersionLine, UnknownFormatIsRefusedByName) {
    std::string message = errorMessage([] {
        parseConfig({"version", "--version-format=pgBackRest"});
    });
    EXPECT_NE(message.find("version-format"), std::string::npos) << message;
    EXPECT_NE(message.find("pgBackRest"), std::string::npos) << message;
}

}  // namespace
}  // namespace backrest
