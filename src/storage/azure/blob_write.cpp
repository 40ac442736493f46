// Writing a blob. Bytes gather in one block-sized buffer; a file that fits is one Put Blob at
// close. A larger one sends each full buffer as a Put Block, up to `parallel` at once, and close
// commits them with Put Block List: until then the service keeps them uncommitted and invisible
// (and garbage-collects them after a week), so a writer destroyed without close() leaves nothing
// under the name.
#include <deque>
#include <future>

#include "common/error.h"
#include "storage/azure/azure_storage.h"
#include "storage/azure/blob_xml.h"

namespace backrest::storage::azure {

namespace {

class BlobWrite : public StorageWrite {
  public:
    BlobWrite(std::shared_ptr<BlobClient> client, std::string path, std::string blob)
        : client_(std::move(client)),
          path_(std::move(path)),
          blob_(std::move(blob)),
          blockSize_(client_->settings().blockSize) {
        buffer_.reserve(blockSize_);
    }

    ~BlobWrite() override {
        // Not closed: wait for the blocks in flight (they use this object's buffers) and commit
        // nothing.
        for (auto& f : inFlight_) {
            try {
                f.get();
            } catch (...) {
            }
        }
    }

    void write(std::span<const uint8_t> bytes) override {
        while (!bytes.empty()) {
            size_t n = std::min(bytes.size(), blockSize_ - buffer_.size());
            buffer_.insert(buffer_.end(), bytes.begin(),
                           bytes.begin() + static_cast<std::ptrdiff_t>(n));
            bytes = bytes.subspan(n);
            if (buffer_.size() == blockSize_) sendBlock();
        }
    }

    void close() override {
        if (closed_) return;
        if (blockIds_.empty()) {
            putBlob();
        } else {
            if (!buffer_.empty()) sendBlock();
            while (!inFlight_.empty()) waitOldest();
            std::string xml = blockListXml(blockIds_);
            std::string what = fmt::format("PUT block list of '{}'", client_->display(blob_));
            http::Response reply = client_->send(
                "PUT", blob_, {{"comp", "blocklist"}}, {{"Content-Type", "application/xml"}},
                {reinterpret_cast<const uint8_t*>(xml.data()), xml.size()}, what);
            if (reply.status != 201) client_->fail(reply, what);
        }
        closed_ = true;
    }

    const std::string& path() const override { return path_; }

  private:
    void putBlob() {
        std::string what = fmt::format("PUT '{}'", client_->display(blob_));
        http::Response reply =
            client_->send("PUT", blob_, {}, {{"x-ms-blob-type", "BlockBlob"}}, buffer_, what);
        if (reply.status != 201) client_->fail(reply, what);
    }

    void sendBlock() {
        // Every block id of a blob has the same length (the service requires it).
        std::string raw = fmt::format("backrest-block-{:08}", blockIds_.size());
        std::string id = base64Encode(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
        blockIds_.push_back(id);
        while (inFlight_.size() >= static_cast<size_t>(std::max(1, client_->settings().parallel)))
            waitOldest();
        auto block = std::make_shared<std::vector<uint8_t>>(std::move(buffer_));
        buffer_ = {};
        buffer_.reserve(blockSize_);
        inFlight_.push_back(
            std::async(std::launch::async, [client = client_, blob = blob_, id, block] {
                std::string what = fmt::format("PUT block of '{}'", client->display(blob));
                http::Response reply = client->send(
                    "PUT", blob, {{"comp", "block"}, {"blockid", id}}, {}, *block, what);
                if (reply.status != 201) client->fail(reply, what);
            }));
    }

    void waitOldest() {
        auto f = std::move(inFlight_.front());
        inFlight_.pop_front();
        f.get();
    }

    std::shared_ptr<BlobClient> client_;
    std::string path_;
    std::string blob_;
    size_t blockSize_;
    std::vector<uint8_t> buffer_;
    std::vector<std::string> blockIds_;
    std::deque<std::future<void>> inFlight_;
    bool closed_ = false;
};

}  // namespace

std::unique_ptr<StorageWrite> openBlobWrite(std::shared_ptr<BlobClient> client,
                                            const std::string& path, const std::string& blob) {
    return std::make_unique<BlobWrite>(std::move(client), path, blob);
}

}  // namespace backrest::storage::azure
