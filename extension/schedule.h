// backrest.schedule, run by the launcher bgworker: it starts a backup bgworker (as
// backrest_backup() does) when an entry's time comes, and publishes each entry's next run and
// last outcome for backrest_schedule().
//
// The rules, chosen so that a schedule never surprises a DBA:
// - A run starts in the minute it is due (the launcher looks every 200 ms), in the server's
//   `timezone`.
// - Never doubled: the server runs one backup at a time. A run due while a backup is running
//   (scheduled or not) is `due` and starts when that one ends, once however many times came
//   meanwhile. Entries due together run as one backup of the strongest type; the others are
//   `covered` by it (a full covers a diff or an incr entry).
// - A standby runs no schedule (entries show `standby`); once promoted it runs the schedule.
// - Missed runs (server or daemon down, a standby since promoted, a schedule just set): when
//   the launcher starts, and for an entry a reload adds, the repository is asked for the
//   newest backup that covers the entry; if none ended after the entry's last due time, one
//   catch-up run is taken (backrest.schedule_catchup = off: none; missed runs are then only
//   logged). One run, never one per missed time.
// - `drill` entries (restore drills, extension/drill_job.h) follow the same rules with drills in
//   place of backups: one drill at a time (a drill due while one runs is `due` and starts once
//   when it ends), a standby runs none, and a missed drill is caught up once when no drill of
//   any backup ended after its last due time. A drill due while a backup runs or is due waits
//   for it (the drill then proves the newest backup); a drill running does not hold a backup.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/cron_schedule.h"
#include "job_slots.h"
#include "pg.h"
#include "shared_state.h"

namespace backrest::ext {

class Scheduler {
  public:
    // Takes backrest.schedule's value (checked by its GUC check hook); entries whose type and
    // expression are unchanged keep their state and outcomes.
    void configure(const std::string& text, bool catchUp);
    // One look: called by the launcher's loop every turn. `daemonRunning`: the launcher's
    // daemon is up (a backup needs it).
    void tick(bool daemonRunning);

  private:
    struct Entry {
        schedule::ScheduleEntry spec;
        std::optional<int64_t> next;  // epoch seconds
        bool due = false;
        std::string dueWhy;  // "due at ...", "catch-up of ..."
        bool catchUpChecked = false;
        int64_t lastRun = 0;
        std::string lastLabel, lastResult, lastDetail;
    };
    // A backup this scheduler started, until it ends.
    struct Run {
        JobSlotRef job;
        BackgroundWorkerHandle* handle;
        std::vector<size_t> entries;  // those it runs for
    };

    void markDue(int64_t now);
    void checkCatchUp(int64_t now);
    void startDue(int64_t now);
    void startDueDrill(int64_t now);
    // Starts the job of `type` (a backup type or drill) for the due entries it satisfies.
    std::optional<Run> startRun(const std::string& type, int64_t now);
    void watchRun(std::optional<Run>& run);
    void publish(bool standby);
    std::string describeTime(int64_t epoch) const;

    std::vector<Entry> entries_;
    bool catchUp_ = true;
    bool wasStandby_ = false;
    std::optional<Run> run_;       // a backup
    std::optional<Run> drillRun_;  // a drill
    std::string note_;
    int64_t nextCatchUpTry_ = 0;
    bool warnedBusy_ = false;
    bool warnedDrillWaits_ = false;
    ScheduleStatus published_{};
};

}  // namespace backrest::ext
