// backrest_schedule(): backrest.schedule's entries as the launcher runs them (extension/
// schedule.h), from shared memory: when each runs next, and how its last run went.
#include <optional>
#include <string>

#include "pg.h"
#include "pg_guard.h"
#include "settings.h"
#include "shared_state.h"
#include "sql_support.h"

extern "C" {
PG_FUNCTION_INFO_V1(backrest_schedule);
}

namespace backrest::ext {

namespace {

std::optional<std::string> nonEmpty(const char* text) {
    return text[0] != '\0' ? std::optional<std::string>(text) : std::nullopt;
}

std::optional<TimestampTz> nonZero(TimestampTz t) {
    return t != 0 ? std::optional<TimestampTz>(t) : std::nullopt;
}

Datum listSchedule(FunctionCallInfo fcinfo) {
    requirePreloaded("backrest_schedule()");
    ScheduleStatus status = scheduleStatus();
    ResultRows rows(fcinfo);
    for (int i = 0; i < status.count && i < kScheduleSlots; i++) {
        const ScheduleSlot& slot = status.entries[i];
        rows.integer(i + 1)
            .text(std::string(slot.type))
            .text(std::string(slot.when))
            .text(std::string(slot.state))
            .timestamp(nonZero(slot.nextRun))
            .timestamp(nonZero(slot.lastRun))
            .text(nonEmpty(slot.lastLabel))
            .text(nonEmpty(slot.lastResult))
            .text(nonEmpty(slot.lastDetail))
            .text(nonEmpty(status.note))
            .endRow();
    }
    return Datum(0);
}

}  // namespace

}  // namespace backrest::ext

using namespace backrest::ext;

Datum backrest_schedule(PG_FUNCTION_ARGS) {
    return pgEntry("backrest_schedule()", [&] { return listSchedule(fcinfo); });
}
