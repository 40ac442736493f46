#include "schedule.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "backup_worker.h"
#include "common/error.h"
#include "daemon_client.h"
#include "pg_guard.h"
#include "protocol/messages.h"
#include "shared_state.h"

extern "C" {
#include "pgtime.h"
}

namespace backrest::ext {

namespace {

// The catch-up check asks the daemon for the repository's backups; a failure is tried again.
constexpr int kCatchUpRetrySeconds = 60;
// Short: the launcher's loop (which also watches the daemon) waits for the answer.
constexpr int kInfoTimeoutMs = 10 * 1000;
constexpr int kConnectWaitMs = 2 * 1000;

// Wall-clock time in the server's `timezone`, as PostgreSQL itself shows timestamps.
schedule::LocalTime localTime(int64_t epoch) {
    pg_time_t t = static_cast<pg_time_t>(epoch);
    const struct pg_tm* tm =
        session_timezone != nullptr ? pg_localtime(&t, session_timezone) : nullptr;
    if (tm == nullptr) {
        time_t ct = static_cast<time_t>(epoch);
        struct tm utc;
        gmtime_r(&ct, &utc);
        return {utc.tm_min, utc.tm_hour, utc.tm_mday, utc.tm_mon + 1, utc.tm_wday};
    }
    return {tm->tm_min, tm->tm_hour, tm->tm_mday, tm->tm_mon + 1, tm->tm_wday};
}

// How messages name an entry's run: "full backup", "drill".
std::string runName(const std::string& type) {
    return type == schedule::kDrillEntry ? type : type + " backup";
}

int strength(const std::string& type) {
    return type == "full" ? 3 : type == "diff" ? 2 : 1;
}

std::string key(const schedule::ScheduleEntry& e) {
    return e.type + " " + e.when.text();
}

template <size_t N>
void copyText(char (&to)[N], const std::string& from) {
    strlcpy(to, from.c_str(), N);
}

}  // namespace

std::string Scheduler::describeTime(int64_t epoch) const {
    schedule::LocalTime t = localTime(epoch);
    pg_time_t pt = static_cast<pg_time_t>(epoch);
    const struct pg_tm* tm =
        session_timezone != nullptr ? pg_localtime(&pt, session_timezone) : nullptr;
    int year = tm != nullptr ? tm->tm_year + 1900 : 0;
    const char* zone = tm != nullptr && tm->tm_zone != nullptr ? tm->tm_zone : "UTC";
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02} {}", year, t.month, t.day, t.hour, t.minute,
                       zone);
}

void Scheduler::configure(const std::string& text, bool catchUp) {
    // Catch-up turned on: what was missed is looked at again (and taken).
    if (catchUp && !catchUp_)
        for (Entry& e : entries_) e.catchUpChecked = false;
    catchUp_ = catchUp;
    std::vector<schedule::ScheduleEntry> parsed;
    try {
        parsed = schedule::parseSchedule(text);
    } catch (const std::exception& e) {
        // The GUC's check hook refuses a bad value before it gets here; this is the last guard.
        report(WARNING, fmt::format("backrest schedule: ignored: {}", e.what()));
    }
    int64_t now = time(nullptr);
    std::vector<Entry> entries;
    for (auto& spec : parsed) {
        auto same = std::find_if(entries_.begin(), entries_.end(),
                                 [&](const Entry& e) { return key(e.spec) == key(spec); });
        Entry entry;
        if (same != entries_.end()) {
            entry = *same;
        } else {
            entry.spec = spec;
            entry.next = schedule::nextRun(spec.when, now, localTime, schedule::kSearchDays);
        }
        entries.push_back(std::move(entry));
    }
    // The runs under way keep pointing at their entries (those still in the schedule).
    for (std::optional<Run>* run : {&run_, &drillRun_}) {
        if (!*run) continue;
        std::vector<size_t> kept;
        for (size_t old : (*run)->entries)
            for (size_t i = 0; i < entries.size(); i++)
                if (old < entries_.size() && key(entries[i].spec) == key(entries_[old].spec))
                    kept.push_back(i);
        (*run)->entries = kept;
    }
    if (entries.size() != entries_.size() ||
        !std::equal(entries.begin(), entries.end(), entries_.begin(),
                    [](const Entry& a, const Entry& b) { return key(a.spec) == key(b.spec); })) {
        std::string list;
        for (const Entry& e : entries)
            list += fmt::format(
                "{}{} at '{}' (next {})", list.empty() ? "" : "; ", e.spec.type, e.spec.when.text(),
                e.next ? describeTime(*e.next) : std::string("none within 8 years"));
        report(LOG, entries.empty() ? std::string("backrest schedule: none")
                                    : fmt::format("backrest schedule: {}", list));
    }
    entries_ = std::move(entries);
}

