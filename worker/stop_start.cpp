// stop and start: a stop file in lock-path keeps backrest's writing commands from starting on
// this host (repo/stop_file.h), as pgBackRest's; stop --force also ends those running now.
#include "worker/stop_start.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

#include "common/error.h"
#include "common/log.h"
#include "repo/file_lock.h"
#include "repo/stop_file.h"
#include "storage/owned_fd.h"
#include "worker/commands.h"
#include "worker/context.h"

namespace backrest::cmd {

namespace {

std::optional<std::string> stanzaOption(const Config& config) {
    return config.find(opt::stanza);
}

std::string whom(const std::optional<std::string>& stanza) {
    return stanza ? "stanza " + *stanza : "all stanzas";
}

// The stanza locks (repo/lock.h: <stanza>-backup.lock, <stanza>-archive.lock) whose holders stop
// --force ends: the lock file holds the holder's pid while it is held.
bool isStanzaLockOf(const std::string& name, const std::optional<std::string>& stanza) {
    for (const char* kind : {"-backup.lock", "-archive.lock"}) {
        if (stanza ? name == *stanza + kind
                   : name.ends_with(kind) && name.size() > std::strlen(kind))
            return true;
    }
    return false;
}

// The pid holding `file`, or nullopt when nobody does (we could take it ourselves).
std::optional<pid_t> lockHolderPid(const std::string& file) {
    storage::Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return std::nullopt;
    if (::flock(fd.get(), LOCK_SH | LOCK_NB) == 0) return std::nullopt;
    char buf[32] = {0};
    ssize_t n = ::pread(fd.get(), buf, sizeof buf - 1, 0);
    if (n <= 0) return std::nullopt;
    try {
        return static_cast<pid_t>(std::stoi(std::string(buf, static_cast<size_t>(n))));
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// SIGTERM to every process holding a stanza lock of `stanza` (all stanzas: every one).
void terminateRunning(const std::string& lockPath, const std::optional<std::string>& stanza) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(lockPath, ec)) {
        std::string name = entry.path().filename().string();
        if (!isStanzaLockOf(name, stanza)) continue;
        auto pid = lockHolderPid(entry.path().string());
        if (!pid) continue;
        if (*pid <= 1 || *pid == ::getpid() || ::kill(*pid, SIGTERM) != 0)
            logWarn("stop: unable to send term signal to process {} (lock file {})", *pid,
                    entry.path().string());
        else
            logInfo("stop: sent term signal to process {} (lock file {})", *pid,
                    entry.path().string());
    }
}

}  // namespace

void requireNotStopped(const Config& config, const std::string& command) {
    repo::requireNotStopped(config.getString(opt::lockPath), stanzaOption(config), command);
}

int stop(const Config& config) {
    std::string lockPath = config.getString(opt::lockPath);
    auto stanza = stanzaOption(config);
    std::string file = repo::stopFile(lockPath, stanza);
    // lstat, as the check commands make (repo/stop_file.h): a link counts as a stop file.
    if (std::filesystem::exists(std::filesystem::symlink_status(file))) {
        logWarn("stop file already exists for {}", whom(stanza));
        // pgBackRest 2.45 only warns here, so a DBA who ran stop, then saw a backup still
        // running and ran stop --force, had it keep running: --force ends them in any case.
        if (config.getBool(opt::force)) terminateRunning(lockPath, stanza);
        return 0;
    }
    repo::ensureLockDirectory(lockPath, lockOwner(config));
    // O_EXCL: never through a link planted in lock-path (root would create, then give to the
    // repository's owner, whatever file it names).
    storage::Fd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640));
    if (fd.get() < 0) raiseErrno(ErrorCode::FileOpen, "stop: unable to create stop file", file);
    if (auto owner = lockOwner(config)) {
        // A stop file root creates must be removable by the repository's owner's start.
        if (::fchown(fd.get(), owner->uid, owner->gid) != 0) {
        }
    }
    if (::fsync(fd.get()) != 0) raiseErrno(ErrorCode::FileWrite, "stop: unable to sync", file);
    if (config.getBool(opt::force)) terminateRunning(lockPath, stanza);
    return 0;
}

int start(const Config& config) {
    auto stanza = stanzaOption(config);
    std::string file = repo::stopFile(config.getString(opt::lockPath), stanza);
    if (::unlink(file.c_str()) != 0) {
        if (errno != ENOENT) raiseErrno(ErrorCode::FileWrite, "start: unable to remove", file);
        logWarn("stop file does not exist{}", stanza ? " for stanza " + *stanza : "");
    }
    // start --stanza lifts only that stanza's stop, as pgBackRest's; saying so spares the DBA a
    // backup refused right after a start that "worked".
    std::string all = repo::stopFile(config.getString(opt::lockPath), std::nullopt);
    if (stanza && std::filesystem::exists(all))
        logWarn(
            "all stanzas remain stopped by {}: run 'backrest start' without --stanza to "
            "allow backrest to run again",
            all);
    return 0;
}

}  // namespace backrest::cmd
