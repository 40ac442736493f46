// The streaming replication protocol over libpq (see PostgreSQL's protocol-replication docs).
#include "pg/wal_stream.h"

#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "common/error.h"
#include "pg/wal.h"

namespace backrest::pg {

namespace {

uint64_t readBigEndian(const char* p, size_t bytes) {
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; i++) v = v << 8 | static_cast<uint8_t>(p[i]);
    return v;
}

void writeBigEndian(char* p, uint64_t v, size_t bytes) {
    for (size_t i = 0; i < bytes; i++) p[i] = static_cast<char>(v >> (8 * (bytes - 1 - i)));
}

// Microseconds since 2000-01-01, the protocol's clock.
uint64_t protocolNow() {
    constexpr int64_t kEpochDifference = 946684800;  // 2000-01-01 in Unix seconds
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    return static_cast<uint64_t>(us - kEpochDifference * 1000000);
}

std::string lastError(PGconn* conn) {
    std::string message = PQerrorMessage(conn);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return message;
}

// "16MB" -> bytes.
uint32_t parseSize(const std::string& text) {
    size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) digits++;
    if (digits == 0) raise(ErrorCode::Db, "unexpected wal_segment_size '{}'", text);
    uint64_t value = std::stoull(text.substr(0, digits));
    std::string unit = text.substr(digits);
    if (unit == "kB")
        value <<= 10;
    else if (unit == "MB")
        value <<= 20;
    else if (unit == "GB")
        value <<= 30;
    else if (!unit.empty() && unit != "B")
        raise(ErrorCode::Db, "unexpected wal_segment_size '{}'", text);
    return static_cast<uint32_t>(value);
}

// A replication connection speaks only the simple query protocol (PQexec, not PQexecParams).
std::vector<std::vector<std::string>> simpleQuery(PGconn* conn, const std::string& sql,
                                                  const std::string& where) {
    std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(conn, sql.c_str()), &PQclear);
    if (!res || PQresultStatus(res.get()) != PGRES_TUPLES_OK)
        raise(ErrorCode::Db, "{} on PostgreSQL ({}) failed: {}", sql, where, lastError(conn));
    std::vector<std::vector<std::string>> rows;
    for (int r = 0; r < PQntuples(res.get()); r++) {
        rows.emplace_back();
        for (int c = 0; c < PQnfields(res.get()); c++)
            rows.back().emplace_back(PQgetvalue(res.get(), r, c));
    }
    return rows;
}

}  // namespace

WalStream::WalStream(ConnectOptions options)
    : client_([&] {
          options.replication = true;
          return options;
      }()) {}

WalStream::~WalStream() {
    freeMessage();
}

void WalStream::freeMessage() {
    if (message_) PQfreemem(message_);
    message_ = nullptr;
}

StreamedSystem WalStream::identify() {
    StreamedSystem s;
    PGconn* conn = client_.native();
    auto rows = simpleQuery(conn, "IDENTIFY_SYSTEM", client_.describe());
    if (rows.size() != 1 || rows[0].size() < 3)
        raise(ErrorCode::Db, "IDENTIFY_SYSTEM on PostgreSQL ({}) returned an unexpected result",
              client_.describe());
    s.systemId = std::stoull(rows[0][0]);
    s.timeline = static_cast<uint32_t>(std::stoul(rows[0][1]));
    s.flushLsn = parseLsn(rows[0][2]);
    auto one = [&](const std::string& sql) {
        auto r = simpleQuery(conn, sql, client_.describe());
        if (r.size() != 1 || r[0].empty())
            raise(ErrorCode::Db, "{} on PostgreSQL ({}) returned an unexpected result", sql,
                  client_.describe());
        return r[0][0];
    };
    s.segmentSize = parseSize(one("SHOW wal_segment_size"));
    s.synchronousNames = one("SHOW synchronous_standby_names");
    return s;
}

void WalStream::start(uint64_t lsn, uint32_t timeline) {
    std::string command =
        fmt::format("START_REPLICATION PHYSICAL {} TIMELINE {}", formatLsn(lsn), timeline);
    std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(client_.native(), command.c_str()),
                                                      &PQclear);
    if (!res || PQresultStatus(res.get()) != PGRES_COPY_BOTH)
        raise(ErrorCode::Db, "{} on PostgreSQL ({}) failed: {}", command, client_.describe(),
              lastError(client_.native()));
    received_ = lsn;
}

std::optional<WalChunk> WalStream::receive(int timeoutMs) {
    PGconn* conn = client_.native();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    for (;;) {
        freeMessage();
        int n = PQgetCopyData(conn, &message_, /*async=*/1);
        if (n == 0) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return std::nullopt;
            pollfd p{PQsocket(conn), POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR)
                raiseErrno(ErrorCode::Db, "unable to wait for WAL from", client_.describe());
            if (PQconsumeInput(conn) == 0)
                raise(ErrorCode::Db, "WAL stream from PostgreSQL ({}) failed: {}",
                      client_.describe(), lastError(conn));
            continue;
        }
        if (n == -1) {
            // End of the stream: a timeline switch or the server stopping.
            std::unique_ptr<PGresult, decltype(&PQclear)> res(PQgetResult(conn), &PQclear);
            raise(ErrorCode::Db, "WAL stream from PostgreSQL ({}) ended{}", client_.describe(),
                  res && PQresultStatus(res.get()) == PGRES_FATAL_ERROR ? ": " + lastError(conn)
                                                                        : "");
        }
        if (n < 0)
            raise(ErrorCode::Db, "WAL stream from PostgreSQL ({}) failed: {}", client_.describe(),
                  lastError(conn));
        size_t length = static_cast<size_t>(n);
        if (message_[0] == 'w' && length >= 25) {
            uint64_t start = readBigEndian(message_ + 1, 8);
            WalChunk chunk{start, {reinterpret_cast<const uint8_t*>(message_ + 25), length - 25}};
            received_ = start + chunk.bytes.size();
            return chunk;
        }
        if (message_[0] == 'k' && length >= 18) {
            if (message_[17] != 0) reportPosition(received_);
            continue;
        }
        raise(ErrorCode::Db,
              "WAL stream from PostgreSQL ({}) sent an unknown message '{}' of {} bytes",
              client_.describe(), message_[0], length);
    }
}

void WalStream::reportPosition(uint64_t received) {
    received_ = received;
    char reply[34];
    reply[0] = 'r';
    writeBigEndian(reply + 1, received, 8);  // written
    writeBigEndian(reply + 9, 0, 8);         // flushed: invalid (see the header)
    writeBigEndian(reply + 17, 0, 8);        // applied: nothing is replayed here
    writeBigEndian(reply + 25, protocolNow(), 8);
    reply[33] = 0;  // no reply requested
    PGconn* conn = client_.native();
    if (PQputCopyData(conn, reply, sizeof(reply)) <= 0 || PQflush(conn) != 0)
        raise(ErrorCode::Db, "unable to send the WAL position to PostgreSQL ({}): {}",
              client_.describe(), lastError(conn));
}

}  // namespace backrest::pg
