// The library's entry: _PG_init defines the GUCs and, when preloaded, requests the shared
// memory and registers the launcher. Also backrest_version(), the smallest SQL function.
#include "common/version.h"
#include "launcher.h"
#include "pg.h"
#include "pg_guard.h"
#include "settings.h"
#include "shared_state.h"

extern "C" {
PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);
PG_FUNCTION_INFO_V1(backrest_version);
}

// PostgreSQL calls only and no C++ object: an ereport here longjmps through nothing to unwind.
void _PG_init(void) {
    using namespace backrest::ext;
    defineSettings(process_shared_preload_libraries_in_progress);
    // Loaded later (CREATE EXTENSION, archive_library alone) there is no launcher, no shared
    // memory and no daemon; the SQL functions then say how to fix it.
    if (!process_shared_preload_libraries_in_progress) return;
    setPreloaded();
    requestSharedState();
    registerLauncher();
}

Datum backrest_version(PG_FUNCTION_ARGS) {
    (void)fcinfo;
    return backrest::ext::pgEntry("backrest_version()", [] {
        return backrest::ext::pgCall([] { return CStringGetTextDatum(backrest::kVersion); });
    });
}
