// The launcher background worker: runs `backrest serve`, or adopts one still running from an
// earlier launcher, and restarts it with backoff when it stops or its settings change. It never
// stops the daemon at shutdown: the archiver's last round comes after the background workers
// have exited, and the daemon exits by itself once the postmaster is gone.
#include "launcher.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "daemon_client.h"
#include "pg_guard.h"
#include "schedule.h"
#include "settings.h"
#include "shared_state.h"

extern "C" PGDLLEXPORT void backrest_launcher_main(Datum argument);

namespace backrest::ext {

namespace {

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;

constexpr int kFirstBackoffSeconds = 1;
constexpr int kMaxBackoffSeconds = 30;
constexpr int kStableUptimeSeconds =
    60;  // a daemon up this long died of something new: reset backoff
constexpr int kStopGraceSeconds = 10;
constexpr long kLoopTimeoutMs = 200;
// A hello is answered in milliseconds by a thread of its own; this only bounds a stuck daemon.
constexpr int kProbeTimeoutMs = 1000;
// How often an adopted daemon (not our child: no SIGCHLD, no waitpid) is asked if it is there.
constexpr auto kProbeInterval = std::chrono::seconds(1);

// The settings the daemon is started with: a change of any of them restarts it.
struct DaemonSettings {
    std::string stanza, config, workerPath;
    bool archiveAsync = false;
    bool operator==(const DaemonSettings&) const = default;
};

// Working ahead of the archiver (streaming WAL, reading .ready segments ahead) is for a server
// that archives through us: with archive_mode off or another archive_library it would fill the
// repository with WAL nobody asked for.
bool archivingThroughUs() {
    return XLogArchivingActive() && XLogArchiveLibrary != nullptr &&
           strcmp(XLogArchiveLibrary, "backrest") == 0;
}

DaemonSettings currentSettings() {
    return {settings.stanza != nullptr ? settings.stanza : "",
            settings.config != nullptr ? settings.config : "",
            settings.workerPath != nullptr ? settings.workerPath : "",
            settings.archiveAsync && archivingThroughUs()};
}

std::string describeExit(int status) {
    if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return fmt::format("signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
    return fmt::format("wait status {}", status);
}

std::string describePid(pid_t pid) {
    return pid > 0 ? fmt::format("pid {}", pid) : std::string("pid unknown");
}

bool processGone(pid_t pid) {
    return pid > 0 && kill(pid, 0) != 0 && errno == ESRCH;
}

// Waits on the latch, not in pg_usleep: a SIGCHLD from the daemon ends the wait at once, and
// pg_stat_activity shows the launcher waiting on "Extension". The latch is reset here because
// every flag that sets it (shutdown, reload) is checked again at the top of run()'s loop.
void waitMs(long ms) {
    pgCall([&ms] {
        (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, ms,
                        PG_WAIT_EXTENSION);
        ResetLatch(MyLatch);
    });
}

// Reaps promptly instead of at the next timeout.
void onChildExit(SIGNAL_ARGS) {
    (void)postgres_signal_arg;
    int savedErrno = errno;
    SetLatch(MyLatch);
    errno = savedErrno;
}

// The first of unix_socket_directories ("" when the server listens on TCP only).
std::string firstSocketDirectory() {
    std::string all = Unix_socket_directories != nullptr ? Unix_socket_directories : "";
    std::string first = all.substr(0, all.find(','));
    auto notSpace = [](char c) { return c != ' ' && c != '\t'; };
    first.erase(first.begin(), std::find_if(first.begin(), first.end(), notSpace));
    first.erase(std::find_if(first.rbegin(), first.rend(), notSpace).base(), first.end());
    if (first.size() >= 2 && first.front() == '"' && first.back() == '"')
        first = first.substr(1, first.size() - 2);
    return first;
}

// How a watched daemon ended.
struct DaemonEnd {
    pid_t pid;
    std::string how;
    double uptime;
};

// The daemon the launcher watches: its own child (reaped with waitpid), or one adopted from an
// earlier launcher (after a SIGTERM to the launcher or a crash restart), which is not our child
// and is watched with a hello every kProbeInterval instead.
class Daemon {
  public:
    bool running() const { return kind_ != Kind::None; }
    pid_t pid() const { return pid_; }

    void start(const DaemonSettings& s) {
        std::vector<std::string> args = {
            s.workerPath,
            "serve",
            "--stanza=" + s.stanza,
            "--config=" + s.config,
            std::string("--pg1-path=") + DataDir,
            "--socket-path=" + socketDirectory(),
            std::string("--archive-async=") + (s.archiveAsync ? "y" : "n"),
            "--log-level-console=info"};
        // Where the server listens, for the daemon's WAL stream (archive_async).
        if (std::string socket = firstSocketDirectory(); !socket.empty()) {
            args.push_back("--pg1-socket-path=" + socket);
            args.push_back("--pg1-port=" + std::to_string(PostPortNumber));
        }
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        std::string execFailed = fmt::format(
            "backrest launcher: could not execute '{}' (backrest.worker_path): ", s.workerPath);
        pid_t pid = fork();
        if (pid < 0)
            raiseErrno(ErrorCode::Command, "backrest launcher: could not fork to run",
                       s.workerPath);
        if (pid == 0) execInChild(argv.data(), execFailed);  // never returns
        kind_ = Kind::Child;
        pid_ = pid;
        started_ = Clock::now();
        std::string commandLine;
        for (const auto& a : args) commandLine += (commandLine.empty() ? "" : " ") + a;
        report(LOG, fmt::format("backrest launcher: started the backrest daemon (pid {})", pid_),
               commandLine);
    }

    void adopt(pid_t pid) {
        kind_ = Kind::Adopted;
        pid_ = pid;
        started_ = Clock::now();
        nextProbe_ = started_ + kProbeInterval;
        warnedNoAnswer_ = false;
    }

    // How the daemon ended, if it has since the last look: our child's exit status, or an
    // adopted daemon that no longer listens on the socket.
    std::optional<DaemonEnd> ended() {
        if (kind_ == Kind::Child) {
            std::optional<int> status = reapChild();
            if (!status) return std::nullopt;
            return forget(describeExit(*status));
        }
        if (kind_ != Kind::Adopted || Clock::now() < nextProbe_) return std::nullopt;
        DaemonProbe probe = probeDaemon(kProbeTimeoutMs);
        nextProbe_ = Clock::now() + kProbeInterval;
        switch (probe.result) {
            case DaemonProbe::Result::Answered:
                if (probe.pid > 0 && probe.pid != pid_) {
                    report(LOG, fmt::format("backrest launcher: the backrest daemon on its socket "
                                            "is now pid {} (was {}); watching that one",
                                            probe.pid, describePid(pid_)));
                    pid_ = probe.pid;
                    setLauncherStatus(DaemonState::Running, pid_, 0, nullptr);
                }
                warnedNoAnswer_ = false;
                return std::nullopt;
            case DaemonProbe::Result::NotListening:
                return forget("it stopped answering: " + probe.detail);
            case DaemonProbe::Result::NoAnswer:
                if (processGone(pid_)) return forget("its process is gone");
                // Alive and holding the socket, so a new daemon could not take it over anyway:
                // keep watching, as the launcher does for its own child.
                if (!warnedNoAnswer_)
                    report(WARNING,
                           fmt::format("backrest launcher: the adopted backrest daemon ({}) did "
                                       "not answer hello within {} ms: {}",
                                       describePid(pid_), kProbeTimeoutMs, probe.detail));
                warnedNoAnswer_ = true;
                return std::nullopt;
        }
        return std::nullopt;
    }

    // SIGTERM, then waits until it is gone (our child: reaped; adopted: its socket refuses
    // connections, which is what a new daemon's listener needs), SIGKILL after kStopGraceSeconds.
    void stop(const char* why) {
        if (kind_ == Kind::None) return;
        pid_t pid = pid_;
        if (kind_ == Kind::Adopted) {
            // The pid the socket's daemon reports now, not only the one adopted earlier.
            DaemonProbe probe = probeDaemon(kProbeTimeoutMs);
            if (probe.result == DaemonProbe::Result::NotListening) {
                forget("already gone");
                return;
            }
            if (probe.result == DaemonProbe::Result::Answered && probe.pid > 0) pid = probe.pid;
        }
        if (pid <= 0) {
            report(WARNING,
                   fmt::format("backrest launcher: cannot stop the backrest daemon on '{}' ({}): "
                               "it does not report its pid",
                               socketPath(), why),
                   "Stop that daemon by hand; the launcher starts a new one once it is gone.");
            forget("not stopped");
            return;
        }
        report(LOG, fmt::format("backrest launcher: stopping the backrest daemon (pid {}): {}", pid,
                                why));
        kill(pid, SIGTERM);
        std::optional<std::string> how = waitGone(pid, kStopGraceSeconds);
        if (!how) {
            report(WARNING,
                   fmt::format(
                       "backrest launcher: the backrest daemon (pid {}) did not stop within {} s; "
                       "killing it",
                       pid, kStopGraceSeconds));
            kill(pid, SIGKILL);
            how = waitGone(pid, kStopGraceSeconds);
        }
        report(LOG, fmt::format("backrest launcher: the backrest daemon (pid {}) stopped ({})", pid,
                                how.value_or("still listening after SIGKILL")));
        forget("stopped");
    }

  private:
    enum class Kind { None, Child, Adopted };

    DaemonEnd forget(std::string how) {
        DaemonEnd end{pid_, std::move(how), Seconds(Clock::now() - started_).count()};
        kind_ = Kind::None;
        pid_ = 0;
        return end;
    }

    // Our child's wait status once it has exited (WNOHANG: zombies are reaped, never waited on).
    std::optional<int> reapChild() {
        int status = 0;
        pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) return status;
        if (r < 0 && errno == ECHILD) return 0;
        return std::nullopt;
    }

    // How it went, once the daemon is gone; nullopt if it is not within `seconds`.
    std::optional<std::string> waitGone(pid_t pid, int seconds) {
        auto deadline = Clock::now() + std::chrono::seconds(seconds);
        for (;;) {
            if (kind_ == Kind::Child && pid == pid_) {
                if (std::optional<int> status = reapChild()) return describeExit(*status);
            } else if (probeDaemon(kProbeTimeoutMs).result == DaemonProbe::Result::NotListening) {
                return std::string("no longer listening");
            }
            if (Clock::now() >= deadline) return std::nullopt;
            waitMs(100);
        }
    }

    // In the forked child: only async-signal-safe calls until exec.
    [[noreturn]] static void execInChild(char* const argv[], const std::string& execFailed) {
        // A session (and process group) of its own: the postmaster signals each child's whole
        // process group (SIGTERM at shutdown, SIGQUIT at a crash restart), and the daemon must
        // outlive the launcher to serve the archiver's last round. It exits by itself when the
        // postmaster is gone (it watches postmaster.pid).
        (void)setsid();
        // The launcher's signal mask and PostgreSQL's handlers are no business of the daemon's.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        struct sigaction dfl;
        std::memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, nullptr);
        // stdin/stdout/stderr stay (stderr is the server log); the postmaster's other fds do not.
        close_range(3, ~0U, 0);
        execv(argv[0], argv);
        int err = errno;
        (void)!write(STDERR_FILENO, execFailed.data(), execFailed.size());
        const char* reason = strerrordesc_np(err);
        (void)!write(STDERR_FILENO, reason, std::strlen(reason));
        (void)!write(STDERR_FILENO, "\n", 1);
        _exit(127);
    }

