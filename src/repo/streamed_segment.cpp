// The streamed segment's two ways to completion: the stream's last byte, or the archiver's request.
#include "repo/streamed_segment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/error.h"
#include "storage/owned_fd.h"

namespace backrest::repo {

namespace {

// Bytes [from, size) of a local file (pg_wal is always beside the daemon).
std::string readRange(const std::string& path, uint64_t from, uint64_t size) {
    storage::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) raiseErrno(ErrorCode::FileOpen, "unable to open WAL segment", path);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        raiseErrno(ErrorCode::FileRead, "unable to stat WAL segment", path);
    if (static_cast<uint64_t>(st.st_size) != size)
        raise(ErrorCode::Format, "WAL segment '{}' has {} bytes, not the segment size {}", path,
              st.st_size, size);
    std::string bytes(size - from, '\0');
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::pread(fd.get(), bytes.data() + done, bytes.size() - done,
                            static_cast<off_t>(from + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) raiseErrno(ErrorCode::FileRead, "unable to read WAL segment", path);
        if (n == 0)
            raise(ErrorCode::Format, "WAL segment '{}' ended at {} bytes while being read", path,
                  from + done);
        done += static_cast<size_t>(n);
    }
    return bytes;
}

}  // namespace

StreamedSegment::StreamedSegment(std::unique_ptr<StreamedWal> wal, std::string walName,
                                 uint32_t segmentSize)
    : name_(std::move(walName)), segmentSize_(segmentSize), wal_(std::move(wal)) {}

StreamedSegment::~StreamedSegment() = default;

void StreamedSegment::write(std::span<const uint8_t> bytes) {
    std::lock_guard lock(mutex_);
    uint64_t at = received_;
    received_ += bytes.size();
    if (state_ == State::Streaming) {
        wal_->write(bytes);
        return;
    }
    if (state_ != State::CompletedFromFile) return;
    // The archived bytes came from pg_wal; the stream's must be the same (the walsender reads
    // that file). A difference is a fault somewhere: reported, never archived.
    if (at < tailStart_ || received_ > tailStart_ + tail_.size())
        raise(ErrorCode::Assert, "WAL stream of segment {}: bytes [{}, {}) outside the segment",
              name_, at, received_);
    const auto* archived = reinterpret_cast<const uint8_t*>(tail_.data()) + (at - tailStart_);
    auto [mine, theirs] = std::mismatch(bytes.begin(), bytes.end(), archived);
    if (mine != bytes.end())
        raise(ErrorCode::Checksum,
              "WAL segment {}: the replication stream's byte at offset {} differs from pg_wal's "
              "file, from which "
              "the segment was archived; the stream starts over",
              name_, at + static_cast<uint64_t>(mine - bytes.begin()));
}

std::optional<PushResult> StreamedSegment::finish() {
    std::lock_guard lock(mutex_);
    if (state_ != State::Streaming) return std::nullopt;
    try {
        result_ = wal_->finish();
    } catch (...) {
        wal_.reset();
        state_ = State::Abandoned;
        throw;
    }
    wal_.reset();
    state_ = State::Stored;
    return result_;
}

void StreamedSegment::idle() {
    std::lock_guard lock(mutex_);
    if (state_ != State::Streaming) return;
    // Each frame sealed there is made durable in the spool file too (its writeback done while
    // the stream is idle, not while the completion reads the spool back on the archiver's wait).
    if (received_ + kSealRegion >= segmentSize_ && wal_->unsealed() >= kSealMinimum) {
        wal_->sealFrame();
        wal_->syncWritten();
    }
    // Only while WAL comes: an idle server's daemon does not list the repository every second.
    if (received_ != receivedAtCheck_ && wal_->sinceRepositoryCheck() > kRepositoryRecheck) {
        wal_->checkRepository();
        receivedAtCheck_ = received_;
    }
}

void StreamedSegment::abandon() {
    std::lock_guard lock(mutex_);
    if (state_ == State::Streaming) state_ = State::Abandoned;
    wal_.reset();  // its spool file goes
}

std::optional<StreamedSegment::Completed> StreamedSegment::completeFromFile(
    const std::string& path) {
    std::lock_guard lock(mutex_);
    switch (state_) {
        case State::Stored:
            return Completed{Completion::ByStream, result_};
        case State::CompletedFromFile:
            return Completed{Completion::FromFile, result_};
        case State::Abandoned:
            return std::nullopt;
        case State::Streaming:
            break;
    }
    try {
        tailStart_ = received_;
        tail_ = readRange(path, tailStart_, segmentSize_);
        wal_->write({reinterpret_cast<const uint8_t*>(tail_.data()), tail_.size()});
        result_ = wal_->finish();
    } catch (...) {
        wal_.reset();
        tail_.clear();
        state_ = State::Abandoned;
        throw;
    }
    wal_.reset();
    state_ = State::CompletedFromFile;
    return Completed{Completion::FromFile, result_};
}

}  // namespace backrest::repo
