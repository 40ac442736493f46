// Typed errors with stable codes: every failure a user sees carries a code and a message
// naming the file, segment, option or backup at fault. The code is also the process exit code.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace backrest {

// Codes are stable: scripts may match on them. 1 is reserved for "not found" in archive-get
// (PostgreSQL's restore_command contract), so real errors start at 20.
enum class ErrorCode : int {
    Assert = 20,
    Option = 21,       // option missing, unknown, or with an invalid value
    Config = 22,       // config file unreadable or malformed
    FileMissing = 23,  // a file that must exist does not
    FileOpen = 24,     // open/create failed (permissions, ...)
    FileRead = 25,
    FileWrite = 26,         // write, fsync or rename failed
    Format = 27,            // a repository file (manifest, info, archive) is malformed
    Checksum = 28,          // stored checksum differs from the bytes read
    Lock = 29,              // another process holds the stanza lock
    Db = 30,                // connection or query to PostgreSQL failed
    DbMismatch = 31,        // system identifier / version differs from the repository
    ArchiveDuplicate = 32,  // a WAL segment with the same name and different bytes exists
    ArchiveTimeout = 33,    // WAL needed by a backup did not reach the archive in time
    PathNotEmpty = 34,      // restore target is not empty
    BackupSet = 35,         // requested backup set does not exist / no backup
    Compress = 36,          // compression or decompression failed
    Crypto = 37,            // OpenSSL failure
    Protocol = 38,          // malformed frame, bad hello, unexpected message
    Stanza = 39,            // stanza missing or not created
    Postmaster = 40,        // a PostgreSQL server is running on the restore target
    Command = 41,           // unknown command or bad arguments
    Cancelled = 42,
    RepoOwner = 43,    // a command that writes the repository run as a user other than its owner
    Network = 44,      // the repository's server cannot be reached: connect, TLS, timeout, dropped
    RepoAuth = 45,     // the repository's server refused the credentials (wrong key, secret, token)
    RepoStorage = 46,  // the repository's server answered a request with an error (a quota, ...)
    Last = RepoStorage,  // the highest code (a reply from the daemon outside the range is a
                         // ProtocolError)
};

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
