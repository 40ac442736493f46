// Runs jobs on `threads` threads (process-max). The first failure stops the hand-out of new
// jobs and is rethrown in the caller once every running job has returned, so no thread
// outlives the call and no error is lost.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace backrest {

inline void runParallel(size_t threads, size_t jobCount, const std::function<void(size_t)>& job) {
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr firstError;
    std::mutex errorMutex;
    auto worker = [&] {
        while (!failed) {
            size_t index = next++;
            if (index >= jobCount) return;
            try {
                job(index);
            } catch (...) {
                std::lock_guard lock(errorMutex);
                if (!firstError) firstError = std::current_exception();
                failed = true;
            }
        }
    };
    threads = std::max<size_t>(1, std::min(threads, jobCount));
    std::vector<std::thread> pool;
    for (size_t i = 1; i < threads; i++) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    if (firstError) std::rethrow_exception(firstError);
}

}  // namespace backrest
