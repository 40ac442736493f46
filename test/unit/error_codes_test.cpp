// Pins every error code and name to the values users script against (the code is the exit
// status): a change to the error table that renumbers or renames one fails here.
#include <gtest/gtest.h>

#include <set>
#include <string_view>
#include <utility>

#include "common/error.h"

namespace backrest {
namespace {

struct Pinned {
    ErrorCode code;
    int value;
    std::string_view name;
};

// Copied from the lists as they stood before the error table (commit 0693acf).
constexpr Pinned kPinned[] = {
    {ErrorCode::Assert, 20, "AssertError"},
    {ErrorCode::Option, 21, "OptionError"},
    {ErrorCode::Config, 22, "ConfigError"},
    {ErrorCode::FileMissing, 23, "FileMissingError"},
    {ErrorCode::FileOpen, 24, "FileOpenError"},
    {ErrorCode::FileRead, 25, "FileReadError"},
    {ErrorCode::FileWrite, 26, "FileWriteError"},
    {ErrorCode::Format, 27, "FormatError"},
    {ErrorCode::Checksum, 28, "ChecksumError"},
    {ErrorCode::Lock, 29, "LockAcquireError"},
    {ErrorCode::Db, 30, "DbError"},
    {ErrorCode::DbMismatch, 31, "DbMismatchError"},
    {ErrorCode::ArchiveDuplicate, 32, "ArchiveDuplicateError"},
    {ErrorCode::ArchiveTimeout, 33, "ArchiveTimeoutError"},
    {ErrorCode::PathNotEmpty, 34, "PathNotEmptyError"},
    {ErrorCode::BackupSet, 35, "BackupSetInvalidError"},
    {ErrorCode::Compress, 36, "CompressError"},
    {ErrorCode::Crypto, 37, "CryptoError"},
    {ErrorCode::Protocol, 38, "ProtocolError"},
    {ErrorCode::Stanza, 39, "StanzaError"},
    {ErrorCode::Postmaster, 40, "PostmasterRunningError"},
    {ErrorCode::Command, 41, "CommandError"},
    {ErrorCode::Cancelled, 42, "CancelledError"},
    {ErrorCode::RepoOwner, 43, "RepoOwnerError"},
    {ErrorCode::Network, 44, "NetworkError"},
    {ErrorCode::RepoAuth, 45, "RepoAuthError"},
    {ErrorCode::RepoStorage, 46, "RepoStorageError"},
};

TEST(ErrorCodes, EveryCodeKeepsItsNumberAndName) {
    for (const auto& p : kPinned) {
        EXPECT_EQ(static_cast<int>(p.code), p.value) << p.name;
        EXPECT_EQ(errorCodeName(p.code), p.name) << p.value;
    }
}

TEST(ErrorCodes, NoOtherCodeHasAName) {
    std::set<int> pinned;
    for (const auto& p : kPinned) pinned.insert(p.value);
    for (int value = -1; value <= 300; ++value) {
        if (pinned.contains(value)) continue;
        EXPECT_EQ(errorCodeName(static_cast<ErrorCode>(value)), "UnknownError") << value;
    }
}

TEST(ErrorCodes, DisplayShowsCodeNameAndMessage) {
    EXPECT_EQ(Error(ErrorCode::Checksum, "file 'base/1/2' differs").display(),
              "[028] ChecksumError: file 'base/1/2' differs");
    EXPECT_EQ(Error(ErrorCode::Lock, "held").exitCode(), 29);
}

}  // namespace
}  // namespace backrest
