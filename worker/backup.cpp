// backup over libpq: check the server is the stanza's cluster, then drive a BackupJob —
// begin, pg_backup_start, copy, pg_backup_stop, finish — and print a one-line summary. With
// backup-standby the backup starts and stops on the primary and the files come from the standby
// once it has replayed to the start (worker/backup_standby.h).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <mutex>

#include "command/backup/backup_job.h"
#include "command/backup/standby_data.h"
#include "common/error.h"
#include "common/log.h"
#include "pg/client.h"
#include "pg/wal.h"
#include "repo/annotation.h"
#include "storage/posix.h"
#include "worker/backup_standby.h"
#include "worker/backup_steps.h"
#include "worker/commands.h"
#include "worker/context.h"
#include "worker/expire.h"
#include "worker/stop_start.h"
#include "worker/termination.h"

namespace backrest::cmd {

// The server on the connection must run the data directory in <pgN>-path (with WAL archiving if
// it is the primary).
void checkServer(pg::Client& db, const Config& config, const PgServer& server, bool primary) {
    const std::string& dataPath = server.path;
    std::string serverVersion = db.scalar("SELECT current_setting('server_version_num')");
    if (serverVersion.substr(0, 2) != "15")
        raise(ErrorCode::DbMismatch, "backup: server ({}) runs PostgreSQL {}, backrest supports 15",
              db.describe(), serverVersion);
    std::string serverDataDir = db.scalar("SELECT current_setting('data_directory')");
    std::error_code ec;
    if (!std::filesystem::equivalent(serverDataDir, dataPath, ec))
        raise(ErrorCode::Option,
              "backup: option '{}-path' is '{}' but the server ({}) runs on data directory '{}'",
              server.name(), dataPath, db.describe(), serverDataDir);
    if (primary && config.getBool(opt::archiveCheck) &&
        db.scalar("SELECT current_setting('archive_mode')") == "off")
        raise(ErrorCode::Option,
              "backup: archive_mode is off on the server ({}); the backup could not be made "
              "consistent "
              "without its WAL. Set archive_mode = on, or --no-archive-check",
              db.describe());
}

namespace {

// Progress on a terminal only: one line rewritten in place.
void showProgress(const backup::BackupProgress& p, double started) {
    double rate = p.bytesDone / std::max(nowSeconds() - started, 0.001);
    fmt::print("\rbackup: {} of {} ({:.0f}%), {} of {} files, {}/s   ", formatBytes(p.bytesDone),
               formatBytes(p.bytesTotal), p.bytesTotal ? 100.0 * p.bytesDone / p.bytesTotal : 100.0,
               p.filesDone, p.filesTotal, formatBytes(static_cast<uint64_t>(rate)));
    std::fflush(stdout);
}

}  // namespace

uint32_t startTimeline(const backup::BackupStart& start) {
    auto segment = pg::WalSegment::parse(start.walFile, start.walSegmentSize);
    if (!segment) raise(ErrorCode::Format, "backup: '{}' is not a WAL segment name", start.walFile);
    return segment->timeline;
}

// The primary's data directory, or with a standby the two servers' (command/backup/standby_data.h).
std::shared_ptr<storage::Storage> backupDataStorage(const BackupServers& servers) {
    auto primaryData = std::make_shared<storage::PosixStorage>(servers.primary.path);
    if (!servers.standbyDb) return primaryData;
    return std::make_shared<backup::StandbyDataStorage>(
        primaryData, std::make_shared<storage::PosixStorage>(servers.standby.path));
}

backup::BackupSettings backupSettings(const Config& config, storage::Storage& repo,
                                      const BackupServers& servers,
                                      std::shared_ptr<storage::Storage> pgData) {
    backup::BackupSettings settings;
    settings.repo = &repo;
    settings.layout = stanzaLayout(config);
    settings.transfer = transferOptions(config);
    settings.processMax = static_cast<size_t>(config.getInt(opt::processMax));
    settings.lockPath = config.getString(opt::lockPath);
    settings.pgPath = servers.primary.path;
    settings.pgData = std::move(pgData);
    settings.archiveCheck = config.getBool(opt::archiveCheck);
    settings.archiveTimeout = static_cast<int>(config.getInt(opt::archiveTimeout));
    settings.block = config.getBool(opt::repo1Block);
    settings.bundle = bundleSettings(config);
    // pgBackRest stores no key given with an empty value.
    settings.annotations = repo::applyAnnotations(
        {}, repo::parseAnnotations(config.getMulti(opt::annotation), "backup"));
    return settings;
}

backup::BackupStart startBackup(pg::Client& db, const std::string& label, bool fast) {
    logInfo("backup: starting {} ({} checkpoint)", label, fast ? "immediate" : "spread");
    // The start second is truncated, never rounded up: an incremental backup trusts a file whose
    // mtime is older than the second its prior backup started in (backup::reusable).
    auto row = db.query(
        "SELECT lsn::text, pg_walfile_name(lsn), floor(extract(epoch from now()))::bigint, "
        "current_setting('data_checksums'), "
        "(SELECT setting FROM pg_settings WHERE name = 'wal_segment_size') "
        "FROM pg_backup_start($1, $2) AS lsn",
        {"backrest " + label, fast ? "true" : "false"})[0];
    backup::BackupStart start;
    start.lsn = *row[0];
    start.walFile = *row[1];
    start.timestamp = std::stoll(*row[2]);
    start.dataChecksums = *row[3] == "on";
    start.walSegmentSize = static_cast<uint32_t>(std::stoul(*row[4]));
    for (const auto& t : db.query("SELECT oid::text, spcname FROM pg_tablespace"))
        start.tablespaceNames[static_cast<uint32_t>(std::stoul(*t[0]))] = *t[1];
    start.databases.emplace();
    for (const auto& d : db.query("SELECT oid::text, datname FROM pg_database"))
        start.databases->push_back({*d[1], static_cast<uint32_t>(std::stoul(*d[0]))});
    return start;
}

backup::BackupStop stopBackup(pg::Client& db) {
    auto stopRow = db.query(
        "SELECT lsn::text, pg_walfile_name(lsn), labelfile, spcmapfile "
        "FROM pg_backup_stop(false)")[0];
    return {*stopRow[0], *stopRow[1], *stopRow[2], stopRow[3].value_or("")};
}

void expireAfterBackup(const Config& config, storage::Storage& repo,
                       const backup::BackupSettings& settings, const std::string& repoName) {
    auto policy = retentionPolicy(config);
    if (!policy.full && !policy.diff)
        logWarn("backup: {}-retention-full is not set: no backup or WAL will ever be expired",
                repoName);
    if (policy.any()) {
        std::string report = runExpire(repo, settings.layout, policy, false, settings.lockPath);
        if (report != "nothing to expire\n") fmt::print("expire: {}", report);
    }
}

void printSummary(const repo::Manifest& manifest, double seconds, const std::string& prefix) {
    uint64_t size = manifest.totalSize(), repoSize = manifest.totalRepoSize();
    fmt::print(
        "{}backup {}: {}, {} in {} files, repository {} ({:.1f}%), WAL {} to {}, {:.1f} s, "
        "{}/s\n",
        prefix, manifest.label, manifest.type, formatBytes(size), manifest.files.size(),
        formatBytes(repoSize), size ? 100.0 * repoSize / size : 0.0, manifest.walStart,
        manifest.walStop, seconds,
        formatBytes(static_cast<uint64_t>(size / std::max(seconds, 0.001))));
}

void waitForStandby(BackupServers& servers, const backup::BackupStart& start, int archiveTimeout) {
    uint32_t timeline = startTimeline(start);
    std::string replayed = waitForStandbyReplay(*servers.standbyDb, servers.standby, start.lsn,
                                                timeline, archiveTimeout);
    checkStandbyReplaysPrimaryWal(*servers.standbyDb, servers.standby, replayed, *servers.primaryDb,
                                  servers.primary, start.lsn, start.walSegmentSize, timeline);
}

namespace {

// Begin, (wait for the standby), copy, stop, commit, then retention.
int backupRun(const Config& config, storage::Storage& repo, BackupServers& servers,
              const backup::BackupSettings& settings, backup::BackupJob& job, double started) {
    pg::Client& db = *servers.primaryDb;
    std::string type = config.find(opt::type).value_or("full");
    const std::string& label = job.begin(type);
    if (db.scalar("SELECT system_identifier::text FROM pg_control_system()") !=
        std::to_string(job.systemId()))
        raise(ErrorCode::DbMismatch, "backup: the server ({}) is not the cluster in '{}'",
              db.describe(), settings.pgPath);

    auto start = startBackup(db, label, config.getBool(opt::startFast));
    uint32_t timeline = startTimeline(start);
    if (servers.standbyDb) {
        try {
            waitForStandby(servers, start, settings.archiveTimeout);
        } catch (...) {
            job.abandonBeforeCopy();  // refused before anything was stored: nothing stays
            throw;
        }
    }
    bool terminal = isatty(STDOUT_FILENO);
    job.copy(start, [&](const backup::BackupProgress& p) {
        if (terminal) showProgress(p, started);
    });
    if (terminal) fmt::print("\r{:80}\r", "");
    if (servers.standbyDb)
        checkStandbyNotPromoted(*servers.standbyDb, servers.standby, label, timeline);
    const auto& manifest = job.finish(stopBackup(db));
    expireAfterBackup(config, repo, settings, "repo1");
    printSummary(manifest, nowSeconds() - started);
    return 0;
}

}  // namespace

int backup(const Config& config) {
    requireNotStopped(config, "backup");
    double started = nowSeconds();
    // First, before any thread: a signal cancels the job once it exists; until then it only
    // ends the command at the next check below.
    backup::BackupJob* running = nullptr;
    std::mutex runningMutex;
    TerminationWatch termination([&] {
        std::lock_guard lock(runningMutex);
        if (running) running->cancel();
    });
    auto repo = openRepo(config, RepoAccess::Write);
    // The stanza is checked before the servers are reached: a command line without it gets that
    // error, not one about pg1-path.
    (void)stanzaLayout(config);
    BackupServers servers = connectBackupServers(config);
    checkServer(*servers.primaryDb, config, servers.primary, true);
    if (servers.standbyDb) checkServer(*servers.standbyDb, config, servers.standby, false);
    backup::BackupSettings settings =
        backupSettings(config, *repo, servers, backupDataStorage(servers));
    backup::BackupJob job(settings);
    {
        std::lock_guard lock(runningMutex);
        running = &job;
    }
    // Before the job goes: the watch must not cancel a destroyed job.
    struct Unregister {
        std::mutex& m;
        backup::BackupJob*& job;
        ~Unregister() {
            std::lock_guard lock(m);
            job = nullptr;
        }
    } unregister{runningMutex, running};
    termination.raiseIfReceived("backup");
    try {
        return backupRun(config, *repo, servers, settings, job, started);
    } catch (const Error&) {
        // The copy's "cancelled" is the signal's doing: say which, with pgBackRest's exit code.
        if (job.label().empty()) termination.raiseIfReceived("backup");
        termination.raiseIfReceived(
            "backup " + job.label(),
            "; what it stored stays, and the next backup of the same type resumes it");
        throw;
    }
}

}  // namespace backrest::cmd
