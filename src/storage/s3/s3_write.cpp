#include <fmt/format.h>

#include <deque>
#include <future>

#include "common/error.h"
#include "common/log.h"
#include "storage/s3/s3_io.h"
#include "storage/s3/s3_storage.h"
#include "storage/s3/xml.h"

namespace backrest::storage::s3 {

namespace {

std::span<const uint8_t> bytesOf(const std::string& text) {
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

class S3Write : public StorageWrite {
  public:
    S3Write(S3Storage& storage, std::string key)
        : storage_(storage), key_(std::move(key)), path_(storage.url(key_)) {}

    ~S3Write() override {
        if (uploadId_.empty() || closed_) return;
        // Destroyed before close: the parts in flight finish (their threads use this object), then
        // the upload is aborted so that its parts are not kept (and billed) by the server.
        for (auto& part : inFlight_) part.wait();
        try {
            auto response = storage_.request("DELETE", key_, {{"uploadId", uploadId_}});
            if (response.status / 100 != 2 && response.status != 404)
                logWarn("unable to abort the multipart upload of '{}': HTTP {}", path_,
                        response.status);
        } catch (const std::exception& e) {
            logWarn("unable to abort the multipart upload of '{}': {}", path_, e.what());
        }
    }

    void write(std::span<const uint8_t> bytes) override {
        uint64_t partSize = storage_.settings().partSize;
        while (!bytes.empty()) {
            size_t n = std::min<size_t>(bytes.size(), partSize - buffer_.size());
            buffer_.append(reinterpret_cast<const char*>(bytes.data()), n);
            bytes = bytes.subspan(n);
            if (buffer_.size() == partSize) sendPart();
        }
    }

    void close() override {
        if (closed_) return;
        if (uploadId_.empty()) {
            // Small: one PUT, the object appears whole.
            auto response = storage_.request("PUT", key_, {}, bytesOf(buffer_));
            if (response.status / 100 != 2)
                storage_.raiseFor(response, fmt::format("PUT '{}'", path_));
            closed_ = true;
            return;
        }
        if (!buffer_.empty()) sendPart();
        while (!inFlight_.empty()) collect();
        std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><CompleteMultipartUpload>";
        for (size_t i = 0; i < etags_.size(); ++i)
            body += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", i + 1,
                                xmlEscape(etags_[i]));
        body += "</CompleteMultipartUpload>";
        std::string what =
            fmt::format("complete the multipart upload of '{}' ({} parts)", path_, etags_.size());
        auto response = storage_.request("POST", key_, {{"uploadId", uploadId_}}, bytesOf(body));
        if (response.status / 100 != 2) storage_.raiseFor(response, what);
        // S3 may answer 200 and put an error in the body (the completion failed after it began).
        if (parseError(response.body)) storage_.raiseFor(response, what);
        closed_ = true;
    }

    const std::string& path() const override { return path_; }

  private:
    void sendPart() {
        if (uploadId_.empty()) {
            // Not idempotent: each request starts a new upload (a retry would leave one behind).
            auto response = storage_.request("POST", key_, {{"uploads", ""}}, {}, {}, false);
            std::string what = fmt::format("start a multipart upload of '{}'", path_);
            if (response.status / 100 != 2) storage_.raiseFor(response, what);
            uploadId_ = parseUploadId(response.body, what);
        }
        while (static_cast<int>(inFlight_.size()) >= storage_.settings().partsInFlight) collect();
        int number = static_cast<int>(etags_.size() + inFlight_.size()) + 1;
        auto part = std::make_shared<std::string>(std::move(buffer_));
        buffer_.clear();
        inFlight_.push_back(std::async(std::launch::async, [this, number, part] {
            auto response = storage_.request(
                "PUT", key_, {{"partNumber", std::to_string(number)}, {"uploadId", uploadId_}},
                bytesOf(*part));
            std::string what = fmt::format("PUT part {} of '{}'", number, path_);
            if (response.status / 100 != 2) storage_.raiseFor(response, what);
            auto* etag = response.header("etag");
            if (etag == nullptr)
                raise(ErrorCode::RepoStorage, "{}: the server's reply has no ETag", what);
            return *etag;
        }));
    }

    // Waits for the oldest part in flight; its error (if any) is raised here.
    void collect() {
        auto part = std::move(inFlight_.front());
        inFlight_.pop_front();
        etags_.push_back(part.get());
    }

    S3Storage& storage_;
    std::string key_;
    std::string path_;
    std::string buffer_;
    std::string uploadId_;
    std::vector<std::string> etags_;  // of parts 1..n, in order
    std::deque<std::future<std::string>> inFlight_;
    bool closed_ = false;
};

}  // namespace

std::unique_ptr<StorageWrite> openS3Write(S3Storage& storage, const std::string& key) {
    return std::make_unique<S3Write>(storage, key);
}

}  // namespace backrest::storage::s3
