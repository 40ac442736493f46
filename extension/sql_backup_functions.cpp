// SQL functions for jobs: backrest_backup() starts a backup bgworker and returns its label,
// backrest_drill() starts a drill's and returns its id, backrest_status() lists the jobs from
// shared memory, backrest_cancel() stops one.
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
PG_FUNCTION_INFO_V1(backrest_drill);
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

// Waits until the worker has the job's label (a backup's, a drill's id) from the daemon, or has
// failed. `noun`: backup, drill.
std::string waitForLabel(const JobSlotRef& job, BackgroundWorkerHandle* handle, const char* noun) {
    for (;;) {
        std::optional<JobSlot> slot = job.read();
        if (!slot)
            throw SqlError(ERRCODE_INTERNAL_ERROR,
                           fmt::format("the {}'s job slot was reused before it started", noun));
        // Once labelled, the backup exists: a later failure is reported by waitForEnd() or
        // backrest_status().
        if (slot->label[0] != '\0') return slot->label;
        if (slot->state == JobState::Failed || slot->state == JobState::Cancelled)
            throw SqlError(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
                           fmt::format("{} failed to start: {}", noun, slot->error),
                           "See the server log for details.");
        pid_t pid = 0;
        BgwHandleStatus status = pgCall([&] { return GetBackgroundWorkerPid(handle, &pid); });
        if (status == BGWH_STOPPED) {
            // Exited without a word (it could not even attach); the worker's own exit path
            // records its failure otherwise, so this only fills the gap.
            job.finish(JobState::Failed,
                       fmt::format("the {} worker exited before the {} started; see the server log",
                                   noun, noun)
                           .c_str());
            continue;
        }
        if (status == BGWH_POSTMASTER_DIED)
            throw SqlError(ERRCODE_ADMIN_SHUTDOWN,
                           fmt::format("the postmaster died while the {} was starting", noun));
        waitOnLatch();
    }
}

// Waits for the worker to exit (interruptibly) and raises the job's error if it failed.
void waitForEnd(const JobSlotRef& job, BackgroundWorkerHandle* handle, const std::string& label,
                const char* noun) {
    BgwHandleStatus status = pgCall([&] { return WaitForBackgroundWorkerShutdown(handle); });
    if (status == BGWH_POSTMASTER_DIED)
        throw SqlError(ERRCODE_ADMIN_SHUTDOWN,
                       fmt::format("the postmaster died during {} {}", noun, label));
    job.finish(
        JobState::Failed,
        fmt::format("the {} worker exited without ending the {}; see the server log", noun, noun)
            .c_str());
    std::optional<JobSlot> slot = job.read();
    if (!slot) return;  // reused by a later job, so this one had ended
    if (slot->state == JobState::Cancelled)
        throw SqlError(ERRCODE_QUERY_CANCELED, fmt::format("{} {} was cancelled", noun, label), {},
                       slot->error);
    if (slot->state != JobState::Done)
        throw SqlError(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION,
                       fmt::format("{} {} failed: {}", noun, label, slot->error),
                       "See the server log and SELECT * FROM backrest_status().");
}

// Registers the job's bgworker; the job is ended here when none can start.
BackgroundWorkerHandle* startJobWorker(const JobSlotRef& job, const char* noun) {
    Oid database = pgCall([] { return get_database_oid(settings.database, false); });
    Oid role = GetUserId();
    BackgroundWorkerHandle* handle = nullptr;
    bool registered = false;
    try {
        registered = registerBackupWorker(job, database, role, &handle);
    } catch (...) {
        // No worker will ever end this job: end it here, or it would block every later one.
        job.finish(JobState::Failed,
                   fmt::format("the {} worker could not be registered", noun).c_str());
        throw;
    }
    if (!registered) {
        job.finish(JobState::Failed, "no background worker slot was free");
        throw SqlError(
            ERRCODE_INSUFFICIENT_RESOURCES,
            fmt::format("could not start the {} background worker", noun),
            fmt::format("Raise max_worker_processes (a {} needs one worker) and restart the "
                        "server.",
                        noun));
    }
    return handle;
}

int repoArgument(FunctionCallInfo fcinfo, int index) {
    // NULL: the daemon's first repository, as the CLI without --repo.
    if (PG_ARGISNULL(index)) return 0;
    int repo = PG_GETARG_INT32(index);
    if (repo < 1 || repo > 4)
        throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE, fmt::format("invalid repository {}", repo),
                       "repo is 1 to 4 (repo1..repo4), or NULL for the first configured.");
    return repo;
}

Datum startBackup(FunctionCallInfo fcinfo) {
    requirePreloaded("backrest_backup()");
    std::string type = textArgument(fcinfo, 0, "type");
    bool wait = boolArgument(fcinfo, 1, "wait");
    int repo = repoArgument(fcinfo, 2);
    validateBackupType(type);
    requireStanza("backrest_backup()");
    JobSlotRef job = JobSlotRef::allocate(type.c_str(), repo, MyLatch);
    BackgroundWorkerHandle* handle = startJobWorker(job, "backup");
    std::string label = waitForLabel(job, handle, "backup");
    if (wait) waitForEnd(job, handle, label, "backup");
    return textDatum(label);
}

// An optional text argument no longer than the job slot keeps ("" when NULL).
std::string boundedText(FunctionCallInfo fcinfo, int index, const char* name, size_t max) {
    if (PG_ARGISNULL(index)) return {};
    std::string value = textArgument(fcinfo, index, name);
    if (value.empty() || value.size() > max)
        throw SqlError(ERRCODE_INVALID_PARAMETER_VALUE,
                       fmt::format("invalid {} '{}': {}", name, value,
                                   value.empty() ? "empty (use NULL for none)"
                                                 : fmt::format("longer than {} bytes", max)));
    return value;
}

// backrest_drill(set, type, target, repo, wait): the drill's errors before it holds its
// directory (drill-path unset or refused, a bad target, another drill in drill-path) are this
// call's error; later ones end the job (backrest_status()), or this call with wait => true.
Datum startDrill(FunctionCallInfo fcinfo) {
    requirePreloaded("backrest_drill()");
    std::string set = boundedText(fcinfo, 0, "set", sizeof(JobSlot::drillSet) - 1);
    std::string targetType = boundedText(fcinfo, 1, "type", sizeof(JobSlot::drillTargetType) - 1);
    std::string target = boundedText(fcinfo, 2, "target", sizeof(JobSlot::drillTarget) - 1);
    int repo = repoArgument(fcinfo, 3);
    bool wait = boolArgument(fcinfo, 4, "wait");
    requireStanza("backrest_drill()");
    JobSlotRef job = JobSlotRef::allocate(kDrillJobType, repo, MyLatch);
    job.setDrillRequest(set, targetType, target);
    BackgroundWorkerHandle* handle = startJobWorker(job, "drill");
    std::string id = waitForLabel(job, handle, "drill");
    if (wait) waitForEnd(job, handle, id, "drill");
    return textDatum(id);
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

Datum backrest_drill(PG_FUNCTION_ARGS) {
    return pgEntry("backrest_drill()", [&] { return startDrill(fcinfo); });
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
