// Patching a data directory file in place, with the retries the system calls need.
#include "storage/patch_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.h"

namespace backrest::storage {

PatchFile::PatchFile(PosixStorage& storage, const std::string& path, PatchSyscalls syscalls)
    : path_(storage.localPath(path)), syscalls_(syscalls) {
    int fd;
    do fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) raiseErrno(ErrorCode::FileOpen, "unable to open for delta restore", path_);
    fd_.reset(fd);
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0)
        raiseErrno(ErrorCode::FileOpen, "unable to stat for delta restore", path_);
    sizeAtOpen_ = static_cast<uint64_t>(st.st_size);
}

size_t PatchFile::readAt(uint64_t offset, std::span<uint8_t> into) const {
    size_t got = 0;
    while (got < into.size()) {
        ssize_t n = syscalls_.pread(fd_.get(), into.data() + got, into.size() - got,
                                    static_cast<off_t>(offset + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) raiseErrno(ErrorCode::FileRead, "unable to read for delta restore", path_);
        if (n == 0) break;  // the end of the file
        got += static_cast<size_t>(n);
    }
    return got;
}

void PatchFile::writeAt(uint64_t offset, std::span<const uint8_t> bytes) const {
    for (size_t done = 0; done < bytes.size();) {
        ssize_t n = syscalls_.pwrite(fd_.get(), bytes.data() + done, bytes.size() - done,
                                     static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        // A short write is retried: the next one reports why (ENOSPC) instead of a stale errno.
        if (n < 0) raiseErrno(ErrorCode::FileWrite, "unable to write", path_);
        if (n == 0) {
            errno = EIO;  // pwrite of a non-empty range writing nothing and reporting nothing
            raiseErrno(ErrorCode::FileWrite, "unable to write", path_);
        }
        done += static_cast<size_t>(n);
    }
}

void PatchFile::truncate(uint64_t size) {
    int rc;
    do rc = ::ftruncate(fd_.get(), static_cast<off_t>(size));
    while (rc != 0 && errno == EINTR);
    if (rc != 0) raiseErrno(ErrorCode::FileWrite, "unable to truncate", path_);
}

void PatchFile::sync() {
    if (::fsync(fd_.get()) != 0) raiseErrno(ErrorCode::FileWrite, "unable to fsync", path_);
}

void PatchFile::close() {
    if (fd_.valid() && fd_.closeChecked() != 0)
        raiseErrno(ErrorCode::FileWrite, "unable to close", path_);
}

}  // namespace backrest::storage
