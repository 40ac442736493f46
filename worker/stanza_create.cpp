// stanza-create: records the cluster's identity (version, system identifier) in backup.info
// and archive.info. Idempotent for the same cluster; refuses another cluster's repository.
#include <fmt/format.h>

#include "common/error.h"
#include "common/log.h"
#include "pg/control.h"
#include "repo/info.h"
#include "storage/posix.h"
#include "worker/commands.h"
#include "worker/context.h"

namespace backrest::cmd {

int stanzaCreate(const Config& config) {
    auto repo = openRepo(config);
    auto layout = stanzaLayout(config);
    storage::PosixStorage pgData(pgPath(config));
    auto control = pg::readControl(pgData);
    if (!pg::isSupportedVersion(control.version))
        raise(ErrorCode::DbMismatch, "PostgreSQL {} in '{}' is not supported by this backrest (15 is)",
              control.version, pgData.root());

    repo::DbIdentity db{1, control.version, control.systemId};
    auto backupInfo = repo::loadBackupInfo(*repo, layout);
    auto archiveInfo = repo::loadArchiveInfo(*repo, layout);
    if (backupInfo)
        repo::checkIdentity(backupInfo->current(), db.version, db.systemId, layout.stanza, "stanza-create");
    if (archiveInfo)
        repo::checkIdentity(archiveInfo->current(), db.version, db.systemId, layout.stanza, "stanza-create");
    if (backupInfo && archiveInfo) {
        fmt::print("stanza-create: stanza '{}' already exists for PostgreSQL {} system {}; nothing to do\n",
                   layout.stanza, db.version, db.systemId);
        return 0;
    }
    if (!archiveInfo) {
        repo->pathCreate(layout.archiveRoot(), 0750);
        repo::saveArchiveInfo(*repo, layout, repo::ArchiveInfo{{db}});
    }
    if (!backupInfo) {
        repo->pathCreate(layout.backupRoot(), 0750);
        repo::saveBackupInfo(*repo, layout, repo::BackupInfo{{db}, {}});
    }
    fmt::print("stanza-create: stanza '{}' created in '{}' for PostgreSQL {} system {}\n", layout.stanza,
               repo->fullPath(""), db.version, db.systemId);
    return 0;
}

}  // namespace backrest::cmd
