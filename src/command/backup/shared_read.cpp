// Reading a data directory file once for several backups; see shared_read.h.
#include "command/backup/shared_read.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <exception>
#include <vector>

#include "common/error.h"

namespace backrest::backup {

namespace {

// A read from the source is at least this large (a reader's buffer may be smaller).
constexpr size_t kMinChunk = 64 << 10;

}  // namespace

struct SharedReads::File {
    std::string path;
    std::set<int> waiting;              // expected, not started: they need every byte kept
    std::map<int, uint64_t> positions;  // started: the next byte each needs
    std::deque<std::vector<uint8_t>> chunks;
    uint64_t base = 0;  // offset of chunks.front()
    uint64_t end = 0;   // bytes read from the source so far
    std::unique_ptr<storage::StorageRead> in;
    bool mayWait = true;  // a reader ahead by the window waits (else the file is kept whole)
    bool opened = false, missing = false, eof = false;
    bool busy = false;  // a reader is reading the source, the lock released
    std::exception_ptr error;
};

class SharedFileRead : public storage::StorageRead {
  public:
    SharedFileRead(SharedReads& reads, std::shared_ptr<SharedReads::File> file, int reader)
        : reads_(reads), file_(std::move(file)), reader_(reader) {}
    ~SharedFileRead() override { reads_.leave(reader_, file_); }
    size_t read(std::span<uint8_t> buf) override { return reads_.readFor(reader_, *file_, buf); }
    void seek(uint64_t) override {
        raise(ErrorCode::Assert, "seek in the shared read of '{}'", file_->path);
    }
    const std::string& path() const override { return file_->path; }

  private:
    SharedReads& reads_;
    std::shared_ptr<SharedReads::File> file_;
    int reader_;
};

namespace {

// Reader `reader`'s data directory: the source, but files it shares come from the shared bytes.
class SharedReadView : public storage::Storage {
  public:
    SharedReadView(SharedReads& reads, std::shared_ptr<storage::Storage> source, int reader)
        : reads_(reads), source_(std::move(source)), reader_(reader) {}
    storage::Features features() const override { return source_->features(); }
    std::unique_ptr<storage::StorageRead> openRead(const std::string& path, bool ignoreMissing,
                                                   const storage::ReadRange& range) override {
        if (range.offset == 0 && !range.length)
            if (auto shared = reads_.open(reader_, path, ignoreMissing)) return std::move(*shared);
        return source_->openRead(path, ignoreMissing, range);
    }
    // A backup only reads the data directory (as StandbyDataStorage, which has no writes).
    std::unique_ptr<storage::StorageWrite> openWrite(const std::string& path,
                                                     const storage::WriteOptions&) override {
        readOnly(path);
    }
    std::optional<storage::FileInfo> info(const std::string& path, bool followLink) override {
        return source_->info(path, followLink);
    }
    std::vector<storage::FileInfo> list(const std::string& path, bool ignoreMissing) override {
        return source_->list(path, ignoreMissing);
    }
    void remove(const std::string& path, bool) override { readOnly(path); }
    void removePath(const std::string& path, bool) override { readOnly(path); }
    std::string fullPath(const std::string& path) const override { return source_->fullPath(path); }

  private:
    [[noreturn]] void readOnly(const std::string& path) const {
        raise(ErrorCode::Assert, "backup: the data directory is read only ('{}')",
              source_->fullPath(path));
    }

