// The daemon's WAL pushing: archive_library's requests, and with archive-async a read-ahead
// that pushes segments PostgreSQL has marked .ready, up to process-max at once, so the
// archiver's request usually finds its segment already durable.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "repo/info.h"
#include "repo/layout.h"
#include "repo/wal_archive.h"
#include "storage/storage.h"

namespace backrest::cmd {

struct PusherSettings {
    storage::Storage* repo = nullptr;
    repo::Layout layout;
    std::string pgPath;
    repo::PushOptions push;
    size_t processMax = 1;
    bool async = false;
};

class ArchivePusher {
public:
    explicit ArchivePusher(PusherSettings settings);
    ~ArchivePusher();

    // Returns "stored", "already-present" or "pushed-ahead" once the file is durable in the
    // repository; raises the push's error otherwise.
    std::string push(const std::string& absolutePath);
    nlohmann::json status();

private:
    repo::PushResult pushNow(const std::string& absolutePath);
    void readAhead();
    void recordFailure(const std::string& name, const std::string& message);

    PusherSettings s_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::set<std::string> inFlight_;
    std::set<std::string> pushedAhead_;  // durable, not yet asked for by the archiver
    std::optional<repo::ArchiveInfo> archiveInfo_;
    std::string clusterVersion_;
    uint64_t clusterSystemId_ = 0;
    // status
    std::string lastArchived_, lastFailure_, lastFailureMessage_;
    int64_t lastArchivedTime_ = 0, lastFailureTime_ = 0;
    uint64_t pushed_ = 0;
    bool stopping_ = false;
    std::thread readAheadThread_;
};

}  // namespace backrest::cmd
