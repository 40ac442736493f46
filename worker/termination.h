// SIGTERM, SIGINT and SIGHUP during a long command (a DBA's Ctrl-C, systemd stopping a unit, a
// closed terminal): as pgBackRest, the command stops cleanly and exits 63 ("terminated on
// signal"), rather than dying wherever the signal lands. While a TerminationWatch lives, those
// signals are blocked in every thread and a thread of its own waits for them: it calls the
// given stop function once (a backup cancels its copy within a buffer, leaving the interrupted
// backup resumable) and remembers which signal came.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "storage/owned_fd.h"

namespace backrest::cmd {

class TerminationWatch {
  public:
    // Must be made before the command starts other threads: they inherit the blocked mask.
    explicit TerminationWatch(std::function<void()> stop);
    ~TerminationWatch();
    TerminationWatch(const TerminationWatch&) = delete;
    TerminationWatch& operator=(const TerminationWatch&) = delete;

    // The signal received ("SIGTERM"), if one was.
    std::optional<std::string> received() const;
    // Raises TermError (exit 63) naming `what` and the signal, then `hint`, when one was received.
    void raiseIfReceived(const std::string& what, const std::string& hint = "") const;

  private:
    void wait();

    std::function<void()> stop_;
    std::atomic<int> signal_{0};
    storage::Fd signals_;  // signalfd of SIGTERM, SIGINT and SIGHUP
    storage::Fd wake_;     // eventfd: written by the destructor to end the thread
    std::thread thread_;
};

}  // namespace backrest::cmd
