// verify's reading of the WAL archive: the names archive-push gives the WAL files it stores, and
// the holes in each timeline's run of segments.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/compress.h"

namespace backrest::cmd {

// A stored WAL file's name, "<wal name>-<sha256>[.zst]".
struct StoredWalName {
    std::string walName;  // a segment, .partial, backup history (.backup) or timeline .history
    std::string sha;      // of the original bytes: 64 lowercase hex digits
    io::CompressType type = io::CompressType::None;
    // A segment, partial segment or backup history file: stored in the directory of its
    // segment's first 16 digits (a timeline history file at the archive id's top).
    bool segmentLike = false;
};

// nullopt when `fileName` is not of that form: an unknown WAL name, a checksum that is not 64
// lowercase hex digits, or an extension that is no compression's.
std::optional<StoredWalName> parseStoredWalName(const std::string& fileName);

// A wal-segment-size PostgreSQL allows: a power of two, at least 1 MiB.
bool validSegmentSize(uint32_t size);

// From `start` (the oldest backup's wal-start) on, every timeline's segments should follow one
// another: one message per hole among `walNames` (the archive id's stored WAL names; others than
// segments are ignored), "WAL gap: <first>[ to <last>] missing in archive <id>: ...". A later
// timeline begins where it forked: only holes after its first segment count. Nothing when
// `start` is not a segment name.
std::vector<std::string> walGaps(const std::vector<std::string>& walNames, const std::string& start,
                                 uint32_t segmentSize, const std::string& archiveId);

}  // namespace backrest::cmd
