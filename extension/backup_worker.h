// The backup background worker, started by backrest_backup(): one backup per worker, its
// state in one job slot.
#pragma once

#include "job_slots.h"
#include "pg.h"

namespace backrest::ext {

// Registers a dynamic bgworker for the job in `job`, connecting to `database` as `role` and
// notifying this backend when it starts and stops. False when no bgworker slot is free.
bool registerBackupWorker(const JobSlotRef& job, Oid database, Oid role,
                          BackgroundWorkerHandle** handle);

}  // namespace backrest::ext
