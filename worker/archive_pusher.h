// The daemon's WAL pushing: archive_library's requests, and with archive-async a read-ahead
// that pushes segments PostgreSQL has marked .ready, up to process-max at once, so the
// archiver's request usually finds its segment already durable.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "protocol/messages.h"
#include "repo/info.h"
#include "repo/layout.h"
#include "repo/streamed_segment.h"
#include "repo/wal_archive.h"
#include "storage/storage.h"
#include "worker/queue_drop.h"

namespace backrest::cmd {

struct PusherSettings {
    storage::Storage* repo = nullptr;
    repo::Layout layout;
    std::string pgPath;
    repo::PushOptions push;
    size_t processMax = 1;
    bool async = false;
    std::string lockPath;   // its stop files (repo/stop_file.h) pause the read-ahead
    QueueLimit queueLimit;  // archive-push-queue-max (worker/queue_drop.h)
};

// What pushes are checked against: archive.info, and the cluster's version and system id.
struct ClusterIdentity {
    repo::ArchiveInfo info;
    std::string version;
    uint64_t systemId = 0;
};

class ArchivePusher {
  public:
    explicit ArchivePusher(PusherSettings settings);
    ~ArchivePusher();

    // Returns "stored", "already-present", "pushed-ahead", "streamed" or "stream-completed" once
    // the file is durable in the repository, or "dropped: <why>" when archive-push-queue-max
    // dropped it (reported archived, never stored); raises the push's error otherwise.
    std::string push(const std::string& absolutePath);
    protocol::ArchiveStatusReply status();

    // Read once and kept: a cluster's version and system id never change under a daemon.
    ClusterIdentity identity();

    // The WAL streamer's progress (worker/wal_streamer.h): the segment it is storing, then that
    // segment durable in the repository, or given up. An archiver request for the segment being
    // streamed completes it from pg_wal (repo/streamed_segment.h) rather than storing it a second
    // time or waiting for the stream's last bytes.
    void streamStarted(std::shared_ptr<repo::StreamedSegment> segment);
    void streamStored(const std::string& name, bool stored);
    void streamAbandoned(const std::string& name, const std::string& why);
    void streamState(const std::string& state);

  private:
    repo::PushResult pushNow(const std::string& absolutePath);
    std::optional<std::string> completeStreamed(std::shared_ptr<repo::StreamedSegment> segment,
                                                const std::string& absolutePath);
    void readAhead();
    void recordFailure(const std::string& name, const std::string& message);
    std::optional<std::string> dropIfQueueFull(const std::string& absolutePath);
    void flushDropRecords(const std::string& absolutePath);

    PusherSettings s_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::set<std::string> inFlight_;
    std::set<std::string> pushedAhead_;  // durable, not yet asked for by the archiver
    std::set<std::string> streamed_;     // the same, stored by the WAL streamer
    std::shared_ptr<repo::StreamedSegment> streaming_;  // the segment the streamer is storing
    std::string streamState_ = "off";
    std::optional<repo::ArchiveInfo> archiveInfo_;
    std::string clusterVersion_;
    uint64_t clusterSystemId_ = 0;
    // status
    std::string lastArchived_, lastFailure_, lastFailureMessage_;
    int64_t lastArchivedTime_ = 0, lastFailureTime_ = 0;
    uint64_t pushed_ = 0, streamedCount_ = 0;
    bool stopping_ = false;
    std::thread readAheadThread_;
};

}  // namespace backrest::cmd