void Scheduler::tick(bool daemonRunning) {
    int64_t now = time(nullptr);
    if (run_) watchRun(run_);
    if (drillRun_) watchRun(drillRun_);
    bool standby = pgCall([] { return RecoveryInProgress(); });
    if (standby) {
        // A standby's copy of the schedule is the primary's: running it would back up twice.
        for (Entry& e : entries_) {
            e.due = false;
            if (e.next && *e.next <= now)
                e.next = schedule::nextRun(e.spec.when, now, localTime, schedule::kSearchDays);
        }
        note_ = "this server is in recovery (a standby): the schedule runs once it is promoted";
        wasStandby_ = true;
        publish(true);
        return;
    }
    if (wasStandby_) {
        // Promoted: what the schedule missed meanwhile is looked at as after a restart.
        wasStandby_ = false;
        note_.clear();
        for (Entry& e : entries_) e.catchUpChecked = false;
    }
    markDue(now);
    if (daemonRunning) {
        checkCatchUp(now);
        startDue(now);
        startDueDrill(now);
    }
    publish(false);
}

void Scheduler::markDue(int64_t now) {
    for (Entry& e : entries_) {
        if (!e.next || *e.next > now) continue;
        std::string dueAt = describeTime(*e.next);
        if (e.due)
            report(LOG, fmt::format("backrest schedule: the {} due at {} has not started "
                                    "yet ({}); it runs once for both",
                                    runName(e.spec.type), dueAt, e.dueWhy));
        else
            e.dueWhy = "due at " + dueAt;
        e.due = true;
        // This minute's run is the one just marked: never the same entry twice in a minute.
        e.catchUpChecked = true;
        e.next = schedule::nextRun(e.spec.when, now, localTime, schedule::kSearchDays);
    }
}

void Scheduler::checkCatchUp(int64_t now) {
    bool unchecked = std::any_of(entries_.begin(), entries_.end(),
                                 [](const Entry& e) { return !e.catchUpChecked; });
    if (!unchecked || now < nextCatchUpTry_) return;
    // A backup still running (one this launcher's predecessor started, or backrest_backup())
    // may be the very run that would be caught up: look once it has ended.
    for (const JobSlot& slot : JobSlotRef::readAll())
        if (slot.state == JobState::Starting || slot.state == JobState::Running) return;
    protocol::InfoReply info;
    try {
        DaemonSession daemon(
            "schedule",
            [] {
                if (ShutdownRequestPending)
                    raise(ErrorCode::Cancelled, "the launcher is shutting down");
            },
            kConnectWaitMs);
        info = daemon.call(protocol::Info{}, kInfoTimeoutMs);
    } catch (const std::exception& e) {
        note_ = fmt::format("catch-up check failed (retried in {} s): {}", kCatchUpRetrySeconds,
                            e.what());
        report(WARNING, "backrest schedule: " + note_);
        nextCatchUpTry_ = now + kCatchUpRetrySeconds;
        return;
    }
    note_.clear();
    int missed = 0;
    for (Entry& e : entries_) {
        if (e.catchUpChecked) continue;
        e.catchUpChecked = true;
        std::optional<int64_t> last =
            schedule::previousRun(e.spec.when, now, localTime, schedule::kSearchDays);
        if (!last || e.due) continue;
        bool covered = false;
        for (const auto& backup : info.backups) {
            // A drill entry: any backup's newest drill that ended since (passed or failed: it
            // ran; a failed one is for the DBA to look at, not to repeat at every start).
            if (e.spec.isDrill()) {
                // A backup never drilled has "drill": null.
                if (!backup.is_object() || !backup.contains("drill") ||
                    !backup["drill"].is_object())
                    continue;
                const auto& stop = backup["drill"].value("stop", protocol::Message());
                if (stop.is_number() && stop.get<int64_t>() >= *last) covered = true;
                continue;
            }
            if (!backup.is_object() || !backup.contains("type") || !backup.contains("timestamp"))
                continue;
            const auto& stop = backup["timestamp"].value("stop", protocol::Message());
            if (!stop.is_number()) continue;
            if (schedule::satisfies(backup["type"].get<std::string>(), e.spec.type) &&
                stop.get<int64_t>() >= *last)
                covered = true;
        }
        if (covered) continue;
        missed++;
        if (!catchUp_) {
            e.lastResult = "missed";
            e.lastDetail = fmt::format("the run due at {} (backrest.schedule_catchup is off)",
                                       describeTime(*last));
            report(LOG, fmt::format("backrest schedule: the {} due at {} was missed and is "
                                    "not taken (backrest.schedule_catchup is off)",
                                    runName(e.spec.type), describeTime(*last)));
            continue;
        }
        e.due = true;
        e.dueWhy = "catch-up of the run due at " + describeTime(*last);
        report(LOG, fmt::format("backrest schedule: no {} ended since {}, when one was due "
                                "('{}'): taking it now (backrest.schedule_catchup)",
                                runName(e.spec.type), describeTime(*last), e.spec.when.text()));
    }
    if (missed == 0)
        report(LOG,
               "backrest schedule: catch-up check: no run was missed (the repository's "
               "newest backups and drills cover each entry's last due time)");
}

