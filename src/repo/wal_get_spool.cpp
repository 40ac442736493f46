// The archive-get spool: names, identity, the read-ahead queue and the hand-over to PostgreSQL.
#include "repo/wal_get_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/log.h"
#include "io/buffer.h"
#include "io/sha256.h"
#include "pg/wal.h"
#include "storage/posix.h"

namespace backrest::repo {

namespace {

constexpr const char* kIdentityFile = "spool.id";
constexpr const char* kAskedFile = "asked";
constexpr const char* kNotArchivedSuffix = ".ok";  // pgBackRest's name for "not found"
constexpr const char* kFailedSuffix = ".error";
constexpr const char* kTemporarySuffix = ".tmp";    // PosixStorage's atomic writes use it too
constexpr const char* kStagingSuffix = ".fetch";    // fetched, its checksum not yet beside it
constexpr const char* kChecksumSuffix = ".sha256";  // the repository's SHA-256 of a segment
constexpr const char* kWarningSuffix = ".warn";     // the repositories that failed to give it

std::optional<std::string> readSmallFile(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool endsWith(const std::string& name, std::string_view suffix) {
    return name.size() > suffix.size() && name.ends_with(suffix);
}

// The segment a spool entry is about ("" for the identity and asked files).
std::string segmentOf(const std::string& name) {
    std::string base = name;
    if (endsWith(base, kTemporarySuffix)) base.resize(base.size() - std::strlen(kTemporarySuffix));
    for (std::string_view suffix :
         {kNotArchivedSuffix, kFailedSuffix, kStagingSuffix, kChecksumSuffix, kWarningSuffix})
        if (endsWith(base, suffix)) base.resize(base.size() - suffix.size());
    return pg::isWalSegmentName(base) ? base : "";
}

// The SHA-256 of a file's bytes, lowercase hex.
std::string fileSha256(int fd, const std::string& file) {
    io::Sha256Filter sha;
    io::Buffer unused;
    std::vector<uint8_t> buffer(1 << 20);
    for (off_t at = 0;;) {
        ssize_t n = ::pread(fd, buffer.data(), buffer.size(), at);
        if (n < 0) raiseErrno(ErrorCode::FileRead, "unable to read", file);
        if (n == 0) break;
        sha.process({buffer.data(), static_cast<size_t>(n)}, unused);
        at += n;
    }
    sha.finish(unused);
    return sha.hex();
}

void removeFile(const std::string& file) {
    if (::unlink(file.c_str()) != 0 && errno != ENOENT)
        raiseErrno(ErrorCode::FileWrite, "unable to remove", file);
}

}  // namespace

std::string walGetSpoolDirectory(const std::string& spoolPath, const std::string& stanza) {
    return spoolPath + "/archive/" + stanza + "/in";
}

WalGetSpool::WalGetSpool(std::string directory, std::string identity, uint64_t systemId,
                         uint32_t segmentSize)
    : directory_(std::move(directory)),
      identity_(std::move(identity)),
      systemId_(systemId),
      segmentSize_(segmentSize) {}

std::string WalGetSpool::identityOf(const std::string& stanza, uint64_t systemId,
                                    uint32_t segmentSize) {
    return fmt::format("stanza={}\nsystem-id={}\nwal-segment-size={}\n", stanza, systemId,
                       segmentSize);
}

void WalGetSpool::claim() {
    if (owned()) return;
    clear();
    std::error_code ec;
    std::filesystem::create_directories(directory_, ec);
    if (ec)
        raise(ErrorCode::FileWrite, "archive-get: unable to create spool directory '{}': {}",
              directory_, ec.message());
    writeSmallFile(kIdentityFile, identity_);
}

bool WalGetSpool::owned() const {
    return readSmallFile(path(kIdentityFile)) == identity_;
}

void WalGetSpool::recordAsked(const std::string& walName) {
    // Only a hint for the fetcher (where to read ahead from, what it may prune): a stale record
    // makes it keep more, never less, so a spool too full to take it does not stop recovery.
    try {
        writeSmallFile(kAskedFile, walName);
    } catch (const Error& e) {
        logWarn(
            "archive-get: the spool did not take the record of WAL segment {} being asked "
            "for ({}); the read-ahead may lag",
            walName, e.what());
    }
}

std::optional<std::string> WalGetSpool::asked() const {
    auto text = readSmallFile(path(kAskedFile));
    if (!text || !pg::isWalSegmentName(*text)) return std::nullopt;
    return text;
}

SpoolEntry WalGetSpool::look(const std::string& walName) const {
    if (auto text = readSmallFile(path(walName + kFailedSuffix))) {
        // "<code>\n<message>"; a file cut short by a crash still stops recovery.
        auto newline = text->find('\n');
        int code = newline == std::string::npos ? 0 : std::atoi(text->substr(0, newline).c_str());
        std::string message = newline == std::string::npos ? "" : text->substr(newline + 1);
        if (!isKnownErrorCode(code) || message.empty()) {
            code = static_cast<int>(ErrorCode::Format);
            message = fmt::format(
                "archive-get: the spool's record of an error for WAL segment "
                "{} ('{}') is unreadable",
                walName, path(walName + kFailedSuffix));
        }
        return {SpoolEntry::Kind::Failed, Error(static_cast<ErrorCode>(code), message)};
    }
    if (::access(path(walName).c_str(), F_OK) == 0) return {SpoolEntry::Kind::Ready};
    if (::access(path(walName + kNotArchivedSuffix).c_str(), F_OK) == 0)
        return {SpoolEntry::Kind::NotArchived};
    return {};
}

std::string WalGetSpool::stagingName(const std::string& walName) {
    return walName + kStagingSuffix;
}

void WalGetSpool::publish(const std::string& walName, const std::string& sha256,
                          const std::string& warning) {
    if (warning.empty())
        removeFile(path(walName + kWarningSuffix));
    else
        writeSmallFile(walName + kWarningSuffix, warning);
    writeSmallFile(walName + kChecksumSuffix, sha256);
    const std::string staged = path(stagingName(walName));
    if (::rename(staged.c_str(), path(walName).c_str()) != 0)
        raiseErrno(ErrorCode::FileWrite, "unable to rename '" + staged + "' to", path(walName));
}

bool WalGetSpool::take(const std::string& walName, const std::string& destination) {
    const std::string source = path(walName);
    const std::string checksumFile = path(walName + kChecksumSuffix);
    // A bad copy is the spool's fault, not the archive's: removed, and fetched again.
    bool rejected = false;
    auto reject = [&](const std::string& why) {
        removeFile(source);
        removeFile(checksumFile);
        logWarn("archive-get: WAL segment {} in the spool ('{}') {}; removed, fetching it again",
                walName, source, why);
        rejected = true;
    };
    {
        int fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) return false;
        if (fd < 0) raiseErrno(ErrorCode::FileOpen, "unable to open", source);
        struct Closer {
            int fd;
            ~Closer() { ::close(fd); }
        } closer{fd};
        uint8_t header[512];
        ssize_t n = ::pread(fd, header, sizeof header, 0);
        off_t size = ::lseek(fd, 0, SEEK_END);
        if (n < 0 || size < 0) raiseErrno(ErrorCode::FileRead, "unable to read", source);
        pg::WalHeader h;
        try {
            h = pg::parseWalHeader({header, static_cast<size_t>(n)}, source);
        } catch (const Error& e) {
            reject(fmt::format("is not a WAL segment: {}", e.what()));
            return false;
        }
        auto segment = pg::WalSegment::parse(walName, segmentSize_);
        if (h.systemId != systemId_)
            reject(
                fmt::format("belongs to the cluster with system identifier {}, not to the "
                            "restoring cluster's {}",
                            h.systemId, systemId_));
        else if (static_cast<uint64_t>(size) != segmentSize_ || h.segmentSize != segmentSize_)
            reject(
                fmt::format("has {} bytes (header: segment size {}), the cluster's segment "
                            "size is {}",
                            size, h.segmentSize, segmentSize_));
        else if (!segment || h.pageAddress != segment->segno * segmentSize_)
            reject(fmt::format("holds the bytes of another segment (its header starts at {})",
                               pg::formatLsn(h.pageAddress)));
        if (rejected) return false;
        auto expected = readSmallFile(checksumFile);
        if (!expected) {
            reject(fmt::format("has no record of the repository's checksum beside it ('{}')",
                               checksumFile));
            return false;
        }
        std::string read = fileSha256(fd, source);
        if (read != *expected) {
            reject(
                fmt::format("does not match the repository's checksum (SHA-256 {} expected, {} "
                            "read)",
                            *expected, read));
            return false;
        }
    }
    removeFile(checksumFile);
    // Logged once the segment is served; a warning of a segment pruned unserved goes with it.
    const std::string warningFile = path(walName + kWarningSuffix);
    if (auto warning = readSmallFile(warningFile)) {
        std::istringstream lines(*warning);
        for (std::string line; std::getline(lines, line);)
            if (!line.empty()) logWarn("{}", line);
        removeFile(warningFile);
    }
    if (::rename(source.c_str(), destination.c_str()) == 0) return true;
    if (errno == ENOENT) return false;
    if (errno != EXDEV)
        raiseErrno(ErrorCode::FileWrite, "unable to move '" + source + "' to", destination);
    // Another file system: copied next to the destination, then renamed over it.
    std::filesystem::path dest(destination);
    storage::PosixStorage out(dest.parent_path().string());
    storage::WriteOptions write;
    write.mode = 0600;
    write.syncFile = false;  // as getWal: PostgreSQL fetches again after a crash
    write.syncPath = false;
    write.createPath = false;
    storage::PosixStorage in(directory_);
    storage::Storage& from = in;
    auto reader = from.openRead(walName);
    auto writer = static_cast<storage::Storage&>(out).openWrite(dest.filename().string(), write);
    std::vector<uint8_t> buffer(1 << 20);
    for (size_t n; (n = reader->read({buffer.data(), buffer.size()})) > 0;)
        writer->write({buffer.data(), n});
    writer->close();
    removeFile(source);
    return true;
}

void WalGetSpool::forget(const std::string& walName) {
    removeFile(path(walName + kNotArchivedSuffix));
    removeFile(path(walName + kFailedSuffix));
}

std::vector<std::string> WalGetSpool::readAhead(const std::string& asked, uint64_t queueMax) const {
    auto segment = pg::WalSegment::parse(asked, segmentSize_);
    if (!segment) return {};
    uint64_t count = std::max<uint64_t>(1, queueMax / segmentSize_);
    std::vector<std::string> queue;
    for (uint64_t i = 1; i <= count; i++) {
        pg::WalSegment next{segment->timeline, segment->segno + i};
        queue.push_back(next.name(segmentSize_));
    }
    return queue;
}

void WalGetSpool::prune(const std::string& asked, const std::vector<std::string>& queue) {
    std::set<std::string> keep(queue.begin(), queue.end());
    keep.insert(asked);
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(directory_, ec)) {
        std::string name = entry.path().filename().string();
        std::string segment = segmentOf(name);
        if (!segment.empty() && !keep.contains(segment)) removeFile(path(name));
    }
}

