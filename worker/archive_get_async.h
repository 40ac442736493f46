// archive-get's read-ahead (archive-async): a detached process per stanza, started by
// archive-get and guarded by a lock file, that fetches the segments after the one recovery asked
// for into the spool (repo/wal_get_spool.h), process-max at once, up to archive-get-queue-max
// bytes, and stops once recovery has asked for nothing new for kWalFetcherIdle.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/config.h"

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
};

// Forks the fetcher and returns at once; the child exits at once when another fetcher holds the
// lock. Call before anything starts a thread (the child carries on from a copy of this process).
// A fork that fails is a warning: archive-get still fetches what it is asked synchronously.
void startWalFetcher(const Config& config, const WalFetcherSettings& settings);

}  // namespace backrest::cmd
