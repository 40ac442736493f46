// backrest's shared memory: the launcher's view of the daemon and the backup job slots, in one
// fixed struct under one spinlock (every critical section only copies a few bytes).
#pragma once

#include "pg.h"

namespace backrest::ext {

constexpr int kJobSlots = 16;

enum class JobState : int { Free = 0, Starting, Running, Done, Failed, Cancelled };

// One job, a backup or a restore drill (type "drill"), written by its bgworker and read by
// backrest_status().
struct JobSlot {
    JobState state;
    uint32 generation;  // changes each time the slot is handed out: stale references see it
    char label[64];     // a backup's label, a drill's id
    char type[8];       // full, diff, incr, drill
    int repo;  // repoN asked for (0: the daemon's first), then the one the daemon backs up to
    char phase[16];
    char error[1024];
    uint64 bytesTotal, bytesDone, filesTotal, filesDone;
    TimestampTz started, finished;
    pid_t pid;
    bool cancelRequested;
    Latch* workerLatch;     // set on cancel
    Latch* requesterLatch;  // set when the label is known or the job ends
    // A drill's --set, --type and --target ("": not given).
    char drillSet[64];
    char drillTargetType[16];
    char drillTarget[256];
};

// The daemon as the launcher sees it; lets clients fail at once instead of waiting for a socket
// that will not appear (no stanza, server shutting down).
enum class DaemonState : int { NotStarted = 0, Running, Restarting, Disabled, Stopped };

struct LauncherStatus {
    DaemonState state;
    pid_t daemonPid;
    TimestampTz nextStart;  // when Restarting
    char lastExit[128];     // "exit status 1", "signal 9", ...
};

// backrest.schedule as the launcher runs it (extension/schedule.h), for backrest_schedule().
constexpr int kScheduleSlots = 8;  // schedule::kMaxScheduleEntries

struct ScheduleSlot {
    char type[8];
    char when[64];        // the cron expression as written
    char state[16];       // waiting, due, running, standby
    TimestampTz nextRun;  // 0: none within a year
    TimestampTz lastRun;  // when the last run was started; 0: never
    char lastLabel[64];
    char lastResult[16];   // running, done, failed, cancelled, covered
    char lastDetail[512];  // the error, or what the run was (a catch-up, covered by ...)
};

struct ScheduleStatus {
    int count;
    char note[256];  // about the whole schedule: the catch-up check, a standby
    ScheduleSlot entries[kScheduleSlots];
};

struct SharedState {
    slock_t mutex;
    LauncherStatus launcher;
    uint32 nextGeneration;
    JobSlot jobs[kJobSlots];
    ScheduleStatus schedule;
};

// Installs the shmem request and startup hooks; _PG_init calls it when preloading.
void requestSharedState();

// The attached shared state; nullptr when the library was not preloaded.
SharedState* sharedState();

// Holds the spinlock for a scope. Nothing inside may call out, allocate, or take long.
class SharedLock {
  public:
    explicit SharedLock(SharedState* state) : state_(state) { SpinLockAcquire(&state_->mutex); }
    ~SharedLock() { SpinLockRelease(&state_->mutex); }
    SharedLock(const SharedLock&) = delete;
    SharedLock& operator=(const SharedLock&) = delete;

  private:
    SharedState* state_;
};

// The schedule's status, copied in and out under the lock (a few KB).
ScheduleStatus scheduleStatus();
void setScheduleStatus(const ScheduleStatus& status);

// The launcher's status, copied out under the lock.
LauncherStatus launcherStatus();
void setLauncherStatus(DaemonState state, pid_t daemonPid, TimestampTz nextStart,
                       const char* lastExit);

}  // namespace backrest::ext
