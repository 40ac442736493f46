// Stop files (repo/stop_file.h): their names, and the LockAcquireError a stopped host or stanza
// gives.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "common/error.h"
#include "repo/stop_file.h"
#include "temp_dir.h"

namespace backrest::repo {
namespace {

std::string stopMessage(const std::string& lockPath, const std::optional<std::string>& stanza) {
    try {
        requireNotStopped(lockPath, stanza, "backup");
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Lock);
        EXPECT_EQ(e.exitCode(), 29);
        return e.what();
    }
    return "";
}

TEST(StopFile, NamesAreThoseOfPgBackRest) {
    EXPECT_EQ(stopFile("/tmp/l", std::string("main")), "/tmp/l/main.stop");
    EXPECT_EQ(stopFile("/tmp/l", std::nullopt), "/tmp/l/all.stop");
}

TEST(StopFile, NothingStoppedRuns) {
    test::TempDir dir("stop-file");
    EXPECT_EQ(stopMessage(dir.path(), std::string("main")), "");
    EXPECT_EQ(activeStopFile(dir.path(), std::string("main")), std::nullopt);
}

TEST(StopFile, AStanzaStopStopsOnlyThatStanza) {
    test::TempDir dir("stop-file");
    std::ofstream(dir / "main.stop").close();
    EXPECT_EQ(stopMessage(dir.path(), std::string("other")), "");
    EXPECT_EQ(stopMessage(dir.path(), std::string("main")),
              "backup: stop file exists for stanza main (" + dir.path() +
                  "/main.stop); run 'backrest --stanza=main start' to allow backrest to run again");
}

TEST(StopFile, AllStopsEveryStanzaAndCommandsWithoutOne) {
    test::TempDir dir("stop-file");
    std::ofstream(dir / "all.stop").close();
    std::string expected = "backup: stop file exists for all stanzas (" + dir.path() +
                           "/all.stop); run 'backrest start' to allow backrest to run again";
    EXPECT_EQ(stopMessage(dir.path(), std::string("main")), expected);
    EXPECT_EQ(stopMessage(dir.path(), std::nullopt), expected);
}

TEST(StopFile, TheStanzasOwnIsNamedFirst) {
    test::TempDir dir("stop-file");
    std::ofstream(dir / "all.stop").close();
    std::ofstream(dir / "main.stop").close();
    EXPECT_EQ(activeStopFile(dir.path(), std::string("main")), dir / "main.stop");
}

}  // namespace
}  // namespace backrest::repo
