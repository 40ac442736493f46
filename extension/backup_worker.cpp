// The backup background worker: pg_backup_start/stop in its own session (the server ties a
// backup to its session), the daemon copying in between, progress relayed into the job slot.
#include "backup_worker.h"

#include <fmt/format.h>

#include <cstring>
#include <optional>
#include <string>

#include "common/error.h"
#include "daemon_client.h"
#include "drill_job.h"
#include "pg_guard.h"
#include "protocol/messages.h"
#include "settings.h"
#include "spi_query.h"

extern "C" PGDLLEXPORT void backrest_backup_worker_main(Datum argument);

namespace backrest::ext {

namespace {

// What the backend hands the worker in bgw_extra.
struct BackupWorkerArgs {
    Oid database;
    Oid role;
    uint32 generation;
};

// Copy and finish report progress or finish well within this; a longer silence is a hung daemon.
constexpr int kIdleTimeoutMs = 3600 * 1000;

// This worker's job, for the exit callback; trivially destructible, so safe at any exit.
std::optional<JobSlotRef> currentJob;
// The last ERROR or FATAL this process reported, for a job ended by a FATAL exit.
char lastError[1024];
emit_log_hook_type previousEmitLogHook = nullptr;

void rememberError(ErrorData* edata) {
    if (previousEmitLogHook != nullptr) previousEmitLogHook(edata);
    if (edata->elevel >= ERROR && edata->message != nullptr)
        strlcpy(lastError, edata->message, sizeof lastError);
}

// A FATAL exit (a role that may not log in, a dropped database...) skips every C++ handler;
// this still ends the job, so no slot is ever left running.
void failJobAtExit(int, Datum) {
    if (currentJob)
        currentJob->finish(JobState::Failed,
                           lastError[0] != '\0'
                               ? lastError
                               : "the backrest job's worker exited unexpectedly; see the server "
                                 "log");
}

std::optional<std::string> cell(const Rows& rows, size_t column) {
    if (rows.empty() || column >= rows[0].size())
        raise(ErrorCode::Assert, "a backup query returned no row");
    return rows[0][column];
}

class BackupRun {
  public:
    explicit BackupRun(const JobSlotRef& job) : job_(job) {}

    void run() {
        DaemonSession daemon("backup", [this] { checkStillWanted(); });
        std::optional<JobSlot> slot = job_.read();
        protocol::BackupBegin begin;
        if (slot) begin.backupType = slot->type;
        if (slot && slot->repo != 0) begin.repo = slot->repo;
        protocol::BackupBeginReply begun = daemon.call(begin, 120 * 1000);
        label_ = begun.label;
        repo_ = begun.repo.value_or(slot && slot->repo != 0 ? slot->repo : 1);
        job_.setLabel(label_, repo_);
        report(LOG, fmt::format("backrest: backup {} started in repo{}", label_, repo_));
        protocol::BackupFinish stop;
        try {
            protocol::BackupCopy start = startBackup();
            job_.setPhase("copy");
            daemon.call(start, kIdleTimeoutMs, [this](const Message& message) {
                auto p = protocol::BackupCopyProgress::fromMessage(message);
                job_.setProgress(p.bytesTotal, p.bytesDone, p.filesTotal, p.filesDone);
            });
            job_.setPhase("stop");
            stop = stopBackup();
        } catch (...) {
            // Hanging up abandons the backup on the daemon's side (no manifest, lock released);
            // the server's side is ended here.
            daemon.close();
            endServerBackup();
            throw;
        }
        job_.setPhase("archive-wait");
        protocol::BackupFinishReply done = daemon.call(stop, kIdleTimeoutMs);
        job_.finish(JobState::Done);
        report(LOG,
               fmt::format("backrest: backup {} committed in repo{}: {} bytes in {} files, WAL {} "
                           "to {}",
                           label_, repo_, done.size, done.fileCount, done.walStart, done.walStop));
    }

  private:
    // Between daemon messages: backrest_cancel(), server shutdown (SIGTERM), interrupts.
    void checkStillWanted() {
        if (job_.cancelRequested())
            raise(ErrorCode::Cancelled, "backup {} cancelled by backrest_cancel()", label_);
        if (ShutdownRequestPending)
            raise(ErrorCode::Cancelled,
                  "backup {} cancelled: the backup worker was asked to stop (server shutdown or "
                  "pg_terminate_backend)",
                  label_);
        checkForInterrupts();
    }

    protocol::BackupCopy startBackup() {
        // The start second is truncated, never rounded up (an incremental backup trusts files
        // whose mtime is older than the second its prior backup started in).
        auto results =
            runInOwnTransaction({{"SELECT lsn, pg_walfile_name(lsn), floor(extract(epoch from "
                                  "now()))::bigint, current_setting('data_checksums'), "
                                  "(SELECT setting FROM pg_settings WHERE name = "
                                  "'wal_segment_size') FROM pg_backup_start($1, true) AS lsn",
                                  {label_}},
                                 {"SELECT oid, spcname FROM pg_tablespace", {}},
                                 {"SELECT oid, datname FROM pg_database", {}}});
        const Rows& row = results[0];
        protocol::BackupCopy start;
        start.lsn = cell(row, 0).value();
        start.walFile = cell(row, 1).value();
        start.timestamp = std::stoll(cell(row, 2).value());
        start.dataChecksums = cell(row, 3).value() == "on";
        start.walSegmentSize = static_cast<uint32_t>(std::stoul(cell(row, 4).value()));
        for (const Row& t : results[1])
            start.tablespaces.push_back(
                {static_cast<uint32_t>(std::stoul(t.at(0).value())), t.at(1).value()});
        start.databases.emplace();
        for (const Row& d : results[2])
            start.databases->push_back(
                {static_cast<uint32_t>(std::stoul(d.at(0).value())), d.at(1).value()});
        return start;
    }

