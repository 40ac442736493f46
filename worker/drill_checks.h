// The checks a restore drill runs on its recovered cluster, database by database: amcheck's
// bt_index_check on every btree index and verify_heapam on every heap, a row count per table,
// and the page checksum failures PostgreSQL counted. The pieces that turn the server's answers
// into named failures are declared here for their unit tests.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "pg/client.h"
#include "repo/drill_record.h"

namespace backrest::cmd {

// The server's own message in a DbError's text ("query failed on PostgreSQL (...): ERROR:  x
// [query: ...]" -> "x"): what a failure shows, without the SQL backrest sent.
std::string serverMessage(const std::string& errorText);

// verify_heapam's rows (blkno, offnum, attnum, msg) for one heap as one failure: the first few
// corruptions with their block and offset, and how many more; nullopt when there are none.
std::optional<repo::DrillFailure> heapFailure(const std::string& database,
                                              const std::string& relation,
                                              const std::vector<pg::Row>& rows);

// pg_stat_database's rows (datname, checksum_failures) as failures, one per database with a
// failure counted; `total` gets their sum.
std::vector<repo::DrillFailure> checksumFailures(const std::vector<pg::Row>& rows, uint64_t& total);

// A failure line as printed and shown by info: database "bench", relation
// "public.pgbench_accounts_pkey": bt_index_check: <message>.
std::string describeFailure(const repo::DrillFailure& f);

// Connects to every database that takes connections through `base` (its socket and port) and
// runs the checks, adding counts, row counts and failures to `record`. A check that cannot run
// (amcheck missing, a relation it cannot open) is a failure naming it, never a pass.
void runDrillChecks(const pg::ConnectOptions& base, repo::DrillRecord& record);

}  // namespace backrest::cmd
