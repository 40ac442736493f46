// The executor and runParallel on it: the thread budget holds under nesting (no thread is made
// for a nested call), a task no worker started runs on its waiter, failures reach the caller,
// and nested jobs that wait for one another finish.
#include <dirent.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/executor.h"
#include "common/parallel.h"
#include "test/unit/test_support.h"

namespace backrest {
namespace {

size_t liveThreads() {
    size_t n = 0;
    DIR* dir = ::opendir("/proc/self/task");
    if (dir == nullptr) return 0;
    while (auto* entry = ::readdir(dir))
        if (entry->d_name[0] != '.') n++;
    ::closedir(dir);
    return n;
}

// Highest number of jobs running at once, and of threads alive meanwhile.
struct Peak {
    std::atomic<size_t> running{0}, maxRunning{0}, maxThreads{0};
    void enter() {
        size_t now = ++running;
        size_t seen = maxRunning.load();
        while (now > seen && !maxRunning.compare_exchange_weak(seen, now)) {
        }
        size_t threads = liveThreads();
        seen = maxThreads.load();
        while (threads > seen && !maxThreads.compare_exchange_weak(seen, threads)) {
        }
    }
    void leave() { --running; }
};

TEST(Executor, NestedRunParallelMakesNoThreadAndKeepsTheBudget) {
    Executor::shared().reserve(3);
    const size_t before = liveThreads();
    const size_t budget = Executor::shared().workers() + 1;  // the workers and this caller
    Peak peak;
    std::atomic<size_t> done{0};
    runParallel(3, 6, [&](size_t) {
        runParallel(3, 6, [&](size_t) {
            peak.enter();
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            peak.leave();
            done++;
        });
    });
    EXPECT_EQ(done.load(), 36u);
    EXPECT_LE(peak.maxThreads.load(), before);  // three levels of 3 did not make 27 threads
    EXPECT_LE(peak.maxRunning.load(), budget);
    EXPECT_GE(peak.maxRunning.load(), 2u);  // and the workers did take part
}

TEST(Executor, TaskNoWorkerStartedRunsOnItsWaiter) {
    Executor pool;  // no worker: every task runs where it is waited for
    const auto caller = std::this_thread::get_id();
    std::thread::id ranOn;
    auto task = pool.submit([&] { ranOn = std::this_thread::get_id(); });
    EXPECT_FALSE(pool.finished(task));
    pool.wait(task);
    EXPECT_TRUE(pool.finished(task));
    EXPECT_EQ(ranOn, caller);
}

TEST(Executor, WaitRethrowsWhatTheTaskThrew) {
    Executor pool;
    pool.reserve(2);
    auto task = pool.submit([] { raise(ErrorCode::FileMissing, "frame 7 of 'base/1/1259'"); });
    auto e = test::errorOf([&] { pool.wait(task); });
    EXPECT_EQ(e.code(), ErrorCode::FileMissing);
    EXPECT_TRUE(test::has(e.what(), "frame 7 of 'base/1/1259'")) << e.what();
}

// A task on the only worker hands out a task and waits for it: no worker is free, so it runs
// the inner task itself instead of waiting for a thread the budget does not have.
TEST(Executor, TaskWaitingForItsOwnTaskOnAFullPoolDoesNotDeadlock) {
    Executor pool;
    pool.reserve(2);
    ASSERT_EQ(pool.workers(), 1u);
    std::thread::id outerOn, innerOn;
    auto outer = pool.submit([&] {
        outerOn = std::this_thread::get_id();
        auto inner = pool.submit([&] { innerOn = std::this_thread::get_id(); });
        pool.wait(inner);
    });
    pool.wait(outer);
    EXPECT_EQ(innerOn, outerOn);
}

TEST(Executor, AbandonDropsATaskNoWorkerStarted) {
    Executor pool;
    bool ran = false;
    auto task = pool.submit([&] { ran = true; });
    pool.abandon(task);
    EXPECT_FALSE(ran);
    EXPECT_TRUE(pool.finished(task));
}

TEST(RunParallel, FirstFailureReachesTheCallerAndStopsTheHandOut) {
    std::atomic<size_t> started{0};
    auto e = test::errorOf([&] {
        runParallel(2, 1000, [&](size_t job) {
            started++;
            if (job == 3) raise(ErrorCode::Checksum, "job {} failed", job);
            // The other thread must not run out of jobs before the failure is noticed: trivial
            // jobs let it take all 1000 while the failing thread unwinds (under load, once in a
            // few runs); at a millisecond each it would need a second.
            if (job > 3) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        });
    });
    EXPECT_EQ(e.code(), ErrorCode::Checksum);
    EXPECT_STREQ(e.what(), "job 3 failed");
    EXPECT_LT(started.load(), 1000u);
}

TEST(RunParallel, NestedFailureReachesTheOuterCaller) {
    auto e = test::errorOf([&] {
        runParallel(2, 4, [&](size_t outer) {
            runParallel(2, 4, [&](size_t inner) {
                if (outer == 2 && inner == 1) raise(ErrorCode::Format, "inner {}.{}", outer, inner);
            });
        });
    });
    EXPECT_EQ(e.code(), ErrorCode::Format);
    EXPECT_STREQ(e.what(), "inner 2.1");
}

// As a restore's frames: inside each outer job, inner job k waits until job k - 1 has finished.
// Jobs are handed out in order only to threads that run them, so the wait always ends.
TEST(RunParallel, NestedJobsWaitingForEarlierOnesFinish) {
    Executor::shared().reserve(2);
    std::atomic<size_t> finished{0};
    runParallel(2, 4, [&](size_t) {
        std::mutex mutex;
        std::condition_variable changed;
        size_t doneUpTo = 0;  // jobs [0, doneUpTo) have finished
        runParallel(2, 16, [&](size_t k) {
            std::unique_lock lock(mutex);
            changed.wait(lock, [&] { return doneUpTo == k; });
            doneUpTo = k + 1;
            changed.notify_all();
            finished++;
        });
    });
    EXPECT_EQ(finished.load(), 64u);
}

TEST(RunBlocking, RunsEveryJobOnThreadsOfItsOwn) {
    std::mutex mutex;
    std::set<std::thread::id> ids;
    std::atomic<size_t> running{0}, maxRunning{0};
    runBlocking(4, 8, [&](size_t) {
        size_t now = ++running;
        size_t seen = maxRunning.load();
        while (now > seen && !maxRunning.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // as an fsync waits
        --running;
        std::lock_guard lock(mutex);
        ids.insert(std::this_thread::get_id());
    });
    EXPECT_EQ(maxRunning.load(), 4u);  // four waits at once, whatever the CPU budget
    EXPECT_EQ(ids.size(), 4u);
}

}  // namespace
}  // namespace backrest
