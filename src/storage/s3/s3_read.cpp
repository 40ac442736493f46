#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <future>

#include "common/error.h"
#include "storage/s3/s3_io.h"
#include "storage/s3/s3_storage.h"

namespace backrest::storage::s3 {

namespace {

class S3Read : public StorageRead {
  public:
    S3Read(S3Storage& storage, std::string key, const ReadRange& range)
        : storage_(storage),
          key_(std::move(key)),
          path_(storage.url(key_)),
          start_(range.offset),
          length_(range.length),
          position_(range.offset) {}

    // The first chunk: false when the object does not exist.
    bool open() { return fetch(); }

    size_t read(std::span<uint8_t> buf) override {
        size_t done = 0;
        while (done < buf.size()) {
            if (used_ == chunk_.size()) {
                if (eof_) break;
                if (!fetch())
                    raise(ErrorCode::FileMissing,
                          "'{}' was removed while it was read (at offset {})", path_, position_);
                if (chunk_.empty()) break;
            }
            size_t n = std::min(buf.size() - done, chunk_.size() - used_);
            std::memcpy(buf.data() + done, chunk_.data() + used_, n);
            used_ += n;
            done += n;
        }
        return done;
    }

    void seek(uint64_t offset) override {
        if (ahead_.valid()) ahead_.wait();  // its chunk is for where the reader was
        ahead_ = {};
        position_ = start_ + offset;
        chunk_.clear();
        used_ = 0;
        eof_ = false;
    }

    const std::string& path() const override { return path_; }

  private:
    // One ranged GET: [from, from + want).
    struct Chunk {
        uint64_t from = 0;
        http::Response response;
    };
    Chunk get(uint64_t from, uint64_t want) {
        return {from,
                storage_.request("GET", key_, {}, {},
                                 {{"Range", fmt::format("bytes={}-{}", from, from + want - 1)}})};
    }

    // Bytes wanted from position_ (0: the range or object has ended).
    uint64_t wanted() const {
        uint64_t want = storage_.settings().readChunk;
        if (length_) {
            uint64_t end = start_ + *length_;
            if (position_ >= end) return 0;
            want = std::min(want, end - position_);
        }
        if (size_ && position_ >= *size_) return 0;
        return want;
    }

    // The next chunk from position_; false on 404. While the caller works on it, the chunk after
    // it is already asked for (one GET ahead): a large file streams at the connection's rate
    // instead of stopping for a round trip every chunk.
    bool fetch() {
        chunk_.clear();
        used_ = 0;
        uint64_t want = wanted();
        if (want == 0) {
            eof_ = true;
            return true;
        }
        Chunk got;
        if (ahead_.valid()) {
            got = ahead_.get();  // raises what the GET raised
            if (got.from != position_) got = get(position_, want);
        } else {
            got = get(position_, want);
        }
        http::Response& response = got.response;
        // A missing bucket is a 404 too, but not a missing object: it must not read as "no WAL
        // segment" (archive-get would end recovery) or "no stanza" (run stanza-create).
        if (response.status == 404 && !storage_.bucketMissing(response)) return false;
        // A range starting at or past the end (an empty object, a range beyond it): nothing to
        // read.
        if (response.status == 416) {
            eof_ = true;
            return true;
        }
        if (response.status / 100 != 2) raiseFor(response);
        if (response.status == 200) {
            // Not ranged (a server ignoring Range): the whole object came; keep what was asked.
            size_ = response.body.size();
            if (position_ >= response.body.size())
                response.body.clear();
            else
                response.body = response.body.substr(position_, want);
        } else if (auto* range = response.header("content-range")) {
            // "bytes 0-9/1234": the object's size, so the reader stops without one more GET.
            size_t slash = range->rfind('/');
            if (slash != std::string::npos && (*range)[slash + 1] != '*')
                size_ = std::stoull(range->substr(slash + 1));
        }
        chunk_ = std::move(response.body);
        position_ += chunk_.size();
        if (chunk_.size() < want) eof_ = true;
        if (!eof_ && size_) {
            uint64_t next = wanted();
            if (next > 0)
                ahead_ = std::async(std::launch::async,
                                    [this, from = position_, next] { return get(from, next); });
        }
        return true;
    }

    [[noreturn]] void raiseFor(const http::Response& response) {
        storage_.raiseFor(response, fmt::format("GET '{}' at offset {}", path_, position_));
    }

    S3Storage& storage_;
    std::string key_;
    std::string path_;
    uint64_t start_;
    std::optional<uint64_t> length_;
    uint64_t position_;
    std::optional<uint64_t> size_;
    std::string chunk_;
    size_t used_ = 0;
    bool eof_ = false;
    std::future<Chunk> ahead_;  // the next chunk, asked for while this one is read
};

}  // namespace

std::unique_ptr<StorageRead> openS3Read(S3Storage& storage, const std::string& key,
                                        bool ignoreMissing, const ReadRange& range) {
    auto reader = std::make_unique<S3Read>(storage, key, range);
    if (reader->open()) return reader;
    if (ignoreMissing) return nullptr;
    raise(ErrorCode::FileMissing, "unable to open '{}' for reading: the object does not exist",
          storage.url(key));
}

}  // namespace backrest::storage::s3
