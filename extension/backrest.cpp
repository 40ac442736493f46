// The backrest extension's entry points. This file grows into the bgworkers, the archive
// module and the SQL interface; today it proves the PGXS C++ build and loads in a server.
extern "C" {
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(backrest_version);
}

#include "common/version.h"

extern "C" Datum backrest_version(PG_FUNCTION_ARGS) {
    (void)fcinfo;
    PG_RETURN_TEXT_P(cstring_to_text(backrest::kVersion));
}
