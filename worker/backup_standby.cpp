// backup-standby: which server is the primary, which the standby, whether the standby may be
// used, and the waits and checks that make its files as good as the primary's (pgBackRest's
// backupInit and dbReplayWait).
#include "worker/backup_standby.h"

#include <chrono>
#include <thread>

#include "command/backup/standby_wal.h"
#include "common/error.h"
#include "common/log.h"
#include "pg/wal.h"
#include "worker/context.h"

namespace backrest::cmd {

namespace {

bool inRecovery(pg::Client& db) {
    return db.scalar("SELECT pg_is_in_recovery()::text") == "true";
}

std::string systemId(pg::Client& db) {
    return db.scalar("SELECT system_identifier::text FROM pg_control_system()");
}

// Why pg2 cannot be used as the standby; empty when it can. Connection failures are reasons too.
std::string standbyUnusable(const PgServer& server, std::unique_ptr<pg::Client>& db) {
    try {
        db = std::make_unique<pg::Client>(server.connect);
    } catch (const Error& e) {
        return fmt::format("cannot connect to it: {}", e.what());
    }
    return "";
}

}  // namespace

PgServer pgServer(const Config& config, int index) {
    PgServer s;
    s.index = index;
    if (index == 1) {
        s.path = pgPath(config);
        s.connect = connectOptions(config);
        return s;
    }
    auto path = config.find(opt::pg2Path);
    if (!path)
        raise(ErrorCode::Option,
              "option 'backup-standby' is '{}' but 'pg2-path' is not set: set pg2-path (and "
              "pg2-port / pg2-socket-path) to the standby's data directory and server",
              config.getString(opt::backupStandby));
    s.path = *path;
    if (s.path.empty() || s.path[0] != '/')
        raise(ErrorCode::Option, "option 'pg2-path' must be an absolute path, not '{}'", s.path);
    while (s.path.size() > 1 && s.path.back() == '/') s.path.pop_back();
    if (auto sock = config.find(opt::pg2SocketPath)) s.connect.socketPath = *sock;
    s.connect.port = static_cast<int>(config.getInt(opt::pg2Port));
    if (auto u = config.find(opt::pg2User)) s.connect.user = *u;
    s.connect.database = config.getString(opt::pg2Database);
    return s;
}

BackupServers connectBackupServers(const Config& config) {
    BackupServers out;
    std::string mode = config.getString(opt::backupStandby);
    out.primary = pgServer(config, 1);
    out.primaryDb = std::make_unique<pg::Client>(out.primary.connect);
    if (mode == "n") {
        if (inRecovery(*out.primaryDb))
            raise(ErrorCode::DbMismatch,
                  "backup: pg1 ({}) is a standby (in recovery): set backup-standby=y with the "
                  "primary in pg2-*, or point pg1 at the primary",
                  out.primaryDb->describe());
        return out;
    }

    PgServer other = pgServer(config, 2);
    std::unique_ptr<pg::Client> otherDb;
    std::string why = standbyUnusable(other, otherDb);
    bool pg1Standby = inRecovery(*out.primaryDb);
    bool pg2Standby = why.empty() && inRecovery(*otherDb);
    if (why.empty() && pg1Standby && pg2Standby)
        raise(ErrorCode::DbMismatch,
              "backup: pg1 ({}) and pg2 ({}) are both standbys (in recovery): a backup starts on "
              "the primary; point one of them at it",
              out.primaryDb->describe(), otherDb->describe());
    if (pg1Standby) {
        if (!why.empty())
            raise(ErrorCode::DbMismatch,
                  "backup: pg1 ({}) is a standby and pg2, which would be the primary, is not "
                  "usable: {}",
                  out.primaryDb->describe(), why);
        // pg2 is the primary, pg1 the standby (pgBackRest finds the primary among pg1..pgN too).
        std::swap(out.primary, other);
        std::swap(out.primaryDb, otherDb);
    } else if (why.empty() && !pg2Standby) {
        why = fmt::format("it is not in recovery ({} and pg2 are both primaries)",
                          out.primary.name());
    }
    std::string otherName = other.name();
    if (!why.empty()) {
        if (mode == "y")
            raise(ErrorCode::DbMismatch,
                  "backup: backup-standby=y but the standby {} ({}, port {}) is not usable: {}",
                  otherName, other.path, other.connect.port, why);
        logWarn(
            "backup: backup-standby=prefer: the standby {} ({}, port {}) is not usable ({}); "
            "backing up from the primary {}",
            otherName, other.path, other.connect.port, why, out.primary.name());
        return out;
    }

    // Both servers answer, one in recovery: they must be one cluster, whatever the mode.
    std::string primaryId = systemId(*out.primaryDb), standbyId = systemId(*otherDb);
    if (primaryId != standbyId)
        raise(ErrorCode::DbMismatch,
              "backup: the standby {} ({}) runs cluster {} but the primary {} ({}) runs cluster "
              "{}: they are not one cluster; fix {}-*",
              otherName, otherDb->describe(), standbyId, out.primary.name(),
              out.primaryDb->describe(), primaryId, otherName);
    std::string primaryVersion = out.primaryDb->scalar("SHOW server_version_num");
    std::string standbyVersion = otherDb->scalar("SHOW server_version_num");
    if (primaryVersion.substr(0, 2) != standbyVersion.substr(0, 2))
        raise(ErrorCode::DbMismatch,
              "backup: the standby {} ({}) runs PostgreSQL {} but the primary {} runs {}",
              otherName, otherDb->describe(), standbyVersion, out.primary.name(), primaryVersion);
    out.standby = std::move(other);
    out.standbyDb = std::move(otherDb);
    logInfo("backup: primary {} ({}), files from the standby {} ({})", out.primary.name(),
            out.primaryDb->describe(), out.standby.name(), out.standbyDb->describe());
    return out;
}

std::string waitForStandbyReplay(pg::Client& standby, const PgServer& server,
                                 const std::string& startLsn, uint32_t startTimeline,
                                 int timeoutSeconds, const std::function<void()>& poll) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSeconds);
    std::string replayed, restartRedo;
    bool paused = false;
    for (bool checkpointed = false;;) {
        if (poll) poll();
        auto row = standby.query(
            "SELECT pg_is_in_recovery()::text, coalesce(pg_last_wal_replay_lsn()::text, ''), "
            "coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)::text, "
            "CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused()::text END",
            {startLsn})[0];
        if (*row[0] != "true")
            raise(ErrorCode::DbMismatch,
                  "backup: the standby {} ({}) was promoted (it is no longer in recovery) before "
                  "it replayed to the backup's start {}; the backup is not taken",
                  server.name(), standby.describe(), startLsn);
        replayed = *row[1];
        paused = row[3].value_or("") == "true";
        if (*row[2] == "true") {
            // A restartpoint at or past the start flushes what the standby replayed before it,
            // as the primary's checkpoint did: without it a page changed before the start could
            // still be only in the standby's buffers, and recovery from the start never redoes it.
            standby.query("CHECKPOINT");
            auto cp = standby.query(
                "SELECT redo_lsn::text, (redo_lsn >= $1::pg_lsn)::text, timeline_id::text, "
                "pg_last_wal_replay_lsn()::text FROM pg_control_checkpoint()",
                {startLsn})[0];
            restartRedo = *cp[0];
            if (*cp[1] == "true") {
                if (std::stoul(*cp[2]) != startTimeline)
                    raise(ErrorCode::DbMismatch,
                          "backup: the standby {} ({}) is on timeline {} but the backup started "
                          "on the primary's timeline {}: it does not follow the primary",
                          server.name(), standby.describe(), *cp[2], startTimeline);
                return *cp[3];
            }
            checkpointed = true;
        }
        if (std::chrono::steady_clock::now() >= deadline)
            raise(ErrorCode::ArchiveTimeout,
                  "backup: the standby {} ({}) did not reach the backup's start LSN {} within "
                  "archive-timeout ({} s): replayed to {}{}{}; check its replication, or raise "
                  "archive-timeout",
                  server.name(), standby.describe(), startLsn, timeoutSeconds,
                  replayed.empty() ? "nothing" : replayed,
                  checkpointed ? fmt::format(", last restartpoint at {}", restartRedo) : "",
                  paused ? "; its WAL replay is paused (SELECT pg_wal_replay_resume())" : "");
        std::this_thread::sleep_for(std::chrono::milliseconds(checkpointed ? 500 : 100));
    }
}

