// Posix storage driver: files on a local or mounted filesystem, with the fsync discipline that
// makes a backup survive a crash (file, then rename, then directory).
#include "storage/posix.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <utility>

#include "common/error.h"
#include "common/log.h"
#include "storage/owned_fd.h"

namespace backrest::storage {

namespace {

struct DirCloser {
    void operator()(DIR* dir) const { ::closedir(dir); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

std::string joinPath(const std::string& root, const std::string& path) {
    if (!path.empty() && path[0] == '/') return path;
    if (path.empty()) return root;
    if (root.empty()) return path;
    return root.back() == '/' ? root + path : root + "/" + path;
}

std::string parentOf(const std::string& path) {
    size_t end = path.find_last_not_of('/');
    if (end == std::string::npos) return "/";
    size_t slash = path.rfind('/', end);
    if (slash == std::string::npos) return ".";
    size_t keep = path.find_last_not_of('/', slash);
    return keep == std::string::npos ? "/" : path.substr(0, keep + 1);
}

// Makes the entries of a directory (new files, renames, new subdirectories) durable.
void syncDir(const std::string& full) {
    Fd fd(::open(full.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) raiseErrno(ErrorCode::FileWrite, "unable to open path for sync", full);
    if (::fsync(fd.get()) != 0) raiseErrno(ErrorCode::FileWrite, "unable to sync path", full);
    if (fd.closeChecked() != 0) raiseErrno(ErrorCode::FileWrite, "unable to close path", full);
}

// mkdir -p. Each directory created is fsynced into its parent, otherwise a crash could lose
// the directory together with every (fsynced) file written inside it.
void createDir(const std::string& full, mode_t mode) {
    if (::mkdir(full.c_str(), mode) == 0) {
        // mkdir() applies the umask; the caller asked for this exact mode.
        if (::chmod(full.c_str(), mode) != 0)
            raiseErrno(ErrorCode::FileWrite, "unable to set mode of path", full);
        syncDir(parentOf(full));
        return;
    }
    int err = errno;
    if (err == EEXIST) {
        struct stat st;
        if (::stat(full.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return;
        raise(ErrorCode::FileWrite, "unable to create path '{}': exists and is not a directory",
              full);
    }
    std::string parent = parentOf(full);
    if (err == ENOENT && parent != full) {
        createDir(parent, mode);
        createDir(full, mode);
        return;
    }
    errno = err;
    raiseErrno(ErrorCode::FileWrite, "unable to create path", full);
}

// Names are wanted for every file of a backup and NSS may ask LDAP: look each id up once.
// The lock is held during a lookup, which happens once per id, so it costs nothing.
std::mutex namesMutex;

// getpwuid_r/getgrgid_r want a caller buffer of unknown size: grow it on ERANGE.
template <typename Entry, typename Id>
std::string lookupName(int (*get)(Id, Entry*, char*, size_t, Entry**), Id id, char* Entry::*name) {
    Entry entry;
    Entry* result = nullptr;
    std::vector<char> buf(1024);
    while (get(id, &entry, buf.data(), buf.size(), &result) == ERANGE && buf.size() < (1u << 20))
        buf.resize(buf.size() * 2);
    return result ? std::string(result->*name) : std::string();
}

std::string userName(uid_t uid) {
    static std::unordered_map<uid_t, std::string> cache;
    std::lock_guard lock(namesMutex);
    auto [it, inserted] = cache.try_emplace(uid);
    if (inserted) it->second = lookupName(::getpwuid_r, uid, &passwd::pw_name);
    return it->second;
}

std::string groupName(gid_t gid) {
    static std::unordered_map<gid_t, std::string> cache;
    std::lock_guard lock(namesMutex);
    auto [it, inserted] = cache.try_emplace(gid);
    if (inserted) it->second = lookupName(::getgrgid_r, gid, &group::gr_name);
    return it->second;
}

// readlinkat() does not say how long the target is: grow until it fits. nullopt with errno set
// on failure, so that list() can tell a vanished link from a real error.
std::optional<std::string> readLink(int dirFd, const std::string& name) {
    std::vector<char> buf(256);
    for (;;) {
        ssize_t n = ::readlinkat(dirFd, name.c_str(), buf.data(), buf.size());
        if (n < 0) return std::nullopt;
        if (static_cast<size_t>(n) < buf.size()) return std::string(buf.data(), n);
        buf.resize(buf.size() * 2);
    }
}

FileInfo makeInfo(std::string name, const struct stat& st) {
    FileInfo info;
    info.name = std::move(name);
    info.type = S_ISREG(st.st_mode)   ? FileType::File
                : S_ISDIR(st.st_mode) ? FileType::Path
                : S_ISLNK(st.st_mode) ? FileType::Link
                                      : FileType::Special;
    info.size = info.type == FileType::File ? static_cast<uint64_t>(st.st_size) : 0;
    info.mtime = static_cast<int64_t>(st.st_mtim.tv_sec);
    info.mode = st.st_mode & 07777;
    info.uid = st.st_uid;
    info.gid = st.st_gid;
    info.user = userName(st.st_uid);
    info.group = groupName(st.st_gid);
    return info;
}

// Calls fn(name, stat) for each entry of an open directory but "." and "..". Entries that vanish
// before fstatat are skipped: a live cluster removes files while we walk (temp files, drops).
template <typename Fn>
void forEachEntry(DIR* dir, const std::string& full, Fn fn) {
    for (;;) {
        errno = 0;
        struct dirent* entry = ::readdir(dir);
        if (!entry) {
            if (errno != 0) raiseErrno(ErrorCode::FileRead, "unable to read path", full);
            return;
        }
        std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        struct stat st;
        if (::fstatat(::dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) continue;
            raiseErrno(ErrorCode::FileRead, "unable to stat", full + "/" + name);
        }
        fn(name, st);
    }
}

// Removes the contents of an open directory. Entries are reached through the directory fd
// (never by re-resolving a path) and subdirectories are opened O_NOFOLLOW, so a symlink is
// unlinked and whatever it points to is left alone.
void removeContents(Fd& dirFd, const std::string& full) {
    DirPtr dir(::fdopendir(dirFd.get()));
    if (!dir) raiseErrno(ErrorCode::FileOpen, "unable to open path", full);
    int fd = dirFd.release();  // now owned by dir
    forEachEntry(dir.get(), full, [&](const std::string& name, const struct stat& st) {
        std::string child = full + "/" + name;
        if (S_ISDIR(st.st_mode)) {
            Fd sub(::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!sub.valid()) raiseErrno(ErrorCode::FileOpen, "unable to open path", child);
            removeContents(sub, child);
        }
        if (::unlinkat(fd, name.c_str(), S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) != 0 &&
            errno != ENOENT)
            raiseErrno(ErrorCode::FileWrite, "unable to remove", child);
    });
}

class PosixRead : public StorageRead {
  public:
    PosixRead(Fd& fd, std::string path) : fd_(fd.release()), path_(std::move(path)) {}
    size_t read(std::span<uint8_t> buf) override {
        for (;;) {
            ssize_t n = ::read(fd_.get(), buf.data(), buf.size());
            if (n >= 0) return static_cast<size_t>(n);
            if (errno != EINTR) raiseErrno(ErrorCode::FileRead, "unable to read file", path_);
        }
    }
    void seek(uint64_t offset) override {
        if (::lseek(fd_.get(), static_cast<off_t>(offset), SEEK_SET) < 0)
            raiseErrno(ErrorCode::FileRead,
                       fmt::format("unable to seek to offset {} of file", offset), path_);
    }
    const std::string& path() const override { return path_; }

  private:
    Fd fd_;
    std::string path_;
};

// Unique per process and write, so two writers of one name (two pushes of the same segment)
// never share a temporary file; the rename decides which complete copy wins.
std::string temporaryName(const std::string& path) {
    static std::atomic<uint64_t> counter{0};
    return path + "." + std::to_string(::getpid()) + "." + std::to_string(counter++) + ".tmp";
}

class PosixWrite : public StorageWrite {
  public:
    PosixWrite(std::string path, const WriteOptions& options)
        : path_(std::move(path)),
          writePath_(options.atomic ? temporaryName(path_) : path_),
          options_(options) {
        const int flags = O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC;
        fd_.reset(::open(writePath_.c_str(), flags, options_.mode));
        if (!fd_.valid() && errno == ENOENT && options_.createPath) {
            createDir(parentOf(writePath_), 0750);
            fd_.reset(::open(writePath_.c_str(), flags, options_.mode));
        }
        if (!fd_.valid())
            raiseErrno(ErrorCode::FileOpen, "unable to open file for write", writePath_);
        // open() applies the umask; restore must reproduce modes exactly.
        if (::fchmod(fd_.get(), options_.mode) != 0) {
            int err = errno;
            discard();
            errno = err;
            raiseErrno(ErrorCode::FileOpen, "unable to set mode of file", writePath_);
        }
        if (options_.size && *options_.size > 0 &&
            ::fallocate(fd_.get(), 0, 0, static_cast<off_t>(*options_.size)) != 0 &&
            errno != EOPNOTSUPP) {
            int err = errno;
            discard();
            errno = err;
            raiseErrno(ErrorCode::FileWrite,
                       fmt::format("unable to reserve {} bytes for file", *options_.size),
                       writePath_);
        }
        if (options_.direct || options_.directAppend)
            directFd_.reset(::open(writePath_.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC));
    }

    ~PosixWrite() override {
        if (state_ != State::Closed) discard();
    }

    void write(std::span<const uint8_t> bytes) override {
        if (state_ != State::Open)
            raise(ErrorCode::Assert, "write to file '{}' after close", path_);
        if (options_.directAppend && directFd_.valid()) {
            appendDirect(bytes);
            return;
        }
        writeBuffered(bytes);
    }

    void writeBuffered(std::span<const uint8_t> bytes) {
        while (!bytes.empty()) {
            ssize_t n = ::write(fd_.get(), bytes.data(), bytes.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                raiseErrno(ErrorCode::FileWrite, "unable to write file", writePath_);
            }
            bytes = bytes.subspan(static_cast<size_t>(n));
            written_ += static_cast<uint64_t>(n);
        }
        // WriteOptions::flushAfter: a large restored file would otherwise leave all of its
        // writeback to the fsync at close.
        if (options_.syncFile && options_.flushAfter != 0 &&
            written_ - flushRequested_ >= options_.flushAfter) {
            ::sync_file_range(fd_.get(), static_cast<off_t>(flushRequested_),
                              static_cast<off_t>(written_ - flushRequested_),
                              SYNC_FILE_RANGE_WRITE);
            flushRequested_ = written_;
        }
    }

    void writeAt(uint64_t offset, std::span<const uint8_t> bytes) override {
        if (state_ != State::Open)
            raise(ErrorCode::Assert, "write to file '{}' after close", path_);
        constexpr uint64_t kDirectAlignment = 4096;
        const size_t directBytes = bytes.size() & ~(kDirectAlignment - 1);
        if (directFd_.valid() && directBytes > 0 && offset % kDirectAlignment == 0 &&
            reinterpret_cast<uintptr_t>(bytes.data()) % kDirectAlignment == 0) {
            size_t n = writeDirect(offset, bytes.first(directBytes));
            bytes = bytes.subspan(n);
            offset += n;
        }
        const uint64_t start = offset;
        while (!bytes.empty()) {
            ssize_t n = ::pwrite(fd_.get(), bytes.data(), bytes.size(), static_cast<off_t>(offset));
            if (n < 0) {
                if (errno == EINTR) continue;
                raiseErrno(ErrorCode::FileWrite, "unable to write file", writePath_);
            }
            bytes = bytes.subspan(static_cast<size_t>(n));
            offset += static_cast<uint64_t>(n);
        }
        // As flushAfter in write(): start the writeback of this range now (ranges written by
        // several threads are not tracked together, so each asks for its own).
        if (options_.syncFile && options_.flushAfter != 0 &&
            offset - start >= options_.flushAfter / 2)
            ::sync_file_range(fd_.get(), static_cast<off_t>(start),
                              static_cast<off_t>(offset - start), SYNC_FILE_RANGE_WRITE);
    }

    void syncWritten() override {
        if (state_ != State::Open) raise(ErrorCode::Assert, "sync of file '{}' after close", path_);
        if (::fdatasync(fd_.get()) != 0)
            raiseErrno(ErrorCode::FileWrite, "unable to sync file", writePath_);
    }

    void close() override {
        if (state_ == State::Closed) return;
        // A failed close already raised; succeeding quietly now would claim a durable file.
        if (state_ == State::Failed)
            raise(ErrorCode::FileWrite, "unable to close file '{}': an earlier close failed",
                  path_);
        state_ = State::Failed;  // until every step below succeeded
        flushStage();
        if (options_.mtime) {
            // Set on the fd before fsync so the time is made durable with the data.
            const time_t mtime = static_cast<time_t>(*options_.mtime);
            const struct timespec times[2] = {{mtime, 0}, {mtime, 0}};  // atime, mtime
            if (::futimens(fd_.get(), times) != 0)
                raiseErrno(ErrorCode::FileWrite, "unable to set time of file", writePath_);
        }
        if (options_.syncFile && ::fsync(fd_.get()) != 0)
            raiseErrno(ErrorCode::FileWrite, "unable to sync file", writePath_);
        // NFS and some FUSE filesystems report write errors only at close().
        if (fd_.closeChecked() != 0)
            raiseErrno(ErrorCode::FileWrite, "unable to close file", writePath_);
        if (options_.atomic) {
            if (::rename(writePath_.c_str(), path_.c_str()) != 0)
                raiseErrno(ErrorCode::FileWrite, fmt::format("unable to move '{}' to", writePath_),
                           path_);
            renamed_ = true;
        }
        if (options_.syncPath) syncDir(parentOf(path_));
        state_ = State::Closed;
    }

    const std::string& path() const override { return path_; }

  private:
    enum class State { Open, Failed, Closed };

    // Never leaves a partial file under the final name; must not throw (runs in destructors).
    void discard() noexcept {
        fd_.reset();
        if (renamed_) return;  // complete and fsynced: only the directory sync failed
        if (::unlink(writePath_.c_str()) != 0 && errno != ENOENT) {
            try {
                logWarn("unable to remove incomplete file '{}'", writePath_);
            } catch (...) {
            }
        }
    }

    // Bytes written with O_DIRECT: all of them, or fewer once the filesystem refuses it (EINVAL:
    // an alignment it does not take), after which every write goes through the page cache.
    size_t writeDirect(uint64_t offset, std::span<const uint8_t> bytes) {
        size_t written = 0;
        while (written < bytes.size() && !directRefused_.load(std::memory_order_relaxed)) {
            ssize_t n = ::pwrite(directFd_.get(), bytes.data() + written, bytes.size() - written,
                                 static_cast<off_t>(offset + written));
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EINVAL) {
                    directRefused_ = true;
                    break;
                }
                raiseErrno(ErrorCode::FileWrite, "unable to write file", writePath_);
            }
            written += static_cast<size_t>(n);
        }
        return written;
    }

    // WriteOptions::directAppend: bytes gather in stage_ and go out with O_DIRECT a whole
    // stage at a time, at the end of the file so far (every direct write is of kStageBytes, so
    // each starts aligned). Once the filesystem refuses O_DIRECT, the stage and every later
    // write go through the page cache.
    static constexpr size_t kStageBytes = 1u << 20;
    struct FreeStage {
        void operator()(uint8_t* p) const { ::free(p); }
    };

    void appendDirect(std::span<const uint8_t> bytes) {
        while (!bytes.empty()) {
            if (!stage_) {
                void* memory = nullptr;
                if (::posix_memalign(&memory, 4096, kStageBytes) != 0) throw std::bad_alloc();
                stage_.reset(static_cast<uint8_t*>(memory));
            }
            const size_t take = std::min(bytes.size(), kStageBytes - staged_);
            std::memcpy(stage_.get() + staged_, bytes.data(), take);
            staged_ += take;
            bytes = bytes.subspan(take);
            if (staged_ < kStageBytes) break;
            const std::span<const uint8_t> whole{stage_.get(), kStageBytes};
            const size_t n = writeDirect(written_, whole);
            written_ += n;
            staged_ = 0;
            if (n < kStageBytes) {  // refused: the rest of this stage, and all after, cached
                writeBufferedAt(whole.subspan(n));
                writeBufferedAt(bytes);
                stage_.reset();
                options_.directAppend = false;
                // write() goes on from the descriptor's position, which pwrite() left alone.
                if (::lseek(fd_.get(), static_cast<off_t>(written_), SEEK_SET) < 0)
                    raiseErrno(ErrorCode::FileWrite, "unable to seek in file", writePath_);
                return;
            }
        }
    }

    // The bytes still staged (less than a stage: not aligned), through the page cache.
    void flushStage() {
        if (staged_ > 0) writeBufferedAt({stage_.get(), staged_});
        staged_ = 0;
        stage_.reset();
    }

    // At the end of the file so far (written_), through the page cache.
    void writeBufferedAt(std::span<const uint8_t> bytes) {
        while (!bytes.empty()) {
            ssize_t n =
                ::pwrite(fd_.get(), bytes.data(), bytes.size(), static_cast<off_t>(written_));
            if (n < 0) {
                if (errno == EINTR) continue;
                raiseErrno(ErrorCode::FileWrite, "unable to write file", writePath_);
            }
            bytes = bytes.subspan(static_cast<size_t>(n));
            written_ += static_cast<uint64_t>(n);
        }
    }

    std::string path_;
    std::string writePath_;
    WriteOptions options_;
    Fd fd_;
    Fd directFd_;  // the same file opened with O_DIRECT (WriteOptions::direct, ::directAppend)
    std::unique_ptr<uint8_t[], FreeStage> stage_;
    size_t staged_ = 0;
    std::atomic<bool> directRefused_{false};
    State state_ = State::Open;
    bool renamed_ = false;
    uint64_t written_ = 0, flushRequested_ = 0;
};

}  // namespace

PosixStorage::PosixStorage(std::string root) : root_(std::move(root)) {}

std::string PosixStorage::fullPath(const std::string& path) const {
    return joinPath(root_, path);
}

std::string PosixStorage::localPath(const std::string& path) const {
    return joinPath(root_, path);
}

Features PosixStorage::features() const {
    return Features{.path = true,
                    .move = true,
                    .writeAt = true,
                    .direct = true,
                    .flushAfter = true,
                    .preallocate = true,
                    .ownership = true};
}

std::unique_ptr<StorageRead> PosixStorage::openRead(const std::string& path, bool ignoreMissing,
                                                    const ReadRange& range) {
    std::string full = fullPath(path);
    Fd fd(::open(full.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        if (errno == ENOENT) {
            if (ignoreMissing) return nullptr;
            raise(ErrorCode::FileMissing, "unable to open missing file '{}' for read", full);
        }
        raiseErrno(ErrorCode::FileOpen, "unable to open file for read", full);
    }
    // Only a hint (files are read front to back): a failure changes nothing.
    (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    return limitToRange(std::make_unique<PosixRead>(fd, std::move(full)), range);
}

std::unique_ptr<StorageWrite> PosixStorage::openWrite(const std::string& path,
                                                      const WriteOptions& options) {
    return std::make_unique<PosixWrite>(fullPath(path), options);
}

std::optional<FileInfo> PosixStorage::info(const std::string& path, bool followLink) {
    std::string full = fullPath(path);
    struct stat st;
    int rc = followLink ? ::stat(full.c_str(), &st) : ::lstat(full.c_str(), &st);
    if (rc != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
        raiseErrno(ErrorCode::FileOpen, "unable to get info for", full);
    }
    FileInfo result = makeInfo(path, st);
    if (result.type == FileType::Link) {
        auto destination = readLink(AT_FDCWD, full);
        if (!destination) raiseErrno(ErrorCode::FileRead, "unable to read link", full);
        result.linkDestination = std::move(*destination);
    }
    return result;
}

std::vector<FileInfo> PosixStorage::list(const std::string& path, bool ignoreMissing) {
    std::string full = fullPath(path);
    DirPtr dir(::opendir(full.c_str()));
    if (!dir) {
        if (errno == ENOENT) {
            if (ignoreMissing) return {};
            raise(ErrorCode::FileMissing, "unable to list missing path '{}'", full);
        }
        raiseErrno(ErrorCode::FileOpen, "unable to open path for list", full);
    }
    std::vector<FileInfo> result;
    forEachEntry(dir.get(), full, [&](const std::string& name, const struct stat& st) {
        FileInfo item = makeInfo(name, st);
        if (item.type == FileType::Link) {
            auto destination = readLink(::dirfd(dir.get()), name);
            if (!destination) {
                if (errno == ENOENT) return;  // removed between fstatat and readlinkat
                raiseErrno(ErrorCode::FileRead, "unable to read link", full + "/" + name);
            }
            item.linkDestination = std::move(*destination);
        }
        result.push_back(std::move(item));
    });
    return result;
}

void PosixStorage::remove(const std::string& path, bool errorOnMissing) {
    std::string full = fullPath(path);
    if (::unlink(full.c_str()) == 0) return;
    if (errno != ENOENT) raiseErrno(ErrorCode::FileWrite, "unable to remove file", full);
    if (errorOnMissing) raise(ErrorCode::FileMissing, "unable to remove missing file '{}'", full);
}

void PosixStorage::removePath(const std::string& path, bool recursive) {
    std::string full = fullPath(path);
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0) {
        if (errno == ENOENT) return;
        raiseErrno(ErrorCode::FileOpen, "unable to get info for", full);
    }
    if (!S_ISDIR(st.st_mode)) {
        // A link in place of the directory: remove the link, never what it points to.
        if (S_ISLNK(st.st_mode) && recursive) return remove(path, false);
        raise(ErrorCode::FileWrite, "unable to remove path '{}': not a directory", full);
    }
    if (recursive) {
        Fd fd(::open(full.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd.valid()) raiseErrno(ErrorCode::FileOpen, "unable to open path", full);
        removeContents(fd, full);
    }
    if (::rmdir(full.c_str()) != 0 && errno != ENOENT)
        raiseErrno(ErrorCode::FileWrite, "unable to remove path", full);
}

void PosixStorage::pathCreate(const std::string& path, mode_t mode) {
    createDir(fullPath(path), mode);
}

void PosixStorage::pathSync(const std::string& path) {
    syncDir(fullPath(path));
}

void PosixStorage::move(const std::string& from, const std::string& to) {
    std::string fullFrom = fullPath(from);
    std::string fullTo = fullPath(to);
    std::string parentFrom = parentOf(fullFrom), parentTo = parentOf(fullTo);
    bool moved = ::rename(fullFrom.c_str(), fullTo.c_str()) == 0;
    if (!moved && errno == ENOENT) {
        struct stat st;
        if (::lstat(fullFrom.c_str(), &st) != 0)
            raise(ErrorCode::FileMissing, "unable to move missing file '{}'", fullFrom);
        // The source exists, so the destination's parent is what is missing.
        createDir(parentTo, 0750);
        moved = ::rename(fullFrom.c_str(), fullTo.c_str()) == 0;
    }
    if (!moved)
        raiseErrno(ErrorCode::FileWrite, fmt::format("unable to move '{}' to", fullFrom), fullTo);
    // The rename is durable only once both directory entries (new and removed) are synced.
    syncDir(parentTo);
    if (parentFrom != parentTo) syncDir(parentFrom);
}

}  // namespace backrest::storage
