// backrest.schedule's parser and cron arithmetic (common/cron_schedule.h), in UTC.
#include <gtest/gtest.h>

#include <ctime>
#include <string>

#include "common/cron_schedule.h"
#include "common/error.h"

namespace backrest::schedule {
namespace {

LocalTime utc(int64_t epoch) {
    time_t t = static_cast<time_t>(epoch);
    struct tm tm;
    gmtime_r(&t, &tm);
    return {tm.tm_min, tm.tm_hour, tm.tm_mday, tm.tm_mon + 1, tm.tm_wday};
}

int64_t at(int year, int month, int day, int hour, int minute, int second = 0) {
    struct tm tm = {};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    return static_cast<int64_t>(timegm(&tm));
}

std::string errorOf(const std::string& schedule) {
    try {
        parseSchedule(schedule);
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::Option);
        return e.what();
    }
    return "";
}

TEST(CronSchedule, ParsesEntriesSeparatedBySemicolonsOrLines) {
    auto entries = parseSchedule(" full 0 1 * * sun ;\nincr 0 1 * * mon-sat;; diff @daily ");
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[0].type, "full");
    EXPECT_EQ(entries[0].when.text(), "0 1 * * sun");
    EXPECT_EQ(entries[1].type, "incr");
    EXPECT_EQ(entries[2].type, "diff");
    EXPECT_EQ(entries[2].when.text(), "@daily");
    EXPECT_TRUE(parseSchedule("").empty());
    EXPECT_TRUE(parseSchedule("  ;  ").empty());
}

TEST(CronSchedule, DrillEntriesTakeTheSameCronExpressions) {
    auto entries =
        parseSchedule("full 0 1 * * sun; drill 0 3 * * 0\nDRILL: @daily;drill:*/5 * * * *");
    ASSERT_EQ(entries.size(), 4u);
    EXPECT_FALSE(entries[0].isDrill());
    EXPECT_TRUE(entries[1].isDrill());
    EXPECT_EQ(entries[1].when.text(), "0 3 * * 0");
    EXPECT_EQ(entries[2].type, "drill");
    EXPECT_EQ(entries[2].when.text(), "@daily");
    EXPECT_EQ(entries[3].when.text(), "*/5 * * * *");
    EXPECT_EQ(nextRun(entries[1].when, at(2026, 12, 6, 3, 0), utc), at(2026, 12, 13, 3, 0));
    EXPECT_EQ(errorOf("drill"),
              "backrest.schedule entry 1 'drill': a cron expression must follow the type (e.g. "
              "'drill 0 1 * * *')");
    EXPECT_EQ(errorOf("drill: 0 3 * *").rfind("backrest.schedule entry 1 'drill: 0 3 * *': ", 0),
              0u);
    EXPECT_EQ(errorOf("drills 0 3 * * 0"),
              "backrest.schedule entry 1 'drills 0 3 * * 0': 'drills' is not a backup type (use "
              "full, diff, incr, drill)");
}

TEST(CronSchedule, BadEntriesAreRefusedNamingThem) {
    EXPECT_EQ(errorOf("full 0 1 * * *; weekly 0 1 * * *"),
              "backrest.schedule entry 2 'weekly 0 1 * * *': 'weekly' is not a backup type (use "
              "full, diff, incr, drill)");
    EXPECT_EQ(errorOf("incr"),
              "backrest.schedule entry 1 'incr': a cron expression must follow the type (e.g. "
              "'incr 0 1 * * *')");
    EXPECT_EQ(errorOf("full 0 1 * *"),
              "backrest.schedule entry 1 'full 0 1 * *': cron expression '0 1 * *' has 4 fields: "
              "it needs 5 (minute hour day-of-month month day-of-week)");
    EXPECT_EQ(errorOf("full 60 1 * * *"),
              "backrest.schedule entry 1 'full 60 1 * * *': cron expression '60 1 * * *': minute "
              "field '60' is out of range 0-59");
    EXPECT_EQ(errorOf("full 0 x * * *"),
              "backrest.schedule entry 1 'full 0 x * * *': cron expression '0 x * * *': hour "
              "field 'x' is not a number");
    EXPECT_NE(errorOf("full 0 5-1 * * *").find("hour field '5-1' is a range that ends before"),
              std::string::npos);
    EXPECT_NE(errorOf("full */0 * * * *").find("minute field '*/0' has an invalid step"),
              std::string::npos);
    EXPECT_NE(errorOf("full 1,,2 * * * *").find("has an empty list item"), std::string::npos);
    EXPECT_NE(errorOf("full @fortnightly").find("unknown shortcut"), std::string::npos);
    EXPECT_NE(errorOf("full 0 0 32 * *").find("day of month field '32' is out of range 1-31"),
              std::string::npos);
    // Valid field by field, and never comes.
    EXPECT_EQ(errorOf("full 0 3 30 2 *"),
              "backrest.schedule entry 1 'full 0 3 30 2 *': cron expression '0 3 30 2 *' never "
              "matches: none of its months has such a day");
    EXPECT_NE(errorOf("full 0 3 31 4,6,9,11 *").find("never matches"), std::string::npos);
    EXPECT_EQ(errorOf("full 0 3 29 2 *"), "");    // every four years
    EXPECT_EQ(errorOf("full 0 3 30 2 mon"), "");  // either day field: every Monday in February
    std::string many;
    for (int i = 0; i < 9; i++) many += "incr @hourly;";
    EXPECT_EQ(errorOf(many), "backrest.schedule has more than 8 entries");
}

