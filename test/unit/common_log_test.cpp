// The console log (common/log.h): level names as log-level-console takes them, an unknown one
// named in an OptionError, lines filtered by level, and the daemon's timestamped form.
#include <gtest/gtest.h>
#include <unistd.h>

#include <regex>
#include <string>

#include "common/error.h"
#include "common/log.h"
#include "common/user.h"
#include "test/unit/test_support.h"

using namespace backrest;
using backrest::test::errorOf;

namespace {

// Restores the process-wide level and timestamp setting whatever a test sets.
class CommonLog : public ::testing::Test {
  protected:
    ~CommonLog() override {
        setLogLevel(saved_);
        setLogTimestamps(false);
    }
    // What `f` writes to stderr.
    template <typename F>
    static std::string stderrOf(F&& f) {
        ::testing::internal::CaptureStderr();
        f();
        return ::testing::internal::GetCapturedStderr();
    }

    LogLevel saved_ = logLevel();
};

}  // namespace

TEST_F(CommonLog, LevelNames) {
    EXPECT_EQ(parseLogLevel("off"), LogLevel::Off);
    EXPECT_EQ(parseLogLevel("error"), LogLevel::Error);
    EXPECT_EQ(parseLogLevel("warn"), LogLevel::Warn);
    EXPECT_EQ(parseLogLevel("info"), LogLevel::Info);
    EXPECT_EQ(parseLogLevel("detail"), LogLevel::Detail);
    EXPECT_EQ(parseLogLevel("debug"), LogLevel::Debug);
    EXPECT_EQ(parseLogLevel("trace"), LogLevel::Debug);  // pgBackRest's finest level
}

TEST_F(CommonLog, UnknownLevelIsOptionErrorNamingIt) {
    for (const char* bad : {"verbose", "WARN", ""}) {
        Error e = errorOf([&] { parseLogLevel(bad); });
        EXPECT_EQ(e.code(), ErrorCode::Option) << bad;
        EXPECT_EQ(std::string(e.what()),
                  std::string("invalid log level '") + bad +
                      "' (expected off, error, warn, info, detail or debug)");
    }
}

TEST_F(CommonLog, LinesAtOrAboveTheLevelAreWrittenWithTheirTag) {
    setLogLevel(LogLevel::Info);
    std::string out = stderrOf([] {
        logError("e {}", 1);
        logWarn("w {}", 2);
        logInfo("i {}", 3);
        logDetail("d {}", 4);
        logDebug("g {}", 5);
    });
    EXPECT_EQ(out, "ERROR: e 1\nWARN: w 2\nINFO: i 3\n");

    setLogLevel(LogLevel::Debug);
    EXPECT_EQ(stderrOf([] {
                  logDetail("d");
                  logDebug("g");
              }),
              "DETAIL: d\nDEBUG: g\n");

    setLogLevel(LogLevel::Off);
    EXPECT_EQ(stderrOf([] { logError("nothing"); }), "");
}

// The daemon's lines land in the server log: each carries a UTC time and the pid.
TEST_F(CommonLog, TimestampsPrefixEachLine) {
    setLogLevel(LogLevel::Warn);
    setLogTimestamps(true);
    std::string out = stderrOf([] { logWarn("archive-push: queued"); });
    std::regex form(
        R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC backrest\[(\d+)\] WARN: archive-push: queued\n)");
    std::smatch m;
    ASSERT_TRUE(std::regex_match(out, m, form)) << out;
    EXPECT_EQ(m[1].str(), std::to_string(getpid()));
}

TEST(CommonUser, NamesByIdOrTheIdItself) {
    EXPECT_EQ(userName(0), "root");
    // An id no account has (the highest one before (uid_t)-1, which means "no change").
    EXPECT_EQ(userName(static_cast<uid_t>(-2)), std::to_string(static_cast<uid_t>(-2)));
}
