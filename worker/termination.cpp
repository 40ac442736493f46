// The termination signals a long command turns into a clean stop and exit 63.
#include "worker/termination.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

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
    signals_.reset(::signalfd(-1, &set, SFD_CLOEXEC));
    if (!signals_.valid())
        raise(ErrorCode::Assert, "unable to watch for termination signals: {}", strerror(errno));
    wake_.reset(::eventfd(0, EFD_CLOEXEC));
    if (!wake_.valid())
        raise(ErrorCode::Assert, "unable to watch for termination signals: {}", strerror(errno));
    thread_ = std::thread([this] { wait(); });
}

TerminationWatch::~TerminationWatch() {
    // The thread sleeps in poll() on both descriptors: the event ends it at once. A thread that
    // polled a flag on a tick would keep every command waiting up to a tick to exit (with
    // 100 ms, 80 ms of a 0.6 s backup).
    const uint64_t one = 1;
    while (::write(wake_.get(), &one, sizeof one) < 0 && errno == EINTR) {
    }
    thread_.join();
    // Signals stay blocked: one that arrives from here on ends the command as pgBackRest's
    // would end then, at its exit (pending signals are discarded at exit; nothing is torn).
}

// Sleeps until a termination signal is pending for the process (signalfd) or the destructor
// ends the watch (eventfd).
void TerminationWatch::wait() {
    for (;;) {
        pollfd fds[2] = {{signals_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;  // cannot happen with two valid descriptors; the command goes on unwatched
        }
        if (fds[1].revents != 0) return;
        if ((fds[0].revents & POLLIN) == 0) continue;
        signalfd_siginfo info{};
        if (::read(signals_.get(), &info, sizeof info) != static_cast<ssize_t>(sizeof info))
            continue;
        int sig = static_cast<int>(info.ssi_signo);
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
