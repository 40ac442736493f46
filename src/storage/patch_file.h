// A file of the data directory patched in place (a delta restore): positioned reads and writes,
// cut to size, fsync and close, every system call retried on EINTR and short transfers, and
// every error naming the file. The one place a restore writes into an existing file.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <span>
#include <string>

#include "storage/owned_fd.h"
#include "storage/posix.h"

namespace backrest::storage {

// The positioned system calls, replaceable in unit tests (EINTR and short transfers cannot be
// provoked on a real file at will).
struct PatchSyscalls {
    ssize_t (*pread)(int fd, void* buf, size_t count, off_t offset) = ::pread;
    ssize_t (*pwrite)(int fd, const void* buf, size_t count, off_t offset) = ::pwrite;
};

class PatchFile {
  public:
    // Opens the existing file `path` of `storage` read-write; FileOpenError naming it when it
    // cannot be opened (missing, not writable).
    PatchFile(PosixStorage& storage, const std::string& path, PatchSyscalls syscalls = {});
    PatchFile(const PatchFile&) = delete;
    PatchFile& operator=(const PatchFile&) = delete;

    // The file's size when it was opened.
    uint64_t sizeAtOpen() const { return sizeAtOpen_; }
    // Reads into.size() bytes at `offset`, or fewer only where the file ends. Safe from several
    // threads at once.
    size_t readAt(uint64_t offset, std::span<uint8_t> into) const;
    // Writes every byte at `offset` (FileWriteError naming the file, e.g. no space left). Safe
    // from several threads at once on different ranges.
    void writeAt(uint64_t offset, std::span<const uint8_t> bytes) const;
    void truncate(uint64_t size);
    void sync();
    // Closes, reporting a failure (a destroyed PatchFile closes without checking).
    void close();
    // For messages.
    const std::string& path() const { return path_; }

  private:
    std::string path_;
    Fd fd_;
    PatchSyscalls syscalls_;
    uint64_t sizeAtOpen_ = 0;
};

}  // namespace backrest::storage
