// The WAL archive of a stanza: push (deduplicated, identity-checked, durable before success),
// find and get. Shared by the archive-push/archive-get commands and, later, the daemon behind
// archive_library.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "io/filter_chain.h"
#include "io/sha256.h"

#include "io/compress.h"
#include "repo/info.h"
#include "repo/layout.h"
#include "storage/storage.h"

namespace backrest::repo {

struct ArchivedWal {
    std::string archiveId;  // "15-1"
    std::string path;       // repository path of the stored file
    std::string sha256;     // of the original bytes (from the name)
    io::CompressType compressType = io::CompressType::None;
};

// Looks for a WAL file (segment, .backup or .history) in one archive id.
std::optional<ArchivedWal> findWal(storage::Storage& repo, const Layout& layout,
                                   const std::string& archiveId, const std::string& walName);

enum class PushResult { Stored, AlreadyPresent };

struct PushOptions {
    io::CompressType compressType = io::CompressType::Zst;
    int compressLevel = 3;
    size_t bufferSize = 1024 * 1024;
};

// Pushes one file from pg_wal. `source`/`sourcePath` locate it. The cluster's identity
// (version, system id) is checked against archive.info, and for a segment also against the
// segment's own header. An identical file already archived is success; a different one with
// the same name raises ArchiveDuplicateError and nothing is overwritten. Returns only once the
// file is durable in the repository.
PushResult pushWal(storage::Storage& repo, const Layout& layout, const ArchiveInfo& info,
                   storage::Storage& source, const std::string& sourcePath,
                   const std::string& clusterVersion, uint64_t clusterSystemId,
                   const PushOptions& options);

// A WAL segment stored while it is being written (bytes from the replication stream, in order):
// hashed and compressed into a temporary file as they arrive; finish() names the file by the
// SHA-256 then known and makes it durable, with pushWal's identity checks (archive.info, and the
// segment's own header) and de-duplication. Destroyed before finish(): the temporary file is
// removed and nothing was stored.
class StreamedWal {
public:
    StreamedWal(storage::Storage& repo, const Layout& layout, const ArchiveInfo& info, std::string walName,
                const std::string& clusterVersion, uint64_t clusterSystemId, const PushOptions& options);
    ~StreamedWal();
    void write(std::span<const uint8_t> bytes);
    uint64_t size() const { return size_; }
    PushResult finish();

private:
    storage::Storage& repo_;
    const Layout& layout_;
    std::string archiveId_, walName_, directory_, extension_, temporary_;
    DbIdentity identity_;
    std::unique_ptr<storage::StorageWrite> out_;
    std::unique_ptr<io::FilterChain> chain_;
    io::Sha256Filter* sha_ = nullptr;
    std::string header_;  // the first bytes: the long page header
    uint64_t size_ = 0;
};

// Removes what a streaming daemon killed mid-segment left in the directory of `walName`: its
// temporary files, when the process that wrote them is gone.
void removeAbandonedStreams(storage::Storage& repo, const Layout& layout, const std::string& archiveId,
                            const std::string& walName);

// Fetches a WAL file into destination/destinationPath (atomically), verifying its checksum.
// Searches the current archive id first, then older ones. false when it is not archived.
bool getWal(storage::Storage& repo, const Layout& layout, const ArchiveInfo& info,
            const std::string& walName, storage::Storage& destination,
            const std::string& destinationPath, size_t bufferSize);

}  // namespace backrest::repo
