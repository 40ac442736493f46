// backup --repo=all: one run into every configured repository. One pg_backup_start and one
// pg_backup_stop; one BackupJob per repository (its own lock, prior backup, codec, key, bundles,
// retention) under one label time; the files each job stores alone read from the data directory
// once for all of them (command/backup/shared_read.h). A repository that fails leaves what it
// stored for its next backup to resume, the others go on; the error names each that failed.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "command/backup/backup_job.h"
#include "command/backup/shared_read.h"
#include "common/error.h"
#include "common/log.h"
#include "repo/layout.h"
#include "worker/backup_standby.h"
#include "worker/backup_steps.h"
#include "worker/commands.h"
#include "worker/context.h"
#include "worker/multi_repo.h"
#include "worker/stop_start.h"
#include "worker/termination.h"

namespace backrest::cmd {

namespace {

// Bytes a reader may run ahead of the slowest in one shared file, in buffers.
constexpr uint64_t kSharedWindowBuffers = 8;
// Bytes of small files (those some repository bundles) kept for the slower repositories.
constexpr uint64_t kSharedKeptBytes = 256ull << 20;

// One repository's part of the run.
struct RepoRun {
    int index = 0;
    Config view;
    std::unique_ptr<storage::Storage> repo;
    backup::BackupSettings settings;
    std::unique_ptr<backup::BackupJob> job;
    std::optional<Error>
        failure;  // once set, the job is left alone (its destructor keeps its files)
};

// Runs one step on every repository still going; a step that fails marks its repository failed.
template <typename F>
void eachLive(std::vector<RepoRun>& runs, const char* step, F&& f) {
    for (auto& run : runs) {
        if (run.failure) continue;
        try {
            inRepo(run.index, [&] { f(run); });
        } catch (const Error& e) {
            logWarn("backup: {} failed in {}: {}", step, repoName(run.index), e.what());
            run.failure = e;
        }
    }
}

bool anyLive(const std::vector<RepoRun>& runs) {
    return std::any_of(runs.begin(), runs.end(), [](const RepoRun& r) { return !r.failure; });
}

// Each repository's view, storage and job; the key of each opened in its own view.
std::vector<RepoRun> openRuns(const Config& config, const BackupServers& servers,
                              backup::SharedReads& shared,
                              const std::shared_ptr<repo::StanzaLock>& lock) {
    std::vector<RepoRun> runs;
    for (int index : configuredRepos(config)) {
        RepoRun run;
        run.index = index;
        useRepoKey(nullptr);
        run.view = config.forRepo(index);
        try {
            inRepo(index, [&] {
                run.repo = openRepo(run.view, RepoAccess::Write);
                run.settings = backupSettings(run.view, *run.repo, servers,
                                              shared.viewFor(static_cast<int>(runs.size())));
                run.settings.heldLock = lock;
                run.job = std::make_unique<backup::BackupJob>(run.settings);
            });
        } catch (const Error& e) {
            logWarn("backup: {} cannot be opened: {}", repoName(index), e.what());
            run.failure = e;
        }
        runs.push_back(std::move(run));
    }
    return runs;
}

// The label: one time in every repository (the latest any of them needs), so that each holds
// the backup under the same name (a full backup's label is then the same everywhere; a diff or
// incr one starts with its own repository's full backup).
void claimLabels(std::vector<RepoRun>& runs) {
    std::string notBefore;
    eachLive(runs, "choosing the label",
             [&](RepoRun& run) { notBefore = std::max(notBefore, run.job->freeLabelTime()); });
    eachLive(runs, "claiming the label", [&](RepoRun& run) { run.job->claimLabel(notBefore); });
    std::set<std::string> times;
    for (auto& run : runs)
        if (!run.failure) times.insert(repo::labelTime(run.job->label()));
    if (times.size() > 1)
        logWarn("backup: the repositories' labels differ in time (another backup claimed one)");
}

// Files two or more jobs read whole with the same scanned size are read once for them. A reader
// may wait for the others only in files every one of them stores alone (started in one order by
// all); files some bundle (each job's bundles differ) are kept whole until all have read them.
void shareReads(std::vector<RepoRun>& runs, backup::SharedReads& shared) {
    struct Readers {
        uint64_t size = 0;
        bool alone = true;
        bool differing = false;
        std::set<int> readers;
    };
    std::map<std::string, Readers> files;
    for (size_t k = 0; k < runs.size(); k++) {
        if (runs[k].failure) continue;
        for (const auto& read : runs[k].job->plannedReads()) {
            auto [it, fresh] = files.try_emplace(read.path);
            Readers& r = it->second;
            if (fresh) r.size = read.size;
            if (r.size != read.size) r.differing = true;  // changed between the scans
            r.alone = r.alone && read.alone;
            r.readers.insert(static_cast<int>(k));
        }
    }
    for (const auto& [path, r] : files)
        if (r.readers.size() > 1 && !r.differing) shared.expect(path, r.readers, r.alone);
}

// Every live job copies at once, each on its own thread (and process-max threads of its own);
// one that fails stops being waited for by the shared reads.
void copyAll(std::vector<RepoRun>& runs, backup::SharedReads& shared) {
    std::vector<std::thread> threads;
    std::mutex failures;
    for (size_t k = 0; k < runs.size(); k++) {
        if (runs[k].failure) continue;
        threads.emplace_back([&, k] {
            RepoRun& run = runs[k];
            try {
                inRepo(run.index,
                       [&] { run.job->copyPlanned([](const backup::BackupProgress&) {}); });
            } catch (const std::exception& e) {
                std::lock_guard lock(failures);
                auto* error = dynamic_cast<const Error*>(&e);
                run.failure = error ? *error : Error(ErrorCode::Assert, e.what());
                logWarn("backup: copy failed in {}: {}", repoName(run.index), e.what());
            }
            shared.abandon(static_cast<int>(k));
        });
    }
    for (auto& t : threads) t.join();
}

int finishAll(const Config& config, std::vector<RepoRun>& runs, const backup::BackupStop& stop,
              double started) {
    eachLive(runs, "finishing", [&](RepoRun& run) {
        const auto& manifest = run.job->finish(stop);
        expireAfterBackup(run.view, *run.repo, run.settings, repoName(run.index));
        printSummary(manifest, nowSeconds() - started, describeRepo(config, run.index) + ": ");
    });
    std::vector<std::string> failed, done;
    for (auto& run : runs)
        (run.failure ? failed : done)
            .push_back(run.failure ? fmt::format("{}: {}", describeRepo(config, run.index),
                                                 run.failure->what())
                                   : repoName(run.index));
    if (failed.empty()) return 0;
    const Error& first = *std::find_if(runs.begin(), runs.end(), [](const RepoRun& r) {
                              return r.failure.has_value();
                          })->failure;
    throw Error(first.code(),
                fmt::format("backup: {} of {} repositories failed: {}{}", failed.size(),
                            runs.size(), fmt::join(failed, "; "),
                            done.empty() ? std::string()
                                         : fmt::format("; the backup is complete in {}",
                                                       fmt::join(done, ", "))));
}

}  // namespace

int backupAllRepos(const Config& config) {
    requireNotStopped(config, "backup");
    double started = nowSeconds();
    std::vector<RepoRun>* running = nullptr;
    std::mutex runningMutex;
    TerminationWatch termination([&] {
        std::lock_guard lock(runningMutex);
        if (running)
            for (auto& run : *running)
                if (run.job) run.job->cancel();
    });
    (void)stanzaLayout(config);
    BackupServers servers = connectBackupServers(config);
    checkServer(*servers.primaryDb, config, servers.primary, true);
    if (servers.standbyDb) checkServer(*servers.standbyDb, config, servers.standby, false);
    size_t bufferSize = static_cast<size_t>(config.getInt(opt::bufferSize));
    backup::SharedReads shared(backupDataStorage(servers), kSharedWindowBuffers * bufferSize,
                               kSharedKeptBytes);
    // The stanza lock is this host's, not a repository's: taken once for every job.
    auto lock = std::make_shared<repo::StanzaLock>(config.getString(opt::lockPath),
                                                   stanzaLayout(config).stanza, "backup");
    std::vector<RepoRun> runs = openRuns(config, servers, shared, lock);
    {
        std::lock_guard lock(runningMutex);
        running = &runs;
    }
    struct Unregister {
        std::mutex& m;
        std::vector<RepoRun>*& runs;
        ~Unregister() {
            std::lock_guard lock(m);
            runs = nullptr;
        }
    } unregister{runningMutex, running};
    termination.raiseIfReceived("backup");

    std::string type = config.find(opt::type).value_or("full");
    pg::Client& db = *servers.primaryDb;
    std::string systemId = db.scalar("SELECT system_identifier::text FROM pg_control_system()");
    eachLive(runs, "starting", [&](RepoRun& run) {
        run.job->open(type);
        if (systemId != std::to_string(run.job->systemId()))
            raise(ErrorCode::DbMismatch, "backup: the server ({}) is not the cluster in '{}'",
                  db.describe(), run.settings.pgPath);
    });
    claimLabels(runs);
    if (!anyLive(runs)) return finishAll(config, runs, {}, started);
    const std::string& label = std::find_if(runs.begin(), runs.end(), [](const RepoRun& r) {
                                   return !r.failure;
                               })->job->label();
    try {
        auto start = startBackup(db, label, config.getBool(opt::startFast));
        if (servers.standbyDb) {
            try {
                waitForStandby(servers, start,
                               static_cast<int>(config.getInt(opt::archiveTimeout)));
            } catch (...) {
                for (auto& run : runs)  // refused before anything was stored: nothing stays
                    if (!run.failure) run.job->abandonBeforeCopy();
                throw;
            }
        }
        eachLive(runs, "scanning", [&](RepoRun& run) { run.job->prepare(start); });
        shareReads(runs, shared);
        copyAll(runs, shared);
        logInfo("backup {}: {} read once from the data directory for {} repositories", label,
                formatBytes(shared.bytesRead()), runs.size());
        if (!anyLive(runs)) return finishAll(config, runs, {}, started);
        if (servers.standbyDb)
            checkStandbyNotPromoted(*servers.standbyDb, servers.standby, label,
                                    startTimeline(start));
        return finishAll(config, runs, stopBackup(db), started);
    } catch (const Error&) {
        termination.raiseIfReceived(
            "backup " + label,
            "; what it stored stays, and the next backup of the same type resumes it");
        throw;
    }
}

}  // namespace backrest::cmd
