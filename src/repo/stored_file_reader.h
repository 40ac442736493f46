// Reading back one stored file, the one way restore, delta restore, backup resume and verify
// do it: the repository's bytes (a whole file or a bundle's range) opened and decompressed by the
// codec, counted and checksummed, with what went wrong as a typed fault. Each caller decides what
// a fault means for it (restore raises, resume copies the file again, verify reports) and words
// its own message, so the reader never raises for the stored file's damage.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "common/error.h"
#include "io/file_checksum.h"
#include "repo/codec.h"
#include "repo/file_transfer.h"
#include "storage/storage.h"

namespace backrest::repo {

// What is wrong with a stored file, as found by reading it back.
enum class StoredFault {
    None,
    Missing,      // the repository file does not exist
    Undecodable,  // decompression failed: damaged or truncated bytes (a Compress error)
    Unopened,     // a sealed unit does not open as the file's piece with the key (a Crypto error)
    Unreadable,   // reading failed otherwise (I/O, permissions, a server): not known to be damage
    Mismatch,     // read whole, but the size or checksum differs from the one expected
};

// What reading a stored file back found.
struct StoredRead {
    uint64_t size = 0;        // original bytes read
    uint64_t storedSize = 0;  // repository bytes read
    std::string checksum;     // hex, of the original bytes (complete only when nothing failed)
    StoredFault fault = StoredFault::None;
    // Undecodable, Unopened and Unreadable: the error as raised, naming the file (and its unit or
    // frame), for the caller's message or to pass on as it was.
    std::optional<Error> error;

    bool ok() const { return fault == StoredFault::None; }
};

// What the original bytes must be. Without a size (a WAL segment: its name carries only the
// checksum), only the checksum is compared.
struct StoredExpectation {
    std::string checksum;  // hex; its length says the algorithm
    std::optional<uint64_t> size;
};

// One stored file, opened then read once.
class StoredFileReader {
  public:
    using Sink = std::function<void(std::span<const uint8_t>)>;

    // `piece`: what the stored bytes are sealed as (repo/piece.h), read only when the codec has a
    // key.
    StoredFileReader(storage::Storage& repo, StoredLocation from, RepoCodec codec,
                     std::string piece);

    // Opens the stored file: false when it is missing. An error opening it (other than its
    // absence) is raised as the storage raised it: the stored file is not known to be at fault.
    bool open();
    // For messages: the repository path, and the byte range of a file in a bundle.
    const std::string& where() const { return where_; }

    struct Sinks {
        Sink original = {};  // the original bytes, in order (nothing: they are only checksummed)
        Sink stored = {};    // the repository's bytes as read, before they are decoded
    };
    // Reads the opened file whole, checksumming its original bytes with `type` (a SHA-256 on a
    // thread of its own with Thread::Own, for a large file). What a sink raises is passed on
    // unchanged (a restore's write failure is not the stored file's damage); every other failure
    // is the returned fault.
    StoredRead read(io::ChecksumType type, const StoredExpectation& expected, const Sinks& sinks,
                    size_t bufferSize,
                    io::Sha256Filter::Thread hash = io::Sha256Filter::Thread::Caller);

  private:
    storage::Storage& repo_;
    StoredLocation from_;
    RepoCodec codec_;
    std::string piece_;
    std::string where_;
    std::unique_ptr<storage::StorageRead> in_;
};

// The whole file's checksum of a file stored as frames (repo/framed_fetch.h): the frames are read
// and decoded apart, but their original bytes are checksummed here in file order. The caller keeps
// the order (whose turn it is: repo/frame_order.h) and has one thread at a time add.
class FrameOrderChecksum {
  public:
    explicit FrameOrderChecksum(io::ChecksumType type) : sum_(type) {}
    // The original bytes of the next frame in file order.
    void add(std::span<const uint8_t> raw);
    // After the last frame: size, checksum, and Mismatch when they are not the ones expected.
    StoredRead finish(const StoredExpectation& expected);

  private:
    io::ChecksumFilter sum_;
    uint64_t size_ = 0;
};

}  // namespace backrest::repo
