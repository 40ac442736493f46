// The check a command that writes the repository or feeds PostgreSQL WAL makes before it starts
// (pgBackRest's lockStopTest): LockAcquireError (29) naming the stop file
// `backrest stop` left in lock-path: the host-wide lock a stop is.
#pragma once

#include <string>

#include "common/config.h"

namespace backrest::cmd {

void requireNotStopped(const Config& config, const std::string& command);

}  // namespace backrest::cmd