    Kind kind_ = Kind::None;
    pid_t pid_ = 0;
    Clock::time_point started_;
    Clock::time_point nextProbe_;
    bool warnedNoAnswer_ = false;
};

class Launcher {
  public:
    void run() {
        wanted_ = currentSettings();
        configureSchedule();
        for (;;) {
            if (ShutdownRequestPending) {
                leaveDaemonRunning();
                return;
            }
            if (ConfigReloadPending) reloadSettings();
            if (std::optional<DaemonEnd> end = daemon_.ended()) onDaemonExit(*end);
            if (!daemon_.running() && Clock::now() >= nextStart_) startIfConfigured();
            scheduler_.tick(daemon_.running());
            pgCall([] {
                (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
                                kLoopTimeoutMs, PG_WAIT_EXTENSION);
                ResetLatch(MyLatch);
            });
        }
    }

  private:
    // Server shutdown (or a SIGTERM to the launcher alone): background workers stop before the
    // archiver's last round, which still needs the daemon; it exits with the postmaster, and a
    // launcher started again meanwhile adopts it.
    void leaveDaemonRunning() {
        setLauncherStatus(DaemonState::Stopped, daemon_.pid(), 0, nullptr);
        if (daemon_.running())
            report(LOG, fmt::format("backrest launcher: exiting, leaving the backrest daemon ({}) "
                                    "running to serve the archiver's last round; it exits with "
                                    "the postmaster",
                                    describePid(daemon_.pid())));
    }

