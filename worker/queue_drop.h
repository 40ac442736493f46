// archive-push-queue-max for both push paths (archive-push and the daemon's archive_library
// requests): measure the queue in pg_wal, and past the limit drop the segment loudly.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "repo/layout.h"
#include "storage/storage.h"

namespace backrest::cmd {

struct QueueLimit {
    std::optional<uint64_t> max;  // archive-push-queue-max; unset: never drop
    uint64_t segmentSize = 0;     // pg_control's
};

// The ERROR a drop logs: the segment, the queue and the limit, and what it costs.
std::string queueDropMessage(const std::string& command, const std::string& segment,
                             uint64_t queueBytes, uint64_t queueMax);

// When the WAL waiting in `pgWal` exceeds the limit: records `segment` as dropped (in the
// repository under the current archive id when `archiveId` returns one, else in pg_wal until a
// push can carry it over), logs the ERROR and returns true; the caller then reports the segment
// archived to PostgreSQL. false: under the limit (or no limit), push as usual.
bool dropIfQueueFull(const std::string& command, const QueueLimit& limit, const std::string& pgWal,
                     const std::string& segment, storage::Storage* repo, const repo::Layout& layout,
                     const std::function<std::optional<std::string>()>& archiveId);

}  // namespace backrest::cmd
