// Compares the primary's and the standby's copies of the WAL at the backup's start.
#include "command/backup/standby_wal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "common/error.h"

namespace backrest::backup {

namespace {

constexpr uint64_t kBefore = 64 * 1024;

struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

int openWal(const std::string& file) {
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        raise(ErrorCode::FileMissing, "WAL segment '{}' is missing", file);
    if (fd < 0) raiseErrno(ErrorCode::FileOpen, "unable to open", file);
    return fd;
}

// Reads up to `size` bytes at `at`; fewer only at the end of the file.
size_t readAt(int fd, const std::string& file, uint8_t* into, size_t size, uint64_t at) {
    size_t done = 0;
    while (done < size) {
        ssize_t n = ::pread(fd, into + done, size - done, static_cast<off_t>(at + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) raiseErrno(ErrorCode::FileRead, "unable to read", file);
        if (n == 0) break;
        done += static_cast<size_t>(n);
    }
    return done;
}

}  // namespace

WalCompare walBeforeStart(uint64_t startLsn, uint64_t standbyReplayedLsn, uint32_t segmentSize) {
    WalCompare out;
    out.segno = startLsn / segmentSize;
    uint64_t segmentStart = out.segno * segmentSize;
    uint64_t start = startLsn - segmentStart;
    out.range.from = start > kBefore ? start - kBefore : 0;
    uint64_t replayed = standbyReplayedLsn > segmentStart ? standbyReplayedLsn - segmentStart : 0;
    out.range.to = std::clamp<uint64_t>(replayed, start, segmentSize);
    return out;
}

WalCompare walBeforeReplayed(uint64_t standbyReplayedLsn, uint32_t segmentSize) {
    WalCompare out;
    if (standbyReplayedLsn == 0) return out;
    out.segno = (standbyReplayedLsn - 1) / segmentSize;
    out.range.to = standbyReplayedLsn - out.segno * segmentSize;
    out.range.from = out.range.to > kBefore ? out.range.to - kBefore : 0;
    return out;
}

std::optional<uint64_t> firstWalDifference(const std::string& primaryFile,
                                           const std::string& standbyFile,
                                           const WalCompareRange& range) {
    Fd primary{openWal(primaryFile)}, standby{openWal(standbyFile)};
    std::vector<uint8_t> a(1 << 16), b(1 << 16);
    for (uint64_t at = range.from; at < range.to;) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(a.size(), range.to - at));
        size_t na = readAt(primary.fd, primaryFile, a.data(), want, at);
        size_t nb = readAt(standby.fd, standbyFile, b.data(), want, at);
        size_t n = std::min(na, nb);
        auto diff = std::mismatch(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(n), b.begin());
        if (diff.first != a.begin() + static_cast<std::ptrdiff_t>(n))
            return at + static_cast<uint64_t>(diff.first - a.begin());
        if (n < want) return at + n;
        at += n;
    }
    return std::nullopt;
}

}  // namespace backrest::backup
