// archive-push %p: used as archive_command. Exit 0 only once the segment is durable in the
// repository (or an identical copy already is), so PostgreSQL never recycles unarchived WAL.
#include <unistd.h>

#include <filesystem>

#include "common/error.h"
#include "common/log.h"
#include "pg/control.h"
#include "pg/wal.h"
#include "repo/info.h"
#include "repo/wal_archive.h"
#include "repo/wal_dropped.h"
#include "storage/posix.h"
#include "worker/commands.h"
#include "worker/context.h"
#include "worker/queue_drop.h"
#include "worker/stop_start.h"

namespace backrest::cmd {

int archivePush(const Config& config) {
    if (config.params().size() != 1)
        raise(ErrorCode::Command, "archive-push takes one parameter, the WAL file path (%p)");
    std::string walPath = config.params()[0];
    requireNotStopped(config, "archive-push");

    // PostgreSQL runs archive_command in the data directory of the cluster whose WAL it is, and
    // %p is relative to it: that directory, not pg1-path, says which cluster pushes. A copy
    // restored on this host may share the config file, and its pushes must never read the
    // pg_wal (or the identity) of the cluster pg1-path names. pg1-path counts only when the
    // command is run from elsewhere (by hand).
    const std::filesystem::path cwd = std::filesystem::current_path();
    std::error_code ec;
    const bool inDataDirectory = std::filesystem::exists(cwd / "global/pg_control", ec);
    std::string dataDir =
        inDataDirectory || !config.find(opt::pg1Path) ? cwd.string() : pgPath(config);
    std::filesystem::path wal(walPath);
    if (wal.is_relative()) wal = cwd / wal;
    storage::PosixStorage pgData(dataDir);
    storage::PosixStorage walDir(wal.parent_path().string());
    auto control = pg::readControl(pgData);
    std::string pgWal = wal.parent_path().string();
    std::string segment = wal.filename().string();
    auto layout = stanzaLayout(config);

    // archive-push-queue-max (pgBackRest's order): the queue is measured before any push is tried,
    // since a repository that cannot take WAL is the usual reason it queues; the repository is
    // then opened only for the drop's record, which waits in pg_wal if it cannot be written.
    QueueLimit limit{std::nullopt, control.walSegmentSize};
    if (config.find(opt::archivePushQueueMax))
        limit.max = static_cast<uint64_t>(config.getInt(opt::archivePushQueueMax));
    // Only WAL segments are dropped: a timeline history or backup history file is tiny, and
    // recovery across a timeline switch needs its history file.
    if (limit.max && pg::isWalSegmentName(segment) &&
        repo::queueExceeded(
            repo::archiveQueueBytes(repo::archiveStatusFiles(pgWal), control.walSegmentSize),
            *limit.max)) {
        std::unique_ptr<storage::Storage> repo;
        try {
            repo = openRepo(config, RepoAccess::Write);
            layout = stanzaLayout(config);  // with the key openRepo unwrapped, if encrypted
        } catch (const std::exception& e) {
            logWarn("archive-push: repository unavailable for the drop record ({})", e.what());
        }
        auto archiveId = [&]() -> std::optional<std::string> {
            if (!repo) return std::nullopt;
            auto info = repo::requireArchiveInfo(*repo, layout);
            // A repository of another cluster never receives this cluster's record.
            if (!repo::sameCluster(info.current(), control.version, control.systemId))
                return std::nullopt;
            return info.currentArchiveId();
        };
        if (dropIfQueueFull("archive-push", limit, pgWal, segment, repo.get(), layout, archiveId))
            return 0;
    }

    auto repo = openRepo(config, RepoAccess::Write);
    // Again after openRepo: the layout carries the key it unwrapped for an encrypted repository.
    layout = stanzaLayout(config);
    auto info = repo::requireArchiveInfo(*repo, layout);

    auto transfer = transferOptions(config);
    repo::PushOptions options{transfer.codec.compressType(), transfer.codec.compressLevel(),
                              transfer.bufferSize, control.walSegmentSize};
    auto result = repo::pushWal(*repo, layout, info, walDir, wal.filename().string(),
                                control.version, control.systemId, options);
    logInfo("archive-push: {} {}", std::filesystem::path(walPath).filename().string(),
            result == repo::PushResult::Stored ? "stored" : "was already stored");
    // Drop records that could not reach the repository when they were made: it takes writes now.
    try {
        repo::flushDroppedRecords(*repo, layout, pgWal, info.currentArchiveId());
    } catch (const std::exception& e) {
        logWarn("archive-push: drop records in {}/archive_status not carried over: {}", pgWal,
                e.what());
    }
    return 0;
}

}  // namespace backrest::cmd
