// Background closing of written files.
#include "storage/async_close.h"

namespace backrest::storage {

AsyncCloser::AsyncCloser(size_t threads, size_t maxPending) : maxPending_(maxPending) {
    for (size_t i = 0; i < threads; i++) threads_.emplace_back([this] { run(); });
}

AsyncCloser::~AsyncCloser() {
    {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return queue_.empty() && busy_ == 0; });
        stopping_ = true;
    }
    changed_.notify_all();
    for (auto& t : threads_) t.join();
}

void AsyncCloser::run() {
    for (;;) {
        std::unique_ptr<StorageWrite> file;
        {
            std::unique_lock lock(mutex_);
            changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;
            file = std::move(queue_.front());
            queue_.pop_front();
            busy_++;
        }
        std::exception_ptr error;
        try {
            file->close();
        } catch (...) {
            error = std::current_exception();
        }
        file.reset();  // a file that failed to close is removed by its destructor
        {
            std::lock_guard lock(mutex_);
            busy_--;
            if (error && !failure_) failure_ = error;
        }
        changed_.notify_all();
    }
}

void AsyncCloser::rethrowIfFailed() {
    if (failure_) std::rethrow_exception(failure_);
}

void AsyncCloser::close(std::unique_ptr<StorageWrite> file) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return queue_.size() < maxPending_ || failure_; });
    rethrowIfFailed();
    queue_.push_back(std::move(file));
    lock.unlock();
    changed_.notify_all();
}

void AsyncCloser::finish() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return queue_.empty() && busy_ == 0; });
    rethrowIfFailed();
}

}  // namespace backrest::storage
