// backrest serve: the worker daemon the extension's launcher starts. It listens on a Unix
// socket (0700 directory, 0600 socket, peers of our uid only), speaks the framed protocol of
// doc/protocol.md, and serves several clients at once, one thread per connection: WAL pushes
// for archive_library, backups driven by the backup bgworker, info and status.
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "command/backup/backup_job.h"
#include "command/backup/standby_data.h"
#include "common/error.h"
#include "common/log.h"
#include "common/version.h"
#include "pg/control.h"
#include "pg/wal.h"
#include "protocol/connection.h"
#include "protocol/connection_threads.h"
#include "protocol/messages.h"
#include "repo/info.h"
#include "repo/lock.h"
#include "storage/owned_fd.h"
#include "storage/posix.h"
#include "worker/archive_pusher.h"
#include "worker/backup_standby.h"
#include "worker/commands.h"
#include "worker/context.h"
#include "worker/expire.h"
#include "worker/info.h"
#include "worker/metrics.h"
#include "worker/metrics_http.h"
#include "worker/multi_repo.h"
#include "worker/serve_drill.h"
#include "worker/stanza_create.h"
#include "worker/stop_start.h"
#include "worker/wal_streamer.h"

namespace backrest::cmd {

namespace {

using protocol::Message;

// How long a stopping daemon waits for its connections to end; the launcher sends SIGKILL
// 10 s after its SIGTERM.
constexpr int kStopGraceMs = 5000;

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

// Another configured repository (repo2..4 beside the first): each segment the archiver offers is
// pushed to it too, and acknowledged only once every repository has it; stanza-create, expire and
// info work on it as well. Backups go to the first repository unless backrest_backup(repo => N).
struct OtherRepo {
    int index = 0;
    Config config;  // its Config::forRepo view
    std::unique_ptr<storage::Storage> repo;
    repo::Layout layout;
    std::unique_ptr<ArchivePusher> pusher;  // synchronous: the read-ahead serves the first
};

struct Daemon {
    const Config& config;
    std::unique_ptr<storage::Storage> repo;
    repo::Layout layout;
    std::string pgPath;
    std::unique_ptr<ArchivePusher> pusher;
    std::atomic<bool> restartAfterReply{false};  // set by a stanza-create that made a new key
    // The connections whose backup job is alive, so that a backup-begin meeting this daemon's
    // own stanza lock tells a job unwinding after its client hung up (waited for) from one
    // whose client is still there (refused at once).
    std::mutex ownersMutex{};
    std::set<int> owners{};
    std::vector<OtherRepo> others{};
    int index = 1;  // the first repository's
    // The server's archive requests that failed, per repository, since this daemon started.
    std::mutex failuresMutex{};
    std::map<int, uint64_t> failures{};

    void countFailure(int repo) {
        std::lock_guard lock(failuresMutex);
        failures[repo]++;
    }
    protocol::ArchiveStatusReply archiveStatus() {
        protocol::ArchiveStatusReply status = pusher->status();
        std::lock_guard lock(failuresMutex);
        status.failures = failures;
        return status;
    }

