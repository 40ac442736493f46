// Console log sink: one line per message, written with a single write(2) so that lines from
// parallel threads never interleave.
#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <ctime>

#include "common/error.h"

namespace backrest {

namespace {
std::atomic<LogLevel> currentLevel{LogLevel::Warn};
std::atomic<bool> timestamps{false};

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

void logWrite(LogLevel level, std::string_view message) {
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
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
        ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n <= 0) return;  // nowhere left to report a logging failure
        p += n;
        left -= static_cast<size_t>(n);
    }
}

}  // namespace backrest
