// archive-push %p: used as archive_command. Exit 0 only once the segment is durable in the
// repository (or an identical copy already is), so PostgreSQL never recycles unarchived WAL.
#include <unistd.h>

#include <filesystem>

#include "common/error.h"
#include "common/log.h"
#include "pg/control.h"
#include "repo/info.h"
#include "repo/wal_archive.h"
#include "storage/posix.h"
#include "worker/commands.h"
#include "worker/context.h"
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

    auto repo = openRepo(config, RepoAccess::Write);
    auto layout = stanzaLayout(config);
    auto info = repo::requireArchiveInfo(*repo, layout);

    auto transfer = transferOptions(config);
    repo::PushOptions options{transfer.codec.compressType(), transfer.codec.compressLevel(),
                              transfer.bufferSize, control.walSegmentSize};
    auto result = repo::pushWal(*repo, layout, info, walDir, wal.filename().string(),
                                control.version, control.systemId, options);
    logInfo("archive-push: {} {}", std::filesystem::path(walPath).filename().string(),
            result == repo::PushResult::Stored ? "stored" : "was already stored");
    return 0;
}

}  // namespace backrest::cmd
