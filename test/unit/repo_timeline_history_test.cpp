// Timeline history files (repo/timeline_history.h): what PostgreSQL writes parses to the switch
// points; a damaged file is a FormatError naming the file and the line, never a wrong timeline.
#include <gtest/gtest.h>

#include <string>

#include "common/error.h"
#include "repo/timeline_history.h"
#include "test/unit/test_support.h"

using namespace backrest;
using namespace backrest::repo;
using backrest::test::errorOf;
using backrest::test::has;

namespace {

constexpr const char* kContext = "archive/main/15-1/00000003.history";

Error parseError(const std::string& text) {
    return errorOf([&] { parseTimelineHistory(text, kContext); });
}

}  // namespace

// As PostgreSQL writes 00000003.history: a tab after each field, a reason, no trailing newline
// required; comments, blank lines and CRLF endings are skipped.
TEST(RepoTimelineHistory, ParsesPostgresqlsLines) {
    auto switches = parseTimelineHistory(
        "# written by hand\n"
        "\n"
        "1\t0/5000000\tno recovery target specified\n"
        "   \r\n"
        "2 \t 16/B374D848\tbefore 2026-11-21 23:59:59+00\r\n",
        kContext);
    ASSERT_EQ(switches.size(), 2u);
    EXPECT_EQ(switches[0].parent, 1u);
    EXPECT_EQ(switches[0].switchLsn, 0x5000000u);
    EXPECT_EQ(switches[1].parent, 2u);
    EXPECT_EQ(switches[1].switchLsn, 0x16B374D848u);
}

TEST(RepoTimelineHistory, EmptyFileHasNoSwitch) {
    EXPECT_TRUE(parseTimelineHistory("", kContext).empty());
    EXPECT_TRUE(parseTimelineHistory("# nothing\n\n", kContext).empty());
}

TEST(RepoTimelineHistory, LineWithoutLsnIsFormatError) {
    Error e = parseError("1\t0/5000000\treason\n2\n");
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_TRUE(
        has(e.what(), std::string("timeline history ") + kContext + " line 2 is malformed: '2'"))
        << e.what();
}

TEST(RepoTimelineHistory, TimelineThatIsNotANumberIsFormatError) {
    for (const char* line : {"one\t0/5000000\treason", "-1\t0/5000000", "12345678901\t0/1"}) {
        Error e = parseError(line);
        EXPECT_EQ(e.code(), ErrorCode::Format) << line;
        EXPECT_TRUE(has(e.what(), "line 1 is malformed")) << e.what();
        EXPECT_TRUE(has(e.what(), kContext)) << e.what();
    }
}

TEST(RepoTimelineHistory, BadLsnIsFormatErrorNamingTheLine) {
    Error e = parseError("1\t0/5000000\tok\n2\tnot-an-lsn\treason\n");
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_TRUE(has(e.what(), std::string("timeline history ") + kContext + " line 2:"))
        << e.what();
    EXPECT_TRUE(has(e.what(), "invalid LSN 'not-an-lsn'")) << e.what();
}

// Parents only grow along a history: a file out of order (or a line repeated) was not written by
// PostgreSQL and would send recovery down the wrong branch.
TEST(RepoTimelineHistory, ParentsOutOfOrderAreFormatError) {
    for (const char* text : {"2\t0/6000000\n1\t0/5000000\n", "1\t0/5000000\n1\t0/5000000\n"}) {
        Error e = parseError(text);
        EXPECT_EQ(e.code(), ErrorCode::Format) << text;
        EXPECT_TRUE(has(e.what(), "line 2: timeline 1 does not follow timeline")) << e.what();
    }
}
