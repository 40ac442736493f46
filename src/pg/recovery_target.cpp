// Parsing and checking recovery target values (pg/recovery_target.h).
#include "pg/recovery_target.h"

#include <fmt/format.h>

#include <cctype>
#include <climits>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <regex>

#include "common/error.h"
#include "pg/wal.h"

namespace backrest::pg {

namespace {

constexpr const char* kTimeForm =
    "YYYY-MM-DD HH:MM:SS[.ffffff][+/-HH[:MM]], 'T' allowed between date and time, 'Z' or "
    "'UTC' for UTC; for example '2026-12-05 14:30:00+01'";

[[noreturn]] void invalidTime(std::string_view text, std::string_view why) {
    raise(ErrorCode::Option,
          "invalid value '{}' for option 'target' with --type=time: {} (expected {})", text, why,
          kTimeForm);
}

// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

unsigned daysInMonth(int y, unsigned m) {
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

std::string formatOffset(int64_t eastSeconds) {
    char sign = eastSeconds < 0 ? '-' : '+';
    int64_t a = std::llabs(eastSeconds);
    std::string out = fmt::format("{}{:02}:{:02}", sign, a / 3600, a % 3600 / 60);
    if (a % 60 != 0) out += fmt::format(":{:02}", a % 60);
    return out;
}

}  // namespace

TargetTime parseTargetTime(std::string_view text) {
    static const std::regex form(
        R"(^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt]|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)"
        R"(\s*(?:([Zz]|[Uu][Tt][Cc])|([+-])(\d{1,2})(?::?(\d{2}))?)?\s*$)");
    std::string s(text);
    std::smatch m;
    if (!std::regex_match(s, m, form)) invalidTime(text, "not a timestamp");
    const size_t first = s.find_first_not_of(" \t\n"), last = s.find_last_not_of(" \t\n");
    const std::string trimmed = s.substr(first, last + 1 - first);
    auto num = [&](int i) { return m[i].matched ? std::stoi(m[i].str()) : 0; };
    int year = num(1);
    unsigned month = static_cast<unsigned>(num(2)), day = static_cast<unsigned>(num(3));
    int hour = num(4), minute = num(5), second = num(6);
    double fraction = m[7].matched ? std::stod("0." + m[7].str()) : 0;
    if (month < 1 || month > 12) invalidTime(text, fmt::format("month {} is out of range", month));
    if (day < 1 || day > daysInMonth(year, month))
        invalidTime(text, fmt::format("day {} is out of range for {:04}-{:02}", day, year, month));
    if (hour > 23 || minute > 59 || second > 59)
        invalidTime(text, "the time of day is out of range");
    int64_t fields = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;

    TargetTime t;
    t.zoned = m[8].matched || m[9].matched;
    if (m[9].matched) {
        int oh = num(10), om = num(11);
        if (oh > 15 || om > 59) invalidTime(text, "the zone offset is out of range");
        int64_t east = (m[9].str() == "-" ? -1 : 1) * (oh * 3600 + om * 60);
        t.epoch = static_cast<double>(fields - east) + fraction;
    } else if (m[8].matched) {
        t.epoch = static_cast<double>(fields) + fraction;
    } else {
        // No zone: the restoring host's local time (TZ), as pgBackRest reads it.
        struct tm local {};
        local.tm_year = year - 1900;
        local.tm_mon = static_cast<int>(month) - 1;
        local.tm_mday = static_cast<int>(day);
        local.tm_hour = hour;
        local.tm_min = minute;
        local.tm_sec = second;
        local.tm_isdst = -1;
        std::time_t when = std::mktime(&local);
        if (when == static_cast<std::time_t>(-1))
            invalidTime(text, "it cannot be placed in the local time zone");
        t.epoch = static_cast<double>(when) + fraction;
        t.setting = trimmed + formatOffset(fields - static_cast<int64_t>(when));
        return t;
    }
    t.setting = trimmed;
    return t;
}

uint64_t parseTargetXid(std::string_view text) {
    auto bad = [&](std::string_view why) {
        raise(ErrorCode::Option,
              "invalid value '{}' for option 'target' with --type=xid: {} (expected a transaction "
              "id, a positive integer such as 7654321, as txid_current() returns)",
              text, why);
    };
    if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos)
        bad("not a decimal integer");
    uint64_t value = 0;
    for (char c : text) {
        uint64_t digit = static_cast<uint64_t>(c - '0');
        if (value > (UINT64_MAX - digit) / 10) bad("too large for a 64-bit transaction id");
        value = value * 10 + digit;
    }
    if (value == 0) bad("0 is not a transaction id");
    return value;
}

uint64_t parseTargetLsn(std::string_view text) {
    try {
        return parseLsn(text);
    } catch (const Error&) {
        raise(ErrorCode::Option,
              "invalid value '{}' for option 'target' with --type=lsn (expected an LSN, X/X in "
              "hexadecimal such as 16/B374D848, as pg_current_wal_lsn() returns)",
              text);
    }
}

void checkTargetName(std::string_view text) {
    if (text.empty())
        raise(ErrorCode::Option,
              "option 'target' with --type=name is empty (expected a restore point name)");
    if (text.size() > 63)
        raise(ErrorCode::Option,
              "invalid value '{}' for option 'target' with --type=name: {} bytes, PostgreSQL "
              "restore point names have at most 63",
              text, text.size());
}

std::string parseTargetTimeline(std::string_view text, std::string_view option) {
    if (text == "current" || text == "latest") return std::string(text);
    auto bad = [&](std::string_view why) {
        raise(ErrorCode::Option,
              "invalid value '{}' for option '{}': {} (expected 'current', 'latest' or a timeline "
              "id from 1 to 4294967295, such as 2 or 0x2)",
              text, option, why);
    };
    const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    std::string_view digits = hex ? text.substr(2) : text;
    const char* allowed = hex ? "0123456789abcdefABCDEF" : "0123456789";
    if (digits.empty() || digits.find_first_not_of(allowed) != std::string_view::npos)
        bad("not a timeline id");
    if (!hex && digits.size() > 1 && digits[0] == '0')
        bad("a leading zero, which PostgreSQL would read as octal");
    uint64_t value = 0;
    for (char c : digits) {
        value = value * (hex ? 16 : 10) +
                static_cast<uint64_t>(std::isdigit(c) ? c - '0' : std::tolower(c) - 'a' + 10);
        if (value > UINT32_MAX) bad("larger than a 32-bit timeline id");
    }
    if (value == 0) bad("timeline 0 does not exist");
    return std::to_string(value);
}

std::string formatUtc(double epoch) {
    std::time_t seconds = static_cast<std::time_t>(std::floor(epoch));
    struct tm utc {};
    gmtime_r(&seconds, &utc);
    char out[64];
    std::strftime(out, sizeof out, "%Y-%m-%d %H:%M:%S+00", &utc);
    return out;
}

}  // namespace backrest::pg
