// Log files as pgBackRest writes them: <log-path>/<stanza>-<command>.log, appended, a banner and
// begin/end lines per run, lines at log-level-file whatever the console's level, mode 0640.
#include "common/log_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "common/log.h"
#include "common/version.h"
#include "test/unit/config_support.h"
#include "test/unit/temp_dir.h"

namespace backrest {
namespace {

using test::parseConfig;

std::string readAll(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

class LogFileTest : public ::testing::Test {
  protected:
    void SetUp() override {
        savedLevel_ = logLevel();
        setLogLevel(LogLevel::Warn);
        savedUmask_ = ::umask(022);
    }
    void TearDown() override {
        setLogLevel(savedLevel_);
        ::umask(savedUmask_);
    }
    Config backup(std::vector<std::string> more = {}) {
        std::vector<std::string> args{"--config=/dev/null", "--stanza=main",
                                      "--log-path=" + logPath_};
        args.insert(args.end(), more.begin(), more.end());
        args.push_back("backup");
        return parseConfig(args, {"BACKREST_REPO1_S3_KEY_SECRET=hidden-secret"});
    }

    test::TempDir tmp_{"log-file"};
    std::string logPath_ = tmp_ / "log";
    LogLevel savedLevel_ = LogLevel::Warn;
    mode_t savedUmask_ = 022;
};

TEST(LogFileName, IsStanzaDashCommand) {
    EXPECT_EQ(logFileName("/var/log/backrest", "main", "backup"),
              "/var/log/backrest/main-backup.log");
    EXPECT_EQ(logFileName("/var/log/backrest/", "main", "archive-push"),
              "/var/log/backrest/main-archive-push.log");
    EXPECT_EQ(logFileName("/l", "", "info"), "/l/all-info.log");
}

TEST_F(LogFileTest, ARunIsAppendedWithItsBannerAndBeginAndEndLines) {
    {
        CommandLog log(backup());
        ASSERT_TRUE(log.isOpen());
        logInfo("copying {} files", 3);  // below the console's level, at the file's
        logDebug("not at info");
        log.end(0);
    }
    logInfo("after the run: in no file");
    std::string path = logPath_ + "/main-backup.log";
    std::string text = readAll(path);
    const std::string stamp = R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} P00 )";
    std::regex first("-------------------PROCESS START-------------------\n" + stamp +
                     "  INFO: backup command begin " + std::string(kVersion) +
                     ": --config=/dev/null --log-path=" + logPath_ +
                     " --repo1-s3-key-secret=<redacted> --stanza=main\n" + stamp +
                     "  INFO: copying 3 files\n" + stamp +
                     "  INFO: backup command end: completed successfully \\(\\d+ms\\)\n");
    EXPECT_TRUE(std::regex_match(text, first)) << text;
    EXPECT_EQ(text.find("hidden-secret"), std::string::npos);

    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    ASSERT_EQ(::stat(logPath_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0750u);

    // The next run appends after a blank line, as pgBackRest's do; a failure says its status.
    {
        CommandLog log(backup({"--log-level-file=debug"}));
        logDebug("now at debug");
        logFileWrite(LogLevel::Error, "[055] FileMissingError: gone");
        log.end(55);
    }
    std::string second = readAll(path).substr(text.size());
    std::regex next("\n-------------------PROCESS START-------------------\n" + stamp +
                    "  INFO: backup command begin [^\n]*--log-level-file=debug[^\n]*\n" + stamp +
                    " DEBUG: now at debug\n" + stamp +
                    " ERROR: \\[055\\] FileMissingError: gone\n" + stamp +
                    "  INFO: backup command end: aborted with exit status 55 \\(\\d+ms\\)\n");
    EXPECT_TRUE(std::regex_match(second, next)) << second;
}

// archive-get's exit 1 ("not in the archive") is an answer to PostgreSQL, not a failure: a log
// watcher that alarms on "aborted" must not fire at the end of every recovery.
TEST_F(LogFileTest, AStatusTheCommandReturnedIsACompletionNotAnAbort) {
    {
        CommandLog log(backup());
        log.end(1, CommandLog::EndedBy::Return);
    }
    {
        CommandLog log(backup());
        log.end(0, CommandLog::EndedBy::Return);
    }
    std::string text = readAll(logPath_ + "/main-backup.log");
    EXPECT_EQ(text.find("aborted"), std::string::npos) << text;
    EXPECT_TRUE(std::regex_search(
        text, std::regex("  INFO: backup command end: completed successfully with exit status 1 "
                         "\\(\\d+ms\\)\n")))
        << text;
    EXPECT_TRUE(std::regex_search(
        text, std::regex("  INFO: backup command end: completed successfully \\(\\d+ms\\)\n$")))
        << text;
}

TEST_F(LogFileTest, NoFileWithoutLogPathOrWithLevelOff) {
    {
        CommandLog log(parseConfig({"--config=/dev/null", "--stanza=main", "backup"}));
        EXPECT_FALSE(log.isOpen());
    }
    {
        CommandLog log(backup({"--log-level-file=off"}));
        EXPECT_FALSE(log.isOpen());
    }
    EXPECT_FALSE(std::filesystem::exists(logPath_));
}

// pgBackRest's choice: a run is not refused for want of its log, it says so and goes on.
TEST_F(LogFileTest, AnUnwritableLogPathIsAWarning) {
    test::writeFile(tmp_ / "file", "a file, not a directory\n");
    logPath_ = tmp_ / "file/log";
    ::testing::internal::CaptureStderr();
    {
        CommandLog log(backup());
        EXPECT_FALSE(log.isOpen());
        log.end(0);
    }
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(err, "WARN: unable to create log path '" + logPath_ +
                       "' (log-path): Not a directory; continuing without a log file\n");
}

// log-path is often the database owner's: a link it plants there must not have a root-run
// command append to (or create) the file it names.
TEST_F(LogFileTest, ALogFileThatIsASymbolicLinkIsNotFollowed) {
    std::filesystem::create_directories(logPath_);
    std::string target = test::writeFile(tmp_ / "target", "untouched\n");
    std::filesystem::create_symlink(target, logPath_ + "/main-backup.log");
    std::filesystem::create_symlink(tmp_ / "created", logPath_ + "/main-expire.log");
    ::testing::internal::CaptureStderr();
    {
        CommandLog log(backup());
        EXPECT_FALSE(log.isOpen());
        log.end(0);
    }
    std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_EQ(err, "WARN: unable to open log file '" + logPath_ +
                       "/main-backup.log' (log-path): Too many levels of symbolic links; "
                       "continuing without a log file\n");
    EXPECT_EQ(readAll(target), "untouched\n");
    ::testing::internal::CaptureStderr();
    {
        CommandLog log(parseConfig(
            {"--config=/dev/null", "--stanza=main", "--log-path=" + logPath_, "expire"}));
        EXPECT_FALSE(log.isOpen());
    }
    ::testing::internal::GetCapturedStderr();
    EXPECT_FALSE(std::filesystem::exists(tmp_ / "created"));  // a dangling link: not created
}

}  // namespace
}  // namespace backrest
