// drill: proves a backup restores and recovers. The latest backup (or --set, or the one that
// reaches a --type/--target) is restored into a scratch directory with restore's own code
// (archive_mode off, the repository's restore_command), started as a throwaway cluster no one
// else can reach, recovered to the end of the archive (or the target), checked with amcheck
// database by database, stopped and removed; the result is recorded in the repository
// (repo/drill_record.h) for info and backrest_info().
//
// The command reads as its phases, each timed into the record: plan (the backup, its WAL, the size
// check), restore, start, recovery, checks, stop. Whatever fails, the server is stopped and the
// scratch directory removed before the record is written and the drill exits non-zero naming what
// failed.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>

#include "common/error.h"
#include "common/log.h"
#include "pg/wal.h"
#include "repo/drill_record.h"
#include "repo/info.h"
#include "worker/commands.h"
#include "worker/context.h"
#include "worker/drill_checks.h"
#include "worker/drill_cluster.h"
#include "worker/drill_progress.h"
#include "worker/drill_scratch.h"
#include "worker/recovery_config.h"
#include "worker/restore_plan.h"
#include "worker/termination.h"

namespace backrest::cmd {

namespace {

// The first port tried when drill-port is not set: far from 5432 and its neighbours.
constexpr int kFirstDrillPort = 55432;

// PostgreSQL refuses to run as root; restore as root gives the files to the data directory's
// owner, but a drill must also start the server, so it runs as that owner.
void refuseRoot() {
    if (::geteuid() == 0)
        raise(ErrorCode::Option,
              "drill: refusing to run as root: PostgreSQL does not start as root; run the drill "
              "as the cluster's owner (e.g. sudo -u postgres backrest drill ...)");
}

// A recovery that never ends (standby) or reads no archive (none, preserve) proves nothing.
void refuseUncheckableType(const RecoverySettings& r) {
    static const std::vector<std::string> refused = {"none", "preserve", "standby"};
    if (std::find(refused.begin(), refused.end(), r.type) != refused.end())
        raise(ErrorCode::Option,
              "option 'type': drill --type={} cannot be checked: a drill recovers to the end of "
              "the archive (default) or to a target (immediate, time, xid, lsn, name) and "
              "promotes",
              r.type);
}

// The options restore gets: the same repository, backup and target, into the scratch
// directory, archiving off, and a target that promotes (a paused cluster never ends recovery).
Config restoreView(const Config& config, const DrillPaths& paths, const RecoverySettings& r) {
    Config view = config;
    view.set(opt::pg1Path, paths.data);
    view.set(opt::archiveMode, "off");
    view.set(opt::tablespaceMapAll, paths.tablespaces);
    view.set(opt::delta, "n");
    if (r.type != "default") view.set(opt::targetAction, "promote");
    return view;
}

std::string describeTarget(const Config& config, const RecoverySettings& r) {
    if (r.type == "default") return "end of archive";
    if (r.type == "immediate") return "immediate (consistency)";
    return fmt::format("{} {}", r.type, config.find(opt::target).value_or(""));
}

// The highest segment number archived under `archiveId` on `timeline` (0 when none), and
// whether any segment of that number is archived on a timeline before the drill's.
struct ArchivedEnd {
    uint64_t lastSegno = 0;
    uint32_t timelineOfReached = 0;
};

ArchivedEnd archivedEnd(storage::Storage& repo, const repo::Layout& layout,
                        const std::string& archiveId, uint32_t segmentSize, uint64_t reachedSegno,
                        uint32_t promotedTimeline) {
    ArchivedEnd end;
    std::vector<pg::WalSegment> segments;
    for (const auto& dir : repo.list(layout.archiveIdDir(archiveId))) {
        if (dir.type != storage::FileType::Path || dir.name.size() != 16) continue;
        for (const auto& e : repo.list(layout.archiveIdDir(archiveId) + "/" + dir.name))
            if (e.name.size() > 24 && e.name[24] == '-' && !e.name.ends_with(".tmp"))
                if (auto s = pg::WalSegment::parse(e.name.substr(0, 24), segmentSize))
                    if (s->timeline < promotedTimeline) segments.push_back(*s);
    }
    for (const auto& s : segments)
        if (s.segno == reachedSegno)
            end.timelineOfReached = std::max(end.timelineOfReached, s.timeline);
    for (const auto& s : segments)
        if (end.timelineOfReached == 0 || s.timeline == end.timelineOfReached)
            end.lastSegno = std::max(end.lastSegno, s.segno);
    return end;
}

class DrillRun {
  public:
    DrillRun(const Config& config, const DrillPaths& paths, const std::atomic<bool>& stop)
        : config_(config), paths_(paths), stop_(stop) {}

