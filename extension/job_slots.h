// The backup jobs in shared memory: a backend hands a slot to the bgworker it starts, the
// bgworker reports label, phase, progress and outcome in it, backrest_status() lists them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "shared_state.h"

namespace backrest::ext {

const char* jobStateName(JobState state);

// A drill job's type; every other type is a backup's.
inline constexpr const char* kDrillJobType = "drill";
bool isDrillJob(const JobSlot& slot);

// One slot, as long as its generation is unchanged: a handle never writes into a slot that
// was handed to a later job.
class JobSlotRef {
  public:
    JobSlotRef(int index, uint32 generation) : index_(index), generation_(generation) {}
    int index() const { return index_; }
    uint32 generation() const { return generation_; }

    // A slot for a new job of `type` into repository `repo` (0: the daemon's first): a free one,
    // else the one that finished longest ago. SqlError when a job of the same kind is already
    // running (a backup while a backup runs, a drill while a drill runs: a drill only reads the
    // repository, so one may run beside a backup) or no slot has finished.
    static JobSlotRef allocate(const char* type, int repo, Latch* requester);

    // The drill's --set, --type and --target (empty: not given), before its worker starts.
    void setDrillRequest(const std::string& set, const std::string& targetType,
                         const std::string& target) const;

    // The bgworker claims its slot; false when it is no longer the job's.
    bool attach(pid_t pid, Latch* workerLatch) const;
    // The label and repository are known: the job is running, and the backend waiting for it
    // is woken.
    void setLabel(const std::string& label, int repo) const;
    void setPhase(const char* phase) const;
    void setProgress(uint64 bytesTotal, uint64 bytesDone, uint64 filesTotal,
                     uint64 filesDone) const;
    // Ends the job (Done, Failed, Cancelled) unless it has ended already; false in that case.
    bool finish(JobState state, const char* error = nullptr) const;
    bool cancelRequested() const;
    // The slot's content; nullopt once it belongs to another job.
    std::optional<JobSlot> read() const;

    // Every slot in use, in start order.
    static std::vector<JobSlot> readAll();
    // Sets the cancel flag of the unfinished job labelled `label` and wakes its worker; false
    // when no unfinished job has that label.
    static bool cancel(const std::string& label);

  private:
    int index_;
    uint32 generation_;
};

}  // namespace backrest::ext
