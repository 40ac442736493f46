// Closes written files on background threads. Closing is where a file becomes durable (fsync,
// rename, directory fsync) and where the writer waits for the disk; handing that wait to other
// threads lets the copying threads go on decompressing and checksumming the next files. The
// caller still learns of every failure: finish() waits for all closes and rethrows the first.
#pragma once

#include <functional>
#include <memory>

#include "common/background_queue.h"
#include "storage/storage.h"

namespace backrest::storage {

class AsyncCloser {
  public:
    // `threads` closing threads; at most `maxPending` files wait (each holds an open descriptor).
    explicit AsyncCloser(size_t threads = 2, size_t maxPending = 64);
    // Without finish(): waits for the queued closes, then discards (an error path is unwinding).
    ~AsyncCloser();
    AsyncCloser(const AsyncCloser&) = delete;
    AsyncCloser& operator=(const AsyncCloser&) = delete;

    // Queues a file whose bytes are all written; blocks while maxPending files wait. Raises the
    // first failure of an earlier close, so a failing disk stops the copy early. `closed`, when
    // given, runs on the closing thread once the file is durable (never if its close failed);
    // what it throws is a failure like a close's.
    void close(std::unique_ptr<StorageWrite> file, std::function<void()> closed = {});
    // Waits until every queued file is closed; rethrows the first failure.
    void finish();

  private:
    struct Pending {
        std::unique_ptr<StorageWrite> file;
        std::function<void()> closed;
    };
    BackgroundQueue<Pending> queue_;
};

}  // namespace backrest::storage
