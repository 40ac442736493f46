// archive-get's read-ahead (archive-async): a detached process per stanza, started by
// archive-get and guarded by a lock file, that fetches the segments after the one recovery asked
// for into the spool (repo/wal_get_spool.h), process-max at once, up to archive-get-queue-max
// bytes, and stops once recovery has asked for nothing new for kWalFetcherIdle.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/error.h"

namespace backrest::cmd {

constexpr std::chrono::seconds kWalFetcherIdle{10};

struct WalFetcherSettings {
    std::string spoolDirectory;
    std::string identity;  // WalGetSpool::identityOf
    std::string lockFile;  // <lock-path>/<stanza>-archive-get.lock
    uint64_t systemId = 0;
    uint32_t segmentSize = 0;
    uint64_t queueMax = 0;
    int processMax = 1;
    // Several repositories: their indexes in the order each segment is looked up in, the
    // config being the whole one (each read through its forRepo view). Empty: the config is
    // the one repository's view.
    std::vector<int> repos{};
};

// What archive-get answers from the spool: a segment served (0), or nothing (fetched
// synchronously, with `recorded` the fetcher's error if it met one).
struct SpoolAnswer {
    std::optional<int> exitCode{};
    std::optional<Error> recorded{};
};

// archive-get's spool step for several repositories (archive-async, more than one selected):
// the asked segment served from the spool, or nothing (when the fetcher does not have it yet, or
// archive-async does not apply: no cluster in the current directory, not a segment name); the
// fetcher started to read ahead from `repos`. Before any repository is opened (it forks).
SpoolAnswer archiveGetFromSpool(const Config& config, const std::vector<int>& repos);

// Forks the fetcher and returns at once; the child exits at once when another fetcher holds the
// lock. Call before anything starts a thread (the child carries on from a copy of this process).
// A fork that fails is a warning: archive-get still fetches what it is asked synchronously.
void startWalFetcher(const Config& config, const WalFetcherSettings& settings);

}  // namespace backrest::cmd
