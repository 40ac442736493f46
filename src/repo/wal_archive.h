// The WAL archive of a stanza: push (deduplicated, identity-checked, durable before success),
// find and get. Shared by the archive-push/archive-get commands and, later, the daemon behind
// archive_library.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

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

// Fetches a WAL file into destination/destinationPath (atomically), verifying its checksum.
// Searches the current archive id first, then older ones. false when it is not archived.
bool getWal(storage::Storage& repo, const Layout& layout, const ArchiveInfo& info,
            const std::string& walName, storage::Storage& destination,
            const std::string& destinationPath, size_t bufferSize);

}  // namespace backrest::repo
