// Which WAL segments of a timeline an archive holds, and the segments a recovery from a backup
// reads, following the timeline history: so that a restore can see, before it writes anything,
// where recovery would stop early (a segment missing with later WAL archived after it).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "repo/layout.h"
#include "repo/timeline_history.h"
#include "storage/storage.h"

namespace backrest::repo {

// One timeline's part of the WAL a recovery reads: segments [from, to]; to = nullopt: up to the
// last segment of that timeline in the archive.
struct WalPathStep {
    uint32_t timeline = 0;
    uint64_t from = 0;
    std::optional<uint64_t> to;
};

// The segments a recovery reads after a backup's stop segment, when it follows `targetTimeline`
// whose history is `history` (empty for the backup's own timeline): on each timeline up to the
// segment before the one holding its switch point (PostgreSQL reads that segment from the new
// timeline), then the target timeline to the end. A target timeline that branched before the
// backup ended cannot be followed from it: then only the backup's timeline is walked.
std::vector<WalPathStep> recoveryPath(uint32_t backupTimeline, uint64_t stopSegno, uint64_t stopLsn,
                                      uint32_t targetTimeline,
                                      const std::vector<TimelineSwitch>& history,
                                      uint32_t segmentSize);

// The first segment number of [from, to] not in `present` (sorted ascending), if any.
std::optional<uint64_t> firstMissing(const std::vector<uint64_t>& present, uint64_t from,
                                     uint64_t to);

// What one archive id holds, listed once: its root (history files, segment directories) on
// construction, then each 16-hex directory of a timeline at most once, when asked. A long
// archive has hundreds of thousands of segments: never one look-up per segment.
class ArchiveListing {
  public:
    ArchiveListing(storage::Storage& repo, const Layout& layout, std::string archiveId,
                   uint32_t segmentSize);

    // Segment numbers of `timeline` archived, from `fromSegno` on, sorted (.partial and .backup
    // files are not segments).
    const std::vector<uint64_t>& segments(uint32_t timeline, uint64_t fromSegno);
    bool hasHistory(uint32_t timeline) const { return histories_.count(timeline) != 0; }
    // The text of <timeline>.history; FileMissing when it is not archived.
    std::string history(uint32_t timeline);
    // What recovery_target_timeline = 'latest' finds: PostgreSQL asks for <tli + 1>.history,
    // <tli + 2>.history ... and stops at the first that is not archived.
    uint32_t latestTimeline(uint32_t from) const;
    const std::string& archiveId() const { return archiveId_; }

  private:
    storage::Storage& repo_;
    const Layout& layout_;
    std::string archiveId_;
    uint32_t segmentSize_;
    std::map<uint32_t, std::string> histories_;  // timeline -> stored file
    std::map<uint32_t, std::vector<std::string>>
        dirs_;  // timeline -> its 16-hex directories, sorted
    std::map<uint32_t, std::vector<uint64_t>> segments_;  // timeline -> listed segments
    std::map<uint32_t, uint64_t> listedFrom_;
};

}  // namespace backrest::repo
