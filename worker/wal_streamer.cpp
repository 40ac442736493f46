// The daemon's WAL stream: connect, start at the segment being written, store segments as they
// complete; on any failure, give up the current segment and reconnect with a growing delay.
#include "worker/wal_streamer.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "common/error.h"
#include "common/log.h"
#include "pg/wal.h"
#include "pg/wal_stream.h"
#include "repo/stop_file.h"
#include "repo/wal_spool.h"

namespace backrest::cmd {

namespace {

constexpr auto kReportInterval = std::chrono::seconds(10);

// Streaming as a synchronous standby would make every commit wait for the repository.
bool couldBeSynchronous(const std::string& names, const std::string& applicationName) {
    return names.find('*') != std::string::npos || names.find(applicationName) != std::string::npos;
}

class Disabled : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The server may be streamed from: not as a synchronous standby (checked first: nothing else is
// asked then), and the daemon's own cluster, whose identity it returns.
ClusterIdentity checkStreamable(const pg::StreamedSystem& system, const pg::ConnectOptions& connect,
                                ArchivePusher& pusher) {
    if (couldBeSynchronous(system.synchronousNames, connect.applicationName))
        throw Disabled(
            fmt::format("not started: synchronous_standby_names = '{}' could make it a synchronous "
                        "standby, and every commit would wait for the repository",
                        system.synchronousNames));
    auto id = pusher.identity();
    if (system.systemId != id.systemId)
        raise(ErrorCode::DbMismatch,
              "the server at {} has system id {}, the data directory's pg_control {}: not the "
              "cluster of this "
              "daemon",
              connect.socketPath, system.systemId, id.systemId);
    return id;
}

}  // namespace

WalStreamer::WalStreamer(StreamerSettings settings, ArchivePusher& pusher)
    : s_(std::move(settings)), pusher_(pusher), thread_([this] { run(); }) {}

WalStreamer::~WalStreamer() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
}

void WalStreamer::run() {
    int delaySeconds = 1;
    std::string lastFailure;
    while (!stopping_) {
        auto started = std::chrono::steady_clock::now();
        try {
            streamOnce();
        } catch (const Disabled& e) {
            logWarn("WAL stream: {}", e.what());
            pusher_.streamState(std::string("off: ") + e.what());
            return;
        } catch (const std::exception& e) {
            if (stopping_) return;
            // The same failure again (a server that refuses replication) is logged once.
            if (e.what() != lastFailure)
                logWarn("WAL stream: {}; segments are archived from pg_wal meanwhile, retrying",
                        e.what());
            lastFailure = e.what();
            pusher_.streamState(std::string("retrying: ") + e.what());
        }
        // A stream that ran for a while starts over quickly; repeated failures back off.
        if (std::chrono::steady_clock::now() - started > std::chrono::seconds(60)) delaySeconds = 1;
        for (int i = 0; i < delaySeconds * 10 && !stopping_; i++)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        delaySeconds = std::min(delaySeconds * 2, 60);
    }
}

void WalStreamer::streamOnce() {
    pg::WalStream stream(s_.connect);
    auto system = stream.identify();
    auto id = checkStreamable(system, s_.connect, pusher_);
    const uint32_t segmentSize = system.segmentSize;
    uint64_t position = system.flushLsn - system.flushLsn % segmentSize;
    // A spool-path it cannot use is a stream failure like another: segments go from pg_wal.
    repo::ensureSpoolDirectory(s_.push.spoolPath, s_.spoolOwner);
    repo::removeAbandonedSpool(s_.push.spoolPath, s_.layout.stanza);
    repo::removeLegacyStreamFiles(
        *s_.repo, s_.layout, id.info.currentArchiveId(),
        pg::WalSegment::containing(system.timeline, position, segmentSize).name(segmentSize));
    stream.start(position, system.timeline);
    logInfo("WAL stream: started at {} on timeline {}", pg::formatLsn(position), system.timeline);

    std::shared_ptr<repo::StreamedSegment> segment;
    std::string name;
    auto begin = [&] {
        // Stopped: the stream ends here and retries (run()'s back-off) until `backrest start`.
        repo::requireNotStopped(s_.lockPath, s_.layout.stanza, "WAL stream");
        name = pg::WalSegment::containing(system.timeline, position, segmentSize).name(segmentSize);
        segment = std::make_shared<repo::StreamedSegment>(
            std::make_unique<repo::StreamedWal>(*s_.repo, s_.layout, id.info, name, id.version,
                                                id.systemId, s_.push),
            name, segmentSize);
        pusher_.streamStarted(segment);
    };
    auto reported = std::chrono::steady_clock::now();
    try {
        begin();
        while (!stopping_) {
            auto chunk = stream.receive(0);
            if (!chunk) {
                segment->idle();
                chunk = stream.receive(200);
            }
            if (std::chrono::steady_clock::now() - reported > kReportInterval) {
                stream.reportPosition(position);
                reported = std::chrono::steady_clock::now();
            }
            if (!chunk) continue;
            if (chunk->start != position)
                raise(ErrorCode::Db, "WAL stream jumped from {} to {}", pg::formatLsn(position),
                      pg::formatLsn(chunk->start));
            auto bytes = chunk->bytes;
            while (!bytes.empty()) {
                size_t n = std::min<size_t>(bytes.size(), segmentSize - position % segmentSize);
                segment->write(bytes.first(n));
                position += n;
                bytes = bytes.subspan(n);
                if (position % segmentSize != 0) continue;
                // Stopped meanwhile: abandoned, not stored; the archiver pushes it after start.
                repo::requireNotStopped(s_.lockPath, s_.layout.stanza, "WAL stream");
                // The segment's last byte: make it durable, then tell the archiver's side; unless
                // the archiver's request completed it from pg_wal first, as it usually does.
                if (auto result = segment->finish())
                    pusher_.streamStored(name, *result == repo::PushResult::Stored);
                segment.reset();
                stream.reportPosition(position);
                reported = std::chrono::steady_clock::now();
                begin();
            }
        }
    } catch (const std::exception& e) {
        if (segment) segment->abandon();  // its spool file goes
        pusher_.streamAbandoned(name, e.what());
        throw;
    }
    if (segment) segment->abandon();
    pusher_.streamAbandoned(name, "the daemon is stopping");
}

}  // namespace backrest::cmd
