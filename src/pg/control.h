// What backrest needs from a data directory without a running server: the major version
// (PG_VERSION), the system identifier and the WAL segment size (global/pg_control).
#pragma once

#include <cstdint>
#include <string>

#include "storage/storage.h"

namespace backrest::pg {

struct ControlInfo {
    std::string version;  // major version, "15"
    uint64_t systemId = 0;
    uint32_t controlVersion = 0;
    uint32_t catalogVersion = 0;
    // Bytes per WAL segment (initdb --wal-segsize); 0 when the file is not laid out as this build
    // knows (PostgreSQL 15 on a 64-bit, little-endian host).
    uint32_t walSegmentSize = 0;
};

// Reads PG_VERSION and global/pg_control of the data directory held by `pgData`.
// Throws FileMissingError/FormatError naming the file.
ControlInfo readControl(storage::Storage& pgData);

// Version supported by this build of backrest.
bool isSupportedVersion(const std::string& version);

}  // namespace backrest::pg
