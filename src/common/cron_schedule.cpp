#include "common/cron_schedule.h"

#include <fmt/format.h>

#include <array>
#include <charconv>

#include "common/error.h"

namespace backrest::schedule {

namespace {

constexpr std::array<const char*, 7> kDayNames = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
constexpr std::array<const char*, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                     "jul", "aug", "sep", "oct", "nov", "dec"};

struct FieldRule {
    const char* name;
    int min, max;
    const char* const* names;  // nullptr, or nameCount names
    int nameBase;              // the value of names[0]
    int nameCount;
};

constexpr FieldRule kMinute{"minute", 0, 59, nullptr, 0, 0};
constexpr FieldRule kHour{"hour", 0, 23, nullptr, 0, 0};
constexpr FieldRule kDay{"day of month", 1, 31, nullptr, 0, 0};
constexpr FieldRule kMonth{"month", 1, 12, kMonthNames.data(), 1, 12};
// 7 is Sunday too (crontab(5)); folded into 0 by the caller.
constexpr FieldRule kWeekday{"day of week", 0, 7, kDayNames.data(), 0, 7};  // names: 0-6

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    for (;;) {
        size_t end = text.find(separator, start);
        parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
        if (end == std::string_view::npos) return parts;
        start = end + 1;
    }
}

std::vector<std::string_view> words(std::string_view text) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) i++;
        size_t start = i;
        while (i < text.size() && text[i] != ' ' && text[i] != '\t') i++;
        if (i > start) out.push_back(text.substr(start, i - start));
    }
    return out;
}

[[noreturn]] void fieldError(std::string_view spec, const FieldRule& rule, std::string_view value,
                             std::string_view why) {
    raise(ErrorCode::Option, "cron expression '{}': {} field '{}' {}", spec, rule.name, value, why);
}

int fieldValue(std::string_view spec, const FieldRule& rule, std::string_view token) {
    if (rule.names != nullptr) {
        std::string name = lower(token);
        for (int i = 0; i < rule.nameCount; i++)
            if (name == rule.names[i]) return rule.nameBase + i;
    }
    int value = 0;
    auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (ec != std::errc() || end != token.data() + token.size() || token.empty())
        fieldError(spec, rule, token, "is not a number");
    if (value < rule.min || value > rule.max)
        fieldError(spec, rule, token, fmt::format("is out of range {}-{}", rule.min, rule.max));
    return value;
}

// One field into `set` (indexed by value); returns whether it restricts anything ('*' does not).
template <size_t N>
bool parseField(std::string_view spec, const FieldRule& rule, std::string_view field,
                std::bitset<N>& set) {
    bool restricted = false;
    for (std::string_view item : split(field, ',')) {
        if (item.empty()) fieldError(spec, rule, field, "has an empty list item");
        int step = 1;
        if (size_t slash = item.find('/'); slash != std::string_view::npos) {
            std::string_view stepText = item.substr(slash + 1);
            auto [end, ec] =
                std::from_chars(stepText.data(), stepText.data() + stepText.size(), step);
            if (ec != std::errc() || end != stepText.data() + stepText.size() || stepText.empty() ||
                step < 1 || step > rule.max)
                fieldError(spec, rule, item, "has an invalid step");
            item = item.substr(0, slash);
        }
        int from = rule.min, to = rule.max;
        if (item == "*") {
            if (step != 1) restricted = true;
        } else {
            restricted = true;
            if (size_t dash = item.find('-'); dash != std::string_view::npos) {
                from = fieldValue(spec, rule, item.substr(0, dash));
                to = fieldValue(spec, rule, item.substr(dash + 1));
                if (from > to)
                    fieldError(spec, rule, item, "is a range that ends before it starts");
            } else {
                from = fieldValue(spec, rule, item);
                // "5/15": from 5 to the end in steps, as cron reads it
                if (step != 1)
                    to = rule.max;
                else
                    to = from;
            }
        }
        for (int v = from; v <= to; v += step) set.set(static_cast<size_t>(v));
    }
    return restricted;
}

std::string_view expandShortcut(std::string_view text) {
    std::string name = lower(text);
    if (name == "@hourly") return "0 * * * *";
    if (name == "@daily" || name == "@midnight") return "0 0 * * *";
    if (name == "@weekly") return "0 0 * * 0";
    if (name == "@monthly") return "0 0 1 * *";
    if (name == "@yearly" || name == "@annually") return "0 0 1 1 *";
    return {};
}

std::string trim(std::string_view s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string_view::npos) return "";
    size_t e = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(b, e - b + 1));
}

}  // namespace