void checkStandbyReplaysPrimaryWal(pg::Client& standby, const PgServer& standbyServer,
                                   const std::string& standbyReplayedLsn, pg::Client& primary,
                                   const PgServer& primaryServer, const std::string& startLsn,
                                   uint32_t walSegmentSize, uint32_t timeline) {
    // The standby's first (asked by the wait): the primary's flushed WAL only grows, and a
    // standby never passes it.
    uint64_t replayed = pg::parseLsn(standbyReplayedLsn);
    uint64_t flushed = pg::parseLsn(primary.scalar("SELECT pg_current_wal_flush_lsn()::text"));
    auto refuse = [&](const std::string& why) {
        raise(ErrorCode::DbMismatch,
              "backup: the standby {} ({}) does not replay the primary {}'s WAL: {}: it follows "
              "another server whose history forked from the primary's; point {}-* at a standby "
              "of the primary",
              standbyServer.name(), standby.describe(), primaryServer.name(), why,
              standbyServer.name());
    };
    if (replayed > flushed)
        refuse(fmt::format("it replayed to {}, past the end of the primary's WAL ({})",
                           pg::formatLsn(replayed), pg::formatLsn(flushed)));
    size_t compared = 0;
    std::string missing;
    for (const auto& at : {backup::walBeforeStart(pg::parseLsn(startLsn), replayed, walSegmentSize),
                           backup::walBeforeReplayed(replayed, walSegmentSize)}) {
        std::string name = pg::WalSegment{timeline, at.segno}.name(walSegmentSize);
        const std::string primaryFile = primaryServer.path + "/pg_wal/" + name;
        const std::string standbyFile = standbyServer.path + "/pg_wal/" + name;
        std::optional<uint64_t> difference;
        try {
            difference = backup::firstWalDifference(primaryFile, standbyFile, at.range);
        } catch (const Error& e) {
            if (e.code() != ErrorCode::FileMissing) throw;
            missing = e.what();
            continue;
        }
        compared++;
        if (difference)
            refuse(fmt::format(
                "its copy of WAL segment {} ('{}') differs from the primary's "
                "('{}') at {}, before the LSN it replayed ({})",
                name, standbyFile, primaryFile,
                pg::formatLsn(at.segno * walSegmentSize + *difference), pg::formatLsn(replayed)));
    }
    if (compared == 0)
        logWarn(
            "backup: the standby {}'s WAL cannot be compared with the primary's ({}); going on "
            "with the system identifier and timeline checks",
            standbyServer.name(), missing);
}

void checkStandbyNotPromoted(pg::Client& standby, const PgServer& server, const std::string& label,
                             uint32_t startTimeline) {
    std::string state;
    try {
        auto row = standby.query(
            "SELECT pg_is_in_recovery()::text, timeline_id::text FROM pg_control_checkpoint()")[0];
        if (*row[0] != "true")
            state = "was promoted during the backup (it is no longer in recovery)";
        else if (std::stoul(*row[1]) != startTimeline)
            state = fmt::format("moved to timeline {} during the backup (started on {})", *row[1],
                                startTimeline);
    } catch (const Error& e) {
        state = fmt::format("could not be asked whether it is still a standby ({})", e.what());
    }
    if (!state.empty())
        raise(ErrorCode::DbMismatch,
              "backup {}: the standby {} ({}) {}: its files may hold changes the primary's WAL "
              "does not; the backup is not kept",
              label, server.name(), standby.describe(), state);
}

}  // namespace backrest::cmd
