// Job slot operations: each is one short spinlock section copying a few fields; latches are
// set after the lock is released.
#include "job_slots.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "pg_guard.h"

namespace backrest::ext {

namespace {

SharedState* attached() {
    SharedState* state = sharedState();
    if (state == nullptr)  // requirePreloaded() runs first; this is the last line of defence
        throw SqlError(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                       "backrest shared memory is not available",
                       "Add 'backrest' to shared_preload_libraries and restart the server.");
    return state;
}

bool unfinished(JobState state) {
    return state == JobState::Starting || state == JobState::Running;
}

}  // namespace

bool isDrillJob(const JobSlot& slot) {
    return strcmp(slot.type, kDrillJobType) == 0;
}

const char* jobStateName(JobState state) {
    switch (state) {
        case JobState::Free:
            return "free";
        case JobState::Starting:
            return "starting";
        case JobState::Running:
            return "running";
        case JobState::Done:
            return "done";
        case JobState::Failed:
            return "failed";
        case JobState::Cancelled:
            return "cancelled";
    }
    return "unknown";
}

JobSlotRef JobSlotRef::allocate(const char* type, int repo, Latch* requester) {
    SharedState* state = attached();
    TimestampTz now = GetCurrentTimestamp();
    int chosen = -1;
    uint32 generation = 0;
    char running[64] = "";
    bool drill = strcmp(type, kDrillJobType) == 0;
    {
        SharedLock lock(state);
        for (int i = 0; i < kJobSlots && running[0] == '\0'; i++) {
            const JobSlot& slot = state->jobs[i];
            if (unfinished(slot.state) && isDrillJob(slot) == drill) {
                strlcpy(running, slot.label[0] != '\0' ? slot.label : "(starting)", sizeof running);
            } else if (unfinished(slot.state)) {
                continue;  // the other kind's job, still running: never reused
            } else if (slot.state == JobState::Free) {
                if (chosen < 0 || state->jobs[chosen].state != JobState::Free) chosen = i;
            } else if (chosen < 0 || (state->jobs[chosen].state != JobState::Free &&
                                      slot.finished < state->jobs[chosen].finished)) {
                chosen = i;
            }
        }
        if (running[0] == '\0' && chosen >= 0) {
            JobSlot& slot = state->jobs[chosen];
            std::memset(&slot, 0, sizeof slot);
            slot.state = JobState::Starting;
            slot.generation = generation = ++state->nextGeneration;
            strlcpy(slot.type, type, sizeof slot.type);
            slot.repo = repo;
            strlcpy(slot.phase, "start", sizeof slot.phase);
            slot.started = now;
            slot.requesterLatch = requester;
        }
    }
    if (running[0] != '\0')
        throw SqlError(
            ERRCODE_OBJECT_IN_USE,
            fmt::format("a {} is already running: {}", drill ? "drill" : "backup", running),
            "Wait for it to finish (SELECT * FROM backrest_status()) or cancel it with "
            "backrest_cancel().");
    if (chosen < 0)
        throw SqlError(ERRCODE_INSUFFICIENT_RESOURCES, "every backrest job slot is in use",
                       "Wait for a backup or a drill to finish.");
    return {chosen, generation};
}

void JobSlotRef::setDrillRequest(const std::string& set, const std::string& targetType,
                                 const std::string& target) const {
    SharedState* state = attached();
    SharedLock lock(state);
    JobSlot& slot = state->jobs[index_];
    if (slot.generation != generation_) return;
    strlcpy(slot.drillSet, set.c_str(), sizeof slot.drillSet);
    strlcpy(slot.drillTargetType, targetType.c_str(), sizeof slot.drillTargetType);
    strlcpy(slot.drillTarget, target.c_str(), sizeof slot.drillTarget);
}

bool JobSlotRef::attach(pid_t pid, Latch* workerLatch) const {
    SharedState* state = attached();
    SharedLock lock(state);
    JobSlot& slot = state->jobs[index_];
    if (slot.generation != generation_ || slot.state != JobState::Starting) return false;
    slot.pid = pid;
    slot.workerLatch = workerLatch;
    return true;
}

void JobSlotRef::setLabel(const std::string& label, int repo) const {
    SharedState* state = attached();
    Latch* requester = nullptr;
    {
        SharedLock lock(state);
        JobSlot& slot = state->jobs[index_];
        if (slot.generation != generation_) return;
        strlcpy(slot.label, label.c_str(), sizeof slot.label);
        if (repo != 0) slot.repo = repo;
        slot.state = JobState::Running;
        requester = slot.requesterLatch;
    }
    if (requester != nullptr) SetLatch(requester);
}

void JobSlotRef::setPhase(const char* phase) const {
    SharedState* state = attached();
    SharedLock lock(state);
    JobSlot& slot = state->jobs[index_];
    if (slot.generation == generation_) strlcpy(slot.phase, phase, sizeof slot.phase);
}

void JobSlotRef::setProgress(uint64 bytesTotal, uint64 bytesDone, uint64 filesTotal,
                             uint64 filesDone) const {
    SharedState* state = attached();
    SharedLock lock(state);
    JobSlot& slot = state->jobs[index_];
    if (slot.generation != generation_) return;
    slot.bytesTotal = bytesTotal;
    slot.bytesDone = bytesDone;
    slot.filesTotal = filesTotal;
    slot.filesDone = filesDone;
}

bool JobSlotRef::finish(JobState outcome, const char* error) const {
    SharedState* state = attached();
    TimestampTz now = GetCurrentTimestamp();
    Latch* requester = nullptr;
    {
        SharedLock lock(state);
        JobSlot& slot = state->jobs[index_];
        if (slot.generation != generation_ || !unfinished(slot.state)) return false;
        slot.state = outcome;
        slot.finished = now;
        if (outcome == JobState::Done) strlcpy(slot.phase, "done", sizeof slot.phase);
        if (error != nullptr) strlcpy(slot.error, error, sizeof slot.error);
        slot.workerLatch = nullptr;
        requester = slot.requesterLatch;
    }
    if (requester != nullptr) SetLatch(requester);
    return true;
}

bool JobSlotRef::cancelRequested() const {
    SharedState* state = attached();
    SharedLock lock(state);
    const JobSlot& slot = state->jobs[index_];
    return slot.generation == generation_ && slot.cancelRequested;
}

std::optional<JobSlot> JobSlotRef::read() const {
    SharedState* state = attached();
    JobSlot copy;
    {
        SharedLock lock(state);
        copy = state->jobs[index_];
    }
    if (copy.generation != generation_) return std::nullopt;
    return copy;
}

std::vector<JobSlot> JobSlotRef::readAll() {
    SharedState* state = attached();
    JobSlot copies[kJobSlots];
    {
        SharedLock lock(state);
        std::memcpy(copies, state->jobs, sizeof copies);
    }
    std::vector<JobSlot> inUse;
    for (const JobSlot& slot : copies)
        if (slot.state != JobState::Free) inUse.push_back(slot);
    std::sort(inUse.begin(), inUse.end(),
              [](const JobSlot& a, const JobSlot& b) { return a.generation < b.generation; });
    return inUse;
}

bool JobSlotRef::cancel(const std::string& label) {
    SharedState* state = attached();
    Latch* worker = nullptr;
    bool found = false;
    {
        SharedLock lock(state);
        for (JobSlot& slot : state->jobs) {
            if (unfinished(slot.state) && label == slot.label) {
                slot.cancelRequested = true;
                worker = slot.workerLatch;
                found = true;
                break;
            }
        }
    }
    if (worker != nullptr) SetLatch(worker);
    return found;
}

}  // namespace backrest::ext