    SharedReads& reads_;
    std::shared_ptr<storage::Storage> source_;
    int reader_;
};

}  // namespace

SharedReads::SharedReads(std::shared_ptr<storage::Storage> source, uint64_t window, uint64_t budget)
    : source_(std::move(source)), window_(std::max<uint64_t>(window, 1)), budget_(budget) {}

SharedReads::~SharedReads() = default;

std::shared_ptr<storage::Storage> SharedReads::viewFor(int reader) {
    return std::make_shared<SharedReadView>(*this, source_, reader);
}

void SharedReads::expect(const std::string& path, const std::set<int>& readers, bool mayWait) {
    std::lock_guard lock(mutex_);
    auto file = std::make_shared<File>();
    file->path = path;
    file->waiting = readers;
    file->mayWait = mayWait;
    files_[path] = std::move(file);
}

void SharedReads::abandon(int reader) {
    std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<File>> all;
    for (auto& [path, file] : files_) all.push_back(file);
    for (auto& file : all) {
        file->waiting.erase(reader);
        trim(*file);
        forgetIfDone(file);
    }
    changed_.notify_all();
}

std::optional<std::unique_ptr<storage::StorageRead>> SharedReads::open(int reader,
                                                                       const std::string& path,
                                                                       bool ignoreMissing) {
    std::unique_lock lock(mutex_);
    auto it = files_.find(path);
    if (it == files_.end() || !it->second->waiting.count(reader)) return std::nullopt;
    std::shared_ptr<File> file = it->second;
    if (!file->opened && !file->mayWait && kept_ >= budget_) {
        files_.erase(it);  // every reader reads it from the source: memory stays bounded
        return std::nullopt;
    }
    file->waiting.erase(reader);
    if (!file->opened) {
        file->opened = true;
        try {
            file->in = source_->openRead(path, /*ignoreMissing=*/true);
            file->missing = !file->in;
        } catch (...) {
            file->error = std::current_exception();
        }
    }
    if (file->error || file->missing) {
        std::exception_ptr error = file->error;
        forgetIfDone(file);
        changed_.notify_all();
        lock.unlock();
        if (error) std::rethrow_exception(error);
        if (ignoreMissing) return std::unique_ptr<storage::StorageRead>();
        return source_->openRead(path, false);  // raises the source's own error
    }
    file->positions[reader] = 0;
    return std::make_unique<SharedFileRead>(*this, file, reader);
}

uint64_t SharedReads::slowest(const File& file) const {
    if (!file.waiting.empty()) return 0;
    uint64_t least = file.end;
    for (const auto& [reader, position] : file.positions) least = std::min(least, position);
    return least;
}

void SharedReads::trim(File& file) {
    uint64_t keep = slowest(file);
    while (!file.chunks.empty() && file.base + file.chunks.front().size() <= keep) {
        file.base += file.chunks.front().size();
        kept_ -= file.chunks.front().size();
        file.chunks.pop_front();
    }
}

void SharedReads::forgetIfDone(const std::shared_ptr<File>& file) {
    if (!file->waiting.empty() || !file->positions.empty() || file->busy) return;
    auto it = files_.find(file->path);
    if (it != files_.end() && it->second == file) files_.erase(it);
    for (const auto& chunk : file->chunks) kept_ -= chunk.size();
    file->chunks.clear();
    file->in.reset();
}

size_t SharedReads::readFor(int reader, File& file, std::span<uint8_t> buf) {
    std::unique_lock lock(mutex_);
    for (;;) {
        if (file.error) std::rethrow_exception(file.error);
        uint64_t& position = file.positions.at(reader);
        if (position < file.end) {
            uint64_t offset = file.base;
            for (const auto& chunk : file.chunks) {
                if (position < offset + chunk.size()) {
                    size_t from = static_cast<size_t>(position - offset);
                    size_t n = std::min(buf.size(), chunk.size() - from);
                    std::memcpy(buf.data(), chunk.data() + from, n);
                    position += n;
                    bytesHanded_ += n;
                    trim(file);
                    changed_.notify_all();
                    return n;
                }
                offset += chunk.size();
            }
            raise(ErrorCode::Assert, "shared read of '{}': bytes at {} were dropped", file.path,
                  position);
        }
        if (file.eof) return 0;
        if (file.busy || (file.mayWait && file.end - slowest(file) >= window_)) {
            changed_.wait(lock);
            continue;
        }
        // This reader is the furthest ahead: it reads the next bytes for every reader.
        file.busy = true;
        lock.unlock();
        std::vector<uint8_t> chunk(std::max(buf.size(), kMinChunk));
        size_t n = 0;
        std::exception_ptr error;
        try {
            n = file.in->read(chunk);
        } catch (...) {
            error = std::current_exception();
        }
        lock.lock();
        file.busy = false;
        changed_.notify_all();
        if (error) {
            file.error = error;
            continue;
        }
        if (n == 0) {
            file.eof = true;
            file.in.reset();
            continue;
        }
        chunk.resize(n);
        file.chunks.push_back(std::move(chunk));
        kept_ += n;
        file.end += n;
        bytesRead_ += n;
    }
}

void SharedReads::leave(int reader, const std::shared_ptr<File>& file) {
    std::lock_guard lock(mutex_);
    file->positions.erase(reader);
    trim(*file);
    forgetIfDone(file);
    changed_.notify_all();
}

}  // namespace backrest::backup
