// The throwaway cluster of a restore drill (worker/drill_cluster.h).
#include "worker/drill_cluster.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/error.h"
#include "common/log.h"

extern char** environ;

namespace backrest::cmd {

namespace {

// pg_ctl's wait for a fast shutdown, then for an immediate one: a drill's cluster has no client
// to wait for, so a fast shutdown taking longer is a checkpoint of a large shared_buffers.
constexpr int kStopTimeoutSeconds = 60;
// How often the wait for the end of recovery looks again.
constexpr auto kPollInterval = std::chrono::milliseconds(100);
// A postmaster that has not written its pid file by then did not start.
constexpr int kStartPolls = 600;

// A path in a list setting (unix_socket_directories): double-quoted when it holds a separator.
std::string listItem(const std::string& path) {
    return path.find_first_of(", \"") == std::string::npos ? path : "\"" + path + "\"";
}

bool isExecutable(const std::string& path) {
    return ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::vector<std::string> drillServerSettings(const std::string& scratch, int port,
                                             const std::string& hbaFile) {
    return {
        fmt::format("port={}", port),
        "listen_addresses=",  // no TCP: only the socket below
        "unix_socket_directories=" + listItem(scratch),
        "archive_mode=off",  // never into the stanza's archive
        "archive_command=",
        "archive_library=",
        // The backrest launcher would start a daemon for the stanza (streaming, schedules).
        "shared_preload_libraries=",
        // A commit (CREATE EXTENSION amcheck) would wait forever for a standby.
        "synchronous_standby_names=",
        "recovery_end_command=",
        "archive_cleanup_command=",
        "primary_conninfo=",
        // Without hot standby the primary's max_connections & co need not fit this host; the
        // drill connects once recovery has ended.
        "hot_standby=off",
        "hba_file=" + hbaFile,
        // Certificates may be named by paths of the original host.
        "ssl=off",
        "logging_collector=off",
        "log_destination=stderr",
        "cluster_name=backrest-drill",
    };
}

std::string postgresBinDir(const std::string& version) {
    std::vector<std::string> candidates = {fmt::format("/usr/lib/postgresql/{}/bin", version),
                                           fmt::format("/usr/pgsql-{}/bin", version)};
    for (const auto& dir : candidates)
        if (isExecutable(dir + "/pg_ctl")) return dir;
    raise(ErrorCode::Config,
          "drill: no pg_ctl of PostgreSQL {} (the backup's version) in '{}' or '{}': install "
          "PostgreSQL {} on this host",
          version, candidates[0], candidates[1], version);
}

int freeDrillPort(int first) {
    for (int port = first; port < first + 100 && port < 65536; port++) {
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) raiseErrno(ErrorCode::FileOpen, "drill: unable to open a socket", "");
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::close(fd);
        if (free) return port;
    }
    raise(ErrorCode::Config, "drill: no free port from {} to {}; set drill-port", first,
          first + 99);
}

int runProgram(const std::vector<std::string>& argv, const std::string& outputFile) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, outputFile.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    // The drill blocks SIGTERM & co. for its own watch (worker/termination.h): the server it
    // starts must see them.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int s : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE}) sigaddset(&defaults, s);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        errno = rc;
        raiseErrno(ErrorCode::FileOpen, "drill: unable to run", argv[0]);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) raiseErrno(ErrorCode::Assert, "drill: unable to wait for", argv[0]);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

DrillCluster::DrillCluster(std::string scratch, std::string dataDir, std::string binDir, int port,
                           std::string user)
    : scratch_(std::move(scratch)),
      dataDir_(std::move(dataDir)),
      binDir_(std::move(binDir)),
      port_(port),
      user_(std::move(user)) {}

DrillCluster::~DrillCluster() {
    try {
        stop();
    } catch (const std::exception& e) {
        logWarn("drill: {}", e.what());
    }
}

void DrillCluster::start() {
    // Only the drill's user reaches the socket: the scratch directory is 0700.
    std::string hba = scratch_ + "/pg_hba.conf";
    std::ofstream(hba) << "local all all trust\n";
    // A cluster whose configuration lives outside its data directory (Debian's /etc/postgresql)
    // has no postgresql.conf in the backup: the defaults and the settings below are enough.
    if (!std::filesystem::exists(dataDir_ + "/postgresql.conf"))
        std::ofstream(dataDir_ + "/postgresql.conf") << "# written by backrest drill\n";
    std::string options;
    for (const auto& s : drillServerSettings(scratch_, port_, hba)) {
        std::string quoted;
        for (char c : s)
            quoted += (c == '"' || c == '\\' || c == '$' || c == '`') ? std::string("\\") + c
                                                                      : std::string(1, c);
        options += fmt::format("{}-c \"{}\"", options.empty() ? "" : " ", quoted);
    }
    started_ = true;
    int rc = runProgram({binDir_ + "/pg_ctl", "start", "-W", "-D", dataDir_, "-l",
                         scratch_ + "/postgresql.log", "-o", options},
                        scratch_ + "/pg_ctl.out");
    if (rc != 0)
        raise(ErrorCode::Db, "drill: pg_ctl start failed (exit {}) on '{}': {}", rc, dataDir_,
              logTail());
    for (int i = 0; i < kStartPolls && !postmasterPid(); i++)
        std::this_thread::sleep_for(kPollInterval);
    if (!postmasterPid())
        raise(ErrorCode::Db, "drill: the server did not start on '{}': {}", dataDir_, logTail());
}

std::optional<pid_t> DrillCluster::postmasterPid() const {
    std::ifstream in(dataDir_ + "/postmaster.pid");
    long pid = 0;
    if (!(in >> pid) || pid <= 0) return std::nullopt;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return std::nullopt;
    return static_cast<pid_t>(pid);
}

pg::ConnectOptions DrillCluster::connectOptions(const std::string& database) const {
    pg::ConnectOptions o;
    o.socketPath = scratch_;
    o.port = port_;
    o.user = user_;
    o.database = database;
    o.applicationName = "backrest drill";
    return o;
}

void DrillCluster::waitForPromotion(const std::atomic<bool>& stop) {
    for (;;) {
        if (stop) return;  // the caller raises the termination
        if (!postmasterPid())
            raise(ErrorCode::Db,
                  "drill: the server stopped before recovery ended (see its log, last lines: {})",
                  logTail());
        try {
            pg::Client db(connectOptions());
            if (db.scalar("SELECT pg_is_in_recovery()") == "f") return;
        } catch (const Error&) {
            // Not yet accepting connections: still recovering.
        }
        std::this_thread::sleep_for(kPollInterval);
    }
}

std::string DrillCluster::stop() {
    if (!started_) return "";
    started_ = false;
    if (!postmasterPid()) return "";
    std::string out = scratch_ + "/pg_ctl.out";
    std::string timeout = std::to_string(kStopTimeoutSeconds);
    if (runProgram({binDir_ + "/pg_ctl", "stop", "-D", dataDir_, "-m", "fast", "-w", "-t", timeout},
                   out) == 0)
        return "";
    logWarn(
        "drill: the server did not stop within {} s of a fast shutdown: stopping it immediately",
        kStopTimeoutSeconds);
    if (runProgram(
            {binDir_ + "/pg_ctl", "stop", "-D", dataDir_, "-m", "immediate", "-w", "-t", timeout},
            out) != 0)
        raise(ErrorCode::Postmaster,
              "drill: unable to stop the drill's server in '{}' (pid file postmaster.pid): stop "
              "it, then remove '{}'",
              dataDir_, scratch_);
    return "stopped immediately after a fast shutdown timed out";
}

std::string DrillCluster::logTail(size_t lines) const {
    std::deque<std::string> tail;
    for (const auto& file : {scratch_ + "/postgresql.log", scratch_ + "/pg_ctl.out"}) {
        std::ifstream in(file);
        for (std::string line; std::getline(in, line);) {
            tail.push_back(line);
            if (tail.size() > lines) tail.pop_front();
        }
    }
    std::string out;
    for (const auto& l : tail) out += (out.empty() ? "" : " | ") + l;
    return out.empty() ? "(no server log)" : out;
}

bool DrillCluster::stopLeftover(const std::string& dataDir, const std::string& binDir,
                                const std::string& outputFile) {
    std::ifstream in(dataDir + "/postmaster.pid");
    long pid = 0;
    if (!(in >> pid) || pid <= 0 || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH))
        return false;
    if (runProgram({binDir + "/pg_ctl", "stop", "-D", dataDir, "-m", "immediate", "-w", "-t",
                    std::to_string(kStopTimeoutSeconds)},
                   outputFile) != 0)
        raise(ErrorCode::Postmaster,
              "drill: a server an earlier drill left running in '{}' (pid {}) could not be "
              "stopped: stop it, then run the drill again",
              dataDir, pid);
    return true;
}

}  // namespace backrest::cmd
