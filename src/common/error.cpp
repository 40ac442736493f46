// Names and display form of the typed errors.
#include "common/error.h"

#include <cerrno>
#include <cstring>

namespace backrest {

std::string_view errorCodeName(ErrorCode code) {
    switch (code) {
        case ErrorCode::Assert:
            return "AssertError";
        case ErrorCode::Option:
            return "OptionError";
        case ErrorCode::Config:
            return "ConfigError";
        case ErrorCode::FileMissing:
            return "FileMissingError";
        case ErrorCode::FileOpen:
            return "FileOpenError";
        case ErrorCode::FileRead:
            return "FileReadError";
        case ErrorCode::FileWrite:
            return "FileWriteError";
        case ErrorCode::Format:
            return "FormatError";
        case ErrorCode::Checksum:
            return "ChecksumError";
        case ErrorCode::Lock:
            return "LockAcquireError";
        case ErrorCode::Db:
            return "DbError";
        case ErrorCode::DbMismatch:
            return "DbMismatchError";
        case ErrorCode::ArchiveDuplicate:
            return "ArchiveDuplicateError";
        case ErrorCode::ArchiveTimeout:
            return "ArchiveTimeoutError";
        case ErrorCode::PathNotEmpty:
            return "PathNotEmptyError";
        case ErrorCode::BackupSet:
            return "BackupSetInvalidError";
        case ErrorCode::Compress:
            return "CompressError";
        case ErrorCode::Crypto:
            return "CryptoError";
        case ErrorCode::Protocol:
            return "ProtocolError";
        case ErrorCode::Stanza:
            return "StanzaError";
        case ErrorCode::Postmaster:
            return "PostmasterRunningError";
        case ErrorCode::Command:
            return "CommandError";
        case ErrorCode::Cancelled:
            return "CancelledError";
        case ErrorCode::RepoOwner:
            return "RepoOwnerError";
        case ErrorCode::Network:
            return "NetworkError";
        case ErrorCode::RepoAuth:
            return "RepoAuthError";
        case ErrorCode::RepoStorage:
            return "RepoStorageError";
    }
    return "UnknownError";
}

std::string Error::display() const {
    return fmt::format("[{:03d}] {}: {}", exitCode(), errorCodeName(code_), what());
}

void raiseErrno(ErrorCode code, std::string_view what, std::string_view path) {
    int saved = errno;
    throw Error(code, fmt::format("{} '{}': {}", what, path, std::strerror(saved)));
}

}  // namespace backrest
