// archive-push-queue-max: how much WAL waits in pg_wal, and the record of each segment dropped
// (reported to PostgreSQL as archived, never stored) so info and check can say that recovery
// cannot cross the gap. A record is one small file,
// archive/<stanza>/dropped/<archive-id>-<segment>, written whole; when the repository cannot take
// it (the usual reason WAL queues), it waits in pg_wal/archive_status/<segment>.backrest-dropped
// and is carried over by the next push.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "repo/info.h"
#include "repo/layout.h"
#include "storage/storage.h"

namespace backrest::repo {

// pgBackRest's measure: the WAL PostgreSQL has marked ready (.ready status files naming a segment
// or a .partial segment) times the segment size. History and backup-history files are small and
// not counted.
uint64_t archiveQueueBytes(const std::vector<std::string>& statusFiles, uint64_t segmentSize);
// The status files of <pgWal>/archive_status (names only); none when the directory is missing.
std::vector<std::string> archiveStatusFiles(const std::string& pgWal);
// pgBackRest drops when the queue exceeds the limit (strictly).
inline bool queueExceeded(uint64_t queueBytes, uint64_t queueMax) {
    return queueBytes > queueMax;
}

struct DroppedSegment {
    std::string archiveId;  // "15-1"
    std::string segment;    // "000000010000000000000005"
    std::string detail;     // the record's text: when, by what, queue size and limit
};

// "<archive-id>-<segment>", the record's name; nullopt for a name that is not one.
std::string droppedRecordName(const std::string& archiveId, const std::string& segment);
std::optional<DroppedSegment> parseDroppedRecordName(const std::string& name);
std::string droppedDir(const Layout& layout);  // archive/<stanza>/dropped

// Records a dropped segment: in the repository when it can be written there (a repository and an
// archive id are known), else in pg_wal's archive_status (durable, outside any backup, never
// read by PostgreSQL) for flushDroppedRecords. Throws only when neither place takes the record.
// Returns true when the record reached the repository.
bool recordDropped(storage::Storage* repo, const Layout& layout, const std::string& pgWal,
                   const DroppedSegment& dropped);
// Carries records waiting in pg_wal/archive_status over to the repository (each removed locally
// only once written there); a record made without an archive id takes `currentArchiveId`.
// Returns how many were carried; a failure leaves the rest waiting for the next push.
size_t flushDroppedRecords(storage::Storage& repo, const Layout& layout, const std::string& pgWal,
                           const std::string& currentArchiveId);

// The repository's records, sorted by archive id then segment. Names that are not records (a
// ".tmp" of an interrupted write) are skipped.
std::vector<DroppedSegment> listDropped(storage::Storage& repo, const Layout& layout);

// The records of one archive id: how many, the first and the last.
struct DroppedRange {
    size_t count = 0;
    std::string first, last;
};
std::optional<DroppedRange> droppedRange(const std::vector<DroppedSegment>& dropped,
                                         const std::string& archiveId);

// The records still waiting in <pgWal>/archive_status (a record made without an archive id takes
// `currentArchiveId`), so that info and check on the database host report a drop the
// repository has not received yet.
std::vector<DroppedSegment> listDroppedPending(const std::string& pgWal,
                                               const std::string& currentArchiveId);
// The records whose segment the archive does not hold. A record is written before archive-push
// answers PostgreSQL; when the answer never arrives (the push killed, the server crashed, the
// archive_command failing after it), PostgreSQL pushes the segment again, and once the queue is
// under the limit it is archived for real: the record then names no gap. Each WAL directory the
// records fall in is listed once. expire removes records by the raw list (listDropped), never
// by this one: a record must not outlive the WAL that hides it.
std::vector<DroppedSegment> withoutArchived(storage::Storage& repo, const Layout& layout,
                                            std::vector<DroppedSegment> dropped);
// `a` and `b` together, sorted, each segment once.
std::vector<DroppedSegment> mergeDropped(std::vector<DroppedSegment> a,
                                         const std::vector<DroppedSegment>& b);

// What the records mean for one backup: the first dropped segment at or after the backup's WAL
// start (same archive id, compared by position within the timeline's numbering), past which
// recovery from it cannot go; whether it falls inside the backup's own WAL (start..stop), which
// leaves the backup unable to reach consistency.
struct BackupGap {
    std::string firstDropped;
    bool insideBackup = false;
};
std::optional<BackupGap> backupGap(const std::vector<DroppedSegment>& dropped,
                                   const std::string& archiveId, const std::string& walStart,
                                   const std::string& walStop);

// The first of `backups` (sorted by label) of `archiveId` that no record affects: restores from it
// and later ones recover whole. Empty when none.
std::string firstWholeBackup(const std::vector<DroppedSegment>& dropped,
                             const std::string& archiveId,
                             const std::vector<BackupSummary>& backups,
                             const std::vector<std::string>& backupArchiveIds);

}  // namespace backrest::repo
