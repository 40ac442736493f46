// Recovery target values: the forms PostgreSQL 15 accepts, and the ones refused naming 'target'.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "common/error.h"
#include "pg/recovery_target.h"
#include "test/unit/test_support.h"

namespace backrest::pg {
namespace {

using backrest::test::errorOf;
using backrest::test::has;

constexpr double kNoon = 1764936000;  // 2025-12-05 12:00:00 UTC

// Sets TZ for one test and restores it after.
class LocalZone {
  public:
    explicit LocalZone(const char* zone) {
        if (const char* old = std::getenv("TZ")) old_ = old, had_ = true;
        ::setenv("TZ", zone, 1);
        ::tzset();
    }
    ~LocalZone() {
        if (had_)
            ::setenv("TZ", old_.c_str(), 1);
        else
            ::unsetenv("TZ");
        ::tzset();
    }

  private:
    std::string old_;
    bool had_ = false;
};

TEST(PgRecoveryTarget, TimeWithZones) {
    EXPECT_DOUBLE_EQ(parseTargetTime("2025-12-05 12:00:00+00").epoch, kNoon);
    EXPECT_DOUBLE_EQ(parseTargetTime("2025-12-05 12:00:00Z").epoch, kNoon);
    EXPECT_DOUBLE_EQ(parseTargetTime("2025-12-05 12:00:00 UTC").epoch, kNoon);
    EXPECT_DOUBLE_EQ(parseTargetTime("2025-12-05T12:00:00z").epoch, kNoon);
    EXPECT_DOUBLE_EQ(parseTargetTime("2025-12-05 13:30:00+01:30").epoch, kNoon);
    EXPECT_DOUBLE_EQ(parseTargetTime("2025-12-05 13:30:00+0130").epoch, kNoon);
    EXPECT_DOUBLE_EQ(parseTargetTime("2025-12-05 07:00:00-05").epoch, kNoon);
    EXPECT_DOUBLE_EQ(parseTargetTime("2025-12-05 12:00+00").epoch, kNoon);
    EXPECT_DOUBLE_EQ(parseTargetTime(" 2025-12-05 12:00:00.250000+00 ").epoch, kNoon + 0.25);
    EXPECT_DOUBLE_EQ(parseTargetTime("2024-02-29 00:00:00+00").epoch, 1709164800);
    auto t = parseTargetTime("2025-12-05 12:00:00.5+00");
    EXPECT_TRUE(t.zoned);
    EXPECT_EQ(t.setting, "2025-12-05 12:00:00.5+00");  // as given
}

TEST(PgRecoveryTarget, TimeWithoutZoneIsTheRestoringHostsAndGetsItsOffset) {
    {
        LocalZone zone("Europe/Paris");  // UTC+1 in December, +2 in July
        auto t = parseTargetTime("2025-12-05 13:00:00");
        EXPECT_FALSE(t.zoned);
        EXPECT_DOUBLE_EQ(t.epoch, kNoon);
        EXPECT_EQ(t.setting, "2025-12-05 13:00:00+01:00");
        EXPECT_EQ(parseTargetTime("2025-07-01 12:00:00").setting, "2025-07-01 12:00:00+02:00");
    }
    {
        LocalZone zone("UTC");
        EXPECT_EQ(parseTargetTime("2025-12-05T12:00:00.123").setting,
                  "2025-12-05T12:00:00.123+00:00");
        EXPECT_DOUBLE_EQ(parseTargetTime("2025-12-05 12:00:00").epoch, kNoon);
    }
}

TEST(PgRecoveryTarget, MalformedTimesAreRefusedNamingTheOption) {
    for (const char* bad :
         {"", "yesterday", "2025-12-05", "12:00:00", "2025-13-01 00:00:00", "2025-02-29 00:00:00",
          "2025-12-32 00:00:00", "2025-12-05 24:00:00", "2025-12-05 12:60:00",
          "2025-12-05 12:00:61", "2025-12-05 12:00:00+16", "2025-12-05 12:00:00 CEST",
          "2025/12/05 12:00:00", "2025-12-05 12:00:00+00 extra"}) {
        auto e = errorOf([&] { parseTargetTime(bad); });
        EXPECT_EQ(e.code(), ErrorCode::Option) << bad;
        EXPECT_TRUE(has(e.what(), "option 'target' with --type=time")) << e.what();
        EXPECT_TRUE(has(e.what(), std::string("'") + bad + "'")) << e.what();
        EXPECT_TRUE(has(e.what(), "YYYY-MM-DD HH:MM:SS")) << e.what();
    }
}

TEST(PgRecoveryTarget, Xid) {
    EXPECT_EQ(parseTargetXid("1"), 1u);
    EXPECT_EQ(parseTargetXid("4294967295"), 4294967295u);
    EXPECT_EQ(parseTargetXid("8589934597"), 8589934597u);  // epoch 2, xid 5
    EXPECT_EQ(parseTargetXid("18446744073709551615"), UINT64_MAX);
    for (const char* bad : {"", "0", "-5", "+5", "12ab", " 12", "1.5", "18446744073709551616"}) {
        auto e = errorOf([&] { parseTargetXid(bad); });
        EXPECT_EQ(e.code(), ErrorCode::Option) << bad;
        EXPECT_TRUE(has(e.what(), "option 'target' with --type=xid")) << e.what();
    }
}

TEST(PgRecoveryTarget, Lsn) {
    EXPECT_EQ(parseTargetLsn("0/5001F60"), 0x5001F60u);
    EXPECT_EQ(parseTargetLsn("16/b374d848"), 0x16B374D848u);
    for (const char* bad : {"", "0/XYZ", "5001F60", "0/", "/1", "123456789/0", "1/2/3"}) {
        auto e = errorOf([&] { parseTargetLsn(bad); });
        EXPECT_EQ(e.code(), ErrorCode::Option) << bad;
        EXPECT_TRUE(has(e.what(), "option 'target' with --type=lsn")) << e.what();
        EXPECT_TRUE(has(e.what(), "X/X")) << e.what();
    }
}

// PostgreSQL reads a numeric recovery_target_timeline with strtoul(.., 0); restore checks the
// archive along the timeline it reads itself: only forms both read alike, written in decimal.
TEST(PgRecoveryTarget, Timeline) {
    EXPECT_EQ(parseTargetTimeline("current"), "current");
    EXPECT_EQ(parseTargetTimeline("latest"), "latest");
    EXPECT_EQ(parseTargetTimeline("1"), "1");
    EXPECT_EQ(parseTargetTimeline("12"), "12");
    EXPECT_EQ(parseTargetTimeline("0x2"), "2");
    EXPECT_EQ(parseTargetTimeline("0XfF"), "255");
    EXPECT_EQ(parseTargetTimeline("4294967295"), "4294967295");
    EXPECT_EQ(parseTargetTimeline("0xFFFFFFFF"), "4294967295");
    for (const char* bad :
         {"", "0", "00", "010", "02", "0x", "0x0", " 2", "2 ", "+2", "-1", "1.0", "4294967296",
          "0x100000000", "99999999999999999999", "Latest", "two", "0b10"}) {
        auto e = errorOf([&] { parseTargetTimeline(bad); });
        EXPECT_EQ(e.code(), ErrorCode::Option) << bad;
        EXPECT_TRUE(has(e.what(), "option 'target-timeline'")) << e.what();
        EXPECT_TRUE(has(e.what(), std::string("'") + bad + "'")) << e.what();
    }
    auto e =
        errorOf([] { parseTargetTimeline("010", "recovery-option=recovery_target_timeline"); });
    EXPECT_TRUE(has(e.what(), "leading zero")) << e.what();
    EXPECT_TRUE(has(e.what(), "option 'recovery-option=recovery_target_timeline'")) << e.what();
}

TEST(PgRecoveryTarget, Name) {
    checkTargetName("before_upgrade");
    checkTargetName(std::string(63, 'n'));
    EXPECT_EQ(errorOf([] { checkTargetName(""); }).code(), ErrorCode::Option);
    auto e = errorOf([] { checkTargetName(std::string(64, 'n')); });
    EXPECT_EQ(e.code(), ErrorCode::Option);
    EXPECT_TRUE(has(e.what(), "64 bytes")) << e.what();
}

TEST(PgRecoveryTarget, FormatUtc) {
    EXPECT_EQ(formatUtc(kNoon), "2025-12-05 12:00:00+00");
    EXPECT_EQ(formatUtc(kNoon + 0.9), "2025-12-05 12:00:00+00");
}

}  // namespace
}  // namespace backrest::pg
