// Stop files: their names and the check commands make before they start.
#include "repo/stop_file.h"

#include <sys/stat.h>

#include "common/error.h"

namespace backrest::repo {

namespace {

bool exists(const std::string& path) {
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

std::string stopFile(const std::string& lockPath, const std::optional<std::string>& stanza) {
    return lockPath + "/" + (stanza ? *stanza : std::string("all")) + ".stop";
}

std::optional<std::string> activeStopFile(const std::string& lockPath,
                                          const std::optional<std::string>& stanza) {
    if (stanza && exists(stopFile(lockPath, stanza))) return stopFile(lockPath, stanza);
    if (exists(stopFile(lockPath, std::nullopt))) return stopFile(lockPath, std::nullopt);
    return std::nullopt;
}

void requireNotStopped(const std::string& lockPath, const std::optional<std::string>& stanza,
                       const std::string& command) {
    auto file = activeStopFile(lockPath, stanza);
    if (!file) return;
    bool all = *file == stopFile(lockPath, std::nullopt);
    raise(ErrorCode::Lock,
          "{}: stop file exists for {} ({}); run 'backrest{} start' to allow backrest to run again",
          command, all ? std::string("all stanzas") : "stanza " + *stanza, *file,
          all ? "" : " --stanza=" + *stanza);
}

}  // namespace backrest::repo
