// One storage interface for every repository location (posix, s3, azure, sftp) and for the
// PostgreSQL data directory. Commands never know where the bytes live.
// Paths are relative to the storage's root; an absolute path is used as it is.
//
// What every driver has is what an object store offers: write a whole file atomically (its name
// exists only once complete), read it (a range of it), list by prefix, remove. Nothing else may
// be used by repository code. What only a filesystem has (directories, rename, writes at an
// offset, O_DIRECT, preallocation, fsync of a directory) is an optional capability, named in
// Features; its methods raise on a driver without it. Data directory code (restore) uses
// PosixStorage, which has them all. As pgBackRest's storage.intern.h, with flags.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace backrest::storage {

enum class FileType { File, Path, Link, Special };

struct FileInfo {
    std::string name;  // entry name (list) or the path asked for (info)
    FileType type = FileType::File;
    uint64_t size = 0;
    int64_t mtime = 0;  // seconds since the epoch
    mode_t mode = 0;    // permission bits only (07777)
    uid_t uid = 0;
    gid_t gid = 0;
    std::string user;             // resolved name of uid, empty if unknown
    std::string group;            // resolved name of gid, empty if unknown
    std::string linkDestination;  // for links
};

// What a driver can do beyond the common operations. Repository code asks before it uses one.
struct Features {
    bool path = false;         // real directories: pathCreate, pathSync; removePath of an empty one
    bool move = false;         // atomic rename within the storage (move)
    bool writeAt = false;      // StorageWrite::writeAt from several threads
    bool direct = false;       // WriteOptions::direct (O_DIRECT) is honoured
    bool flushAfter = false;   // WriteOptions::flushAfter and syncWritten() reach the disk early
    bool preallocate = false;  // WriteOptions::size reserves the space at open
    bool ownership = false;  // FileInfo mode/uid/gid/user/group/link, and WriteOptions::mode/mtime
};

// A part of a file: `length` bytes from `offset` (a file stored inside a bundle, one frame of a
// block file), or the whole file (no length). A driver that fetches over a network asks only for
// these bytes.
struct ReadRange {
    uint64_t offset = 0;
    std::optional<uint64_t> length;
};

class StorageRead {
  public:
    virtual ~StorageRead() = default;
    // Reads up to buf.size() bytes; returns 0 at end of file.
    virtual size_t read(std::span<uint8_t> buf) = 0;
    // The next read starts at `offset` (a ranged read: one frame of a block file).
    virtual void seek(uint64_t offset) = 0;
    virtual const std::string& path() const = 0;
};

struct WriteOptions {
    mode_t mode = 0640;
    // The name exists only once the file is complete: posix writes "<name>.tmp" and renames it
    // at close; an object store's object appears only when its PUT (multipart upload, block
    // list) completes, whatever this says. false (posix only): written in place.
    bool atomic = true;
    bool syncFile = true;    // fsync the file before close/rename
    bool syncPath = true;    // fsync the directory after the rename (or create)
    bool createPath = true;  // create missing parent directories (each fsynced into its parent)
    // With syncFile: every this many bytes written, the kernel is asked to start writing them
    // back (as PostgreSQL's *_flush_after), so the disk works while the file is produced and the
    // fsync at close waits only for the tail. 0: never.
    uint64_t flushAfter = 8ull << 20;
    std::optional<int64_t> mtime;  // set after writing (restore keeps original times)
    // The file's final size, when known: its space is reserved at open (fallocate), so a disk
    // too small fails at the start of a restore, not near its end, and writeAt() from several
    // threads never extends the file (which serialises them).
    std::optional<uint64_t> size;
    // writeAt() of 4 KiB-aligned ranges from page-aligned memory (io::Buffer's large buffers)
    // bypasses the page cache (O_DIRECT): a restore's large frames, written once and not read
    // again, would otherwise cost a copy into the cache and the cache's own bookkeeping. Only a
    // hint: where O_DIRECT is refused (tmpfs), writes go through the cache. close() still
    // fsyncs, which makes the file's metadata durable and flushes the disk's write cache.
    bool direct = false;
    // write() appends past the page cache (O_DIRECT) through an aligned staging buffer of its
    // own, in whole staged blocks; the last partial block goes through the cache at close,
    // which fsyncs as always. For a backup's repository files: written once, never read back
    // by the backup, and on a virtual machine each page of new page cache costs far more than
    // the copy into it (1 GiB through the cache: 1.1-2.6 s of system time here; O_DIRECT:
    // 0.15 s). Only a hint: where O_DIRECT is refused (tmpfs), writes go through the cache.
    bool directAppend = false;
};