    void reloadSettings() {
        ConfigReloadPending = false;
        pgCall([] { ProcessConfigFile(PGC_SIGHUP); });
        configureSchedule();
        DaemonSettings now = currentSettings();
        if (now == wanted_) return;
        wanted_ = now;
        warnedNoStanza_ = false;
        // A deliberate restart: no backoff, it is not the daemon's fault.
        backoffSeconds_ = kFirstBackoffSeconds;
        nextStart_ = Clock::now();
        if (daemon_.running()) {
            daemon_.stop("backrest settings changed");
            setLauncherStatus(DaemonState::NotStarted, 0, 0, nullptr);
        }
    }

    void onDaemonExit(const DaemonEnd& end) {
        if (end.uptime >= kStableUptimeSeconds) backoffSeconds_ = kFirstBackoffSeconds;
        int delay = backoffSeconds_;
        backoffSeconds_ = std::min(backoffSeconds_ * 2, kMaxBackoffSeconds);
        nextStart_ = Clock::now() + std::chrono::seconds(delay);
        setLauncherStatus(DaemonState::Restarting, 0, GetCurrentTimestamp() + delay * USECS_PER_SEC,
                          end.how.c_str());
        report(LOG, fmt::format("backrest launcher: the backrest daemon ({}) exited ({}) after "
                                "{:.1f} s; restarting it in {} s",
                                describePid(end.pid), end.how, end.uptime, delay));
    }

