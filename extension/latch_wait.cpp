// The latch wait behind every wait for the daemon (extension/daemon_client.cpp).
#include "latch_wait.h"

#include <poll.h>

#include <algorithm>
#include <chrono>

#include "common/error.h"
#include "pg_guard.h"

namespace backrest::ext {

namespace {

using Clock = std::chrono::steady_clock;

// A wake consumed here may have been meant for the caller's own loop as well (the archiver's
// main loop learns of a shutdown request from its latch): set the latch again on the way out,
// so the caller sees it. The cost is one spurious wake of the next wait.
class RestoreWake {
  public:
    ~RestoreWake() {
        if (consumed) SetLatch(MyLatch);
    }
    bool consumed = false;
};

}  // namespace

bool LatchWait::ready(int fd, short events, int timeoutMs) {
    auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs < 0 ? 0 : timeoutMs);
    int wakeOn = WL_LATCH_SET | WL_POSTMASTER_DEATH | (timeoutMs >= 0 ? WL_TIMEOUT : 0);
    if (fd >= 0) wakeOn |= (events & POLLOUT) != 0 ? WL_SOCKET_WRITEABLE : WL_SOCKET_READABLE;
    RestoreWake restore;
    for (;;) {
        if (check_) check_();
        long remainingMs = -1;
        if (timeoutMs >= 0)
            remainingMs = std::max<long>(
                0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now())
                       .count());
        int rc = pgCall(
            [&] { return WaitLatchOrSocket(MyLatch, wakeOn, fd, remainingMs, PG_WAIT_EXTENSION); });
        if ((rc & WL_POSTMASTER_DEATH) != 0)
            raise(ErrorCode::Protocol, "the postmaster died while waiting for the backrest daemon");
        if ((rc & (WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE)) != 0) return true;
        if ((rc & WL_LATCH_SET) != 0) {
            pgCall([] { ResetLatch(MyLatch); });
            restore.consumed = true;
            continue;  // check_ runs again before the next wait
        }
        if ((rc & WL_TIMEOUT) != 0) return false;
    }
}

}  // namespace backrest::ext