class StorageWrite {
  public:
    // Destroyed without close(): the partial file is removed, nothing is taken for good.
    virtual ~StorageWrite() = default;
    virtual void write(std::span<const uint8_t> bytes) = 0;
    // Writes at an offset, leaving write()'s position alone; safe to call from several threads
    // at once on different ranges (a restore writing the frames of one file in parallel). Not
    // every storage can: the default raises.
    virtual void writeAt(uint64_t offset, std::span<const uint8_t> bytes);
    // Makes the bytes written so far durable without closing (fdatasync), so that close() has
    // only what follows to flush. Storage without such a call does nothing: close() does it all.
    virtual void syncWritten() {}
    // Makes the file durable and visible under its name (see WriteOptions).
    virtual void close() = 0;
    virtual const std::string& path() const = 0;
};

class Storage {
  public:
    virtual ~Storage() = default;

    virtual Features features() const = 0;

    // ---- What every driver has ----

    // Reads `range` of the file: reads start at range.offset and end after range.length bytes
    // (or at the end of the file, if that comes first: a short range is found by whoever counts
    // the bytes). Missing file: nullptr when ignoreMissing, else FileMissingError naming it.
    virtual std::unique_ptr<StorageRead> openRead(const std::string& path,
                                                  bool ignoreMissing = false,
                                                  const ReadRange& range = {}) = 0;
    // The file appears under its name only at close() (WriteOptions::atomic); a writer destroyed
    // without close() leaves nothing under the name.
    virtual std::unique_ptr<StorageWrite> openWrite(const std::string& path,
                                                    const WriteOptions& options = {}) = 0;

    // nullopt when the path does not exist. Links are not followed unless followLink. On an
    // object store a "path" exists while any file is under it.
    virtual std::optional<FileInfo> info(const std::string& path, bool followLink = false) = 0;
    // Entries under `path` one level down (not "." or ".."), unsorted: files, and the paths that
    // hold files deeper down (FileType::Path). An object store lists by prefix, page by page. A
    // missing path gives an empty list when ignoreMissing, else FileMissingError.
    virtual std::vector<FileInfo> list(const std::string& path, bool ignoreMissing = true) = 0;
    // The entries of list(path) whose names start with `namePrefix`. An object store asks only
    // for those (one request where the whole directory may take several, and a reply of a few
    // names instead of hundreds); the default lists the directory and keeps them. A missing path
    // gives an empty list.
    virtual std::vector<FileInfo> listPrefix(const std::string& path,
                                             const std::string& namePrefix);

    virtual void remove(const std::string& path, bool errorOnMissing = false) = 0;
    // Removes a path: recursive, everything under it (an object store deletes by prefix, in
    // batches); not recursive, only an empty directory (nothing to do without Features::path).
    // Missing path: no error.
    virtual void removePath(const std::string& path, bool recursive) = 0;

    // Path as the user should see it in messages (root joined with path; s3://bucket/... for an
    // object store). Never holds a secret.
    virtual std::string fullPath(const std::string& path) const = 0;

    // ---- Capabilities (Features); the defaults raise ----

    // Features::path. Creates a directory (and parents) and fsyncs each new entry into its parent.
    virtual void pathCreate(const std::string& path, mode_t mode = 0750);
    // Features::path. Makes a directory's entries durable.
    virtual void pathSync(const std::string& path);
    // Features::move. Atomic rename within the storage, then fsync of the destination directory.
    virtual void move(const std::string& from, const std::string& to);
};

// As storage.openRead(path, ignoreMissing, range) (kept for its callers' readability).
std::unique_ptr<StorageRead> openReadRange(Storage& storage, const std::string& path,
                                           const ReadRange& range, bool ignoreMissing = false);

// For a driver whose reader can seek: wraps `reader` (at the start of the file) so that it reads
// only `range`, seek() relative to the range.
std::unique_ptr<StorageRead> limitToRange(std::unique_ptr<StorageRead> reader,
                                          const ReadRange& range);

// pathSync of each directory on a driver with directories; nothing on an object store, whose
// objects are durable once their write completes.
void syncPaths(Storage& storage, const std::vector<std::string>& paths);

// Reads a whole (small) file: info files, manifests, labels.
std::string readAll(Storage& storage, const std::string& path);
std::optional<std::string> readAllIfExists(Storage& storage, const std::string& path);
void writeAll(Storage& storage, const std::string& path, std::string_view content,
              const WriteOptions& options = {});

}  // namespace backrest::storage