void Scheduler::startDue(int64_t now) {
    if (run_) return;
    std::string type;
    for (const Entry& e : entries_)
        if (e.due && !e.spec.isDrill() && (type.empty() || strength(e.spec.type) > strength(type)))
            type = e.spec.type;
    if (type.empty()) return;
    run_ = startRun(type, now);
}

void Scheduler::startDueDrill(int64_t now) {
    if (drillRun_) return;
    bool drillDue = std::any_of(entries_.begin(), entries_.end(),
                                [](const Entry& e) { return e.due && e.spec.isDrill(); });
    if (!drillDue) return;
    // The backup first: a drill proves the newest backup, so one due or running is waited for.
    std::string backup;
    for (const Entry& e : entries_)
        if (e.due && !e.spec.isDrill()) backup = runName(e.spec.type) + " is due";
    for (const JobSlot& slot : JobSlotRef::readAll())
        if (!isDrillJob(slot) &&
            (slot.state == JobState::Starting || slot.state == JobState::Running))
            backup = fmt::format("backup {} is running",
                                 slot.label[0] != '\0' ? slot.label : "(starting)");
    if (!backup.empty()) {
        if (!warnedDrillWaits_)
            report(LOG, fmt::format("backrest schedule: the drill that is due waits: a {}; it "
                                    "starts when the backup ends",
                                    backup));
        warnedDrillWaits_ = true;
        return;
    }
    warnedDrillWaits_ = false;
    drillRun_ = startRun(schedule::kDrillEntry, now);
}

std::optional<Scheduler::Run> Scheduler::startRun(const std::string& type, int64_t now) {
    std::optional<JobSlotRef> job;
    bool& warned = type == schedule::kDrillEntry ? warnedDrillWaits_ : warnedBusy_;
    try {
        job.emplace(JobSlotRef::allocate(type.c_str(), 0, MyLatch));  // 0: the first repository
    } catch (const std::exception& e) {
        // Another one runs (never two backups, never two drills at once): this one waits for
        // it, once.
        if (!warned)
            report(LOG, fmt::format("backrest schedule: the {} that is due waits: {}",
                                    runName(type), e.what()));
        warned = true;
        return std::nullopt;
    }
    warned = false;
    BackgroundWorkerHandle* handle = nullptr;
    std::string failure;
    try {
        // InvalidOid: the worker connects to backrest.database as the bootstrap superuser.
        if (!registerBackupWorker(*job, InvalidOid, InvalidOid, &handle))
            failure = "no background worker slot was free (raise max_worker_processes)";
    } catch (const std::exception& e) {
        failure = fmt::format("the {} worker could not be registered: {}",
                              type == schedule::kDrillEntry ? "drill" : "backup", e.what());
    }
    if (!failure.empty()) job->finish(JobState::Failed, failure.c_str());
    Run run{*job, handle, {}};
    for (size_t i = 0; i < entries_.size(); i++) {
        Entry& e = entries_[i];
        if (!e.due || !schedule::satisfies(type, e.spec.type)) continue;
        e.due = false;
        e.lastRun = now;
        e.lastLabel.clear();
        e.lastResult = failure.empty() ? "running" : "failed";
        e.lastDetail =
            e.spec.type == type ? e.dueWhy : fmt::format("{}, run as a {} backup", e.dueWhy, type);
        if (!failure.empty()) e.lastDetail += ": " + failure;
        run.entries.push_back(i);
    }
    if (!failure.empty()) {
        report(WARNING, fmt::format("backrest schedule: the {} could not start: {}", runName(type),
                                    failure));
        return std::nullopt;
    }
    report(LOG, fmt::format("backrest schedule: starting a {} ({})", runName(type),
                            entries_[run.entries.front()].lastDetail));
    return run;
}

