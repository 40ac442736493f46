// A drill's events for the daemon that runs it (serve's `drill` request, worker/serve_drill.h):
// one line each on the file descriptor the daemon names in kDrillProgressFdVariable; nothing
// when the variable is unset (a drill run from a shell or cron).
#pragma once

#include <string_view>

namespace backrest::cmd {

// Not BACKREST_*: those are options (common/config_env.h), and this is no option of the drill.
inline constexpr const char* kDrillProgressFdVariable = "_BACKREST_DRILL_PROGRESS_FD";

// "started <id>" (the drill holds its directory), "phase <name>", "error <code> <message>".
// A newline inside `event` is written as a space: one event, one line.
void drillProgress(std::string_view event);

}  // namespace backrest::cmd
