// archive-push-queue-max's drop (worker/queue_drop.h).
#include "worker/queue_drop.h"

#include <fmt/format.h>

#include <ctime>

#include "common/log.h"
#include "repo/wal_dropped.h"
#include "worker/context.h"

namespace backrest::cmd {

std::string queueDropMessage(const std::string& command, const std::string& segment,
                             uint64_t queueBytes, uint64_t queueMax) {
    return fmt::format(
        "{}: dropped WAL segment {} without archiving it: the archive queue in pg_wal is {} ({} "
        "bytes), more than archive-push-queue-max {} ({} bytes); PostgreSQL is told it was "
        "archived, so point-in-time recovery cannot go past {} until a new backup is taken",
        command, segment, formatBytes(queueBytes), queueBytes, formatBytes(queueMax), queueMax,
        segment);
}

bool dropIfQueueFull(const std::string& command, const QueueLimit& limit, const std::string& pgWal,
                     const std::string& segment, storage::Storage* repo, const repo::Layout& layout,
                     const std::function<std::optional<std::string>()>& archiveId) {
    if (!limit.max) return false;
    uint64_t queue = repo::archiveQueueBytes(repo::archiveStatusFiles(pgWal), limit.segmentSize);
    if (!repo::queueExceeded(queue, *limit.max)) return false;
    std::optional<std::string> id;
    try {
        id = archiveId();
    } catch (const std::exception& e) {
        logWarn("{}: archive.info unreadable ({}); the drop record of {} waits in pg_wal", command,
                e.what(), segment);
    }
    repo::DroppedSegment dropped{id.value_or(""), segment,
                                 fmt::format("{} {} queue={} max={} by={}", std::time(nullptr),
                                             segment, queue, *limit.max, command)};
    // Recorded before anything says dropped: a segment neither the repository nor pg_wal can
    // record is not dropped (recordDropped throws, the push fails, PostgreSQL retries it).
    repo::recordDropped(repo, layout, pgWal, dropped);
    logError("{}", queueDropMessage(command, segment, queue, *limit.max));
    return true;
}

}  // namespace backrest::cmd
