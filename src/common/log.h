// Leveled, thread-safe logging to stderr (console) with fmt formatting.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace backrest {

enum class LogLevel { Off = 0, Error, Warn, Info, Detail, Debug };

LogLevel parseLogLevel(std::string_view name);  // throws OptionError on an unknown name
void setLogLevel(LogLevel level);
// Prefix each line with a UTC timestamp and the pid (the daemon, whose lines land in the server
// log).
void setLogTimestamps(bool on);
LogLevel logLevel();
void logWrite(LogLevel level, std::string_view message);

template <typename... Args>
void logAt(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
    if (level <= logLevel()) logWrite(level, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void logError(fmt::format_string<Args...> f, Args&&... a) {
    logAt(LogLevel::Error, f, std::forward<Args>(a)...);
}
template <typename... Args>
void logWarn(fmt::format_string<Args...> f, Args&&... a) {
    logAt(LogLevel::Warn, f, std::forward<Args>(a)...);
}
template <typename... Args>
void logInfo(fmt::format_string<Args...> f, Args&&... a) {
    logAt(LogLevel::Info, f, std::forward<Args>(a)...);
}
template <typename... Args>
void logDetail(fmt::format_string<Args...> f, Args&&... a) {
    logAt(LogLevel::Detail, f, std::forward<Args>(a)...);
}
template <typename... Args>
void logDebug(fmt::format_string<Args...> f, Args&&... a) {
    logAt(LogLevel::Debug, f, std::forward<Args>(a)...);
}

}  // namespace backrest
