// serve's `drill` request: `backrest drill` run as a process of the daemon for the extension's
// drill job (backrest_drill(), a `drill` entry of backrest.schedule). The daemon is no child
// of the postmaster (the launcher's fork outlives it), so neither is the drill nor the
// throwaway server it starts: a server shutdown reaches the drill only as a SIGTERM from here,
// when the job's bgworker hangs up, and the drill then stops its server and removes its
// directory as after a Ctrl-C.
#pragma once

#include <functional>
#include <string>

#include "protocol/messages.h"

namespace backrest::cmd {

// Where the daemon's drill gets its options: the configuration file and stanza the daemon was
// started with (drill-path, drill-port and the repositories come from there, as for the CLI).
struct DrillLaunch {
    std::string configFile;
    std::string stanza;
    std::string pgPath;
};

// Runs the drill to its end. Each event is passed to `progress`; a hang-up of `clientFd` (the
// job's bgworker gone: backrest_cancel(), server shutdown) sends the drill SIGTERM, and its
// end is still waited for. Returns when the drill passed; otherwise raises its error, with its
// code (a drill that could not take its directory, a damaged file, a check that failed...).
protocol::DrillReply runDrill(const DrillLaunch& launch, const protocol::Drill& request,
                              int clientFd,
                              const std::function<void(const protocol::DrillProgress&)>& progress);

}  // namespace backrest::cmd
