// A physical replication connection that receives WAL as the server flushes it, the way
// pg_receivewal does: IDENTIFY_SYSTEM, START_REPLICATION, XLogData and keepalive messages, and
// standby status replies. No replication slot: the stream only ever starts at the segment being
// written, which the server keeps until it is archived.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "pg/client.h"

namespace backrest::pg {

struct StreamedSystem {
    uint64_t systemId = 0;
    uint32_t timeline = 0;
    uint64_t flushLsn = 0;         // the server's flush position when asked
    uint32_t segmentSize = 0;      // wal_segment_size in bytes
    std::string synchronousNames;  // synchronous_standby_names
};

// WAL bytes starting at `start`; valid until the next receive().
struct WalChunk {
    uint64_t start = 0;
    std::span<const uint8_t> bytes;
};

class WalStream {
  public:
    // Connects with replication=true; DbError naming socket and port when it cannot.
    explicit WalStream(ConnectOptions options);
    ~WalStream();
    WalStream(const WalStream&) = delete;
    WalStream& operator=(const WalStream&) = delete;

    StreamedSystem identify();
    // START_REPLICATION PHYSICAL at `lsn` on `timeline`; DbError when the server refuses.
    void start(uint64_t lsn, uint32_t timeline);
    // The next WAL bytes, waiting at most timeoutMs; nullopt when none came in time. Keepalives
    // are answered inside. DbError when the stream ends (timeline switch, shutdown) or fails.
    std::optional<WalChunk> receive(int timeoutMs);
    // Tells the server how far WAL was received (pg_stat_replication's write_lsn). The flush
    // position stays invalid, as pg_receivewal leaves it without --synchronous: a shutting-down
    // walsender then waits only for the write position, which is answered at once.
    void reportPosition(uint64_t received);

  private:
    void freeMessage();

    Client client_;
    char* message_ = nullptr;  // the last message from PQgetCopyData
    uint64_t received_ = 0;
};

}  // namespace backrest::pg
