// The log file of one run of a command: its name, opening, banner and begin/end lines.
#include "common/log_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "common/version.h"

namespace backrest {

std::string logFileName(std::string_view logPath, std::string_view stanza,
                        std::string_view command) {
    std::string path(logPath);
    if (!path.ends_with('/')) path += '/';
    return fmt::format("{}{}-{}.log", path, stanza.empty() ? "all" : stanza, command);
}

CommandLog::CommandLog(const Config& config) : command_(config.command()) {
    auto logPath = config.find(opt::logPath);
    LogLevel level = parseLogLevel(config.getString(opt::logLevelFile));
    if (!logPath || level == LogLevel::Off) return;
    std::string path = logFileName(*logPath, config.find(opt::stanza).value_or(""), command_);
    // One level only, as a missing parent is more likely a typo than a path to build.
    if (::mkdir(logPath->c_str(), 0750) != 0 && errno != EEXIST) {
        logWarn("unable to create log path '{}' (log-path): {}; continuing without a log file",
                *logPath, std::strerror(errno));
        return;
    }
    // Not through a symbolic link: log-path is often the database owner's, and a link planted
    // there would have a root-run command append to (or create) any file of the host.
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd_ < 0) {
        logWarn("unable to open log file '{}' (log-path): {}; continuing without a log file", path,
                std::strerror(errno));
        return;
    }
    struct stat st {};
    std::string banner = ::fstat(fd_, &st) == 0 && st.st_size > 0 ? "\n" : "";
    banner += "-------------------PROCESS START-------------------\n";
    if (::write(fd_, banner.data(), banner.size()) != static_cast<ssize_t>(banner.size())) {
        logWarn("unable to write log file '{}': {}; continuing without a log file", path,
                std::strerror(errno));
        ::close(fd_);
        fd_ = -1;
        return;
    }
    setLogFile(fd_, level);
    std::string options;
    for (const std::string& option : config.describeOptions()) options += " " + option;
    logFileWrite(LogLevel::Info,
                 fmt::format("{} command begin {}:{}", command_, kVersion, options));
}

CommandLog::~CommandLog() {
    if (fd_ < 0) return;
    setLogFile(-1, LogLevel::Off);
    ::close(fd_);
}

void CommandLog::end(int exitCode, EndedBy endedBy) {
    if (fd_ < 0) return;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - started_)
                  .count();
    std::string how;
    if (exitCode == 0)
        how = "completed successfully";
    else if (endedBy == EndedBy::Return)
        how = fmt::format("completed successfully with exit status {}", exitCode);
    else
        how = fmt::format("aborted with exit status {}", exitCode);
    logFileWrite(LogLevel::Info, fmt::format("{} command end: {} ({}ms)", command_, how, ms));
}

}  // namespace backrest
