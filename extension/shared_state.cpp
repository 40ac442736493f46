// backrest's shared memory segment: requested at preload, created (zeroed) by the postmaster
// at startup and after a crash restart, inherited by every child.
#include "shared_state.h"

#include <cstring>

namespace backrest::ext {

namespace {

shmem_request_hook_type previousRequestHook = nullptr;
shmem_startup_hook_type previousStartupHook = nullptr;
SharedState* state = nullptr;

// The hooks hold no C++ object, so an ereport may longjmp through them like through C code.
void requestHook() {
    if (previousRequestHook != nullptr) previousRequestHook();
    RequestAddinShmemSpace(MAXALIGN(sizeof(SharedState)));
}

void startupHook() {
    if (previousStartupHook != nullptr) previousStartupHook();
    LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
    bool found = false;
    state = static_cast<SharedState*>(ShmemInitStruct("backrest", sizeof(SharedState), &found));
    if (!found) {
        std::memset(state, 0, sizeof *state);
        SpinLockInit(&state->mutex);
    }
    LWLockRelease(AddinShmemInitLock);
}

}  // namespace

void requestSharedState() {
    previousRequestHook = shmem_request_hook;
    shmem_request_hook = requestHook;
    previousStartupHook = shmem_startup_hook;
    shmem_startup_hook = startupHook;
}

SharedState* sharedState() {
    return state;
}

LauncherStatus launcherStatus() {
    LauncherStatus copy{};
    if (state == nullptr) return copy;
    SharedLock lock(state);
    copy = state->launcher;
    return copy;
}

void setLauncherStatus(DaemonState daemonState, pid_t daemonPid, TimestampTz nextStart,
                       const char* lastExit) {
    if (state == nullptr) return;
    SharedLock lock(state);
    state->launcher.state = daemonState;
    state->launcher.daemonPid = daemonPid;
    state->launcher.nextStart = nextStart;
    if (lastExit != nullptr)
        strlcpy(state->launcher.lastExit, lastExit, sizeof state->launcher.lastExit);
}

ScheduleStatus scheduleStatus() {
    ScheduleStatus copy{};
    if (state == nullptr) return copy;
    SharedLock lock(state);
    copy = state->schedule;
    return copy;
}

void setScheduleStatus(const ScheduleStatus& status) {
    if (state == nullptr) return;
    SharedLock lock(state);
    state->schedule = status;
}

}  // namespace backrest::ext