CronSpec CronSpec::parse(std::string_view text) {
    CronSpec spec;
    spec.text_ = trim(text);
    std::string_view expression = spec.text_;
    if (!expression.empty() && expression[0] == '@') {
        expression = expandShortcut(spec.text_);
        if (expression.empty())
            raise(ErrorCode::Option,
                  "cron expression '{}': unknown shortcut (use @hourly, @daily, @weekly, "
                  "@monthly or @yearly)",
                  spec.text_);
    }
    std::vector<std::string_view> fields = words(expression);
    if (fields.size() != 5)
        raise(ErrorCode::Option,
              "cron expression '{}' has {} fields: it needs 5 (minute hour day-of-month month "
              "day-of-week)",
              spec.text_, fields.size());
    parseField(spec.text_, kMinute, fields[0], spec.minutes_);
    parseField(spec.text_, kHour, fields[1], spec.hours_);
    spec.daysRestricted_ = parseField(spec.text_, kDay, fields[2], spec.days_);
    parseField(spec.text_, kMonth, fields[3], spec.months_);
    std::bitset<8> weekdays;
    spec.weekdaysRestricted_ = parseField(spec.text_, kWeekday, fields[4], weekdays);
    for (size_t d = 0; d < 7; d++) spec.weekdays_[d] = weekdays[d];
    if (weekdays[7]) spec.weekdays_.set(0);
    // '0 3 30 2 *' is valid field by field and never comes: refused, not silently never run.
    if (spec.daysRestricted_ && !spec.weekdaysRestricted_) {
        constexpr int kLongest[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        bool some = false;
        for (int m = 1; m <= 12 && !some; m++)
            for (int d = 1; d <= kLongest[m] && !some; d++) some = spec.months_[m] && spec.days_[d];
        if (!some)
            raise(ErrorCode::Option,
                  "cron expression '{}' never matches: none of its months has such a day",
                  spec.text_);
    }
    return spec;
}

bool CronSpec::matches(const LocalTime& t) const {
    if (!minutes_[t.minute] || !hours_[t.hour] || !months_[t.month]) return false;
    bool day = days_[t.day], weekday = weekdays_[t.weekday];
    // crontab(5): with both day fields restricted, a day matching either runs.
    if (daysRestricted_ && weekdaysRestricted_) return day || weekday;
    return day && weekday;
}

std::vector<ScheduleEntry> parseSchedule(std::string_view text) {
    std::vector<ScheduleEntry> entries;
    std::string normalized(text);
    for (char& c : normalized)
        if (c == '\n') c = ';';
    int number = 0;
    for (std::string_view part : split(normalized, ';')) {
        std::string entry = trim(part);
        if (entry.empty()) continue;
        number++;
        size_t space = entry.find_first_of(" \t:");
        std::string type = lower(entry.substr(0, space));
        if (type != "full" && type != "diff" && type != "incr" && type != kDrillEntry)
            raise(ErrorCode::Option,
                  "backrest.schedule entry {} '{}': '{}' is not a backup type (use {})", number,
                  entry, entry.substr(0, space), kScheduleTypes);
        if (space == std::string::npos)
            raise(ErrorCode::Option,
                  "backrest.schedule entry {} '{}': a cron expression must follow the type "
                  "(e.g. '{} 0 1 * * *')",
                  number, entry, type);
        try {
            entries.push_back({type, CronSpec::parse(entry.substr(space + 1))});
        } catch (const Error& e) {
            raise(ErrorCode::Option, "backrest.schedule entry {} '{}': {}", number, entry,
                  e.what());
        }
        if (entries.size() > kMaxScheduleEntries)
            raise(ErrorCode::Option, "backrest.schedule has more than {} entries",
                  kMaxScheduleEntries);
    }
    return entries;
}

std::optional<int64_t> nextRun(const CronSpec& spec, int64_t after, const ToLocal& toLocal,
                               int maxDays) {
    // The start of the minute after `after`; then minute by minute, an hour at a time while the
    // hour does not match (a year is ~9,000 steps, each one local-time conversion).
    int64_t t = (after >= 0 ? after / 60 : (after - 59) / 60) * 60 + 60;
    int64_t end = t + int64_t(maxDays) * 86400;
    while (t <= end) {
        LocalTime local = toLocal(t);
        if (spec.matches(local)) return t;
        t += spec.hourMatches(local) ? 60 : int64_t(60 - local.minute) * 60;
    }
    return std::nullopt;
}

std::optional<int64_t> previousRun(const CronSpec& spec, int64_t atOrBefore, const ToLocal& toLocal,
                                   int maxDays) {
    int64_t t = (atOrBefore >= 0 ? atOrBefore / 60 : (atOrBefore - 59) / 60) * 60;
    int64_t end = t - int64_t(maxDays) * 86400;
    while (t >= end) {
        LocalTime local = toLocal(t);
        if (spec.matches(local)) return t;
        // back to the last minute of the previous hour while the hour does not match
        t -= spec.hourMatches(local) ? 60 : int64_t(local.minute + 1) * 60;
    }
    return std::nullopt;
}

bool satisfies(std::string_view backupType, std::string_view entryType) {
    if (backupType == kDrillEntry || entryType == kDrillEntry)
        return backupType == kDrillEntry && entryType == kDrillEntry;
    if (backupType == "full") return true;
    if (backupType == "diff") return entryType != "full";
    return entryType == "incr";
}

}  // namespace backrest::schedule
