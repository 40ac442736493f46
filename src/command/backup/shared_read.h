// One read of a data directory file for several backups at once (backup --repo=all): each
// repository's backup job reads the data directory through its own view of a SharedReads, and a
// file every one of them reads whole is read from the disk once, its bytes handed to each.
// The jobs keep their own filter chains (page checksums, checksum, compression, encryption).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>

#include "storage/storage.h"

namespace backrest::backup {

// The reader furthest ahead in a file reads the next bytes from the source; they stay in memory
// until every reader expected for the file has passed them. In a file expected with `mayWait`, a
// reader `window` bytes ahead of the slowest waits for it, so memory is bounded by the window per
// file being read. Those files the readers must start in one order (copy_plan's largest first,
// then by name): a reader waiting on a file another reader has not started yet then only waits
// for that reader to finish files that come earlier, whose bytes are there for it. In the other
// files (small ones, which each reader may take in another order: its bundles differ) no reader
// ever waits: the first reads the file whole and it is kept for the others, up to `budget` bytes
// kept in all; a file first opened beyond that is read by each reader from the source.
class SharedReads {
  public:
    SharedReads(std::shared_ptr<storage::Storage> source, uint64_t window, uint64_t budget);
    ~SharedReads();

    // `path` (relative to the source) will be read whole from the start by each of `readers`:
    // its bytes are kept for the readers that have not started it yet.
    void expect(const std::string& path, const std::set<int>& readers, bool mayWait = true);
    // Reader `reader` will start no more files (its backup failed or was cancelled): no one
    // waits for it.
    void abandon(int reader);
    // The storage reader `reader` reads through: everything as the source, but a file it is
    // expected to read comes from the shared bytes.
    std::shared_ptr<storage::Storage> viewFor(int reader);

    // Bytes read from the source by shared reads, and bytes handed from them to readers.
    uint64_t bytesRead() const { return bytesRead_; }
    uint64_t bytesHanded() const { return bytesHanded_; }

    // Reader `reader`'s read of the whole of `path`: nullopt when it is not expected to read it
    // (it reads the source itself); nullptr when the file vanished and `ignoreMissing`.
    std::optional<std::unique_ptr<storage::StorageRead>> open(int reader, const std::string& path,
                                                              bool ignoreMissing);

  private:
    struct File;
    friend class SharedFileRead;
    size_t readFor(int reader, File& file, std::span<uint8_t> buf);
    void leave(int reader, const std::shared_ptr<File>& file);
    uint64_t slowest(const File& file) const;
    void trim(File& file);
    void forgetIfDone(const std::shared_ptr<File>& file);

    std::shared_ptr<storage::Storage> source_;
    uint64_t window_, budget_;
    uint64_t kept_ = 0;  // bytes held in every file's chunks
    std::mutex mutex_;
    std::condition_variable changed_;
    std::map<std::string, std::shared_ptr<File>> files_;
    std::atomic<uint64_t> bytesRead_{0}, bytesHanded_{0};
};

}  // namespace backrest::backup
