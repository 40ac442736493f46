// A queue of items handled on threads of its own, for work that waits on the disk: closing
// written files (fsync, rename: storage/async_close.h) and writing restored frames with O_DIRECT
// (repo/frame_writer.h). Those threads sleep in the kernel, so they are not in the CPU budget
// (common/executor.h); handing them the wait lets the budget's threads go on computing. The
// first failure of a handler is kept and rethrown to the producer, by push() and by finish().
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

namespace backrest {

template <typename Item>
class BackgroundQueue {
  public:
    // Runs on a queue thread; a failure is what it throws. The item is destroyed after it returns.
    using Handler = std::function<void(Item&)>;

    // `threads` handling threads (at least one); at most `maxPending` items wait to be taken.
    BackgroundQueue(size_t threads, Handler handler,
                    size_t maxPending = std::numeric_limits<size_t>::max())
        : handler_(std::move(handler)), maxPending_(std::max<size_t>(maxPending, 1)) {
        try {
            for (size_t i = 0; i < std::max<size_t>(threads, 1); i++)
                threads_.emplace_back([this] { run(); });
        } catch (...) {
            stop();  // the destructor does not run for a constructor that throws
            throw;
        }
    }
    // Without finish(): waits for the queued items (they may refer to what their producers still
    // hold), then stops. An error path is unwinding: a failure is dropped.
    ~BackgroundQueue() {
        {
            std::unique_lock lock(mutex_);
            changed_.wait(lock, [&] { return queue_.empty() && busy_ == 0; });
        }
        stop();
    }
    BackgroundQueue(const BackgroundQueue&) = delete;
    BackgroundQueue& operator=(const BackgroundQueue&) = delete;

    // Queues the item; waits while maxPending items wait. Raises the first failure of an earlier
    // item instead, leaving `item` unmoved (its producer still owns it).
    void push(Item&& item) {
        {
            std::unique_lock lock(mutex_);
            changed_.wait(lock, [&] { return queue_.size() < maxPending_ || failure_; });
            if (failure_) std::rethrow_exception(failure_);
            queue_.push_back(std::move(item));
        }
        changed_.notify_all();
    }
    // Waits until every queued item is handled; rethrows the first failure.
    void finish() {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return queue_.empty() && busy_ == 0; });
        if (failure_) std::rethrow_exception(failure_);
    }

  private:
    void run() {
        for (;;) {
            std::exception_ptr error;
            {
                std::unique_lock lock(mutex_);
                changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
                if (queue_.empty()) return;
                Item item = std::move(queue_.front());
                queue_.pop_front();
                busy_++;
                lock.unlock();
                try {
                    handler_(item);
                } catch (...) {
                    error = std::current_exception();
                }
            }  // the item goes here, before the busy count drops: finish() sees it gone
            {
                std::lock_guard lock(mutex_);
                busy_--;
                if (error && !failure_) failure_ = error;
            }
            changed_.notify_all();
        }
    }
    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        changed_.notify_all();
        for (auto& t : threads_) t.join();
        threads_.clear();
    }

    Handler handler_;
    size_t maxPending_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<Item> queue_;
    size_t busy_ = 0;
    bool stopping_ = false;
    std::exception_ptr failure_;
    std::vector<std::thread> threads_;
};

}  // namespace backrest
