// The throwaway cluster of a restore drill: PostgreSQL started by pg_ctl on the restored data
// directory with nothing that reaches outside it (no TCP listener, its Unix socket in the
// scratch directory, no archiving, no preloaded library, no synchronous standby to wait for),
// watched until recovery ends, and stopped (fast, then immediate) however the drill ends.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "pg/client.h"

namespace backrest::cmd {

// The settings given on the postmaster's command line, which win over the restored
// postgresql.conf and postgresql.auto.conf: each keeps the drill from reaching outside the
// scratch directory or from waiting on something that is not there.
std::vector<std::string> drillServerSettings(const std::string& scratch, int port,
                                             const std::string& hbaFile);

// The bin directory of a PostgreSQL major version: Debian's /usr/lib/postgresql/<v>/bin, then
// the PGDG RPMs' /usr/pgsql-<v>/bin. ConfigError naming both when neither has pg_ctl.
std::string postgresBinDir(const std::string& version);

// A TCP port nothing listens on at 127.0.0.1, from `first` on: the cluster listens on none, but
// its socket is named by the port and a DBA reading `ps` should see no clash.
int freeDrillPort(int first);

// Runs a program (no shell), its output appended to `outputFile`; returns its exit status.
int runProgram(const std::vector<std::string>& argv, const std::string& outputFile);

class DrillCluster {
  public:
    DrillCluster(std::string scratch, std::string dataDir, std::string binDir, int port,
                 std::string user);
    ~DrillCluster();  // stops the server if it runs
    DrillCluster(const DrillCluster&) = delete;
    DrillCluster& operator=(const DrillCluster&) = delete;

    void start();
    // Until the server has ended recovery and promoted; DbError with the end of its log when it
    // stops first; TermError when `stop` becomes true.
    void waitForPromotion(const std::atomic<bool>& stop);
    // Fast shutdown, immediate when that does not end in stopTimeout seconds. Returns a note
    // when the server had to be stopped immediately.
    std::string stop();
    pg::ConnectOptions connectOptions(const std::string& database = "template1") const;
    // The last lines of the server's log, for an error message.
    std::string logTail(size_t lines = 8) const;

    // A postmaster an earlier drill (killed with -9) left running in `dataDir`: stopped
    // immediately. True when there was one.
    static bool stopLeftover(const std::string& dataDir, const std::string& binDir,
                             const std::string& outputFile);

  private:
    std::optional<pid_t> postmasterPid() const;

    std::string scratch_, dataDir_, binDir_;
    int port_;
    std::string user_;
    bool started_ = false;
};

}  // namespace backrest::cmd
