// restore: rebuilds a data directory (and its tablespaces) from a backup, verifying every file's
// checksum, writes global/pg_control last (a half-restored directory cannot start), writes the
// recovery settings, and fsyncs everything before it reports success.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "common/error.h"
#include "common/log.h"
#include "common/parallel.h"
#include "repo/block_transfer.h"
#include "repo/bundle.h"
#include "repo/file_transfer.h"
#include "repo/framed_fetch.h"
#include "repo/info.h"
#include "repo/manifest.h"
#include "repo/piece.h"
#include "storage/posix.h"
#include "storage/read_cache.h"
#include "worker/backup_readers.h"
#include "worker/commands.h"
#include "worker/context.h"
#include "worker/recovery_config.h"
#include "worker/restore_delta.h"
#include "worker/restore_lock.h"
#include "worker/restore_owner.h"
#include "worker/restore_plan.h"
#include "worker/restore_target.h"

namespace backrest::cmd {

namespace {

constexpr size_t kClosingThreads = 8;
constexpr size_t kDirectorySyncThreads = kClosingThreads;  // the same wait for the disk

// Where each manifest target goes: pg_data to pg1-path, tablespaces to their original location
// unless remapped with --tablespace-map (oid or name) or --tablespace-map-all.
std::map<std::string, std::string> targetLocations(const Config& config, const repo::Manifest& m,
                                                   const std::string& dataPath) {
    std::map<std::string, std::string> remap;
    for (const auto& entry : config.getMulti(opt::tablespaceMap)) {
        auto eq = entry.find('=');
        if (eq == std::string::npos || eq == 0 || entry.size() == eq + 1 || entry[eq + 1] != '/')
            raise(ErrorCode::Option,
                  "invalid value '{}' for option 'tablespace-map' (expected <oid or "
                  "name>=/absolute/path)",
                  entry);
        remap[entry.substr(0, eq)] = entry.substr(eq + 1);
    }
    auto all = config.find(opt::tablespaceMapAll);
    std::map<std::string, std::string> out;
    std::set<std::string> used;
    for (const auto& t : m.targets) {
        if (t.name == "pg_data") {
            out[t.name] = dataPath;
            continue;
        }
        std::string location = t.path;
        std::string oid = std::to_string(t.tablespaceOid);
        if (all) location = *all + "/" + (t.tablespaceName.empty() ? oid : t.tablespaceName);
        if (remap.count(oid)) location = remap[oid], used.insert(oid);
        if (remap.count(t.tablespaceName))
            location = remap[t.tablespaceName], used.insert(t.tablespaceName);
        out[t.name] = location;
    }
    // A linked pg_wal is restored at its link's destination.
    for (const auto& l : m.links)
        if (l.name == "pg_data/pg_wal") out["pg_data/pg_wal"] = l.destination;
    for (const auto& [key, path] : remap)
        if (!used.count(key))
            raise(ErrorCode::Option,
                  "option 'tablespace-map': backup {} has no tablespace with oid or name '{}'",
                  m.label, key);
    // Two targets in one directory would write over each other (and a delta restore of one would
    // remove the other's files); a tablespace inside another's directory likewise.
    for (auto a = out.begin(); a != out.end(); ++a)
        for (auto b = std::next(a); b != out.end(); ++b) {
            auto pa = std::filesystem::path(a->second).lexically_normal().string();
            auto pb = std::filesystem::path(b->second).lexically_normal().string();
            while (pa.size() > 1 && pa.back() == '/') pa.pop_back();
            while (pb.size() > 1 && pb.back() == '/') pb.pop_back();
            bool nested = a->first != "pg_data" && b->first != "pg_data" &&
                          (pa.starts_with(pb + "/") || pb.starts_with(pa + "/"));
            if (pa == pb || nested)
                raise(ErrorCode::Option,
                      "restore: {} and {} of backup {} would both be restored {} '{}'; give each "
                      "its own "
                      "directory with --tablespace-map=<name>=/path",
                      a->first, b->first, m.label, pa == pb ? "into" : "in or under",
                      pa.size() < pb.size() ? pa : pb);
        }
    return out;
}

// Absolute destination of a manifest name ("pg_data/base/1", "pg_tblspc/16385/PG_15_...").
std::string destinationOf(const std::map<std::string, std::string>& locations,
                          const std::string& name) {
    std::string best;
    for (const auto& [target, location] : locations)
        if ((name == target || name.starts_with(target + "/")) && target.size() > best.size())
            best = target;
    if (best.empty()) raise(ErrorCode::Format, "manifest entry '{}' belongs to no target", name);
    return locations.at(best) + name.substr(best.size());
}

// PostgreSQL recreates the pg_tblspc links from tablespace_map when it starts: the file must
// name where the tablespaces were restored, or a remapped restore would write into the
// original locations (possibly a running cluster's).
void writeTablespaceMap(storage::Storage& dataDir, const repo::Manifest& m,
                        const std::map<std::string, std::string>& locations, RestoreOwner& owner) {
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

// Before anything is removed or written: pg1-path exists (the cluster's owner's, 0700) and holds
// the marker naming this backup and its targets, so a restore killed from here on is completed
// by running it again. Without pg_control a half-done restore cannot be started by mistake.
void beginRestore(storage::Storage& fs, const std::string& dataPath, const repo::Manifest& m,
                  const std::map<std::string, std::string>& locations, RestoreOwner& owner) {
    owner.createPath(dataPath, 0700);
    RestoreMarker marker{m.label, {}};
    for (const auto& [target, location] : locations) marker.locations.push_back(location);
    writeRestoreMarker(dataPath, marker, owner);
    fs.remove(dataPath + "/global/pg_control");
}

// Bundles held in memory at once by a restore from an object store: enough for every thread to
// work on a few bundles, each at most repo1-bundle-size (8 MiB) of original bytes, stored smaller.
constexpr size_t kCachedBundles = 16;
constexpr uint64_t kCachedBundleBytes = 16ull << 20;

}  // namespace

int restore(const Config& config) {
    double started = nowSeconds();
    auto repo = openRepo(config);
    // An object store: each bundle is read whole once, and its files' ranges served from memory
    // (a GET per small file costs the server's round trip each). A filesystem reads ranges as
    // cheaply as whole files.
    if (!repo->features().path)
        repo = std::make_unique<storage::ReadCache>(
            std::move(repo),
            [](const std::string& path) { return path.find("/bundle/") != std::string::npos; },
            kCachedBundles, kCachedBundleBytes);
    auto layout = stanzaLayout(config);
    auto backupInfo = repo::requireBackupInfo(*repo, layout);
    std::string dataPath = pgPath(config);
    auto recovery = recoverySettings(config);
    bool delta = config.getBool(opt::delta);
    // Which backup, and is all its recovery needs in the repository: before anything is written.
    // (planRestore also pins the recovery timeline when a restore drill branched the archive.)
    auto plan = planRestore(config, *repo, layout, backupInfo, recovery);
    const std::string label = plan.label;
    auto manifest = std::move(plan.manifest);
    // From here until it is done, an expire beside it keeps the backup and its chain; a backup
    // expired since it was chosen is an error here, before anything is written.
    BackupReaders readers(config, layout);
    backupInfo = holdForRestore(readers, *repo, layout, label);

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
    beginRestore(fs, dataPath, manifest, locations, owner);

    // --delta: clean the targets and find what already matches the backup.
    DeltaPlan deltaPlan;
    if (delta) {
        DeltaInput in;
        in.manifest = &manifest;
        for (const auto& f : manifest.files)
            in.fileDestinations.push_back(destinationOf(locations, f.name));
        for (const auto& p : manifest.paths)
            in.directories.insert(destinationOf(locations, p.name));
        for (const auto& l : manifest.links)
            in.links[dataPath + l.name.substr(7)] = l.name.starts_with("pg_data/pg_tblspc/")
                                                        ? locations.at(l.name.substr(8))
                                                        : l.destination;
        for (const auto& [target, location] : locations) in.roots.push_back(location);
        in.preserve.insert(dataPath + "/" + kRestoreMarker);
        in.force = config.getBool(opt::force);
        in.processMax = static_cast<size_t>(config.getInt(opt::processMax));
        deltaPlan = prepareDelta(fs, in);
    }

    // Directories first (each target, then every path in name order), then the links.
    for (const auto& p : manifest.paths) {
        std::string dest = destinationOf(locations, p.name);
        owner.createPath(dest, p.mode);
        if (::chmod(dest.c_str(), p.mode) != 0)
            raiseErrno(ErrorCode::FileWrite, "unable to set mode of", dest);
        owner.apply(dest, p.user, p.group);
    }
    for (const auto& l : manifest.links) {
        std::string linkPath = dataPath + l.name.substr(std::string("pg_data").size());
        std::string dest = l.destination;
        if (l.name.starts_with("pg_data/pg_tblspc/")) dest = locations.at(l.name.substr(8));
        if (auto existing = fs.info(linkPath); existing &&
                                               existing->type == storage::FileType::Link &&
                                               existing->linkDestination == dest)
            continue;  // --delta kept it
        if (::symlink(dest.c_str(), linkPath.c_str()) != 0)
            raiseErrno(ErrorCode::FileWrite, fmt::format("unable to create link to '{}' at", dest),
                       linkPath);
        owner.adopt(linkPath);
    }

    // Files, largest first, in parallel; global/pg_control after all the others.
    std::vector<size_t> order;
    size_t control = manifest.files.size();
    for (size_t i = 0; i < manifest.files.size(); i++) {
        if (manifest.files[i].name == "pg_data/global/pg_control")
            control = i;
        else if (!deltaPlan.keep.count(i))
            order.push_back(i);
    }
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return manifest.files[a].size > manifest.files[b].size; });
    auto options = transferOptions(config);
    // A diff/incr backup references files stored by earlier backups, each with its own
    // compression: read each referenced manifest once for it.
    repo::CompressByLabel compressOf{
        {manifest.label, io::parseCompressType(manifest.compressType)}};
    auto codecOf = [&](const std::string& holder) {
        return options.codec.storedWith(compressOf.at(holder));
    };
    std::map<std::string, std::string> priorOf{{manifest.label, manifest.prior}};
    auto needBackup = [&](const std::string& holder) {
        if (compressOf.count(holder)) return;
        if (!backupInfo.find(holder))
            raise(ErrorCode::BackupSet,
                  "backup {} needs backup {}, which is no longer in the repository", label, holder);
        auto held = repo::loadManifest(*repo, layout.manifest(holder), layout.key);
        compressOf[holder] = io::parseCompressType(held.compressType);
        priorOf[holder] = held.prior;
    };
    for (const auto& f : manifest.files)
        if (!f.reference.empty()) needBackup(f.reference);
    // The blocks of a block-stored file may be in any backup of the chain.
    if (std::any_of(manifest.files.begin(), manifest.files.end(),
                    [](const auto& f) { return f.blockSize != 0; }))
        for (std::string p = manifest.prior; !p.empty(); p = priorOf.at(p)) needBackup(p);
    // Closing a restored file waits for its fsync (0.3-1 ms each here, a disk cache flush apiece
    // on ext4 without a journal): a thousand small files kept 2 closing threads busy for most of
    // a restore, and the copying thread waited on their queue. 8 threads and 128 files in the
    // queue: 0.94x wall at process-max 1, 0.90x at 2 (paired runs); 16 threads were no better.
    storage::AsyncCloser closer(kClosingThreads, 128);
    std::atomic<uint64_t> blocksCompared{0}, blocksWritten{0};
    auto expectedOf = [&layout](const repo::ManifestFile& f, const std::string& holder) {
        repo::ExpectedFile expected{
            f.name, holder, f.size, f.checksum, {}, repo::backupFilePiece(layout, holder, f.name)};
        expected.write.mode = f.mode;
        expected.write.atomic = false;
        expected.write.syncPath = false;
        expected.write.createPath = false;
        expected.write.mtime = f.mtime;
        return expected;
    };
    auto restoreOne = [&](size_t index, storage::AsyncCloser* async) {
        const auto& f = manifest.files[index];
        std::string holder = f.reference.empty() ? manifest.label : f.reference;
        auto expected = expectedOf(f, holder);
        std::string dest = destinationOf(locations, f.name);
        const repo::RepoCodec codec = codecOf(holder);
        if (deltaPlan.blocks.count(index)) {
            auto patched = repo::patchBlocks(*repo, layout, compressOf, rootStorage, dest, expected,
                                             static_cast<size_t>(config.getInt(opt::processMax)));
            blocksCompared += patched.blocksCompared;
            blocksWritten += patched.blocksWritten;
            resetModeAndTime(dest, f);
        } else if (f.blockSize != 0)
            repo::fetchBlocks(*repo, layout, compressOf, fs, dest, expected, options.bufferSize,
                              async);
        else if (deltaPlan.patch.count(index))
            patchInPlace(*repo, repo::storedLocation(layout, holder, f, codec.extension()), codec,
                         rootStorage, dest, f, holder, expected.piece, options.bufferSize);
        else
            repo::fetchFile(*repo, repo::storedLocation(layout, holder, f, codec.extension()),
                            codec, fs, dest, expected, options.bufferSize, async);
        owner.apply(dest, f.user, f.group);
    };
    // A file stored as frames is restored frame by frame, its frames one job each, so that the
    // threads share the largest files. Two queues: frames (largest file first, a file's frames in
    // order, since a frame's job waits for the one before it) and whole files (largest first).
    // A thread takes a frame while the frame writer has a buffer free, and a whole file while
    // every buffer waits for the disk: the small files' decompression and system calls then
    // overlap the large files' writes instead of following them.
    struct Job {
        size_t file;
        size_t frame;
        repo::FramedFetch* framed;
    };
    std::vector<Job> frameJobs, fileJobs;
    std::vector<std::unique_ptr<repo::FramedFetch>> framedFiles;
    // One writing thread per process-max: at 2, a second O_DIRECT write in flight took 6 % off
    // the wall time (paired runs); at 1 it changed nothing.
    const size_t processMax = static_cast<size_t>(config.getInt(opt::processMax));
    repo::FrameWriter frameWriter(2 * processMax + 2, processMax + 1);
    for (size_t index : order) {
        const auto& f = manifest.files[index];
        std::string holder = f.reference.empty() ? manifest.label : f.reference;
        if (f.frames.empty() || f.blockSize != 0 || deltaPlan.blocks.count(index) ||
            !codecOf(holder).hasFrames()) {
            fileJobs.push_back({index, 0, nullptr});
            continue;
        }
        auto expected = expectedOf(f, holder);
        // --delta over a copy of the same size: only the pages that differ are written.
        auto mode = deltaPlan.patch.count(index) ? repo::FramedFetch::Mode::Patch
                                                 : repo::FramedFetch::Mode::Create;
        framedFiles.push_back(std::make_unique<repo::FramedFetch>(
            *repo, layout.backupFile(holder, f.name, codecOf(holder).extension()), codecOf(holder),
            rootStorage, destinationOf(locations, f.name), std::move(expected), f.frameBytes,
            f.frames, &closer, mode, &frameWriter));
        for (size_t k = 0; k < f.frames.size(); k++)
            frameJobs.push_back({index, k, framedFiles.back().get()});
    }
    std::mutex pickMutex;
    size_t nextFrame = 0, nextFile = 0;
    auto pick = [&]() -> Job {
        std::lock_guard lock(pickMutex);
        bool frameReady =
            nextFrame < frameJobs.size() &&
            (nextFile == fileJobs.size() || !frameJobs[nextFrame].framed->writesBehind() ||
             frameWriter.hasFreeBuffer());
        if (frameReady) return frameJobs[nextFrame++];
        return fileJobs[nextFile++];
    };
    runParallel(processMax, frameJobs.size() + fileJobs.size(), [&](size_t) {
        const Job job = pick();
        if (!job.framed) return restoreOne(job.file, &closer);
        job.framed->fetch(job.frame);
        if (job.frame + 1 == job.framed->frameCount()) {
            const auto& f = manifest.files[job.file];
            if (deltaPlan.patch.count(job.file))
                resetModeAndTime(destinationOf(locations, f.name), f);
            owner.apply(destinationOf(locations, f.name), f.user, f.group);
        }
    });
    frameWriter.finish();
    closer.finish();
    framedFiles.clear();

