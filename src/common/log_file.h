// The log file of one run of a command, as pgBackRest writes them:
// <log-path>/<stanza>-<command>.log appended to, each run opening with its PROCESS START banner and
// "command begin" line and closing with "command end", so a pgBackRest user's log rotation and
// greps keep working.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/config.h"

namespace backrest {

// <log-path>/<stanza>-<command>.log; "all" stands for the stanza when none is given (pgBackRest).
std::string logFileName(std::string_view logPath, std::string_view stanza,
                        std::string_view command);

class CommandLog {
  public:
    // Opens the command's log file (mode 0640, created with its directory, mode 0750, when
    // missing) when log-path is set and log-level-file is not off, attaches it to the logger and
    // writes the banner and the begin line. A log file that cannot be opened is a warning, not an
    // error, as in pgBackRest: a backup must not fail for want of its log.
    explicit CommandLog(const Config& config);
    ~CommandLog();  // detaches the file from the logger and closes it
    CommandLog(const CommandLog&) = delete;
    CommandLog& operator=(const CommandLog&) = delete;

    enum class EndedBy { Return, Error };
    // Writes the end line: how the command ended and how long it ran. A command that returned its
    // exit status completed, whatever the status (archive-get's 1 means "not in the archive",
    // what PostgreSQL asks to learn where the archive ends): "completed successfully", with the
    // status when not 0, as pgBackRest logs it; an error "aborted with exit status N".
    void end(int exitCode, EndedBy endedBy = EndedBy::Error);
    bool isOpen() const { return fd_ >= 0; }

  private:
    int fd_ = -1;
    std::string command_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace backrest
