// The process's one pool of threads for CPU work: compression, decompression, checksums. Its
// size is the thread budget (process-max): the outermost caller of runParallel sets it, and the
// callers count in it (a caller works too, so the pool holds budget - 1 threads). A thread that
// waits for a task no worker has started runs the task itself, so a task that hands out tasks
// and waits for them (runParallel inside runParallel, the frames of one large file, a SHA-256
// beside its read) never waits for a thread the budget does not have, and nesting never
// multiplies threads. Waits for the disk or the network are not CPU work and have threads of
// their own (common/background_queue.h, runBlocking in common/parallel.h): doc/threads.md.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace backrest {

class Executor {
  public:
    struct Task;
    using Handle = std::shared_ptr<Task>;

    // The pool every command shares. Never destroyed: a thread still running at exit (a command
    // that failed and calls exit) must not find the pool's mutex gone.
    static Executor& shared();

    Executor() = default;
    // Waits for the running tasks, drops the queued ones (their waiters must be gone), joins.
    ~Executor();
    Executor(const Executor&) = delete;
    Executor& operator=(const Executor&) = delete;

    // Grows the pool to threads - 1 workers (the caller is the last of the budget). A call from
    // one of the pool's own threads does nothing: a nested request shares the outer budget.
    void reserve(size_t threads);
    // Queues `work` for the first idle worker.
    Handle submit(std::function<void()> work);
    // Returns once the task has run, running it on this thread when no worker has started it;
    // rethrows what it threw. Call it once per task (a task is not dropped unwaited).
    void wait(const Handle& task);
    // Runs the task on this thread if no worker has started it, and says whether it did; its
    // exception waits for wait(). For a waiter with other queued tasks of its own: it helps with
    // one of them instead of sleeping while a worker finishes the one it waits for.
    bool runIfQueued(const Handle& task);
    // Whether the task has run (then wait() returns at once).
    bool finished(const Handle& task) const;
    // For an error path: drops the task if no worker started it, else waits for it to end.
    // Never throws; what the task threw is dropped.
    void abandon(const Handle& task) noexcept;
    // Whether the calling thread is one of this pool's workers.
    bool onWorker() const;
    size_t workers() const;

  private:
    void workerLoop();
    static void run(Task& task);

    mutable std::mutex mutex_;
    std::condition_variable queued_;  // a task was queued, or the pool stops
    std::condition_variable done_;    // a task finished
    std::deque<Handle> queue_;
    std::vector<std::thread> threads_;
    bool stopping_ = false;
};

}  // namespace backrest
