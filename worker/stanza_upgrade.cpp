// stanza-upgrade (worker/stanza_upgrade.h): pgBackRest's command of the same name. It reads the
// cluster's identity from pg_control (no connection: the cluster may be down after pg_upgrade).
#include "worker/stanza_upgrade.h"

#include <fmt/format.h>

#include "common/error.h"
#include "common/log.h"
#include "pg/control.h"
#include "repo/info.h"
#include "repo/lock.h"
#include "storage/posix.h"
#include "worker/commands.h"
#include "worker/context.h"
#include "worker/stop_start.h"

namespace backrest::cmd {

std::string upgradeStanza(storage::Storage& repo, const repo::Layout& layout,
                          const std::string& pgPath) {
    storage::PosixStorage pgData(pgPath);
    auto control = pg::readControl(pgData);
    if (!pg::isSupportedVersion(control.version))
        raise(ErrorCode::DbMismatch,
              "PostgreSQL {} in '{}' is not supported by this backrest (15 is)", control.version,
              pgPath);

    auto archiveInfo = repo::requireArchiveInfo(repo, layout);
    auto backupInfo = repo::requireBackupInfo(repo, layout);
    repo::DbIdentity before = backupInfo.current();  // for "already up to date"
    bool archiveChanged =
        repo::recordNewDatabase(archiveInfo.history, control.version, control.systemId);
    bool backupChanged =
        repo::recordNewDatabase(backupInfo.history, control.version, control.systemId);
    // Checked before writing anything: a stanza whose files disagree is not made worse.
    repo::checkInfoFilesAgree(backupInfo, archiveInfo, layout.stanza);
    if (!archiveChanged && !backupChanged)
        return fmt::format("stanza '{}' is already up to date (db-id {}: PostgreSQL {} system {})",
                           layout.stanza, before.id, before.version, before.systemId);

    // archive.info first: the new cluster's WAL is archived under its own archive id from then
    // on, while backups still refuse it until backup.info has it too. Each file is written whole
    // (temporary name, fsync, rename), so a kill leaves each either as it was or upgraded.
    if (archiveChanged) repo::saveArchiveInfo(repo, layout, archiveInfo);
    if (backupChanged) repo::saveBackupInfo(repo, layout, backupInfo);
    const repo::DbIdentity& now = backupInfo.current();
    return fmt::format(
        "stanza '{}' upgraded to PostgreSQL {} system {} (db-id {}, WAL in archive id {}); the "
        "backups and WAL of earlier db-ids are kept",
        layout.stanza, now.version, now.systemId, now.id, repo::ArchiveInfo::archiveId(now));
}

int stanzaUpgrade(const Config& config) {
    requireNotStopped(config, "stanza-upgrade");
    std::string stanza = config.getString(opt::stanza);
    // No backup, expire, rekey or delete of this stanza on this host rewrites an info file
    // meanwhile.
    std::string lockPath = config.getString(opt::lockPath);
    repo::StanzaLock backupLock(lockPath, stanza, "backup");
    repo::StanzaLock archiveLock(lockPath, stanza, "archive");
    auto repo = openRepo(config, RepoAccess::Write);
    auto layout = stanzaLayout(config);  // after openRepo: it carries the key openRepo unwrapped
    fmt::print("stanza-upgrade: {}\n", upgradeStanza(*repo, layout, pgPath(config)));
    return 0;
}

}  // namespace backrest::cmd
