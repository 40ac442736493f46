// SQL from a background worker: statements through SPI in a short transaction of their own,
// committed before returning; results as C++ strings.
//
// No snapshot outlives the call: a backup's copy phase must not hold back the xmin horizon.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace backrest::ext {

using Row = std::vector<std::optional<std::string>>;  // nullopt for SQL NULL
using Rows = std::vector<Row>;

struct Statement {
    const char* sql;
    std::vector<std::string> params;  // text values of $1, $2, ...
};

// Runs the statements in order in a new transaction and commits it. On an error the transaction
// is aborted (the worker can go on, e.g. to pg_backup_stop) and the error thrown as a PgError.
std::vector<Rows> runInOwnTransaction(const std::vector<Statement>& statements);

}  // namespace backrest::ext
