// Pins every error code and name to the values users script against (the code is the exit
// status): a change to the error table that renumbers or renames one fails here.
#include <gtest/gtest.h>

#include <iterator>
#include <map>
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
    {ErrorCode::Term, 63, "TermError"},  // pgBackRest's code for a command ended by a signal
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

// The SQLSTATEs the extension reported before the table (pg_guard.cpp's switch at 0693acf);
// every other code was 38000, external_routine_exception.
TEST(ErrorCodes, SqlstatesAreTheExtensionsOld) {
    const std::map<ErrorCode, std::string_view> special = {
        {ErrorCode::Cancelled, "57014"}, {ErrorCode::Lock, "55P03"},
        {ErrorCode::Option, "F0000"},    {ErrorCode::Config, "F0000"},
        {ErrorCode::Stanza, "55000"},    {ErrorCode::DbMismatch, "55000"},
        {ErrorCode::Protocol, "08006"},  {ErrorCode::Term, "57014"},
    };
    ASSERT_EQ(errorTable().size(), std::size(kPinned));
    for (const auto& p : kPinned) {
        const ErrorInfo* e = findError(p.value);
        ASSERT_NE(e, nullptr) << p.name;
        auto it = special.find(p.code);
        EXPECT_EQ(e->sqlstate, it != special.end() ? it->second : "38000") << p.name;
        EXPECT_FALSE(e->meaning.empty()) << p.name;
    }
}

// A daemon's reply with a code outside the table becomes a ProtocolError: the range it accepts.
TEST(ErrorCodes, KnownCodesAreExactlyTheTable) {
    for (int value = -1; value <= 300; ++value)
        EXPECT_EQ(isKnownErrorCode(value), (value >= 20 && value <= 46) || value == 63) << value;
    EXPECT_EQ(static_cast<int>(ErrorCode::Last), 63);
}

TEST(ErrorCodes, DisplayShowsCodeNameAndMessage) {
    EXPECT_EQ(Error(ErrorCode::Checksum, "file 'base/1/2' differs").display(),
              "[028] ChecksumError: file 'base/1/2' differs");
    EXPECT_EQ(Error(ErrorCode::Lock, "held").exitCode(), 29);
}

}  // namespace
}  // namespace backrest