    storage::PosixStorage dataDir(dataPath);
    writeTablespaceMap(dataDir, manifest, locations, owner);
    for (const auto& name : writeRecoveryConfig(dataDir, recovery))
        owner.adopt(dataPath + "/" + name);
    std::set<std::string> dirSet;
    for (const auto& p : manifest.paths) dirSet.insert(destinationOf(locations, p.name));
    // Each directory's fsync waits for the disk on its own: several at once (as the files' closes).
    std::vector<std::string> dirs(dirSet.begin(), dirSet.end());
    runParallel(kDirectorySyncThreads, dirs.size(), [&](size_t i) { fs.pathSync(dirs[i]); });
    if (control == manifest.files.size())
        raise(ErrorCode::Format, "backup {} has no global/pg_control: it cannot be restored",
              label);
    restoreOne(control, nullptr);
    fs.pathSync(dataPath + "/global");
    removeRestoreMarker(dataPath);

    double seconds = nowSeconds() - started;
    uint64_t size = manifest.totalSize();
    std::string deltaSummary =
        targets.resumed ? "; resumed an unfinished restore of this backup" : "";
    if (delta)
        deltaSummary += fmt::format(
            "; delta: {} files kept, {} patched, {} block-stored files compared block by "
            "block: {} blocks compared, {} restored",
            deltaPlan.keep.size(), deltaPlan.patch.size(), deltaPlan.blocks.size(),
            blocksCompared.load(), blocksWritten.load());
    fmt::print("restore {}: {} in {} files to '{}', {:.1f} s, {}/s; recovery {}{}\n", label,
               formatBytes(size), manifest.files.size(), dataPath, seconds,
               formatBytes(static_cast<uint64_t>(size / std::max(seconds, 0.001))),
               recovery.describe(), deltaSummary);
    return 0;
}

}  // namespace backrest::cmd
