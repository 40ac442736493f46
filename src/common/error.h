// Typed errors with stable codes: every failure a user sees carries a code and a message
// naming the file, segment, option or backup at fault. The code is also the process exit code.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/error_table.h"

namespace backrest {

// Codes, names and SQLSTATEs come from common/error_table.h; see there before adding one.
enum class ErrorCode : int {
#define BACKREST_ERROR_ENUMERATOR(id, code, name, sqlstate, meaning) id = code,
    BACKREST_ERROR_TABLE(BACKREST_ERROR_ENUMERATOR)
#undef BACKREST_ERROR_ENUMERATOR
    // The highest code. Kept for code that still range-checks; new code asks isKnownErrorCode.
    Last = std::max({
#define BACKREST_ERROR_VALUE(id, code, name, sqlstate, meaning) code,
        BACKREST_ERROR_TABLE(BACKREST_ERROR_VALUE)
#undef BACKREST_ERROR_VALUE
    }),
};

// One row of the error table.
struct ErrorInfo {
    ErrorCode code;
    std::string_view name;      // "ChecksumError"
    std::string_view sqlstate;  // five characters, as the extension reports it
    std::string_view meaning;   // one line, for documentation and tests
};

// Every error, in code order.
std::span<const ErrorInfo> errorTable();
// The row of a code, or nullptr for a number that is no backrest error (e.g. a daemon's reply
// carrying a code this build does not know).
const ErrorInfo* findError(int code);
bool isKnownErrorCode(int code);

// "UnknownError" for a number outside the table.
std::string_view errorCodeName(ErrorCode code);

// archive-get's exit status for every failure but "not in the archive" (1). PostgreSQL treats a
// restore_command exit status up to 125 as "this file does not exist": it ends recovery there and
// promotes, serving older data. Only an exit status above 125 (or death by a signal) makes it
// abort recovery. 126 and 127 are the shell's own ("not executable", "not found") and 128+n
// reports signal n, so the status is the one left: 255.
constexpr int kArchiveGetAbortExit = 255;

class Error : public std::runtime_error {
  public:
    Error(ErrorCode code, std::string message)
        : std::runtime_error(std::move(message)), code_(code) {}

    ErrorCode code() const { return code_; }
    int exitCode() const { return static_cast<int>(code_); }
    // "[028] ChecksumError: <message>" — the form printed to users.
    std::string display() const;

  private:
    ErrorCode code_;
};

template <typename... Args>
[[noreturn]] void raise(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
    throw Error(code, fmt::format(format, std::forward<Args>(args)...));
}

// Throws FileOpen/FileWrite/... with strerror(errno) appended.
[[noreturn]] void raiseErrno(ErrorCode code, std::string_view what, std::string_view path);

}  // namespace backrest