TEST(CronSchedule, MatchesFieldsAsCron) {
    CronSpec spec = CronSpec::parse("*/15 9-17 * * mon-fri");
    EXPECT_TRUE(spec.matches(utc(at(2026, 12, 7, 9, 45))));                         // a Monday
    EXPECT_FALSE(spec.matches(utc(at(2026, 12, 7, 9, 46))));                        // not a quarter
    EXPECT_FALSE(spec.matches(utc(at(2026, 12, 7, 18, 0))));                        // after hours
    EXPECT_FALSE(spec.matches(utc(at(2026, 12, 6, 10, 0))));                        // a Sunday
    EXPECT_TRUE(CronSpec::parse("0 0 * * 7").matches(utc(at(2026, 12, 6, 0, 0))));  // 7 = Sunday
    EXPECT_TRUE(CronSpec::parse("0 0 * dec SUN").matches(utc(at(2026, 12, 6, 0, 0))));
    // Both day fields restricted: either matches (the 1st, or any Friday).
    CronSpec either = CronSpec::parse("0 0 1 * fri");
    EXPECT_TRUE(either.matches(utc(at(2026, 12, 1, 0, 0))));   // a Tuesday, the 1st
    EXPECT_TRUE(either.matches(utc(at(2026, 12, 4, 0, 0))));   // a Friday
    EXPECT_FALSE(either.matches(utc(at(2026, 12, 2, 0, 0))));  // neither
    // "5/20": from 5 in steps of 20.
    CronSpec stepped = CronSpec::parse("5/20 * * * *");
    EXPECT_TRUE(stepped.matches(utc(at(2026, 12, 2, 3, 45))));
    EXPECT_FALSE(stepped.matches(utc(at(2026, 12, 2, 3, 0))));
}

TEST(CronSchedule, NextRunIsTheFirstMatchingMinuteAfter) {
    CronSpec weekly = CronSpec::parse("0 1 * * sun");
    // Saturday 2026-12-05 12:00:30 -> Sunday 2026-12-06 01:00
    EXPECT_EQ(nextRun(weekly, at(2026, 12, 5, 12, 0, 30), utc), at(2026, 12, 6, 1, 0));
    // Exactly at a run: the next one, a week later (exclusive).
    EXPECT_EQ(nextRun(weekly, at(2026, 12, 6, 1, 0), utc), at(2026, 12, 13, 1, 0));
    CronSpec everyMinute = CronSpec::parse("* * * * *");
    EXPECT_EQ(nextRun(everyMinute, at(2026, 12, 5, 12, 0, 59), utc), at(2026, 12, 5, 12, 1));
    // 29 February: none within a year from 2026, found within four.
    CronSpec leap = CronSpec::parse("0 0 29 2 *");
    EXPECT_EQ(nextRun(leap, at(2026, 3, 1, 0, 0), utc), std::nullopt);
    EXPECT_EQ(nextRun(leap, at(2026, 3, 1, 0, 0), utc, 4 * 366), at(2028, 2, 29, 0, 0));
    // What the launcher searches: every accepted expression comes within it.
    EXPECT_EQ(nextRun(leap, at(2096, 3, 1, 0, 0), utc, kSearchDays), at(2104, 2, 29, 0, 0));
}

TEST(CronSchedule, PreviousRunIsTheLastMatchAtOrBefore) {
    CronSpec weekly = CronSpec::parse("@weekly");  // Sunday 00:00
    EXPECT_EQ(previousRun(weekly, at(2026, 12, 9, 15, 30), utc), at(2026, 12, 6, 0, 0));
    EXPECT_EQ(previousRun(weekly, at(2026, 12, 6, 0, 0, 59), utc), at(2026, 12, 6, 0, 0));
    EXPECT_EQ(previousRun(CronSpec::parse("30 2 * * *"), at(2026, 12, 9, 2, 29), utc),
              at(2026, 12, 8, 2, 30));
    EXPECT_EQ(previousRun(CronSpec::parse("0 0 29 2 *"), at(2026, 12, 1, 0, 0), utc), std::nullopt);
}

TEST(CronSchedule, ABackupSatisfiesEntriesOfItsTypeOrLess) {
    EXPECT_TRUE(satisfies("full", "full"));
    EXPECT_TRUE(satisfies("full", "incr"));
    EXPECT_TRUE(satisfies("diff", "diff"));
    EXPECT_TRUE(satisfies("diff", "incr"));
    EXPECT_FALSE(satisfies("diff", "full"));
    EXPECT_FALSE(satisfies("incr", "diff"));
    EXPECT_TRUE(satisfies("incr", "incr"));
    // A drill is no backup, and a backup no drill.
    EXPECT_TRUE(satisfies("drill", "drill"));
    EXPECT_FALSE(satisfies("full", "drill"));
    EXPECT_FALSE(satisfies("incr", "drill"));
    EXPECT_FALSE(satisfies("drill", "incr"));
    EXPECT_FALSE(satisfies("drill", "full"));
}

}  // namespace
}  // namespace backrest::schedule
