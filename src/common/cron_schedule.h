// backrest.schedule: which backups (and restore drills) the server runs by itself, and when. A
// schedule is a list of entries separated by ';' (or new lines), each a backup type or `drill`
// and a cron expression (the word may end with ':'):
//
//     full 0 1 * * sun; incr 0 1 * * mon-sat; drill: 0 3 * * sun
//
// The five cron fields are minute, hour, day of month, month and day of week, as crontab(5):
// '*', numbers, ranges (a-b), steps (*/n, a-b/n), lists (a,b), day names sun..sat (0 or 7 is
// Sunday) and month names jan..dec; when both day fields are restricted, either may match (as
// cron). @hourly, @daily, @weekly (Sunday 00:00) and @monthly stand for their usual expressions.
//
// Pure C++ (the extension's launcher runs it; unit tests check it): the caller converts epoch
// seconds into the server's local time, so time zones and daylight saving stay PostgreSQL's.
#pragma once

#include <bitset>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace backrest::schedule {

// One minute of local (wall-clock) time.
struct LocalTime {
    int minute = 0;   // 0-59
    int hour = 0;     // 0-23
    int day = 1;      // 1-31
    int month = 1;    // 1-12
    int weekday = 0;  // 0 = Sunday
};

class CronSpec {
  public:
    // Raises an Option error naming the field and the value at fault.
    static CronSpec parse(std::string_view text);

    bool matches(const LocalTime& t) const;
    bool hourMatches(const LocalTime& t) const { return hours_[t.hour]; }
    // The expression as written (shortcuts kept), for messages and backrest_schedule().
    const std::string& text() const { return text_; }

  private:
    std::string text_;
    std::bitset<60> minutes_;
    std::bitset<24> hours_;
    std::bitset<32> days_;    // 1-31
    std::bitset<13> months_;  // 1-12
    std::bitset<7> weekdays_;
    bool daysRestricted_ = false, weekdaysRestricted_ = false;
};

// What a schedule's entry may name: a backup type, or a restore drill.
inline constexpr const char* kScheduleTypes = "full, diff, incr, drill";
inline constexpr const char* kDrillEntry = "drill";

struct ScheduleEntry {
    std::string type;  // full, diff, incr, drill
    CronSpec when;
    bool isDrill() const { return type == kDrillEntry; }
};

// Parses a whole backrest.schedule value; "" is no schedule. Raises an Option error naming the
// entry (its number and text) and what is wrong; at most kMaxScheduleEntries entries.
inline constexpr size_t kMaxScheduleEntries = 8;
std::vector<ScheduleEntry> parseSchedule(std::string_view text);

using ToLocal = std::function<LocalTime(int64_t epochSeconds)>;

// Long enough for every expression parse() accepts to match at least once (29 February comes
// within 8 years, 2100 included).
inline constexpr int kSearchDays = 8 * 366 + 1;

// The first minute after `after` (epoch seconds, exclusive) that the expression matches, as
// epoch seconds at the start of that minute; nullopt when none within `maxDays` days.
std::optional<int64_t> nextRun(const CronSpec& spec, int64_t after, const ToLocal& toLocal,
                               int maxDays = 366);
// The last matching minute at or before `atOrBefore`; nullopt when none within `maxDays` days.
std::optional<int64_t> previousRun(const CronSpec& spec, int64_t atOrBefore, const ToLocal& toLocal,
                                   int maxDays = 366);

// Whether a backup of `backupType` satisfies an entry of `entryType`: a full satisfies every
// backup entry, a diff a diff or incr one, an incr only an incr one (what the entry asked for is
// at least as fresh). A drill satisfies only a drill entry, and a backup never does.
bool satisfies(std::string_view backupType, std::string_view entryType);

}  // namespace backrest::schedule
