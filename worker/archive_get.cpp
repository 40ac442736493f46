// archive-get %f %p: used as restore_command. Exit 0 with the verified file at %p; exit 1 only
// when the file is not in the archive (what PostgreSQL takes for the end of the archived WAL).
// Every other failure (damaged, short or foreign copy, unreadable repository or archive.info, a
// bad option) exits kArchiveGetAbortExit (main.cpp, error.h), above 125, so that PostgreSQL aborts
// recovery instead of ending it early and promoting with older data.
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

namespace {

// PostgreSQL runs restore_command in the data directory it recovers: its pg_control, when there,
// says which cluster the WAL must belong to. Run by hand elsewhere, there is none to check.
std::optional<uint64_t> restoringSystemId() {
    storage::PosixStorage posix(std::filesystem::current_path().string());
    storage::Storage& cwd = posix;
    if (!cwd.info("global/pg_control") || !cwd.info("PG_VERSION")) return std::nullopt;
    return pg::readControl(posix).systemId;
}

}  // namespace

int archiveGet(const Config& config) {
    if (config.params().size() != 2)
        raise(ErrorCode::Command,
              "archive-get takes two parameters, the WAL file name (%f) and the destination path "
              "(%p)");
    const std::string& walName = config.params()[0];
    const std::string& destination = config.params()[1];
    // Stopped, recovery stops too (exit > 125, main.cpp) rather than taking it for the archive's
    // end.
    requireNotStopped(config, "archive-get");

    auto repo = openRepo(config);
    auto layout = stanzaLayout(config);
    auto info = repo::requireArchiveInfo(*repo, layout);

    std::filesystem::path destPath(destination);
    if (destPath.is_relative()) destPath = std::filesystem::current_path() / destPath;
    storage::PosixStorage dest(destPath.parent_path().string());
    bool found = repo::getWal(*repo, layout, info, walName, dest, destPath.filename().string(),
                              transferOptions(config).bufferSize, restoringSystemId());
    if (!found) {
        logInfo("archive-get: {} is not in the archive", walName);
        return 1;
    }
    logInfo("archive-get: {} restored to {}", walName, destPath.string());
    return 0;
}

}  // namespace backrest::cmd
