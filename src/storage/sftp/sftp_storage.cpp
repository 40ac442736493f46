// The SFTP driver's operations on names: info, list, remove, directories, rename; and the session
// they share, reconnected once when it was lost.
#include "storage/sftp/sftp_storage.h"

#include <sys/stat.h>

#include "common/error.h"
#include "common/log.h"
#include "storage/sftp/sftp_file.h"
#include "storage/sftp/sftp_session.h"

namespace backrest::storage::sftp {

namespace {

FileInfo toFileInfo(std::string name, const LIBSSH2_SFTP_ATTRIBUTES& a) {
    FileInfo info;
    info.name = std::move(name);
    unsigned long kind = a.permissions & LIBSSH2_SFTP_S_IFMT;
    info.type = kind == LIBSSH2_SFTP_S_IFDIR   ? FileType::Path
                : kind == LIBSSH2_SFTP_S_IFREG ? FileType::File
                : kind == LIBSSH2_SFTP_S_IFLNK ? FileType::Link
                                               : FileType::Special;
    info.size = a.filesize;
    info.mtime = static_cast<int64_t>(a.mtime);
    info.mode = static_cast<mode_t>(a.permissions & 07777);
    return info;
}

std::string parentOf(const std::string& path) {
    size_t slash = path.rfind('/');
    return slash == std::string::npos ? "" : path.substr(0, slash);
}

}  // namespace

SftpStorage::SftpStorage(SftpSettings settings) : settings_(std::move(settings)) {
    if (settings_.root.empty() || settings_.root[0] != '/')
        raise(ErrorCode::Option,
              "option 'repo1-path' must be an absolute path on the SFTP server, not '{}'",
              settings_.root);
    while (settings_.root.size() > 1 && settings_.root.back() == '/') settings_.root.pop_back();
    session_ = std::make_shared<SftpSession>(settings_);
}

SftpStorage::~SftpStorage() = default;

std::shared_ptr<SftpSession> SftpStorage::session(const std::shared_ptr<SftpSession>& lost) {
    std::lock_guard lock(sessionMutex_);
    // Another thread may have reconnected already: only the session that was lost is replaced.
    if (lost != nullptr && lost == session_) {
        logWarn("SFTP server {}:{}: connection lost, reconnecting", settings_.host, settings_.port);
        session_.reset();
        try {
            session_ = std::make_shared<SftpSession>(settings_);
        } catch (const ConnectionLost& again) {
            raiseLost(again.what);
        }
    }
    if (session_ == nullptr) session_ = std::make_shared<SftpSession>(settings_);
    return session_;
}

void SftpStorage::raiseLost(const std::string& what) const {
    raise(ErrorCode::Network,
          "SFTP server {}:{}: connection lost ({}); check the server is up and reachable, then run "
          "the command again",
          settings_.host, settings_.port, what);
}

template <typename F>
auto SftpStorage::retry(F&& request) {
    std::shared_ptr<SftpSession> s = session();
    try {
        std::lock_guard lock(s->mutex());
        return request(*s);
    } catch (const ConnectionLost&) {
    }
    try {
        s = session(s);
        std::lock_guard lock(s->mutex());
        return request(*s);
    } catch (const ConnectionLost& lost) {
        raiseLost(lost.what);
    }
}

Features SftpStorage::features() const {
    Features f;
    f.path =
        true;  // directories exist on the server; pathSync cannot reach its disk (see pathSync)
    f.move = true;  // posix-rename@openssh.com replaces the destination atomically
    return f;
}

std::string SftpStorage::remotePath(const std::string& path) const {
    if (!path.empty() && path[0] == '/') return path;
    if (path.empty()) return settings_.root;
    return settings_.root == "/" ? "/" + path : settings_.root + "/" + path;
}

std::string SftpStorage::fullPath(const std::string& path) const {
    return fmt::format("sftp://{}@{}:{}{}", settings_.user, settings_.host, settings_.port,
                       remotePath(path));
}

std::unique_ptr<StorageRead> SftpStorage::openRead(const std::string& path, bool ignoreMissing,
                                                   const ReadRange& range) {
    auto reader = openSftpRead(*this, path, ignoreMissing);
    if (reader == nullptr || (range.offset == 0 && !range.length)) return reader;
    return limitToRange(std::move(reader), range);
}

std::unique_ptr<StorageWrite> SftpStorage::openWrite(const std::string& path,
                                                     const WriteOptions& options) {
    return openSftpWrite(*this, path, options);
}

std::optional<FileInfo> SftpStorage::info(const std::string& path, bool followLink) {
    std::string remote = remotePath(path);
    return retry([&](SftpSession& s) -> std::optional<FileInfo> {
        LIBSSH2_SFTP_ATTRIBUTES attrs{};
        int rc =
            libssh2_sftp_stat_ex(s.sftp(), remote.c_str(), static_cast<unsigned>(remote.size()),
                                 followLink ? LIBSSH2_SFTP_STAT : LIBSSH2_SFTP_LSTAT, &attrs);
        if (rc == 0) return toFileInfo(path, attrs);
        long status = s.failure(rc, "stat " + remote);
        if (status == LIBSSH2_FX_NO_SUCH_FILE) return std::nullopt;
        raise(ErrorCode::FileOpen, "cannot get information about {}: SFTP status {}",
              fullPath(path), status);
    });
}

std::vector<FileInfo> SftpStorage::list(const std::string& path, bool ignoreMissing) {
    std::string remote = remotePath(path);
    return retry([&](SftpSession& s) {
        std::vector<FileInfo> entries;
        LIBSSH2_SFTP_HANDLE* dir =
            libssh2_sftp_open_ex(s.sftp(), remote.c_str(), static_cast<unsigned>(remote.size()), 0,
                                 0, LIBSSH2_SFTP_OPENDIR);
        if (dir == nullptr) {
            long status = s.failure(libssh2_session_last_errno(s.session()), "opendir " + remote);
            if (status == LIBSSH2_FX_NO_SUCH_FILE && ignoreMissing) return entries;
            if (status == LIBSSH2_FX_NO_SUCH_FILE)
                raise(ErrorCode::FileMissing, "path {} does not exist", fullPath(path));
            raise(ErrorCode::FileOpen, "cannot list {}: SFTP status {}", fullPath(path), status);
        }
        char name[4096];
        for (;;) {
            LIBSSH2_SFTP_ATTRIBUTES attrs{};
            int n = libssh2_sftp_readdir_ex(dir, name, sizeof(name), nullptr, 0, &attrs);
            if (n == 0) break;
            if (n < 0) {
                long status = s.failure(n, "readdir " + remote);
                libssh2_sftp_close_handle(dir);
                raise(ErrorCode::FileRead, "cannot list {}: SFTP status {}", fullPath(path),
                      status);
            }
            std::string entry(name, static_cast<size_t>(n));
            if (entry == "." || entry == "..") continue;
            entries.push_back(toFileInfo(entry, attrs));
        }
        libssh2_sftp_close_handle(dir);
        return entries;
    });
}

void SftpStorage::remove(const std::string& path, bool errorOnMissing) {
    std::string remote = remotePath(path);
    retry([&](SftpSession& s) {
        int rc =
            libssh2_sftp_unlink_ex(s.sftp(), remote.c_str(), static_cast<unsigned>(remote.size()));
        if (rc == 0) return;
        long status = s.failure(rc, "remove " + remote);
        if (status == LIBSSH2_FX_NO_SUCH_FILE && !errorOnMissing) return;
        if (status == LIBSSH2_FX_NO_SUCH_FILE)
            raise(ErrorCode::FileMissing, "file {} does not exist", fullPath(path));
        raise(ErrorCode::FileWrite, "cannot remove {}: SFTP status {}", fullPath(path), status);
    });
}

void SftpStorage::removeTree(SftpSession& s, const std::string& remote) {
    LIBSSH2_SFTP_HANDLE* dir = libssh2_sftp_open_ex(
        s.sftp(), remote.c_str(), static_cast<unsigned>(remote.size()), 0, 0, LIBSSH2_SFTP_OPENDIR);
    if (dir == nullptr) {
        long status = s.failure(libssh2_session_last_errno(s.session()), "opendir " + remote);
        if (status == LIBSSH2_FX_NO_SUCH_FILE) return;
        raise(ErrorCode::FileOpen, "cannot list {}: SFTP status {}", fullPath(remote), status);
    }
    std::vector<std::pair<std::string, bool>> children;
    char name[4096];
    for (;;) {
        LIBSSH2_SFTP_ATTRIBUTES attrs{};
        int n = libssh2_sftp_readdir_ex(dir, name, sizeof(name), nullptr, 0, &attrs);
        if (n <= 0) {
            if (n < 0) s.failure(n, "readdir " + remote);
            break;
        }
        std::string entry(name, static_cast<size_t>(n));
        if (entry == "." || entry == "..") continue;
        children.emplace_back(remote + "/" + entry,
                              (attrs.permissions & LIBSSH2_SFTP_S_IFMT) == LIBSSH2_SFTP_S_IFDIR);
    }
    libssh2_sftp_close_handle(dir);
    for (const auto& [child, isDir] : children) {
        if (isDir) {
            removeTree(s, child);
            continue;
        }
        int rc =
            libssh2_sftp_unlink_ex(s.sftp(), child.c_str(), static_cast<unsigned>(child.size()));
        if (rc != 0 && s.failure(rc, "remove " + child) != LIBSSH2_FX_NO_SUCH_FILE)
            raise(ErrorCode::FileWrite, "cannot remove {}", fullPath(child));
    }
    int rc = libssh2_sftp_rmdir_ex(s.sftp(), remote.c_str(), static_cast<unsigned>(remote.size()));
    if (rc != 0 && s.failure(rc, "rmdir " + remote) != LIBSSH2_FX_NO_SUCH_FILE)
        raise(ErrorCode::FileWrite, "cannot remove directory {}", fullPath(remote));
}

void SftpStorage::removePath(const std::string& path, bool recursive) {
    std::string remote = remotePath(path);
    retry([&](SftpSession& s) {
        if (recursive) return removeTree(s, remote);
        int rc =
            libssh2_sftp_rmdir_ex(s.sftp(), remote.c_str(), static_cast<unsigned>(remote.size()));
        if (rc == 0) return;
        long status = s.failure(rc, "rmdir " + remote);
        if (status == LIBSSH2_FX_NO_SUCH_FILE) return;
        raise(ErrorCode::FileWrite, "cannot remove directory {}: SFTP status {} (not empty?)",
              fullPath(path), status);
    });
}

// The directory first, its parents only when it has none (one request in the common case).
void SftpStorage::makeDirectory(SftpSession& s, const std::string& dir, mode_t mode) {
    int rc = libssh2_sftp_mkdir_ex(s.sftp(), dir.c_str(), static_cast<unsigned>(dir.size()),
                                   static_cast<long>(mode));
    if (rc == 0) return;
    long status = s.failure(rc, "mkdir " + dir);
    if (status == LIBSSH2_FX_NO_SUCH_FILE && !parentOf(dir).empty()) {
        makeDirectory(s, parentOf(dir), mode);
        rc = libssh2_sftp_mkdir_ex(s.sftp(), dir.c_str(), static_cast<unsigned>(dir.size()),
                                   static_cast<long>(mode));
        if (rc == 0) return;
        status = s.failure(rc, "mkdir " + dir);
    }
    // Already there (another thread, an earlier backup): fine if it is a directory.
    LIBSSH2_SFTP_ATTRIBUTES attrs{};
    if (libssh2_sftp_stat_ex(s.sftp(), dir.c_str(), static_cast<unsigned>(dir.size()),
                             LIBSSH2_SFTP_STAT, &attrs) == 0 &&
        (attrs.permissions & LIBSSH2_SFTP_S_IFMT) == LIBSSH2_SFTP_S_IFDIR)
        return;
    raise(ErrorCode::FileWrite, "cannot create directory {}: SFTP status {}", fullPath(dir),
          status);
}

void SftpStorage::pathCreate(const std::string& path, mode_t mode) {
    std::string remote = remotePath(path);
    retry([&](SftpSession& s) { makeDirectory(s, remote, mode); });
}

// SFTP has no request to fsync a directory: a rename is as durable as the server's filesystem
// makes it (ext4 and xfs journal it; the file's own bytes were fsynced before).
void SftpStorage::pathSync(const std::string&) {}

void SftpStorage::move(const std::string& from, const std::string& to) {
    std::string source = remotePath(from), target = remotePath(to);
    unsigned long status = 0;
    auto s = session();
    try {
        std::lock_guard lock(s->mutex());
        status = s->posixRename(source, target);
    } catch (const ConnectionLost& lost) {
        raiseLost(lost.what);
    }
    if (status == LIBSSH2_FX_NO_SUCH_FILE) {
        if (parentOf(to).empty())
            raise(ErrorCode::FileMissing, "cannot move {}: it does not exist", fullPath(from));
        pathCreate(parentOf(to), 0750);
        std::lock_guard lock(s->mutex());
        status = s->posixRename(source, target);
    }
    if (status != 0)
        raise(ErrorCode::FileWrite, "cannot move {} to {}: SFTP status {}", fullPath(from),
              fullPath(to), status);
}

}  // namespace backrest::storage::sftp