void WalGetSpool::removeTemporary() {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(directory_, ec)) {
        std::string name = entry.path().filename().string();
        if (endsWith(name, kTemporarySuffix) || endsWith(name, kStagingSuffix))
            removeFile(path(name));
    }
}

void WalGetSpool::recordNotArchived(const std::string& walName) {
    writeSmallFile(walName + kNotArchivedSuffix, "");
}

void WalGetSpool::recordFailed(const std::string& walName, const Error& error) {
    writeSmallFile(walName + kFailedSuffix,
                   fmt::format("{}\n{}", static_cast<int>(error.code()), error.what()));
}

void WalGetSpool::clear() {
    std::error_code ec;
    std::filesystem::remove_all(directory_, ec);
    if (ec)
        raise(ErrorCode::FileWrite, "archive-get: unable to remove spool directory '{}': {}",
              directory_, ec.message());
}

// Written whole under a temporary name, then renamed: a reader sees the old file or the new.
void WalGetSpool::writeSmallFile(const std::string& name, const std::string& content) const {
    std::string temporary = path(name + kTemporarySuffix);
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        raiseErrno(ErrorCode::FileWrite, "archive-get: unable to create in the spool", temporary);
    // A full spool (ENOSPC) must not leave a temporary file behind to fill it further.
    auto failed = [&](const char* what) {
        int saved = errno;
        ::close(fd);
        ::unlink(temporary.c_str());
        errno = saved;
        raiseErrno(ErrorCode::FileWrite, what, temporary);
    };
    for (size_t done = 0; done < content.size();) {
        ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) failed("archive-get: unable to write in the spool");
        done += static_cast<size_t>(n);
    }
    if (::close(fd) != 0) {
        int saved = errno;
        ::unlink(temporary.c_str());
        errno = saved;
        raiseErrno(ErrorCode::FileWrite, "archive-get: unable to write in the spool", temporary);
    }
    if (::rename(temporary.c_str(), path(name).c_str()) != 0)
        raiseErrno(ErrorCode::FileWrite, "unable to rename '" + temporary + "' to", path(name));
}

}  // namespace backrest::repo
