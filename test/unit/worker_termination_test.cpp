// TerminationWatch: a termination signal calls the stop function once and is remembered; a watch
// that saw none ends without one. Each case runs in a child process of its own, where the watch's
// thread and the test's are the only threads, so a process-directed signal cannot land in a
// thread another test left with it unblocked.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "common/error.h"
#include "worker/termination.h"

namespace backrest::cmd {
namespace {

// Runs `body` in a forked child; its return value is the child's exit status (0: all held).
int inChild(const std::function<int()>& body) {
    pid_t pid = ::fork();
    if (pid == 0) _exit(body());
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Waits (up to 30 s: a hang guard, not a speed check) until `done` holds.
bool waitFor(const std::function<bool()>& done) {
    for (int i = 0; i < 3000 && !done(); i++)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return done();
}

TEST(TerminationWatch, SignalCallsStopOnceAndIsRemembered) {
    int status = inChild([] {
        std::atomic<int> stops{0};
        TerminationWatch watch([&] { stops++; });
        if (watch.received()) return 1;
        ::kill(::getpid(), SIGTERM);
        if (!waitFor([&] { return stops.load() == 1; })) return 2;
        if (watch.received() != std::optional<std::string>("SIGTERM")) return 3;
        try {
            watch.raiseIfReceived("backup 20261206-120000F", "; it can be resumed");
            return 4;
        } catch (const Error& e) {
            if (e.code() != ErrorCode::Term) return 5;
            if (std::string(e.what()) !=
                "backup 20261206-120000F: terminated on signal SIGTERM; it can be resumed")
                return 6;
        }
        ::kill(::getpid(), SIGINT);  // a second signal: remembered, stop not called again
        if (!waitFor([&] { return watch.received() == std::optional<std::string>("SIGINT"); }))
            return 7;
        return stops.load() == 1 ? 0 : 8;
    });
    EXPECT_EQ(status, 0);
}

TEST(TerminationWatch, NoSignalEndsWithoutOne) {
    int status = inChild([] {
        std::atomic<int> stops{0};
        {
            TerminationWatch watch([&] { stops++; });
            if (watch.received()) return 1;
            watch.raiseIfReceived("backup");  // nothing to raise
        }
        return stops.load() == 0 ? 0 : 2;
    });
    EXPECT_EQ(status, 0);
}

}  // namespace
}  // namespace backrest::cmd
