// The spool file of a streamed WAL segment, and the cleaning of what dead daemons left.
#include "repo/wal_spool.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "common/error.h"
#include "common/log.h"
#include "common/user.h"
#include "pg/wal.h"
#include "storage/posix.h"

namespace backrest::repo {

namespace {

constexpr std::string_view kStream = ".stream.";

bool processGone(const std::string& pid) {
    if (pid.empty() || pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string::npos)
        return false;
    return ::kill(static_cast<pid_t>(std::stol(pid)), 0) != 0 && errno == ESRCH;
}

}  // namespace

void ensureSpoolDirectory(const std::string& path, const std::optional<LockOwner>& owner) {
    if (::mkdir(path.c_str(), 0770) == 0) {
        if (owner && ::geteuid() == 0 && owner->uid != 0 &&
            ::chown(path.c_str(), owner->uid, owner->gid) != 0)
            raiseErrno(ErrorCode::FileOpen,
                       "unable to give the spool directory to the repository's owner", path);
    } else if (errno != EEXIST) {
        raiseErrno(ErrorCode::FileOpen,
                   "unable to create spool directory (set spool-path to a directory it can create)",
                   path);
    }
    if (::faccessat(AT_FDCWD, path.c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
        struct stat st {};
        ::stat(path.c_str(), &st);
        raise(ErrorCode::FileOpen,
              "spool directory '{}' (owner {}, mode {:04o}) cannot be used by user '{}': give it "
              "to the "
              "repository's owner (chown), remove it, or set spool-path",
              path, userName(st.st_uid), st.st_mode & 07777, userName(::geteuid()));
    }
}

WalSpool::WalSpool(const std::string& spoolPath, const std::string& stanza,
                   const std::string& walName)
    : dir_(std::make_unique<storage::PosixStorage>(spoolPath)) {
    static std::atomic<uint64_t> opened{0};
    name_ = fmt::format("{}-{}{}{}.{}", stanza, walName, kStream, ::getpid(), opened++);
    storage::WriteOptions write;
    write.mode = 0600;
    write.atomic = false;  // a name no reader looks for; the repository's write is the atomic one
    // A crash loses the stream, and the archiver then pushes pg_wal's file: the spool file's own
    // durability is never needed (syncWritten() still makes it so when asked).
    write.syncFile = false;
    write.syncPath = false;
    write.createPath = false;  // spool-path is made (and checked) by ensureSpoolDirectory
    out_ = dir_->openWrite(name_, write);
}

WalSpool::~WalSpool() {
    if (!closed_) return;  // the writer, destroyed unclosed, removes it
    try {
        dir_->remove(name_);
    } catch (const std::exception& e) {
        try {
            logWarn("unable to remove spool file: {}", e.what());
        } catch (...) {
        }
    }
}

void WalSpool::write(std::span<const uint8_t> bytes) {
    out_->write(bytes);
}

void WalSpool::syncWritten() {
    out_->syncWritten();
}

std::unique_ptr<storage::StorageRead> WalSpool::read() {
    if (!closed_) {
        out_->close();
        closed_ = true;
    }
    return dir_->openRead(name_);
}

std::string WalSpool::fullPath() const {
    return dir_->fullPath(name_);
}

void removeAbandonedSpool(const std::string& spoolPath, const std::string& stanza) {
    storage::PosixStorage dir(spoolPath);
    const std::string prefix = stanza + "-";
    for (const auto& entry : dir.list("", true)) {
        // <stanza>-<segment>.stream.<pid>.<n>
        const std::string& n = entry.name;
        if (entry.type != storage::FileType::File || !n.starts_with(prefix)) continue;
        std::string rest = n.substr(prefix.size());
        if (rest.size() < 24 + kStream.size() || !pg::isWalSegmentName(rest.substr(0, 24)) ||
            rest.compare(24, kStream.size(), kStream) != 0)
            continue;
        std::string pidAndCount = rest.substr(24 + kStream.size());
        if (!processGone(pidAndCount.substr(0, pidAndCount.find('.')))) continue;
        dir.remove(n, false);
        logInfo("removed spool file '{}', left by a WAL stream that ended with its process",
                dir.fullPath(n));
    }
}

void removeLegacyStreamFiles(storage::Storage& repo, const Layout& layout,
                             const std::string& archiveId, const std::string& walName) {
    if (!repo.features().path) return;  // only a posix repository was ever written so
    std::string dir = layout.walDir(archiveId, walName);
    for (const auto& entry : repo.list(dir)) {
        // <segment>.stream.<pid>.tmp
        const std::string& n = entry.name;
        if (n.size() < 24 + kStream.size() + 5 || !pg::isWalSegmentName(n.substr(0, 24)) ||
            n.compare(24, kStream.size(), kStream) != 0 || !n.ends_with(".tmp"))
            continue;
        if (!processGone(n.substr(24 + kStream.size(), n.size() - 24 - kStream.size() - 4)))
            continue;
        repo.remove(dir + "/" + n);
        logInfo("removed '{}', left by a WAL stream of backrest 0.1.0 that ended with its process",
                repo.fullPath(dir + "/" + n));
    }
}

}  // namespace backrest::repo
