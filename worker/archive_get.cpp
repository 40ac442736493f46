// archive-get %f %p: used as restore_command. Exit 0 with the verified file at %p; exit 1 only
// when the file is not in the archive (what PostgreSQL takes for the end of the archived WAL).
// Every other failure (damaged, short or foreign copy, unreadable repository or archive.info, a
// bad option) exits kArchiveGetAbortExit (main.cpp, error.h), above 125, so that PostgreSQL aborts
// recovery instead of ending it early and promoting with older data.
// With archive-async a segment is served from the spool the fetcher (archive_get_async.h) fills
// ahead of recovery, and fetched synchronously when it is not there yet.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/log.h"
#include "pg/control.h"
#include "pg/wal.h"
#include "repo/info.h"
#include "repo/wal_archive.h"
#include "repo/wal_get_spool.h"
#include "storage/posix.h"
#include "worker/archive_get_async.h"
#include "worker/commands.h"
#include "worker/context.h"
#include "worker/stop_start.h"

namespace backrest::cmd {

namespace {

// PostgreSQL runs restore_command in the data directory it recovers: its pg_control, when there,
// says which cluster the WAL must belong to. Run by hand elsewhere, there is none to check.
std::optional<pg::ControlInfo> restoringCluster() {
    storage::PosixStorage posix(std::filesystem::current_path().string());
    storage::Storage& cwd = posix;
    if (!cwd.info("global/pg_control") || !cwd.info("PG_VERSION")) return std::nullopt;
    return pg::readControl(posix);
}

// Spooled segments are not fsynced (an fsync of each 16 MiB segment cost more than the fetch):
// the spool records the boot it was filled in, and one of an earlier boot, whose files a crash
// may have left with lost bytes, is emptied before use.
std::string bootId() {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string id;
    std::getline(in, id);
    return id.empty() ? "unknown" : id;
}

// The spool is tied to the stanza, the restoring cluster (system identifier, segment size) and
// the repositories (in their order): one of another identity is emptied before use. The asked
// segment is recorded after it was taken, so the fetcher never prunes what is being served, and the
// fetcher is started (or finds its lock held and leaves) before any synchronous fetch, to read
// ahead meanwhile.
SpoolAnswer askSpool(const Config& config, const std::string& walName,
                     const std::filesystem::path& destination, const pg::ControlInfo& cluster,
                     const std::vector<int>& repos) {
    const std::string stanza = config.getString(opt::stanza);
    WalFetcherSettings settings;
    settings.spoolDirectory = repo::walGetSpoolDirectory(config.getString(opt::spoolPath), stanza);
    settings.identity =
        repo::WalGetSpool::identityOf(stanza, cluster.systemId, cluster.walSegmentSize);
    if (repos.empty())
        settings.identity += "repository=" + config.getString(opt::repo1Type) + ":" +
                             config.getString(opt::repo1Path) + "\n";
    for (int index : repos) {
        Config view = config.forRepo(index);
        settings.identity += fmt::format("repository={}:{}\n", view.getString(opt::repo1Type),
                                         view.getString(opt::repo1Path));
    }
    settings.identity += "boot=" + bootId() + "\n";
    settings.repos = repos;
    settings.lockFile = config.getString(opt::lockPath) + "/" + stanza + "-archive-get.lock";
    settings.systemId = cluster.systemId;
    settings.segmentSize = cluster.walSegmentSize;
    settings.queueMax = static_cast<uint64_t>(config.getInt(opt::archiveGetQueueMax));
    settings.processMax = static_cast<int>(config.getInt(opt::processMax));
    repo::WalGetSpool spool(settings.spoolDirectory, settings.identity, settings.systemId,
                            settings.segmentSize);
    spool.claim();
    repo::ensureLockDirectory(config.getString(opt::lockPath));
    SpoolAnswer answer;
    auto entry = spool.look(walName);
    if (entry.kind == repo::SpoolEntry::Kind::Ready && spool.take(walName, destination.string())) {
        logInfo("archive-get: {} restored to {} from the spool", walName, destination.string());
        answer.exitCode = 0;
    } else if (entry.kind == repo::SpoolEntry::Kind::NotArchived) {
        // Exit 1 ends recovery: the archive is asked again rather than trusting an answer that
        // may be older than the segment's arrival (a standby, an archive still being filled).
        // The record has served its purpose: the read-ahead stopped there.
        spool.forget(walName);
    } else if (entry.kind == repo::SpoolEntry::Kind::Failed) {
        // Looked up again now: a passing fault is not worth a stopped recovery; the same
        // failure raises again, and "not found" is not believed over it.
        spool.forget(walName);
        answer.recorded = entry.error;
    }
    spool.recordAsked(walName);
    startWalFetcher(config, settings);
    return answer;
}

// The WAL file name and destination of archive-get's parameters; raises when they are not two.
std::pair<std::string, std::filesystem::path> parameters(const Config& config) {
    if (config.params().size() != 2)
        raise(ErrorCode::Command,
              "archive-get takes two parameters, the WAL file name (%f) and the destination path "
              "(%p)");
    std::filesystem::path destPath(config.params()[1]);
    if (destPath.is_relative()) destPath = std::filesystem::current_path() / destPath;
    return {config.params()[0], destPath};
}

}  // namespace

SpoolAnswer archiveGetFromSpool(const Config& config, const std::vector<int>& repos) {
    auto [walName, destPath] = parameters(config);
    requireNotStopped(config, "archive-get");
    auto cluster = restoringCluster();
    if (!config.getBool(opt::archiveAsync) || !cluster || !pg::isWalSegmentName(walName)) return {};
    return askSpool(config, walName, destPath, *cluster, repos);
}

int archiveGet(const Config& config) {
    auto [walName, destPath] = parameters(config);
    // Stopped, recovery stops too (exit > 125, main.cpp) rather than taking it for the archive's
    // end.
    requireNotStopped(config, "archive-get");

    auto cluster = restoringCluster();
    // Before the repository is opened: the fetcher is forked, and must not inherit threads.
    SpoolAnswer spooled;
    if (config.getBool(opt::archiveAsync) && cluster && pg::isWalSegmentName(walName)) {
        spooled = askSpool(config, walName, destPath, *cluster, {});
        if (spooled.exitCode) return *spooled.exitCode;
    }

    // archive.info alone gives the identity and the key: 2 requests on an object store (this
    // read and the listing by the segment's name) before the segment's own GET, as pgBackRest.
    // openRepo would also read backup.info and both .copy files for the key.
    auto repo = openRepoStorage(config, RepoAccess::Read);
    auto layout = stanzaLayout(config);
    auto [info, key] = repo::openArchiveInfo(*repo, layout, cipherSettings(config));
    useRepoKey(key);
    layout.key = key;
    storage::PosixStorage dest(destPath.parent_path().string());
    std::optional<uint64_t> systemId;
    if (cluster) systemId = cluster->systemId;
    bool found = repo::getWal(*repo, layout, info, walName, dest, destPath.filename().string(),
                              transferOptions(config).bufferSize, systemId);
    if (!found && spooled.recorded) throw *spooled.recorded;
    if (!found) {
        logInfo("archive-get: {} is not in the archive", walName);
        return 1;
    }
    logInfo("archive-get: {} restored to {}", walName, destPath.string());
    return 0;
}

}  // namespace backrest::cmd