    repo::DrillRecord& record() { return record_; }

    // Each phase timed; the first to fail names itself in the record and ends the drill.
    void run() {
        phase("plan", [&] { planAndCheckSize(); });
        phase("restore", [&] { restoreBackup(); });
        phase("start", [&] { startCluster(); });
        phase("recovery", [&] { waitForRecovery(); });
        phase("checks", [&] { runDrillChecks(cluster_->connectOptions(), record_); });
    }

    // Always: the server stopped, the scratch directory removed (by its owner, DrillScratch,
    // after this), whatever happened before.
    void stopCluster() {
        phase("stop", [&] {
            if (cluster_) {
                std::string note = cluster_->stop();
                if (!note.empty()) logWarn("drill: the server was {}", note);
            }
        });
    }

  private:
    void phase(const std::string& name, const std::function<void()>& body) {
        if (!record_.error.empty() && name != "stop") return;
        // A failed drill's job keeps showing the phase that failed, not the cleanup after it.
        if (record_.error.empty()) drillProgress("phase " + name);
        auto started = std::chrono::steady_clock::now();
        try {
            if (stop_) raise(ErrorCode::Term, "drill: terminated on signal");
            body();
            if (stop_) raise(ErrorCode::Term, "drill: terminated on signal during {}", name);
        } catch (const Error& e) {
            fail(name, e);
        } catch (const std::exception& e) {
            fail(name, Error(ErrorCode::Assert, e.what()));
        }
        std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
        record_.durations.emplace_back(name, took.count());
        logInfo("drill: {} took {:.3f} s", name, took.count());
    }

    void fail(const std::string& phase, const Error& e) {
        if (!record_.error.empty()) {  // the stop after an earlier failure (or a signal)
            logWarn("drill: {}", e.what());
            return;
        }
        record_.error = e.display();
        record_.failedPhase = phase;
        errorCode_ = e.code();
        errorMessage_ = e.what();
    }

    void planAndCheckSize() {
        auto repo = openRepo(config_);
        auto layout = stanzaLayout(config_);
        recovery_ = recoverySettings(config_);
        record_.targetRequested = describeTarget(config_, recovery_);
        auto backupInfo = repo::requireBackupInfo(*repo, layout);
        view_ = restoreView(config_, paths_, recovery_);
        // The backup restore will choose without a time or LSN target, named in the record
        // even when its WAL check below fails.
        if (auto set = config_.find(opt::set))
            record_.backup = *set;
        else if (!recovery_.targetTime && !recovery_.targetLsn && !backupInfo.backups.empty())
            record_.backup = backupInfo.backups.back().label;
        auto plan = planRestore(view_, *repo, layout, backupInfo, recovery_);
        record_.backup = plan.label;
        drillProgress("backup " + plan.label);
        record_.backupType = plan.manifest.type;
        record_.walStart = plan.manifest.walStart;
        pgVersion_ = plan.manifest.pgVersion;
        segmentSize_ = plan.manifest.walSegmentSize ? plan.manifest.walSegmentSize
                                                    : pg::kDefaultWalSegmentSize;
        if (const auto* b = backupInfo.find(plan.label))
            for (const auto& db : backupInfo.history)
                if (db.id == b->dbId) archiveId_ = repo::ArchiveInfo::archiveId(db);
        for (const auto& l : plan.manifest.links)
            if (l.name == "pg_data/pg_wal")
                raise(ErrorCode::Option,
                      "drill: backup {} has pg_wal linked to '{}': restore would write the "
                      "drill's WAL there, where the running cluster may keep its own; drill a "
                      "backup without the link",
                      plan.label, l.destination);
        uint64_t needed = drillSpaceNeeded(plan.manifest.totalSize());
        uint64_t available = freeBytes(paths_.drillPath);
        if (available < needed)
            raise(ErrorCode::FileWrite,
                  "option 'drill-path': '{}' has {} free; a drill of backup {} ({}) needs {}: "
                  "free space or choose another drill-path",
                  paths_.drillPath, formatBytes(available), plan.label,
                  formatBytes(plan.manifest.totalSize()), formatBytes(needed));
        binDir_ = postgresBinDir(pgVersion_);
    }

