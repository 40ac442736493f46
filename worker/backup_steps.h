// The steps of the backup command over libpq that one run into one repository (backup.cpp) and
// one run into every repository (backup_all.cpp) share.
#pragma once

#include <cstdint>
#include <string>

#include "command/backup/backup_settings.h"
#include "common/config.h"
#include "pg/client.h"
#include "repo/manifest.h"
#include "storage/storage.h"
#include "worker/backup_standby.h"

namespace backrest::cmd {

// The server on the connection must run the data directory in <pgN>-path (with WAL archiving if
// it is the primary).
void checkServer(pg::Client& db, const Config& config, const PgServer& server, bool primary);
// The data directory the backup reads: the primary's, or with a standby the two servers'.
std::shared_ptr<storage::Storage> backupDataStorage(const BackupServers& servers);
// The job's settings from the options (of one repository's view), reading `pgData`.
backup::BackupSettings backupSettings(const Config& config, storage::Storage& repo,
                                      const BackupServers& servers,
                                      std::shared_ptr<storage::Storage> pgData);
// pg_backup_start: from here PostgreSQL keeps full-page writes and the WAL the backup needs.
backup::BackupStart startBackup(pg::Client& db, const std::string& label, bool fast);
// pg_backup_stop: PostgreSQL hands over the backup_label and tablespace_map a restore needs.
backup::BackupStop stopBackup(pg::Client& db);
uint32_t startTimeline(const backup::BackupStart& start);
// With a standby: waits until it replayed to the start and checks it follows the primary.
void waitForStandby(BackupServers& servers, const backup::BackupStart& start, int archiveTimeout);
// Retention, while the backup still holds the stanza lock. `repoName` names the repository in
// the warning ("repo1").
void expireAfterBackup(const Config& config, storage::Storage& repo,
                       const backup::BackupSettings& settings, const std::string& repoName);
// "backup <label>: full, … " (`prefix` before it: "repo2 (/path): ").
void printSummary(const repo::Manifest& manifest, double seconds, const std::string& prefix = {});

}  // namespace backrest::cmd
