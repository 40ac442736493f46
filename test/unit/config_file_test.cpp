// The include directory (config-include-path, pgBackRest's conf.d): which files are read, in
// which order, which value wins, and errors that name the file and the line.
#include "common/config_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/log.h"
#include "test/unit/config_support.h"
#include "test/unit/temp_dir.h"

namespace backrest {
namespace {

using test::errorMessage;
using test::parseConfig;
using test::writeFile;

class ConfigIncludeTest : public ::testing::Test {
  protected:
    test::TempDir tmp_{"config-include"};
    std::string conf_ = writeFile(tmp_ / "backrest.conf",
                                  "[global]\nrepo1-path=/main\nprocess-max=2\n[main]\n"
                                  "compress-level=4\n");
    std::string confd_ = tmp_ / "conf.d";

    Config parseWithInclude(std::vector<std::string> more = {}) {
        std::vector<std::string> args{"--config=" + conf_, "--config-include-path=" + confd_,
                                      "--stanza=main"};
        args.insert(args.end(), more.begin(), more.end());
        args.push_back("backup");
        return parseConfig(args);
    }
};

TEST_F(ConfigIncludeTest, EveryConfFileIsReadAsPartOfOneFile) {
    writeFile(confd_ + "/20-stanza.conf", "[main]\npg1-path=/data\nprocess-max=4\n");
    writeFile(confd_ + "/10-log.conf", "[global]\nlog-path=/var/log/backrest\n");
    writeFile(confd_ + "/notes.txt", "not an option file\n");
    writeFile(confd_ + "/README", "[global\n");
    std::filesystem::create_directories(confd_ + "/old.d");
    auto config = parseWithInclude();
    EXPECT_EQ(config.getString(opt::repo1Path), "/main");  // the main file
    EXPECT_EQ(config.getString(opt::pg1Path), "/data");    // an included file
    EXPECT_EQ(config.getString(opt::logPath), "/var/log/backrest");
    EXPECT_EQ(config.getInt(opt::processMax), 4);  // [main] beats [global], any file
    EXPECT_EQ(config.getInt(opt::compressLevel), 4);
    EXPECT_EQ(config.source(opt::pg1Path), OptionSource::ConfigFile);
    // The command line and the environment still win over every file.
    EXPECT_EQ(parseWithInclude({"--process-max=6"}).getInt(opt::processMax), 6);
}

TEST_F(ConfigIncludeTest, FilesAreReadInNameOrder) {
    writeFile(confd_ + "/b.conf", "[main]\nrecovery-option=b=2\n");
    writeFile(confd_ + "/a.conf", "[main]\nrecovery-option=a=1\n");
    writeFile(confd_ + "/c.conf", "[global]\nrecovery-option=c=3\n");
    writeFile(conf_, "[main]\nrecovery-option=main=0\n");
    auto values = parseWithInclude().getMulti(opt::recoveryOption);
    EXPECT_EQ(values, (std::vector<std::string>{"main=0", "a=1", "b=2"}));
}

// pgBackRest: "cannot be set multiple times"; which file would win is not for the order of names.
TEST_F(ConfigIncludeTest, AnOptionSetInTwoFilesOfOneSectionIsAnError) {
    writeFile(confd_ + "/a.conf", "[global]\n\n# retention\nrepo1-retention-full=2\n");
    writeFile(confd_ + "/b.conf", "[global]\nrepo1-retention-full=3\n");
    EXPECT_EQ(errorMessage([&] { parseWithInclude(); }, ErrorCode::Config),
              "config file '" + confd_ +
                  "/b.conf' line 2: option 'repo1-retention-full' is set "
                  "more than once in section [global] (first in '" +
                  confd_ + "/a.conf' line 4)");
}

TEST_F(ConfigIncludeTest, ErrorsNameTheIncludedFileAndLine) {
    writeFile(confd_ + "/a.conf", "[global]\nprocess-max=2x\n");
    EXPECT_EQ(errorMessage([&] { parseWithInclude(); }),
              "invalid value '2x' for option 'process-max' (from config file " + confd_ +
                  "/a.conf): expected an integer");
    writeFile(confd_ + "/a.conf", "[global]\n\nno equals sign\n");
    EXPECT_EQ(errorMessage([&] { parseWithInclude(); }, ErrorCode::Config),
              "config file '" + confd_ +
                  "/a.conf' line 3: expected 'key=value', '[section]' or a comment");
    writeFile(confd_ + "/a.conf", "[global]\nrepo1-host=backup1\n");
    EXPECT_NE(errorMessage([&] {
                  parseWithInclude();
              }).find("option 'repo1-host' (config file '" + confd_ + "/a.conf' line 2)"),
              std::string::npos);
}

TEST_F(ConfigIncludeTest, WhichDirectoryIsRead) {
    writeFile(confd_ + "/a.conf", "[global]\npg1-path=/included\n");
    // A given --config alone reads no include directory (pgBackRest's rule).
    EXPECT_FALSE(parseConfig({"--config=" + conf_, "backup"}).find(opt::pg1Path));
    // From the environment as from the command line.
    EXPECT_EQ(
        parseConfig({"--config=" + conf_, "backup"}, {"BACKREST_CONFIG_INCLUDE_PATH=" + confd_})
            .getString(opt::pg1Path),
        "/included");
    // A given directory must exist; the default one may not.
    EXPECT_EQ(errorMessage(
                  [&] {
                      parseConfig({"--config=" + conf_, "--config-include-path=" + tmp_ / "none",
                                   "backup"});
                  },
                  ErrorCode::Config),
              "config include path '" + tmp_ / "none" + "' (config-include-path) does not exist");
    EXPECT_EQ(
        errorMessage(
            [&] {
                parseConfig({"--config=" + conf_, "--config-include-path=" + conf_, "backup"});
            },
            ErrorCode::Config),
        "config include path '" + conf_ + "' (config-include-path) is not a directory");
    EXPECT_EQ(parseConfig({"--config=" + conf_, "backup"}).getString(opt::configIncludePath),
              "/etc/backrest/conf.d");
}

// Like stanza and config, the include path chooses what is read: a file cannot set it.
TEST_F(ConfigIncludeTest, AFileCannotSetTheIncludePath) {
    writeFile(conf_, "[global]\nconfig-include-path=" + confd_ + "\n");
    writeFile(confd_ + "/a.conf", "[global]\npg1-path=/included\n");
    LogLevel saved = logLevel();
    setLogLevel(LogLevel::Warn);
    ::testing::internal::CaptureStderr();
    auto config = parseConfig({"--config=" + conf_, "backup"});
    std::string err = ::testing::internal::GetCapturedStderr();
    setLogLevel(saved);
    EXPECT_FALSE(config.find(opt::pg1Path));
    EXPECT_NE(err.find("line 2: ignoring option 'config-include-path' (only allowed on the "
                       "command line or in the environment)"),
              std::string::npos)
        << err;
}

// Each file holding a passphrase is checked, the included ones too.
TEST_F(ConfigIncludeTest, AnIncludedFileWithAPassphraseMustNotBeWorldReadable) {
    std::string secret = writeFile(confd_ + "/secret.conf",
                                   "[global]\nrepo1-cipher-type=aes-256-gcm\n"
                                   "repo1-cipher-pass=hunter2xyz\n");
    ::chmod(secret.c_str(), 0644);
    std::string m = errorMessage([&] { parseWithInclude(); }, ErrorCode::Config);
    EXPECT_NE(m.find("config file '" + secret + "' holds a repository passphrase"),
              std::string::npos)
        << m;
    EXPECT_EQ(m.find("hunter2xyz"), std::string::npos);
    ::chmod(secret.c_str(), 0640);
    EXPECT_EQ(parseWithInclude().getString(opt::repo1CipherPass), "hunter2xyz");
}

}  // namespace
}  // namespace backrest
