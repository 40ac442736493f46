// archive-get's fetcher: the detached process that keeps the spool filled ahead of recovery.
#include "worker/archive_get_async.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "common/log.h"
#include "repo/file_lock.h"
#include "repo/info.h"
#include "repo/stop_file.h"
#include "repo/wal_archive.h"
#include "repo/wal_get_spool.h"
#include "storage/posix.h"
#include "worker/context.h"
#include "worker/multi_repo.h"

namespace backrest::cmd {

namespace {

constexpr std::chrono::milliseconds kPoll{20};

// Unrecorded: failed, and the spool could not even take the record of it (full): the fetcher
// stops rather than fetch the same segment again and again.
enum class Fetched { Ready, NotArchived, Failed, Unrecorded };

// One repository the fetcher reads: a storage per fetching thread, its layout (carrying its key)
// and archive.info; or the error that kept it from being opened, met again for each segment.
struct Source {
    int index = 0;  // 0: the config is the one repository's view
    std::string name;
    std::vector<std::unique_ptr<storage::Storage>> storages;
    std::optional<repo::Layout> layout;
    std::optional<repo::ArchiveInfo> info;
    std::optional<Error> error;
};

Error asError(const std::exception& e) {
    if (auto* error = dynamic_cast<const Error*>(&e)) return *error;
    return Error(ErrorCode::Assert, e.what());
}

// Each repository opened once per fetching thread, in order. One that cannot be opened (its
// archive.info unreadable, its key wrong) is not the end of the fetcher: each segment is looked
// up in the next ones, and the error recorded for a segment none of them has.
std::vector<Source> openSources(const Config& config, const WalFetcherSettings& s) {
    std::vector<Source> sources;
    std::vector<int> indexes = s.repos.empty() ? std::vector<int>{0} : s.repos;
    for (int index : indexes) {
        Source source;
        source.index = index;
        source.name = index == 0 ? std::string() : describeRepo(config, index);
        try {
            // The key one repository opened (a process global) never stands for the next one's:
            // each layout carries its own.
            if (index != 0) useRepoKey(nullptr);
            Config view = index == 0 ? config : config.forRepo(index);
            for (int i = 0; i < s.processMax; i++) source.storages.push_back(openRepo(view));
            source.layout = stanzaLayout(view);
            source.info = repo::requireArchiveInfo(*source.storages.front(), *source.layout);
        } catch (const std::exception& e) {
            if (index == 0) throw;
            source.error = inRepoTerms(asError(e), index);
        }
        sources.push_back(std::move(source));
    }
    return sources;
}

// Runs on a worker thread, so it must not throw. A spool too full to take the record (ENOSPC)
// leaves the segment unrecorded (false): archive-get then finds nothing for it and fetches it
// directly.
bool recordFailure(repo::WalGetSpool& spool, const std::string& walName,
                   const Error& error) noexcept {
    try {
        spool.recordFailed(walName, error);
        return true;
    } catch (...) {
        try {
            spool.forget(walName);
            std::error_code ec;
            std::filesystem::remove(
                spool.directory() + "/" + repo::WalGetSpool::stagingName(walName), ec);
        } catch (...) {
        }
        return false;
    }
}

// Fetches one segment into the spool from the first repository that has it verified by getWal
// (checksum, size, the header's address and system identifier) under its staging name, then
// publishes it beside its SHA-256, which archive-get checks the bytes against before serving
// them; or the answer recorded: not archived in any, or (one failed, none after it had it) the
// failures. A repository that failed before the one that gave it is named in the warning served
// with the segment, as the synchronous fetch names it. Not fsynced: the spool is emptied after a
// reboot (archive_get.cpp, bootId).
Fetched fetchOne(const std::vector<Source>& sources, size_t slot, repo::WalGetSpool& spool,
                 uint64_t systemId, const std::string& walName, size_t bufferSize) {
    std::vector<std::pair<const Source*, Error>> failures;
    try {
        storage::PosixStorage destination(spool.directory());
        for (const auto& source : sources) {
            try {
                if (source.error) throw *source.error;
                std::string sha256;
                auto got = [&] {
                    return repo::getWal(
                        *source.storages[slot], *source.layout, *source.info, walName, destination,
                        repo::WalGetSpool::stagingName(walName), bufferSize, systemId, &sha256);
                };
                if (!(source.index == 0 ? got() : inRepo(source.index, got))) continue;
                std::string warning;
                for (const auto& [failed, error] : failures)
                    warning += fmt::format(
                        "archive-get: {}: {}; WAL segment {} was taken from the next repository "
                        "having it, {}\n",
                        failed->name, error.what(), walName, source.name);
                spool.publish(walName, sha256, warning);
                return Fetched::Ready;
            } catch (const std::exception& e) {
                if (source.index == 0) throw;
                failures.emplace_back(&source, asError(e));
            }
        }
        if (failures.empty()) return Fetched::NotArchived;
        std::string message;
        for (const auto& [failed, error] : failures)
            message +=
                fmt::format("{}{}: {}", message.empty() ? "" : "; ", failed->name, error.what());
        spool.recordFailed(
            walName, Error(failures.front().second.code(),
                           fmt::format("archive-get: {} of {} repositories failed for WAL segment "
                                       "{}, and no other has it: {}",
                                       failures.size(), sources.size(), walName, message)));
    } catch (const std::exception& e) {
        if (!recordFailure(spool, walName, asError(e))) return Fetched::Unrecorded;
    }
    return Fetched::Failed;
}

// The segments of the queue still to fetch, in order, at most `limit`: none past a segment the
// archive does not have or could not give (the next ones are not wanted before that is settled).
std::vector<std::string> stillToFetch(const repo::WalGetSpool& spool,
                                      const std::vector<std::string>& queue, size_t limit) {
    std::vector<std::string> todo;
    for (const auto& walName : queue) {
        auto entry = spool.look(walName);
        if (entry.kind == repo::SpoolEntry::Kind::NotArchived ||
            entry.kind == repo::SpoolEntry::Kind::Failed)
            break;
        if (entry.kind == repo::SpoolEntry::Kind::Missing) todo.push_back(walName);
        if (todo.size() == limit) break;
    }
    return todo;
}

void fetchAhead(const Config& config, const WalFetcherSettings& s) {
    repo::WalGetSpool spool(s.spoolDirectory, s.identity, s.systemId, s.segmentSize);
    if (!spool.owned()) return;
    spool.removeTemporary();  // a fetcher killed mid-write left them
    const std::string lockPath = config.getString(opt::lockPath);
    const size_t bufferSize = transferOptions(config).bufferSize;
    auto sources = openSources(config, s);
    const std::string stanza = config.getString(opt::stanza);

    std::optional<std::string> lastAsked;
    auto askedAt = std::chrono::steady_clock::now();
    while (spool.owned() && !repo::activeStopFile(lockPath, stanza)) {
        auto asked = spool.asked();
        if (!asked) break;
        if (asked != lastAsked) {
            lastAsked = asked;
            askedAt = std::chrono::steady_clock::now();
        }
        auto queue = spool.readAhead(*asked, s.queueMax);
        spool.prune(*asked, queue);
        auto todo = stillToFetch(spool, queue, static_cast<size_t>(s.processMax));
        if (todo.empty()) {
            if (std::chrono::steady_clock::now() - askedAt > kWalFetcherIdle) break;
            std::this_thread::sleep_for(kPoll);
            continue;
        }
        std::vector<Fetched> results(todo.size());
        std::vector<std::thread> workers;
        for (size_t i = 0; i < todo.size(); i++)
            workers.emplace_back([&, i] {
                results[i] = fetchOne(sources, i, spool, s.systemId, todo[i], bufferSize);
            });
        for (auto& worker : workers) worker.join();
        for (size_t i = 0; i < todo.size(); i++)
            if (results[i] == Fetched::Unrecorded)
                raise(ErrorCode::FileWrite,
                      "archive-get: the spool '{}' could not take the record of a failed fetch "
                      "of WAL segment {}; the fetcher stops",
                      spool.directory(), todo[i]);
        // Only the first segment the archive lacks is recorded: one past it found missing now
        // may be archived by the time recovery asks, and is looked up again then.
        bool past = false;
        for (size_t i = 0; i < todo.size(); i++) {
            if (past) {
                if (results[i] == Fetched::Failed) spool.forget(todo[i]);
                continue;
            }
            if (results[i] == Fetched::NotArchived) spool.recordNotArchived(todo[i]);
            past = results[i] != Fetched::Ready;
        }
    }
    // Stopped, idle or displaced: nothing is left for a later recovery to take for current.
    if (spool.owned()) spool.clear();
}

[[noreturn]] void runDetached(const Config& config, const WalFetcherSettings& s) {
    // Out of PostgreSQL's session and away from its descriptors: the fetcher outlives the
    // restore_command that started it, and must not keep the server's log or files open.
    ::setsid();
    setLogFile(-1, LogLevel::Off);
    ::syscall(SYS_close_range, 3u, ~0u, 0u);
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
        ::dup2(null, 0);
        ::dup2(null, 1);
        ::dup2(null, 2);
        if (null > 2) ::close(null);
    }
    int code = 0;
    repo::WalGetSpool spool(s.spoolDirectory, s.identity, s.systemId, s.segmentSize);
    try {
        // An ask that came while this fetcher was stopping (its child found the lock still
        // held) is seen after the lock is released: the asked segment is recorded before the
        // child tries the lock, so one of the two fetches ahead for it.
        while (auto lock =
                   repo::FileLock::tryAcquire(s.lockFile, repo::FileLock::Mode::Exclusive)) {
            fetchAhead(config, s);
            lock.reset();
            if (!spool.owned() || !spool.asked()) break;
        }
    } catch (...) {
        // Nothing fetched stays behind a fetcher that failed: archive-get fetches synchronously.
        code = 1;
        try {
            if (spool.owned()) spool.clear();
        } catch (...) {
        }
    }
    ::_exit(code);
}

}  // namespace

void startWalFetcher(const Config& config, const WalFetcherSettings& settings) {
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0) {
        logWarn("archive-get: unable to start the WAL fetcher (fork: {}); fetching synchronously",
                std::strerror(errno));
        return;
    }
    if (pid == 0) runDetached(config, settings);
}

}  // namespace backrest::cmd
