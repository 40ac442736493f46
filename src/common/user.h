// Operating system users by id, for messages that say who owns what and who should run a command.
#pragma once

#include <sys/types.h>

#include <string>

namespace backrest {

// The user's name, or the id itself when it has none on this host. Thread-safe (getpwuid_r).
std::string userName(uid_t uid);

}  // namespace backrest
