// Leveled, thread-safe logging with fmt formatting: to stderr (console), and to a log file when
// one is attached (log_file.h).
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
LogLevel logLevel();  // the console's level
// Attaches a file (an open descriptor, appended to) that gets the lines at or below `level` in
// pgBackRest's file format; fd -1 detaches it. The caller owns the descriptor.
void setLogFile(int fd, LogLevel level);
// Whether a message at `level` goes anywhere: to the console or to the log file.
bool logEnabled(LogLevel level);
void logWrite(LogLevel level, std::string_view message);
// Writes to the log file only: for what main prints on stderr itself (the final error).
void logFileWrite(LogLevel level, std::string_view message);

template <typename... Args>
void logAt(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
    if (logEnabled(level)) logWrite(level, fmt::format(format, std::forward<Args>(args)...));
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