    void restoreBackup() { restore(view_); }

    void startCluster() {
        int port = config_.getInt(opt::drillPort) > 0
                       ? static_cast<int>(config_.getInt(opt::drillPort))
                       : freeDrillPort(kFirstDrillPort);
        cluster_ = std::make_unique<DrillCluster>(paths_.scratch, paths_.data, binDir_, port,
                                                  config_.find(opt::pg1User).value_or(""));
        cluster_->start();
    }

    // Until promotion; then where recovery got to, and for the default target whether that is
    // the end of the archive.
    void waitForRecovery() {
        cluster_->waitForPromotion(stop_);
        if (stop_) return;
        pg::Client db(cluster_->connectOptions());
        auto row = db.query(
                         "SELECT pg_last_wal_replay_lsn()::text, "
                         "to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', "
                         "'YYYY-MM-DD HH24:MI:SS.US+00'), "
                         "(SELECT timeline_id FROM pg_control_checkpoint())::text")
                       .at(0);
        if (!row.at(0)) raise(ErrorCode::Db, "drill: the server replayed no WAL");
        record_.reachedLsn = *row[0];
        record_.reachedTime = row.at(1).value_or("");
        uint32_t promoted = static_cast<uint32_t>(std::stoul(row.at(2).value_or("0")));
        uint64_t lsn = pg::parseLsn(record_.reachedLsn);
        uint64_t segno = (lsn ? lsn - 1 : 0) / segmentSize_;
        auto end = archivedEnd(*openRepo(config_), stanzaLayout(config_), archiveId_, segmentSize_,
                               segno, promoted);
        uint32_t timeline = end.timelineOfReached ? end.timelineOfReached : 1;
        record_.reachedSegment = pg::WalSegment{timeline, segno}.name(segmentSize_);
        if (auto start = pg::WalSegment::parse(record_.walStart, segmentSize_);
            start && segno >= start->segno)
            record_.walReplayed = segno - start->segno + 1;
        record_.endOfArchive = segno >= end.lastSegno;
        if (recovery_.type == "default" && !record_.endOfArchive)
            raise(ErrorCode::FileMissing,
                  "drill: recovery did not reach the end of the archive: it ended at LSN {} in "
                  "segment {}, and the archive holds WAL up to segment {}: segment {} is missing "
                  "or unreadable",
                  record_.reachedLsn, record_.reachedSegment,
                  pg::WalSegment{timeline, end.lastSegno}.name(segmentSize_),
                  pg::WalSegment{timeline, segno + 1}.name(segmentSize_));
    }

  public:
    ErrorCode errorCode_ = ErrorCode::Assert;
    std::string errorMessage_;

