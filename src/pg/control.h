// What backrest needs from a data directory without a running server: the major version
// (PG_VERSION) and the system identifier (global/pg_control).
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
};

// Reads PG_VERSION and global/pg_control of the data directory held by `pgData`.
// Throws FileMissingError/FormatError naming the file.
ControlInfo readControl(storage::Storage& pgData);

// Version supported by this build of backrest.
bool isSupportedVersion(const std::string& version);

}  // namespace backrest::pg
