// Log sinks, the console and a log file: one line per message, written with a single write(2) so
// that lines from parallel threads never interleave.
#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <ctime>

#include "common/error.h"

namespace backrest {

namespace {
std::atomic<LogLevel> currentLevel{LogLevel::Warn};
std::atomic<bool> timestamps{false};
std::atomic<int> fileFd{-1};
std::atomic<LogLevel> fileLevel{LogLevel::Off};

std::string_view levelTag(LogLevel level) {
    switch (level) {
        case LogLevel::Error:
            return "ERROR";
        case LogLevel::Warn:
            return "WARN";
        case LogLevel::Info:
            return "INFO";
        case LogLevel::Detail:
            return "DETAIL";
        case LogLevel::Debug:
            return "DEBUG";
        case LogLevel::Off:
            break;
    }
    return "";
}

void writeAll(int fd, std::string_view line) {
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n <= 0) return;  // nowhere left to report a logging failure
        p += n;
        left -= static_cast<size_t>(n);
    }
}

// pgBackRest's file line: "2023-06-01 10:00:00.123 P00   INFO: message", in local time, so that
// tools reading its log files read ours. P00 is its main process; backrest has one.
std::string fileLine(LogLevel level, std::string_view message) {
    timespec now{};
    clock_gettime(CLOCK_REALTIME, &now);
    std::tm tm{};
    localtime_r(&now.tv_sec, &tm);
    return fmt::format("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}.{:03d} P00 {:>6}: {}\n",
                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                       tm.tm_sec, now.tv_nsec / 1000000, levelTag(level), message);
}
}  // namespace

LogLevel parseLogLevel(std::string_view name) {
    if (name == "off") return LogLevel::Off;
    if (name == "error") return LogLevel::Error;
    if (name == "warn") return LogLevel::Warn;
    if (name == "info") return LogLevel::Info;
    if (name == "detail") return LogLevel::Detail;
    if (name == "debug" || name == "trace") return LogLevel::Debug;
    raise(ErrorCode::Option,
          "invalid log level '{}' (expected off, error, warn, info, detail or debug)", name);
}

void setLogLevel(LogLevel level) {
    currentLevel = level;
}
void setLogTimestamps(bool on) {
    timestamps = on;
}
LogLevel logLevel() {
    return currentLevel;
}

void setLogFile(int fd, LogLevel level) {
    fileLevel = fd < 0 ? LogLevel::Off : level;
    fileFd = fd;
}

bool logEnabled(LogLevel level) {
    return level <= currentLevel || (fileFd >= 0 && level <= fileLevel);
}

void logFileWrite(LogLevel level, std::string_view message) {
    int fd = fileFd;
    if (fd >= 0 && level <= fileLevel && level != LogLevel::Off)
        writeAll(fd, fileLine(level, message));
}

void logWrite(LogLevel level, std::string_view message) {
    logFileWrite(level, message);
    if (level > currentLevel) return;
    std::string line;
    if (timestamps) {
        timespec now{};
        clock_gettime(CLOCK_REALTIME, &now);
        std::tm tm{};
        gmtime_r(&now.tv_sec, &tm);
        line = fmt::format("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}.{:03d} UTC backrest[{}] ",
                           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                           tm.tm_sec, now.tv_nsec / 1000000, getpid());
    }
    line += fmt::format("{}: {}\n", levelTag(level), message);
    writeAll(STDERR_FILENO, line);
}

}  // namespace backrest
