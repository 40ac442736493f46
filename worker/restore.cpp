// restore: rebuilds a data directory (and its tablespaces) from a backup, verifying every file's
// checksum, writes global/pg_control last (a half-restored directory cannot start), writes the
// recovery settings, and fsyncs everything before it reports success.
//
// The command reads as its steps, in the order that keeps a restore safe to kill at any point:
// choose the backup and check its WAL, map and check the targets, mark pg1-path as being
// restored, clean it (--delta), make directories and links, restore the files, write the
// recovery settings, fsync the directories, then pg_control and remove the mark.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include "common/error.h"
#include "common/log.h"
#include "common/parallel.h"
#include "repo/info.h"
#include "repo/manifest.h"
#include "storage/posix.h"
#include "storage/read_cache.h"
#include "worker/backup_readers.h"
#include "worker/commands.h"
#include "worker/context.h"
#include "worker/recovery_config.h"
#include "worker/restore_delta.h"
#include "worker/restore_files.h"
#include "worker/restore_lock.h"
#include "worker/restore_map.h"
#include "worker/restore_owner.h"
#include "worker/restore_plan.h"
#include "worker/restore_target.h"

namespace backrest::cmd {

namespace {

// Each directory's fsync waits for the disk on its own: as many at once as the files' closes.
constexpr size_t kDirectorySyncThreads = 8;

// Bundles held in memory at once by a restore from an object store: enough for every thread to
// work on a few bundles, each at most repo1-bundle-size (8 MiB) of original bytes, stored smaller.
constexpr size_t kCachedBundles = 16;
constexpr uint64_t kCachedBundleBytes = 16ull << 20;

// An object store: each bundle is read whole once, and its files' ranges served from memory
// (a GET per small file costs the server's round trip each). A filesystem reads ranges as
// cheaply as whole files.
std::unique_ptr<storage::Storage> openRestoreRepository(const Config& config) {
    auto repo = openRepo(config);
    if (!repo->features().path)
        repo = std::make_unique<storage::ReadCache>(
            std::move(repo),
            [](const std::string& path) { return path.find("/bundle/") != std::string::npos; },
            kCachedBundles, kCachedBundleBytes);
    return repo;
}

// Before anything is removed or written: pg1-path exists (the cluster's owner's, 0700) and holds
// the marker naming this backup and its targets, so a restore killed from here on is completed
// by running it again. Without pg_control a half-done restore cannot be started by mistake.
void markRestoreBegun(storage::Storage& fs, const std::string& dataPath, const repo::Manifest& m,
                      const TargetLocations& locations, RestoreOwner& owner) {
    owner.createPath(dataPath, 0700);
    RestoreMarker marker{m.label, {}};
    for (const auto& [target, location] : locations) marker.locations.push_back(location);
    writeRestoreMarker(dataPath, marker, owner);
    fs.remove(dataPath + "/global/pg_control");
}

// --delta: removes from the targets what the backup does not have, and finds what already
// matches it.
DeltaPlan cleanTargetsForDelta(const Config& config, storage::Storage& fs,
                               const repo::Manifest& manifest, const TargetLocations& locations,
                               const std::string& dataPath, bool replacing) {
    DeltaInput in;
    in.manifest = &manifest;
    for (const auto& f : manifest.files)
        in.fileDestinations.push_back(destinationOf(locations, f.name));
    for (const auto& p : manifest.paths) in.directories.insert(destinationOf(locations, p.name));
    for (const auto& l : manifest.links) {
        auto link = restoredLink(l, dataPath, locations);
        in.links[link.path] = link.destination;
    }
    for (const auto& [target, location] : locations) in.roots.push_back(location);
    in.preserve.insert(dataPath + "/" + kRestoreMarker);
    // --force compares size and time; a file another backup's unfinished restore left may have
    // this backup's size and time and other bytes.
    in.force = config.getBool(opt::force) && !replacing;
    in.processMax = static_cast<size_t>(config.getInt(opt::processMax));
    return prepareDelta(fs, in);
}

// Directories first (each target, then every path in name order), then the links.
void createDirectoriesAndLinks(storage::Storage& fs, const repo::Manifest& manifest,
                               const TargetLocations& locations, const std::string& dataPath,
                               RestoreOwner& owner) {
    for (const auto& p : manifest.paths) {
        std::string dest = destinationOf(locations, p.name);
        owner.createPath(dest, p.mode);
        if (::chmod(dest.c_str(), p.mode) != 0)
            raiseErrno(ErrorCode::FileWrite, "unable to set mode of", dest);
        owner.apply(dest, p.user, p.group);
    }
    for (const auto& l : manifest.links) {
        auto link = restoredLink(l, dataPath, locations);
        if (auto existing = fs.info(link.path); existing &&
                                                existing->type == storage::FileType::Link &&
                                                existing->linkDestination == link.destination)
            continue;  // --delta kept it
        if (::symlink(link.destination.c_str(), link.path.c_str()) != 0)
            raiseErrno(ErrorCode::FileWrite,
                       fmt::format("unable to create link to '{}' at", link.destination),
                       link.path);
        owner.adopt(link.path);
    }
}

// PostgreSQL recreates the pg_tblspc links from tablespace_map when it starts: the file must
// name where the tablespaces were restored, or a remapped restore would write into the
// original locations (possibly a running cluster's).
void writeTablespaceMap(storage::Storage& dataDir, const repo::Manifest& m,
                        const TargetLocations& locations, RestoreOwner& owner) {
    bool hasMap = false;
    for (const auto& f : m.files) hasMap = hasMap || f.name == "pg_data/tablespace_map";
    if (!hasMap) return;
    std::string content;
    for (const auto& t : m.targets)
        if (t.tablespaceOid != 0)
            content += fmt::format("{} {}\n", t.tablespaceOid, locations.at(t.name));
    storage::WriteOptions write;
    write.mode = 0600;
    storage::writeAll(dataDir, "tablespace_map", content, write);
    owner.adopt(locations.at("pg_data") + "/tablespace_map");
}

// What PostgreSQL reads when it starts: tablespace_map, the recovery settings and signal files.
void writeRecoveryFiles(const std::string& dataPath, const repo::Manifest& manifest,
                        const TargetLocations& locations, const RecoverySettings& recovery,
                        RestoreOwner& owner) {
    storage::PosixStorage dataDir(dataPath);
    writeTablespaceMap(dataDir, manifest, locations, owner);
    for (const auto& name : writeRecoveryConfig(dataDir, recovery))
        owner.adopt(dataPath + "/" + name);
}

void syncDirectories(storage::Storage& fs, const repo::Manifest& manifest,
                     const TargetLocations& locations) {
    std::set<std::string> dirSet;
    for (const auto& p : manifest.paths) dirSet.insert(destinationOf(locations, p.name));
    std::vector<std::string> dirs(dirSet.begin(), dirSet.end());
    runBlocking(kDirectorySyncThreads, dirs.size(), [&](size_t i) { fs.pathSync(dirs[i]); });
}

// The last step: pg_control once everything else is durable, then the marker goes. A restore
// killed before this leaves a directory PostgreSQL refuses to start and the next run completes.
void restoreControlLast(storage::Storage& fs, FileRestorer& files, const std::string& dataPath) {
    files.restoreControl();
    fs.pathSync(dataPath + "/global");
    removeRestoreMarker(dataPath);
}

struct RestoreOutcome {
    bool resumed = false;  // an unfinished restore of this backup was completed
    bool delta = false;
    const DeltaPlan* deltaPlan = nullptr;
    uint64_t blocksCompared = 0, blocksWritten = 0;
    std::string fallbackNote;  // "restored from repo2 (...) after repo1 failed (...)"
};

void printSummary(const std::string& label, const repo::Manifest& manifest,
                  const std::string& dataPath, double seconds, const RecoverySettings& recovery,
                  const RestoreOutcome& outcome) {
    uint64_t size = manifest.totalSize();
    std::string deltaSummary =
        outcome.resumed ? "; resumed an unfinished restore of this backup" : "";
    if (outcome.delta)
        deltaSummary += fmt::format(
            "; delta: {} files kept, {} patched, {} block-stored files compared block by "
            "block: {} blocks compared, {} restored",
            outcome.deltaPlan->keep.size(), outcome.deltaPlan->patch.size(),
            outcome.deltaPlan->blocks.size(), outcome.blocksCompared, outcome.blocksWritten);
    if (!outcome.fallbackNote.empty()) deltaSummary += "; " + outcome.fallbackNote;
    fmt::print("restore {}: {} in {} files to '{}', {:.1f} s, {}/s; recovery {}{}\n", label,
               formatBytes(size), manifest.files.size(), dataPath, seconds,
               formatBytes(static_cast<uint64_t>(size / std::max(seconds, 0.001))),
               recovery.describe(), deltaSummary);
}

}  // namespace

int restore(const Config& config, const std::string& fallbackNote) {
    double started = nowSeconds();
    auto repo = openRestoreRepository(config);
    auto layout = stanzaLayout(config);
    auto backupInfo = repo::requireBackupInfo(*repo, layout);
    std::string dataPath = pgPath(config);
    auto recovery = recoverySettings(config);
    bool delta = config.getBool(opt::delta);
    // Which backup, and is all its recovery needs in the repository: before anything is written.
    // (planRestore also pins the recovery timeline when a restore drill branched the archive.)
    auto plan = planRestore(config, *repo, layout, backupInfo, recovery);
    const repo::Manifest& manifest = plan.manifest;
    // From here until it is done, an expire beside it keeps the backup and its chain; a backup
    // expired since it was chosen is an error here, before anything is written.
    BackupReaders readers(config, layout);
    backupInfo = holdForRestore(readers, *repo, layout, plan.label);

    storage::PosixStorage rootStorage("/");
    storage::Storage& fs = rootStorage;  // through the interface, for its default arguments
    auto locations = targetLocations(config, manifest, dataPath);
    checkRestoreTargets(manifest, locations, dataPath, delta);  // before anything is written
    RestoreOwner owner(dataPath, manifest);
    owner.createPath(dataPath, 0700);
    // One restore at a time into pg1-path; checked again under the lock, since another restore
    // may have written into it between the check above and the lock.
    RestoreDirectoryLock directoryLock(dataPath);
    auto targets = checkRestoreTargets(manifest, locations, dataPath, delta);
    delta = targets.delta;  // resuming an unfinished restore of this backup is a delta restore
    markRestoreBegun(fs, dataPath, manifest, locations, owner);

    DeltaPlan deltaPlan;
    if (delta)
        deltaPlan =
            cleanTargetsForDelta(config, fs, manifest, locations, dataPath, targets.replacing);
    createDirectoriesAndLinks(fs, manifest, locations, dataPath, owner);
    FileRestorer files(config, *repo, layout, backupInfo, plan, locations, deltaPlan, owner,
                       rootStorage);
    files.restoreAllButControl();
    writeRecoveryFiles(dataPath, manifest, locations, recovery, owner);
    syncDirectories(fs, manifest, locations);
    restoreControlLast(fs, files, dataPath);

    printSummary(plan.label, manifest, dataPath, nowSeconds() - started, recovery,
                 {targets.resumed, delta, &deltaPlan, files.blocksCompared(), files.blocksWritten(),
                  fallbackNote});
    return 0;
}

}  // namespace backrest::cmd
