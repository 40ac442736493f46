#include "storage/read_cache.h"

#include <algorithm>
#include <cstring>

namespace backrest::storage {

namespace {

// A range of an object held in memory; seek() is relative to the range, as limitToRange's.
class MemoryRead : public StorageRead {
  public:
    MemoryRead(std::shared_ptr<const std::string> object, const ReadRange& range, std::string path)
        : object_(std::move(object)), range_(range), path_(std::move(path)) {
        seek(0);
    }
    size_t read(std::span<uint8_t> buf) override {
        size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), end_ - position_));
        std::memcpy(buf.data(), object_->data() + position_, n);
        position_ += n;
        return n;
    }
    void seek(uint64_t offset) override {
        uint64_t size = object_->size();
        uint64_t end = range_.length ? range_.offset + *range_.length : size;
        end_ = std::min(end, size);
        position_ = std::min(range_.offset + offset, end_);
    }
    const std::string& path() const override { return path_; }

  private:
    std::shared_ptr<const std::string> object_;
    ReadRange range_;
    std::string path_;
    uint64_t position_ = 0;
    uint64_t end_ = 0;
};

}  // namespace

ReadCache::ReadCache(std::unique_ptr<Storage> inner,
                     std::function<bool(const std::string&)> cacheable, size_t entries,
                     uint64_t maxObjectBytes)
    : inner_(std::move(inner)),
      cacheable_(std::move(cacheable)),
      entries_(std::max<size_t>(1, entries)),
      maxObjectBytes_(maxObjectBytes) {}

ReadCache::Object ReadCache::load(const std::string& path) {
    std::promise<Object> promise;
    std::shared_future<Object> future;
    {
        std::lock_guard lock(mutex_);
        if (auto it = objects_.find(path); it != objects_.end()) {
            future = it->second;
        } else {
            future = promise.get_future().share();
            objects_.emplace(path, future);
            order_.push_back(path);
            while (order_.size() > entries_) {
                objects_.erase(order_.front());  // readers still holding it keep their copy
                order_.pop_front();
            }
            future = {};  // this thread reads it, below
        }
    }
    if (future.valid()) return future.get();
    // This thread reads the object; others asking meanwhile wait for it. A failure is not kept:
    // the caller falls back to a ranged read, which raises the error with its own words.
    // An object too large stays known as such (nullptr), so its ranges are read one by one
    // without fetching it whole again.
    Object object;
    bool keep = true;
    try {
        if (auto in = inner_->openRead(path, true, {})) {
            auto bytes = std::make_shared<std::string>();
            std::vector<uint8_t> chunk(1 << 20);
            for (size_t n; (n = in->read(chunk)) > 0;) {
                bytes->append(reinterpret_cast<const char*>(chunk.data()), n);
                if (bytes->size() > maxObjectBytes_) {
                    bytes.reset();
                    break;
                }
            }
            object = std::move(bytes);
        } else {
            keep = false;  // missing: the ranged read says so
        }
    } catch (...) {
        keep = false;
    }
    promise.set_value(object);
    if (!keep) {
        std::lock_guard lock(mutex_);
        if (auto it = objects_.find(path); it != objects_.end()) objects_.erase(it);
    }
    return object;
}

std::unique_ptr<StorageRead> ReadCache::openRead(const std::string& path, bool ignoreMissing,
                                                 const ReadRange& range) {
    if (range.length && cacheable_(path))
        if (Object object = load(path))
            return std::make_unique<MemoryRead>(object, range, inner_->fullPath(path));
    return inner_->openRead(path, ignoreMissing, range);
}

}  // namespace backrest::storage