void Scheduler::watchRun(std::optional<Run>& run) {
    std::optional<JobSlot> slot = run->job.read();
    auto unfinished = [](const JobSlot& s) {
        return s.state == JobState::Starting || s.state == JobState::Running;
    };
    if (slot && unfinished(*slot) && run->handle != nullptr) {
        pid_t pid = 0;
        BackgroundWorkerHandle* handle = run->handle;
        if (pgCall([&] { return GetBackgroundWorkerPid(handle, &pid); }) == BGWH_STOPPED) {
            // Exited without ending its job (it could not even connect): end it, or it would
            // block every later one.
            run->job.finish(JobState::Failed,
                            "the job's worker exited without ending it; see the server log");
            slot = run->job.read();
        }
    }
    std::string label = slot ? slot->label : "";
    for (size_t i : run->entries)
        if (i < entries_.size() && !label.empty()) entries_[i].lastLabel = label;
    if (slot && unfinished(*slot)) return;
    std::string result = slot ? jobStateName(slot->state) : "ended";
    std::string error = slot ? slot->error : "";
    for (size_t i : run->entries) {
        if (i >= entries_.size()) continue;
        Entry& e = entries_[i];
        e.lastResult = result;
        if (!error.empty()) e.lastDetail += ": " + error;
    }
    report(result == "done" ? LOG : WARNING,
           fmt::format(
               "backrest schedule: {} {} {}{}", slot && isDrillJob(*slot) ? "drill" : "backup",
               label.empty() ? "(no label)" : label, result, error.empty() ? "" : ": " + error));
    if (run->handle != nullptr) pfree(run->handle);
    run.reset();
}

void Scheduler::publish(bool standby) {
    ScheduleStatus status{};
    status.count = static_cast<int>(std::min<size_t>(entries_.size(), kScheduleSlots));
    copyText(status.note, note_);
    for (int i = 0; i < status.count; i++) {
        const Entry& e = entries_[static_cast<size_t>(i)];
        ScheduleSlot& slot = status.entries[i];
        auto runs = [i](const std::optional<Run>& run) {
            return run && std::find(run->entries.begin(), run->entries.end(),
                                    static_cast<size_t>(i)) != run->entries.end();
        };
        bool running = runs(run_) || runs(drillRun_);
        copyText(slot.type, e.spec.type);
        copyText(slot.when, e.spec.when.text());
        copyText(slot.state, standby ? "standby" : running ? "running" : e.due ? "due" : "waiting");
        slot.nextRun = e.next ? time_t_to_timestamptz(static_cast<pg_time_t>(*e.next)) : 0;
        slot.lastRun =
            e.lastRun != 0 ? time_t_to_timestamptz(static_cast<pg_time_t>(e.lastRun)) : 0;
        copyText(slot.lastLabel, e.lastLabel);
        copyText(slot.lastResult, e.lastResult);
        copyText(slot.lastDetail, e.lastDetail);
    }
    if (std::memcmp(&status, &published_, sizeof status) == 0) return;
    published_ = status;
    setScheduleStatus(status);
}

}  // namespace backrest::ext
