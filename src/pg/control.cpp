// Reads the identity of a PostgreSQL data directory from its files.
#include "pg/control.h"

#include <cstring>

#include "common/error.h"

namespace backrest::pg {

ControlInfo readControl(storage::Storage& pgData) {
    ControlInfo info;
    std::string version = storage::readAll(pgData, "PG_VERSION");
    while (!version.empty() && (version.back() == '\n' || version.back() == '\r'))
        version.pop_back();
    if (version.empty() || version.find_first_not_of("0123456789") != std::string::npos)
        raise(ErrorCode::Format, "'{}' does not hold a PostgreSQL major version",
              pgData.fullPath("PG_VERSION"));
    info.version = version;

    std::string control = storage::readAll(pgData, "global/pg_control");
    // ControlFileData starts with system_identifier (8), pg_control_version (4),
    // catalog_version_no (4); these leading fields have not moved since PostgreSQL 9.
    if (control.size() < 16)
        raise(ErrorCode::Format, "'{}' is too short to be a pg_control file",
              pgData.fullPath("global/pg_control"));
    std::memcpy(&info.systemId, control.data(), 8);
    std::memcpy(&info.controlVersion, control.data() + 8, 4);
    std::memcpy(&info.catalogVersion, control.data() + 12, 4);
    // PostgreSQL 15's ControlFileData on a 64-bit host: floatFormat (1234567.0, PostgreSQL's own
    // layout check) at 208, blcksz at 216, xlog_seg_size at 228 (offsets checked against
    // pg_controldata of an initdb --wal-segsize=32 cluster).
    constexpr size_t kFloatFormat = 208, kSegSize = 228;
    double floatFormat = 0;
    if (info.version == "15" && control.size() >= kSegSize + 4) {
        std::memcpy(&floatFormat, control.data() + kFloatFormat, 8);
        if (floatFormat == 1234567.0)
            std::memcpy(&info.walSegmentSize, control.data() + kSegSize, 4);
    }
    return info;
}

bool isSupportedVersion(const std::string& version) {
    return version == "15";
}

}  // namespace backrest::pg
