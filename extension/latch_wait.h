// Waiting as PostgreSQL expects of a backend or background worker: on the process latch, with
// a wait event, so a cancel (backrest_cancel's SetLatch, a query cancel, SIGTERM) is seen at
// once and pg_stat_activity shows the process waiting on "Extension".
#pragma once

#include <functional>

#include "protocol/connection.h"

namespace backrest::ext {

class LatchWait final : public protocol::SocketWait {
  public:
    // `check` runs before the first wait and after every latch wake (the latch reset first, as
    // latch.h asks); it throws to abandon the wait: a cancel flag, CHECK_FOR_INTERRUPTS.
    explicit LatchWait(std::function<void()> check) : check_(std::move(check)) {}

    // WaitLatchOrSocket on the socket; false after timeoutMs (-1: no limit). ProtocolError if
    // the postmaster dies meanwhile.
    bool ready(int fd, short events, int timeoutMs) override;
    // WaitLatch for `ms`, running `check` on every wake.
    void sleep(int ms) { (void)ready(-1, 0, ms); }

  private:
    std::function<void()> check_;
};

}  // namespace backrest::ext
