// A storage that reads small objects whole, once, and serves ranges of them from memory: a
// restore from an object store reads each bundle's files by range, and one GET per small file
// costs a round trip to the server each (on radosgw, most of a restore's time). Other reads,
// and every write, list and remove, go to the storage it wraps.
#pragma once

#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "storage/storage.h"

namespace backrest::storage {

class ReadCache : public Storage {
  public:
    // Ranged reads of a path `cacheable` accepts are served from the whole object, if it is at
    // most `maxObjectBytes`; the `entries` objects read last are kept.
    ReadCache(std::unique_ptr<Storage> inner, std::function<bool(const std::string&)> cacheable,
              size_t entries, uint64_t maxObjectBytes);

    Features features() const override { return inner_->features(); }
    std::unique_ptr<StorageRead> openRead(const std::string& path, bool ignoreMissing,
                                          const ReadRange& range) override;
    std::unique_ptr<StorageWrite> openWrite(const std::string& path,
                                            const WriteOptions& options) override {
        return inner_->openWrite(path, options);
    }
    std::optional<FileInfo> info(const std::string& path, bool followLink) override {
        return inner_->info(path, followLink);
    }
    std::vector<FileInfo> list(const std::string& path, bool ignoreMissing) override {
        return inner_->list(path, ignoreMissing);
    }
    std::vector<FileInfo> listPrefix(const std::string& path,
                                     const std::string& namePrefix) override {
        return inner_->listPrefix(path, namePrefix);
    }
    void remove(const std::string& path, bool errorOnMissing) override {
        inner_->remove(path, errorOnMissing);
    }
    void removePath(const std::string& path, bool recursive) override {
        inner_->removePath(path, recursive);
    }
    std::string fullPath(const std::string& path) const override { return inner_->fullPath(path); }
    void pathCreate(const std::string& path, mode_t mode) override {
        inner_->pathCreate(path, mode);
    }
    void pathSync(const std::string& path) override { inner_->pathSync(path); }
    void move(const std::string& from, const std::string& to) override { inner_->move(from, to); }

  private:
    // The object's bytes; nullptr when it is missing or larger than maxObjectBytes_.
    using Object = std::shared_ptr<const std::string>;
    Object load(const std::string& path);

    std::unique_ptr<Storage> inner_;
    std::function<bool(const std::string&)> cacheable_;
    size_t entries_;
    uint64_t maxObjectBytes_;
    std::mutex mutex_;
    std::map<std::string, std::shared_future<Object>> objects_;
    std::deque<std::string> order_;  // oldest first
};

}  // namespace backrest::storage
