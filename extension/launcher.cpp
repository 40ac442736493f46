// The launcher background worker: runs `backrest serve` as its child, restarts it with backoff
// when it dies or its settings change, and stops it at server shutdown.
#include "launcher.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "pg_guard.h"
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

// The settings the daemon is started with: a change of any of them restarts it.
struct DaemonSettings {
    std::string stanza, config, workerPath;
    bool archiveAsync = false;
    bool operator==(const DaemonSettings&) const = default;
};

DaemonSettings currentSettings() {
    return {settings.stanza != nullptr ? settings.stanza : "",
            settings.config != nullptr ? settings.config : "",
            settings.workerPath != nullptr ? settings.workerPath : "", settings.archiveAsync};
}

std::string describeExit(int status) {
    if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return fmt::format("signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
    return fmt::format("wait status {}", status);
}

// Reaps promptly instead of at the next timeout.
void onChildExit(SIGNAL_ARGS) {
    (void)postgres_signal_arg;
    int savedErrno = errno;
    SetLatch(MyLatch);
    errno = savedErrno;
}

// The daemon child process.
class Daemon {
  public:
    bool running() const { return pid_ > 0; }
    pid_t pid() const { return pid_; }
    double uptime() const { return Seconds(Clock::now() - started_).count(); }

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
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        std::string execFailed = fmt::format(
            "backrest launcher: could not execute '{}' (backrest.worker_path): ", s.workerPath);
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0)
            raiseErrno(ErrorCode::Command, "backrest launcher: could not fork to run",
                       s.workerPath);
        if (pid == 0) execInChild(argv.data(), execFailed, parent);  // never returns
        pid_ = pid;
        started_ = Clock::now();
        std::string commandLine;
        for (const auto& a : args) commandLine += (commandLine.empty() ? "" : " ") + a;
        report(LOG, fmt::format("backrest launcher: started the backrest daemon (pid {})", pid_),
               commandLine);
    }

    // The exit status if the daemon has exited since the last look.
    std::optional<int> reap() {
        if (pid_ <= 0) return std::nullopt;
        int status = 0;
        pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_ || (r < 0 && errno == ECHILD)) {
            pid_ = 0;
            return status;
        }
        return std::nullopt;
    }

    // SIGTERM, up to kStopGraceSeconds for a clean exit, then SIGKILL.
    void stop(const char* why) {
        if (pid_ <= 0) return;
        report(LOG, fmt::format("backrest launcher: stopping the backrest daemon (pid {}): {}",
                                pid_, why));
        pid_t pid = pid_;
        kill(pid, SIGTERM);
        auto deadline = Clock::now() + std::chrono::seconds(kStopGraceSeconds);
        std::optional<int> status;
        while (!(status = reap()) && Clock::now() < deadline)
            pgCall([] { pg_usleep(100 * 1000L); });
        if (!status) {
            report(WARNING,
                   fmt::format(
                       "backrest launcher: the backrest daemon (pid {}) did not stop within {} s; "
                       "killing it",
                       pid, kStopGraceSeconds));
            kill(pid, SIGKILL);
            int raw = 0;
            while (waitpid(pid, &raw, 0) < 0 && errno == EINTR) {
            }
            status = raw;
            pid_ = 0;
        }
        report(LOG, fmt::format("backrest launcher: the backrest daemon (pid {}) stopped ({})", pid,
                                describeExit(*status)));
    }

  private:
    // In the forked child: only async-signal-safe calls until exec.
    [[noreturn]] static void execInChild(char* const argv[], const std::string& execFailed,
                                         pid_t parent) {
        // The daemon must not outlive the launcher (crash restart, postmaster death).
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(1);
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

    pid_t pid_ = 0;
    Clock::time_point started_;
};

class Launcher {
  public:
    void run() {
        wanted_ = currentSettings();
        for (;;) {
            if (ShutdownRequestPending) {
                setLauncherStatus(DaemonState::Stopped, 0, 0, nullptr);
                daemon_.stop("the server is shutting down");
                return;
            }
            if (ConfigReloadPending) reloadSettings();
            if (auto status = daemon_.reap()) onDaemonExit(*status);
            if (!daemon_.running() && Clock::now() >= nextStart_) startIfConfigured();
            pgCall([] {
                (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
                                kLoopTimeoutMs, PG_WAIT_EXTENSION);
                ResetLatch(MyLatch);
            });
        }
    }

  private:
    void reloadSettings() {
        ConfigReloadPending = false;
        pgCall([] { ProcessConfigFile(PGC_SIGHUP); });
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

    void onDaemonExit(int status) {
        double uptime = daemon_.uptime();
        if (uptime >= kStableUptimeSeconds) backoffSeconds_ = kFirstBackoffSeconds;
        int delay = backoffSeconds_;
        backoffSeconds_ = std::min(backoffSeconds_ * 2, kMaxBackoffSeconds);
        nextStart_ = Clock::now() + std::chrono::seconds(delay);
        std::string how = describeExit(status);
        setLauncherStatus(DaemonState::Restarting, 0, GetCurrentTimestamp() + delay * USECS_PER_SEC,
                          how.c_str());
        report(LOG, fmt::format("backrest launcher: the backrest daemon exited ({}) after "
                                "{:.1f} s; restarting it in {} s",
                                how, uptime, delay));
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
        daemon_.start(wanted_);
        setLauncherStatus(DaemonState::Running, daemon_.pid(), 0, nullptr);
    }

    Daemon daemon_;
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
    // terminated on its own (pg_terminate_backend); exit code 0 would unregister it for good.
    proc_exit(1);
}
