// A restore drill as a job (backrest_drill(), a `drill` entry of backrest.schedule): its
// bgworker asks the daemon to run `backrest drill` and relays the drill's id and phases into
// its job slot. The drill is the daemon's process, not the server's (worker/serve_drill.h).
#pragma once

#include "job_slots.h"

namespace backrest::ext {

// Runs in the job's bgworker; returns when the drill passed, raises its error otherwise.
void runDrillJob(const JobSlotRef& job);

}  // namespace backrest::ext
