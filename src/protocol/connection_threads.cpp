// Tracked connection threads of a protocol server (backrest serve).
#include "protocol/connection_threads.h"

#include <sys/socket.h>

#include <chrono>

namespace backrest::protocol {

ConnectionThreads::~ConnectionThreads() {
    stop(-1);
}

void ConnectionThreads::start(Connection connection) {
    std::unique_lock lock(mutex_);
    joinFinished(lock);
    if (stopping_) return;  // the connection closes here, unanswered, like one never accepted
    uint64_t id = nextId_++;
    Entry& entry = entries_.emplace_back(Entry{id, connection.fd(), {}});
    entry.thread = std::thread([this, id, c = std::move(connection)]() mutable {
        try {
            serve_(c);
        } catch (...) {
            // serve_ reports its own failures; nothing may escape a thread (std::terminate).
        }
        // Unregistered before `c` closes its fd (when this closure is destroyed), so stop()
        // never shuts down a descriptor number already reused for something else.
        finished(id);
    });
}

void ConnectionThreads::finished(uint64_t id) {
    std::lock_guard lock(mutex_);
    for (Entry& e : entries_)
        if (e.id == id) e.fd = -1;
    changed_.notify_all();
}

// Under the lock: joins threads that are done with their connection (each is then at most
// closing its socket, so the join is immediate).
void ConnectionThreads::joinFinished(std::unique_lock<std::mutex>& lock) {
    std::list<Entry> done;
    for (auto it = entries_.begin(); it != entries_.end();) {
        auto next = std::next(it);
        if (it->fd < 0) done.splice(done.end(), entries_, it);
        it = next;
    }
    lock.unlock();
    for (Entry& e : done) e.thread.join();
    lock.lock();
}

bool ConnectionThreads::stop(int graceMs) {
    std::unique_lock lock(mutex_);
    stopping_ = true;
    for (const Entry& e : entries_)
        if (e.fd >= 0) ::shutdown(e.fd, SHUT_RDWR);
    auto allDone = [this] {
        for (const Entry& e : entries_)
            if (e.fd >= 0) return false;
        return true;
    };
    if (graceMs < 0)
        changed_.wait(lock, allDone);
    else if (!changed_.wait_for(lock, std::chrono::milliseconds(graceMs), allDone))
        return false;
    joinFinished(lock);
    return true;
}

size_t ConnectionThreads::running() {
    std::lock_guard lock(mutex_);
    size_t n = 0;
    for (const Entry& e : entries_)
        if (e.fd >= 0) n++;
    return n;
}

}  // namespace backrest::protocol
