// The recovery settings a restore writes: restore_command, recovery targets, the signal file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "storage/storage.h"

namespace backrest::cmd {

struct RecoverySettings {
    std::string type;  // default immediate time xid lsn name none preserve standby
    std::vector<std::pair<std::string, std::string>> settings;  // name, value (unquoted)
    std::string signalFile;  // "recovery.signal", "standby.signal" or empty
    // The target, parsed, for choosing the backup that can reach it (worker/restore_plan.h).
    std::optional<double> targetTime;   // --type=time: seconds since the epoch, UTC
    std::optional<uint64_t> targetLsn;  // --type=lsn
    std::string describe() const;
};

// Validates --type/--target/--target-action/... and builds the settings. A target value
// PostgreSQL would refuse (time, xid, lsn, name) is an OptionError naming 'target'.
RecoverySettings recoverySettings(const Config& config);

// Rewrites postgresql.auto.conf in the restored data directory: earlier recovery settings are
// commented out, the new ones appended; then creates the signal file. Returns the names it wrote
// (relative to dataDir), for the restore to give them the data directory's owner.
std::vector<std::string> writeRecoveryConfig(storage::Storage& dataDir,
                                             const RecoverySettings& recovery);

}  // namespace backrest::cmd