    protocol::BackupFinish stopBackup() {
        auto results = runInOwnTransaction(
            {{"SELECT lsn, pg_walfile_name(lsn), labelfile, spcmapfile FROM pg_backup_stop(false)",
              {}}});
        const Rows& row = results[0];
        return {cell(row, 0).value(), cell(row, 1).value(), cell(row, 2).value_or(""),
                cell(row, 3).value_or("")};
    }

    // Ends the server's side of an abandoned backup. Should pg_backup_stop fail too, the
    // server still ends the backup when this session exits, so its error is only logged.
    void endServerBackup() noexcept {
        try {
            if (pgCall([] { return get_backup_status(); }) == SESSION_BACKUP_RUNNING)
                runInOwnTransaction({{"SELECT 1 FROM pg_backup_stop(false)", {}}});
        } catch (const std::exception& e) {
            try {
                report(WARNING, fmt::format("backrest: could not stop backup {} cleanly: {}",
                                            label_, e.what()));
            } catch (...) {
            }
        }
    }

    JobSlotRef job_;
    std::string label_;
    int repo_ = 0;
};

}  // namespace

bool registerBackupWorker(const JobSlotRef& job, Oid database, Oid role,
                          BackgroundWorkerHandle** handle) {
    BackgroundWorker worker;
    std::memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_ConsistentState;
    worker.bgw_restart_time = BGW_NEVER_RESTART;
    strlcpy(worker.bgw_library_name, "backrest", sizeof worker.bgw_library_name);
    strlcpy(worker.bgw_function_name, "backrest_backup_worker_main",
            sizeof worker.bgw_function_name);
    std::optional<JobSlot> slot = job.read();
    const char* name = slot && isDrillJob(*slot) ? "backrest drill" : "backrest backup";
    strlcpy(worker.bgw_name, name, sizeof worker.bgw_name);
    strlcpy(worker.bgw_type, name, sizeof worker.bgw_type);
    worker.bgw_main_arg = Int32GetDatum(job.index());
    worker.bgw_notify_pid = MyProcPid;
    BackupWorkerArgs args{database, role, job.generation()};
    static_assert(sizeof args <= BGW_EXTRALEN);
    std::memcpy(worker.bgw_extra, &args, sizeof args);
    return pgCall([&] { return RegisterDynamicBackgroundWorker(&worker, handle); });
}

}  // namespace backrest::ext

void backrest_backup_worker_main(Datum argument) {
    using namespace backrest::ext;
    BackupWorkerArgs args;
    std::memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof args);
    currentJob.emplace(DatumGetInt32(argument), args.generation);
    pgEntryOr(
        [&] {
            pgCall([] {
                // SIGTERM (shutdown) is a flag checked between daemon messages, not die(): the
                // backup must still be ended with pg_backup_stop and its job marked.
                pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
                BackgroundWorkerUnblockSignals();
                previousEmitLogHook = emit_log_hook;
                emit_log_hook = rememberError;
                before_shmem_exit(failJobAtExit, 0);
            });
            if (!currentJob->attach(MyProcPid, MyLatch)) return;  // the job was given up meanwhile
            pgCall([&] {
                // A scheduled backup (extension/schedule.h) is started by the launcher, which
                // has no catalog to look oids up in: backrest.database, as the bootstrap
                // superuser.
                if (args.database == InvalidOid)
                    BackgroundWorkerInitializeConnection(settings.database, nullptr, 0);
                else
                    BackgroundWorkerInitializeConnectionByOid(args.database, args.role, 0);
            });
            std::optional<JobSlot> slot = currentJob->read();
            bool drill = slot && isDrillJob(*slot);
            pgCall(
                [drill] { pgstat_report_appname(drill ? "backrest drill" : "backrest backup"); });
            if (drill)
                runDrillJob(*currentJob);
            else
                BackupRun(*currentJob).run();
        },
        [](CaughtError& caught) {
            // backrest_cancel(), SIGTERM, or pg_cancel_backend() on the worker.
            if (caught.backrestCode == static_cast<int>(backrest::ErrorCode::Cancelled) ||
                caught.sqlstate == ERRCODE_QUERY_CANCELED) {
                currentJob->finish(JobState::Cancelled, caught.text());
                ereport(LOG, (errmsg("backrest: %s", caught.text())));
                return;
            }
            currentJob->finish(JobState::Failed, caught.text());
            raiseCaught("backrest job worker", caught);
        });
}
