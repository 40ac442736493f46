// Reading a blob: ranged GETs of one chunk at a time, so a large blob is never whole in memory;
// the first chunk is fetched at open, which is where a missing blob is found.
#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "storage/azure/azure_storage.h"

namespace backrest::storage::azure {

namespace {

// Large enough that a request's latency is small beside its transfer, small enough to bound
// memory per open reader.
constexpr uint64_t kReadChunk = 4ull << 20;

class BlobRead : public StorageRead {
  public:
    BlobRead(std::shared_ptr<BlobClient> client, std::string path, std::string blob,
             const ReadRange& range)
        : client_(std::move(client)),
          path_(std::move(path)),
          blob_(std::move(blob)),
          base_(range.offset),
          end_(range.length ? range.offset + *range.length : UINT64_MAX) {}

    // false: the blob does not exist.
    bool fetchFirst() { return fetch(base_); }

    size_t read(std::span<uint8_t> buf) override {
        if (used_ == chunk_.size()) {
            if (atEnd_ || position_ >= end_) return 0;
            if (!fetch(position_))
                raise(ErrorCode::FileMissing, "'{}' was removed while being read",
                      client_->display(blob_));
            if (chunk_.empty()) return 0;
        }
        size_t n = std::min(buf.size(), chunk_.size() - used_);
        std::memcpy(buf.data(), chunk_.data() + used_, n);
        used_ += n;
        return n;
    }

    void seek(uint64_t offset) override {
        chunk_.clear();
        used_ = 0;
        atEnd_ = false;
        position_ = base_ + offset;
    }

    const std::string& path() const override { return path_; }

  private:
    bool fetch(uint64_t from) {
        chunk_.clear();
        used_ = 0;
        position_ = from;
        if (from >= end_) return true;
        uint64_t last = std::min(end_, from + kReadChunk) - 1;
        std::string what = fmt::format("GET '{}'", client_->display(blob_));
        http::Response reply = client_->send(
            "GET", blob_, {}, {{"x-ms-range", fmt::format("bytes={}-{}", from, last)}}, {}, what);
        if (reply.status == 404 && BlobClient::errorCode(reply) == "BlobNotFound") return false;
        // Past the end (an empty blob, or a range beyond it): nothing more to read.
        if (reply.status == 416) {
            atEnd_ = true;
            return true;
        }
        if (reply.status != 200 && reply.status != 206) client_->fail(reply, what);
        chunk_ = std::move(reply.body);
        position_ = from + chunk_.size();
        if (chunk_.size() < last - from + 1) atEnd_ = true;
        return true;
    }

    std::shared_ptr<BlobClient> client_;
    std::string path_;
    std::string blob_;
    uint64_t base_;
    uint64_t end_;
    uint64_t position_ = 0;
    std::string chunk_;
    size_t used_ = 0;
    bool atEnd_ = false;
};

}  // namespace

std::unique_ptr<StorageRead> openBlobRead(std::shared_ptr<BlobClient> client,
                                          const std::string& path, const std::string& blob,
                                          bool ignoreMissing, const ReadRange& range) {
    auto reader = std::make_unique<BlobRead>(client, path, blob, range);
    if (reader->fetchFirst()) return reader;
    if (ignoreMissing) return nullptr;
    raise(ErrorCode::FileMissing, "'{}' does not exist", client->display(blob));
}

}  // namespace backrest::storage::azure
