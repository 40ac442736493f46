// The scratch directory of a restore drill (worker/drill_scratch.h).
#include "worker/drill_scratch.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/log.h"
#include "worker/drill_cluster.h"

namespace backrest::cmd {

namespace {

namespace fs = std::filesystem;

std::string normalized(const std::string& path) {
    std::error_code ec;
    auto p = fs::weakly_canonical(fs::path(path), ec);
    if (ec) p = fs::path(path).lexically_normal();
    std::string out = p.string();
    while (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
}

}  // namespace

bool pathWithin(const std::string& inner, const std::string& outer) {
    std::string i = normalized(inner), o = normalized(outer);
    return i == o || i.starts_with(o == "/" ? o : o + "/");
}

DrillPaths drillPaths(const std::string& drillPath, const std::string& stanza,
                      const std::vector<std::pair<std::string, std::string>>& protectedPaths) {
    if (drillPath.empty() || drillPath[0] != '/')
        raise(ErrorCode::Option, "option 'drill-path' must be an absolute path (not '{}')",
              drillPath);
    DrillPaths p;
    p.drillPath = normalized(drillPath);
    p.scratch = p.drillPath + "/backrest-drill-" + stanza;
    p.data = p.scratch + "/data";
    p.tablespaces = p.scratch + "/tablespace";
    p.lockFile = p.scratch + ".lock";
    for (const auto& [name, path] : protectedPaths) {
        if (path.empty()) continue;
        if (pathWithin(p.drillPath, path))
            raise(ErrorCode::Option,
                  "option 'drill-path' ('{}') is {} {} ('{}'): a drill never writes where the "
                  "running cluster or the repository keeps its files; choose a directory "
                  "outside it",
                  drillPath, normalized(path) == p.drillPath ? "the same directory as" : "inside",
                  name, path);
        if (pathWithin(path, p.scratch))
            raise(ErrorCode::Option,
                  "option 'drill-path' ('{}'): {} ('{}') is inside the drill's scratch directory "
                  "'{}', which every drill removes; choose another drill-path",
                  drillPath, name, path, p.scratch);
    }
    return p;
}

DrillPaths drillPaths(const Config& config) {
    std::vector<std::pair<std::string, std::string>> protectedPaths;
    if (auto pg = config.find(opt::pg1Path)) protectedPaths.emplace_back("pg1-path", *pg);
    Config all = config.whole();
    for (int index : all.repoIndexes()) {
        Config repo = all.forRepo(index);
        if (repo.getString(opt::repo1Type) == "posix")
            protectedPaths.emplace_back(fmt::format("repo{}-path", index),
                                        repo.getString(opt::repo1Path));
    }
    return drillPaths(config.getString(opt::drillPath), config.getString(opt::stanza),
                      protectedPaths);
}

uint64_t freeBytes(const std::string& path) {
    struct statvfs st {};
    if (::statvfs(path.c_str(), &st) != 0)
        raiseErrno(ErrorCode::FileOpen, "drill: unable to read the free space of", path);
    return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

uint64_t drillSpaceNeeded(uint64_t backupSize) {
    return backupSize + backupSize / 10 + (64ull << 20);
}

DrillScratch::DrillScratch(const DrillPaths& paths) : paths_(paths) {
    std::error_code ec;
    fs::create_directories(paths_.drillPath, ec);
    if (ec)
        raise(ErrorCode::FileWrite, "option 'drill-path': unable to create '{}': {}",
              paths_.drillPath, ec.message());
    lock_ = repo::FileLock::tryAcquire(paths_.lockFile, repo::FileLock::Mode::Exclusive);
    if (!lock_)
        raise(ErrorCode::Lock,
              "drill: another drill of this stanza is running in '{}' ({}): wait for it to end",
              paths_.drillPath, repo::lockHolders(paths_.lockFile));
    removeLeftover();
    if (::mkdir(paths_.scratch.c_str(), 0700) != 0)
        raiseErrno(ErrorCode::FileWrite, "drill: unable to create the scratch directory",
                   paths_.scratch);
    present_ = true;
}

DrillScratch::~DrillScratch() {
    try {
        remove();
    } catch (const std::exception& e) {
        logWarn("{}", e.what());
    }
}

void DrillScratch::remove() {
    if (!present_) return;
    std::error_code ec;
    fs::remove_all(paths_.scratch, ec);
    if (ec)
        raise(ErrorCode::FileWrite, "drill: unable to remove the scratch directory '{}': {}",
              paths_.scratch, ec.message());
    present_ = false;
}

// A drill killed with -9 leaves its directory and possibly its server; under the lock, no drill
// uses them any more.
void DrillScratch::removeLeftover() {
    struct stat st {};
    if (::lstat(paths_.scratch.c_str(), &st) != 0) return;
    if (!S_ISDIR(st.st_mode))
        raise(ErrorCode::PathNotEmpty,
              "drill: '{}' exists and is not a directory a drill made: remove it or choose "
              "another drill-path",
              paths_.scratch);
    std::string version;
    std::ifstream(paths_.data + "/PG_VERSION") >> version;
    bool stopped = false;
    if (!version.empty() && fs::exists(paths_.data + "/postmaster.pid"))
        stopped = DrillCluster::stopLeftover(paths_.data, postgresBinDir(version),
                                             paths_.drillPath + "/backrest-drill-leftover.out");
    std::error_code ec;
    fs::remove_all(paths_.scratch, ec);
    if (ec)
        raise(ErrorCode::FileWrite,
              "drill: unable to remove '{}', left by an earlier drill that did not finish: {}",
              paths_.scratch, ec.message());
    fs::remove(paths_.drillPath + "/backrest-drill-leftover.out", ec);
    logWarn("drill: removed '{}', left by an earlier drill that did not finish{}", paths_.scratch,
            stopped ? " (its server was still running: stopped)" : "");
}

}  // namespace backrest::cmd
