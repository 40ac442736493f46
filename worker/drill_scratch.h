// Where a restore drill works: <drill-path>/backrest-drill-<stanza>, a directory it creates,
// owns alone (a lock file beside it) and removes however the drill ends. drill-path may not be
// pg1-path, a repository or inside either, so a drill never writes where the running cluster or
// the repository keeps its files.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "repo/file_lock.h"

namespace backrest::cmd {

struct DrillPaths {
    std::string drillPath;  // as configured, normalized
    std::string scratch;    // <drill-path>/backrest-drill-<stanza>
    std::string data;       // <scratch>/data: the restored pg_data
    std::string tablespaces;
    std::string lockFile;
};

// True when `inner` is `outer` or lies under it (both normalized, symbolic links resolved as far
// as the paths exist).
bool pathWithin(const std::string& inner, const std::string& outer);

// OptionError naming 'drill-path' and what it would overlap: pg1-path, a posix repository's
// path (repoN-path), or a relative path. `protectedPaths` are (option name, path) pairs.
DrillPaths drillPaths(const std::string& drillPath, const std::string& stanza,
                      const std::vector<std::pair<std::string, std::string>>& protectedPaths);
// drillPaths with pg1-path and every posix repository of `config`.
DrillPaths drillPaths(const Config& config);

// Free bytes for an unprivileged user under `path` (statvfs).
uint64_t freeBytes(const std::string& path);
// What a drill of a backup of `backupSize` bytes needs free: the files, a tenth more for the WAL
// recovery writes and the checks' amcheck extension, and 64 MiB.
uint64_t drillSpaceNeeded(uint64_t backupSize);

// Holds the drill's lock (LockError naming the holder when another drill of the stanza runs in
// drill-path), then removes what an earlier drill killed before its cleanup left (stopping the
// server it may have left running), and creates the scratch directory (0700).
class DrillScratch {
  public:
    explicit DrillScratch(const DrillPaths& paths);
    ~DrillScratch();  // removes the scratch directory
    DrillScratch(const DrillScratch&) = delete;
    DrillScratch& operator=(const DrillScratch&) = delete;

    // Removes the scratch directory now; an error names it.
    void remove();

  private:
    void removeLeftover();

    DrillPaths paths_;
    std::unique_ptr<repo::FileLock> lock_;
    bool present_ = false;
};

}  // namespace backrest::cmd
