// The daemon's drill process (worker/serve_drill.h): spawned with an event pipe on fd 3
// (worker/drill_progress.h), its console output left to the daemon's (the server log).
#include "worker/serve_drill.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "common/error.h"
#include "common/log.h"
#include "storage/owned_fd.h"
#include "worker/drill_progress.h"

extern char** environ;

namespace backrest::cmd {

namespace {

constexpr int kProgressFd = 3;

std::string ownExecutable() {
    char path[4096];
    ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) raiseErrno(ErrorCode::FileOpen, "drill: unable to read", "/proc/self/exe");
    return std::string(path, static_cast<size_t>(n));
}

std::vector<std::string> drillArguments(const DrillLaunch& launch, const protocol::Drill& r) {
    std::vector<std::string> args = {ownExecutable(), "--config=" + launch.configFile,
                                     "--stanza=" + launch.stanza, "--pg1-path=" + launch.pgPath,
                                     "--log-level-console=info"};
    if (r.repo) args.push_back("--repo=" + std::to_string(*r.repo));
    if (r.set) args.push_back("--set=" + *r.set);
    if (r.targetType) args.push_back("--type=" + *r.targetType);
    if (r.target) args.push_back("--target=" + *r.target);
    args.push_back("drill");
    return args;
}

std::string describeStatus(int status) {
    if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return fmt::format("signal {}", WTERMSIG(status));
    return fmt::format("wait status {}", status);
}

// The drill process, its pipe's read end, and what its events said.
class DrillProcess {
  public:
    explicit DrillProcess(const std::vector<std::string>& argv) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0)
            raiseErrno(ErrorCode::FileOpen, "drill: unable to create a pipe for", argv[0]);
        read_.reset(fds[0]);
        storage::Fd write(fds[1]);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        // dup2 onto fd 3 clears its close-on-exec flag; the pipe's own fds are never 3 after
        // this (0-2 are the daemon's stdio), unless fd 3 was free: then it is moved away first.
        int source = write.get();
        storage::Fd moved;
        if (source == kProgressFd) {
            moved.reset(::fcntl(source, F_DUPFD_CLOEXEC, 10));
            if (!moved.valid()) raiseErrno(ErrorCode::FileOpen, "drill: unable to move", "a pipe");
            source = moved.get();
        }
        posix_spawn_file_actions_adddup2(&actions, source, kProgressFd);
        // The daemon's SIGTERM/SIGINT handlers are reset by exec; SIGPIPE stays ignored, so a
        // daemon gone mid-drill costs the drill its event pipe only.
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        sigset_t none, defaults;
        sigemptyset(&none);
        sigemptyset(&defaults);
        for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&defaults, s);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &defaults);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        std::vector<std::string> env;
        for (char** e = environ; e != nullptr && *e != nullptr; ++e)
            if (!std::string_view(*e).starts_with(std::string(kDrillProgressFdVariable) + "="))
                env.emplace_back(*e);
        env.push_back(fmt::format("{}={}", kDrillProgressFdVariable, kProgressFd));
        std::vector<char*> args, envp;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        for (auto& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);
        int rc = posix_spawn(&pid_, args[0], &actions, &attr, args.data(), envp.data());
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
        if (rc != 0) {
            errno = rc;
            raiseErrno(ErrorCode::FileOpen, "drill: unable to run", argv[0]);
        }
    }

    // Never leaves a drill unwaited for: one still running is terminated and reaped.
    ~DrillProcess() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        waitForExit();
    }

    pid_t pid() const { return pid_; }
    int readFd() const { return read_.get(); }

    int waitForExit() {
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0)
            if (errno != EINTR) {
                status = 0;
                break;
            }
        pid_ = 0;
        return status;
    }

  private:
    pid_t pid_ = 0;
    storage::Fd read_;
};

struct DrillEvents {
    std::string id, backup;
    std::optional<int> errorCode;
    std::string errorMessage;
};

void handleEvent(const std::string& line, DrillEvents& events,
                 const std::function<void(const protocol::DrillProgress&)>& progress) {
    size_t space = line.find(' ');
    std::string kind = line.substr(0, space);
    std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
    if (kind == "started") {
        events.id = rest;
        progress({rest, "plan"});
    } else if (kind == "phase") {
        progress({std::nullopt, rest});
    } else if (kind == "backup") {
        events.backup = rest;
    } else if (kind == "error") {
        size_t gap = rest.find(' ');
        try {
            events.errorCode = std::stoi(rest.substr(0, gap));
        } catch (const std::exception&) {
            events.errorCode = static_cast<int>(ErrorCode::Assert);
        }
        events.errorMessage = gap == std::string::npos ? "" : rest.substr(gap + 1);
    }
}

}  // namespace

protocol::DrillReply runDrill(const DrillLaunch& launch, const protocol::Drill& request,
                              int clientFd,
                              const std::function<void(const protocol::DrillProgress&)>& progress) {
    std::vector<std::string> argv = drillArguments(launch, request);
    DrillProcess drill(argv);
    logInfo("serve: drill started (pid {}) for stanza '{}'", drill.pid(), launch.stanza);
    DrillEvents events;
    std::string pending;
    bool hungUp = false;
    for (;;) {
        pollfd p[2] = {{drill.readFd(), POLLIN, 0}, {hungUp ? -1 : clientFd, POLLRDHUP, 0}};
        if (::poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            raiseErrno(ErrorCode::Assert, "drill: unable to wait for", "the drill process");
        }
        if (!hungUp && (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))) {
            // The job is gone (cancelled, server shutdown): the drill stops its server and
            // removes its directory, then records itself as terminated.
            hungUp = true;
            logInfo("serve: the drill's client hung up: stopping the drill (pid {})", drill.pid());
            ::kill(drill.pid(), SIGTERM);
        }
        if (p[0].revents == 0) continue;
        char buffer[4096];
        ssize_t n = ::read(drill.readFd(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // every writer gone: the drill has ended
        pending.append(buffer, static_cast<size_t>(n));
        for (size_t end; (end = pending.find('\n')) != std::string::npos;) {
            std::string line = pending.substr(0, end);
            pending.erase(0, end + 1);
            try {
                // After a hang-up the events are still read (the drill's error), not relayed.
                handleEvent(line, events, [&](const protocol::DrillProgress& p) {
                    if (!hungUp) progress(p);
                });
            } catch (const std::exception& e) {
                // The client is gone (a send failed): the drill goes on to its end without it.
                hungUp = true;
                logInfo("serve: the drill's client is gone ({}): stopping the drill (pid {})",
                        e.what(), drill.pid());
                ::kill(drill.pid(), SIGTERM);
            }
        }
    }
    int status = drill.waitForExit();
    bool passed = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    logInfo("serve: drill {} ended: {}", events.id.empty() ? "(not started)" : events.id,
            passed ? "passed" : describeStatus(status));
    if (passed) return {events.id, events.backup};
    if (events.errorCode && isKnownErrorCode(*events.errorCode))
        throw Error(static_cast<ErrorCode>(*events.errorCode), events.errorMessage);
    raise(ErrorCode::Command,
          "drill: the drill process ended ({}) without saying why; see the "
          "server log",
          describeStatus(status));
}

}  // namespace backrest::cmd
