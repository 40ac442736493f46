// SQL functions for backup jobs: backrest_backup() starts a backup bgworker and returns its
// label, backrest_status() lists the jobs from shared memory, backrest_cancel() stops one.
#include <fmt/format.h>

#include <string>

#include "backup_worker.h"
#include "job_slots.h"
#include "pg.h"
#include "pg_guard.h"
#include "settings.h"
#include "sql_support.h"

extern "C" {
PG_FUNCTION_INFO_V1(backrest_backup);
PG_FUNCTION_INFO_V1(backrest_status);
PG_FUNCTION_INFO_V1(backrest_cancel);
}

namespace backrest::ext {

namespace {

void validateBackupType(const std::string& type) {
    if (type == "full" || type == "diff" || type == "incr") return;
    throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, fmt::format("invalid backup type \"{}\"", type),
                   "Valid types are 'full', 'diff' and 'incr'.");
}

// Sleeps on this backend's latch (set by the worker and by bgworker start/stop notices).
void waitOnLatch() {
    pgCall([] {
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 100,
                        PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
    });
}

// Waits until the worker has the backup's label from the daemon, or has failed.
std::string waitForLabel(const JobSlotRef& job, BackgroundWorkerHandle* handle) {
    for (;;) {
        std::optional<JobSlot> slot = job.read();
        if (!slot)
            throw SqlError(ERRCODE_INTERNAL_ERROR,
                           "the backup's job slot was reused before it started");
        // Once labelled, the backup exists: a later failure is reported by waitForEnd() or
        // backrest_status().
        if (slot->label[0] != '\0') return slot->label;
        if (slot->state == JobState::Failed || slot->state == JobState::Cancelled)
            throw SqlError(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
                           fmt::format("backup failed to start: {}", slot->error),
                           "See the server log for details.");
        pid_t pid = 0;
        BgwHandleStatus status = pgCall([&] { return GetBackgroundWorkerPid(handle, &pid); });
        if (status == BGWH_STOPPED) {
            // Exited without a word (it could not even attach); the worker's own exit path
            // records its failure otherwise, so this only fills the gap.
            job.finish(JobState::Failed,
                       "the backup worker exited before the backup started; see the server log");
            continue;
        }
        if (status == BGWH_POSTMASTER_DIED)
            throw SqlError(ERRCODE_ADMIN_SHUTDOWN,
                           "the postmaster died while the backup was starting");
        waitOnLatch();
    }
}

// Waits for the worker to exit (interruptibly) and raises the backup's error if it failed.
void waitForEnd(const JobSlotRef& job, BackgroundWorkerHandle* handle, const std::string& label) {
    BgwHandleStatus status = pgCall([&] { return WaitForBackgroundWorkerShutdown(handle); });
    if (status == BGWH_POSTMASTER_DIED)
        throw SqlError(ERRCODE_ADMIN_SHUTDOWN,
                       fmt::format("the postmaster died during backup {}", label));
    job.finish(JobState::Failed,
               "the backup worker exited without ending the backup; see the server log");
    std::optional<JobSlot> slot = job.read();
    if (!slot) return;  // reused by a later backup, so this one had ended
    if (slot->state == JobState::Cancelled)
        throw SqlError(ERRCODE_QUERY_CANCELED, fmt::format("backup {} was cancelled", label), {},
                       slot->error);
    if (slot->state != JobState::Done)
        throw SqlError(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
                       fmt::format("backup {} failed: {}", label, slot->error),
                       "See the server log and SELECT * FROM backrest_status().");
}

Datum startBackup(FunctionCallInfo fcinfo) {
    requirePreloaded("backrest_backup()");
    std::string type = textArgument(fcinfo, 0, "type");
    bool wait = boolArgument(fcinfo, 1, "wait");
    // NULL: the daemon's first repository, as backup without --repo.
    int repo = 0;
    if (!PG_ARGISNULL(2)) {
        repo = PG_GETARG_INT32(2);
        if (repo < 1 || repo > 4)
            throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                           fmt::format("invalid repository {}", repo),
                           "repo is 1 to 4 (repo1..repo4), or NULL for the first configured.");
    }
    validateBackupType(type);
    requireStanza("backrest_backup()");
    Oid database = pgCall([] { return get_database_oid(settings.database, false); });
    Oid role = GetUserId();
    JobSlotRef job = JobSlotRef::allocate(type.c_str(), repo, MyLatch);
    BackgroundWorkerHandle* handle = nullptr;
    bool registered = false;
    try {
        registered = registerBackupWorker(job, database, role, &handle);
    } catch (...) {
        // No worker will ever end this job: end it here, or it would block every later backup.
        job.finish(JobState::Failed, "the backup worker could not be registered");
        throw;
    }
    if (!registered) {
        job.finish(JobState::Failed, "no background worker slot was free");
        throw SqlError(
            ERRCODE_INSUFFICIENT_RESOURCES, "could not start the backup background worker",
            "Raise max_worker_processes (a backup needs one worker) and restart the server.");
    }
    std::string label = waitForLabel(job, handle);
    if (wait) waitForEnd(job, handle, label);
    return textDatum(label);
}

std::optional<std::string> nonEmpty(const char* text) {
    return text[0] != '\0' ? std::optional<std::string>(text) : std::nullopt;
}

Datum listJobs(FunctionCallInfo fcinfo) {
    requirePreloaded("backrest_status()");
    ResultRows rows(fcinfo);
    for (const JobSlot& slot : JobSlotRef::readAll()) {
        bool ended = slot.state != JobState::Starting && slot.state != JobState::Running;
        rows.text(nonEmpty(slot.label))
            .text(std::string(slot.type))
            .text(std::string(jobStateName(slot.state)))
            .text(std::string(slot.phase))
            .bigint(static_cast<int64_t>(slot.bytesTotal))
            .bigint(static_cast<int64_t>(slot.bytesDone))
            .bigint(static_cast<int64_t>(slot.filesTotal))
            .bigint(static_cast<int64_t>(slot.filesDone))
            .timestamp(slot.started)
            .timestamp(ended ? std::optional<TimestampTz>(slot.finished) : std::nullopt)
            .text(nonEmpty(slot.error))
            .integer(slot.pid != 0 ? std::optional<int32_t>(slot.pid) : std::nullopt)
            .text(slot.repo != 0 ? std::optional<std::string>(fmt::format("repo{}", slot.repo))
                                 : std::nullopt)
            .endRow();
    }
    return Datum(0);
}

}  // namespace

}  // namespace backrest::ext

using namespace backrest::ext;

Datum backrest_backup(PG_FUNCTION_ARGS) {
    return pgEntry("backrest_backup()", [&] { return startBackup(fcinfo); });
}

Datum backrest_status(PG_FUNCTION_ARGS) {
    return pgEntry("backrest_status()", [&] { return listJobs(fcinfo); });
}

Datum backrest_cancel(PG_FUNCTION_ARGS) {
    return pgEntry("backrest_cancel()", [&] {
        requirePreloaded("backrest_cancel()");
        return BoolGetDatum(JobSlotRef::cancel(textArgument(fcinfo, 0, "label")));
    });
}
