// backup --type=full over libpq: start the backup, copy every file of the data directory and
// its tablespaces in parallel into the repository, stop the backup, store backup_label and
// tablespace_map, wait until the WAL the backup needs is archived, and commit the manifest last.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "common/error.h"
#include "common/log.h"
#include "common/parallel.h"
#include "common/version.h"
#include "pg/client.h"
#include "pg/control.h"
#include "pg/wal.h"
#include "repo/file_transfer.h"
#include "repo/info.h"
#include "repo/lock.h"
#include "repo/manifest.h"
#include "repo/manifest_build.h"
#include "storage/posix.h"
#include "worker/commands.h"
#include "worker/context.h"

namespace backrest::cmd {

namespace {

// A backup directory without a manifest is the remains of a backup that died; it is not a
// backup and never will be (resume comes later), so it goes before a new one starts.
void removeIncompleteBackups(storage::Storage& repo, const repo::Layout& layout) {
    for (const auto& entry : repo.list(layout.backupRoot())) {
        if (entry.type != storage::FileType::Path || !repo::isBackupLabel(entry.name)) continue;
        if (repo.info(layout.manifest(entry.name)) || repo.info(layout.manifest(entry.name) + ".copy")) continue;
        logWarn("backup: removing incomplete backup {} (no manifest: it was interrupted)", entry.name);
        repo.removePath(layout.backupDir(entry.name), true);
    }
}

// Progress on a terminal only: one line rewritten in place.
class Progress {
public:
    Progress(uint64_t totalBytes) : total_(totalBytes), enabled_(isatty(STDOUT_FILENO)), start_(nowSeconds()) {}
    void add(uint64_t bytes) {
        uint64_t done = done_ += bytes;
        if (!enabled_) return;
        std::lock_guard lock(mutex_);
        double now = nowSeconds();
        if (now - lastPrint_ < 0.5 && done < total_) return;
        lastPrint_ = now;
        double rate = done / std::max(now - start_, 0.001);
        fmt::print("\rbackup: {} of {} ({:.0f}%), {}/s   ", formatBytes(done), formatBytes(total_),
                   total_ ? 100.0 * done / total_ : 100.0, formatBytes(static_cast<uint64_t>(rate)));
        std::fflush(stdout);
    }
    void end() {
        if (enabled_) fmt::print("\r{:60}\r", "");
    }

private:
    uint64_t total_;
    std::atomic<uint64_t> done_{0};
    bool enabled_;
    double start_;
    double lastPrint_ = 0;
    std::mutex mutex_;
};

void storeGeneratedFile(storage::Storage& repo, const repo::Layout& layout, repo::Manifest& manifest,
                        const std::string& name, const std::string& content,
                        const repo::TransferOptions& options) {
    auto stored = repo::storeBytes(
        content, repo, layout.backupFile(manifest.label, name, io::compressExtension(options.compressType)),
        options);
    repo::ManifestFile file;
    file.name = name;
    file.size = stored.size;
    file.repoSize = stored.repoSize;
    file.sha256 = stored.sha256;
    file.mtime = static_cast<int64_t>(std::time(nullptr));
    file.mode = 0600;
    file.user = manifest.paths.front().user;  // the data directory's owner
    file.group = manifest.paths.front().group;
    manifest.files.push_back(std::move(file));
}

}  // namespace

int backup(const Config& config) {
    double started = nowSeconds();
    std::string type = config.find("type").value_or("full");
    if (type != "full")
        raise(ErrorCode::Option, "backup --type={} is not supported yet; use --type=full", type);

    auto repo = openRepo(config);
    auto layout = stanzaLayout(config);
    auto options = transferOptions(config);
    size_t processMax = static_cast<size_t>(config.getInt("process-max"));
    std::string dataPath = pgPath(config);
    auto backupInfo = repo::requireBackupInfo(*repo, layout);
    auto archiveInfo = repo::requireArchiveInfo(*repo, layout);

    repo::StanzaLock lock(config.getString("lock-path"), layout.stanza, "backup");
    pg::Client db(connectOptions(config));

    // The server must be the cluster in pg1-path, and the one this stanza protects.
    std::string serverVersion = db.scalar("SELECT current_setting('server_version_num')");
    if (serverVersion.substr(0, 2) != "15")
        raise(ErrorCode::DbMismatch, "backup: server ({}) runs PostgreSQL {}, backrest supports 15",
              db.describe(), serverVersion);
    std::string serverDataDir = db.scalar("SELECT current_setting('data_directory')");
    std::error_code ec;
    if (!std::filesystem::equivalent(serverDataDir, dataPath, ec))
        raise(ErrorCode::Option,
              "backup: option 'pg1-path' is '{}' but the server ({}) runs on data directory '{}'",
              dataPath, db.describe(), serverDataDir);
    uint64_t systemId = std::stoull(db.scalar("SELECT system_identifier::text FROM pg_control_system()"));
    repo::checkIdentity(backupInfo.current(), "15", systemId, layout.stanza, "backup");
    repo::checkIdentity(archiveInfo.current(), "15", systemId, layout.stanza, "backup");
    if (config.getBool("archive-check")) {
        std::string mode = db.scalar("SELECT current_setting('archive_mode')");
        if (mode == "off")
            raise(ErrorCode::Option,
                  "backup: archive_mode is off on the server ({}); the backup could not be made "
                  "consistent without its WAL. Set archive_mode=on, or --no-archive-check",
                  db.describe());
    }

    storage::PosixStorage pgData(dataPath);
    auto control = pg::readControl(pgData);
    removeIncompleteBackups(*repo, layout);

    repo::Manifest manifest;
    std::time_t now = std::time(nullptr);
    manifest.label = repo::fullLabel(now);
    while (backupInfo.find(manifest.label)) {  // two backups within one second
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        manifest.label = repo::fullLabel(std::time(nullptr));
    }
    manifest.type = "full";
    manifest.pgVersion = "15";
    manifest.systemId = systemId;
    manifest.dbId = backupInfo.current().id;
    manifest.walSegmentSize = static_cast<uint32_t>(
        std::stoul(db.scalar("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'")));
    manifest.dataChecksums = db.scalar("SELECT current_setting('data_checksums')") == "on";
    manifest.compressType = std::string(io::compressTypeName(options.compressType));
    manifest.compressLevel = options.compressLevel;
    manifest.backrestVersion = kVersion;

    // Start: from here PostgreSQL keeps full-page writes and the WAL we need.
    bool fast = config.getBool("start-fast");
    logInfo("backup: starting {} ({} checkpoint)", manifest.label, fast ? "immediate" : "spread");
    auto start = db.query("SELECT lsn::text, pg_walfile_name(lsn), extract(epoch from now())::bigint "
                          "FROM pg_backup_start($1, $2) AS lsn",
                          {"backrest " + manifest.label, fast ? "true" : "false"});
    manifest.lsnStart = *start[0][0];
    manifest.walStart = *start[0][1];
    manifest.timestampStart = std::stoll(*start[0][2]);
    manifest.timeline = pg::WalSegment::parse(manifest.walStart, manifest.walSegmentSize)->timeline;

    repo::DataDirectory dir;
    dir.storage = &pgData;
    dir.path = dataPath;
    dir.tablespaceVersionDir = fmt::format("PG_15_{}", control.catalogVersion);
    for (const auto& row : db.query("SELECT oid::text, spcname FROM pg_tablespace"))
        dir.tablespaceNames[static_cast<uint32_t>(std::stoul(*row[0]))] = *row[1];
    repo::scanDataDirectory(dir, manifest);

    // Copy: largest files first so the threads finish together.
    std::vector<size_t> order(manifest.files.size());
    for (size_t i = 0; i < order.size(); i++) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return manifest.files[a].size > manifest.files[b].size; });
    uint64_t expected = manifest.totalSize();
    Progress progress(expected);
    std::vector<bool> vanished(manifest.files.size(), false);
    std::string ext(io::compressExtension(options.compressType));
    repo->pathCreate(layout.backupDir(manifest.label), 0750);
    runParallel(processMax, order.size(), [&](size_t i) {
        auto& file = manifest.files[order[i]];
        auto stored = repo::storeFile(pgData, repo::dataDirectoryPath(file.name), *repo,
                                      layout.backupFile(manifest.label, file.name, ext), options);
        if (!stored) {
            logDetail("backup: {} was removed during the backup; skipped", file.name);
            vanished[order[i]] = true;
            return;
        }
        file.size = stored->size;
        file.repoSize = stored->repoSize;
        file.sha256 = stored->sha256;
        progress.add(file.size);
    });
    progress.end();
    size_t kept = 0;
    for (size_t i = 0; i < manifest.files.size(); i++) {
        if (vanished[i]) continue;
        if (kept != i) manifest.files[kept] = std::move(manifest.files[i]);
        kept++;
    }
    manifest.files.resize(kept);

    // Stop: PostgreSQL gives the backup_label and tablespace_map a restore needs.
    auto stop = db.query("SELECT lsn::text, pg_walfile_name(lsn), labelfile, spcmapfile, "
                         "extract(epoch from now())::bigint FROM pg_backup_stop(false)");
    manifest.lsnStop = *stop[0][0];
    manifest.walStop = *stop[0][1];
    storeGeneratedFile(*repo, layout, manifest, "pg_data/backup_label", *stop[0][2], options);
    if (stop[0][3] && !stop[0][3]->empty())
        storeGeneratedFile(*repo, layout, manifest, "pg_data/tablespace_map", *stop[0][3], options);

    // The backup is consistent only with the WAL from start to stop; it must be archived.
    auto segments = pg::walRange(manifest.timeline, pg::parseLsn(manifest.lsnStart),
                                 pg::parseLsn(manifest.lsnStop), manifest.walSegmentSize);
    if (config.getBool("archive-check"))
        waitForArchive(*repo, layout, archiveInfo.currentArchiveId(), segments,
                       static_cast<int>(config.getInt("archive-timeout")),
                       fmt::format("backup {}", manifest.label));

    // Every directory entry durable, then the manifest: only now does the backup exist.
    std::set<std::string> dirs;
    for (const auto& f : manifest.files) {
        std::string path = layout.backupFile(manifest.label, f.name, ext);
        dirs.insert(path.substr(0, path.rfind('/')));
    }
    for (const auto& d : dirs) repo->pathSync(d);
    manifest.timestampStop = static_cast<int64_t>(std::time(nullptr));
    repo::saveManifest(*repo, layout.manifest(manifest.label), manifest);
    backupInfo = repo::requireBackupInfo(*repo, layout);
    backupInfo.backups.push_back(repo::BackupSummary::of(manifest));
    repo::saveBackupInfo(*repo, layout, backupInfo);

    double seconds = nowSeconds() - started;
    uint64_t size = manifest.totalSize(), repoSize = manifest.totalRepoSize();
    fmt::print("backup {}: full, {} in {} files, repository {} ({:.1f}%), WAL {} to {}, {:.1f} s, {}/s\n",
               manifest.label, formatBytes(size), manifest.files.size(), formatBytes(repoSize),
               size ? 100.0 * repoSize / size : 0.0, manifest.walStart, manifest.walStop, seconds,
               formatBytes(static_cast<uint64_t>(size / std::max(seconds, 0.001))));
    return 0;
}

}  // namespace backrest::cmd
