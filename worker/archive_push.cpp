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

namespace backrest::cmd {

int archivePush(const Config& config) {
    if (config.params().size() != 1)
        raise(ErrorCode::Command, "archive-push takes one parameter, the WAL file path (%p)");
    std::string walPath = config.params()[0];

    // archive_command runs in the data directory; pg1-path, when set, says so explicitly.
    std::string dataDir = config.find("pg1-path") ? pgPath(config) : std::filesystem::current_path().string();
    storage::PosixStorage pgData(dataDir);
    auto control = pg::readControl(pgData);

    auto repo = openRepo(config, RepoAccess::Write);
    auto layout = stanzaLayout(config);
    auto info = repo::requireArchiveInfo(*repo, layout);

    auto transfer = transferOptions(config);
    repo::PushOptions options{transfer.compressType, transfer.compressLevel, transfer.bufferSize};
    auto result = repo::pushWal(*repo, layout, info, pgData, walPath, control.version, control.systemId, options);
    logInfo("archive-push: {} {}", std::filesystem::path(walPath).filename().string(),
            result == repo::PushResult::Stored ? "stored" : "was already stored");
    return 0;
}

}  // namespace backrest::cmd
