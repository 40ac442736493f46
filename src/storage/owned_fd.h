// An owned file descriptor: storage's own files, and the in-place writes of a delta restore.
// (Not "storage/fd.h": the extension compiles with ../src on its include path, where that name
// would shadow PostgreSQL's own storage/fd.h.)
#pragma once

#include <unistd.h>

#include <utility>

namespace backrest::storage {

// The destructor closes it (errors ignored: only an explicit closeChecked() after writing can
// report a failure that matters).
class Fd {
  public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    void reset(int fd = -1) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }
    int release() { return std::exchange(fd_, -1); }
    // Linux releases the descriptor even when close() fails (EINTR included): never retry.
    int closeChecked() { return ::close(std::exchange(fd_, -1)); }

  private:
    int fd_;
};

}  // namespace backrest::storage
