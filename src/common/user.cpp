// User names by id (common/user.h).
#include "common/user.h"

#include <pwd.h>

namespace backrest {

std::string userName(uid_t uid) {
    struct passwd pw {};
    struct passwd* found = nullptr;
    char buffer[1024];
    if (getpwuid_r(uid, &pw, buffer, sizeof buffer, &found) == 0 && found) return found->pw_name;
    return std::to_string(uid);
}

}  // namespace backrest
