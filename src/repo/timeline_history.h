// PostgreSQL's timeline history files (<timeline>.history, archived beside the WAL): which
// timeline each one branched off and where. Read by the restore pre-flight (repo/wal_continuity.h)
// and by the side-branch analysis (repo/timelines.h).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace backrest::repo {

// One line of a timeline history file: `parent` ended at `switchLsn`, where the next timeline
// began.
struct TimelineSwitch {
    uint32_t parent = 0;
    uint64_t switchLsn = 0;
};

// "1\t0/5000000\tno recovery target specified" lines, comments and blank lines skipped;
// FormatError naming `context` on a malformed line.
std::vector<TimelineSwitch> parseTimelineHistory(std::string_view text, std::string_view context);

}  // namespace backrest::repo
