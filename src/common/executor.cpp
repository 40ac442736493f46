// The shared pool of worker threads and its "run it yourself if nobody started it" wait.
#include "common/executor.h"

#include <algorithm>

namespace backrest {

struct Executor::Task {
    enum class State { Queued, Running, Done };
    std::function<void()> work;
    State state = State::Queued;
    std::exception_ptr error;
};

namespace {
thread_local const Executor* currentPool = nullptr;  // the pool whose worker this thread is
}  // namespace

Executor& Executor::shared() {
    static Executor* pool = new Executor;  // leaked on purpose: see the header
    return *pool;
}

Executor::~Executor() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        queue_.clear();
    }
    queued_.notify_all();
    for (auto& t : threads_) t.join();
}

void Executor::reserve(size_t threads) {
    if (onWorker() || threads < 2) return;
    std::lock_guard lock(mutex_);
    while (threads_.size() < threads - 1) threads_.emplace_back([this] { workerLoop(); });
}

Executor::Handle Executor::submit(std::function<void()> work) {
    auto task = std::make_shared<Task>();
    task->work = std::move(work);
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(task);
    }
    queued_.notify_one();
    return task;
}

void Executor::run(Task& task) {
    try {
        task.work();
    } catch (...) {
        task.error = std::current_exception();
    }
    task.work = nullptr;  // what it captured goes now, not with the last handle
}

void Executor::workerLoop() {
    currentPool = this;
    std::unique_lock lock(mutex_);
    for (;;) {
        queued_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        Handle task = std::move(queue_.front());
        queue_.pop_front();
        task->state = Task::State::Running;
        lock.unlock();
        run(*task);
        lock.lock();
        task->state = Task::State::Done;
        done_.notify_all();
    }
}

bool Executor::runIfQueued(const Handle& task) {
    {
        std::lock_guard lock(mutex_);
        if (task->state != Task::State::Queued) return false;
        queue_.erase(std::find(queue_.begin(), queue_.end(), task));
        task->state = Task::State::Running;
    }
    run(*task);
    {
        std::lock_guard lock(mutex_);
        task->state = Task::State::Done;
    }
    done_.notify_all();
    return true;
}

void Executor::wait(const Handle& task) {
    // Nobody took it: this thread is the one free to run it (and waiting for a worker could wait
    // for a thread busy with the very task that waits here).
    if (!runIfQueued(task)) {
        std::unique_lock lock(mutex_);
        done_.wait(lock, [&] { return task->state == Task::State::Done; });
    }
    if (task->error) std::rethrow_exception(task->error);
}

bool Executor::finished(const Handle& task) const {
    std::lock_guard lock(mutex_);
    return task->state == Task::State::Done;
}

void Executor::abandon(const Handle& task) noexcept {
    std::unique_lock lock(mutex_);
    if (task->state == Task::State::Queued) {
        queue_.erase(std::find(queue_.begin(), queue_.end(), task));
        task->state = Task::State::Done;
        task->work = nullptr;
        return;
    }
    done_.wait(lock, [&] { return task->state == Task::State::Done; });
}

bool Executor::onWorker() const {
    return currentPool == this;
}

size_t Executor::workers() const {
    std::lock_guard lock(mutex_);
    return threads_.size();
}

}  // namespace backrest
