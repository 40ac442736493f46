// Probing a stanza lock without taking it.
#include "repo/lock_probe.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace backrest::repo {

bool flockListedFor(const std::string& procLocks, unsigned major, unsigned minor,
                    unsigned long inode) {
    std::istringstream lines(procLocks);
    std::string line;
    // Major and minor are printed in hex by the kernel (fs/locks.c: "%02x:%02x:%lu").
    char wanted[64];
    std::snprintf(wanted, sizeof wanted, "%02x:%02x:%lu", major, minor, inode);
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string n, kind, mode, access, pid, where;
        // A waiting request is listed as "-> FLOCK ...": it holds nothing.
        if (!(fields >> n >> kind) || kind != "FLOCK") continue;
        if (fields >> mode >> access >> pid >> where && where == wanted) return true;
    }
    return false;
}

bool stanzaLockHeld(const std::string& lockPath, const std::string& stanza,
                    const std::string& kind) {
    std::string file = lockPath + "/" + stanza + "-" + kind + ".lock";
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return false;
    std::ifstream procLocks("/proc/locks");
    if (procLocks) {
        std::stringstream text;
        text << procLocks.rdbuf();
        return flockListedFor(text.str(), ::major(st.st_dev), ::minor(st.st_dev), st.st_ino);
    }
    std::ifstream holder(file);
    long pid = 0;
    if (!(holder >> pid) || pid <= 0) return false;  // emptied on release
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

}  // namespace backrest::repo
