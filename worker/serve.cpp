// backrest serve: the worker daemon the extension's launcher starts. It listens on a Unix
// socket (0700 directory, 0600 socket, peers of our uid only), speaks the framed protocol of
// doc/protocol.md, and serves several clients at once, one thread per connection: WAL pushes
// for archive_library, backups driven by the backup bgworker, info and status.
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <thread>

#include "common/error.h"
#include "common/log.h"
#include "common/version.h"
#include "protocol/connection.h"
#include "repo/backup_job.h"
#include "repo/lock.h"
#include "storage/owned_fd.h"
#include "storage/posix.h"
#include "worker/archive_pusher.h"
#include "worker/commands.h"
#include "worker/context.h"
#include "worker/expire.h"
#include "worker/info.h"
#include "worker/stanza_create.h"
#include "worker/wal_streamer.h"

namespace backrest::cmd {

namespace {

using protocol::Message;

std::atomic<bool> stopRequested{false};
void onStopSignal(int) {
    stopRequested = true;
}

// The daemon outlives the extension's launcher (PostgreSQL stops background workers before
// the archiver's last round at shutdown, and that round still needs us) and ends with the
// postmaster instead: when postmaster.pid is gone, names another process, or its process died.
class PostmasterWatch {
  public:
    explicit PostmasterWatch(const std::string& pgPath)
        : pidFile_(pgPath + "/postmaster.pid"), pid_(readPid()) {}
    bool watching() const { return pid_ > 0; }
    pid_t pid() const { return pid_; }
    bool postmasterGone() const {
        if (pid_ <= 0) return false;
        if (::kill(pid_, 0) != 0 && errno == ESRCH) return true;
        return readPid() != pid_;
    }

  private:
    pid_t readPid() const {
        auto text = storage::readAllIfExists(storage_, pidFile_);
        if (!text) return 0;
        try {
            return static_cast<pid_t>(std::stol(text->substr(0, text->find('\n'))));
        } catch (const std::exception&) {
            return 0;
        }
    }
    mutable storage::PosixStorage rootStorage_{"/"};
    storage::Storage& storage_ = rootStorage_;
    std::string pidFile_;
    pid_t pid_;
};

struct Daemon {
    const Config& config;
    std::unique_ptr<storage::Storage> repo;
    repo::Layout layout;
    std::string pgPath;
    std::unique_ptr<ArchivePusher> pusher;
    std::atomic<bool> restartAfterReply{false};  // set by a stanza-create that made a new key
};

// Cancels a backup when its client hangs up: the connection is the backup's owner. Its thread
// sleeps in poll() on the connection and on an eventfd the destructor signals, so ending the
// watch (at every backup's end) costs no wait.
class HangupWatch {
  public:
    HangupWatch(int fd, repo::BackupJob& job) : stop_(::eventfd(0, EFD_CLOEXEC)) {
        if (!stop_.valid())
            raiseErrno(ErrorCode::Protocol, "unable to create an eventfd for",
                       "the backup's hangup watch");
        thread_ = std::thread([this, fd, &job] {
            for (;;) {
                pollfd p[2] = {{fd, POLLRDHUP, 0}, {stop_.get(), POLLIN, 0}};
                if (::poll(p, 2, -1) < 0) {
                    if (errno == EINTR) continue;
                    return;
                }
                if (p[1].revents != 0 || (p[0].revents & POLLNVAL)) return;
                if (p[0].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
                    job.cancel();
                    return;
                }
            }
        });
    }
    ~HangupWatch() {
        uint64_t one = 1;
        if (::write(stop_.get(), &one, sizeof one) < 0) {
            // Cannot happen for an eventfd below its maximum; the join below would then hang.
            std::terminate();
        }
        thread_.join();
    }

