// WAL pushing for the daemon, with the async read-ahead.
#include "worker/archive_pusher.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <vector>

#include "common/error.h"
#include "common/log.h"
#include "common/parallel.h"
#include "pg/control.h"
#include "pg/wal.h"
#include "repo/stop_file.h"
#include "repo/wal_dropped.h"
#include "storage/posix.h"

namespace backrest::cmd {

namespace {
constexpr size_t kMaxRemembered = 4096;  // pushed-ahead names kept for the archiver to ask

// PostgreSQL marks a segment .ready once it is complete and fsynced (and .done once archived):
// only then may its file complete a streamed segment. A segment still being written has its
// full size in pg_wal, but not its final bytes.
bool markedReady(const std::string& absolutePath) {
    std::filesystem::path path(absolutePath);
    auto status = path.parent_path() / "archive_status" / path.filename();
    std::error_code ec;
    return std::filesystem::exists(status.string() + ".ready", ec) ||
           std::filesystem::exists(status.string() + ".done", ec);
}
}  // namespace

ArchivePusher::ArchivePusher(PusherSettings settings) : s_(std::move(settings)) {
    if (s_.async) readAheadThread_ = std::thread([this] { readAhead(); });
}

ArchivePusher::~ArchivePusher() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    if (readAheadThread_.joinable()) readAheadThread_.join();
}

ClusterIdentity ArchivePusher::identity() {
    {
        std::lock_guard lock(mutex_);
        // A cached archive.info that does not name this cluster is read again: stanza-upgrade
        // may have run since, and pushes resume without restarting the daemon.
        if (archiveInfo_ &&
            repo::sameCluster(archiveInfo_->current(), clusterVersion_, clusterSystemId_))
            return {*archiveInfo_, clusterVersion_, clusterSystemId_};
    }
    storage::PosixStorage pgData(s_.pgPath);
    auto control = pg::readControl(pgData);
    auto info = repo::requireArchiveInfo(*s_.repo, s_.layout);
    std::lock_guard lock(mutex_);
    archiveInfo_ = info;
    clusterVersion_ = control.version;
    clusterSystemId_ = control.systemId;
    return {info, control.version, control.systemId};
}

repo::PushResult ArchivePusher::pushNow(const std::string& absolutePath) {
    auto id = identity();
    std::filesystem::path path(absolutePath);
    storage::PosixStorage source(path.parent_path().string());
    return repo::pushWal(*s_.repo, s_.layout, id.info, source, path.filename().string(), id.version,
                         id.systemId, s_.push);
}

void ArchivePusher::streamStarted(std::shared_ptr<repo::StreamedSegment> segment) {
    std::lock_guard lock(mutex_);
    streamState_ = "streaming " + segment->name();
    streaming_ = std::move(segment);
}

void ArchivePusher::streamStored(const std::string& name, bool stored) {
    {
        std::lock_guard lock(mutex_);
        if (streaming_ && streaming_->name() == name) streaming_.reset();
        streamed_.insert(name);
        while (streamed_.size() > kMaxRemembered) streamed_.erase(streamed_.begin());
        streamedCount_++;
        if (stored) {
            lastArchived_ = name;
            lastArchivedTime_ = std::time(nullptr);
            pushed_++;
        }
    }
    changed_.notify_all();
}

void ArchivePusher::streamAbandoned(const std::string& name, const std::string& why) {
    {
        std::lock_guard lock(mutex_);
        if (streaming_ && streaming_->name() == name) streaming_.reset();
        streamState_ = "interrupted: " + why;
    }
    changed_.notify_all();
}

void ArchivePusher::streamState(const std::string& state) {
    std::lock_guard lock(mutex_);
    streamState_ = state;
}

