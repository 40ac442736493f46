// The drill job's bgworker side (extension/drill_job.h).
#include "drill_job.h"

#include <fmt/format.h>

#include <string>

#include "common/error.h"
#include "daemon_client.h"
#include "pg_guard.h"
#include "protocol/messages.h"

namespace backrest::ext {

void runDrillJob(const JobSlotRef& job) {
    std::string id;
    // Between daemon messages. Hanging up (the session's end, when this raises) makes the daemon
    // send the drill SIGTERM: it stops its server and removes its directory.
    auto checkStillWanted = [&job, &id] {
        std::string which = id.empty() ? std::string("(starting)") : id;
        if (job.cancelRequested())
            raise(ErrorCode::Cancelled, "drill {} cancelled by backrest_cancel()", which);
        if (ShutdownRequestPending)
            raise(ErrorCode::Cancelled,
                  "drill {} cancelled: the drill's worker was asked to stop (server shutdown or "
                  "pg_terminate_backend)",
                  which);
        checkForInterrupts();
    };
    DaemonSession daemon("drill", checkStillWanted);
    std::optional<JobSlot> slot = job.read();
    protocol::Drill request;
    if (slot) {
        if (slot->drillSet[0] != '\0') request.set = slot->drillSet;
        if (slot->drillTargetType[0] != '\0') request.targetType = slot->drillTargetType;
        if (slot->drillTarget[0] != '\0') request.target = slot->drillTarget;
        if (slot->repo != 0) request.repo = slot->repo;
    }
    // No idle timeout: a restore or a recovery says nothing for as long as it takes; a cancel
    // or a shutdown still ends the wait at once.
    protocol::DrillReply reply = daemon.call(request, -1, [&](const Message& message) {
        auto progress = protocol::DrillProgress::fromMessage(message);
        if (progress.id) {
            id = *progress.id;
            job.setLabel(id, 0);
            report(LOG, fmt::format("backrest: drill {} started", id));
        }
        job.setPhase(progress.phase.c_str());
    });
    job.finish(JobState::Done);
    report(LOG, fmt::format("backrest: drill {} of backup {} passed", reply.id, reply.backup));
}

}  // namespace backrest::ext
