// libpq client used by the CLI.
#include "pg/client.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include "common/error.h"

namespace backrest::pg {

Client::Client(const ConnectOptions& o) {
    std::string port = std::to_string(o.port);
    std::vector<const char*> keys, values;
    auto add = [&](const char* k, const std::string& v) {
        if (!v.empty()) {
            keys.push_back(k);
            values.push_back(v.c_str());
        }
    };
    add("host", o.socketPath);
    add("port", port);
    add("user", o.user);
    add("dbname", o.database);
    add("application_name", o.applicationName);
    if (o.replication) {  // a literal: add() keeps pointers into its argument
        keys.push_back("replication");
        values.push_back("true");
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    description_ = fmt::format(
        "{}port {}", o.socketPath.empty() ? "" : fmt::format("socket {} ", o.socketPath), o.port);
    conn_ = PQconnectdbParams(keys.data(), values.data(), 0);
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
        std::string message = conn_ ? PQerrorMessage(conn_) : "out of memory";
        while (!message.empty() && message.back() == '\n') message.pop_back();
        if (conn_) PQfinish(conn_);
        conn_ = nullptr;
        raise(ErrorCode::Db,
              "unable to connect to PostgreSQL ({}): {}; check pg1-socket-path, pg1-port and "
              "pg1-user",
              description_, message);
    }
}

Client::~Client() {
    if (conn_) PQfinish(conn_);
}

std::vector<Row> Client::query(const std::string& sql, const std::vector<std::string>& params) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    std::unique_ptr<PGresult, decltype(&PQclear)> res(
        PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                     values.empty() ? nullptr : values.data(), nullptr, nullptr, 0),
        &PQclear);
    auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        std::string message = PQerrorMessage(conn_);
        while (!message.empty() && message.back() == '\n') message.pop_back();
        raise(ErrorCode::Db, "query failed on PostgreSQL ({}): {} [query: {}]", description_,
              message, sql);
    }
    std::vector<Row> rows;
    int n = PQntuples(res.get()), cols = PQnfields(res.get());
    rows.reserve(static_cast<size_t>(n));
    for (int r = 0; r < n; r++) {
        Row row;
        for (int c = 0; c < cols; c++) {
            if (PQgetisnull(res.get(), r, c))
                row.emplace_back(std::nullopt);
            else
                row.emplace_back(std::string(PQgetvalue(res.get(), r, c),
                                             static_cast<size_t>(PQgetlength(res.get(), r, c))));
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

std::string Client::scalar(const std::string& sql, const std::vector<std::string>& params) {
    auto rows = query(sql, params);
    if (rows.size() != 1 || rows[0].empty() || !rows[0][0])
        raise(ErrorCode::Db, "query returned {} rows where one value was expected [query: {}]",
              rows.size(), sql);
    return *rows[0][0];
}

}  // namespace backrest::pg
