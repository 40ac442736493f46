// Runs jobs in parallel. The first failure stops the hand-out of new jobs and is rethrown in the
// caller once every running job has returned, so no job outlives the call and no error is lost.
// runParallel is for CPU work, on the shared executor (common/executor.h): `threads` (process-max)
// bounds it, the caller works too, and a call nested in a job borrows only idle workers (the
// caller does the rest), so nesting never multiplies threads. runBlocking is for jobs that wait
// on the disk or the network (fsync of many directories): threads of its own, that spend their
// time asleep, so they do not take the CPU budget.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/executor.h"

namespace backrest {

namespace detail {

// The jobs of one call, taken in order by every thread that runs them.
class JobLoop {
  public:
    JobLoop(size_t jobCount, const std::function<void(size_t)>& job)
        : jobCount_(jobCount), job_(job) {}
    void operator()() {
        while (!failed_) {
            size_t index = next_++;
            if (index >= jobCount_) return;
            try {
                job_(index);
            } catch (...) {
                std::lock_guard lock(errorMutex_);
                if (!firstError_) firstError_ = std::current_exception();
                failed_ = true;
            }
        }
    }
    void rethrowIfFailed() {
        if (firstError_) std::rethrow_exception(firstError_);
    }

  private:
    std::atomic<size_t> next_{0};
    std::atomic<bool> failed_{false};
    std::exception_ptr firstError_;
    std::mutex errorMutex_;
    size_t jobCount_;
    const std::function<void(size_t)>& job_;
};

}  // namespace detail

inline void runParallel(size_t threads, size_t jobCount, const std::function<void(size_t)>& job) {
    threads = std::max<size_t>(1, std::min(threads, jobCount));
    detail::JobLoop loop(jobCount, job);
    auto& executor = Executor::shared();
    executor.reserve(threads);
    std::vector<Executor::Handle> helpers;
    for (size_t i = 1; i < threads; i++) helpers.push_back(executor.submit([&loop] { loop(); }));
    loop();
    // A helper no worker started runs here and finds no job left: it returns at once.
    for (auto& helper : helpers) executor.wait(helper);
    loop.rethrowIfFailed();
}

inline void runBlocking(size_t threads, size_t jobCount, const std::function<void(size_t)>& job) {
    threads = std::max<size_t>(1, std::min(threads, jobCount));
    detail::JobLoop loop(jobCount, job);
    std::vector<std::thread> pool;
    for (size_t i = 1; i < threads; i++) pool.emplace_back([&loop] { loop(); });
    loop();
    for (auto& t : pool) t.join();
    loop.rethrowIfFailed();
}

}  // namespace backrest
