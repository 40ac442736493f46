// Backup label formatting and recognition.
#include "repo/layout.h"

#include <fmt/format.h>

#include <algorithm>

namespace backrest::repo {

namespace {
std::string stamp(std::time_t when) {
    std::tm tm{};
    gmtime_r(&when, &tm);
    return fmt::format("{:04d}{:02d}{:02d}-{:02d}{:02d}{:02d}", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

bool isStamp(std::string_view s) {
    if (s.size() != 15 || s[8] != '-') return false;
    for (size_t i = 0; i < s.size(); i++)
        if (i != 8 && (s[i] < '0' || s[i] > '9')) return false;
    return true;
}
}  // namespace

std::string fullLabel(std::time_t when) {
    return stamp(when) + "F";
}

std::string dependentLabel(std::string_view full, std::time_t when, char typeLetter) {
    return fmt::format("{}_{}{}", full, stamp(when), typeLetter);
}

std::string labelTime(std::string_view label) {
    return std::string(label.size() == 33 ? label.substr(17, 15)
                                          : label.substr(0, std::min<size_t>(15, label.size())));
}

bool isBackupLabel(std::string_view name) {
    if (name.size() == 16) return isStamp(name.substr(0, 15)) && name[15] == 'F';
    if (name.size() == 33)
        return isStamp(name.substr(0, 15)) && name[15] == 'F' && name[16] == '_' &&
               isStamp(name.substr(17, 15)) && (name[32] == 'D' || name[32] == 'I');
    return false;
}

}  // namespace backrest::repo
