// Is a restore target safe to write? No restore writes into or removes from a directory a
// running PostgreSQL uses, and a restore killed midway (or stopped by a full disk) is completed
// by running it again: a marker in pg1-path records which backup was being restored where.
#pragma once
#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "repo/manifest.h"

namespace backrest::cmd {

class RestoreOwner;

// A PostgreSQL server running on this host and the directories it uses.
struct LiveCluster {
    pid_t pid = 0;
    std::string dataDirectory;
    struct Directory {
        std::string path;
        std::string
            role;  // "the data directory", "tablespace pg_tblspc/16385", "the linked pg_wal"
    };
    std::vector<Directory> directories;
};

// The postmasters of this host (processes named postgres whose parent is not one): their
// working directory is their data directory. Those whose /proc entries cannot be read (another
// user's, when not root) are listed in `unchecked` as "pid N (reason)".
std::vector<LiveCluster> runningClusters(std::vector<std::string>& unchecked);

// The marker of an unfinished restore: "<pg1-path>/backrest.restore".
inline constexpr const char* kRestoreMarker = "backrest.restore";
struct RestoreMarker {
    std::string label;
    std::vector<std::string> locations;  // every target location of that restore
};
std::optional<RestoreMarker> readRestoreMarker(const std::string& dataPath);
// Written (and fsynced) before anything else is touched, removed once pg_control is durable.
void writeRestoreMarker(const std::string& dataPath, const RestoreMarker& marker,
                        RestoreOwner& owner);
void removeRestoreMarker(const std::string& dataPath);

struct TargetDecision {
    bool delta = false;  // restore over what is there (--delta, or resuming an unfinished restore)
    bool resumed = false;  // pg1-path holds an unfinished restore of this same backup
    // pg1-path holds an unfinished restore of another backup (a failed attempt from another
    // repository, or --delta over it): its files are compared by checksum even with --force.
    bool replacing = false;
};

// Checks every target (location by manifest target name) before anything is written: none is,
// contains or lies inside a directory a running cluster uses (pg1-path's postmaster.pid, the
// host's postmasters, and the backup's original data directory when a tablespace would be
// restored at its original location); a non-empty target is refused unless --delta or it holds
// an unfinished restore of this backup. Raises PostmasterError or PathNotEmptyError naming the
// target, the running cluster and what to do.
TargetDecision checkRestoreTargets(const repo::Manifest& manifest,
                                   const std::map<std::string, std::string>& locations,
                                   const std::string& dataPath, bool delta);

}  // namespace backrest::cmd