  private:
    storage::Fd stop_;
    std::thread thread_;
};

repo::BackupSettings backupSettings(Daemon& d) {
    repo::BackupSettings s;
    s.repo = d.repo.get();
    s.layout = d.layout;
    s.transfer = transferOptions(d.config);
    s.processMax = static_cast<size_t>(d.config.getInt(opt::processMax));
    s.lockPath = d.config.getString(opt::lockPath);
    s.pgPath = d.pgPath;
    s.pgData = std::make_shared<storage::PosixStorage>(d.pgPath);
    s.archiveCheck = true;
    s.archiveTimeout = static_cast<int>(d.config.getInt(opt::archiveTimeout));
    s.block = d.config.getBool(opt::repo1Block);
    s.bundle = bundleSettings(d.config);
    return s;
}

Message handle(Daemon& d, protocol::Connection& conn, const Message& request, uint64_t id,
               std::unique_ptr<repo::BackupJob>& job) {
    std::string type = request.value("type", "");
    if (type == "archive-push") {
        std::string path = request.at("path");
        if (path.empty() || path[0] != '/')
            raise(ErrorCode::Protocol, "archive-push needs an absolute path, not '{}'", path);
        return {{"result", d.pusher->push(path)}};
    }
    if (type == "archive-status") return d.pusher->status();
    if (type == "stanza-create") {
        if (!d.layout.key && d.config.getString(opt::repo1CipherType) != "none") {
            // A new encrypted stanza: its key is made here. The pusher and the streamer took the
            // layout (without a key: there was no stanza) at start, so once this reply is sent
            // the daemon exits and the launcher starts it again, opening the new key; a segment
            // offered meanwhile is refused and PostgreSQL offers it again.
            repo::Layout layout = d.layout;
            layout.key = newStanzaKey(d.config);
            std::string message = createStanza(*d.repo, layout, d.pgPath);
            d.restartAfterReply = true;
            return {{"message", message + "; the daemon restarts to open the stanza's new key"}};
        }
        return {{"message", createStanza(*d.repo, d.layout, d.pgPath)}};
    }
    if (type == "expire") {
        repo::StanzaLock lock(d.config.getString(opt::lockPath), d.layout.stanza, "backup");
        auto policy = retentionPolicy(d.config);
        if (request.contains("set")) policy.set = request.at("set").get<std::string>();
        return {{"report", runExpire(*d.repo, d.layout, policy, request.value("dry-run", false),
                                     d.config.getString(opt::lockPath))}};
    }
    if (type == "info") return {{"backups", stanzaInfoJson(*d.repo, d.layout)["backup"]}};
    if (type == "backup-begin") {
        if (job) raise(ErrorCode::Protocol, "a backup is already in progress on this connection");
        job = std::make_unique<repo::BackupJob>(backupSettings(d));
        std::string label = job->begin(request.value("backup-type", "full"));
        logInfo("serve: backup {} started", label);
        return {{"label", label}};
    }
    if (type == "backup-copy" || type == "backup-finish") {
        if (!job) raise(ErrorCode::Protocol, "{} without backup-begin on this connection", type);
        HangupWatch watch(conn.fd(), *job);
        if (type == "backup-copy") {
            repo::BackupStart start;
            start.lsn = request.at("lsn");
            start.walFile = request.at("wal-file");
            start.timestamp = request.at("timestamp");
            start.walSegmentSize = request.at("wal-segment-size");
            start.dataChecksums = request.at("data-checksums");
            for (const auto& t : request.at("tablespaces"))
                start.tablespaceNames[t.at("oid")] = t.at("name");
            job->copy(start, [&](const repo::BackupProgress& p) {
                conn.send({{"id", id},
                           {"progress",
                            {{"bytes-total", p.bytesTotal},
                             {"bytes-done", p.bytesDone},
                             {"files-total", p.filesTotal},
                             {"files-done", p.filesDone}}}});
            });
            return Message::object();
        }
        repo::BackupStop stop{request.at("lsn"), request.at("wal-file"), request.at("label-file"),
                              request.value("tablespace-map", "")};
        const auto& m = job->finish(stop);
        Message reply = {{"label", m.label},
                         {"size", m.totalSize()},
                         {"repo-size", m.totalRepoSize()},
                         {"file-count", m.files.size()},
                         {"wal-start", m.walStart},
                         {"wal-stop", m.walStop}};
        logInfo("serve: backup {} committed: {} in {} files", m.label, formatBytes(m.totalSize()),
                m.files.size());
        auto policy = retentionPolicy(d.config);
        if (policy.full || policy.diff)
            reply["expire"] =
                runExpire(*d.repo, d.layout, policy, false, d.config.getString(opt::lockPath));
        job.reset();
        return reply;
    }
    raise(ErrorCode::Protocol, "unknown request type '{}'", type);
}

void serveConnection(Daemon& d, protocol::Connection conn) {
    std::unique_ptr<repo::BackupJob> job;  // owned by the connection: abandoned if it closes
    try {
        if (conn.peerUid() != ::geteuid()) {
            conn.send(
                protocol::errorReply(0, static_cast<int>(ErrorCode::Protocol),
                                     "permission denied: only the server's own user may connect"));
            return;
        }
        auto hello = conn.receive(30000);
        if (!hello) return;
        if (hello->value("type", "") != "hello" || !protocol::hasOurVersion(*hello)) {
            conn.send(protocol::errorReply(
                0, static_cast<int>(ErrorCode::Protocol),
                fmt::format("expected hello with protocol version {}", protocol::kVersion)));
            return;
        }
        conn.send({{"ok", true},
                   {"version", protocol::kVersion},
                   {"server", fmt::format("backrest {}", kVersion)},
                   {"pid", ::getpid()}});
        for (;;) {
            auto request = conn.receive(-1);
            if (!request) return;
            auto idIt = request->find("id");
            uint64_t id =
                idIt != request->end() && idIt->is_number_unsigned() ? idIt->get<uint64_t>() : 0;
            Message reply;
            try {
                try {
                    reply = protocol::okReply(id, handle(d, conn, *request, id, job));
                } catch (const nlohmann::json::exception& e) {
                    raise(ErrorCode::Protocol, "malformed '{}' request: {}",
                          request->value("type", "?"), e.what());
                }
            } catch (const Error& e) {
                // A failed backup step abandons the backup: no manifest, files removed, lock freed.
                if (request->value("type", "").starts_with("backup-")) job.reset();
                reply = protocol::errorReply(id, e.exitCode(), e.what());
            } catch (const std::exception& e) {
                if (request->value("type", "").starts_with("backup-")) job.reset();
                reply = protocol::errorReply(id, static_cast<int>(ErrorCode::Assert), e.what());
            }
            conn.send(reply);
            if (d.restartAfterReply) {
                logInfo("serve: restarting to open the new stanza's key");
                stopRequested = true;
            }
        }
    } catch (const std::exception& e) {
        // A broken or malformed connection: tell the peer if we still can, then close it.
        logDetail("serve: closing a connection: {}", e.what());
        try {
            conn.send(protocol::errorReply(0, static_cast<int>(ErrorCode::Protocol), e.what()),
                      1000);
        } catch (const std::exception&) {
        }
    }
}

}  // namespace

int serve(const Config& config) {
    setLogTimestamps(true);
    Daemon d{config, openRepo(config, RepoAccess::Write), stanzaLayout(config), pgPath(config),
             nullptr};
    auto transfer = transferOptions(config);
    PusherSettings push;
    push.repo = d.repo.get();
    push.layout = d.layout;
    push.pgPath = d.pgPath;
    push.push = {transfer.codec.compressType(), transfer.codec.compressLevel(),
                 transfer.bufferSize};
    push.processMax = static_cast<size_t>(config.getInt(opt::processMax));
    push.async = config.getBool(opt::archiveAsync);
    d.pusher = std::make_unique<ArchivePusher>(push);
    // archive-async: also stream WAL as it is written, when the daemon knows where the server
    // listens (the launcher passes its socket directory and port).
    std::unique_ptr<WalStreamer> streamer;
    if (push.async && config.find(opt::pg1SocketPath)) {
        StreamerSettings stream;
        stream.connect = connectOptions(config);
        stream.connect.applicationName = "backrest-wal-stream";
        stream.repo = d.repo.get();
        stream.layout = d.layout;
        stream.push = push.push;
        stream.push.spoolPath = config.getString(opt::spoolPath);
        stream.spoolOwner = lockOwner(config);
        streamer = std::make_unique<WalStreamer>(stream, *d.pusher);
    }

    struct sigaction sa {};
    sa.sa_handler = onStopSignal;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);

    protocol::Listener listener(config.getString(opt::socketPath), "backrest.sock");
    PostmasterWatch postmaster(d.pgPath);
    logInfo(
        "serve: backrest {} (pid {}) listening on {} for stanza '{}' (archive-async={}){}",
        kVersion, ::getpid(), listener.path(), d.layout.stanza, push.async ? "y" : "n",
        postmaster.watching() ? fmt::format(", until postmaster {} exits", postmaster.pid()) : "");
    while (!stopRequested) {
        auto conn = listener.accept(200);
        if (postmaster.postmasterGone()) {
            logInfo("serve: the postmaster has exited");
            break;
        }
        if (!conn) continue;
        std::thread([&d, c = std::move(*conn)]() mutable {
            serveConnection(d, std::move(c));
        }).detach();
    }
    logInfo("serve: stopping");
    streamer.reset();  // removes the unfinished segment's spool file
    // Connections in flight end with the process: an unfinished backup has no manifest and
    // the kernel releases its lock; an unacknowledged push is retried by PostgreSQL.
    std::_Exit(0);
}

}  // namespace backrest::cmd
