// Background closing of written files.
#include "storage/async_close.h"

namespace backrest::storage {

// A file that failed to close is removed by its destructor, once the queue drops it.
AsyncCloser::AsyncCloser(size_t threads, size_t maxPending)
    : queue_(
          threads,
          [](Pending& pending) {
              pending.file->close();
              if (pending.closed) pending.closed();
          },
          maxPending) {}

AsyncCloser::~AsyncCloser() = default;

void AsyncCloser::close(std::unique_ptr<StorageWrite> file, std::function<void()> closed) {
    queue_.push(Pending{std::move(file), std::move(closed)});
}

void AsyncCloser::finish() {
    queue_.finish();
}

}  // namespace backrest::storage
