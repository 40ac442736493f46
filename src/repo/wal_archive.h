// The WAL archive of a stanza: push (deduplicated, identity-checked, durable before success),
// find and get. Shared by the archive-push/archive-get commands and, later, the daemon behind
// archive_library.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "io/compress.h"
#include "io/filter_chain.h"
#include "io/sha256.h"
#include "repo/info.h"
#include "repo/layout.h"
#include "storage/storage.h"

namespace backrest::repo {

struct ArchivedWal {
    std::string archiveId;  // "15-1"
    std::string path;       // repository path of the stored file
    std::string sha256;     // of the original bytes (from the name)
    io::CompressType compressType = io::CompressType::None;
    // The repository key its bytes are sealed with (Layout::key; nullptr: not encrypted).
    std::shared_ptr<const crypto::RepoKey> key{};
};

// Whether a file named `entryName` in a WAL directory is a stored copy of `walName`: not a
// temporary file, nor a bad copy set aside.
bool isStoredWalCopy(const std::string& entryName, const std::string& walName);

// Looks for a WAL file (segment, .backup or .history) in one archive id.
std::optional<ArchivedWal> findWal(storage::Storage& repo, const Layout& layout,
                                   const std::string& archiveId, const std::string& walName);

enum class PushResult { Stored, AlreadyPresent };

struct PushOptions {
    io::CompressType compressType = io::CompressType::Zst;
    int compressLevel = 3;
    size_t bufferSize = 1024 * 1024;
    // The cluster's WAL segment size (pg_control); 0: the size each segment's header gives.
    uint32_t walSegmentSize = 0;
    // Streamed WAL (StreamedWal): the local directory (spool-path) its segments are gathered in.
    std::string spoolPath{};
};

// Pushes one file from pg_wal. `source`/`sourcePath` locate it. The cluster's identity
// (version, system id) is checked against archive.info, and for a segment also against the
// segment's own header; a segment whose size is not the segment size is refused. An identical
// file already archived is success; a different good one with the same name raises
// ArchiveDuplicateError and nothing is overwritten; a provably bad one is replaced and set aside
// (wal_stored_copy.h). Returns only once the file is durable in the repository.
PushResult pushWal(storage::Storage& repo, const Layout& layout, const ArchiveInfo& info,
                   storage::Storage& source, const std::string& sourcePath,
                   const std::string& clusterVersion, uint64_t clusterSystemId,
                   const PushOptions& options);

// A WAL segment stored while it is being written (bytes from the replication stream, in order):
// hashed and compressed into a spool file (wal_spool.h) as they arrive; finish() writes it to the
// repository whole, in one atomic write, under the name the SHA-256 then known gives, with
// pushWal's identity checks (archive.info, and the segment's own header) and de-duplication, and
// returns only once that write completed. The spool file goes either way. Destroyed before
// finish(): nothing was stored.
//
// finish() is what the archiver waits for, so what can be done before it is: the repository is
// looked up for the segment when it starts and again by checkRepository() (finish() looks again
// only when that is older than kRepositoryCheckAge), and sealFrame() compresses what is pending,
// ending one compressed frame (a reader decodes the frames one after the other), so that finish()
// has only the bytes since to compress.
class WalSpool;

class StreamedWal {
  public:
    static constexpr std::chrono::milliseconds kRepositoryCheckAge{2000};

    StreamedWal(storage::Storage& repo, const Layout& layout, const ArchiveInfo& info,
                std::string walName, const std::string& clusterVersion, uint64_t clusterSystemId,
                const PushOptions& options);
    ~StreamedWal();
    void write(std::span<const uint8_t> bytes);
    uint64_t size() const { return size_; }
    // Bytes written since the last frame was sealed (or since the start).
    uint64_t unsealed() const { return size_ - sealedAt_; }
    void sealFrame();
    // Makes what was written so far durable (the spool file's fdatasync).
    void syncWritten();
    void checkRepository();
    std::chrono::steady_clock::duration sinceRepositoryCheck() const {
        return std::chrono::steady_clock::now() - checkedAt_;
    }
    PushResult finish();

  private:
    void startFrame();
    void storeSpooled(const std::string& target);

    storage::Storage& repo_;
    const Layout& layout_;
    std::string archiveId_, walName_, directory_, extension_;
    DbIdentity identity_;
    io::CompressType compressType_;
    int compressLevel_;
    size_t bufferSize_;
    std::unique_ptr<WalSpool> spool_;
    io::Sha256Filter sha_;
    std::unique_ptr<io::FilterChain> frame_;  // the compression of the current frame, into spool_
    std::string header_;                      // the first bytes: the long page header
    uint64_t size_ = 0, sealedAt_ = 0;
    std::optional<ArchivedWal> existing_;  // as last looked up
    std::chrono::steady_clock::time_point checkedAt_;
};

// Fetches a WAL file into destination/destinationPath (atomically), verifying its checksum and,
// for a segment, that its size is the segment size its long page header gives, that the header
// is the segment's own (its address) and of the archive's cluster (system identifier), and of
// the restoring cluster's when `clusterSystemId` is given: then only the archive ids of that
// system are searched, and DbMismatchError says when archive.info has none. Searches the current
// archive id first, then older ones. false only when it is not archived: every other failure
// raises, naming the segment and the repository file. `sha256`, when given, receives the
// SHA-256 of the bytes written (the repository's, verified).
bool getWal(storage::Storage& repo, const Layout& layout, const ArchiveInfo& info,
            const std::string& walName, storage::Storage& destination,
            const std::string& destinationPath, size_t bufferSize,
            std::optional<uint64_t> clusterSystemId = std::nullopt, std::string* sha256 = nullptr);

}  // namespace backrest::repo
