// With archive-async, the daemon works ahead of the archiver: it receives WAL over a physical
// replication connection as the server flushes it, hashes and compresses it into a local spool file
// (spool-path) as it arrives, and stores each segment the moment its last byte is flushed. When the
// archiver asks for that segment, it is usually durable already, so archive_library's callback
// returns at once instead of reading, compressing and syncing 16 MiB.
//
// The file in pg_wal stays the reference: a segment the stream did not complete (a reconnect, a
// server restart, a stream that fell behind) is pushed from pg_wal as without a stream. The
// stream's bytes are the file's bytes (the walsender reads them from it), so a streamed segment
// and a pushed one are identical and de-duplicate.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <thread>

#include "pg/client.h"
#include "repo/file_lock.h"
#include "repo/layout.h"
#include "repo/streamed_segment.h"
#include "repo/wal_archive.h"
#include "storage/storage.h"
#include "worker/archive_pusher.h"

namespace backrest::cmd {

struct StreamerSettings {
    pg::ConnectOptions connect;
    storage::Storage* repo = nullptr;
    repo::Layout layout;
    repo::PushOptions push;                     // push.spoolPath: where segments are gathered
    std::optional<repo::LockOwner> spoolOwner;  // given spool-path when root creates it
    std::string lockPath;  // while a stop file (repo/stop_file.h) exists, no segment is begun
};

class WalStreamer {
  public:
    WalStreamer(StreamerSettings settings, ArchivePusher& pusher);
    ~WalStreamer();  // stops the stream; an unfinished segment is not stored

  private:
    void run();
    void streamOnce();

    StreamerSettings s_;
    ArchivePusher& pusher_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace backrest::cmd
