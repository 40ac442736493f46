// The WAL segment the daemon's stream is storing, shared with the archiver's request for it.
// PostgreSQL marks a segment .ready and wakes the archiver before it wakes the walsender, so the
// request always comes before the stream's last bytes: rather than wait for them, the request
// completes the segment from pg_wal's file (complete and fsynced by then) and the stream, when
// its bytes come, only checks them against what was archived.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include "repo/wal_archive.h"

namespace backrest::repo {

class StreamedSegment {
  public:
    StreamedSegment(std::unique_ptr<StreamedWal> wal, std::string walName, uint32_t segmentSize);
    ~StreamedSegment();
    const std::string& name() const { return name_; }

    // The stream's next bytes, in order. Once the archiver's request completed the segment, they
    // are compared with the bytes it read from pg_wal: ChecksumError, naming the offset, when
    // they differ (the archived copy, pg_wal's, stands; the stream should start over).
    void write(std::span<const uint8_t> bytes);
    // The stream's last byte came. Stores the segment (StreamedWal::finish) and returns how,
    // or nullopt when the archiver's request had completed it, or it was abandoned.
    std::optional<PushResult> finish();
    // The stream has nothing more for now: does ahead what a completion would otherwise wait
    // for. Near the segment's end, what is pending is compressed (StreamedWal::sealFrame), so
    // that a completion compresses only the last bytes; and the repository look-up is renewed
    // (at most every kRepositoryRecheck, and only when bytes came since).
    void idle();
    // The stream failed: the unfinished segment's spool file goes; a request completes nothing.
    void abandon();

    enum class Completion { ByStream, FromFile };
    struct Completed {
        Completion by;
        PushResult result;
    };
    // The archiver's request, `path` being the segment in pg_wal: appends the bytes the stream has
    // not sent yet from the file, and stores the segment. If the stream stored it first, says so.
    // nullopt when the stream abandoned it (the caller pushes the file as without a stream).
    // Raises when the file cannot be read or the store fails; the segment is then abandoned.
    std::optional<Completed> completeFromFile(const std::string& path);

    // idle() seals frames only in the segment's last kSealRegion bytes (where the archiver's
    // request comes; earlier ones would only cost compression), and only kSealMinimum at a time.
    static constexpr uint64_t kSealRegion = 256 * 1024;
    static constexpr uint64_t kSealMinimum = 32 * 1024;
    static constexpr std::chrono::milliseconds kRepositoryRecheck{1000};

  private:
    enum class State { Streaming, Stored, CompletedFromFile, Abandoned };

    std::mutex mutex_;
    const std::string name_;
    const uint32_t segmentSize_;
    State state_ = State::Streaming;
    std::unique_ptr<StreamedWal> wal_;
    uint64_t received_ = 0;  // stream bytes of this segment so far
    uint64_t receivedAtCheck_ = 0;
    PushResult result_ = PushResult::Stored;
    // Completed from the file: bytes [tailStart_, segmentSize_) as read, for the stream to match.
    std::string tail_;
    uint64_t tailStart_ = 0;
};

}  // namespace backrest::repo
