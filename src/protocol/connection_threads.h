// A protocol server's connections (backrest serve's), one thread each, owned here rather than
// detached: what they use outlives them, and stopping wakes each connection and joins it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <thread>

#include "protocol/connection.h"

namespace backrest::protocol {

class ConnectionThreads {
  public:
    using Serve = std::function<void(Connection&)>;

    explicit ConnectionThreads(Serve serve) : serve_(std::move(serve)) {}
    // Stops (wakes and joins) every connection still served; stop() first to bound the wait.
    ~ConnectionThreads();
    ConnectionThreads(const ConnectionThreads&) = delete;
    ConnectionThreads& operator=(const ConnectionThreads&) = delete;

    // Serves `connection` on a thread of its own; joins the threads of connections that ended.
    void start(Connection connection);

    // Wakes every connection (shutdown(2) of its socket: a wait for the next request ends, a
    // backup's hangup watch cancels the backup) and waits up to graceMs (-1: no limit) for
    // their threads to end. False when some still run: the caller must then end the process
    // without destroying what they use (std::_Exit), as they may use it until they return.
    bool stop(int graceMs);

    // Connections being served now.
    size_t running();

  private:
    struct Entry {
        uint64_t id;
        int fd;  // -1 once the thread is done with its connection (the fd may be reused)
        std::thread thread;
    };

    void finished(uint64_t id);
    void joinFinished(std::unique_lock<std::mutex>& lock);

    Serve serve_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::list<Entry> entries_;
    uint64_t nextId_ = 1;
    bool stopping_ = false;
};

}  // namespace backrest::protocol
