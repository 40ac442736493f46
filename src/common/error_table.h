// The one list of backrest's typed errors: error.h's enum, error.cpp's names and ranges and the
// extension's SQLSTATEs are generated from it, so a new error is one line here.
//
// X(Enumerator, code, name, SQLSTATE, meaning). The code is also the process exit status, and
// both code and name are stable: scripts match on them (error_codes_test pins every one). 1 is
// "not found" in archive-get (PostgreSQL's restore_command contract), so codes start at 20. The
// SQLSTATE is what the extension reports the error as, so SQL callers can tell a cancel (57014)
// or a lock conflict (55P03) from a failure of the external routine (38000).
#pragma once

#define BACKREST_ERROR_TABLE(X)                                                                 \
    X(Assert, 20, "AssertError", "38000", "an internal check failed (a bug)")                   \
    X(Option, 21, "OptionError", "F0000", "option missing, unknown, or with an invalid value")  \
    X(Config, 22, "ConfigError", "F0000", "config file unreadable or malformed")                \
    X(FileMissing, 23, "FileMissingError", "38000", "a file that must exist does not")          \
    X(FileOpen, 24, "FileOpenError", "38000", "open or create failed (permissions, ...)")       \
    X(FileRead, 25, "FileReadError", "38000", "read failed")                                    \
    X(FileWrite, 26, "FileWriteError", "38000", "write, fsync or rename failed")                \
    X(Format, 27, "FormatError", "38000",                                                       \
      "a repository file (manifest, info, archive) is malformed")                               \
    X(Checksum, 28, "ChecksumError", "38000", "stored checksum differs from the bytes read")    \
    X(Lock, 29, "LockAcquireError", "55P03", "another process holds the stanza lock")           \
    X(Db, 30, "DbError", "38000", "connection or query to PostgreSQL failed")                   \
    X(DbMismatch, 31, "DbMismatchError", "55000",                                               \
      "system identifier or version differs from the repository")                               \
    X(ArchiveDuplicate, 32, "ArchiveDuplicateError", "38000",                                   \
      "a WAL segment with the same name and different bytes exists")                            \
    X(ArchiveTimeout, 33, "ArchiveTimeoutError", "38000",                                       \
      "WAL needed by a backup did not reach the archive in time")                               \
    X(PathNotEmpty, 34, "PathNotEmptyError", "38000", "restore target is not empty")            \
    X(BackupSet, 35, "BackupSetInvalidError", "38000",                                          \
      "requested backup set does not exist, or no backup")                                      \
    X(Compress, 36, "CompressError", "38000", "compression or decompression failed")            \
    X(Crypto, 37, "CryptoError", "38000", "OpenSSL failure")                                    \
    X(Protocol, 38, "ProtocolError", "08006", "malformed frame, bad hello, unexpected message") \
    X(Stanza, 39, "StanzaError", "55000", "stanza missing or not created")                      \
    X(Postmaster, 40, "PostmasterRunningError", "38000",                                        \
      "a PostgreSQL server is running on the restore target")                                   \
    X(Command, 41, "CommandError", "38000", "unknown command or bad arguments")                 \
    X(Cancelled, 42, "CancelledError", "57014", "the operation was cancelled")                  \
    X(RepoOwner, 43, "RepoOwnerError", "38000",                                                 \
      "a command that writes the repository run as a user other than its owner")                \
    X(Network, 44, "NetworkError", "38000",                                                     \
      "the repository's server cannot be reached: connect, TLS, timeout, dropped")              \
    X(RepoAuth, 45, "RepoAuthError", "38000",                                                   \
      "the repository's server refused the credentials (wrong key, secret, token)")             \
    X(RepoStorage, 46, "RepoStorageError", "38000",                                             \
      "the repository's server answered a request with an error (a quota, ...)")                \
    X(Term, 63, "TermError", "57014",                                                           \
      "the command was stopped by SIGTERM, SIGINT or SIGHUP (pgBackRest's code)")
