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
#include "storage/posix.h"

namespace backrest::cmd {

namespace {
constexpr size_t kMaxRemembered = 4096;  // pushed-ahead names kept for the archiver to ask
}

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

repo::PushResult ArchivePusher::pushNow(const std::string& absolutePath) {
    std::optional<repo::ArchiveInfo> info;
    std::string version;
    uint64_t systemId;
    {
        std::lock_guard lock(mutex_);
        info = archiveInfo_;
        version = clusterVersion_;
        systemId = clusterSystemId_;
    }
    // Identity is read once: a cluster's version and system id never change under a daemon.
    if (!info) {
        storage::PosixStorage pgData(s_.pgPath);
        auto control = pg::readControl(pgData);
        info = repo::requireArchiveInfo(*s_.repo, s_.layout);
        version = control.version;
        systemId = control.systemId;
        std::lock_guard lock(mutex_);
        archiveInfo_ = info;
        clusterVersion_ = version;
        clusterSystemId_ = systemId;
    }
    std::filesystem::path path(absolutePath);
    storage::PosixStorage source(path.parent_path().string());
    return repo::pushWal(*s_.repo, s_.layout, *info, source, path.filename().string(), version, systemId, s_.push);
}

std::string ArchivePusher::push(const std::string& absolutePath) {
    std::string name = std::filesystem::path(absolutePath).filename().string();
    {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return !inFlight_.count(name); });
        if (pushedAhead_.erase(name)) return "pushed-ahead";
        inFlight_.insert(name);
    }
    try {
        auto result = pushNow(absolutePath);
        std::lock_guard lock(mutex_);
        inFlight_.erase(name);
        lastArchived_ = name;
        lastArchivedTime_ = std::time(nullptr);
        pushed_++;
        changed_.notify_all();
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
            if (changed_.wait_for(lock, std::chrono::milliseconds(50), [&] { return stopping_; })) return;
        }
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
                if (inFlight_.count(name) || pushedAhead_.count(name)) continue;
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

nlohmann::json ArchivePusher::status() {
    size_t pending = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(s_.pgPath + "/pg_wal/archive_status", ec))
        if (entry.path().filename().string().ends_with(".ready")) pending++;
    std::lock_guard lock(mutex_);
    auto orNull = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
    auto timeOrNull = [](int64_t t) { return t == 0 ? nlohmann::json(nullptr) : nlohmann::json(t); };
    return {{"last-archived", orNull(lastArchived_)},
            {"last-archived-time", timeOrNull(lastArchivedTime_)},
            {"last-failure", orNull(lastFailure_)},
            {"last-failure-time", timeOrNull(lastFailureTime_)},
            {"last-failure-message", orNull(lastFailureMessage_)},
            {"pending", pending},
            {"pushed", pushed_},
            {"async", s_.async}};
}

}  // namespace backrest::cmd