    bool onlyHungUpOwnersBut(int self) {
        std::lock_guard lock(ownersMutex);
        for (int fd : owners) {
            if (fd == self) continue;
            pollfd p{fd, POLLRDHUP, 0};
            if (::poll(&p, 1, 0) <= 0 || !(p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
                return false;
        }
        return true;
    }
};

// Cancels a backup when its client hangs up: the connection is the backup's owner. Its thread
// sleeps in poll() on the connection and on an eventfd the destructor signals, so ending the
// watch (at every backup's end) costs no wait.
class HangupWatch {
  public:
    HangupWatch(int fd, backup::BackupJob& job) : stop_(::eventfd(0, EFD_CLOEXEC)) {
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

// One of the daemon's repositories, as a backup or an expire sees it.
struct RepoOfDaemon {
    int index;
    const Config& config;  // its forRepo view
    storage::Storage& repo;
    const repo::Layout& layout;  // carries its own key
};

std::vector<RepoOfDaemon> reposOf(Daemon& d) {
    std::vector<RepoOfDaemon> repos{{d.index, d.config, *d.repo, d.layout}};
    for (OtherRepo& o : d.others) repos.push_back({o.index, o.config, *o.repo, o.layout});
    return repos;
}

// repoN of backrest_backup(repo => N), or the first when not given (backup's default).
RepoOfDaemon repoOf(Daemon& d, std::optional<int> wanted) {
    auto repos = reposOf(d);
    if (!wanted) return repos.front();
    std::string list;
    for (const auto& r : repos) {
        if (r.index == *wanted) return r;
        list += (list.empty() ? "" : ", ") + repoName(r.index);
    }
    raise(ErrorCode::Option,
          "backup: {} is not configured (no {}-* option is set in the daemon's configuration); "
          "the configured repositories are {}",
          repoName(*wanted), repoName(*wanted), list);
}

backup::BackupSettings backupSettings(Daemon& d, const RepoOfDaemon& r) {
    backup::BackupSettings s;
    s.repo = &r.repo;
    s.layout = r.layout;
    // The codec with this repository's key, not the first's (the process's opened key).
    s.transfer = transferOptions(r.config);
    s.transfer.codec = s.transfer.codec.withKey(r.layout.key);
    s.processMax = static_cast<size_t>(d.config.getInt(opt::processMax));
    s.lockPath = d.config.getString(opt::lockPath);
    s.pgPath = d.pgPath;
    s.pgData = std::make_shared<storage::PosixStorage>(d.pgPath);
    s.archiveCheck = true;
    s.archiveTimeout = static_cast<int>(d.config.getInt(opt::archiveTimeout));
    s.block = r.config.getBool(opt::repo1Block);
    s.bundle = bundleSettings(r.config);
    return s;
}

// One connection's state: a backup begun on it belongs to it, abandoned if it closes.
struct Session {
    Daemon& d;
    protocol::Connection& conn;
    std::unique_ptr<backup::BackupJob> job;
    std::unique_ptr<BackupServers> standby;  // backup-standby: the standby the files come from
    int backupRepo = 0;                      // the repository of `job`

    bool owner = false;  // this connection is in d.owners

    void abandon() {
        job.reset();
        standby.reset();
        release();
    }
    void release() {
        if (!owner) return;
        std::lock_guard lock(d.ownersMutex);
        d.owners.erase(conn.fd());
        owner = false;
    }
    ~Session() { abandon(); }
};

// An encrypted repository whose stanza was created (by the CLI's stanza-create) after this
// daemon opened it: the daemon holds no key for it, and every push there would fail until the
// daemon restarts. It restarts after this reply (the launcher starts it again at once, and it
// opens the key); PostgreSQL retries the segment meanwhile.
bool keyCreatedSinceStart(const Config& config, storage::Storage& repo,
                          const repo::Layout& layout) {
    if (layout.key || config.getString(opt::repo1CipherType) == "none") return false;
    try {
        return repo.info(layout.archiveInfo(), true).has_value();
    } catch (const std::exception&) {
        return false;
    }
}

void restartIfKeyCreated(Daemon& d, const Config& config, storage::Storage& repo,
                         const repo::Layout& layout, int index) {
    if (d.restartAfterReply || !keyCreatedSinceStart(config, repo, layout)) return;
    logInfo(
        "serve: {} has an encrypted stanza created after this daemon started: restarting to "
        "open its key",
        describeRepo(config, index));
    d.restartAfterReply = true;
}

protocol::ArchivePushReply archivePush(Session& s, const protocol::ArchivePush& request) {
    if (request.path.empty() || request.path[0] != '/')
        raise(ErrorCode::Protocol, "archive-push needs an absolute path, not '{}'", request.path);
    // Refused while stopped: archive_library fails and PostgreSQL keeps the segment in pg_wal.
    requireNotStopped(s.d.config, "archive-push");
    std::string result;
    try {
        result = s.d.pusher->push(request.path);
    } catch (const Error&) {
        s.d.countFailure(s.d.index);
        restartIfKeyCreated(s.d, s.d.config, *s.d.repo, s.d.layout, s.d.index);
        throw;
    }
    // Dropped (archive-push-queue-max): reported archived, stored nowhere.
    if (result.starts_with("dropped")) return {result};
    std::string failed;
    ErrorCode code = ErrorCode::Assert;
    for (OtherRepo& o : s.d.others) {
        try {
            // Its errors in its own terms (repo2-cipher-pass, not repo1-…).
            inRepo(o.index, [&] { o.pusher->push(request.path); });
        } catch (const Error& e) {
            s.d.countFailure(o.index);
            restartIfKeyCreated(s.d, o.config, *o.repo, o.layout, o.index);
            if (failed.empty()) code = e.code();
            failed += fmt::format("{}{}: {}", failed.empty() ? "" : "; ",
                                  describeRepo(o.config, o.index), e.what());
        }
    }
    // Every repository was tried: one that failed does not keep the others from the segment.
    if (!failed.empty())
        throw Error(code,
                    fmt::format("archive-push: {} not stored in every repository: {}",
                                std::filesystem::path(request.path).filename().string(), failed));
    return {result};
}

protocol::StanzaCreateReply stanzaCreate(Session& s) {
    Daemon& d = s.d;
    requireNotStopped(d.config, "stanza-create");
    // Before anything is created: a new encrypted stanza in another repository needs its key made
    // and opened, which this daemon does only for the first.
    for (const OtherRepo& o : d.others)
        if (!o.layout.key && o.config.getString(opt::repo1CipherType) != "none" &&
            !repo::loadArchiveInfo(*o.repo, o.layout))
            raise(ErrorCode::Option,
                  "stanza-create: {} is encrypted and has no stanza '{}' yet: run 'backrest "
                  "--stanza={} stanza-create' (it creates the stanza in every repository), then "
                  "restart the server",
                  describeRepo(o.config, o.index), d.layout.stanza, d.layout.stanza);
    std::string others;
    for (OtherRepo& o : d.others)
        others +=
            fmt::format("; {}: {}", repoName(o.index), createStanza(*o.repo, o.layout, d.pgPath));
    if (!d.layout.key && d.config.getString(opt::repo1CipherType) != "none") {
        // A new encrypted stanza: its key is made here. The pusher and the streamer took the
        // layout (without a key: there was no stanza) at start, so once this reply is sent the
        // daemon exits and the launcher starts it again, opening the new key; a segment offered
        // meanwhile is refused and PostgreSQL offers it again.
        repo::Layout layout = d.layout;
        layout.key = newStanzaKey(d.config);
        std::string message = createStanza(*d.repo, layout, d.pgPath);
        d.restartAfterReply = true;
        return {message + others + "; the daemon restarts to open the stanza's new key"};
    }
    return {createStanza(*d.repo, d.layout, d.pgPath) + others};
}

protocol::ExpireReply expire(Session& s, const protocol::Expire& request) {
    Daemon& d = s.d;
    requireNotStopped(d.config, "expire");
    repo::StanzaLock lock(d.config.getString(opt::lockPath), d.layout.stanza, "backup");
    const std::string lockPath = d.config.getString(opt::lockPath);
    auto repos = reposOf(d);
    if (request.set) {
        // A label may be in several repositories: expired in each holding it (as the CLI's
        // expire --set), in none an error naming it. Each repository is asked before anything
        // is removed: one that cannot say stops the expire.
        std::vector<const RepoOfDaemon*> holding;
        std::string list;
        for (const auto& r : repos) {
            list += (list.empty() ? "" : ", ") + repoName(r.index);
            try {
                if (repo::requireBackupInfo(r.repo, r.layout).find(*request.set))
                    holding.push_back(&r);
            } catch (const Error& e) {
                throw Error(e.code(), fmt::format("expire: {}: {}", describeRepo(r.config, r.index),
                                                  inRepoTerms(e, r.index).what()));
            }
        }
        if (holding.empty())
            raise(ErrorCode::BackupSet,
                  "expire: backup set {} is in no repository ({}); see backrest_info()",
                  *request.set, list);
        std::string report;
        for (const RepoOfDaemon* r : holding) {
            auto policy = retentionPolicy(r->config);
            policy.set = *request.set;
            std::string done = runExpire(r->repo, r->layout, policy, request.dryRun, lockPath);
            report += repos.size() == 1 ? done
                                        : fmt::format("{}{}: {}", report.empty() ? "" : "\n",
                                                      repoName(r->index), done);
        }
        return {report};
    }
    std::string report =
        runExpire(*d.repo, d.layout, retentionPolicy(d.config), request.dryRun, lockPath);
    // Each repository with its own retention.
    for (OtherRepo& o : d.others)
        report += fmt::format(
            "\n{}: {}", repoName(o.index),
            runExpire(*o.repo, o.layout, retentionPolicy(o.config), request.dryRun, lockPath));
    return {report};
}

// The backups of every repository, each with its repository's repo-key, in label order; a
// repository that cannot be read is named in `errors` beside the others' backups (the CLI's
// info shows the others too). Every one failing is the first one's error.
protocol::InfoReply backupsOfEveryRepo(Daemon& d) {
    protocol::InfoReply reply;
    std::optional<Error> first;
    for (const auto& r : reposOf(d)) {
        try {
            nlohmann::json theirs = stanzaInfoJson(r.repo, r.layout)["backup"];
            setRepoKey(theirs, r.index);
            for (auto& b : theirs) reply.backups.push_back(std::move(b));
        } catch (const Error& caught) {
            Error e = inRepoTerms(caught, r.index);
            if (!first) first = e;
            std::string message = fmt::format("{}: {}", describeRepo(r.config, r.index), e.what());
            logWarn("info: {}", message);
            reply.errors.push_back(
                {{"repo", r.index}, {"code", static_cast<int>(e.code())}, {"message", message}});
        }
    }
    if (first && reply.errors.size() == 1 + d.others.size()) throw *first;
    std::stable_sort(reply.backups.begin(), reply.backups.end(),
                     [](const nlohmann::json& a, const nlohmann::json& b) {
                         return a.value("label", "") < b.value("label", "");
                     });
    return reply;
}

protocol::BackupBeginReply backupBegin(Session& s, const protocol::BackupBegin& request) {
    if (s.job) raise(ErrorCode::Protocol, "a backup is already in progress on this connection");
    requireNotStopped(s.d.config, "backup");
    RepoOfDaemon target = repoOf(s.d, request.repo);
    backup::BackupSettings settings = backupSettings(s.d, target);
    s.standby.reset();
    if (s.d.config.getString(opt::backupStandby) != "n") {
        // backup-standby: this server (the extension's, pg_backup_start's) must be the primary;
        // the files come from the standby's directory, read by this daemon (a remote standby:
        // a remote storage for pg2, the same job).
        auto servers = std::make_unique<BackupServers>(connectBackupServers(s.d.config));
        std::error_code ec;
        if (!std::filesystem::equivalent(servers->primary.path, s.d.pgPath, ec))
            raise(ErrorCode::DbMismatch,
                  "backrest_backup() with backup-standby: this server ('{}') is not the primary "
                  "({}, '{}'); call it on the primary",
                  s.d.pgPath, servers->primary.name(), servers->primary.path);
        if (servers->standbyDb) {
            settings.pgData = std::make_shared<backup::StandbyDataStorage>(
                settings.pgData, std::make_shared<storage::PosixStorage>(servers->standby.path));
            s.standby = std::move(servers);
        }
    }
    {
        std::lock_guard lock(s.d.ownersMutex);
        s.d.owners.insert(s.conn.fd());
        s.owner = true;
    }
    // A backup of this daemon whose client hung up (backrest_cancel()) may still be unwinding
    // its copy threads: the retry that follows is not refused for it (repo/lock.h).
    settings.lockWait = 60;
    settings.lockWaitWhile = [&d = s.d, self = s.conn.fd()] { return d.onlyHungUpOwnersBut(self); };
    s.job = std::make_unique<backup::BackupJob>(settings);
    std::string label = s.job->begin(request.backupType);
    s.backupRepo = target.index;
    logInfo("serve: backup {} started in {}", label, describeRepo(target.config, target.index));
    return {label, target.index};
}

backup::BackupJob& backupOfConnection(Session& s, const char* type) {
    if (!s.job) raise(ErrorCode::Protocol, "{} without backup-begin on this connection", type);
    return *s.job;
}

protocol::BackupCopyReply backupCopy(Session& s, const protocol::BackupCopy& request, uint64_t id) {
    backup::BackupJob& job = backupOfConnection(s, protocol::BackupCopy::kType);
    HangupWatch watch(s.conn.fd(), job);
    backup::BackupStart start;
    start.lsn = request.lsn;
    start.walFile = request.walFile;
    start.timestamp = request.timestamp;
    start.walSegmentSize = request.walSegmentSize;
    start.dataChecksums = request.dataChecksums;
    for (const protocol::Tablespace& t : request.tablespaces) start.tablespaceNames[t.oid] = t.name;
    if (request.databases) {
        start.databases.emplace();
        for (const protocol::Database& d : *request.databases)
            start.databases->push_back({d.name, d.oid});
    }
    uint32_t timeline = 0;
    if (s.standby) {
        auto segment = pg::WalSegment::parse(start.walFile, start.walSegmentSize);
        if (!segment)
            raise(ErrorCode::Format, "backup: '{}' is not a WAL segment name", start.walFile);
        timeline = segment->timeline;
        try {
            std::string replayed =
                waitForStandbyReplay(*s.standby->standbyDb, s.standby->standby, start.lsn, timeline,
                                     static_cast<int>(s.d.config.getInt(opt::archiveTimeout)),
                                     [&job] { job.checkCancelled(); });
            checkStandbyReplaysPrimaryWal(*s.standby->standbyDb, s.standby->standby, replayed,
                                          *s.standby->primaryDb, s.standby->primary, start.lsn,
                                          start.walSegmentSize, timeline);
        } catch (...) {
            job.abandonBeforeCopy();  // refused before anything was stored: nothing stays
            throw;
        }
    }
    job.copy(start, [&](const backup::BackupProgress& p) {
        protocol::BackupCopyProgress progress{p.bytesTotal, p.bytesDone, p.filesTotal, p.filesDone};
        s.conn.send({{"id", id}, {"progress", progress.toMessage()}});
    });
    if (s.standby)
        checkStandbyNotPromoted(*s.standby->standbyDb, s.standby->standby, job.label(), timeline);
    return {};
}

protocol::BackupFinishReply backupFinish(Session& s, const protocol::BackupFinish& request) {
    Daemon& d = s.d;
    backup::BackupJob& job = backupOfConnection(s, protocol::BackupFinish::kType);
    HangupWatch watch(s.conn.fd(), job);
    const auto& m =
        job.finish({request.lsn, request.walFile, request.labelFile, request.tablespaceMap});
    protocol::BackupFinishReply reply{m.label,    m.totalSize(), m.totalRepoSize(), m.files.size(),
                                      m.walStart, m.walStop,     std::nullopt};
    RepoOfDaemon target = repoOf(d, s.backupRepo);
    logInfo("serve: backup {} committed in {}: {} in {} files", m.label,
            describeRepo(target.config, target.index), formatBytes(m.totalSize()), m.files.size());
    // The retention of the repository the backup went to.
    auto policy = retentionPolicy(target.config);
    if (policy.any())
        reply.expire =
            runExpire(target.repo, target.layout, policy, false, d.config.getString(opt::lockPath));
    s.abandon();  // ended: committed
    return reply;
}

// backrest_drill()'s job: the drill runs as this daemon's child, its events relayed as progress.
// It takes no lock of the daemon's: it only reads the repository (a backup may run meanwhile),
// and two drills of the stanza are kept apart by the drill's own lock in drill-path.
protocol::DrillReply drill(Session& s, const protocol::Drill& request, uint64_t id) {
    Daemon& d = s.d;
    DrillLaunch launch{d.config.getString(opt::config), d.layout.stanza, d.pgPath};
    return runDrill(launch, request, s.conn.fd(), [&](const protocol::DrillProgress& p) {
        s.conn.send({{"id", id}, {"progress", p.toMessage()}});
    });
}

// The reply's fields for one request (decoded by its type), or an exception.
Message handle(Session& s, const Message& request, uint64_t id) {
    using namespace protocol;
    std::string type = request.value("type", "");
    if (type == ArchivePush::kType)
        return archivePush(s, ArchivePush::fromMessage(request)).toMessage();
    if (type == ArchiveStatus::kType) return s.d.archiveStatus().toMessage();
    if (type == StanzaCreate::kType) return stanzaCreate(s).toMessage();
    if (type == Expire::kType) return expire(s, Expire::fromMessage(request)).toMessage();
    if (type == Info::kType) return backupsOfEveryRepo(s.d).toMessage();
    if (type == Drill::kType) return drill(s, Drill::fromMessage(request), id).toMessage();
    if (type == BackupBegin::kType)
        return backupBegin(s, BackupBegin::fromMessage(request)).toMessage();
    // Without a backup on this connection its fields are of no use: that is the error to report.
    if (type == BackupCopy::kType) {
        backupOfConnection(s, BackupCopy::kType);
        return backupCopy(s, BackupCopy::fromMessage(request), id).toMessage();
    }
    if (type == BackupFinish::kType) {
        backupOfConnection(s, BackupFinish::kType);
        return backupFinish(s, BackupFinish::fromMessage(request)).toMessage();
    }
    raise(ErrorCode::Protocol, "unknown request type '{}'", type);
}

// Hello: false (after an error reply) when the peer is not ours or not speaking our version.
bool greet(protocol::Connection& conn) {
    if (conn.peerUid() != ::geteuid()) {
        conn.send(
            protocol::errorReply(0, static_cast<int>(ErrorCode::Protocol),
                                 "permission denied: only the server's own user may connect"));
        return false;
    }
    auto hello = conn.receive(30000);
    if (!hello) return false;
    if (hello->value("type", "") != protocol::Hello::kType || !protocol::hasOurVersion(*hello)) {
        conn.send(protocol::errorReply(
            0, static_cast<int>(ErrorCode::Protocol),
            fmt::format("expected hello with protocol version {}", protocol::kVersion)));
        return false;
    }
    conn.send(
        protocol::HelloReply{protocol::kVersion, fmt::format("backrest {}", kVersion), ::getpid()}
            .toMessage());
    return true;
}

void serveConnection(Daemon& d, protocol::Connection& conn) {
    Session session{d, conn, nullptr, nullptr};
    try {
        if (!greet(conn)) return;
        for (;;) {
            auto request = conn.receive(-1);
            if (!request) return;
            auto idIt = request->find("id");
            uint64_t id =
                idIt != request->end() && idIt->is_number_unsigned() ? idIt->get<uint64_t>() : 0;
            Message reply;
            try {
                try {
                    reply = protocol::okReply(id, handle(session, *request, id));
                } catch (const nlohmann::json::exception& e) {
                    raise(ErrorCode::Protocol, "malformed '{}' request: {}",
                          request->value("type", "?"), e.what());
                }
            } catch (const Error& e) {
                // A failed backup step abandons the backup: no manifest, files removed, lock freed.
                if (request->value("type", "").starts_with("backup-")) session.abandon();
                reply = protocol::errorReply(id, e.exitCode(), e.what());
            } catch (const std::exception& e) {
                if (request->value("type", "").starts_with("backup-")) session.abandon();
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

// What GET /metrics answers (metrics-listen): every repository's series, as `backrest metrics`
// prints them, with the daemon's own. A repository that cannot be read is backrest_repo_up 0.
std::string daemonMetrics(Daemon& d) {
    MetricsText out;
    declareMetrics(out);
    int64_t now = std::time(nullptr);
    auto wal = readServerWal(d.pgPath);
    auto addRepo = [&](int index, storage::Storage& repo, const repo::Layout& layout) {
        try {
            nlohmann::json stanza = stanzaMetricsJson(repo, layout);
            addRepoUp(out, index, true);
            addStanzaMetrics(out, stanza, index, now, wal ? &*wal : nullptr);
        } catch (const std::exception& e) {
            addRepoUp(out, index, false);
            logDetail("metrics: {}: {}", repoName(index), e.what());
        }
    };
    addRepo(d.index, *d.repo, d.layout);
    for (OtherRepo& o : d.others) addRepo(o.index, *o.repo, o.layout);
    addDaemonMetrics(out, d.layout.stanza, d.archiveStatus());
    return out.str();
}

// The pusher archive-push uses and, with archive-async, the WAL stream that feeds it ahead of
// the archiver (when the daemon knows where the server listens: the launcher passes its socket
// directory and port). The streamer, if any, is returned: it must end before the pusher.
std::unique_ptr<WalStreamer> startArchiving(Daemon& d) {
    const Config& config = d.config;
    auto transfer = transferOptions(config);
    PusherSettings push;
    push.repo = d.repo.get();
    push.layout = d.layout;
    push.pgPath = d.pgPath;
    push.push = {transfer.codec.compressType(), transfer.codec.compressLevel(),
                 transfer.bufferSize};
    push.processMax = static_cast<size_t>(config.getInt(opt::processMax));
    push.async = config.getBool(opt::archiveAsync);
    push.lockPath = config.getString(opt::lockPath);
    if (config.find(opt::archivePushQueueMax)) {
        push.queueLimit.max = static_cast<uint64_t>(config.getInt(opt::archivePushQueueMax));
        storage::PosixStorage pgData(d.pgPath);
        push.queueLimit.segmentSize = pg::readControl(pgData).walSegmentSize;
    }
    d.pusher = std::make_unique<ArchivePusher>(push);
    if (!push.async || !config.find(opt::pg1SocketPath)) return nullptr;
    StreamerSettings stream;
    stream.connect = connectOptions(config);
    stream.connect.applicationName = "backrest-wal-stream";
    stream.repo = d.repo.get();
    stream.layout = d.layout;
    stream.lockPath = push.lockPath;
    stream.push = push.push;
    stream.push.spoolPath = config.getString(opt::spoolPath);
    stream.spoolOwner = lockOwner(config);
    return std::make_unique<WalStreamer>(stream, *d.pusher);
}

// Another repository, opened with its own key (its pusher and layout keep it).
OtherRepo openOtherRepo(const Config& whole, int index) {
    OtherRepo o;
    o.index = index;
    o.config = whole.forRepo(index);
    useRepoKey(nullptr);
    o.repo = openRepo(o.config, RepoAccess::Write);
    o.layout = stanzaLayout(o.config);
    auto transfer = transferOptions(o.config);
    PusherSettings push;
    push.repo = o.repo.get();
    push.layout = o.layout;
    push.pgPath = pgPath(o.config);
    push.push = {transfer.codec.compressType(), transfer.codec.compressLevel(),
                 transfer.bufferSize};
    push.lockPath = o.config.getString(opt::lockPath);
    o.pusher = std::make_unique<ArchivePusher>(push);
    return o;
}

}  // namespace

int serve(const Config& whole) {
    setLogTimestamps(true);
    // A malformed metrics-listen is refused before anything starts, as any bad option.
    std::optional<ListenAddress> metricsAt;
    if (auto value = whole.find(opt::metricsListen)) metricsAt = parseMetricsListen(*value);
    std::vector<int> repos = configuredRepos(whole);
    // The other repositories first: each opens its own key (a process global, context.h), and
    // the first's must be the one left open, as the backups and the pushes to it read it.
    std::vector<OtherRepo> others;
    for (size_t i = 1; i < repos.size(); i++)
        others.push_back(inRepo(repos[i], [&] { return openOtherRepo(whole, repos[i]); }));
    useRepoKey(nullptr);
    const Config config = whole.forRepo(repos.front());
    Daemon d{config, openRepo(config, RepoAccess::Write), stanzaLayout(config), pgPath(config),
             nullptr};
    d.others = std::move(others);
    d.index = repos.front();
    for (int index : repos) d.failures[index] = 0;  // a counter exists from the start, at 0
    std::unique_ptr<WalStreamer> streamer = startArchiving(d);
    bool async = config.getBool(opt::archiveAsync);

    struct sigaction sa {};
    sa.sa_handler = onStopSignal;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);

    auto listener =
        std::make_unique<protocol::Listener>(config.getString(opt::socketPath), "backrest.sock");
    PostmasterWatch postmaster(d.pgPath);
    logInfo(
        "serve: backrest {} (pid {}) listening on {} for stanza '{}' (archive-async={}){}",
        kVersion, ::getpid(), listener->path(), d.layout.stanza, async ? "y" : "n",
        postmaster.watching() ? fmt::format(", until postmaster {} exits", postmaster.pid()) : "");
    // Declared after `d`, so destroyed (every thread joined) before it.
    protocol::ConnectionThreads connections(
        [&d](protocol::Connection& conn) { serveConnection(d, conn); });
    // Its own thread; an address that cannot be bound (taken, not this host's) is a warning: WAL
    // archiving matters more than its metrics.
    std::unique_ptr<MetricsEndpoint> endpoint;
    if (metricsAt) {
        try {
            endpoint =
                std::make_unique<MetricsEndpoint>(*metricsAt, [&d] { return daemonMetrics(d); });
            logInfo("serve: metrics at http://{}:{}/metrics", metricsAt->host, endpoint->port());
        } catch (const Error& e) {
            logWarn("serve: no metrics endpoint: {}", e.what());
        }
    }
    while (!stopRequested) {
        auto conn = listener->accept(200);
        if (postmaster.postmasterGone()) {
            logInfo("serve: the postmaster has exited");
            break;
        }
        if (conn) connections.start(std::move(*conn));
    }
    logInfo("serve: stopping");
    // New clients are refused from here (and retry until the next daemon listens); the socket
    // is unlinked before it is closed, so a daemon started meanwhile keeps its own.
    listener.reset();
    endpoint.reset();
    streamer.reset();  // removes the unfinished segment's spool file
    // Connections in flight are woken and end: a push under way completes (or PostgreSQL
    // retries it), a backup is cancelled (no manifest; its lock is released).
    if (!connections.stop(kStopGraceMs)) {
        // A connection still busy past the grace (a backup between two cancel checks, a push
        // stuck on its storage) holds references to `d` and to the repository: destroying them
        // under it would crash, so the process ends without destructors, as a kill would: an
        // unfinished backup has no manifest and the kernel releases its lock; an unacknowledged
        // push is retried by PostgreSQL.
        logInfo("serve: {} connection(s) still busy after {} ms; exiting without them",
                connections.running(), kStopGraceMs);
        std::_Exit(0);
    }
    return 0;
}

}  // namespace backrest::cmd
