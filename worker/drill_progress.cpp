// The drill's event lines for the daemon (worker/drill_progress.h).
#include "worker/drill_progress.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace backrest::cmd {

namespace {

int progressFd() {
    static const int fd = [] {
        const char* value = std::getenv(kDrillProgressFdVariable);
        if (value == nullptr) return -1;
        char* end = nullptr;
        long n = std::strtol(value, &end, 10);
        if (end == value || *end != '\0' || n <= 2 || n >= 1024) return -1;
        // The drill's server and pg_ctl must not hold the daemon's pipe open: the daemon reads
        // until every writer is gone.
        if (::fcntl(static_cast<int>(n), F_SETFD, FD_CLOEXEC) != 0) return -1;
        return static_cast<int>(n);
    }();
    return fd;
}

}  // namespace

void drillProgress(std::string_view event) {
    int fd = progressFd();
    if (fd < 0) return;
    std::string line(event);
    for (char& c : line)
        if (c == '\n' || c == '\r') c = ' ';
    line += '\n';
    // One write: the daemon reads whole lines. A daemon gone (EPIPE: the daemon starts the drill
    // with SIGPIPE ignored) does not stop the drill, which still cleans up and records.
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n <= 0) return;
        p += n;
        left -= static_cast<size_t>(n);
    }
}

}  // namespace backrest::cmd