std::string ArchivePusher::push(const std::string& absolutePath) {
    std::string name = std::filesystem::path(absolutePath).filename().string();
    std::shared_ptr<repo::StreamedSegment> streaming;
    {
        std::lock_guard lock(mutex_);
        if (streaming_ && streaming_->name() == name) streaming = streaming_;
    }
    if (streaming && markedReady(absolutePath))
        if (auto how = completeStreamed(streaming, absolutePath)) return *how;
    {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return !inFlight_.count(name); });
        if (streamed_.erase(name)) return "streamed";
        if (pushedAhead_.erase(name)) return "pushed-ahead";
        inFlight_.insert(name);  // the read-ahead leaves it alone while it is dropped or pushed
    }
    try {
        if (auto dropped = dropIfQueueFull(absolutePath)) {
            recordFailure(name, *dropped);
            std::lock_guard lock(mutex_);
            inFlight_.erase(name);
            changed_.notify_all();
            return "dropped: " + *dropped;
        }
        auto result = pushNow(absolutePath);
        {
            std::lock_guard lock(mutex_);
            inFlight_.erase(name);
            lastArchived_ = name;
            lastArchivedTime_ = std::time(nullptr);
            pushed_++;
        }
        changed_.notify_all();
        flushDropRecords(absolutePath);
        return result == repo::PushResult::Stored ? "stored" : "already-present";
    } catch (const std::exception& e) {
        {
            std::lock_guard lock(mutex_);
            inFlight_.erase(name);
        }
        recordFailure(name, e.what());
        changed_.notify_all();
        throw;
    }
}

// archive-push-queue-max: the queue is measured in the segment's own pg_wal. A segment the
// read-ahead or the stream already stored never gets here, so only WAL not in the repository is
// dropped.
std::optional<std::string> ArchivePusher::dropIfQueueFull(const std::string& absolutePath) {
    if (!s_.queueLimit.max) return std::nullopt;
    std::filesystem::path path(absolutePath);
    std::string name = path.filename().string();
    if (!pg::isWalSegmentName(name)) return std::nullopt;  // history files are tiny: always kept
    std::string pgWal = path.parent_path().string();
    uint64_t queue =
        repo::archiveQueueBytes(repo::archiveStatusFiles(pgWal), s_.queueLimit.segmentSize);
    if (!repo::queueExceeded(queue, *s_.queueLimit.max)) return std::nullopt;
    auto archiveId = [&]() -> std::optional<std::string> {
        return identity().info.currentArchiveId();
    };
    if (!cmd::dropIfQueueFull("serve", s_.queueLimit, pgWal, name, s_.repo, s_.layout, archiveId))
        return std::nullopt;
    return queueDropMessage("serve", name, queue, *s_.queueLimit.max);
}

// Drop records the repository refused when they were made go over once a push succeeded.
void ArchivePusher::flushDropRecords(const std::string& absolutePath) {
    try {
        repo::flushDroppedRecords(*s_.repo, s_.layout,
                                  std::filesystem::path(absolutePath).parent_path().string(),
                                  identity().info.currentArchiveId());
    } catch (const std::exception& e) {
        logWarn("archive-push: drop records not carried over to the repository: {}", e.what());
    }
}

// The archiver asks for the segment being streamed once PostgreSQL has flushed all of it, a moment
// before the walsender sends its last bytes: the rest is read from pg_wal and the segment stored
// at once. nullopt when the stream gave it up: the file is then pushed as without a stream.
std::optional<std::string> ArchivePusher::completeStreamed(
    std::shared_ptr<repo::StreamedSegment> segment, const std::string& absolutePath) {
    const std::string& name = segment->name();
    std::optional<repo::StreamedSegment::Completed> done;
    try {
        done = segment->completeFromFile(absolutePath);
    } catch (const std::exception& e) {
        logWarn(
            "archive-push: WAL segment {} could not be completed from '{}' ({}); pushing the file",
            name, absolutePath, e.what());
        return std::nullopt;
    }
    if (!done) return std::nullopt;
    std::lock_guard lock(mutex_);
    if (done->by == repo::StreamedSegment::Completion::ByStream) {
        streamed_.erase(name);  // answered here
        return "streamed";
    }
    streamedCount_++;
    if (done->result == repo::PushResult::Stored) {
        lastArchived_ = name;
        lastArchivedTime_ = std::time(nullptr);
        pushed_++;
    }
    return "stream-completed";
}

