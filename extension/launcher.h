// The launcher background worker that runs and watches the backrest daemon.
#pragma once

namespace backrest::ext {

// Registers the static launcher bgworker; _PG_init calls it while preloading.
void registerLauncher();

}  // namespace backrest::ext
