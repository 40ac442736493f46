// Restore target safety: running clusters on this host, pg1-path's postmaster.pid, and the
// marker of an unfinished restore.
#include "worker/restore_target.h"

#include <dirent.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/log.h"
#include "storage/posix.h"
#include "worker/restore_owner.h"

namespace backrest::cmd {

namespace {

// Symlinks resolved where the path exists, so "/a/link/x" and "/a/real/x" compare equal.
std::string canonical(const std::string& path) {
    std::error_code ec;
    auto p = std::filesystem::weakly_canonical(path, ec);
    return (ec ? std::filesystem::path(path).lexically_normal() : p).string();
}

std::optional<std::string> readLink(const std::string& path, int* err = nullptr) {
    char buf[PATH_MAX];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    if (n < 0) {
        if (err) *err = errno;
        return std::nullopt;
    }
    return std::string(buf, static_cast<size_t>(n));
}

std::string firstLine(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
}

bool isPostgresName(const std::string& comm) {
    return comm == "postgres" || comm == "postmaster";
}

// "pid (comm) state ppid ...": the name may hold spaces and parentheses, so parse after the last
// ')'.
pid_t parentOf(pid_t pid) {
    std::string stat = firstLine(fmt::format("/proc/{}/stat", pid));
    auto close = stat.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    long ppid = 0;
    rest >> state >> ppid;
    return static_cast<pid_t>(ppid);
}

// The same directory under two paths (a bind mount, a second mount of a file system) has the
// same device and inode: paths alone do not show it.
bool sameDirectory(const std::string& a, const std::string& b) {
    struct stat sa {
    }, sb{};
    return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

// `inner` or one of its existing ancestors is the directory `outer` (by device and inode).
bool isWithin(const std::string& inner, const std::string& outer) {
    for (std::filesystem::path p(inner); !p.empty(); p = p.parent_path()) {
        if (sameDirectory(p.string(), outer)) return true;
        if (p == p.parent_path()) break;
    }
    return false;
}

// How `target` relates to `used`: "is", "is inside", "contains" or "" (unrelated), by path, then
// by identity for a directory reached under another path.
std::string relation(const std::string& target, const std::string& used) {
    if (target == used) return "is";
    if (target.starts_with(used + "/") || used == "/") return "is inside";
    if (used.starts_with(target + "/") || target == "/") return "contains";
    if (sameDirectory(target, used)) return "is";
    if (isWithin(target, used)) return "is inside";
    if (isWithin(used, target)) return "contains";
    return "";
}

// The directories a live data directory uses besides itself: its tablespaces and a linked pg_wal.
void addLinkedDirectories(LiveCluster& cluster) {
    const std::string& dir = cluster.dataDirectory;
    if (DIR* d = ::opendir((dir + "/pg_tblspc").c_str())) {
        while (struct dirent* e = ::readdir(d)) {
            if (e->d_name[0] == '.') continue;
            if (auto dest = readLink(dir + "/pg_tblspc/" + e->d_name))
                cluster.directories.push_back(
                    {canonical(dest->starts_with("/") ? *dest : dir + "/pg_tblspc/" + *dest),
                     fmt::format("tablespace pg_tblspc/{}", e->d_name)});
        }
        ::closedir(d);
    }
    if (auto wal = readLink(dir + "/pg_wal"))
        cluster.directories.push_back(
            {canonical(wal->starts_with("/") ? *wal : dir + "/" + *wal), "the linked pg_wal"});
}

enum class PidState { None, Running, Stale };
struct PostmasterPid {
    PidState state = PidState::None;
    pid_t pid = 0;
    std::string why;  // for a stale one: what shows it is not this directory's server
};

// A postmaster.pid proves nothing alone: its pid may be dead (a crash, kill -9) or reused by an
// unrelated process. It is live when that pid runs with this directory as its working directory,
// or when that cannot be read (another user's process): then it is assumed live.
PostmasterPid postmasterPid(const std::string& dir) {
    PostmasterPid out;
    std::string file = dir + "/postmaster.pid";
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return out;
    std::string line = firstLine(file);
    long pid = std::strtol(line.c_str(), nullptr, 10);
    out.state = PidState::Running;  // unreadable or malformed: assume the worst
    out.pid = static_cast<pid_t>(pid);
    if (pid <= 0) return out;
    if (::kill(out.pid, 0) != 0 && errno == ESRCH) {
        out.state = PidState::Stale;
        out.why = "which is not running";
        return out;
    }
    if (auto cwd = readLink(fmt::format("/proc/{}/cwd", pid));
        cwd && canonical(*cwd) != canonical(dir) && !sameDirectory(*cwd, dir)) {
        out.state = PidState::Stale;
        out.why = fmt::format("which is now another process (working directory '{}')", *cwd);
    }
    return out;
}

bool isEmptyDirectory(const std::string& path) {
    std::error_code ec;
    return std::filesystem::directory_iterator(path, ec) == std::filesystem::directory_iterator();
}

}  // namespace

std::vector<LiveCluster> runningClusters(std::vector<std::string>& unchecked) {
    std::vector<LiveCluster> out;
    DIR* proc = ::opendir("/proc");
    if (!proc) {
        unchecked.push_back(fmt::format("every process (/proc: {})", std::strerror(errno)));
        return out;
    }
    while (struct dirent* e = ::readdir(proc)) {
        char* end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (pid <= 0 || *end != '\0') continue;
        if (!isPostgresName(firstLine(fmt::format("/proc/{}/comm", pid)))) continue;
        pid_t parent = parentOf(static_cast<pid_t>(pid));
        if (parent > 0 && isPostgresName(firstLine(fmt::format("/proc/{}/comm", parent)))) continue;
        int err = 0;
        auto cwd = readLink(fmt::format("/proc/{}/cwd", pid), &err);
        if (!cwd) {
            if (err == ENOENT) continue;  // it exited meanwhile
            struct stat st {};
            std::string owner = ::stat(fmt::format("/proc/{}", pid).c_str(), &st) == 0
                                    ? fmt::format("uid {}", st.st_uid)
                                    : std::string("unknown user");
            unchecked.push_back(fmt::format("pid {} ({}: {})", pid, owner, std::strerror(err)));
            continue;
        }
        LiveCluster cluster;
        cluster.pid = static_cast<pid_t>(pid);
        cluster.dataDirectory = canonical(*cwd);
        cluster.directories.push_back({cluster.dataDirectory, "the data directory"});
        addLinkedDirectories(cluster);
        out.push_back(std::move(cluster));
    }
    ::closedir(proc);
    return out;
}

std::optional<RestoreMarker> readRestoreMarker(const std::string& dataPath) {
    std::ifstream in(dataPath + "/" + kRestoreMarker);
    if (!in) return std::nullopt;
    RestoreMarker marker;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("label=")) marker.label = line.substr(6);
        if (line.starts_with("location=")) marker.locations.push_back(line.substr(9));
    }
    return marker;
}

