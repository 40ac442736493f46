// The one place that includes PostgreSQL's backend headers, inside extern "C", so the rest of
// the extension sees one consistent set and no file repeats the C-linkage dance.
#pragma once

// Written for C, the headers trip two C++ warnings, silenced for them only: -Wregister
// (s_lock.h, atomics) and -Wunused-parameter (inline functions in ilist.h and bufpage.h).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wregister"
#pragma GCC diagnostic ignored "-Wunused-parameter"
// postgres.h must come first.
// clang-format off
extern "C" {
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "postmaster/pgarch.h"
#include "postmaster/postmaster.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/pmsignal.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/pg_lsn.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/wait_event.h"
}
// clang-format on
#pragma GCC diagnostic pop

// port.h renames printf-family functions to PostgreSQL's own (pg_snprintf, ...), which breaks
// std::snprintf and friends in C++ headers (nlohmann/json, fmt) included after this one. The
// extension's C++ code uses the C library's; ereport/elog format with PostgreSQL's own anyway.
#undef snprintf
#undef vsnprintf
#undef sprintf
#undef vsprintf
#undef fprintf
#undef vfprintf
#undef printf
#undef vprintf
#undef strerror
#undef strerror_r
