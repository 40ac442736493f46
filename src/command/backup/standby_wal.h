// Whether a standby replays the primary's WAL, not a fork's: the same system identifier and
// timeline do not say it (a copy of the primary started as a primary keeps both and writes its
// own WAL), the bytes of the WAL before the backup's start do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace backrest::backup {

// A range of bytes of one WAL segment both servers must hold alike: offsets within segment
// `segno` (of the backup's timeline). The primary sends only WAL it flushed, so every byte the
// standby replayed is in the primary's file too.
struct WalCompareRange {
    uint64_t from = 0, to = 0;
};
struct WalCompare {
    uint64_t segno = 0;
    WalCompareRange range;
};
// In the segment of the backup's start: up to 64 KiB before it, to the end of what the standby
// replayed within the segment.
WalCompare walBeforeStart(uint64_t startLsn, uint64_t standbyReplayedLsn, uint32_t segmentSize);
// Up to 64 KiB before the standby's replay point, in the segment that holds its last byte: the
// segment a standby still has when the start's was recycled by a restartpoint.
WalCompare walBeforeReplayed(uint64_t standbyReplayedLsn, uint32_t segmentSize);

// Compares the range of two copies of one WAL segment. nullopt: the same bytes; else the offset
// of the first difference (a file shorter than the range differs where it ends). Raises
// FileMissingError when either file is missing, FileReadError when one cannot be read.
std::optional<uint64_t> firstWalDifference(const std::string& primaryFile,
                                           const std::string& standbyFile,
                                           const WalCompareRange& range);

}  // namespace backrest::backup
