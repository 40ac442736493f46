// The termination signals a long command turns into a clean stop and exit 63.
#include "worker/termination.h"

#include <signal.h>
#include <string.h>

#include <ctime>

#include "common/error.h"

namespace backrest::cmd {

namespace {

sigset_t terminationSignals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    return set;
}

}  // namespace

TerminationWatch::TerminationWatch(std::function<void()> stop) : stop_(std::move(stop)) {
    sigset_t set = terminationSignals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    thread_ = std::thread([this] { wait(); });
}

TerminationWatch::~TerminationWatch() {
    done_ = true;
    thread_.join();
    // Signals stay blocked: one that arrives from here on ends the command as pgBackRest's
    // would end then, at its exit (pending signals are discarded at exit; nothing is torn).
}

// Polled (sigtimedwait) so the destructor can end the thread without sending it a signal.
void TerminationWatch::wait() {
    sigset_t set = terminationSignals();
    while (!done_) {
        timespec tick{0, 100 * 1000 * 1000};
        int sig = sigtimedwait(&set, nullptr, &tick);
        if (sig <= 0) continue;
        if (signal_.exchange(sig) == 0 && stop_) stop_();
    }
}

std::optional<std::string> TerminationWatch::received() const {
    int sig = signal_.load();
    if (sig == 0) return std::nullopt;
    return std::string("SIG") + sigabbrev_np(sig);
}

void TerminationWatch::raiseIfReceived(const std::string& what, const std::string& hint) const {
    if (auto sig = received())
        raise(ErrorCode::Term, "{}: terminated on signal {}{}", what, *sig, hint);
}

}  // namespace backrest::cmd
