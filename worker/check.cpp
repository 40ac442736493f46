// check: the cluster is the stanza's, archiving is configured, and a freshly switched WAL
// segment reaches the repository within archive-timeout.
#include <fmt/format.h>

#include <filesystem>

#include "common/error.h"
#include "common/log.h"
#include "pg/client.h"
#include "pg/control.h"
#include "repo/info.h"
#include "repo/wal_archive.h"
#include "repo/wal_dropped.h"
#include "storage/posix.h"
#include "worker/archive_timelines.h"
#include "worker/commands.h"
#include "worker/context.h"

namespace backrest::cmd {

namespace {

// pg1-path must be the server's data directory (the same directory, through links) holding the
// same cluster: a check that passes with a wrong pg1-path lets a later backup or restore fail.
void checkDataDirectory(pg::Client& db, const std::string& dataPath, uint64_t systemId) {
    std::string serverDir = db.scalar("SELECT current_setting('data_directory')");
    std::error_code ec;
    if (!std::filesystem::equivalent(serverDir, dataPath, ec))
        raise(ErrorCode::Option,
              "check: option 'pg1-path' is '{}' but the server ({}) runs on data directory '{}'{}; "
              "set pg1-path to "
              "'{}'",
              dataPath, db.describe(), serverDir,
              std::filesystem::exists(dataPath, ec) ? "" : " ('" + dataPath + "' does not exist)",
              serverDir);
    storage::PosixStorage pgData(dataPath);
    auto control = pg::readControl(pgData);
    if (control.systemId != systemId)
        raise(ErrorCode::DbMismatch,
              "check: '{}/global/pg_control' records system identifier {}, the server ({}) reports "
              "{}",
              dataPath, control.systemId, db.describe(), systemId);
}

// archive-push-queue-max dropped WAL after the newest backup of the current database (or with no
// backup at all): point-in-time recovery cannot reach the present until a new backup is taken.
// Records still waiting in pg_wal count: the repository may be what failed.
std::optional<std::string> droppedSinceLastBackup(storage::Storage& repo,
                                                  const repo::Layout& layout,
                                                  const repo::BackupInfo& backupInfo,
                                                  const repo::ArchiveInfo& archiveInfo,
                                                  const std::string& pgWal) {
    std::string archiveId = archiveInfo.currentArchiveId();
    auto dropped =
        repo::withoutArchived(repo, layout,
                              repo::mergeDropped(repo::listDropped(repo, layout),
                                                 repo::listDroppedPending(pgWal, archiveId)));
    auto range = repo::droppedRange(dropped, archiveId);
    if (!range) return std::nullopt;
    std::vector<std::string> ids;
    for (const auto& b : backupInfo.backups)
        ids.push_back(b.dbId == archiveInfo.current().id ? archiveId : "");
    std::string whole = repo::firstWholeBackup(dropped, archiveId, backupInfo.backups, ids);
    if (!whole.empty()) return std::nullopt;
    return fmt::format(
        "{} WAL segment{} ({} to {}) {} dropped by archive-push-queue-max and no backup taken "
        "since: point-in-time recovery cannot go past {}; take a backup (a full, diff or incr "
        "started after the drop restores whole)",
        range->count, range->count > 1 ? "s" : "", range->first, range->last,
        range->count > 1 ? "were" : "was", range->first);
}

}  // namespace

int check(const Config& config) {
    auto repo = openRepo(config);
    auto layout = stanzaLayout(config);
    auto backupInfo = repo::requireBackupInfo(*repo, layout);
    auto archiveInfo = repo::requireArchiveInfo(*repo, layout);
    pg::Client db(connectOptions(config));

    std::string version = db.scalar("SELECT current_setting('server_version_num')").substr(0, 2);
    uint64_t systemId =
        std::stoull(db.scalar("SELECT system_identifier::text FROM pg_control_system()"));
    checkDataDirectory(db, pgPath(config), systemId);
    repo::checkIdentity(backupInfo.current(), version, systemId, layout.stanza,
                        "check (backup.info)");
    repo::checkIdentity(archiveInfo.current(), version, systemId, layout.stanza,
                        "check (archive.info)");

    if (db.scalar("SELECT current_setting('archive_mode')") == "off")
        raise(ErrorCode::Option,
              "check: archive_mode is off on the server ({}); set archive_mode = on",
              db.describe());
    std::string command = db.scalar("SELECT current_setting('archive_command')");
    std::string library = db.scalar("SELECT current_setting('archive_library')");
    if (library.empty() && (command.empty() || command == "(disabled)"))
        raise(ErrorCode::Option,
              "check: neither archive_command nor archive_library is set on the server ({})",
              db.describe());
    if (db.scalar("SELECT pg_is_in_recovery()::text") == "true")
        raise(ErrorCode::Db, "check: the server ({}) is a standby; run check against the primary",
              db.describe());

    // A restore point guarantees the switched segment has content, so it is always archived.
    db.query("SELECT pg_create_restore_point('backrest check')");
    std::string segment = db.scalar("SELECT pg_walfile_name(pg_switch_wal())");
    double start = nowSeconds();
    std::string archiveFailure, pgWal = pgPath(config) + "/pg_wal";
    try {
        waitForArchive(*repo, layout, archiveInfo.currentArchiveId(), {segment},
                       static_cast<int>(config.getInt(opt::archiveTimeout)), "check");
    } catch (const Error& e) {
        archiveFailure = e.what();
        // A drop explains a segment that never arrives; said first when there is one.
        if (!droppedSinceLastBackup(*repo, layout, backupInfo, archiveInfo, pgWal)) throw;
    }
    if (auto gap = droppedSinceLastBackup(*repo, layout, backupInfo, archiveInfo, pgWal))
        raise(ErrorCode::BackupSet, "check: stanza '{}': {}{}", layout.stanza, *gap,
              archiveFailure.empty() ? "" : "; and " + archiveFailure);
    // Not an error: the archive is sound, but a restore must know which timeline it wants.
    for (const auto& b :
         archiveSideBranches(*repo, layout, backupInfo, archiveInfo.currentArchiveId()))
        logWarn("check: stanza '{}': {}", layout.stanza, sideBranchWarning(b));
    fmt::print("check: stanza '{}' OK: system {} matches, WAL segment {} archived in {:.2f} s\n",
               layout.stanza, systemId, segment, nowSeconds() - start);
    return 0;
}

}  // namespace backrest::cmd
