// SPI in a background worker's own transaction. The PostgreSQL part works on C arrays inside
// one pgCall; only then are the results turned into C++ strings.
#include "spi_query.h"

#include "common/error.h"
#include "pg.h"
#include "pg_guard.h"

namespace backrest::ext {

namespace {

constexpr int kMaxStatements = 4;
constexpr int kMaxParams = 4;

struct CStatement {
    const char* sql;
    int nparams;
    const char* params[kMaxParams];
};

struct CResult {
    uint64 rows;
    int columns;
    char** cells;  // rows x columns, NULL for SQL NULL; in resultContext
};

// Holds the results between commit and their copy into C++; reset before each use.
MemoryContext resultContext = nullptr;

// PostgreSQL calls only (runs inside pgCall): nothing here may need a destructor.
void executeInTransaction(const CStatement* statements, int count, CResult* results) {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "backrest: SPI_connect failed");
    PushActiveSnapshot(GetTransactionSnapshot());
    for (int i = 0; i < count; i++) {
        const CStatement& statement = statements[i];
        pgstat_report_activity(STATE_RUNNING, statement.sql);
        Oid types[kMaxParams];
        Datum values[kMaxParams];
        for (int p = 0; p < statement.nparams; p++) {
            types[p] = TEXTOID;
            values[p] = CStringGetTextDatum(statement.params[p]);
        }
        int rc = SPI_execute_with_args(statement.sql, statement.nparams, types, values, nullptr,
                                       false, 0);
        if (rc != SPI_OK_SELECT)
            elog(ERROR, "backrest: \"%s\" returned %s", statement.sql, SPI_result_code_string(rc));
        TupleDesc desc = SPI_tuptable->tupdesc;
        MemoryContext spiContext = MemoryContextSwitchTo(resultContext);
        results[i].rows = SPI_processed;
        results[i].columns = desc->natts;
        results[i].cells =
            static_cast<char**>(palloc0(sizeof(char*) * (SPI_processed * desc->natts + 1)));
        for (uint64 r = 0; r < SPI_processed; r++)
            for (int c = 0; c < desc->natts; c++)
                results[i].cells[r * desc->natts + c] =
                    SPI_getvalue(SPI_tuptable->vals[r], desc, c + 1);
        MemoryContextSwitchTo(spiContext);
    }
    SPI_finish();
    PopActiveSnapshot();
    CommitTransactionCommand();
    pgstat_report_activity(STATE_IDLE, nullptr);
}

}  // namespace

std::vector<Rows> runInOwnTransaction(const std::vector<Statement>& statements) {
    int count = static_cast<int>(statements.size());
    if (count > kMaxStatements)
        raise(ErrorCode::Assert, "runInOwnTransaction: {} statements, at most {}", count,
              kMaxStatements);
    CStatement cStatements[kMaxStatements] = {};
    CResult results[kMaxStatements] = {};
    for (int i = 0; i < count; i++) {
        const Statement& s = statements[i];
        if (s.params.size() > kMaxParams)
            raise(ErrorCode::Assert, "'{}': too many parameters", s.sql);
        cStatements[i].sql = s.sql;
        cStatements[i].nparams = static_cast<int>(s.params.size());
        for (size_t p = 0; p < s.params.size(); p++) cStatements[i].params[p] = s.params[p].c_str();
    }
    pgCall([] {
        if (resultContext == nullptr)
            resultContext = AllocSetContextCreate(TopMemoryContext, "backrest query results",
                                                  ALLOCSET_DEFAULT_SIZES);
        MemoryContextReset(resultContext);
    });
    try {
        pgCall([&] { executeInTransaction(cStatements, count, results); });
    } catch (const PgError&) {
        // Leaves the worker outside any transaction, consistent again, so it can carry on.
        pgCall([] {
            AbortCurrentTransaction();
            pgstat_report_activity(STATE_IDLE, nullptr);
        });
        throw;
    }
    std::vector<Rows> out(count);
    for (int i = 0; i < count; i++) {
        for (uint64 r = 0; r < results[i].rows; r++) {
            Row row;
            for (int c = 0; c < results[i].columns; c++) {
                const char* cell = results[i].cells[r * results[i].columns + c];
                row.push_back(cell != nullptr ? std::optional<std::string>(cell) : std::nullopt);
            }
            out[i].push_back(std::move(row));
        }
    }
    return out;
}

}  // namespace backrest::ext
