// Background closing of written files.
#include "storage/async_close.h"

namespace backrest::storage {

// A file that failed to close is removed by its destructor, once the queue drops it.
AsyncCloser::AsyncCloser(size_t threads, size_t maxPending)
    : queue_(
          threads, [](std::unique_ptr<StorageWrite>& file) { file->close(); }, maxPending) {}

AsyncCloser::~AsyncCloser() = default;

void AsyncCloser::close(std::unique_ptr<StorageWrite> file) {
    queue_.push(std::move(file));
}

void AsyncCloser::finish() {
    queue_.finish();
}

}  // namespace backrest::storage
