// The servers of a backup: the primary, on which it starts and stops, and, with backup-standby,
// the standby whose data directory supplies the relation files (command/backup/standby_data.h).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/config.h"
#include "pg/client.h"

namespace backrest::cmd {

// pg1 or pg2 as the options describe it.
struct PgServer {
    int index = 1;
    std::string path;  // data directory, absolute
    pg::ConnectOptions connect;
    std::string name() const { return "pg" + std::to_string(index); }
};

PgServer pgServer(const Config& config, int index);

struct BackupServers {
    PgServer primary;
    std::unique_ptr<pg::Client> primaryDb;
    // Set when the files come from a standby.
    PgServer standby;
    std::unique_ptr<pg::Client> standbyDb;
};

// Connects to pg1 (and to pg2 with backup-standby=y|prefer), tells the primary from the standby
// (pg_is_in_recovery) and checks they run one cluster: same system identifier and version.
// backup-standby=prefer falls back to the primary, with a warning naming pg2 and why, when the
// standby cannot be reached or is not in recovery; y raises instead.
BackupServers connectBackupServers(const Config& config);

// After pg_backup_start on the primary: waits (at most archive-timeout seconds) until the standby
// has replayed to `startLsn` and made a restartpoint at or past it, so that its data files hold
// every change before the backup's start (WAL replay from the start fixes later ones). Raises
// naming the standby and both LSNs on timeout, or if the standby is promoted meanwhile.
// `poll` is called at every round (it may throw: a cancelled backup). Returns the LSN the standby
// had replayed to then (asked with the restartpoint, so that the standby's last query is still
// that one while the copy runs).
std::string waitForStandbyReplay(pg::Client& standby, const PgServer& server,
                                 const std::string& startLsn, uint32_t startTimeline,
                                 int timeoutSeconds, const std::function<void()>& poll = {});

// After the wait: the standby must replay the primary's WAL, not a fork's (a standby of a copy
// of the primary started as a primary has the same system identifier and timeline): it must not
// have replayed past the primary's flushed WAL (`standbyReplayedLsn`, from the wait), and its copy
// of the WAL before its replay point and before the backup's start must be the primary's byte for
// byte (command/backup/standby_wal.h). When no copy can be compared (segments recycled already),
// warns and goes on with the system identifier and timeline checks.
void checkStandbyReplaysPrimaryWal(pg::Client& standby, const PgServer& standbyServer,
                                   const std::string& standbyReplayedLsn, pg::Client& primary,
                                   const PgServer& primaryServer, const std::string& startLsn,
                                   uint32_t walSegmentSize, uint32_t timeline);

// After the copy: the standby must still be a standby of the primary's timeline, else its files
// may hold changes the primary's WAL does not: the backup is not kept.
void checkStandbyNotPromoted(pg::Client& standby, const PgServer& server, const std::string& label,
                             uint32_t startTimeline);

}  // namespace backrest::cmd