void ArchivePusher::recordFailure(const std::string& name, const std::string& message) {
    std::lock_guard lock(mutex_);
    lastFailure_ = name;
    lastFailureMessage_ = message;
    lastFailureTime_ = std::time(nullptr);
    if (message.find("stanza") != std::string::npos) archiveInfo_.reset();  // maybe created since
}

// Pushes .ready segments ahead of the archiver. A failure here is only recorded: the
// archiver's own request retries the segment and reports the error to PostgreSQL.
void ArchivePusher::readAhead() {
    std::string statusDir = s_.pgPath + "/pg_wal/archive_status";
    for (;;) {
        std::vector<std::string> batch;
        {
            std::unique_lock lock(mutex_);
            if (changed_.wait_for(lock, std::chrono::milliseconds(50), [&] { return stopping_; }))
                return;
        }
        // Stopped (backrest stop): the archiver's own requests are refused too (serve.cpp).
        if (repo::activeStopFile(s_.lockPath, s_.layout.stanza)) continue;
        std::error_code ec;
        std::vector<std::string> ready;
        for (const auto& entry : std::filesystem::directory_iterator(statusDir, ec)) {
            std::string file = entry.path().filename().string();
            if (file.ends_with(".ready")) ready.push_back(file.substr(0, file.size() - 6));
        }
        std::sort(ready.begin(), ready.end());
        {
            std::lock_guard lock(mutex_);
            for (const auto& name : ready) {
                // The streamer's segment and those it stored are not read again.
                if (inFlight_.count(name) || pushedAhead_.count(name) || streamed_.count(name) ||
                    (streaming_ && streaming_->name() == name))
                    continue;
                batch.push_back(name);
                inFlight_.insert(name);
                if (batch.size() >= s_.processMax * 2) break;
            }
        }
        if (batch.empty()) continue;
        std::vector<bool> ok(batch.size(), false);
        try {
            runParallel(s_.processMax, batch.size(), [&](size_t i) {
                try {
                    pushNow(s_.pgPath + "/pg_wal/" + batch[i]);
                    ok[i] = true;
                } catch (const std::exception& e) {
                    recordFailure(batch[i], e.what());
                    logWarn("archive read-ahead: {}", e.what());
                }
            });
        } catch (const std::exception& e) {
            logWarn("archive read-ahead: {}", e.what());
        }
        std::lock_guard lock(mutex_);
        for (size_t i = 0; i < batch.size(); i++) {
            inFlight_.erase(batch[i]);
            if (!ok[i]) continue;
            pushedAhead_.insert(batch[i]);
            lastArchived_ = batch[i];
            lastArchivedTime_ = std::time(nullptr);
            pushed_++;
        }
        while (pushedAhead_.size() > kMaxRemembered) pushedAhead_.erase(pushedAhead_.begin());
        changed_.notify_all();
    }
}

protocol::ArchiveStatusReply ArchivePusher::status() {
    size_t pending = 0;
    std::error_code ec;
    for (const auto& entry :
         std::filesystem::directory_iterator(s_.pgPath + "/pg_wal/archive_status", ec))
        if (entry.path().filename().string().ends_with(".ready")) pending++;
    std::lock_guard lock(mutex_);
    auto orNone = [](const std::string& s) {
        return s.empty() ? std::nullopt : std::optional<std::string>(s);
    };
    auto timeOrNone = [](int64_t t) { return t == 0 ? std::nullopt : std::optional<int64_t>(t); };
    protocol::ArchiveStatusReply status;
    status.lastArchived = orNone(lastArchived_);
    status.lastArchivedTime = timeOrNone(lastArchivedTime_);
    status.lastFailure = orNone(lastFailure_);
    status.lastFailureTime = timeOrNone(lastFailureTime_);
    status.lastFailureMessage = orNone(lastFailureMessage_);
    status.pending = pending;
    status.pushed = pushed_;
    status.async = s_.async;
    status.stream = streamState_;
    status.streamed = streamedCount_;
    return status;
}

}  // namespace backrest::cmd