void writeRestoreMarker(const std::string& dataPath, const RestoreMarker& marker,
                        RestoreOwner& owner) {
    std::string content =
        "# backrest: a restore into this directory has not finished; run it again to complete it\n";
    content += "label=" + marker.label + "\n";
    for (const auto& l : marker.locations) content += "location=" + l + "\n";
    storage::PosixStorage dir(dataPath);
    storage::WriteOptions write;
    write.mode = 0600;
    storage::writeAll(dir, kRestoreMarker, content, write);
    owner.adopt(dataPath + "/" + kRestoreMarker);
}

void removeRestoreMarker(const std::string& dataPath) {
    storage::PosixStorage dir(dataPath);
    dir.remove(kRestoreMarker, false);
    dir.pathSync("");
}

namespace {

// One restore target as its messages name it.
struct TargetCheck {
    const std::string& name;      // manifest target name: "pg_data", "pg_tblspc/16385", ...
    const std::string& location;  // where it is restored
    const repo::ManifestTarget* target = nullptr;  // nullptr for a linked pg_wal
    bool data = false, tablespace = false;
    std::string what;    // "data directory", "tablespace directory", "pg_wal link destination"
    std::string tsName;  // a tablespace's name, else its oid
    std::string hint;    // what to do instead
};

TargetCheck describeTarget(const repo::Manifest& manifest, const std::string& name,
                           const std::string& location) {
    TargetCheck c{name, location, nullptr, false, false, {}, {}, {}};
    for (const auto& t : manifest.targets)
        if (t.name == name) c.target = &t;
    c.data = name == "pg_data";
    c.tablespace = name.starts_with("pg_tblspc/");
    c.what = c.data         ? "data directory"
             : c.tablespace ? "tablespace directory"
                            : "pg_wal link destination";
    c.tsName = c.tablespace && c.target
                   ? (c.target->tablespaceName.empty() ? std::to_string(c.target->tablespaceOid)
                                                       : c.target->tablespaceName)
                   : "";
    c.hint =
        c.tablespace
            ? fmt::format("restore the tablespace elsewhere with --tablespace-map={}=/new/path",
                          c.tsName)
        : c.data ? "stop that server first, or restore to another --pg1-path"
                 : "stop that server first";
    return c;
}

// The target is not, does not contain and does not lie in a directory a running cluster uses.
void refuseLiveClusterDirectory(const TargetCheck& c, const std::vector<LiveCluster>& live) {
    std::string path = canonical(c.location);
    for (const auto& cluster : live)
        for (const auto& used : cluster.directories)
            if (auto rel = relation(path, used.path); !rel.empty()) {
                if (used.path == cluster.dataDirectory && rel == "is")
                    raise(ErrorCode::Postmaster,
                          "restore: PostgreSQL is running on {} '{}'{} (pid {}): {}", c.what,
                          c.location,
                          path == used.path
                              ? ""
                              : fmt::format(" (the same directory as '{}')", used.path),
                          cluster.pid, c.hint);
                std::string where = rel == "is"
                                        ? fmt::format("is {}", used.role)
                                        : fmt::format("{} '{}', {}", rel, used.path, used.role);
                raise(ErrorCode::Postmaster,
                      "restore: {} '{}' {} of the PostgreSQL running on '{}' (pid {}): {}", c.what,
                      c.location, where, cluster.dataDirectory, cluster.pid, c.hint);
            }
}

// pg1-path's own postmaster.pid: a live one, or a stale one in a directory no restore marked.
void refusePostmasterPid(const std::string& location, bool marked) {
    auto pidFile = postmasterPid(location);
    if (pidFile.state == PidState::Running)
        raise(ErrorCode::Postmaster,
              "restore: PostgreSQL is running on data directory '{}' (pid {} of its "
              "postmaster.pid, whose "
              "process could not be checked): stop it before restoring",
              location, pidFile.pid);
    if (pidFile.state == PidState::Stale && !marked)
        raise(ErrorCode::Postmaster,
              "restore: postmaster.pid in '{}' names pid {}, {}: a server stopped without "
              "removing it (a "
              "crash, kill -9); if no PostgreSQL uses '{}', remove '{}/postmaster.pid' and "
              "run the restore again",
              location, pidFile.pid, pidFile.why, location, location);
}

// A restore to a new pg1-path puts a tablespace not remapped at its original location: the
// original cluster's, if it runs (even where /proc could not tell).
void refuseOriginalClusterTablespace(const TargetCheck& c, const repo::Manifest& manifest,
                                     const std::string& originalData, const std::string& dataPath) {
    if (c.tablespace && c.target && c.location == c.target->path && !originalData.empty() &&
        canonical(originalData) != canonical(dataPath))
        if (auto original = postmasterPid(originalData); original.state == PidState::Running)
            raise(ErrorCode::Postmaster,
                  "restore: tablespace directory '{}' is tablespace {} of the PostgreSQL "
                  "running on '{}' (pid {}), "
                  "the cluster backup {} was taken from: {}",
                  c.location, c.tsName, originalData, original.pid, manifest.label, c.hint);
}

// A target that exists must be a directory; a non-empty one is restored over only with --delta
// or when it holds an unfinished restore (of this backup, or replaced with --delta).
void refuseNonEmpty(const TargetCheck& c, const repo::Manifest& manifest,
                    const std::string& dataPath, const std::optional<RestoreMarker>& marker,
                    const TargetDecision& decision, bool delta) {
    const std::string& location = c.location;
    struct stat st {};
    if (::stat(location.c_str(), &st) != 0) return;
    if (!S_ISDIR(st.st_mode))
        raise(ErrorCode::PathNotEmpty, "restore: {} '{}' exists and is not a directory", c.what,
              location);
    if (isEmptyDirectory(location)) return;
    if (marker &&
        (c.data || std::count(marker->locations.begin(), marker->locations.end(), location))) {
        if (decision.delta) return;  // an unfinished restore: of this backup, or replaced (--delta)
        raise(ErrorCode::PathNotEmpty,
              "restore: '{}' holds an unfinished restore of backup {} ('{}/{}'): run that "
              "restore again to "
              "complete it, or use --delta to restore backup {} over it",
              location, marker->label, dataPath, kRestoreMarker, manifest.label);
    }
    if (!delta) {
        if (c.tablespace)
            raise(ErrorCode::PathNotEmpty,
                  "restore: tablespace directory '{}' (tablespace {}) is not empty and holds "
                  "no unfinished restore "
                  "of backup {}: {}",
                  location, c.tsName, manifest.label, c.hint);
        raise(ErrorCode::PathNotEmpty,
              "restore: {} '{}' is not empty; restore into an empty directory, or use --delta "
              "to restore over an "
              "existing copy of this cluster",
              c.what, location);
    }
    if (c.data && ::access((location + "/PG_VERSION").c_str(), F_OK) != 0)
        raise(ErrorCode::PathNotEmpty,
              "restore --delta: '{}' is not empty and has no PG_VERSION: it does not look like "
              "a PostgreSQL data "
              "directory; refusing to delete its contents",
              location);
}

// Another user's postmaster cannot be read unless we are root; it also cannot be written by us
// (PostgreSQL keeps its directories 0700), so it is named, not refused.
void warnUnchecked(const std::vector<std::string>& unchecked) {
    if (unchecked.empty()) return;
    std::string list;
    for (const auto& u : unchecked) list += (list.empty() ? "" : ", ") + u;
    logWarn(
        "restore: could not read the directories of PostgreSQL server(s) {}: not checked "
        "against the "
        "restore targets (run as root to check them)",
        list);
}

}  // namespace

TargetDecision checkRestoreTargets(const repo::Manifest& manifest,
                                   const std::map<std::string, std::string>& locations,
                                   const std::string& dataPath, bool delta) {
    auto marker = readRestoreMarker(dataPath);
    TargetDecision decision;
    decision.resumed = marker && marker->label == manifest.label;
    decision.replacing = marker && marker->label != manifest.label;
    decision.delta = delta || decision.resumed;
    std::vector<std::string> unchecked;
    auto live = runningClusters(unchecked);
    std::string originalData;
    for (const auto& t : manifest.targets)
        if (t.name == "pg_data") originalData = t.path;

    for (const auto& [name, location] : locations) {
        TargetCheck c = describeTarget(manifest, name, location);
        refuseLiveClusterDirectory(c, live);
        if (c.data) refusePostmasterPid(location, marker.has_value());
        refuseOriginalClusterTablespace(c, manifest, originalData, dataPath);
        refuseNonEmpty(c, manifest, dataPath, marker, decision, delta);
    }
    warnUnchecked(unchecked);
    return decision;
}

}  // namespace backrest::cmd