    void startIfConfigured() {
        if (wanted_.stanza.empty()) {
            if (!warnedNoStanza_)
                report(WARNING,
                       "backrest launcher: backrest.stanza is not set, so the backrest daemon is "
                       "not started and WAL archiving and backups through backrest are unavailable",
                       "Set backrest.stanza in postgresql.conf and reload the configuration.");
            warnedNoStanza_ = true;
            setLauncherStatus(DaemonState::Disabled, 0, 0, nullptr);
            return;
        }
        // One left running by an earlier launcher of this server (terminated, or gone in a
        // crash restart) still serves: watch it rather than start a second one.
        DaemonProbe probe = probeDaemon(kProbeTimeoutMs);
        if (probe.result == DaemonProbe::Result::Answered) {
            daemon_.adopt(probe.pid);
            report(LOG, fmt::format("backrest launcher: adopting running backrest daemon ({})",
                                    describePid(probe.pid)));
            setLauncherStatus(DaemonState::Running, probe.pid, 0, nullptr);
            return;
        }
        if (probe.result == DaemonProbe::Result::NoAnswer)
            report(LOG, fmt::format("backrest launcher: a process listens on '{}' but gave no "
                                    "hello ({}); starting a daemon anyway",
                                    socketPath(), probe.detail));
        daemon_.start(wanted_);
        setLauncherStatus(DaemonState::Running, daemon_.pid(), 0, nullptr);
    }

    void configureSchedule() {
        scheduler_.configure(settings.schedule != nullptr ? settings.schedule : "",
                             settings.scheduleCatchup);
    }

    Daemon daemon_;
    Scheduler scheduler_;
    DaemonSettings wanted_;
    int backoffSeconds_ = kFirstBackoffSeconds;
    Clock::time_point nextStart_ = Clock::now();
    bool warnedNoStanza_ = false;
};

}  // namespace

void registerLauncher() {
    BackgroundWorker worker;
    std::memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
    // No database connection is needed, so it can run from postmaster start: on a primary and on
    // a standby or restored cluster still in recovery (whose archiver needs the daemon too).
    worker.bgw_start_time = BgWorkerStart_PostmasterStart;
    worker.bgw_restart_time = 5;
    strlcpy(worker.bgw_library_name, "backrest", sizeof worker.bgw_library_name);
    strlcpy(worker.bgw_function_name, "backrest_launcher_main", sizeof worker.bgw_function_name);
    strlcpy(worker.bgw_name, "backrest launcher", sizeof worker.bgw_name);
    strlcpy(worker.bgw_type, "backrest launcher", sizeof worker.bgw_type);
    RegisterBackgroundWorker(&worker);
}

}  // namespace backrest::ext

void backrest_launcher_main(Datum) {
    using namespace backrest::ext;
    pgEntry("backrest launcher", [] {
        pgCall([] {
            pqsignal(SIGHUP, SignalHandlerForConfigReload);
            pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
            pqsignal(SIGCHLD, onChildExit);
            BackgroundWorkerUnblockSignals();
        });
        Launcher().run();
    });
    // Exit code 1, as worker_spi does: the postmaster restarts the launcher (after 5 s) if it was
    // terminated on its own (kill -TERM; pg_terminate_backend refuses a worker without a database
    // connection); exit code 0 would unregister it for good.
    proc_exit(1);
}
