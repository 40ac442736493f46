// The drill history: one checksummed JSON per restore drill under <stanza backup dir>/drill/,
// named by when the drill started, the newest kDrillHistoryKept kept. What `info` and
// backrest_info() show of drills is read from here (doc/repository-format.md).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "repo/layout.h"
#include "storage/storage.h"

namespace backrest::repo {

inline constexpr int kDrillFormat = 1;
// Ten drills: a weekly drill keeps more than two months of history, a daily one ten days; each
// record is a few KiB plus one line per table.
inline constexpr size_t kDrillHistoryKept = 10;

// A named failure of a drill check: "bt_index_check" of "public.pgbench_accounts_pkey" in
// database "bench", with the server's message.
struct DrillFailure {
    std::string database, relation, check, message;
};

struct DrillRowCount {
    std::string database, table;
    int64_t rows = 0;
};

struct DrillRecord {
    std::string id;  // YYYYMMDD-HHMMSSmmm, UTC, when the drill started
    std::string backup;
    std::string backupType;
    bool passed = false;
    std::string error;        // what stopped the drill before or during its checks
    std::string failedPhase;  // the phase that error comes from
    // The recovery target asked for ("end of archive" or "--type=time --target=...") and what
    // recovery reached: the last LSN replayed, its segment, the last transaction's time.
    std::string targetRequested;
    std::string reachedLsn, reachedSegment, reachedTime;
    bool endOfArchive = false;  // the last archived segment of the timeline was replayed
    std::string walStart;       // the backup's first segment
    uint64_t walReplayed = 0;   // segments from walStart to reachedSegment
    // Seconds per phase, in the order run (plan, restore, start, recovery, checks, stop).
    std::vector<std::pair<std::string, double>> durations;
    int64_t started = 0, stopped = 0;  // epoch seconds
    uint64_t databases = 0, btreeIndexes = 0, heaps = 0, tables = 0, checksumFailures = 0;
    std::vector<DrillRowCount> rowCounts;
    std::vector<DrillFailure> failures;

    double duration(const std::string& phase) const;
};

// A drill's id from a time in milliseconds since the epoch.
std::string drillId(int64_t epochMillis);
bool isDrillId(std::string_view name);

nlohmann::json drillJson(const DrillRecord& record);
// FormatError naming `context` when a required key is missing or of another type.
DrillRecord drillFromJson(const nlohmann::json& doc, const std::string& context);

std::string drillDir(const Layout& layout);
std::string drillPath(const Layout& layout, const std::string& id);

// Writes the record (and its .copy), sealed with the layout's key, then removes the records
// older than the newest kDrillHistoryKept.
void saveDrill(storage::Storage& repo, const Layout& layout, const DrillRecord& record);
// The ids of the drills recorded, oldest first.
std::vector<std::string> listDrills(storage::Storage& repo, const Layout& layout);
// The newest `count` records, oldest first; a damaged record (both copies) is an error naming it.
std::vector<DrillRecord> loadDrills(storage::Storage& repo, const Layout& layout,
                                    size_t count = kDrillHistoryKept);

}  // namespace backrest::repo
