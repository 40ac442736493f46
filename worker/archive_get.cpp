// archive-get %f %p: used as restore_command. Exit 0 with the verified file at %p, exit 1 when
// the file is not in the archive (what PostgreSQL expects at the end of WAL), another code on
// a real error (PostgreSQL then stops recovery rather than treating damage as the end of WAL).
#include <filesystem>

#include "common/error.h"
#include "common/log.h"
#include "repo/info.h"
#include "repo/wal_archive.h"
#include "storage/posix.h"
#include "worker/commands.h"
#include "worker/context.h"

namespace backrest::cmd {

int archiveGet(const Config& config) {
    if (config.params().size() != 2)
        raise(ErrorCode::Command, "archive-get takes two parameters, the WAL file name (%f) and the destination path (%p)");
    const std::string& walName = config.params()[0];
    const std::string& destination = config.params()[1];

    auto repo = openRepo(config);
    auto layout = stanzaLayout(config);
    auto info = repo::requireArchiveInfo(*repo, layout);

    std::filesystem::path destPath(destination);
    if (destPath.is_relative()) destPath = std::filesystem::current_path() / destPath;
    storage::PosixStorage dest(destPath.parent_path().string());
    bool found = repo::getWal(*repo, layout, info, walName, dest, destPath.filename().string(),
                              transferOptions(config).bufferSize);
    if (!found) {
        logInfo("archive-get: {} is not in the archive", walName);
        return 1;
    }
    logInfo("archive-get: {} restored to {}", walName, destPath.string());
    return 0;
}

}  // namespace backrest::cmd
