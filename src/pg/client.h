// A libpq connection with RAII and typed errors: what the CLI's backup and check need to drive
// a server (pg_backup_start/stop, settings, WAL switch).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

typedef struct pg_conn PGconn;

namespace backrest::pg {

struct ConnectOptions {
    std::string socketPath;  // host= (a directory), empty: libpq default
    int port = 5432;
    std::string user;  // empty: libpq default
    std::string database = "postgres";
    std::string applicationName = "backrest";
    bool replication = false;  // a physical replication connection (walsender), for WalStream
};

using Row = std::vector<std::optional<std::string>>;

class Client {
  public:
    explicit Client(const ConnectOptions& options);  // throws DbError naming host and port
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // Runs a query with text parameters; throws DbError with the server's message and the SQL.
    std::vector<Row> query(const std::string& sql, const std::vector<std::string>& params = {});
    // First column of the single row a query returns.
    std::string scalar(const std::string& sql, const std::vector<std::string>& params = {});
    const std::string& describe() const { return description_; }
    // The libpq connection, for the replication protocol (pg/wal_stream).
    PGconn* native() { return conn_; }

  private:
    PGconn* conn_ = nullptr;
    std::string description_;  // "socket /tmp port 5432" for messages
};

}  // namespace backrest::pg