  private:
    const Config& config_;
    const DrillPaths& paths_;
    const std::atomic<bool>& stop_;
    repo::DrillRecord record_;
    RecoverySettings recovery_;
    Config view_ = config_;
    std::string pgVersion_, binDir_, archiveId_;
    uint32_t segmentSize_ = pg::kDefaultWalSegmentSize;
    std::unique_ptr<DrillCluster> cluster_;
};

void printResult(const repo::DrillRecord& r) {
    std::string phases;
    for (const auto& [name, seconds] : r.durations)
        phases += fmt::format("{}{} {:.1f} s", phases.empty() ? "" : ", ", name, seconds);
    fmt::print("drill {}: {}, backup {}, target {}", r.id, r.passed ? "passed" : "FAILED",
               r.backup.empty() ? "(none chosen)" : r.backup, r.targetRequested);
    if (!r.reachedLsn.empty())
        fmt::print(", reached LSN {} (segment {}{}), {} WAL segment{} replayed", r.reachedLsn,
                   r.reachedSegment, r.endOfArchive ? ", end of archive" : "", r.walReplayed,
                   r.walReplayed == 1 ? "" : "s");
    fmt::print("; {}\n", phases);
    fmt::print(
        "drill {}: checked {} databases, {} btree indexes, {} heaps, {} tables; {} page checksum "
        "failures\n",
        r.id, r.databases, r.btreeIndexes, r.heaps, r.tables, r.checksumFailures);
    for (const auto& f : r.failures) fmt::print("drill {}: failed: {}\n", r.id, describeFailure(f));
    if (!r.error.empty()) fmt::print("drill {}: failed in {}: {}\n", r.id, r.failedPhase, r.error);
}

int64_t nowMillis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The drill, its record written whatever the outcome; raises the drill's error.
int drillAndRecord(const Config& config) {
    refuseRoot();
    DrillPaths paths = drillPaths(config);
    // A bad --type or --target is refused before any work, and unrecorded.
    refuseUncheckableType(recoverySettings(config));
    int64_t started = nowMillis();
    std::atomic<bool> stopRequested{false};
    TerminationWatch termination([&] { stopRequested = true; });
    DrillRun run(config, paths, stopRequested);
    auto& record = run.record();
    record.id = repo::drillId(started);
    record.started = started / 1000;
    {
        DrillScratch scratch(paths);
        drillProgress("started " + record.id);
        run.run();
        run.stopCluster();
        try {
            scratch.remove();
        } catch (const Error& e) {
            if (record.error.empty()) record.error = e.display(), record.failedPhase = "stop";
        }
    }
    if (auto sig = termination.received(); sig && record.error.empty())
        record.error = "terminated on signal " + *sig, record.failedPhase = "checks";
    record.stopped = nowMillis() / 1000;
    record.passed = record.error.empty() && record.failures.empty();
    // The record is written whatever the outcome (a failed drill is history too), but only into
    // a stanza: a wrong repo1-path or stanza name must not create one.
    auto repo = openRepo(config);
    if (repo::loadBackupInfo(*repo, stanzaLayout(config)))
        repo::saveDrill(*repo, stanzaLayout(config), record);
    else
        logWarn("drill: not recorded: stanza '{}' has no backup.info in the repository",
                config.getString(opt::stanza));
    printResult(record);
    termination.raiseIfReceived("drill",
                                "; the drill's server was stopped and its directory removed");
    if (!record.error.empty())
        raise(run.errorCode_, "drill {} of backup {} failed in {}: {}", record.id,
              record.backup.empty() ? "(none chosen)" : record.backup, record.failedPhase,
              run.errorMessage_.empty() ? record.error : run.errorMessage_);
    if (!record.failures.empty())
        raise(ErrorCode::Checksum, "drill {} of backup {} found {} failure{}, the first: {}",
              record.id, record.backup, record.failures.size(),
              record.failures.size() == 1 ? "" : "s", describeFailure(record.failures.front()));
    return 0;
}

}  // namespace

int drill(const Config& config) {
    try {
        return drillAndRecord(config);
    } catch (const Error& e) {
        // The daemon that runs this drill (worker/serve_drill.h) reports it as the job's error.
        drillProgress(fmt::format("error {} {}", e.exitCode(), e.what()));
        throw;
    }
}

}  // namespace backrest::cmd
