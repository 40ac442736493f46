// The checks of a restore drill (worker/drill_checks.h).
#include "worker/drill_checks.h"

#include <fmt/format.h>

#include "common/error.h"
#include "common/log.h"

namespace backrest::cmd {

namespace {

// How many of a heap's corruptions a failure lists before "and N more".
constexpr size_t kListedCorruptions = 3;

// Every btree index ready to be checked, every relation with a heap (tables, materialized
// views, TOAST tables), every table rows are counted in (the user's: not the catalogs).
// Temporary relations belong to sessions that no longer exist.
constexpr const char* kIndexQuery =
    "SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_index i "
    "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE a.amname = 'btree' AND i.indisready AND i.indisvalid AND c.relpersistence <> 't' "
    "ORDER BY 2";
constexpr const char* kHeapQuery =
    "SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'm', 't') AND c.relpersistence <> 't' ORDER BY 2";
constexpr const char* kTableQuery =
    "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind = 'r' AND c.relpersistence <> 't' "
    "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast' "
    "ORDER BY 1";

std::string value(const pg::Row& row, size_t column) {
    return column < row.size() && row[column] ? *row[column] : "";
}

struct DatabaseChecker {
    pg::Client& db;
    const std::string& name;
    repo::DrillRecord& record;

    void fail(const std::string& relation, const std::string& check, const std::string& message) {
        record.failures.push_back({name, relation, check, message});
        logWarn("drill: {}", describeFailure(record.failures.back()));
    }

    // amcheck ships with PostgreSQL's contrib; a host without it cannot check anything.
    bool createAmcheck() {
        try {
            db.query("CREATE EXTENSION IF NOT EXISTS amcheck");
            return true;
        } catch (const Error& e) {
            fail("", "CREATE EXTENSION amcheck",
                 serverMessage(e.what()) +
                     " (install PostgreSQL's contrib modules, e.g. the postgresql-15 package, "
                     "on the drill host)");
            return false;
        }
    }

    void checkIndexes() {
        for (const auto& row : db.query(kIndexQuery)) {
            record.btreeIndexes++;
            try {
                db.query("SELECT bt_index_check($1::oid::regclass, false)", {value(row, 0)});
            } catch (const Error& e) {
                fail(value(row, 1), "bt_index_check", serverMessage(e.what()));
            }
        }
    }

    void checkHeaps() {
        for (const auto& row : db.query(kHeapQuery)) {
            record.heaps++;
            try {
                auto found = db.query(
                    "SELECT blkno, offnum, attnum, msg FROM verify_heapam($1::oid::regclass)",
                    {value(row, 0)});
                if (auto failure = heapFailure(name, value(row, 1), found)) {
                    record.failures.push_back(*failure);
                    logWarn("drill: {}", describeFailure(*failure));
                }
            } catch (const Error& e) {
                fail(value(row, 1), "verify_heapam", serverMessage(e.what()));
            }
        }
    }

    void countRows() {
        // The rows of the heap, not of an index: a damaged index (reported above) must not
        // answer, or crash the server answering.
        for (const char* scan : {"enable_indexscan", "enable_indexonlyscan", "enable_bitmapscan"})
            db.query(fmt::format("SET {} = off", scan));
        for (const auto& row : db.query(kTableQuery)) {
            record.tables++;
            std::string table = value(row, 0);
            try {
                // The name comes quoted from quote_ident above.
                auto rows = db.scalar("SELECT count(*) FROM ONLY " + table);
                record.rowCounts.push_back({name, table, std::stoll(rows)});
            } catch (const Error& e) {
                fail(table, "count(*)", serverMessage(e.what()));
            }
        }
    }
};

}  // namespace

std::string serverMessage(const std::string& errorText) {
    std::string out = errorText;
    if (auto query = out.rfind(" [query: "); query != std::string::npos) out.erase(query);
    if (auto open = out.find("query failed on PostgreSQL ("); open != std::string::npos)
        if (auto close = out.find("): ", open); close != std::string::npos) out.erase(0, close + 3);
    for (std::string_view prefix : {"ERROR:  ", "FATAL:  "})
        if (out.starts_with(prefix)) out.erase(0, prefix.size());
    // libpq ends a message with its DETAIL and CONTEXT lines: one line is shown.
    for (auto& c : out)
        if (c == '\n') c = ' ';
    return out;
}

std::optional<repo::DrillFailure> heapFailure(const std::string& database,
                                              const std::string& relation,
                                              const std::vector<pg::Row>& rows) {
    if (rows.empty()) return std::nullopt;
    std::string message;
    for (size_t i = 0; i < rows.size() && i < kListedCorruptions; i++) {
        const auto& r = rows[i];
        message += fmt::format("{}block {}", i ? "; " : "", value(r, 0));
        if (!value(r, 1).empty()) message += ", offset " + value(r, 1);
        if (!value(r, 2).empty()) message += ", attribute " + value(r, 2);
        message += ": " + value(r, 3);
    }
    if (rows.size() > kListedCorruptions)
        message += fmt::format("; and {} more", rows.size() - kListedCorruptions);
    return repo::DrillFailure{database, relation, "verify_heapam", message};
}

std::vector<repo::DrillFailure> checksumFailures(const std::vector<pg::Row>& rows,
                                                 uint64_t& total) {
    std::vector<repo::DrillFailure> out;
    total = 0;
    for (const auto& r : rows) {
        uint64_t count = 0;
        try {
            count = std::stoull(value(r, 1));
        } catch (const std::exception&) {
            continue;  // null: the counter is not kept (data checksums off)
        }
        if (count == 0) continue;
        total += count;
        // A shared relation's failures are counted under no database (datname null).
        out.push_back({value(r, 0), "", "page checksum",
                       fmt::format("{} page checksum failure{} counted by PostgreSQL", count,
                                   count == 1 ? "" : "s")});
    }
    return out;
}

std::string describeFailure(const repo::DrillFailure& f) {
    std::string where =
        f.database.empty() ? "shared relations" : fmt::format("database \"{}\"", f.database);
    if (!f.relation.empty()) where += fmt::format(", relation {}", f.relation);
    return fmt::format("{}: {}: {}", where, f.check, f.message);
}

void runDrillChecks(const pg::ConnectOptions& base, repo::DrillRecord& record) {
    std::vector<std::string> databases;
    {
        pg::ConnectOptions options = base;
        options.database = "template1";  // every cluster has it; postgres may have been dropped
        pg::Client first(options);
        for (const auto& row :
             first.query("SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1"))
            databases.push_back(value(row, 0));
    }
    for (const auto& name : databases) {
        pg::ConnectOptions options = base;
        options.database = name;
        pg::Client db(options);
        record.databases++;
        DatabaseChecker checker{db, name, record};
        if (checker.createAmcheck()) {
            checker.checkIndexes();
            checker.checkHeaps();
        }
        checker.countRows();
    }
    // After every page has been read: the failures PostgreSQL counted while reading them.
    pg::ConnectOptions options = base;
    options.database = "template1";
    pg::Client db(options);
    for (auto& failure :
         checksumFailures(db.query("SELECT datname, checksum_failures FROM pg_stat_database"),
                          record.checksumFailures))
        record.failures.push_back(std::move(failure));
}

}  // namespace backrest::cmd
